/*
 * phys_disorder.c -- quenched disorder ([disorder]) against exact
 * enumeration, sample by sample: for several samples of a 2D 4x4 torus
 * and a 3D 4x2x2 lattice (bimodal; gaussian with dilution and gaussian
 * random fields; diluted bimodal with bimodal fields), each with two copies
 * on a tempering ladder, every sample's Monte Carlo e, m^2, <q^2>, <q^4>,
 * <|q|> and <q_l> (/samples in the output, binning errors) against the
 * exact values of that sample's couplings (ising_exact_disorder:
 * enumeration of the 2^16 states and of the difference patterns of two
 * independent replicas).  Pass: |X - exact| <= Z_MAX s for every sample,
 * temperature and observable.  Power: the same numbers compared with the
 * exact values at a 15% hotter ladder, and with the exact values of
 * another sample's couplings, must FAIL (max |z| > Z_MAX): the test can
 * tell a wrong temperature and a wrong sample's couplings apart.
 * Also the multi-replica kernel (msc-async, 64 lanes of 8 samples), and the
 * gaussian-coupling identity with its power against a short run.
 * Registered for 1 rank (all cases) and 2 ranks (quick: fewer sweeps).
 */
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ising/config.h"
#include "ising/disorder.h"
#include "ising/error.h"
#include "ising/exact.h"
#include "ising/run.h"
#include "testutil.h"

#define Z_MAX 4.5
#define NOBS 6

static char tmpdir[512];
static int world_rank, world_size, quick;

