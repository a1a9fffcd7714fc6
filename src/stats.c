/*
 * stats.c -- error bars for Monte Carlo time series (see stats.h).
 *
 * This file owns the statistics that turn a measured time series into a
 * number with an honest error bar: the Flyvbjerg-Petersen blocking analysis
 * of one series (error of the mean, integrated autocorrelation time, and a
 * flag saying whether the blocking curve reached a plateau), and the
 * per-temperature summary of DESIGN.md section 2, whose nonlinear quantities
 * (U4, chi, chi', c) get jackknife errors over bins long enough to be
 * independent.  It is shaped as pure functions of arrays so that the engine,
 * the output writer and the tests can all call it without MPI, HDF5 or any
 * object lifecycle; the only allocation is O(n) scratch freed before
 * returning.  Numerical care matters because energies per spin carry a large
 * common offset (e ~ -1.4) with fluctuations of order 1/sqrt(N): every series
 * is shifted by its own two-pass mean before squares are formed, and every
 * variance is a two-pass sum of squared deviations.
 */
#include "ising/stats.h"

#define M_PI_VALUE 3.14159265358979323846

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ising/error.h"

/* More levels than any int64_t length can have. */
#define STATS_MAX_LEVELS 64

/* Mean of x[0..n-1] in two passes: the plain mean, then the mean of the
 * residuals added back, which removes most of the rounding of the first
 * pass when the values share a large offset. */
static double mean2(const double *x, int64_t n) {
  double s = 0.0;
  int constant = 1;
  for (int64_t i = 0; i < n; i++) {
    s += x[i];
    constant &= x[i] == x[0];
  }
  /* Exactly x[0] for a constant series, so that its deviations, errors
   * and variances are exactly zero (a ground state: e = -2, m2 = 1). */
  if (constant) return x[0];
  double m = s / (double)n;
  double r = 0.0;
  for (int64_t i = 0; i < n; i++) r += x[i] - m;
  return m + r / (double)n;
}

/* Error of the mean of y[0..n-1] treated as independent values:
 * sqrt(sum (y - ybar)^2 / ((n-1) n)), two-pass.  n >= 2. */
static double naive_err(const double *y, int64_t n) {
  double m = mean2(y, n);
  double ss = 0.0;
  for (int64_t i = 0; i < n; i++) {
    double d = y[i] - m;
    ss += d * d;
  }
  return sqrt(ss / ((double)(n - 1) * (double)n));
}

/* Index of the chosen level: the largest k with floor(n / 2^k) >= MIN_BINS.
 * It depends on n only, so every series of one summary shares it. */
static int chosen_level(int64_t n) {
  int k = 0;
  while ((n >> (k + 1)) >= ISING_STATS_MIN_BINS) k++;
  return k;
}

static int check_series(const double *x, int64_t n, const char *what) {
  if (n < ISING_STATS_MIN_BINS)
    return ISING_ERR(ISING_ERR_INPUT,
                     "%s: %lld measurements are too few for an error bar; "
                     "binning needs at least %d",
                     what, (long long)n, ISING_STATS_MIN_BINS);
  if (!x) return ISING_ERR(ISING_ERR_INTERNAL, "%s: NULL series", what);
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return ISING_ERR(ISING_ERR_INPUT, "%s: measurement %lld is not finite (%g)",
                       what, (long long)i, x[i]);
  return ISING_OK;
}

