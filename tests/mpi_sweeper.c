/*
 * mpi_sweeper.c -- a new update backend is one file and a registry line:
 * this file defines two toy backends (sweeper.h), registers them at run
 * time, and runs the unchanged engine with them, tempering, checkpoints,
 * resume and several layouts included.
 *
 * toy-hot sets every spin to an independent random sign each sweep (the
 * exact sampler of infinite temperature, whatever T the ladder gives), so
 * the engine's averages must match N independent spins: <e> = 0,
 * <m^2> = 1/N.  toy-biased draws +1 with probability 0.6 (the power check:
 * the same comparison must fail).  The random sign of a site is keyed by
 * (seed, replica, sweep, global site), so the trajectory does not depend on
 * the layout.  Both keep a sweep counter as checkpoint state (state_len 1):
 * a sweep out of turn is an error, so a resume that lost the backend's
 * state fails.  Run on 1 and 2 ranks.
 */
#include <check.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/observe.h"
#include "ising/run.h"
#include "ising/sweeper.h"
#include "testutil.h"

static char tmpdir[512];
static int world_rank, world_size;

/* ------------------------------------------------------------ the toy */

typedef struct toy {
  int n, p_up16; /* P(+1) in units of 2^-16 */
  int *ids;
  ising_lattice **lats;
  ising_rng_key key;
  int64_t count; /* sweeps done: checkpoint state */
} toy;

static void toy_destroy(void *p) {
  toy *s = p;
  free(s->ids);
  free(s->lats);
  free(s);
}

static int toy_create_p(const ising_sweeper_init *in, int p_up16, void **out) {
  toy *s = calloc(1, sizeof *s);
  ISING_CHECK(s, ISING_ERR_MEM, "out of memory");
  s->n = in->n_local;
  s->p_up16 = p_up16;
  s->key = in->key;
  s->ids = malloc((size_t)(s->n + 1) * sizeof *s->ids);
  s->lats = malloc((size_t)(s->n + 1) * sizeof *s->lats);
  if (!s->ids || !s->lats) {
    toy_destroy(s);
    return ISING_ERR(ISING_ERR_MEM, "out of memory");
  }
  memcpy(s->ids, in->ids, (size_t)s->n * sizeof *s->ids);
  memcpy(s->lats, in->lats, (size_t)s->n * sizeof *s->lats);
  *out = s;
  return ISING_OK;
}
static int toy_create(const ising_sweeper_init *in, void **out) { return toy_create_p(in, 32768, out); }
static int biased_create(const ising_sweeper_init *in, void **out) {
  return toy_create_p(in, 39322, out); /* 0.6 */
}

static int toy_set_temperatures(void *p, const ising_model *models, const int *temp_of) {
  (void)p;
  (void)models;
  (void)temp_of; /* infinite temperature */
  return ISING_OK;
}

static int toy_sweep(void *p, uint64_t t) {
  toy *s = p;
  ISING_CHECK((int64_t)t == s->count, ISING_ERR_INTERNAL, "toy: sweep %llu after %lld sweeps",
              (unsigned long long)t, (long long)s->count);
  for (int k = 0; k < s->n; k++) {
    ising_lattice *l = s->lats[k];
    int64_t n[3];
    ising_lattice_extent(l, n, NULL);
    for (int64_t z = 0; z < n[2]; z++)
      for (int64_t y = 0; y < n[1]; y++)
        for (int64_t x = 0; x < n[0]; x++) {
          uint32_t r[4];
          ising_rng_block(s->key, (uint64_t)ising_lattice_global_index(l, x, y, z), (uint32_t)t + 1,
                          ising_rng_c3((uint32_t)s->ids[k], ISING_RNG_INIT, 1), r);
          ising_lattice_set(l, x, y, z, (int)(r[0] >> 16) < s->p_up16 ? 1 : -1);
        }
    ISING_CALL(ising_lattice_halo(l, 0));
    ISING_CALL(ising_lattice_halo(l, 1));
  }
  s->count++;
  return ISING_OK;
}

