/*
 * test_update.c -- the fast kernel against the reference kernel (the oracle):
 * identical spins after every half sweep, for Metropolis and heat bath, 2D
 * and 3D, J of both signs, H = 0 and H != 0, even and odd block extents
 * (a single rank here; tests/identity.sh covers decompositions).  Also the
 * sums the kernels return and the fast observable sums against the
 * natural-order definition of the bond sum and magnetisation, and the hot
 * start against the INIT stream.
 */
#include <check.h>
#include <mpi.h>
#include <stdlib.h>

#include "ising/error.h"
#include "ising/layout.h"
#include "ising/lattice.h"
#include "ising/model.h"
#include "ising/observe.h"
#include "ising/update.h"
#include "testutil.h"

typedef struct {
  ising_layout *lay;
  ising_lattice *ref, *fast;
} pair;

static void make(pair *p, int dim, int64_t Lx, int64_t Ly, int64_t Lz, uint64_t seed) {
  ising_config cfg;
  ising_config_defaults(&cfg);
  cfg.dim = dim;
  cfg.L[0] = Lx;
  cfg.L[1] = Ly;
  cfg.L[2] = Lz;
  ck_assert_int_eq(ising_layout_create(MPI_COMM_WORLD, &cfg, 1, &p->lay), ISING_OK);
  ck_assert_int_eq(ising_lattice_create(p->lay, &p->ref), ISING_OK);
  ck_assert_int_eq(ising_lattice_create(p->lay, &p->fast), ISING_OK);
  ising_rng_key key = ising_rng_key_from_seed(seed);
  ck_assert_int_eq(ising_lattice_fill_hot(p->ref, key, 3), ISING_OK);
  ck_assert_int_eq(ising_lattice_fill_hot(p->fast, key, 3), ISING_OK);
}

static void drop(pair *p) {
  ising_lattice_destroy(&p->ref);
  ising_lattice_destroy(&p->fast);
  ising_layout_destroy(&p->lay);
}

static int64_t differences(const pair *p) {
  int64_t n[3], d = 0;
  ising_lattice_extent(p->ref, n, NULL);
  for (int64_t z = 0; z < n[2]; z++)
    for (int64_t y = 0; y < n[1]; y++)
      for (int64_t x = 0; x < n[0]; x++)
        d += ising_lattice_get(p->ref, x, y, z) != ising_lattice_get(p->fast, x, y, z);
  return d;
}

/* Run `sweeps` sweeps with both kernels, comparing after each half sweep;
 * returns the number of spins the run flipped in total (to show the
 * comparison was not vacuous). */
static int64_t run_pair(int dim, int64_t Lx, int64_t Ly, int64_t Lz, double J, double H, double T,
                        int sweeps, ising_algorithm alg) {
  pair p;
  make(&p, dim, Lx, Ly, Lz, 77 + (uint64_t)Lx);
  ising_lattice *port = NULL;
  ck_assert_int_eq(ising_lattice_create(p.lay, &port), ISING_OK);
  ck_assert_int_eq(ising_lattice_fill_hot(port, ising_rng_key_from_seed(77 + (uint64_t)Lx), 3), ISING_OK);
  ising_model m;
  ck_assert_msg(ising_model_init(&m, dim, J, H, T, alg) == ISING_OK, "%s", ising_err_message());
  ising_stream st = {ising_rng_key_from_seed(1234), 5};
  int64_t changed = 0;
  for (int t = 0; t < sweeps; t++) {
    ising_half_sums hr[2], hf[2], hp[2];
    for (int c = 0; c < 2; c++) {
      int64_t B0, M0, B1, M1;
      ising_observe_block_reference(p.ref, &B0, &M0);
      ising_update_half(p.ref, &m, ISING_KERNEL_REFERENCE, st, (uint64_t)t, c, &hr[c]);
      ising_update_half(p.fast, &m, ISING_KERNEL_FAST, st, (uint64_t)t, c, &hf[c]);
      ising_update_half(port, &m, ISING_KERNEL_PORTABLE, st, (uint64_t)t, c, &hp[c]);
      /* the three kernels return the same sums */
      ck_assert_int_eq(hf[c].bonds, hr[c].bonds);
      ck_assert_int_eq(hf[c].mag, hr[c].mag);
      ck_assert_int_eq(hp[c].bonds, hr[c].bonds);
      ck_assert_int_eq(hp[c].mag, hr[c].mag);
      ck_assert_int_eq(ising_lattice_halo(port, c), ISING_OK);
      ck_assert_int_eq(ising_lattice_halo(p.ref, c), ISING_OK);
      ck_assert_int_eq(ising_lattice_halo(p.fast, c), ISING_OK);
      pair q = {p.lay, p.ref, port};
      ck_assert_msg(differences(&q) == 0, "portable kernel differs at sweep %d colour %d", t, c);
      ck_assert_msg(differences(&p) == 0, "kernels differ at sweep %d colour %d (%dD %lldx%lldx%lld)",
                    t, c, dim, (long long)Lx, (long long)Ly, (long long)Lz);
      ising_observe_block_reference(p.ref, &B1, &M1);
      int64_t Bf, Mf;
      ising_observe_block(p.fast, &Bf, &Mf);
      ck_assert_int_eq(Bf, B1);
      ck_assert_int_eq(Mf, M1);
      changed += (B0 != B1) || (M0 != M1);
      /* after the whole sweep the kernels' sums are the block's B and M */
      if (c == 1) {
        ck_assert_int_eq(hr[0].bonds + hr[1].bonds, B1);
        ck_assert_int_eq(hr[0].mag + hr[1].mag, M1);
      }
    }
  }
  ising_lattice_destroy(&port);
  drop(&p);
  return changed;
}

