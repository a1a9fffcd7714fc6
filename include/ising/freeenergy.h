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
 * d(d-1)/2 tanh^4 K + ... (K = beta J), whose next term is taken as its
 * error; between ladder points the Hermite (endpoint-corrected trapezoid)
 * rule uses the slopes de/dbeta = -c T^2 that the heat capacity c at each
 * point provides, so the quadrature error is O(h^5).  Statistical errors of
 * e and c propagate as if the temperatures were independent.  Then
 * f = -T ln Z / N and s = beta (e - f).
 */
#ifndef ISING_FREEENERGY_H
#define ISING_FREEENERGY_H

typedef struct ising_ti_point {
  double lnZ;     /* ln Z / N */
  double f, f_err;
  double s, s_err;
  double series;  /* error budget of the high-temperature stretch (in f) */
} ising_ti_point;

/* T[0..n-1] increasing, e, e_err, c, c_err per spin at those temperatures,
 * dimension d (z = 2d), coupling J, H = 0.  ISING_ERR_INPUT when n < 2, the
 * ladder is not increasing, or the hottest point is not hot enough for the
 * series (|J| / T_max > 0.3). */
int ising_ti_free_energy(int d, double J, int n, const double *T, const double *e,
                         const double *e_err, const double *c, const double *c_err,
                         ising_ti_point *out);

#endif