/*
 * Blocking.  Level k has n_k = floor(n / 2^k) bins of 2^k consecutive values
 * (the incomplete tail bin is dropped; the reported mean is of all n values).
 * err_k = sqrt(s_k^2 / n_k), s_k^2 the unbiased (n_k - 1) variance of the
 * bin means.  Level k+1 is built from level k by averaging pairs, which
 * gives exactly floor(n_k / 2) = n_{k+1} bins.  The values are shifted by
 * the overall mean first, so the pair averages and squares see only the
 * fluctuations (a common offset of 1e6 costs no digits beyond those already
 * lost when the input was rounded).
 *
 * Convergence criterion.  For independent bins the relative standard error
 * of err_k is about 1/sqrt(2 (n_k - 1)); call sigma_k = err_k / sqrt(2 (n_k
 * - 1)).  With K the chosen level, the series is declared converged when
 *
 *     K >= 2,
 *     |err_K     - err_{K-1}| <= 2.5 sigma_K        and
 *     |err_{K-1} - err_{K-2}| <= 2.5 sigma_{K-1},
 *
 * i.e. the last three levels form a plateau within 2.5 times the
 * statistical uncertainty of the error estimate itself.  While the bins are
 * shorter than the autocorrelation time err_k still grows (by up to sqrt(2)
 * per level), which the tests catch.  Measured on stationary AR(1) series
 * (tau = tau_int, 500 to 2000 series per row):
 *
 *     series length             converged   mean err / exact error
 *     white noise, n = 2^14     98.8%       0.99   (exactly 32 bins)
 *     white noise, n = 60000    99.7%       1.00   (58 bins)
 *     1000 tau                  99.8%       0.98
 *      200 tau                  89%         0.89
 *      100 tau                   9%         0.79
 *       50 tau                   0.05%      0.65
 *       16 tau                   0%         0.45
 *
 * So a false "not converged" on a true plateau is about 1% when the chosen
 * level has 32 bins (n a power of two, the worst case), and a "converged"
 * series has its error underestimated by at most about the statistical
 * uncertainty of the error itself (13% at 32 bins).  A factor 2 instead of
 * 2.5 raises the false alarms to 3%; a factor 3 passes 88% of 100-tau
 * series whose error is 21% too small.  Adjacent levels share their data,
 * which is why the false-alarm rate is below what two independent 2.5-sigma
 * tests would give.  Series with fewer than 128 values (K < 2) are never
 * declared converged: three levels are needed to see a plateau.  A constant
 * series has every err_k = 0 and counts as converged.
 */
static int analyze(const double *x, int64_t n, const char *what, ising_binning *out) {
  ISING_CALL(check_series(x, n, what));
  if (!out) return ISING_ERR(ISING_ERR_INTERNAL, "%s: NULL result", what);

  const double mean = mean2(x, n);
  const int K = chosen_level(n);
  double err[STATS_MAX_LEVELS];
  int64_t nb[STATS_MAX_LEVELS];

  /* Level 0 straight from x (its two-pass variance is shift-free). */
  err[0] = naive_err(x, n);
  nb[0] = n;

  if (K > 0) {
    int64_t n1 = n / 2;
    if ((uint64_t)n1 > SIZE_MAX / sizeof(double))
      return ISING_ERR(ISING_ERR_MEM, "%s: %lld values do not fit in memory", what,
                       (long long)n);
    double *y = malloc((size_t)n1 * sizeof *y);
    if (!y)
      return ISING_ERR(ISING_ERR_MEM, "%s: cannot allocate %lld doubles", what,
                       (long long)n1);
    for (int64_t i = 0; i < n1; i++)
      y[i] = 0.5 * ((x[2 * i] - mean) + (x[2 * i + 1] - mean));
    int64_t m = n1;
    for (int k = 1; k <= K; k++) {
      if (k > 1) {
        m /= 2;
        for (int64_t i = 0; i < m; i++) y[i] = 0.5 * (y[2 * i] + y[2 * i + 1]);
      }
      nb[k] = m;
      err[k] = naive_err(y, m);
    }
    free(y);
  }

  out->mean = mean;
  out->err = err[K];
  out->err_naive = err[0];
  /* A constant series (err_naive = 0) is uncorrelated by convention. */
  out->tau_int = err[0] > 0.0 ? 0.5 * (err[K] / err[0]) * (err[K] / err[0]) : 0.5;
  out->bin_size = (int64_t)1 << K;
  out->n_bins = nb[K];
  int conv = 0;
  if (K >= 2) {
    double sK = err[K] / sqrt(2.0 * (double)(nb[K] - 1));
    double sK1 = err[K - 1] / sqrt(2.0 * (double)(nb[K - 1] - 1));
    conv = fabs(err[K] - err[K - 1]) <= 2.5 * sK && fabs(err[K - 1] - err[K - 2]) <= 2.5 * sK1;
  }
  out->converged = conv;
  return ISING_OK;
}

int ising_binning_analyze(const double *x, int64_t n, ising_binning *out) {
  return analyze(x, n, "binning analysis", out);
}

/* Per-bin sums the jackknife needs, with the shifts that keep the
 * variances free of cancellation (see ising_summary_compute). */
