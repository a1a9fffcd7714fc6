/*
 * phys_exact.c -- Monte Carlo against exact results, on any rank count
 * (registered for 1, 2 and 4 ranks).
 *
 * Exact values are computed here by the exact module: enumeration of all
 * 2^N states (2D 4x4; 3D 2x2x2 and 4x2x2) and Kaufman's finite-torus
 * partition function (2D 16x16 and 32x32).  Each Monte Carlo estimate X
 * with its binning / jackknife error s passes when |X - exact| <= Z_MAX s.
 * With fixed seeds the outcome is deterministic; Z_MAX = 4.5 leaves room
 * for the ~12% uncertainty of an error bar estimated from >= 32 bins.
 * Power: each comparison is repeated with a run at a slightly wrong
 * temperature (T shifted by +3%), which must FAIL the same comparison
 * (some |z| > Z_MAX): the test can tell a wrong answer from a right one.
 * Sweep counts make the error bars of e about 1e-3 or smaller.
 * With the argument "msc" every Metropolis, J > 0 case runs with the
 * multi-spin-coding kernel instead (msc.h; the others are skipped); with
 * "msc-async" with the multi-replica kernel (msc_async.h), where the single-
 * temperature cases run 16 copies (16 of a set's 64 lanes) for 1/16 of the
 * sweeps each.  With "ars" every run draws its numbers from ARS instead of
 * Philox ([montecarlo] rng = ars; skipped, saying so, without AES-NI).
 */
#include <check.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/baseline.h"
#include "ising/exact.h"
#include "ising/freeenergy.h"
#include "ising/run.h"
#include "testutil.h"

#define Z_MAX 4.5

static char tmpdir[512];
static int world_rank;
/* "quick" (argv[1]): a subset with a quarter of the sweeps, for 2 and 4
 * (oversubscribed) ranks and the sanitizer build; the full set runs on 1
 * rank in the Release build. */
static int quick;
/* "msc" or "msc-async" (any argument): a multi-spin-coding kernel, msc_kind */
static int msc;
static const char *msc_kind = "msc";
static int ars; /* "ars": rng = ars */
#define ASYNC_COPIES 16

typedef ising_test_cmp cmp;

static void run_mc(ising_config *cfg, ising_summary *s) {
  static int counter;
  snprintf(cfg->file, sizeof cfg->file, "%s/run%d.h5", tmpdir, counter++);
  ising_run_options opt = {.force = 1, .quiet = 1};
  ising_run_result res;
  ising_config run = *cfg; /* the same sample size spread over the lanes */
  if (strcmp(msc_kind, "msc-async") == 0 && run.n_temps == 1) {
    run.copies = ASYNC_COPIES;
    run.sweeps /= ASYNC_COPIES;
  }
  int rc = ising_run(MPI_COMM_WORLD, &run, &opt, &res);
  ck_assert_msg(rc == ISING_OK, "run failed: %s", ising_err_message());
  *s = res.summary;
  free(res.summaries);
}

/* max |z| over the comparisons; prints the table on rank 0 */
static double max_z(const char *label, const cmp *c, int n) {
  return ising_test_max_z(label, c, n, world_rank == 0);
}

static void base_config(ising_config *cfg, int dim, int64_t Lx, int64_t Ly, int64_t Lz) {
  ising_config_defaults(cfg);
  cfg->dim = dim;
  cfg->L[0] = Lx;
  cfg->L[1] = Ly;
  cfg->L[2] = dim == 3 ? Lz : 1;
  cfg->thermalization = 2000;
  cfg->interval = 1;
  if (msc) snprintf(cfg->kernel, sizeof cfg->kernel, "%s", msc_kind);
  if (ars) cfg->rng = ISING_RNG_ARS;
}