static int toy_sums(void *p, int64_t *bonds, int64_t *mag) {
  toy *s = p;
  for (int k = 0; k < s->n; k++) ising_observe_block(s->lats[k], &bonds[k], &mag[k]);
  return ISING_OK;
}

static int toy_nothing(void *p) {
  (void)p;
  return ISING_OK;
}
static int toy_check(const ising_config *cfg, char *why, size_t size) {
  (void)cfg;
  (void)why;
  (void)size;
  return 1;
}
static void toy_needs(const ising_config *cfg, ising_sweeper_needs *needs) {
  (void)cfg;
  needs->whole_x = needs->whole_replica = 0;
  needs->block = 1;
}
static const char *toy_path(void) { return "toy/hot"; }
static int toy_state_len(const ising_config *cfg) {
  (void)cfg;
  return 1;
}
static int toy_state_get(const void *p, int64_t *v) {
  v[0] = ((const toy *)p)->count;
  return ISING_OK;
}
static int toy_state_set(void *p, const int64_t *v) {
  ((toy *)p)->count = v[0];
  return ISING_OK;
}

#define TOY_OPS(sym, nm, create_fn)                                                        \
  static const ising_sweeper_ops sym = {                                                   \
      .name = nm, .deck = 1, .check = toy_check, .needs = toy_needs, .path = toy_path,     \
      .create = create_fn, .destroy = toy_destroy, .set_temperatures = toy_set_temperatures, \
      .sweep = toy_sweep, .sums = toy_sums, .sync = toy_nothing, .load = toy_nothing,      \
      .state_len = toy_state_len, .state_get = toy_state_get, .state_set = toy_state_set};
TOY_OPS(toy_hot_ops, "toy-hot", toy_create)
TOY_OPS(toy_biased_ops, "toy-biased", biased_create)

/* ------------------------------------------------------------ helpers */

static const char *deck(const char *kernel, int64_t sweeps, int rpr, const char *file, char *buf,
                        size_t size) {
  snprintf(buf, size,
           "[lattice]\nL = 8\n[model]\nJ = 1\n[tempering]\nladder = linear\nT_min = 1.5\n"
           "T_max = 3.0\ncount = 3\n[montecarlo]\nkernel = %s\ncopies = 2\nseed = 17\n"
           "thermalization = 100\nsweeps = %lld\n[measurement]\ninterval = 1\n"
           "[parallel]\nranks_per_replica = %d\n[output]\nfile = %s/%s\n",
           kernel, (long long)sweeps, rpr, tmpdir, file);
  return buf;
}

static void run_deck(const char *text, ising_run_result *res) {
  ising_config cfg;
  int rc = ising_config_parse_string(text, "toy.ini", 0, NULL, &cfg);
  ck_assert_msg(rc == ISING_OK, "deck: %s", ising_err_message());
  ising_run_options opt = {.force = 1, .quiet = 1};
  rc = ising_run(MPI_COMM_WORLD, &cfg, &opt, res);
  ck_assert_msg(rc == ISING_OK, "run: %s", ising_err_message());
  ising_config_free(&cfg);
}

/* Largest |z| of <e> against 0 and <m^2> against 1/N over the ladder. */
static double worst_z(const ising_run_result *res) {
  double worst = 0, N = 64;
  for (int t = 0; t < res->n_temps; t++) {
    const ising_summary *s = &res->summaries[t];
    double z1 = fabs(s->e) / s->e_err, z2 = fabs(s->m2 - 1.0 / N) / s->m2_err;
    if (!(s->e_err > 0) || !(s->m2_err > 0)) z1 = INFINITY;
    worst = fmax(worst, fmax(z1, z2));
  }
  return worst;
}

