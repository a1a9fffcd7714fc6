/*
 * test_stats.c -- unit suite for the stats module (binning, jackknife).
 *
 * Exact answers where they exist (hand-computed small series, constant
 * series, shift invariance), and otherwise statistical checks against
 * processes whose answers are known in closed form: the stationary AR(1)
 * process x_t = phi x_{t-1} + sqrt(1 - phi^2) eps_t (unit variance,
 * tau_int = (1 + phi) / (2 (1 - phi)), exact variance of the mean below) and
 * independent Gaussians (for the jackknife).  Every random number comes from
 * splitmix64 with a fixed seed, so the suite is deterministic; each
 * tolerance is stated next to the standard deviation of the quantity it
 * bounds, and is at least ~3.3 of them away from the expected value (most
 * are 4-6), so a change of seed would not make it flake either.  The
 * "power" tests show that the same checks reject a wrong error formula.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/stats.h"
#include "testutil.h"

/* ------------------------------------------------------------ random numbers */

typedef struct rng {
  uint64_t s;
  double spare; /* second Box-Muller deviate */
  int has_spare;
} rng;

static rng rng_make(uint64_t seed) {
  rng r = {seed, 0.0, 0};
  return r;
}

static uint64_t splitmix64(rng *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Uniform in (0, 1): never 0, so the log below is finite. */
static double uniform(rng *r) { return ((double)(splitmix64(r) >> 11) + 0.5) * 0x1.0p-53; }

/* Standard normal by Box-Muller (both deviates used). */
static double gauss(rng *r) {
  if (r->has_spare) {
    r->has_spare = 0;
    return r->spare;
  }
  double rad = sqrt(-2.0 * log(uniform(r)));
  double ang = 6.283185307179586 * uniform(r);
  r->spare = rad * sin(ang);
  r->has_spare = 1;
  return rad * cos(ang);
}

/* ------------------------------------------------------------ AR(1) */

/* Stationary AR(1) with unit variance: x_0 ~ N(0, 1). */
static void ar1_fill(rng *r, double phi, double *x, int64_t n) {
  double a = sqrt(1.0 - phi * phi);
  x[0] = gauss(r);
  for (int64_t i = 1; i < n; i++) x[i] = phi * x[i - 1] + a * gauss(r);
}

static double ar1_tau(double phi) { return (1.0 + phi) / (2.0 * (1.0 - phi)); }

/* Exact variance of the mean of n consecutive values of the stationary
 * unit-variance AR(1): (1/n) [(1+phi)/(1-phi) - 2 phi (1 - phi^n) / (n (1-phi)^2)],
 * i.e. 2 tau_int / n up to an O(tau/n) end correction. */
static double ar1_var_mean(double phi, int64_t n) {
  double dn = (double)n;
  return ((1.0 + phi) / (1.0 - phi) - 2.0 * phi * (1.0 - pow(phi, dn)) / (dn * (1.0 - phi) * (1.0 - phi))) / dn;
}

/* Averages over M independent series of length L. */
typedef struct ensemble {
  double tau;     /* mean estimated tau_int */
  double err;     /* mean estimated error of the mean (chosen level) */
  double naive;   /* mean level-0 error */
  double scatter; /* observed standard deviation of the M series means */
  int converged;  /* how many series were flagged converged */
} ensemble;

static ensemble run_ar1(double phi, int64_t L, int M, uint64_t seed) {
  rng r = rng_make(seed);
  double *x = malloc((size_t)L * sizeof *x);
  double *means = malloc((size_t)M * sizeof *means);
  ck_assert_ptr_nonnull(x);
  ck_assert_ptr_nonnull(means);
  ensemble e = {0};
  for (int s = 0; s < M; s++) {
    ar1_fill(&r, phi, x, L);
    ising_binning b;
    ck_assert_int_eq(ising_binning_analyze(x, L, &b), ISING_OK);
    e.tau += b.tau_int / M;
    e.err += b.err / M;
    e.naive += b.err_naive / M;
    e.converged += b.converged;
    means[s] = b.mean;
  }
  double mu = 0.0, ss = 0.0;
  for (int s = 0; s < M; s++) mu += means[s] / M;
  for (int s = 0; s < M; s++) ss += (means[s] - mu) * (means[s] - mu);
  e.scatter = sqrt(ss / (M - 1));
  free(x);
  free(means);
  return e;
}

/* The check every statistical test uses: |a/b - 1| <= tol. */
static int agree(double a, double b, double tol) { return fabs(a / b - 1.0) <= tol; }

/*
 * The AR(1) table.  Standard deviations of the checked averages, from the
 * relative standard error of one error estimate at 32 bins, 1/sqrt(2*31) =
 * 0.127 (tau ~ err^2: 0.254), divided by sqrt(M); the scatter of M means has
 * relative standard error 1/sqrt(2(M-1)).  The bias is the O(tau/bin size)
 * deficit of the blocked error (err low by ~1.5% where noted, measured
 * over 1000+ series).
 *
 *  phi   L     M    tau: sd, bias, tol     err/exact: sd, tol    err/scatter: sd, tol
 *  0     2^14  200  1.8%, 0,     10%       0.9%, 5%              5.0%, 20%
 *  0.5   2^14  200  1.8%, 0,     10%       0.9%, 5%              5.0%, 20%
 *  0.9   2^14  400  1.3%, -1.5%, 10%       0.6%, 5% (bias -1.5%) 3.5%, 15%
 *  0.98  2^16  128  2.2%, -1.5%, 10%       1.1%, 5% (bias -1.4%) 6.3%, 25%
 *
 * phi = 0.9 is the brief's headline case: 400 series of 2^14 (1700 tau each)
 * instead of 40 of 2^16, so the 15% scatter check sits ~4 sd away.
 * phi = 0.98 needs 2^16 (1300 tau): at 2^14 (330 tau) the blocked tau is
 * ~10% low.  At least 90% of the series must be flagged converged (measured
 * >= 98.8%: the binomial tail to 90% is astronomically small).
 */
typedef struct ar1_case {
  double phi;
  int log2L, M;
  double tol_tau, tol_exact, tol_scatter;
} ar1_case;

static const ar1_case ar1_cases[] = {
    {0.0, 14, 200, 0.10, 0.05, 0.20},
    {0.5, 14, 200, 0.10, 0.05, 0.20},
    {0.9, 14, 400, 0.10, 0.05, 0.15},
    {0.98, 16, 128, 0.10, 0.05, 0.25},
};

START_TEST(test_ar1_known_answers) {
  const ar1_case *c = &ar1_cases[_i];
  int64_t L = (int64_t)1 << c->log2L;
  ensemble e = run_ar1(c->phi, L, c->M, 1000 + (uint64_t)_i);
  double tau = ar1_tau(c->phi);
  double exact = sqrt(ar1_var_mean(c->phi, L));
  ck_assert_msg(agree(e.tau, tau, c->tol_tau), "phi=%g: mean tau_int %.4f, exact %.4f (tol %g)",
                c->phi, e.tau, tau, c->tol_tau);
  ck_assert_msg(agree(e.err, exact, c->tol_exact), "phi=%g: mean err %.4g, exact %.4g (tol %g)",
                c->phi, e.err, exact, c->tol_exact);
  ck_assert_msg(agree(e.err, e.scatter, c->tol_scatter),
                "phi=%g: mean err %.4g, scatter of means %.4g (tol %g)", c->phi, e.err, e.scatter,
                c->tol_scatter);
  ck_assert_msg(e.converged >= (int)(0.9 * c->M), "phi=%g: only %d of %d converged", c->phi,
                e.converged, c->M);
}
END_TEST

/* Too short for the blocking to reach the plateau: the flag must say so.
 * phi = 0.999, 2^14 values (tau_int = 999.5, 16 tau): 0 of 500 series
 * converged when measured, and the estimated tau is ~0.2 of the truth.
 * phi = 0.99, 5000 values (50 tau): 1 of 2000 converged when measured, so
 * <= 2 of 20 has a binomial tail of ~1e-6. */
START_TEST(test_ar1_short_not_converged) {
  ensemble e = run_ar1(0.999, (int64_t)1 << 14, 20, 2000);
  ck_assert_int_eq(e.converged, 0);
  ck_assert_msg(e.tau < 0.5 * ar1_tau(0.999), "tau %.1f", e.tau);
  e = run_ar1(0.99, 5000, 20, 2001);
  ck_assert_int_le(e.converged, 2);
}
END_TEST

/* Power: the level-0 ("uncorrelated") error of a phi = 0.9 series is
 * sqrt(1/(2 tau)) = 0.23 of the true one; the agreement check that accepts
 * the binned error (sd of the scatter for M = 200: 5%, tolerance 20%)
 * must reject it. */
START_TEST(test_power_naive_error_rejected) {
  ensemble e = run_ar1(0.9, (int64_t)1 << 14, 200, 3000);
  ck_assert_msg(e.naive < 0.5 * e.err, "naive %.4g binned %.4g", e.naive, e.err);
  ck_assert_msg(agree(e.err, e.scatter, 0.20), "binned %.4g scatter %.4g", e.err, e.scatter);
  ck_assert_msg(!agree(e.naive, e.scatter, 0.20), "naive %.4g scatter %.4g", e.naive, e.scatter);
}
END_TEST

/* ------------------------------------------------------------ exact cases */

START_TEST(test_constant_series) {
  double x[1000];
  for (int i = 0; i < 1000; i++) x[i] = -1.4;
  ising_binning b;
  ck_assert_int_eq(ising_binning_analyze(x, 1000, &b), ISING_OK);
  ck_assert(b.mean == -1.4);
  ck_assert(b.err == 0.0);
  ck_assert(b.err_naive == 0.0);
  ck_assert(b.tau_int == 0.5);
  ck_assert_int_eq(b.converged, 1);
  ck_assert_int_eq(b.bin_size, 16); /* 1000/16 = 62 bins, 1000/32 = 31 < 32 */
  ck_assert_int_eq(b.n_bins, 62);
}
END_TEST

/* The ramp 0..63: level 1 has bin means 0.5 + 2j, j = 0..31, so
 * err_1^2 = 4 var(0..31) / 32 = 4 (32*33/12) / 32 = 11; level 0:
 * err_0^2 = (64*65/12) / 64 = 65/12. */
START_TEST(test_ramp_by_hand) {
  double x[64];
  for (int i = 0; i < 64; i++) x[i] = i;
  ising_binning b;
  ck_assert_int_eq(ising_binning_analyze(x, 64, &b), ISING_OK);
  ck_assert_double_eq_tol(b.mean, 31.5, 1e-14);
  ck_assert_int_eq(b.bin_size, 2);
  ck_assert_int_eq(b.n_bins, 32);
  ck_assert_double_eq_tol(b.err, sqrt(11.0), 1e-13);
  ck_assert_double_eq_tol(b.err_naive, sqrt(65.0 / 12.0), 1e-13);
  ck_assert_double_eq_tol(b.tau_int, 0.5 * 11.0 * 12.0 / 65.0, 1e-13);
  ck_assert_int_eq(b.converged, 0); /* fewer than 128 values: never */
}
END_TEST

/* 0,1,0,1,... (64 values) then an outlier 1000 as value 65: the mean is of
 * all 65 values, level 0 sees the outlier, level 1 (32 pairs, the tail
 * dropped) sees only pairs averaging 0.5: err = 0, tau = 0. */
START_TEST(test_tail_bin_dropped) {
  double x[65];
  for (int i = 0; i < 64; i++) x[i] = i % 2;
  x[64] = 1000.0;
  ising_binning b;
  ck_assert_int_eq(ising_binning_analyze(x, 65, &b), ISING_OK);
  double mean = 1032.0 / 65.0;
  ck_assert_double_eq_tol(b.mean, mean, 1e-12);
  double ss = 32.0 * mean * mean + 32.0 * (1.0 - mean) * (1.0 - mean) +
              (1000.0 - mean) * (1000.0 - mean);
  ck_assert_double_eq_tol(b.err_naive, sqrt(ss / (64.0 * 65.0)), 1e-10);
  ck_assert_int_eq(b.bin_size, 2);
  ck_assert_int_eq(b.n_bins, 32);
  ck_assert(b.err == 0.0);
  ck_assert(b.tau_int == 0.0);
}
END_TEST

START_TEST(test_bad_input) {
  double x[40] = {0};
  ising_binning b;
  ising_err_clear();
  ck_assert_int_eq(ising_binning_analyze(x, 31, &b), ISING_ERR_INPUT);
  ck_assert_ptr_nonnull(strstr(ising_err_message(), "31"));
  ising_err_clear();
  /* 32 values: level 0 only, bins of one */
  for (int i = 0; i < 40; i++) x[i] = (i * 7) % 5;
  ck_assert_int_eq(ising_binning_analyze(x, 32, &b), ISING_OK);
  ck_assert_int_eq(b.bin_size, 1);
  ck_assert_int_eq(b.n_bins, 32);
  ck_assert(b.err == b.err_naive);
  ck_assert(b.tau_int == 0.5);
  ck_assert_int_eq(b.converged, 0);
  /* not finite */
  x[7] = NAN;
  ck_assert_int_eq(ising_binning_analyze(x, 40, &b), ISING_ERR_INPUT);
  ck_assert_ptr_nonnull(strstr(ising_err_message(), "7"));
  ising_err_clear();
  x[7] = 1.0;
  ising_summary s;
  ck_assert_int_eq(ising_summary_compute(x, x, x, x, 31, 0.4, 16, &s), ISING_ERR_INPUT);
  ising_err_clear();
  ck_assert_int_eq(ising_summary_compute(x, x, x, x, 40, 0.4, 0, &s), ISING_ERR_INPUT);
  ising_err_clear();
}
END_TEST

/* A large common offset costs no precision.  y = 1e6 + z, z an AR(1)
 * series (phi = 0.5) scaled to 1e-3 or 1e-5:
 *   - the brief's check, z scaled to 1e-3: y gives the errors and tau of z
 *     to 1e-6 relative.  The input rounding of 1e6 + z (sd 3.4e-11) is
 *     3.4e-8 of z's spread per value and perturbs the errors by ~4e-9
 *     (measured 2e-9), far inside 1e-6;
 *   - the sharp check, z scaled to 1e-5, against zr = y - 1e6 (exact: the
 *     fluctuations y really stores): errors and tau agree to 1e-9 relative
 *     (measured 6e-12).  Averaging the unshifted values in pairs would round
 *     every bin mean to ulp(1e6), 1e-4 of the spread of the level-9 bin
 *     means, and miss by 3e-5 (measured).
 * A one-pass sum-of-squares variance would be off by ~100% in both. */
static void offset_pair(double scale, uint64_t seed, ising_binning *bz, ising_binning *by,
                        ising_binning *br) {
  enum { n = 1 << 14 };
  static double z[n], y[n], zr[n];
  rng r = rng_make(seed);
  ar1_fill(&r, 0.5, z, n);
  for (int i = 0; i < n; i++) {
    z[i] *= scale;
    y[i] = 1e6 + z[i];
    zr[i] = y[i] - 1e6;
  }
  ck_assert_int_eq(ising_binning_analyze(z, n, bz), ISING_OK);
  ck_assert_int_eq(ising_binning_analyze(y, n, by), ISING_OK);
  ck_assert_int_eq(ising_binning_analyze(zr, n, br), ISING_OK);
}

static void same_binning(const ising_binning *a, const ising_binning *b, double tol) {
  ck_assert_msg(agree(a->err, b->err, tol), "err %.17g vs %.17g", a->err, b->err);
  ck_assert_msg(agree(a->err_naive, b->err_naive, tol), "err_naive %.17g vs %.17g", a->err_naive,
                b->err_naive);
  ck_assert_msg(agree(a->tau_int, b->tau_int, tol), "tau %.17g vs %.17g", a->tau_int, b->tau_int);
  ck_assert_int_eq(a->converged, b->converged);
}

START_TEST(test_large_offset) {
  ising_binning bz, by, br;
  offset_pair(1e-3, 4000, &bz, &by, &br);
  same_binning(&by, &bz, 1e-6);
  offset_pair(1e-5, 4001, &bz, &by, &br);
  same_binning(&by, &br, 1e-9);
  /* the mean itself is stored to ulp(1e6) = 1.2e-10 */
  ck_assert_double_eq_tol(by.mean - 1e6, br.mean, 1.2e-10);
}
END_TEST

/* ------------------------------------------------------------ summary */

START_TEST(test_summary_constant) {
  enum { n = 500 };
  static double e[n], a[n], m2[n], m4[n];
  for (int i = 0; i < n; i++) {
    e[i] = -2.0;
    a[i] = m2[i] = m4[i] = 1.0;
  }
  ising_summary s;
  ck_assert_int_eq(ising_summary_compute(e, a, m2, m4, n, 2.0, 64, &s), ISING_OK);
  ck_assert(s.e == -2.0 && s.e_err == 0.0);
  ck_assert(s.c == 0.0 && s.c_err == 0.0);
  ck_assert(s.chi == 0.0 && s.chi_err == 0.0);
  ck_assert_double_eq_tol(s.U4, 2.0 / 3.0, 1e-15);
  ck_assert(s.U4_err == 0.0);
  ck_assert(s.chi_p == 2.0 * 64 && s.chi_p_err == 0.0);
  ck_assert(s.tau_e == 0.5 && s.tau_m_abs == 0.5);
  ck_assert_int_eq(s.converged, 1);
  ck_assert_int_eq(s.n, n);
}
END_TEST

/* Zero magnetisation throughout: U4 = 1 - 0/0 is undefined and reported as
 * NaN (stats.c says so); chi, chi' and their errors are exactly 0. */
START_TEST(test_summary_zero_m2) {
  enum { n = 256 };
  static double e[n], z[n];
  rng r = rng_make(9000);
  for (int i = 0; i < n; i++) {
    e[i] = -1.0 + 0.1 * gauss(&r);
    z[i] = 0.0;
  }
  ising_summary s;
  ck_assert_int_eq(ising_summary_compute(e, z, z, z, n, 1.0, 16, &s), ISING_OK);
  ck_assert(isnan(s.U4) && isnan(s.U4_err));
  ck_assert(s.chi == 0.0 && s.chi_err == 0.0 && s.chi_p == 0.0 && s.chi_p_err == 0.0);
  ck_assert(isfinite(s.c) && s.c > 0.0 && isfinite(s.c_err));
}
END_TEST

/* Bookkeeping on a correlated series: means and errors are those of the
 * binning analysis, bin size that of e and |m| (the chosen level depends
 * on n only), chi' and its error are beta N <m2> and beta N m2_err (the
 * jackknife of a linear quantity is the binned error at the same bins). */
START_TEST(test_summary_fields) {
  enum { n = 1 << 14 };
  static double e[n], g[n], a[n], m2[n], m4[n];
  rng r = rng_make(5000);
  ar1_fill(&r, 0.9, e, n);
  ar1_fill(&r, 0.5, g, n);
  for (int i = 0; i < n; i++) {
    e[i] = -1.4 + 0.01 * e[i];
    a[i] = fabs(0.7 + 0.05 * g[i]);
    m2[i] = a[i] * a[i];
    m4[i] = m2[i] * m2[i];
  }
  const double beta = 0.44;
  const int64_t N = 1024;
  ising_summary s;
  ck_assert_int_eq(ising_summary_compute(e, a, m2, m4, n, beta, N, &s), ISING_OK);
  ising_binning be, ba, b2, b4;
  ck_assert_int_eq(ising_binning_analyze(e, n, &be), ISING_OK);
  ck_assert_int_eq(ising_binning_analyze(a, n, &ba), ISING_OK);
  ck_assert_int_eq(ising_binning_analyze(m2, n, &b2), ISING_OK);
  ck_assert_int_eq(ising_binning_analyze(m4, n, &b4), ISING_OK);
  ck_assert(s.e == be.mean && s.e_err == be.err && s.tau_e == be.tau_int);
  ck_assert(s.m_abs == ba.mean && s.m_abs_err == ba.err && s.tau_m_abs == ba.tau_int);
  ck_assert(s.m2 == b2.mean && s.m2_err == b2.err);
  ck_assert(s.m4 == b4.mean && s.m4_err == b4.err);
  ck_assert_int_eq(s.bin_size, 512);
  ck_assert_int_eq(s.n, n);
  ck_assert_int_eq(s.converged, be.converged && ba.converged);
  /* One series: tau_e / tau ~ chi^2_31 / 31 (sd 25%), so only a sanity
   * check, a factor 3 either way (tail probability < 1e-3). */
  ck_assert_msg(s.tau_e > ar1_tau(0.9) / 3.0 && s.tau_e < 3.0 * ar1_tau(0.9), "tau_e %g", s.tau_e);
  ck_assert_double_eq_tol(s.chi_p, beta * N * s.m2, 1e-12 * s.chi_p);
  ck_assert_msg(agree(s.chi_p_err, beta * N * s.m2_err, 1e-10), "%.17g vs %.17g", s.chi_p_err,
                beta * N * s.m2_err);
}
END_TEST

/*
 * Jackknife against replicates.  R independent samples of n = 4096
 * measurements: e = -1.4 + s_e eps (independent Gaussian, bins of 128),
 * g = s_g eps' with |m| = |g|, m2 = g^2, m4 = g^4.  Known values:
 *   c    = beta^2 N var(e): E[c_hat] = beta^2 N s_e^2 (n-1)/n (the plain
 *          estimate is the biased variance), sd(c_hat) = E[c] sqrt(2/(n-1));
 *   chi  = beta N s_g^2 (1 - 2/pi)   (var |g| for a Gaussian);
 *   chi' = beta N s_g^2;
 *   U4   = 1 - 3 s_g^4 / (3 s_g^4) = 0.
 * Checks (R = 400):
 *   - the mean of c_hat over R matches E[c_hat] within 1% (sd of that mean:
 *     sqrt(2/4095)/sqrt(400) = 0.11%);
 *   - the mean jackknife error of c matches the observed scatter of c_hat
 *     within 20% (sd of the scatter: 1/sqrt(2*399) = 3.5%, so 5.7 sd) and
 *     the exact sd within 10% (sd of the mean error: ~13%/sqrt(400) = 0.7%);
 *   - for U4, chi, chi': the first replicate lies within 3 errors of the
 *     exact value, and z = (estimate - exact) / error has an rms over R
 *     within 25% of 1.  The expected rms is not exactly 1: the error
 *     estimate itself scatters by 13% (t-like tails) and U4 has an O(1/n)
 *     bias; measured over 8000 replicates it is 1.04-1.05 for chi and
 *     1.05-1.08 for U4, and its sd at R = 400 is ~4%, so the bound is >= 4
 *     sd away;
 *   - power: the same scatter check rejects the jackknife error of c
 *     computed as if the bins were single measurements (err / sqrt(128)).
 */
typedef struct zstat {
  double sum2;
  int n;
} zstat;

static void zadd(zstat *z, double est, double exact, double err) {
  double v = (est - exact) / err;
  z->sum2 += v * v;
  z->n++;
}

static double zrms(const zstat *z) { return sqrt(z->sum2 / z->n); }

START_TEST(test_summary_jackknife) {
  enum { n = 4096, R = 400 };
  static double e[n], a[n], m2[n], m4[n];
  const double beta = 0.44, se = 0.01, sg = 0.3;
  const int64_t N = 256;
  const double c_exp = beta * beta * N * se * se * (n - 1.0) / n;
  const double c_sd = beta * beta * N * se * se * sqrt(2.0 / (n - 1.0));
  const double chi_ex = beta * N * sg * sg * (1.0 - 2.0 / 3.141592653589793);
  const double chip_ex = beta * N * sg * sg;
  rng r = rng_make(6000);
  double c_sum = 0.0, c_sum2 = 0.0, cerr_sum = 0.0;
  zstat zu = {0}, zc = {0}, zp = {0};
  for (int k = 0; k < R; k++) {
    for (int i = 0; i < n; i++) {
      e[i] = -1.4 + se * gauss(&r);
      double g = sg * gauss(&r);
      a[i] = fabs(g);
      m2[i] = g * g;
      m4[i] = m2[i] * m2[i];
    }
    ising_summary s;
    ck_assert_int_eq(ising_summary_compute(e, a, m2, m4, n, beta, N, &s), ISING_OK);
    ck_assert_int_eq(s.bin_size, 128);
    if (k == 0) {
      ck_assert_msg(fabs(s.U4) < 3.0 * s.U4_err, "U4 %g +- %g", s.U4, s.U4_err);
      ck_assert_msg(fabs(s.chi - chi_ex) < 3.0 * s.chi_err, "chi %g +- %g, exact %g", s.chi,
                    s.chi_err, chi_ex);
      ck_assert_msg(fabs(s.chi_p - chip_ex) < 3.0 * s.chi_p_err, "chi' %g +- %g, exact %g",
                    s.chi_p, s.chi_p_err, chip_ex);
    }
    c_sum += s.c;
    c_sum2 += s.c * s.c;
    cerr_sum += s.c_err;
    zadd(&zu, s.U4, 0.0, s.U4_err);
    zadd(&zc, s.chi, chi_ex, s.chi_err);
    zadd(&zp, s.chi_p, chip_ex, s.chi_p_err);
  }
  double c_mean = c_sum / R;
  double c_scatter = sqrt((c_sum2 - R * c_mean * c_mean) / (R - 1));
  double c_err = cerr_sum / R;
  ck_assert_msg(agree(c_mean, c_exp, 0.01), "c %.6g, expected %.6g", c_mean, c_exp);
  ck_assert_msg(agree(c_err, c_scatter, 0.20), "c_err %.4g, scatter %.4g", c_err, c_scatter);
  ck_assert_msg(agree(c_err, c_sd, 0.10), "c_err %.4g, exact sd %.4g", c_err, c_sd);
  ck_assert_msg(!agree(c_err / sqrt(128.0), c_scatter, 0.20), "power");
  ck_assert_msg(agree(zrms(&zu), 1.0, 0.25), "U4 rms z %g", zrms(&zu));
  ck_assert_msg(agree(zrms(&zc), 1.0, 0.25), "chi rms z %g", zrms(&zc));
  ck_assert_msg(agree(zrms(&zp), 1.0, 0.25), "chi' rms z %g", zrms(&zp));
}
END_TEST

/* The specific heat of e = -1.4 + 1e-6 eps equals that of 1e-6 eps to
 * 1e-6 relative, and chi of |m| = 0.9 + 1e-6 eps (m2 = |m|^2) that of the
 * unshifted series: the summary shifts before squaring.  The plain
 * <e^2> - <e>^2 would lose ~12 of 16 digits here (error ~1e-4 relative). */
START_TEST(test_summary_offset) {
  enum { n = 1 << 12 };
  static double e0[n], e1[n], a0[n], a1[n], q0[n], q1[n], f0[n], f1[n];
  rng r = rng_make(7000);
  for (int i = 0; i < n; i++) {
    double u = 1e-6 * gauss(&r), v = 1e-6 * gauss(&r);
    e0[i] = u;
    e1[i] = -1.4 + u;
    a0[i] = v;
    a1[i] = 0.9 + v;
    q0[i] = a0[i] * a0[i];
    q1[i] = a1[i] * a1[i];
    f0[i] = q0[i] * q0[i];
    f1[i] = q1[i] * q1[i];
  }
  ising_summary s0, s1;
  ck_assert_int_eq(ising_summary_compute(e0, a0, q0, f0, n, 0.5, 4096, &s0), ISING_OK);
  ck_assert_int_eq(ising_summary_compute(e1, a1, q1, f1, n, 0.5, 4096, &s1), ISING_OK);
  ck_assert_msg(agree(s1.c, s0.c, 1e-6), "c %.17g vs %.17g", s1.c, s0.c);
  ck_assert_msg(agree(s1.c_err, s0.c_err, 1e-6), "c_err %.17g vs %.17g", s1.c_err, s0.c_err);
  ck_assert_msg(agree(s1.chi, s0.chi, 1e-6), "chi %.17g vs %.17g", s1.chi, s0.chi);
  ck_assert_msg(agree(s1.chi_err, s0.chi_err, 1e-6), "chi_err %.17g vs %.17g", s1.chi_err,
                s0.chi_err);
}
END_TEST

/*
 * The summary against its definitions, computed here independently in
 * long double: n = 1000 (chosen bins of 16, 62 of them, a tail of 8 values
 * that the jackknife drops and the full-sample values keep), and m2 that is
 * NOT |m|^2 (as when each measurement is itself an average), so chi =
 * beta N (<m2> - <|m|>^2) is tested as defined.  Values and jackknife errors
 * must agree to 1e-9 relative: this is arithmetic, not statistics.
 */
typedef struct ref_q {
  long double U4, chi, chi_p, c;
} ref_q;

static ref_q ref_eval(const double *e, const double *a, const double *m2, const double *m4,
                      int64_t lo, int64_t hi, int64_t skip_lo, int64_t skip_hi, double beta,
                      int64_t N) {
  long double se = 0, sa = 0, s2 = 0, s4 = 0, cnt = 0;
  for (int64_t i = lo; i < hi; i++) {
    if (i >= skip_lo && i < skip_hi) continue;
    se += e[i];
    sa += a[i];
    s2 += m2[i];
    s4 += m4[i];
    cnt += 1;
  }
  long double me = se / cnt, ma = sa / cnt, mm2 = s2 / cnt, mm4 = s4 / cnt, ve = 0;
  for (int64_t i = lo; i < hi; i++) {
    if (i >= skip_lo && i < skip_hi) continue;
    ve += (e[i] - me) * (e[i] - me);
  }
  ve /= cnt;
  ref_q q;
  q.U4 = 1.0L - mm4 / (3.0L * mm2 * mm2);
  q.chi = (long double)beta * N * (mm2 - ma * ma);
  q.chi_p = (long double)beta * N * mm2;
  q.c = (long double)beta * beta * N * ve;
  return q;
}

START_TEST(test_summary_by_definition) {
  enum { n = 1000, B = 16, nB = 62 };
  static double e[n], a[n], m2[n], m4[n];
  rng r = rng_make(8000);
  ar1_fill(&r, 0.8, e, n);
  for (int i = 0; i < n; i++) {
    e[i] = -1.2 + 0.05 * e[i];
    a[i] = fabs(0.5 + 0.2 * gauss(&r));
    m2[i] = a[i] * a[i] + 0.01 * uniform(&r);
    m4[i] = m2[i] * m2[i] * (1.0 + 0.1 * uniform(&r));
  }
  const double beta = 0.3;
  const int64_t N = 100;
  ising_summary s;
  ck_assert_int_eq(ising_summary_compute(e, a, m2, m4, n, beta, N, &s), ISING_OK);
  ck_assert_int_eq(s.bin_size, B);
  ref_q full = ref_eval(e, a, m2, m4, 0, n, 0, 0, beta, N);
  long double th[4][nB], bar[4] = {0}, ss[4] = {0};
  for (int b = 0; b < nB; b++) {
    ref_q q = ref_eval(e, a, m2, m4, 0, (int64_t)nB * B, (int64_t)b * B, (int64_t)(b + 1) * B,
                       beta, N);
    th[0][b] = q.U4;
    th[1][b] = q.chi;
    th[2][b] = q.chi_p;
    th[3][b] = q.c;
    for (int t = 0; t < 4; t++) bar[t] += th[t][b] / nB;
  }
  for (int b = 0; b < nB; b++)
    for (int t = 0; t < 4; t++) ss[t] += (th[t][b] - bar[t]) * (th[t][b] - bar[t]);
  double jerr[4];
  for (int t = 0; t < 4; t++) jerr[t] = (double)sqrtl((nB - 1.0L) / nB * ss[t]);
  const double got[4] = {s.U4, s.chi, s.chi_p, s.c};
  const double got_err[4] = {s.U4_err, s.chi_err, s.chi_p_err, s.c_err};
  const double want[4] = {(double)full.U4, (double)full.chi, (double)full.chi_p, (double)full.c};
  const char *name[4] = {"U4", "chi", "chi'", "c"};
  for (int t = 0; t < 4; t++) {
    ck_assert_msg(agree(got[t], want[t], 1e-9), "%s %.17g, definition %.17g", name[t], got[t],
                  want[t]);
    ck_assert_msg(agree(got_err[t], jerr[t], 1e-9), "%s err %.17g, definition %.17g", name[t],
                  got_err[t], jerr[t]);
  }
}
END_TEST

static Suite *stats_suite(void) {
  Suite *s = suite_create("stats");
  TCase *tc = tcase_create("binning");
  tcase_add_test(tc, test_constant_series);
  tcase_add_test(tc, test_ramp_by_hand);
  tcase_add_test(tc, test_tail_bin_dropped);
  tcase_add_test(tc, test_bad_input);
  tcase_add_test(tc, test_large_offset);
  suite_add_tcase(s, tc);
  tc = tcase_create("ar1");
  tcase_add_loop_test(tc, test_ar1_known_answers, 0,
                      (int)(sizeof ar1_cases / sizeof ar1_cases[0]));
  tcase_add_test(tc, test_ar1_short_not_converged);
  tcase_add_test(tc, test_power_naive_error_rejected);
  suite_add_tcase(s, tc);
  tc = tcase_create("summary");
  tcase_add_test(tc, test_summary_constant);
  tcase_add_test(tc, test_summary_zero_m2);
  tcase_add_test(tc, test_summary_fields);
  tcase_add_test(tc, test_summary_by_definition);
  tcase_add_test(tc, test_summary_jackknife);
  tcase_add_test(tc, test_summary_offset);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return ising_test_run_suite(stats_suite()); }