enum { J_E, J_E2, J_A, J_A2, J_D, J_M2, J_M4, J_NQ };

/* The derived quantities from the means of the shifted sums. */
typedef struct derived {
  double U4, chi, chi_p, c;
} derived;

static derived derive(const double q[J_NQ], double beta, double N) {
  derived d;
  double de = q[J_E], da = q[J_A]; /* <e> - se, <|m|> - sa */
  double var_e = q[J_E2] - de * de;
  /* <m2> - <|m|>^2 = <m2 - |m|^2> + (<|m|^2> - <|m|>^2), the second term
   * from the shifted |m|: exact algebra, and each part is computed without
   * subtracting two numbers of size <m2>. */
  double var_a = q[J_D] + (q[J_A2] - da * da);
  d.U4 = 1.0 - q[J_M4] / (3.0 * q[J_M2] * q[J_M2]);
  d.chi = beta * N * var_a;
  d.chi_p = beta * N * q[J_M2];
  d.c = beta * beta * N * var_e;
  return d;
}

/* Jackknife error sqrt((nb-1)/nb sum_i (theta_i - theta_bar)^2), two-pass. */
static double jack_err(const double *theta, int64_t nb) {
  double m = mean2(theta, nb);
  double ss = 0.0;
  for (int64_t i = 0; i < nb; i++) {
    double d = theta[i] - m;
    ss += d * d;
  }
  return sqrt((double)(nb - 1) / (double)nb * ss);
}

/* Add the terms of values i0 .. i1-1 to the sums s[J_NQ] (e and |m|
 * shifted by se, sa). */
static void add_terms(double *s, const double *e, const double *m_abs, const double *m2,
                      const double *m4, int64_t i0, int64_t i1, double se, double sa) {
  for (int64_t i = i0; i < i1; i++) {
    double de = e[i] - se, da = m_abs[i] - sa;
    s[J_E] += de;
    s[J_E2] += de * de;
    s[J_A] += da;
    s[J_A2] += da * da;
    s[J_D] += m2[i] - m_abs[i] * m_abs[i];
    s[J_M2] += m2[i];
    s[J_M4] += m4[i];
  }
}

/*
 * The summary.  Means and their errors come from the binning analysis of
 * each series.  The derived quantities are reported as their plain
 * full-sample estimates from all n values (no jackknife bias correction:
 * the bias is O(1/n), far below the error for any useful run, and the plain
 * estimate is what a reader recomputes from the series), with jackknife
 * errors over n_B = floor(n / B) bins of size B = max(bin size of e, bin
 * size of |m|), the leave-one-bin-out estimates using the first n_B B
 * values.  The chosen level depends on n only, so in fact every series has
 * the same bin size, and the jackknife error of the linear chi' equals
 * beta N m2_err up to rounding (stats.h promises that).
 *
 * U4 is NaN where <m2> = 0 (in the full sample or in a leave-one-out
 * sample): it is undefined there.
 */
