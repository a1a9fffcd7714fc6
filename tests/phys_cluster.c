/*
 * phys_cluster.c -- the cluster algorithms (algorithm = swendsen-wang and
 * wolff: sweep_sw.c, sweep_wolff.c) against exact results, on any rank
 * count (registered for 1 rank, and the quick subset for 2 and 4).
 *
 * Exact values come from the exact module: enumeration of all 2^N states
 * (2D 4x4 and 3D 2x2x2, 4x2x2 with J = +1 and -1, at H = 0 and, for
 * Swendsen-Wang only (Wolff runs at H = 0), in a field) for e, |m|, m^2,
 * U4, chi, c and the clusters' estimate of chi' = beta N <m^2> (the
 * summary's chi_p_improved, exact in the mean at H = 0; NaN in a field),
 * checked at H = 0 against the exact chi'; Kaufman's finite-torus
 * partition function (2D 16x16 and 32x32 at T = 2, T_c, 3) for e and c;
 * and tempering ladders (exchanges between cluster sweeps) against both at
 * every temperature.  Each Monte Carlo estimate X with its binning /
 * jackknife error s passes when |X - exact| <= Z_MAX s (phys_exact.c: the
 * same rule and the same Z_MAX).  Power: each comparison is repeated at a
 * 3% hotter temperature (the whole ladder scaled by 1.03), which must FAIL
 * the same comparison against the exact values of the unscaled T.
 *
 * Cluster updates decorrelate in a few sweeps (tau_int of e <= ~4 sweeps
 * here, T_c at L = 32 included), so 10^4 to 10^5 sweeps give error bars of
 * e of ~1e-3: the full set runs in about 20 s on one rank.
 *
 * Layouts: Swendsen-Wang runs every lattice split over all ranks (one
 * replica group: the cross-rank cluster merge is exercised on 2 and 4
 * ranks), except the ladder of the quick subset, whose replicas go to
 * groups of one rank (exchanges between groups).  Wolff keeps each lattice
 * whole on one rank: on P > 1 ranks it runs with ranks_per_replica = 1, and
 * a single temperature as P copies of 1/P of the sweeps each (pooled in
 * the summary).  Wolff runs with the automatic clusters_per_sweep (0)
 * except where a case names a number.
 */
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/exact.h"
#include "ising/run.h"
#include "testutil.h"

#define Z_MAX 4.5

static char tmpdir[512];
static int world_rank, world_size;
/* "quick" (argv[1]): a subset with a quarter of the sweeps, for 2 and 4
 * (oversubscribed) ranks and the sanitizer build. */
static int quick;

typedef ising_test_cmp cmp;

static const char *alg_tag(ising_algorithm a) { return a == ISING_ALG_WOLFF ? "wolff" : "sw"; }

/* Runs cfg (its file named here); Wolff on several ranks gets the layout
 * it needs (header). */
static void run_cfg(const ising_config *cfg, const char *file, ising_run_result *res) {
  ising_config run = *cfg;
  snprintf(run.file, sizeof run.file, "%s/%s", tmpdir, file);
  if (run.algorithm == ISING_ALG_WOLFF && world_size > 1) {
    run.ranks_per_replica = 1;
    if (run.n_temps * run.copies < world_size) {
      ck_assert_int_eq(world_size % run.n_temps, 0);
      run.copies = world_size / run.n_temps;
      run.sweeps /= run.copies;
    }
  }
  ising_run_options opt = {.force = 1, .quiet = 1};
  int rc = ising_run(MPI_COMM_WORLD, &run, &opt, res);
  ck_assert_msg(rc == ISING_OK, "run failed: %s", ising_err_message());
}

static void run_mc(const ising_config *cfg, ising_summary *s) {
  static int counter;
  char file[64];
  snprintf(file, sizeof file, "run%d.h5", counter++);
  ising_run_result res;
  run_cfg(cfg, file, &res);
  *s = res.summary;
  free(res.summaries);
}

/* max |z| over the comparisons; prints the table on rank 0 */
static double max_z(const char *label, const cmp *c, int n) {
  return ising_test_max_z(label, c, n, world_rank == 0);
}

static void base_config(ising_config *cfg, ising_algorithm alg, int dim, int64_t Lx, int64_t Ly,
                        int64_t Lz) {
  ising_config_defaults(cfg);
  cfg->dim = dim;
  cfg->L[0] = Lx;
  cfg->L[1] = Ly;
  cfg->L[2] = dim == 3 ? Lz : 1;
  cfg->algorithm = alg;
  cfg->thermalization = 500;
  cfg->interval = 1;
  cfg->clusters_per_sweep = 0;
}

