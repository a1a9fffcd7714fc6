/*
 * freeenergy.h -- the free energy from Monte Carlo by thermodynamic
 * integration over a temperature ladder (H = 0).
 *
 * Monte Carlo never computes Z, but d(ln Z)/d(beta) = -<E>: with
 * ln Z(0) = N ln 2,
 *     ln Z(beta) / N = ln 2 - integral_0^beta e(b) db,
 * from the measured per-spin energies e at the ladder's temperatures.  The
 * stretch from beta = 0 to the hottest ladder point uses the high-temperature
 * series of the hypercubic lattice, ln Z/N = ln 2 + d ln cosh K +
 * p4 t^4 + p6 t^6 (t = tanh K, K = beta J; closed polygons per site:
 * square 1, 2; simple cubic 3, 22), whose next order (doubled) is taken as
 * its error; it needs lattices of L >= 6 along every axis (shorter loops
 * winding around the torus are not in it) and |J|/T_max <= 0.3 (2D) or
 * 0.15 (3D).  Between ladder points the Hermite (endpoint-corrected
 * trapezoid) rule uses the slopes de/dbeta = -c T^2 that the heat capacity
 * c at each point provides (error O(h^5)); as its error budget, half the
 * size of the slope correction h^2/12 (e'_a - e'_b) of each interval is
 * added to the
 * error bar, as is the series budget.  Statistical errors of e and c
 * propagate as if the temperatures were independent.  Then f = -T ln Z / N
 * and s = beta (e - f).
 */
#ifndef ISING_FREEENERGY_H
#define ISING_FREEENERGY_H

typedef struct ising_ti_point {
  double lnZ;     /* ln Z / N */
  double f, f_err;
  double s, s_err;
  double series;     /* error budget of the high-temperature stretch (in f) */
  double quadrature; /* error budget of the quadrature (in f) */
} ising_ti_point;

/* T[0..n-1] increasing, e, e_err, c, c_err per spin at those temperatures,
 * dimension d (z = 2d), coupling J, H = 0.  ISING_ERR_INPUT when n < 2, the
 * ladder is not increasing, or the hottest point is not hot enough for the
 * series.  (The caller checks L >= 6.) */
int ising_ti_free_energy(int d, double J, int n, const double *T, const double *e,
                         const double *e_err, const double *c, const double *c_err,
                         ising_ti_point *out);

#endif