START_TEST(metropolis_2d) {
  ck_assert_int_gt(run_pair(2, 8, 8, 1, 1.0, 0.0, 2.3, 20, ISING_ALG_METROPOLIS), 20);
  ck_assert_int_gt(run_pair(2, 300, 6, 1, 1.0, 0.3, 1.5, 6, ISING_ALG_METROPOLIS), 6);
  ck_assert_int_gt(run_pair(2, 2, 4, 1, -1.0, 0.5, 0.8, 20, ISING_ALG_METROPOLIS), 1);
  ck_assert_int_gt(run_pair(2, 518, 4, 1, 0.7, -0.2, 3.0, 4, ISING_ALG_METROPOLIS), 4);
  /* 1.3 million decisions: some 20 ties of the high halves take the
   * low-half path (probability 2^-16 each) */
  ck_assert_int_gt(run_pair(2, 256, 256, 1, 1.0, 0.05, 2.269, 10, ISING_ALG_METROPOLIS), 10);
}
END_TEST

START_TEST(heatbath_2d) {
  ck_assert_int_gt(run_pair(2, 8, 8, 1, 1.0, 0.0, 2.3, 20, ISING_ALG_HEATBATH), 20);
  ck_assert_int_gt(run_pair(2, 262, 6, 1, -1.0, 0.4, 2.0, 6, ISING_ALG_HEATBATH), 6);
}
END_TEST

START_TEST(kernels_3d) {
  ck_assert_int_gt(run_pair(3, 4, 4, 4, 1.0, 0.0, 4.5, 10, ISING_ALG_METROPOLIS), 10);
  ck_assert_int_gt(run_pair(3, 6, 4, 2, 1.0, 0.2, 3.0, 10, ISING_ALG_HEATBATH), 10);
  ck_assert_int_gt(run_pair(3, 258, 2, 4, -0.5, 0.1, 4.0, 3, ISING_ALG_METROPOLIS), 3);
}
END_TEST

/* Near-zero temperature with a field: almost every decision is a tie-free
 * certainty; at T = 1e3 almost every one is close to 1/2.  Both extremes
 * must agree too. */
START_TEST(extreme_temperatures) {
  run_pair(2, 16, 16, 1, 1.0, 0.1, 0.05, 5, ISING_ALG_METROPOLIS);
  ck_assert_int_gt(run_pair(2, 16, 16, 1, 1.0, 0.0, 1e3, 5, ISING_ALG_HEATBATH), 5);
}
END_TEST

/* The hot start is the INIT stream's top bit, site by site. */
START_TEST(hot_start_matches_stream) {
  pair p;
  make(&p, 2, 300, 4, 1, 99);
  ising_rng_key key = ising_rng_key_from_seed(99);
  int64_t plus = 0;
  for (int64_t y = 0; y < 4; y++)
    for (int64_t x = 0; x < 300; x++) {
      int c = (int)((x + y) & 1);
      int64_t G = y * 150 + x / 2; /* half-lattice index, rng.h */
      uint16_t u = ising_rng_number16(key, (uint64_t)(G / ISING_RNG_CHUNK), (int)(G % ISING_RNG_CHUNK),
                                      0, ising_rng_c3(3, ISING_RNG_INIT, c));
      int want = (u & 0x8000) ? -1 : 1;
      ck_assert_int_eq(ising_lattice_get(p.ref, x, y, 0), want);
      plus += want > 0;
    }
  ck_assert_int_gt(plus, 500);
  ck_assert_int_lt(plus, 700);
  drop(&p);
}
END_TEST

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  Suite *s = suite_create("update");
  TCase *tc = tcase_create("kernels");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, metropolis_2d);
  tcase_add_test(tc, heatbath_2d);
  tcase_add_test(tc, kernels_3d);
  tcase_add_test(tc, extreme_temperatures);
  tcase_add_test(tc, hot_start_matches_stream);
  suite_add_tcase(s, tc);
  int rc = ising_test_run_suite(s);
  MPI_Finalize();
  return rc;
}