/* Enumeration case: e, |m|, m^2, U4, chi and c; with a power run at 1.03 T. */
static void enum_case(int dim, int64_t Lx, int64_t Ly, int64_t Lz, double J, double H, double T,
                      ising_algorithm alg, int64_t sweeps, uint64_t seed) {
  if (msc && (alg != ISING_ALG_METROPOLIS || !(J > 0))) return;
  ising_config cfg;
  base_config(&cfg, dim, Lx, Ly, Lz);
  cfg.J = J;
  cfg.H = H;
  cfg.algorithm = alg;
  cfg.sweeps = quick ? sweeps / 4 : sweeps;
  cfg.seed = seed;
  ising_exact_obs ex;
  ck_assert_int_eq(ising_exact_enumerate(dim, cfg.L, J, H, T, &ex), ISING_OK);
  char label[128];
  for (int wrong = 0; wrong < 2; wrong++) {
    cfg.temps[0] = wrong ? 1.03 * T : T;
    ising_summary s;
    run_mc(&cfg, &s);
    cmp c[] = {{"e", s.e, s.e_err, ex.e},       {"|m|", s.m_abs, s.m_abs_err, ex.m_abs},
               {"m2", s.m2, s.m2_err, ex.m2},    {"U4", s.U4, s.U4_err, ex.U4},
               {"chi", s.chi, s.chi_err, ex.chi}, {"c", s.c, s.c_err, ex.c}};
    snprintf(label, sizeof label, "%dD %lldx%lldx%lld %s T=%.3f%s", dim, (long long)Lx,
             (long long)Ly, (long long)(dim == 3 ? Lz : 1), alg == ISING_ALG_HEATBATH ? "hb" : "met",
             cfg.temps[0], wrong ? "(wrong)" : "");
    double z = max_z(label, c, 6);
    if (!wrong)
      ck_assert_msg(z <= Z_MAX, "%s H=%g: Monte Carlo disagrees with enumeration (max |z| %.2f)", label, H, z);
    else
      ck_assert_msg(z > Z_MAX, "%s: a 3%% wrong temperature passed (max |z| %.2f): no power", label, z);
  }
}

START_TEST(enumeration_2d) {
  if (quick) {
    enum_case(2, 4, 4, 1, 1.0, 0.3, 2.5, ISING_ALG_METROPOLIS, 400000, 4);
    return;
  }
  enum_case(2, 4, 4, 1, 1.0, 0.0, 2.0, ISING_ALG_METROPOLIS, 400000, 1);
  enum_case(2, 4, 4, 1, 1.0, 0.0, 2.5, ISING_ALG_METROPOLIS, 400000, 2);
  enum_case(2, 4, 4, 1, 1.0, 0.0, 3.0, ISING_ALG_HEATBATH, 400000, 3);
  enum_case(2, 4, 4, 1, 1.0, 0.3, 2.5, ISING_ALG_METROPOLIS, 400000, 4);
  enum_case(2, 4, 4, 1, -1.0, 0.5, 2.0, ISING_ALG_HEATBATH, 400000, 5);
}
END_TEST

START_TEST(enumeration_3d) {
  if (quick) {
    enum_case(3, 4, 2, 2, 1.0, 0.0, 4.5, ISING_ALG_HEATBATH, 400000, 8);
    if (msc) enum_case(3, 4, 2, 2, 1.0, 0.1, 5.0, ISING_ALG_METROPOLIS, 400000, 9);
    return;
  }
  enum_case(3, 2, 2, 2, 1.0, 0.0, 4.5, ISING_ALG_METROPOLIS, 400000, 6);
  enum_case(3, 2, 2, 2, 1.0, 0.2, 6.0, ISING_ALG_HEATBATH, 400000, 7);
  enum_case(3, 4, 2, 2, 1.0, 0.0, 4.5, ISING_ALG_HEATBATH, 400000, 8);
  enum_case(3, 4, 2, 2, 1.0, 0.1, 5.0, ISING_ALG_METROPOLIS, 400000, 9);
}
END_TEST