/* Enumeration case: e, |m|, m^2, U4, chi, c and the clusters' chi'
 * (at H = 0; NaN in a field); with a power run at 1.03 T. */
static void enum_case(ising_algorithm alg, int dim, int64_t Lx, int64_t Ly, int64_t Lz, double J,
                      double H, double T, int64_t clusters, int64_t sweeps, uint64_t seed) {
  ising_config cfg;
  base_config(&cfg, alg, dim, Lx, Ly, Lz);
  cfg.J = J;
  cfg.H = H;
  cfg.sweeps = quick ? sweeps / 4 : sweeps;
  cfg.seed = seed;
  cfg.clusters_per_sweep = clusters;
  ising_exact_obs ex;
  ck_assert_int_eq(ising_exact_enumerate(dim, cfg.L, J, H, T, &ex), ISING_OK);
  char label[128];
  for (int wrong = 0; wrong < 2; wrong++) {
    cfg.temps[0] = wrong ? 1.03 * T : T;
    ising_summary s;
    run_mc(&cfg, &s);
    cmp c[] = {{"e", s.e, s.e_err, ex.e},       {"|m|", s.m_abs, s.m_abs_err, ex.m_abs},
               {"m2", s.m2, s.m2_err, ex.m2},    {"U4", s.U4, s.U4_err, ex.U4},
               {"chi", s.chi, s.chi_err, ex.chi}, {"c", s.c, s.c_err, ex.c},
               {"chi'cl", s.chi_p_improved, s.chi_p_improved_err, ex.chi_p}};
    char tag[32];
    snprintf(tag, sizeof tag, clusters ? "%s(%lld/sweep)" : "%s", alg_tag(alg), (long long)clusters);
    snprintf(label, sizeof label, "%dD %lldx%lldx%lld %s J=%g H=%g T=%.3f%s", dim, (long long)Lx,
             (long long)Ly, (long long)(dim == 3 ? Lz : 1), tag, J, H, cfg.temps[0],
             wrong ? "(wrong)" : "");
    const int n = H == 0 ? 7 : 6;
    if (H != 0)
      ck_assert_msg(isnan(s.chi_p_improved), "%s: the clusters' chi' is given in a field", label);
    else
      ck_assert_msg(s.cluster_mean_size >= 1 && s.cluster_largest > 0 && s.cluster_largest <= 1,
                    "%s: cluster statistics out of range (mean size %g, largest share %g)", label,
                    s.cluster_mean_size, s.cluster_largest);
    double z = max_z(label, c, n);
    if (!wrong)
      ck_assert_msg(z <= Z_MAX, "%s: Monte Carlo disagrees with enumeration (max |z| %.2f)", label, z);
    else
      ck_assert_msg(z > Z_MAX, "%s: a 3%% wrong temperature passed (max |z| %.2f): no power", label, z);
  }
}

static const ising_algorithm algs[2] = {ISING_ALG_SWENDSEN_WANG, ISING_ALG_WOLFF};

START_TEST(enumeration_2d) {
  for (int a = 0; a < 2; a++) {
    const ising_algorithm alg = algs[a];
    const uint64_t s0 = 100 * (uint64_t)(a + 1);
    if (quick) {
      if (alg == ISING_ALG_SWENDSEN_WANG) enum_case(alg, 2, 4, 4, 1, 1.0, 0.3, 2.5, 0, 100000, s0 + 4);
      else enum_case(alg, 2, 4, 4, 1, -1.0, 0.0, 2.0, 0, 100000, s0 + 5);
      continue;
    }
    enum_case(alg, 2, 4, 4, 1, 1.0, 0.0, 2.0, 0, 100000, s0 + 1);
    enum_case(alg, 2, 4, 4, 1, 1.0, 0.0, 2.5, 0, 100000, s0 + 2);
    enum_case(alg, 2, 4, 4, 1, 1.0, 0.0, 3.0, 0, 100000, s0 + 3);
    if (alg == ISING_ALG_SWENDSEN_WANG) {
      enum_case(alg, 2, 4, 4, 1, 1.0, 0.3, 2.5, 0, 100000, s0 + 4);
      enum_case(alg, 2, 4, 4, 1, -1.0, 0.5, 2.0, 0, 100000, s0 + 6);
    } else {
      enum_case(alg, 2, 4, 4, 1, 1.0, 0.0, 2.5, 3, 100000, s0 + 4); /* 3 clusters per sweep */
    }
    enum_case(alg, 2, 4, 4, 1, -1.0, 0.0, 2.0, 0, 100000, s0 + 5);
  }
}
END_TEST

