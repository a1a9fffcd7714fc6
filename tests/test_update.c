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
#include <math.h>
#include <stdio.h>
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

/* The generator of the runs below: Philox, or ARS in ars_stream. */
static uint32_t test_alg = ISING_RNG_PHILOX;
static void philox_again(void) { test_alg = ISING_RNG_PHILOX; } /* each test starts so */
#define test_key(seed) ising_test_key(seed, test_alg)

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
  ising_rng_key key = test_key(seed);
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
  ck_assert_int_eq(ising_lattice_fill_hot(port, test_key(77 + (uint64_t)Lx), 3), ISING_OK);
  ising_model m;
  ck_assert_msg(ising_model_init(&m, dim, J, H, T, alg) == ISING_OK, "%s", ising_err_message());
  ising_stream st = {test_key(1234), 5};
  int64_t changed = 0;
  for (int t = 0; t < sweeps; t++) {
    ising_half_sums hr[2], hf[2], hp[2];
    for (int c = 0; c < 2; c++) {
      int64_t B0, M0, B1, M1;
      ising_observe_block_reference(p.ref, &B0, &M0);
      ising_update_half(p.ref, &m, ISING_BYTE_REFERENCE, st, (uint64_t)t, c, &hr[c]);
      ising_update_half(p.fast, &m, ISING_BYTE_FAST, st, (uint64_t)t, c, &hf[c]);
      ising_update_half(port, &m, ISING_BYTE_PORTABLE, st, (uint64_t)t, c, &hp[c]);
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
/* ARS (AES-NI): the byte kernels equal the reference on its stream too. */
START_TEST(ars_stream) {
  if (!ising_rng_ars_available()) {
    printf("test_update: ARS skipped (no AES-NI)\n");
    return;
  }
  test_alg = ISING_RNG_ARS;
  ck_assert_int_gt(run_pair(2, 8, 8, 1, 1.0, 0.0, 2.3, 20, ISING_ALG_METROPOLIS), 20);
  ck_assert_int_gt(run_pair(2, 300, 6, 1, 1.0, 0.3, 1.5, 6, ISING_ALG_HEATBATH), 6);
  ck_assert_int_gt(run_pair(3, 258, 2, 4, -0.5, 0.1, 4.0, 3, ISING_ALG_METROPOLIS), 3);
  test_alg = ISING_RNG_PHILOX;
}
END_TEST

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

/* ------------------------------------------------------------ disorder */

/* A test couplings provider: w and f hashed from (seed, site, axis).
 * bonds: 0 bimodal with dilution (w = 0 for a quarter of the bonds),
 * 1 int32 "gaussian-like" weights in -2^24 .. 2^24 (some 0), 2 every w = +1,
 * 3 int32 weights over the whole range -(2^31 - 1) .. 2^31 - 1 (nw needs
 * more than 32 bits: the kernels' exact path);
 * fields: 0 none, 1 f = +-1, 2 f in -1000 .. 1000, 3 f in {-1, 0, +1}. */
typedef struct tprov {
  uint64_t seed;
  int bonds, fields;
} tprov;

static uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

static int32_t tp_bond(const void *ctx, int64_t site, int axis) {
  const tprov *p = ctx;
  uint64_t r = mix64(p->seed ^ mix64((uint64_t)site * 4 + (uint64_t)axis));
  if (p->bonds == 2) return 1;
  if (p->bonds == 0) return r % 4 == 0 ? 0 : ((r >> 8) & 1 ? 1 : -1);
  if (r % 16 == 0) return 0;
  if (p->bonds == 3) return (int32_t)((int64_t)((r >> 16) % 0xFFFFFFFFu) - 0x7FFFFFFF);
  return (int32_t)((r >> 16) % ((1u << 25) + 1)) - (1 << 24);
}

static int32_t tp_field(const void *ctx, int64_t site) {
  const tprov *p = ctx;
  uint64_t r = mix64(~p->seed ^ mix64((uint64_t)site));
  if (p->fields == 1) return (r >> 9) & 1 ? 1 : -1;
  if (p->fields == 3) return (int32_t)((r >> 9) % 3) - 1;
  return (int32_t)((r >> 20) % 2001) - 1000;
}

static ising_couplings tp_couplings(const tprov *p, double J_unit, double h_unit, double H) {
  ising_couplings c = ising_couplings_uniform(J_unit, H);
  c.J_unit = J_unit;
  c.h_unit = p->fields ? h_unit : 0;
  c.bond = tp_bond;
  c.field = p->fields ? tp_field : NULL;
  c.ctx = p;
  c.bimodal = p->bonds != 1 && p->bonds != 3;
  return c;
}

/* B = sum over bonds w s s, M, F = sum f s of a whole lattice on one rank. */
static void brute_sums(const ising_lattice *l, const ising_couplings *c, int64_t *B, int64_t *M,
                       int64_t *F) {
  int64_t n[3];
  ising_lattice_extent(l, n, NULL);
  const int dim = ising_lattice_dim(l);
  *B = *M = *F = 0;
  for (int64_t z = 0; z < n[2]; z++)
    for (int64_t y = 0; y < n[1]; y++)
      for (int64_t x = 0; x < n[0]; x++) {
        int s = ising_lattice_get(l, x, y, z);
        int64_t site = x + n[0] * (y + n[1] * z);
        *M += s;
        *F += (int64_t)ising_couplings_f(c, site) * s;
        for (int a = 0; a < dim; a++) {
          int64_t g[3] = {x, y, z};
          g[a] = (g[a] + 1) % n[a];
          *B += (int64_t)ising_couplings_w(c, site, a) * s * ising_lattice_get(l, g[0], g[1], g[2]);
        }
      }
}

static int64_t lattice_differences(const ising_lattice *a, const ising_lattice *b) {
  pair q = {NULL, (ising_lattice *)a, (ising_lattice *)b};
  return differences(&q);
}

/* Reference, fast and portable disorder kernels on one hot lattice each:
 * identical spins and sums after every half sweep, and after every sweep
 * the sums equal the brute-force B, M, F.  Returns how many half sweeps
 * changed the configuration. */
static int64_t run_dis(int dim, int64_t Lx, int64_t Ly, int64_t Lz, const tprov *tp, double J_unit,
                       double h_unit, double H, double T, int sweeps, ising_algorithm alg) {
  pair p;
  make(&p, dim, Lx, Ly, Lz, 91 + (uint64_t)Lx);
  ising_lattice *port = NULL;
  ck_assert_int_eq(ising_lattice_create(p.lay, &port), ISING_OK);
  ck_assert_int_eq(ising_lattice_fill_hot(port, ising_rng_key_from_seed(91 + (uint64_t)Lx), 3), ISING_OK);
  ising_couplings c = tp_couplings(tp, J_unit, h_unit, H);
  ising_update_cache *cache = NULL;
  ck_assert_int_eq(ising_update_cache_create(&c, p.ref, &cache), ISING_OK);
  ck_assert_int_gt(ising_update_cache_bytes(cache), 0);
  ising_model m;
  ck_assert_int_eq(ising_model_init(&m, dim, J_unit, H, T, alg), ISING_OK);
  ising_stream st = {ising_rng_key_from_seed(4321), 7};
  int64_t changed = 0;
  for (int t = 0; t < sweeps; t++) {
    ising_half_sums hr[2], hf[2], hp[2];
    int64_t fr[2], ff[2], fp[2];
    for (int col = 0; col < 2; col++) {
      int64_t B0, M0, F0, B1, M1, F1;
      brute_sums(p.ref, &c, &B0, &M0, &F0);
      ck_assert_int_eq(ising_update_half_disorder(p.ref, &m, cache, ISING_BYTE_REFERENCE, st,
                                                  (uint64_t)t, col, &hr[col], &fr[col]), ISING_OK);
      ck_assert_int_eq(ising_update_half_disorder(p.fast, &m, cache, ISING_BYTE_FAST, st,
                                                  (uint64_t)t, col, &hf[col], &ff[col]), ISING_OK);
      ck_assert_int_eq(ising_update_half_disorder(port, &m, cache, ISING_BYTE_PORTABLE, st,
                                                  (uint64_t)t, col, &hp[col], &fp[col]), ISING_OK);
      ck_assert_int_eq(ising_lattice_halo(p.ref, col), ISING_OK);
      ck_assert_int_eq(ising_lattice_halo(p.fast, col), ISING_OK);
      ck_assert_int_eq(ising_lattice_halo(port, col), ISING_OK);
      ck_assert_msg(lattice_differences(p.ref, p.fast) == 0,
                    "%s differs from the reference at sweep %d colour %d (%dD %lldx%lldx%lld, "
                    "bonds %d fields %d, T %g)", ising_update_kernel_name(ISING_BYTE_FAST), t, col,
                    dim, (long long)Lx, (long long)Ly, (long long)Lz, tp->bonds, tp->fields, T);
      ck_assert_msg(lattice_differences(p.ref, port) == 0,
                    "portable differs from the reference at sweep %d colour %d", t, col);
      ck_assert_int_eq(hf[col].bonds, hr[col].bonds);
      ck_assert_int_eq(hf[col].mag, hr[col].mag);
      ck_assert_int_eq(ff[col], fr[col]);
      ck_assert_int_eq(hp[col].bonds, hr[col].bonds);
      ck_assert_int_eq(hp[col].mag, hr[col].mag);
      ck_assert_int_eq(fp[col], fr[col]);
      brute_sums(p.ref, &c, &B1, &M1, &F1);
      changed += B0 != B1 || M0 != M1 || F0 != F1;
      if (col == 1) {
        ck_assert_int_eq(hr[0].bonds + hr[1].bonds, B1);
        ck_assert_int_eq(hr[0].mag + hr[1].mag, M1);
        ck_assert_int_eq(fr[0] + fr[1], F1);
      }
    }
  }
  ising_update_cache_free(&cache);
  ck_assert_ptr_null(cache);
  ising_lattice_destroy(&port);
  drop(&p);
  return changed;
}

START_TEST(disorder_bimodal) {
  tprov tp = {11, 0, 0};
  /* the table paths: 2D and 3D, both algorithms, J of both signs, H */
  ck_assert_int_gt(run_dis(2, 8, 8, 1, &tp, 1.0, 0, 0.0, 1.5, 10, ISING_ALG_METROPOLIS), 10);
  ck_assert_int_gt(run_dis(2, 300, 6, 1, &tp, -0.7, 0, 0.3, 1.0, 6, ISING_ALG_METROPOLIS), 6);
  ck_assert_int_gt(run_dis(2, 262, 6, 1, &tp, 1.0, 0, -0.4, 2.0, 6, ISING_ALG_HEATBATH), 6);
  ck_assert_int_gt(run_dis(2, 2, 4, 1, &tp, 1.0, 0, 0.5, 0.8, 10, ISING_ALG_METROPOLIS), 1);
  ck_assert_int_gt(run_dis(3, 6, 4, 4, &tp, 1.0, 0, 0.2, 1.2, 8, ISING_ALG_HEATBATH), 8);
  ck_assert_int_gt(run_dis(3, 258, 2, 4, &tp, 0.5, 0, 0.1, 1.0, 3, ISING_ALG_METROPOLIS), 3);
  ck_assert_int_gt(run_dis(3, 66, 6, 4, &tp, 1.0, 0, 0.0, 0.9, 4, ISING_ALG_HEATBATH), 4);
  /* about 650 thousand decisions each: some ten ties of the high halves
   * take the low-half path; near zero and very high temperature */
  ck_assert_int_gt(run_dis(2, 256, 256, 1, &tp, 1.0, 0, 0.05, 1.0, 10, ISING_ALG_METROPOLIS), 10);
  ck_assert_int_gt(run_dis(3, 64, 64, 32, &tp, 1.0, 0, 0.0, 1.1, 5, ISING_ALG_HEATBATH), 5);
  run_dis(2, 64, 64, 1, &tp, 1.0, 0, 0.1, 0.05, 5, ISING_ALG_METROPOLIS);
  ck_assert_int_gt(run_dis(2, 64, 64, 1, &tp, 1.0, 0, 0.0, 1e3, 5, ISING_ALG_HEATBATH), 5);
}
END_TEST

START_TEST(disorder_fields) {
  /* bimodal bonds with fields f = +-1 or in {-1, 0, 1} (the f tables) and
   * wide fields (the per-site rule) */
  tprov b1 = {12, 0, 1}, b2 = {13, 0, 2}, b3 = {16, 0, 3};
  ck_assert_int_gt(run_dis(2, 70, 10, 1, &b3, 1.0, 0.4, 0.2, 1.1, 6, ISING_ALG_METROPOLIS), 6);
  ck_assert_int_gt(run_dis(3, 12, 6, 4, &b3, -1.0, 0.9, 0.0, 1.6, 6, ISING_ALG_HEATBATH), 6);
  ck_assert_int_gt(run_dis(2, 40, 38, 1, &b1, 1.0, 0.7, 0.1, 1.3, 6, ISING_ALG_METROPOLIS), 6);
  ck_assert_int_gt(run_dis(2, 100, 6, 1, &b2, -1.0, 0.002, -0.3, 2.0, 6, ISING_ALG_HEATBATH), 6);
  ck_assert_int_gt(run_dis(3, 8, 6, 4, &b1, 1.0, 1.5, 0.0, 2.5, 6, ISING_ALG_HEATBATH), 6);
  ck_assert_int_gt(run_dis(3, 36, 4, 6, &b2, 0.8, 0.001, 0.2, 1.0, 4, ISING_ALG_METROPOLIS), 4);
  ck_assert_int_gt(run_dis(2, 256, 256, 1, &b1, 1.0, 0.5, 0.0, 1.0, 10, ISING_ALG_HEATBATH), 10);
}
END_TEST

START_TEST(disorder_gaussian) {
  /* int32 weights, J_unit 2^-24: without and with a field source */
  tprov g0 = {14, 1, 0}, g2 = {15, 1, 2};
  const double u = 1.0 / 16777216.0;
  ck_assert_int_gt(run_dis(2, 30, 20, 1, &g0, u, 0, 0.0, 0.9, 6, ISING_ALG_METROPOLIS), 6);
  ck_assert_int_gt(run_dis(2, 66, 4, 1, &g0, -2 * u, 0, 0.2, 1.7, 6, ISING_ALG_HEATBATH), 6);
  /* rows of 101 and 150 sites: blocks of 32 and 128, a last block
   * overlapping the one before */
  ck_assert_int_gt(run_dis(2, 202, 6, 1, &g2, u, 0.001, 0.05, 1.4, 6, ISING_ALG_METROPOLIS), 6);
  ck_assert_int_gt(run_dis(2, 300, 4, 1, &g2, -u, 0.002, 0.0, 1.9, 6, ISING_ALG_HEATBATH), 6);
  ck_assert_int_gt(run_dis(3, 202, 4, 4, &g0, u, 0, 0.0, 2.5, 4, ISING_ALG_HEATBATH), 4);
  ck_assert_int_gt(run_dis(3, 10, 6, 4, &g2, u, 0.001, 0.1, 1.2, 6, ISING_ALG_METROPOLIS), 6);
  ck_assert_int_gt(run_dis(3, 6, 8, 6, &g2, u, 0.002, -0.1, 0.7, 6, ISING_ALG_HEATBATH), 6);
  ck_assert_int_gt(run_dis(2, 256, 256, 1, &g2, u, 0.0005, 0.0, 0.8, 10, ISING_ALG_METROPOLIS), 10);
  run_dis(2, 32, 32, 1, &g0, u, 0, 0.0, 0.02, 4, ISING_ALG_METROPOLIS);
  ck_assert_int_gt(run_dis(2, 32, 32, 1, &g2, u, 0.001, 0.0, 1e3, 4, ISING_ALG_HEATBATH), 4);
  /* weights over the whole int32 range (J_unit 2^-31): the exact path */
  tprov w0 = {18, 3, 0}, w2 = {19, 3, 2};
  const double v = 1.0 / 2147483648.0;
  ck_assert_int_gt(run_dis(2, 40, 12, 1, &w0, v, 0, 0.1, 1.1, 6, ISING_ALG_METROPOLIS), 6);
  ck_assert_int_gt(run_dis(3, 36, 6, 4, &w2, v, 0.002, 0.0, 2.0, 6, ISING_ALG_HEATBATH), 6);
}
END_TEST

/* ising_update_approx_x against 2^16 times the rule's probability (libm),
 * densely over the arguments the kernels meet: y = -2 beta s local
 * (Metropolis) or -2 beta local (heat bath) over [-40, 40], both spins,
 * several beta, and the extremes.  Where x >= 1 the relative error must be
 * <= 2^-18 (update.c's budget); where x < 1, 0 <= x~ < 1 or the same
 * bound.  These are the conditions under which the kernels' cheap
 * decisions equal the rule's. */
START_TEST(approx_accuracy) {
  const double betas[] = {0.03, 0.44, 1.0, 2.7, 50.0};
  const ising_algorithm algs[] = {ISING_ALG_METROPOLIS, ISING_ALG_HEATBATH};
  const double eps = 1.0 / 262144.0;
  double worst = 0;
  ising_test_tally tally = {0};
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 5; b++) {
      ising_model m;
      ck_assert_int_eq(ising_model_init(&m, 2, 1.0, 0, 1.0 / betas[b], algs[a]), ISING_OK);
      for (int s = -1; s <= 1; s += 2) {
        enum { N = 1 << 18 };
        for (int i = 0; i <= N + 8; i++) {
          double local;
          if (i <= N) { /* y from -40 to 40, jittered off a regular grid */
            double y = -40.0 + 80.0 * (i + 0.5 * (double)(mix64((uint64_t)i) >> 11) * 0x1p-53) / N;
            local = y / (-2.0 * m.beta * (a == 0 ? s : 1));
          } else {
            const double ext[8] = {0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, 1e-9, -1e-9};
            local = ext[i - N - 1];
          }
          const double x = 65536.0 * ising_model_probability_local(&m, s, local);
          const double xt = ising_update_approx_x(&m, s, local);
          const double rel = x > 0 ? fabs(xt / x - 1) : INFINITY;
          ising_test_check(&tally, xt >= 0 && (rel <= eps || (x < 1 && xt < 1)),
                           "beta %g %s s %d local %.17g: x %.9g, x~ %.9g (rel %.3g)", m.beta,
                           a ? "heat bath" : "metropolis", s, local, x, xt, rel);
          if (x >= 1 && rel > worst) worst = rel;
        }
      }
    }
  ising_test_tally_assert(&tally);
  ck_assert_int_gt(tally.checked, 5000000);
  ck_assert(worst > 0 && worst <= eps);
}
END_TEST

/* A provider whose field weights come from a table (the bonds as tprov). */
typedef struct band_prov {
  tprov tp; /* first: tp_bond reads it through the same pointer */
  int32_t *f;
} band_prov;

static int32_t band_field(const void *ctx, int64_t site) {
  return ((const band_prov *)ctx)->f[site];
}

/* Decisions in the approximation's fallback band: every colour-0 site gets
 * a field weight f that puts its x = 2^16 p within a few units of its own
 * high half u_hi for sweep 0 (x = u_hi + delta, delta from -2 to 2, ties
 * u_hi = t_hi at delta in (0, 1]), then one colour-0 half sweep with the
 * reference, fast and portable kernels: identical spins and sums.  Checks
 * that most sites really lie in the band, where the fast kernels must take
 * the exact rule (and the low halves on ties). */
static void fallback_band_h(int dim, int64_t Lx, int64_t Ly, int64_t Lz, int bonds,
                            ising_algorithm alg, double T, double H, double h_unit) {
  pair p;
  make(&p, dim, Lx, Ly, Lz, 77 + (uint64_t)Lx);
  ising_lattice *port = NULL;
  ck_assert_int_eq(ising_lattice_create(p.lay, &port), ISING_OK);
  ck_assert_int_eq(ising_lattice_fill_hot(port, ising_rng_key_from_seed(77 + (uint64_t)Lx), 3),
                   ISING_OK);
  const int64_t L[3] = {Lx, Ly, Lz}, nsite = Lx * Ly * Lz;
  band_prov bp = {{31 + (uint64_t)bonds, bonds, 1}, calloc((size_t)nsite, sizeof(int32_t))};
  ck_assert_ptr_nonnull(bp.f);
  const double J_unit = bonds == 1 ? 1.0 / 16777216.0 : 0.8;
  ising_couplings c = ising_couplings_uniform(J_unit, H);
  c.h_unit = h_unit;
  c.bond = tp_bond;
  c.field = band_field;
  c.ctx = &bp;
  c.bimodal = bonds != 1;
  ising_model m;
  ck_assert_int_eq(ising_model_init(&m, dim, J_unit, H, T, alg), ISING_OK);
  ising_stream st = {ising_rng_key_from_seed(2024), 5};
  const uint32_t c3 = ising_rng_c3(st.replica, ISING_RNG_SWEEP, 0);
  const double deltas[] = {-2, -1.5, -1, -0.75, -0.5, -0.25, 0, 1e-4, 0.25, 0.5, 0.75, 0.9999, 1,
                           1.25, 1.5, 2};
  int64_t sites = 0, near = 0;
  for (int64_t z = 0; z < Lz; z++)
    for (int64_t y = 0; y < Ly; y++)
      for (int64_t x = 0; x < Lx; x++) {
        if (ising_lattice_colour(p.ref, x, y, z) != 0) continue;
        const int64_t site = x + Lx * (y + Ly * z), g[3] = {x, y, z};
        int nbr[6] = {0};
        for (int a = 0; a < dim; a++)
          for (int side = 0; side < 2; side++) {
            int64_t h[3] = {x, y, z};
            h[a] = (h[a] + (side ? 1 : L[a] - 1)) % L[a];
            nbr[2 * a + side] = ising_lattice_get(p.ref, h[0], h[1], h[2]);
          }
        const int s = ising_lattice_get(p.ref, x, y, z);
        bp.f[site] = 0;
        const double local0 = ising_couplings_local_field(&c, dim, L, g, nbr);
        const int64_t G = ising_rng_site_index(L, x, y, z);
        const uint16_t uhi = ising_rng_number16(st.key, (uint64_t)(G / ISING_RNG_CHUNK),
                                                (int)(G % ISING_RNG_CHUNK), 0, c3);
        const double xt = uhi + deltas[sites % 16];
        sites++;
        if (xt <= 0 || xt >= 65535) continue;
        const double pt = xt / 65536.0;
        /* the local field with p(local) = pt */
        const double want = alg == ISING_ALG_METROPOLIS ? -log(pt) / (2 * m.beta * s)
                                                        : -log(1 / pt - 1) / (2 * m.beta);
        const double fw = nearbyint((want - local0) / h_unit);
        if (fabs(fw) > 2e9) continue;
        bp.f[site] = (int32_t)fw;
        const double xr = 65536.0 * ising_model_probability_local(
                                        &m, s, ising_couplings_local_field(&c, dim, L, g, nbr));
        near += fabs(xr - xt) < 0.01;
      }
  ck_assert_msg(near * 10 > sites * 8, "only %lld of %lld sites placed in the band",
                (long long)near, (long long)sites);
  ising_update_cache *cache = NULL;
  ck_assert_int_eq(ising_update_cache_create(&c, p.ref, &cache), ISING_OK);
  ising_half_sums hr, hf, hp;
  int64_t fr, ff, fp;
  ck_assert_int_eq(ising_update_half_disorder(p.ref, &m, cache, ISING_BYTE_REFERENCE, st, 0, 0,
                                              &hr, &fr), ISING_OK);
  ck_assert_int_eq(ising_update_half_disorder(p.fast, &m, cache, ISING_BYTE_FAST, st, 0, 0, &hf,
                                              &ff), ISING_OK);
  ck_assert_int_eq(ising_update_half_disorder(port, &m, cache, ISING_BYTE_PORTABLE, st, 0, 0, &hp,
                                              &fp), ISING_OK);
  ck_assert_msg(lattice_differences(p.ref, p.fast) == 0,
                "%s differs from the reference in the band (%dD, bonds %d, %s, T %g, H %g)",
                ising_update_kernel_name(ISING_BYTE_FAST), dim, bonds,
                alg == ISING_ALG_METROPOLIS ? "metropolis" : "heat bath", T, H);
  ck_assert_msg(lattice_differences(p.ref, port) == 0, "portable differs in the band");
  ck_assert_int_eq(hf.bonds, hr.bonds);
  ck_assert_int_eq(hf.mag, hr.mag);
  ck_assert_int_eq(ff, fr);
  ck_assert_int_eq(hp.bonds, hr.bonds);
  ck_assert_int_eq(hp.mag, hr.mag);
  ck_assert_int_eq(fp, fr);
  ising_update_cache_free(&cache);
  free(bp.f);
  ising_lattice_destroy(&port);
  drop(&p);
}

static void fallback_band(int dim, int64_t Lx, int64_t Ly, int64_t Lz, int bonds,
                          ising_algorithm alg, double T) {
  fallback_band_h(dim, Lx, Ly, Lz, bonds, alg, T, 0.05, 0x1p-27);
}

START_TEST(disorder_fallback_band) {
  fallback_band(2, 64, 64, 1, 1, ISING_ALG_METROPOLIS, 2.0);
  fallback_band(2, 70, 30, 1, 0, ISING_ALG_HEATBATH, 1.3);
  fallback_band(2, 202, 10, 1, 1, ISING_ALG_HEATBATH, 0.9);
  fallback_band(2, 300, 8, 1, 1, ISING_ALG_METROPOLIS, 1.2);
  fallback_band(3, 34, 8, 8, 1, ISING_ALG_HEATBATH, 4.0);
  fallback_band(3, 64, 8, 4, 0, ISING_ALG_METROPOLIS, 1.0);
  fallback_band(2, 12, 6, 1, 1, ISING_ALG_METROPOLIS, 1.5);
  /* a large uniform field H cancelled by the field weights: the float
   * argument's error grows with |H| + |h_unit f| (not with |local|), and
   * the band must grow with it (a fixed band decides these sites wrongly) */
  fallback_band_h(2, 64, 32, 1, 1, ISING_ALG_METROPOLIS, 1.0, 200.0, 0x1p-22);
  fallback_band_h(3, 32, 8, 8, 1, ISING_ALG_HEATBATH, 1.0, -150.0, 0x1p-22);
  /* rows of 24 and 12 sites: the register rows of short rows (avx2 below
   * 32 sites, avx512 below 128), whole and partial steps */
  fallback_band_h(2, 48, 32, 1, 1, ISING_ALG_METROPOLIS, 1.0, 200.0, 0x1p-22);
  fallback_band_h(3, 24, 16, 8, 1, ISING_ALG_METROPOLIS, 1.0, 200.0, 0x1p-22);
  /* rows of 8 and 7 sites: avx512 takes two rows per step (lanes 8-15 the
   * second row's); a block's plane with an odd row count, whose last row
   * goes alone, is in tests/disorder_identity.sh */
  fallback_band_h(3, 16, 8, 8, 1, ISING_ALG_METROPOLIS, 1.0, 200.0, 0x1p-22);
  fallback_band_h(3, 14, 8, 6, 1, ISING_ALG_HEATBATH, 1.0, -150.0, 0x1p-22);
}
END_TEST

/* Bimodal couplings with every w = +1 and no field source are the uniform
 * model: the disorder kernels give today's bits (same spins as
 * ising_update_half after every half sweep, every kernel kind). */
START_TEST(disorder_all_plus_is_uniform) {
  const struct {
    int dim;
    int64_t L[3];
    double J, H, T;
    ising_algorithm alg;
  } cases[] = {{2, {40, 36, 1}, 1.0, 0.0, 2.3, ISING_ALG_METROPOLIS},
               {2, {262, 6, 1}, -1.0, 0.4, 2.0, ISING_ALG_HEATBATH},
               {3, {34, 6, 4}, 1.0, 0.2, 4.5, ISING_ALG_METROPOLIS},
               {3, {8, 6, 4}, 0.6, -0.1, 3.0, ISING_ALG_HEATBATH}};
  tprov tp = {1, 2, 0};
  const ising_byte_kernel kinds[] = {ISING_BYTE_REFERENCE, ISING_BYTE_FAST, ISING_BYTE_PORTABLE};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int k = 0; k < 3; k++) {
      pair p;
      make(&p, cases[i].dim, cases[i].L[0], cases[i].L[1], cases[i].L[2], 5 + i);
      ising_couplings c = tp_couplings(&tp, cases[i].J, 0, cases[i].H);
      ising_update_cache *cache = NULL;
      ck_assert_int_eq(ising_update_cache_create(&c, p.fast, &cache), ISING_OK);
      ising_model m;
      ck_assert_int_eq(ising_model_init(&m, cases[i].dim, cases[i].J, cases[i].H, cases[i].T,
                                        cases[i].alg), ISING_OK);
      ising_stream st = {ising_rng_key_from_seed(66), 2};
      for (int t = 0; t < 6; t++)
        for (int col = 0; col < 2; col++) {
          ising_half_sums a, b;
          int64_t F = -1;
          ck_assert_int_eq(ising_update_half(p.ref, &m, ISING_BYTE_REFERENCE, st, (uint64_t)t, col, &a), ISING_OK);
          ck_assert_int_eq(ising_update_half_disorder(p.fast, &m, cache, kinds[k], st, (uint64_t)t,
                                                      col, &b, &F), ISING_OK);
          ck_assert_int_eq(ising_lattice_halo(p.ref, col), ISING_OK);
          ck_assert_int_eq(ising_lattice_halo(p.fast, col), ISING_OK);
          ck_assert_msg(differences(&p) == 0, "case %zu kind %s: not the uniform bits at sweep %d",
                        i, ising_update_kernel_name(kinds[k]), t);
          ck_assert_int_eq(a.bonds, b.bonds);
          ck_assert_int_eq(a.mag, b.mag);
          ck_assert_int_eq(F, 0);
        }
      ising_update_cache_free(&cache);
      drop(&p);
    }
}
END_TEST

