/*
 * exact.h -- exact results the code is judged against.
 *
 * Three independent sources, each computed here rather than copied from a
 * table: brute-force enumeration of every configuration of a small periodic
 * lattice (any dimension 1..3, any J, H); Kaufman's exact partition function
 * of the finite L1 x L2 torus at H = 0, evaluated in log space so it is
 * stable for L up to several thousand; and Onsager's infinite-lattice
 * results.  A fourth routine enumerates one quenched-disorder sample (any
 * couplings provider, N <= 20) with the overlaps of two replicas.
 * Conventions are those of DESIGN.md section 2 (one bond to x+e_k
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

struct ising_couplings; /* model.h */

/* One quenched-disorder sample, exactly: thermal averages per site and the
 * overlaps of two INDEPENDENT replicas a, b of the sample at the same T. */
typedef struct ising_exact_disorder_obs {
  double lnZ;     /* ln Z of one replica (total) */
  double e;       /* <E>/N */
  double c;       /* beta^2 (<E^2> - <E>^2) / N */
  double m_abs;   /* <|M|>/N */
  double m2;      /* <M^2>/N^2 */
  double m4;      /* <M^4>/N^4 */
  double q_abs;   /* <|q|>,  q = (1/N) sum_i s^a_i s^b_i */
  double q2;      /* <q^2> */
  double q4;      /* <q^4> */
  double ql;      /* <q_l>, q_l = (1/(dim N)) sum over bonds of s^a_i s^a_j s^b_i s^b_j */
  double sq0;     /* <S_q(0)> = N <q^2> */
  double sq_kmin; /* <S_q(k_min)>: mean over the dim axes of S_q at 2 pi / L_axis */
} ising_exact_disorder_obs;

/* Exact enumeration of ONE sample of the couplings provider *c (model.h:
 * J_ij = J_unit w_ij, h_i = H + h_unit f_i, any w, f) on the periodic lattice
 * with extents L[0..dim-1] (dim 1..3, every L[k] >= 2, N = prod L[k] <= 20;
 * site index x fastest, the provider's global site numbering) at temperature
 * T.  Every bond (site, axis) to the +e_axis neighbour is counted once, so
 * an axis of length 2 has two distinct bonds between the same pair of sites
 * (w(site, axis) and w(neighbour, axis)), both in E, both in q_l (the dim N
 * bonds of the overlap definitions, w = 0 ones included), exactly as in the
 * Monte Carlo kernels.  The energy of a state is E = -J_unit B - H M -
 * h_unit F from the exact integer sums B = sum w s_i s_j, M, F = sum f s_i
 * (ising_couplings_energy).  Definitions of the overlaps: the quenched
 * disorder design (q, q_l, S_q(k) = (1/N) |sum_i q_i e^{i k.r_i}|^2 with
 * q_i = s^a_i s^b_i).
 * Method: the Boltzmann weights p(s) of all 2^N states (shifted by the
 * ground-state energy, long double); the pair observables depend on the
 * pair only through d = a XOR b, whose distribution P(d) = sum_a p(a)
 * p(a XOR d) / Z^2 is the XOR autocorrelation of p, obtained with the fast
 * Walsh-Hadamard transform H as H^-1 ((H p)^2) in O(N 2^N); q, q_l and S_q
 * are then summed over d.  Accuracy ~1e-13 relative for the single-replica
 * fields; the pair fields carry an absolute rounding of ~1e-16 (P(d) by
 * cancellation in H^-1).  2^20 states take well under a second and ~50 MB.
 * Returns ISING_ERR_INPUT (fields NaN) for a NULL argument, bad dim or L,
 * N > 20, T <= 0 or non-finite, a non-finite J_unit, H or h_unit, or a
 * ln Z beyond double range; ISING_ERR_MEM when the work arrays cannot be
 * allocated. */
int ising_exact_disorder(int dim, const int64_t L[3], const struct ising_couplings *c,
                         double T, ising_exact_disorder_obs *out);

#endif