/* Kaufman case: e and c of the L x L torus at H = 0. */
static void kaufman_case(int64_t L, double T, int64_t sweeps, uint64_t seed) {
  ising_config cfg;
  base_config(&cfg, 2, L, L, 1);
  cfg.sweeps = quick ? sweeps / 4 : sweeps;
  cfg.seed = seed;
  cfg.thermalization = 5000;
  ising_exact_obs ex;
  ck_assert_int_eq(ising_exact_kaufman(L, L, 1.0, T, &ex), ISING_OK);
  char label[128];
  for (int wrong = 0; wrong < 2; wrong++) {
    cfg.temps[0] = wrong ? 1.03 * T : T;
    ising_summary s;
    run_mc(&cfg, &s);
    cmp c[] = {{"e", s.e, s.e_err, ex.e}, {"c", s.c, s.c_err, ex.c}};
    snprintf(label, sizeof label, "2D %lldx%lld Kaufman T=%.4f%s", (long long)L, (long long)L,
             cfg.temps[0], wrong ? "(wrong)" : "");
    double z = max_z(label, c, 2);
    if (!wrong)
      ck_assert_msg(z <= Z_MAX, "%s: Monte Carlo disagrees with Kaufman (max |z| %.2f)", label, z);
    else
      ck_assert_msg(z > Z_MAX, "%s: a 3%% wrong temperature passed (max |z| %.2f): no power", label, z);
  }
}

START_TEST(kaufman_16_32) {
  const double tc = ising_exact_onsager_tc(1.0);
  if (quick) {
    kaufman_case(16, 3.0, 200000, 12);
    return;
  }
  kaufman_case(16, 2.0, 200000, 10);
  kaufman_case(16, tc, 200000, 11);
  kaufman_case(16, 3.0, 200000, 12);
  kaufman_case(32, 2.0, 200000, 13);
  kaufman_case(32, tc, 300000, 14);
  kaufman_case(32, 3.0, 200000, 15);
}
END_TEST

/* A tempering ladder against exact values at every temperature.  The power
 * run scales the whole ladder by 1.03 and is compared with the exact values
 * of the unscaled ladder. */
static void ladder_case(int64_t L, int n_T, double T_lo, double T_hi, int use_kaufman,
                        int64_t sweeps, uint64_t seed) {
  ising_config cfg;
  base_config(&cfg, 2, L, L, 1);
  cfg.sweeps = quick ? sweeps / 4 : sweeps;
  cfg.seed = seed;
  cfg.thermalization = 5000;
  cfg.n_temps = n_T;
  cfg.exchange_interval = 10;
  double T[ISING_MAX_TEMPS];
  for (int i = 0; i < n_T; i++) T[i] = T_lo + (T_hi - T_lo) * i / (n_T - 1);
  for (int wrong = 0; wrong < 2; wrong++) {
    for (int i = 0; i < n_T; i++) cfg.temps[i] = wrong ? 1.03 * T[i] : T[i];
    snprintf(cfg.file, sizeof cfg.file, "%s/ladder%d.h5", tmpdir, wrong);
    ising_run_options opt = {.force = 1, .quiet = 1};
    ising_run_result res;
    int rc = ising_run(MPI_COMM_WORLD, &cfg, &opt, &res);
    ck_assert_msg(rc == ISING_OK, "run failed: %s", ising_err_message());
    double worst = 0;
    for (int i = 0; i < n_T; i++) {
      ising_exact_obs ex;
      const ising_summary *s = &res.summaries[i];
      char label[128];
      snprintf(label, sizeof label, "ladder %lldx%lld T=%.4f%s", (long long)L, (long long)L,
               cfg.temps[i], wrong ? "(wrong)" : "");
      double z;
      if (use_kaufman) {
        ck_assert_int_eq(ising_exact_kaufman(L, L, 1.0, T[i], &ex), ISING_OK);
        cmp c[] = {{"e", s->e, s->e_err, ex.e}, {"c", s->c, s->c_err, ex.c}};
        z = max_z(label, c, 2);
      } else {
        ck_assert_int_eq(ising_exact_enumerate(2, cfg.L, 1.0, 0.0, T[i], &ex), ISING_OK);
        cmp c[] = {{"e", s->e, s->e_err, ex.e}, {"|m|", s->m_abs, s->m_abs_err, ex.m_abs},
                   {"m2", s->m2, s->m2_err, ex.m2}, {"U4", s->U4, s->U4_err, ex.U4}};
        z = max_z(label, c, 4);
      }
      if (!wrong)
        ck_assert_msg(z <= Z_MAX, "%s: tempering disagrees with the exact value (max |z| %.2f)", label, z);
      if (z > worst) worst = z;
    }
    if (wrong) ck_assert_msg(worst > Z_MAX, "a 3%% wrong ladder passed (max |z| %.2f): no power", worst);
    free(res.summaries);
  }
}