/* A cache made for another block geometry is refused. */
START_TEST(disorder_wrong_block) {
  pair a, b;
  make(&a, 2, 8, 8, 1, 1);
  make(&b, 2, 8, 10, 1, 1);
  tprov tp = {3, 0, 0};
  ising_couplings c = tp_couplings(&tp, 1.0, 0, 0);
  ising_update_cache *cache = NULL;
  ck_assert_int_eq(ising_update_cache_create(&c, a.ref, &cache), ISING_OK);
  ising_model m;
  ck_assert_int_eq(ising_model_init(&m, 2, 1.0, 0, 2.0, ISING_ALG_METROPOLIS), ISING_OK);
  ising_stream st = {ising_rng_key_from_seed(1), 0};
  ck_assert_int_eq(ising_update_half_disorder(b.ref, &m, cache, ISING_BYTE_FAST, st, 0, 0, NULL, NULL),
                   ISING_ERR_INTERNAL);
  ck_assert_int_eq(ising_update_half_disorder(a.ref, &m, cache, ISING_BYTE_FAST, st, 0, 0, NULL, NULL),
                   ISING_OK);
  ising_update_cache_free(&cache);
  drop(&a);
  drop(&b);
}
END_TEST

/* The rule itself, statistically: a 4x4 lattice is reset to one fixed
 * configuration before every trial, colour 0 is updated once (sweep index
 * = trial: fresh numbers), and each colour-0 site's frequency of moving
 * (Metropolis: flip; heat bath: end at +1) over N trials must match
 * ising_model_probability_local of its local field within 4 sigma.  The
 * configuration, couplings and field are chosen so that the local fields
 * are moderate (p well inside (0, 1)); for each site the probability that
 * a plausible wrong rule would give -- the field weight's sign flipped, or
 * the plain neighbour sum nb in place of nw -- is computed too, and the
 * test asserts that for some site of the trial it differs from the right
 * one by more than 12 sigma: the frequencies then exclude that rule (the
 * check has the power to catch it), while a right rule fails with
 * probability below 8 x 1e-4 per run.  Run with the fast kernel of this
 * build and the reference, with and without a field source (the table and
 * the per-site paths). */
