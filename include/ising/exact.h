/*
 * exact.h -- exact results the code is judged against.
 *
 * Three independent sources, each computed here rather than copied from a
 * table: brute-force enumeration of every configuration of a small periodic
 * lattice (any dimension 1..3, any J, H); Kaufman's exact partition function
 * of the finite L1 x L2 torus at H = 0, evaluated in log space so it is
 * stable for L up to several thousand; and Onsager's infinite-lattice
 * results.  Conventions are those of DESIGN.md section 2 (one bond to x+e_k
 * per site and axis, so an axis of length 2 has a double bond; k_B = 1).
 */
#ifndef ISING_EXACT_H
#define ISING_EXACT_H

#include <stdint.h>

/* Per-spin thermal averages. */
typedef struct ising_exact_obs {
  double lnZ;    /* ln Z (total, not per spin) */
  double f;      /* -T ln Z / N */
  double e;      /* <E>/N */
  double s;      /* beta (e - f) */
  double c;      /* beta^2 N (<e^2> - <e>^2) */
  double m;      /* <M>/N */
  double m_abs;  /* <|M|>/N */
  double m2;     /* <(M/N)^2> */
  double m4;     /* <(M/N)^4> */
  double U4;     /* 1 - m4 / (3 m2^2) */
  double chi;    /* beta N (m2 - m_abs^2) */
  double chi_p;  /* beta N m2 */
} ising_exact_obs;

/* Exact enumeration of the periodic lattice with extents L[0..dim-1]
 * (dim 1..3, every L[k] >= 2 -- L = 1 would be a self-bond -- and
 * N = prod L[k] <= 24, i.e. at most 2^24 configurations; site index x
 * fastest) at temperature T, coupling J, field H.  Fills every field of *out
 * to about 1e-13 relative (long-double sums over the exact density of
 * states); 2^24 states take ~0.1 s.  Returns ISING_ERR_INPUT (fields NaN)
 * for a bad dim or L, N > 24, T <= 0 or non-finite arguments, or when ln Z
 * itself overflows a double. */
int ising_exact_enumerate(int dim, const int64_t *L, double J, double H,
                          double T, ising_exact_obs *out);

/* Kaufman (1949): exact ln Z, f, e, s and c of the Lx x Ly torus at H = 0
 * (both even, 2 <= L <= 2^24; an axis of length 2 has the double bond, as in
 * Kaufman's transfer matrix), coupling J (either sign: the lattice is
 * bipartite) and temperature T.  e and c are analytic K-derivatives.  The
 * fields m, m_abs, m2, m4, U4, chi, chi_p are set to NaN (no closed form).
 * Finite and accurate to ~1e-13 relative for any L and any T > 0 at which
 * ln Z fits in a double (T_c included), except that far below T_c, where
 * c ~ exp(-8|J|/T), c is exact only to an absolute ~1e-17 (relative 1e-8 at
 * T = 0.25|J|; it may come out as -1e-23 at T = 0.1|J|).  Cost O(Lx).
 * ISING_ERR_INPUT (fields NaN) for odd or out-of-range L, T <= 0,
 * non-finite arguments, or a ln Z beyond double range. */
int ising_exact_kaufman(int64_t Lx, int64_t Ly, double J, double T,
                        ising_exact_obs *out);

/* Onsager: infinite square lattice at H = 0, coupling J > 0 or < 0.  Fills
 * f, e, s, c (per spin) and m_abs = the spontaneous magnetisation
 * (1 - sinh(2J/T)^-4)^(1/8) below T_c for J > 0, 0 above T_c and for J <= 0
 * (the antiferromagnet's STAGGERED magnetisation is the J > 0 value at |J|);
 * lnZ, m, m2, m4, U4, chi, chi_p are NaN.  Within rounding of T_c
 * (|K - K_c| <= 4 eps K_c) e = -sqrt 2 |J| and c = +INFINITY; elsewhere c is
 * finite and diverges as -(8/pi) K_c^2 ln|1 - T/T_c|.  Far below T_c, c is
 * exact only to an absolute ~1e-16 K^2 (its value is ~ exp(-8|J|/T)).
 * ISING_ERR_INPUT (fields NaN) for T <= 0 or non-finite T, J. */
int ising_exact_onsager(double J, double T, ising_exact_obs *out);

/* T_c of the square lattice: 2|J| / ln(1 + sqrt 2). */
double ising_exact_onsager_tc(double J);

#endif