/* The raw bytes of /timeseries/<name> (rank 0), malloc'ed. */
static char *read_series(const char *file, const char *name, size_t *bytes) {
  char path[1024], ds[64];
  snprintf(path, sizeof path, "%s/%s", tmpdir, file);
  snprintf(ds, sizeof ds, "timeseries/%s", name);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  ck_assert_msg(f >= 0, "cannot open %s", path);
  hid_t d = H5Dopen2(f, ds, H5P_DEFAULT);
  ck_assert_msg(d >= 0, "no %s in %s", ds, path);
  hid_t sp = H5Dget_space(d), ty = H5Dget_type(d);
  size_t n = (size_t)H5Sget_simple_extent_npoints(sp) * H5Tget_size(ty);
  char *buf = malloc(n + 1);
  ck_assert_ptr_nonnull(buf);
  ck_assert_int_ge(H5Dread(d, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), 0);
  H5Tclose(ty);
  H5Sclose(sp);
  H5Dclose(d);
  H5Fclose(f);
  *bytes = n;
  return buf;
}

static void same_series(const char *a, const char *b) {
  if (world_rank != 0) return;
  const char *names[] = {"e", "m", "m2", "replica", "sweep"};
  for (int i = 0; i < 5; i++) {
    size_t na, nb;
    char *x = read_series(a, names[i], &na), *y = read_series(b, names[i], &nb);
    ck_assert_msg(na == nb && memcmp(x, y, na) == 0, "/timeseries/%s of %s and %s differ", names[i],
                  a, b);
    free(x);
    free(y);
  }
}

/* ------------------------------------------------------------ tests */

START_TEST(exact_infinite_temperature) {
  char text[1024];
  ising_run_result res;
  run_deck(deck("toy-hot", 4000, 0, "hot.h5", text, sizeof text), &res);
  double z = worst_z(&res);
  free(res.summaries);
  ck_assert_msg(z < 4.5, "toy-hot: |z| = %.2f against the exact infinite-T values", z);
  /* power: a biased sampler must be caught by the same comparison */
  run_deck(deck("toy-biased", 4000, 0, "biased.h5", text, sizeof text), &res);
  z = worst_z(&res);
  free(res.summaries);
  ck_assert_msg(z > 10, "toy-biased passed the exact comparison (|z| = %.2f)", z);
}
END_TEST

START_TEST(layouts_and_resume) {
  char text[1024];
  ising_run_result res;
  /* all ranks on one lattice, then one rank per replica group */
  run_deck(deck("toy-hot", 600, 0, "whole.h5", text, sizeof text), &res);
  free(res.summaries);
  run_deck(deck("toy-hot", 600, 1, "groups.h5", text, sizeof text), &res);
  free(res.summaries);
  same_series("whole.h5", "groups.h5");
  /* half the sweeps, then resumed on the other layout to the full length:
   * the backend's state travels through the checkpoint */
  run_deck(deck("toy-hot", 300, 1, "resumed.h5", text, sizeof text), &res);
  free(res.summaries);
  char path[1024], *set[] = {"parallel.ranks_per_replica=0"};
  snprintf(path, sizeof path, "%s/resumed.h5", tmpdir);
  ising_run_options opt = {.quiet = 1};
  int rc = ising_resume(MPI_COMM_WORLD, path, 1, set, 600, &opt, &res);
  ck_assert_msg(rc == ISING_OK, "resume: %s", ising_err_message());
  free(res.summaries);
  same_series("whole.h5", "resumed.h5");
}
END_TEST

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  if (world_rank == 0) ising_test_tmpdir("sweeper", tmpdir, sizeof tmpdir);
  MPI_Bcast(tmpdir, sizeof tmpdir, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (ising_sweeper_register(&toy_hot_ops) || ising_sweeper_register(&toy_biased_ops)) {
    fprintf(stderr, "registration failed: %s\n", ising_err_message());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  Suite *s = suite_create("sweeper");
  TCase *tc = tcase_create("toy backend");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, exact_infinite_temperature);
  tcase_add_test(tc, layouts_and_resume);
  suite_add_tcase(s, tc);
  int failed = ising_test_run_suite(s);
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any ? 1 : 0;
}