START_TEST(enumeration_3d) {
  for (int a = 0; a < 2; a++) {
    const ising_algorithm alg = algs[a];
    const uint64_t s0 = 100 * (uint64_t)(a + 1);
    if (quick) { /* swendsen-wang: 3D halos and merges of 4 tiny blocks per sweep */
      enum_case(alg, 3, 4, 2, 2, 1.0, 0.0, 4.5, 0, alg == ISING_ALG_WOLFF ? 100000 : 50000, s0 + 12);
      continue;
    }
    enum_case(alg, 3, 2, 2, 2, 1.0, 0.0, 4.5, 0, 100000, s0 + 10);
    enum_case(alg, 3, 2, 2, 2, -1.0, 0.0, 5.0, 0, 100000, s0 + 11);
    enum_case(alg, 3, 4, 2, 2, 1.0, 0.0, 4.5, 0, 100000, s0 + 12);
    if (alg == ISING_ALG_SWENDSEN_WANG) enum_case(alg, 3, 4, 2, 2, 1.0, 0.2, 5.0, 0, 100000, s0 + 13);
  }
}
END_TEST

/* Kaufman case: e and c of the L x L torus at H = 0. */
static void kaufman_case(ising_algorithm alg, int64_t L, double T, int64_t sweeps, uint64_t seed) {
  ising_config cfg;
  base_config(&cfg, alg, 2, L, L, 1);
  cfg.sweeps = quick ? sweeps / 4 : sweeps;
  cfg.seed = seed;
  ising_exact_obs ex;
  ck_assert_int_eq(ising_exact_kaufman(L, L, 1.0, T, &ex), ISING_OK);
  char label[128];
  for (int wrong = 0; wrong < 2; wrong++) {
    cfg.temps[0] = wrong ? 1.03 * T : T;
    ising_summary s;
    run_mc(&cfg, &s);
    cmp c[] = {{"e", s.e, s.e_err, ex.e}, {"c", s.c, s.c_err, ex.c}};
    snprintf(label, sizeof label, "2D %lldx%lld %s Kaufman T=%.4f%s", (long long)L, (long long)L,
             alg_tag(alg), cfg.temps[0], wrong ? "(wrong)" : "");
    double z = max_z(label, c, 2);
    if (!wrong)
      ck_assert_msg(z <= Z_MAX, "%s: Monte Carlo disagrees with Kaufman (max |z| %.2f)", label, z);
    else
      ck_assert_msg(z > Z_MAX, "%s: a 3%% wrong temperature passed (max |z| %.2f): no power", label, z);
  }
}

START_TEST(kaufman_16_32) {
  const double tc = ising_exact_onsager_tc(1.0);
  for (int a = 0; a < 2; a++) {
    const ising_algorithm alg = algs[a];
    const uint64_t s0 = 100 * (uint64_t)(a + 1);
    if (quick) {
      kaufman_case(alg, 16, tc, 20000, s0 + 21);
      continue;
    }
    kaufman_case(alg, 16, 2.0, 20000, s0 + 20);
    kaufman_case(alg, 16, tc, 20000, s0 + 21);
    kaufman_case(alg, 16, 3.0, 20000, s0 + 22);
    kaufman_case(alg, 32, 2.0, 10000, s0 + 23);
    kaufman_case(alg, 32, tc, 10000, s0 + 24);
    kaufman_case(alg, 32, 3.0, 10000, s0 + 25);
  }
}
END_TEST

/* The sum of /tempering/<name> of an output (rank 0; 0 elsewhere). */
static double tempering_sum(const char *file, const char *name) {
  if (world_rank != 0) return 0;
  char path[1024], ds[64];
  snprintf(path, sizeof path, "%s/%s", tmpdir, file);
  snprintf(ds, sizeof ds, "tempering/%s", name);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  ck_assert_msg(f >= 0, "cannot open %s", path);
  hid_t d = H5Dopen2(f, ds, H5P_DEFAULT);
  ck_assert_msg(d >= 0, "no %s in %s", ds, path);
  hid_t sp = H5Dget_space(d);
  const hssize_t n = H5Sget_simple_extent_npoints(sp);
  double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
  ck_assert_ptr_nonnull(v);
  ck_assert_int_ge(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), 0);
  double sum = 0;
  for (hssize_t i = 0; i < n; i++) sum += v[i];
  free(v);
  H5Sclose(sp);
  H5Dclose(d);
  H5Fclose(f);
  return sum;
}

/* A tempering ladder (n_T temperatures from T_lo to T_hi, an exchange
 * attempt after every second sweep) against exact values at every
 * temperature: enumeration of the 4x4 torus (e, |m|, m^2, U4, the
 * clusters' chi') or Kaufman (e, c).  Exchanges must be accepted and
 * replicas must make round trips (the ladder mixes).  The power run
 * scales the whole ladder by 1.03 and is compared with the exact values of
 * the unscaled ladder. */