int ising_summary_compute(const double *e, const double *m_abs, const double *m2,
                          const double *m4, int64_t n, double beta, int64_t N,
                          ising_summary *out) {
  ising_binning be, ba, b2, b4;
  ISING_CALL(analyze(e, n, "summary: series e", &be));
  ISING_CALL(analyze(m_abs, n, "summary: series |m|", &ba));
  ISING_CALL(analyze(m2, n, "summary: series m^2", &b2));
  ISING_CALL(analyze(m4, n, "summary: series m^4", &b4));
  if (!isfinite(beta))
    return ISING_ERR(ISING_ERR_INPUT, "summary: beta = %g is not finite", beta);
  if (N < 1)
    return ISING_ERR(ISING_ERR_INPUT, "summary: N = %lld spins; need N >= 1", (long long)N);
  if (!out) return ISING_ERR(ISING_ERR_INTERNAL, "summary: NULL result");

  const int64_t B = be.bin_size > ba.bin_size ? be.bin_size : ba.bin_size;
  const int64_t nB = n / B;
  const double se = be.mean, sa = ba.mean; /* shifts */
  const double Nd = (double)N;

  /* Full-sample sums over all n values. */
  double tot[J_NQ] = {0};
  add_terms(tot, e, m_abs, m2, m4, 0, n, se, sa);
  double q[J_NQ];
  for (int j = 0; j < J_NQ; j++) q[j] = tot[j] / (double)n;
  derived full = derive(q, beta, Nd);

  /* Bin sums over the first nB * B values, and their total. */
  if ((uint64_t)nB > SIZE_MAX / (sizeof(double) * (J_NQ + 4)))
    return ISING_ERR(ISING_ERR_MEM, "summary: %lld bins do not fit in memory", (long long)nB);
  double *bs = calloc((size_t)nB * (J_NQ + 4), sizeof *bs);
  if (!bs)
    return ISING_ERR(ISING_ERR_MEM, "summary: cannot allocate %lld bins", (long long)nB);
  double *th[4];
  for (int t = 0; t < 4; t++) th[t] = bs + (size_t)nB * J_NQ + (size_t)t * (size_t)nB;
  double bt[J_NQ] = {0};
  for (int64_t b = 0; b < nB; b++) {
    double *s = bs + (size_t)b * J_NQ;
    add_terms(s, e, m_abs, m2, m4, b * B, (b + 1) * B, se, sa);
    for (int j = 0; j < J_NQ; j++) bt[j] += s[j];
  }
  const double nleft = (double)((nB - 1) * B);
  for (int64_t b = 0; b < nB; b++) {
    const double *s = bs + (size_t)b * J_NQ;
    for (int j = 0; j < J_NQ; j++) q[j] = (bt[j] - s[j]) / nleft;
    derived d = derive(q, beta, Nd);
    th[0][b] = d.U4;
    th[1][b] = d.chi;
    th[2][b] = d.chi_p;
    th[3][b] = d.c;
  }

  out->e = be.mean;
  out->e_err = be.err;
  out->m_abs = ba.mean;
  out->m_abs_err = ba.err;
  out->m2 = b2.mean;
  out->m2_err = b2.err;
  out->m4 = b4.mean;
  out->m4_err = b4.err;
  out->U4 = full.U4;
  out->U4_err = jack_err(th[0], nB);
  out->chi = full.chi;
  out->chi_err = jack_err(th[1], nB);
  out->chi_p = full.chi_p;
  out->chi_p_err = jack_err(th[2], nB);
  out->c = full.c;
  out->c_err = jack_err(th[3], nB);
  out->tau_e = be.tau_int;
  out->tau_m_abs = ba.tau_int;
  out->bin_size = B;
  out->n = n;
  out->converged = be.converged && ba.converged;
  free(bs);
  return ISING_OK;
}

static double xi_of(double s0, double sk, double L) {
  double r = s0 / sk - 1.0;
  return r >= 0 ? sqrt(r) / (2.0 * sin(M_PI_VALUE / L)) : NAN;
}

int ising_xi_jackknife(const double *S0, const double *Skmin, int64_t n, int64_t bin, double L,
                       double *xi, double *err) {
  ISING_CHECK(bin >= 1 && n / bin >= 2, ISING_ERR_INPUT, "xi: need at least 2 bins (n = %lld, bin = %lld)",
              (long long)n, (long long)bin);
  int64_t nb = n / bin, used = nb * bin;
  double a = 0, b = 0;
  for (int64_t i = 0; i < n; i++) {
    a += S0[i];
    b += Skmin[i];
  }
  *xi = xi_of(a / (double)n, b / (double)n, L);
  double ta = 0, tb = 0;
  for (int64_t i = 0; i < used; i++) {
    ta += S0[i];
    tb += Skmin[i];
  }
  double mean = 0, *jk = malloc((size_t)nb * sizeof *jk);
  ISING_CHECK(jk, ISING_ERR_MEM, "out of memory (xi jackknife)");
  for (int64_t k = 0; k < nb; k++) {
    double sa = 0, sb = 0;
    for (int64_t i = k * bin; i < (k + 1) * bin; i++) {
      sa += S0[i];
      sb += Skmin[i];
    }
    jk[k] = xi_of((ta - sa) / (double)(used - bin), (tb - sb) / (double)(used - bin), L);
    mean += jk[k];
  }
  mean /= (double)nb;
  double var = 0;
  for (int64_t k = 0; k < nb; k++) var += (jk[k] - mean) * (jk[k] - mean);
  *err = sqrt(var * (double)(nb - 1) / (double)nb);
  free(jk);
  return ISING_OK;
}