/* Free energy from a tempering run by thermodynamic integration against
 * Kaufman's exact f at every temperature, the GBF bound f_MC <= f_GBF within
 * errors, and the power check: the same integral compared with the exact f
 * of a 3% hotter ladder must fail. */
START_TEST(free_energy_ti) {
  if (quick) return;
  enum { NT = 32 };
  ising_config cfg;
  base_config(&cfg, 2, 16, 16, 1);
  cfg.sweeps = 30000;
  cfg.seed = 31;
  cfg.thermalization = 3000;
  cfg.n_temps = NT;
  cfg.exchange_interval = 2;
  for (int i = 0; i < NT; i++) cfg.temps[i] = 1.5 * pow(12.0 / 1.5, (double)i / (NT - 1));
  snprintf(cfg.file, sizeof cfg.file, "%s/ti.h5", tmpdir);
  ising_run_options opt = {.force = 1, .quiet = 1};
  ising_run_result res;
  ck_assert_msg(ising_run(MPI_COMM_WORLD, &cfg, &opt, &res) == ISING_OK, "%s", ising_err_message());
  double e[NT], se[NT], c[NT], sc[NT];
  for (int i = 0; i < NT; i++) {
    e[i] = res.summaries[i].e;
    se[i] = res.summaries[i].e_err;
    c[i] = res.summaries[i].c;
    sc[i] = res.summaries[i].c_err;
  }
  ising_ti_point p[NT];
  ck_assert_int_eq(ising_ti_free_energy(2, 1.0, NT, res.T, e, se, c, sc, p), ISING_OK);
  double worst = 0, wrong = 0;
  for (int i = 0; i < NT; i++) {
    ising_exact_obs k, kw;
    ising_baseline_point b;
    ck_assert_int_eq(ising_exact_kaufman(16, 16, 1.0, res.T[i], &k), ISING_OK);
    ck_assert_int_eq(ising_exact_kaufman(16, 16, 1.0, 1.03 * res.T[i], &kw), ISING_OK);
    ck_assert_int_eq(ising_baseline_compute(4, 1.0, 0.0, res.T[i], &b), ISING_OK);
    cmp row[] = {{"f", p[i].f, p[i].f_err, k.f}};
    char label[64];
    snprintf(label, sizeof label, "TI 16x16 T=%.4f", res.T[i]);
    worst = fmax(worst, max_z(label, row, 1));
    wrong = fmax(wrong, fabs(p[i].f - kw.f) / p[i].f_err);
    ck_assert_msg(p[i].f - b.gbf.f <= Z_MAX * p[i].f_err, "f_MC above the GBF bound at T=%g", res.T[i]);
    /* the error bar includes a conservative quadrature budget that grows
     * towards the cold end; the target (< 1e-3 per spin) is for the
     * 32-temperature L=32 run quoted in the notes (max 9.8e-4 measured) */
    ck_assert_double_lt(p[i].f_err, 1.5e-3);
  }
  ck_assert_msg(worst <= Z_MAX, "thermodynamic integration disagrees with Kaufman (max |z| %.2f)", worst);
  ck_assert_msg(wrong > Z_MAX, "a 3%% wrong ladder passed (max |z| %.2f): no power", wrong);
  free(res.summaries);
}
END_TEST

/* xi/L of L = 16 and 32 cross at T_c: run both on the same ladder around
 * T_c with correlation measurements; the difference xi/L(32) - xi/L(16)
 * must be significantly positive at the cold end and negative at the hot
 * end (|d| > 3 sigma: the test can fail), and the crossing found by linear
 * interpolation lies within 0.03 of 2/ln(1+sqrt 2) (finite-size shifts of
 * these sizes are about 0.01). */