/* /<group>/<name> of the output */
static void read_set(const char *file, const char *group, const char *name, double *v) {
  hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
  ck_assert_msg(f >= 0, "cannot open %s", file);
  char path[64];
  snprintf(path, sizeof path, "/%s/%s", group, name);
  hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
  ck_assert_msg(d >= 0, "%s: no %s", file, path);
  ck_assert(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
  H5Dclose(d);
  H5Fclose(f);
}
/* /samples/<name> (S x n_T) */
static void read_samples(const char *file, const char *name, double *v) {
  read_set(file, "samples", name, v);
}

static const char *const obs_names[NOBS] = {"e", "m2", "q2", "q4", "q_abs", "ql"};

static double exact_value(const ising_exact_disorder_obs *x, int k) {
  switch (k) {
    case 0: return x->e;
    case 1: return x->m2;
    case 2: return x->q2;
    case 3: return x->q4;
    case 4: return x->q_abs;
    default: return x->ql;
  }
}

/* Run `deck` (its output in tmpdir) and compare every sample with
 * enumeration; returns max |z| of the honest comparison and checks the
 * two power comparisons. */
static void disorder_case(const char *label, const char *deck) {
  char file[700], set[760];
  snprintf(file, sizeof file, "%s/%s.h5", tmpdir, label);
  snprintf(set, sizeof set, "output.file=%s", file);
  char *sets[2] = {set, quick ? "montecarlo.sweeps=20000" : "montecarlo.sweeps=80000"};
  ising_config cfg;
  int rc = ising_config_parse_string(deck, label, 2, sets, &cfg);
  ck_assert_msg(rc == ISING_OK, "%s: %s", label, ising_err_message());
  ising_run_options opt = {.force = 1, .quiet = 1};
  ising_run_result res;
  rc = ising_run(MPI_COMM_WORLD, &cfg, &opt, &res);
  ck_assert_msg(rc == ISING_OK, "%s: run failed: %s", label, ising_err_message());
  free(res.summaries);
  const int S = cfg.samples, nT = cfg.n_temps;
  double *mc = malloc(sizeof(double) * 2 * NOBS * S * nT);
  for (int k = 0; k < NOBS; k++) {
    char en[32];
    read_samples(file, obs_names[k], mc + (2 * k) * S * nT);
    snprintf(en, sizeof en, "%s_err", obs_names[k]);
    read_samples(file, en, mc + (2 * k + 1) * S * nT);
  }
  ising_disorder *d;
  ck_assert_int_eq(ising_disorder_create(&cfg, &d), ISING_OK);
  const ising_couplings *cpl = ising_disorder_couplings(d);
  double zmax[3] = {0, 0, 0}; /* honest, wrong T, wrong sample */
  for (int pass = 0; pass < 3; pass++) {
    ising_test_cmp *c = malloc(sizeof *c * (size_t)(NOBS * S * nT));
    int n = 0;
    for (int s = 0; s < S; s++)
      for (int t = 0; t < nT; t++) {
        ising_exact_disorder_obs x;
        const int se = pass == 2 ? (s + 1) % S : s;
        const double T = pass == 1 ? 1.15 * cfg.temps[t] : cfg.temps[t];
        ck_assert_int_eq(ising_exact_disorder(cfg.dim, cfg.L, &cpl[se], T, &x), ISING_OK);
        for (int k = 0; k < NOBS; k++)
          c[n++] = (ising_test_cmp){obs_names[k], mc[(2 * k) * S * nT + s * nT + t],
                                    mc[(2 * k + 1) * S * nT + s * nT + t], exact_value(&x, k)};
      }
    char lab[128];
    snprintf(lab, sizeof lab, "%s%s", label, pass == 0 ? "" : pass == 1 ? " (exact at 1.15 T)" : " (exact of another sample)");
    zmax[pass] = ising_test_max_z(lab, c, n, world_rank == 0 && pass == 0);
    free(c);
  }
  if (world_rank == 0)
    printf("%s: max |z| %.2f; power: wrong T %.1f, wrong sample %.1f\n", label, zmax[0], zmax[1], zmax[2]);
  ck_assert_msg(zmax[0] <= Z_MAX, "%s: Monte Carlo disagrees with enumeration (max |z| %.2f)", label, zmax[0]);
  ck_assert_msg(zmax[1] > Z_MAX, "%s: no power against a 15%% hotter ladder (max |z| %.2f)", label, zmax[1]);
  ck_assert_msg(zmax[2] > Z_MAX, "%s: no power against another sample's couplings (max |z| %.2f)", label, zmax[2]);
  ising_disorder_destroy(&d);
  ising_config_free(&cfg);
  free(mc);
}

START_TEST(bimodal_2d) {
  disorder_case("ea2d",
                "[lattice]\ndim = 2\nL = 4\n[model]\nT = 1.0 1.6 2.4\n[montecarlo]\n"
                "kernel = fast\nthermalization = 2000\ncopies = 2\nseed = 11\n[tempering]\n"
                "interval = 1\n[disorder]\ncouplings = bimodal\nsamples = 4\nseed = 5\n"
                "[output]\nprogress = 0\n");
}
END_TEST

/* The multi-replica kernel: 8 samples x 4 temperatures x 2 copies fill
 * its 64 lanes (each lane its own bond signs). */
START_TEST(bimodal_2d_async) {
  if (world_size > 1) return; /* one set of 64 lanes: one rank works */
  disorder_case("ea2d_async",
                "[lattice]\ndim = 2\nL = 4\n[model]\nT = 1.0 1.4 2.0 2.8\n[montecarlo]\n"
                "kernel = msc-async\nthermalization = 2000\ncopies = 2\nseed = 14\n[tempering]\n"
                "interval = 1\n[disorder]\ncouplings = bimodal\nsamples = 8\nseed = 8\n"
                "[output]\nprogress = 0\n");
}
END_TEST

/* The gaussian-coupling identity [e] = -dim beta J^2 (1 - [<q_l>]): within
 * its jackknife error over 64 samples of a 3D 4^3 lattice after
 * equilibration, and violated far beyond it by a hot start measured at
 * once (32 sweeps, no thermalization): the check detects a run that is not
 * equilibrated. */
static double identity_z(const char *label, const char *therm, const char *sweeps) {
  char file[700], set[760];
  snprintf(file, sizeof file, "%s/%s.h5", tmpdir, label);
  snprintf(set, sizeof set, "output.file=%s", file);
  char *sets[3] = {set, (char *)therm, (char *)sweeps};
  ising_config cfg;
  int rc = ising_config_parse_string(
      "[lattice]\ndim = 3\nL = 4\n[model]\nT = 0.8 1.2 1.8\n[montecarlo]\nkernel = fast\n"
      "copies = 2\nseed = 21\n[tempering]\ninterval = 1\n[measurement]\ninterval = 1\n"
      "[disorder]\ncouplings = gaussian\nsamples = 64\nseed = 4\n[output]\nprogress = 0\n",
      label, 3, sets, &cfg);
  ck_assert_msg(rc == ISING_OK, "%s: %s", label, ising_err_message());
  ising_run_options opt = {.force = 1, .quiet = 1};
  ising_run_result res;
  rc = ising_run(MPI_COMM_WORLD, &cfg, &opt, &res);
  ck_assert_msg(rc == ISING_OK, "%s: run failed: %s", label, ising_err_message());
  free(res.summaries);
  double d[3], e[3], zmax = 0;
  read_set(file, "summary", "e_identity_diff", d);
  read_set(file, "summary", "e_identity_diff_err", e);
  for (int t = 0; t < cfg.n_temps; t++) {
    double z = fabs(d[t]) / e[t];
    if (world_rank == 0)
      printf("%s: T = %g: [e] - identity = %+.4f +- %.4f (%.1f sigma)\n", label, cfg.temps[t], d[t], e[t], z);
    if (!(z <= zmax)) zmax = z; /* NaN counts as a failure */
  }
  ising_config_free(&cfg);
  return zmax;
}

START_TEST(gaussian_identity) {
  double z = identity_z("identity", "montecarlo.thermalization=3000",
                        quick ? "montecarlo.sweeps=1000" : "montecarlo.sweeps=3000");
  ck_assert_msg(z <= Z_MAX, "gaussian identity violated after equilibration (max %.1f sigma)", z);
  double zs = identity_z("identity_short", "montecarlo.thermalization=0", "montecarlo.sweeps=32");
  ck_assert_msg(zs > Z_MAX, "a run that is not equilibrated passes the identity (max %.1f sigma)", zs);
}
END_TEST

START_TEST(gaussian_fields_3d) {
  disorder_case("gauss3d",
                "[lattice]\ndim = 3\nL = 4 2 2\n[model]\nT = 1.4 2.2\n[montecarlo]\n"
                "algorithm = heatbath\nkernel = reference\nthermalization = 2000\ncopies = 2\n"
                "seed = 12\n[tempering]\ninterval = 1\n[disorder]\ncouplings = gaussian\n"
                "bond_dilution = 0.2\nfields = gaussian\nfield_strength = 0.7\nsamples = 3\n"
                "seed = 6\n[output]\nprogress = 0\n");
}
END_TEST

START_TEST(diluted_fields_2d) {
  disorder_case("rf2d",
                "[lattice]\ndim = 2\nL = 4\n[model]\nJ = 1.0\nH = 0.1\nT = 1.2 2.0\n"
                "[montecarlo]\nkernel = fast\nthermalization = 2000\ncopies = 2\nseed = 13\n"
                "[tempering]\ninterval = 1\n[disorder]\ncouplings = bimodal\nbond_dilution = 0.25\n"
                "fields = bimodal\nfield_strength = 0.5\nsamples = 3\nseed = 7\n[output]\n"
                "progress = 0\n");
}
END_TEST

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  for (int i = 1; i < argc; i++) quick |= strcmp(argv[i], "quick") == 0;
  Suite *s = suite_create("disorder physics");
  TCase *tc = tcase_create("exact");
  tcase_set_timeout(tc, 1200);
  tcase_add_test(tc, bimodal_2d);
  tcase_add_test(tc, gaussian_fields_3d);
  tcase_add_test(tc, bimodal_2d_async);
  tcase_add_test(tc, gaussian_identity);
  tcase_add_test(tc, diluted_fields_2d);
  suite_add_tcase(s, tc);
  int rc = ising_test_mpi_suite("phys_disorder", tmpdir, sizeof tmpdir, s);
  MPI_Finalize();
  return rc;
}
