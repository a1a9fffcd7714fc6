/*
 * stats.h -- error bars for Monte Carlo time series.
 *
 * Binning analysis (Flyvbjerg & Petersen 1989) of a correlated series: the
 * naive error of the mean of bins of size 2^k grows with k until the bins
 * are longer than the autocorrelation time and then levels off; the level
 * chosen is reported with the integrated autocorrelation time it implies
 * and a flag when no plateau was reached.  Derived quantities of several
 * means (chi, c, U4) get jackknife errors over bins of the chosen size.
 * Pure computation: no MPI, no I/O, no allocation visible to the caller.
 */
#ifndef ISING_STATS_H
#define ISING_STATS_H

#include <stdint.h>

/* Fewest bins a binning level may have to be used for the error. */
#define ISING_STATS_MIN_BINS 32

typedef struct ising_binning {
  double mean;
  double err;        /* error of the mean at the chosen level */
  double err_naive;  /* level 0 (uncorrelated) error */
  double tau_int;    /* 0.5 * (err/err_naive)^2, in measurement units */
  int64_t bin_size;  /* chosen bin size (a power of two) */
  int64_t n_bins;    /* number of bins at that level */
  int converged;     /* 1 when the last levels agree within their own errors */
} ising_binning;

/* Binning analysis of x[0..n-1].  Needs n >= ISING_STATS_MIN_BINS
 * (else ISING_ERR_INPUT).  The chosen level is the largest one with at
 * least ISING_STATS_MIN_BINS bins. */
int ising_binning_analyze(const double *x, int64_t n, ising_binning *out);

/* The physical summary of one temperature (DESIGN.md section 2).  The
 * inputs are per-measurement series of e = E/N, |m|, m^2, m^4 (n values
 * each), the inverse temperature and N. */
typedef struct ising_summary {
  double e, e_err;
  double m_abs, m_abs_err;
  double m2, m2_err;
  double m4, m4_err;
  double U4, U4_err;       /* 1 - <m4>/(3 <m2>^2) */
  double chi, chi_err;     /* beta N (<m2> - <|m|>^2) */
  double chi_p, chi_p_err; /* beta N <m2> */
  double c, c_err;         /* beta^2 N (<e^2> - <e>^2) */
  double tau_e, tau_m_abs; /* integrated autocorrelation times (measurements) */
  double xi, xi_err;       /* second-moment correlation length (NaN unless measured) */
  int64_t bin_size;        /* bin size used for the jackknife */
  int64_t n;               /* number of measurements */
  int converged;           /* binning reached a plateau for e and |m| */
  /* cluster algorithms (NaN otherwise): chi' from the clusters (beta N
   * <m2_improved>, H = 0 only), the mean cluster size and the mean share
   * of the largest cluster, binning errors */
  double chi_p_improved, chi_p_improved_err;
  double cluster_mean_size, cluster_mean_size_err;
  double cluster_largest, cluster_largest_err;
} ising_summary;

/* Errors of e, |m|, m^2, m^4 by binning; U4, chi, chi', c by jackknife over
 * bins whose size is the largest of the bin sizes chosen for e and |m|
 * (so at least ISING_STATS_MIN_BINS bins).  chi_p's error is beta N
 * m2_err.  Returns ISING_ERR_INPUT when n < ISING_STATS_MIN_BINS. */
int ising_summary_compute(const double *e, const double *m_abs,
                          const double *m2, const double *m4, int64_t n,
                          double beta, int64_t N, ising_summary *out);

/* Second-moment correlation length from series of S(0) and S(k_min):
 * xi = sqrt(<S0>/<Skmin> - 1) / (2 sin(pi / L)), value from all n values,
 * jackknife error over bins of `bin` measurements (NaN where <S0> <
 * <Skmin>).  ISING_ERR_INPUT when there are fewer than 2 bins. */
int ising_xi_jackknife(const double *S0, const double *Skmin, int64_t n, int64_t bin, double L,
                       double *xi, double *err);

#endif