START_TEST(xi_crossing) {
  if (quick || msc) return;
  enum { NT = 6 };
  double T[NT] = {2.15, 2.20, 2.245, 2.29, 2.34, 2.40}, xi[2][NT], err[2][NT];
  for (int s = 0; s < 2; s++) {
    int64_t L = s ? 32 : 16;
    ising_config cfg;
    base_config(&cfg, 2, L, L, 1);
    cfg.sweeps = 60000;
    cfg.interval = 2;
    cfg.seed = 41 + (uint64_t)s;
    cfg.thermalization = 5000;
    cfg.n_temps = NT;
    cfg.exchange_interval = 2;
    cfg.correlation = 1;
    cfg.sk_every = 0;
    for (int i = 0; i < NT; i++) cfg.temps[i] = T[i];
    snprintf(cfg.file, sizeof cfg.file, "%s/xi%d.h5", tmpdir, s);
    ising_run_options opt = {.force = 1, .quiet = 1};
    ising_run_result res;
    ck_assert_msg(ising_run(MPI_COMM_WORLD, &cfg, &opt, &res) == ISING_OK, "%s", ising_err_message());
    for (int i = 0; i < NT; i++) {
      xi[s][i] = res.summaries[i].xi / (double)L;
      err[s][i] = res.summaries[i].xi_err / (double)L;
    }
    free(res.summaries);
  }
  double d[NT], sd[NT], cross = NAN;
  for (int i = 0; i < NT; i++) {
    d[i] = xi[1][i] - xi[0][i];
    sd[i] = sqrt(err[0][i] * err[0][i] + err[1][i] * err[1][i]);
    if (world_rank == 0)
      printf("  xi/L  T=%.3f  L=16 %.4f +- %.4f  L=32 %.4f +- %.4f  diff %+.4f +- %.4f\n", T[i],
             xi[0][i], err[0][i], xi[1][i], err[1][i], d[i], sd[i]);
    if (i > 0 && d[i - 1] > 0 && d[i] <= 0) cross = T[i - 1] + (T[i] - T[i - 1]) * d[i - 1] / (d[i - 1] - d[i]);
  }
  ck_assert_msg(d[0] > 3 * sd[0], "xi/L(32) not above xi/L(16) at T=%.3f", T[0]);
  ck_assert_msg(d[NT - 1] < -3 * sd[NT - 1], "xi/L(32) not below xi/L(16) at T=%.3f", T[NT - 1]);
  if (world_rank == 0) printf("  xi/L crossing of L=16 and 32 at T = %.4f (T_c = %.4f)\n", cross, ising_exact_onsager_tc(1.0));
  ck_assert_msg(fabs(cross - ising_exact_onsager_tc(1.0)) < 0.03, "crossing at %g", cross);
}
END_TEST

/* Statistical equivalence of the multi-spin-coding and byte kernels on
 * lattices too large to enumerate (msc mode only): two independent tempering
 * runs, one per kernel, with different seeds; e, |m| and U4 at every
 * temperature must agree within Z_MAX combined standard errors.  Power: the
 * MSC ladder scaled by 1.02 must disagree with the byte kernel somewhere. */