static void ladder_case(ising_algorithm alg, int64_t L, int n_T, double T_lo, double T_hi,
                        int use_kaufman, int64_t sweeps, uint64_t seed) {
  ising_config cfg;
  base_config(&cfg, alg, 2, L, L, 1);
  cfg.sweeps = quick ? sweeps / 4 : sweeps;
  cfg.seed = seed;
  cfg.n_temps = n_T;
  cfg.exchange_interval = 2;
  /* the quick subset on several ranks: the replicas in groups of one rank
   * (exchanges between groups; the split lattices are the other cases') */
  if (quick && world_size > 1) cfg.ranks_per_replica = 1;
  double T[ISING_MAX_TEMPS];
  for (int i = 0; i < n_T; i++) T[i] = T_lo + (T_hi - T_lo) * i / (n_T - 1);
  for (int wrong = 0; wrong < 2; wrong++) {
    for (int i = 0; i < n_T; i++) cfg.temps[i] = wrong ? 1.03 * T[i] : T[i];
    char file[64];
    snprintf(file, sizeof file, "ladder-%s-%lld-%d.h5", alg_tag(alg), (long long)L, wrong);
    ising_run_result res;
    run_cfg(&cfg, file, &res);
    double worst = 0;
    for (int i = 0; i < n_T; i++) {
      ising_exact_obs ex;
      const ising_summary *s = &res.summaries[i];
      char label[128];
      snprintf(label, sizeof label, "ladder %lldx%lld %s T=%.4f%s", (long long)L, (long long)L,
               alg_tag(alg), cfg.temps[i], wrong ? "(wrong)" : "");
      double z;
      if (use_kaufman) {
        ck_assert_int_eq(ising_exact_kaufman(L, L, 1.0, T[i], &ex), ISING_OK);
        cmp c[] = {{"e", s->e, s->e_err, ex.e}, {"c", s->c, s->c_err, ex.c}};
        z = max_z(label, c, 2);
      } else {
        ck_assert_int_eq(ising_exact_enumerate(2, cfg.L, 1.0, 0.0, T[i], &ex), ISING_OK);
        cmp c[] = {{"e", s->e, s->e_err, ex.e},
                   {"|m|", s->m_abs, s->m_abs_err, ex.m_abs},
                   {"m2", s->m2, s->m2_err, ex.m2},
                   {"U4", s->U4, s->U4_err, ex.U4},
                   {"chi'cl", s->chi_p_improved, s->chi_p_improved_err, ex.chi_p}};
        z = max_z(label, c, 5);
      }
      if (!wrong)
        ck_assert_msg(z <= Z_MAX, "%s: tempering disagrees with the exact value (max |z| %.2f)", label, z);
      if (z > worst) worst = z;
    }
    if (wrong) ck_assert_msg(worst > Z_MAX, "a 3%% wrong ladder passed (max |z| %.2f): no power", worst);
    free(res.summaries);
    if (world_rank == 0) {
      const double acc = tempering_sum(file, "accepted"), trips = tempering_sum(file, "round_trips");
      printf("  ladder %lldx%lld %s: %.0f exchanges accepted, %.0f round trips\n", (long long)L,
             (long long)L, alg_tag(alg), acc, trips);
      ck_assert_msg(acc > 0 && trips > 0, "ladder %s: no exchanges accepted or no round trips",
                    alg_tag(alg));
    }
  }
}

START_TEST(tempering_ladders) {
  for (int a = 0; a < 2; a++) {
    const ising_algorithm alg = algs[a];
    const uint64_t s0 = 100 * (uint64_t)(a + 1);
    ladder_case(alg, 4, 8, 1.5, 4.0, 0, 40000, s0 + 30);
    if (!quick) ladder_case(alg, 16, 8, 2.0, 2.6, 1, 10000, s0 + 31);
  }
}
END_TEST

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  for (int i = 1; i < argc; i++) quick |= strcmp(argv[i], "quick") == 0;
  Suite *s = suite_create("cluster physics");
  TCase *tc = tcase_create("exact");
  tcase_set_timeout(tc, 1200);
  tcase_add_test(tc, enumeration_2d);
  tcase_add_test(tc, enumeration_3d);
  tcase_add_test(tc, kaufman_16_32);
  tcase_add_test(tc, tempering_ladders);
  suite_add_tcase(s, tc);
  int rc = ising_test_mpi_suite("phys_cluster", tmpdir, sizeof tmpdir, s);
  MPI_Finalize();
  return rc;
}