static void acceptance(int fields, ising_algorithm alg, ising_byte_kernel kind) {
  enum { N = 20000 };
  pair p;
  make(&p, 2, 4, 4, 1, 8);
  tprov tp = {21, 0, fields};
  ising_couplings c = tp_couplings(&tp, 0.6, 0.5, 0.15);
  ising_update_cache *cache = NULL;
  ck_assert_int_eq(ising_update_cache_create(&c, p.fast, &cache), ISING_OK);
  ising_model m;
  ck_assert_int_eq(ising_model_init(&m, 2, 0.6, 0.15, 1.7, alg), ISING_OK);
  static const int cfg[16] = {1, -1, 1, 1, -1, -1, 1, -1, 1, 1, -1, 1, -1, 1, 1, -1};
  double pr[16], wrong_f[16], wrong_nb[16];
  int count[16] = {0}, is0[16] = {0};
  const int64_t L[3] = {4, 4, 1};
  for (int i = 0; i < 16; i++) {
    int64_t x = i % 4, y = i / 4;
    is0[i] = ((x + y) & 1) == 0;
    ising_lattice_set(p.fast, x, y, 0, cfg[i]);
    int nbr[6] = {cfg[(x + 3) % 4 + 4 * y], cfg[(x + 1) % 4 + 4 * y], cfg[x + 4 * ((y + 3) % 4)],
                  cfg[x + 4 * ((y + 1) % 4)], 0, 0};
    int64_t g[3] = {x, y, 0};
    double local = ising_couplings_local_field(&c, 2, L, g, nbr);
    int32_t f = ising_couplings_f(&c, i);
    pr[i] = ising_model_probability_local(&m, cfg[i], local);
    wrong_f[i] = ising_model_probability_local(&m, cfg[i], local - 2 * c.h_unit * f);
    int nb = nbr[0] + nbr[1] + nbr[2] + nbr[3];
    wrong_nb[i] = ising_model_probability_local(&m, cfg[i], c.J_unit * nb + c.H + c.h_unit * f);
  }
  ising_stream st = {ising_rng_key_from_seed(555), 1};
  for (int t = 0; t < N; t++) {
    for (int i = 0; i < 16; i++) ising_lattice_set(p.fast, i % 4, i / 4, 0, cfg[i]);
    ck_assert_int_eq(ising_lattice_halo(p.fast, 0), ISING_OK);
    ck_assert_int_eq(ising_lattice_halo(p.fast, 1), ISING_OK);
    ck_assert_int_eq(ising_update_half_disorder(p.fast, &m, cache, kind, st, (uint64_t)t, 0, NULL,
                                                NULL), ISING_OK);
    for (int i = 0; i < 16; i++) {
      int s = ising_lattice_get(p.fast, i % 4, i / 4, 0);
      count[i] += alg == ISING_ALG_METROPOLIS ? s != cfg[i] : s > 0;
    }
  }
  double power_f = 0, power_nb = 0;
  for (int i = 0; i < 16; i++) {
    if (!is0[i]) {
      ck_assert_int_eq(count[i], alg == ISING_ALG_METROPOLIS ? 0 : (cfg[i] > 0) * N);
      continue;
    }
    double sig = sqrt(pr[i] * (1 - pr[i]) / N);
    double freq = (double)count[i] / N;
    if (pr[i] == 1) { /* a Metropolis move downhill: always */
      ck_assert_int_eq(count[i], N);
      continue;
    }
    ck_assert_msg(sig > 0 && fabs(freq - pr[i]) < 4 * sig,
                  "site %d: frequency %.5f, rule %.5f (sigma %.5f; %s, fields %d)", i, freq, pr[i],
                  sig, ising_update_kernel_name(kind), fields);
    if (fabs(wrong_f[i] - pr[i]) / sig > power_f) power_f = fabs(wrong_f[i] - pr[i]) / sig;
    if (fabs(wrong_nb[i] - pr[i]) / sig > power_nb) power_nb = fabs(wrong_nb[i] - pr[i]) / sig;
  }
  if (fields) ck_assert_msg(power_f > 12, "no power against a flipped field sign (%g)", power_f);
  ck_assert_msg(power_nb > 12, "no power against nb in place of nw (%g)", power_nb);
  ising_update_cache_free(&cache);
  drop(&p);
}

START_TEST(disorder_acceptance) {
  const ising_byte_kernel kinds[] = {ISING_BYTE_REFERENCE, ISING_BYTE_FAST};
  for (int k = 0; k < 2; k++)
    for (int fields = 0; fields <= 1; fields++) {
      acceptance(fields, ISING_ALG_METROPOLIS, kinds[k]);
      acceptance(fields, ISING_ALG_HEATBATH, kinds[k]);
    }
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
  tcase_add_checked_fixture(tc, philox_again, NULL);
  tcase_add_test(tc, ars_stream);
  tcase_add_test(tc, extreme_temperatures);
  tcase_add_test(tc, hot_start_matches_stream);
  tcase_add_test(tc, disorder_bimodal);
  tcase_add_test(tc, disorder_fields);
  tcase_add_test(tc, disorder_gaussian);
  tcase_add_test(tc, approx_accuracy);
  tcase_add_test(tc, disorder_fallback_band);
  tcase_add_test(tc, disorder_all_plus_is_uniform);
  tcase_add_test(tc, disorder_wrong_block);
  tcase_add_test(tc, disorder_acceptance);
  suite_add_tcase(s, tc);
  int rc = ising_test_run_suite(s);
  MPI_Finalize();
  return rc;
}