static void kernels_case(int dim, int64_t L, double T_lo, double T_hi, int n_T, int64_t sweeps) {
  ising_summary *sum[3] = {NULL, NULL, NULL};
  for (int run = 0; run < 3; run++) { /* 0: byte kernel, 1: MSC, 2: MSC at 1.02 T */
    ising_config cfg;
    base_config(&cfg, dim, L, L, dim == 3 ? L : 1);
    snprintf(cfg.kernel, sizeof cfg.kernel, "%s", run ? msc_kind : "fast");
    cfg.sweeps = sweeps;
    cfg.thermalization = 5000;
    cfg.seed = 300 + (uint64_t)run;
    cfg.n_temps = n_T;
    cfg.exchange_interval = 5;
    for (int i = 0; i < n_T; i++)
      cfg.temps[i] = (run == 2 ? 1.02 : 1.0) * (T_lo + (T_hi - T_lo) * i / (n_T - 1));
    snprintf(cfg.file, sizeof cfg.file, "%s/kernels%d.h5", tmpdir, run);
    ising_run_options opt = {.force = 1, .quiet = 1};
    ising_run_result res;
    ck_assert_msg(ising_run(MPI_COMM_WORLD, &cfg, &opt, &res) == ISING_OK, "%s", ising_err_message());
    sum[run] = res.summaries;
  }
  double worst[2] = {0, 0};
  for (int run = 1; run < 3; run++)
    for (int i = 0; i < n_T; i++) {
      const ising_summary *a = &sum[0][i], *b = &sum[run][i];
      const double x[3][4] = {{a->e, a->e_err, b->e, b->e_err},
                              {a->m_abs, a->m_abs_err, b->m_abs, b->m_abs_err},
                              {a->U4, a->U4_err, b->U4, b->U4_err}};
      static const char *name[3] = {"e", "|m|", "U4"};
      for (int k = 0; k < 3; k++) {
        double z = (x[k][2] - x[k][0]) / sqrt(x[k][1] * x[k][1] + x[k][3] * x[k][3]);
        if (world_rank == 0)
          printf("  %dD L=%lld T=%.4f %-4s byte %.6f +- %.6f  msc%s %.6f +- %.6f  z %+.2f\n", dim,
                 (long long)L, T_lo + (T_hi - T_lo) * i / (n_T - 1), name[k], x[k][0], x[k][1],
                 run == 2 ? "(1.02 T)" : "", x[k][2], x[k][3], z);
        if (fabs(z) > worst[run - 1]) worst[run - 1] = fabs(z);
      }
    }
  ck_assert_msg(worst[0] <= Z_MAX, "%dD L=%lld: MSC and byte kernels disagree (max |z| %.2f)", dim,
                (long long)L, worst[0]);
  ck_assert_msg(worst[1] > Z_MAX, "%dD L=%lld: a 2%% wrong MSC ladder passed (max |z| %.2f): no power",
                dim, (long long)L, worst[1]);
  for (int run = 0; run < 3; run++) free(sum[run]);
}

START_TEST(msc_vs_byte_kernel) {
  if (!msc || quick) return;
  /* ordered and disordered sides; near T_c (L = 64: xi ~ L) the binning
   * errors of |m| and U4 at these run lengths are not reliable enough */
  kernels_case(2, 64, 2.0, 2.15, 3, 30000);
  kernels_case(2, 64, 2.4, 2.8, 3, 30000);
  kernels_case(3, 12, 4.0, 5.0, 4, 20000);
}
END_TEST

START_TEST(tempering_ladders) {
  ladder_case(4, 8, 1.5, 4.0, 0, 200000, 21);
  if (!quick) ladder_case(32, 8, 2.0, 2.6, 1, 100000, 22);
}
END_TEST

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  for (int i = 1; i < argc; i++) {
    quick |= strcmp(argv[i], "quick") == 0;
    ars |= strcmp(argv[i], "ars") == 0;
    if (strcmp(argv[i], "msc") == 0 || strcmp(argv[i], "msc-async") == 0) {
      msc = 1;
      msc_kind = argv[i];
    }
  }
  if (ars && !ising_rng_ars_available()) {
    if (world_rank == 0) printf("phys_exact ars: skipped (this CPU has no AES-NI)\n");
    MPI_Finalize();
    return 0;
  }
  Suite *s = suite_create("physics");
  TCase *tc = tcase_create("exact");
  tcase_set_timeout(tc, 1200);
  tcase_add_test(tc, enumeration_2d);
  tcase_add_test(tc, enumeration_3d);
  tcase_add_test(tc, kaufman_16_32);
  tcase_add_test(tc, tempering_ladders);
  tcase_add_test(tc, free_energy_ti);
  tcase_add_test(tc, xi_crossing);
  tcase_add_test(tc, msc_vs_byte_kernel);
  suite_add_tcase(s, tc);
  int rc = ising_test_mpi_suite("phys", tmpdir, sizeof tmpdir, s);
  MPI_Finalize();
  return rc;
}
