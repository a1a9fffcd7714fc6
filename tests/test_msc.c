/*
 * test_msc.c -- the multi-spin-coding kernel (msc.h) against its site-by-site
 * reference: identical spins after every half sweep and identical sums, in
 * 2D and 3D, H = 0 and H != 0, rows shorter than a word, of exactly one word
 * and ending in a partial word, hot and extreme temperatures; the sums
 * against the natural-order bond sum and magnetisation; switching between
 * the MSC and the byte kernels on one lattice (through load and store);
 * the planar Philox fills
 * against Random123; and the random-bit economy: 8.03 bits per decision
 * (whole bytes until the first that differs), measured, not assumed.  One rank (the rank-count
 * identity is tests/identity.sh).
 */
#include <check.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/msc_impl.h"
#include "ising/error.h"
#include "ising/lattice.h"
#include "ising/layout.h"
#include "ising/model.h"
#include "ising/msc.h"
#include "ising/observe.h"
#include "ising/update.h"
#include "testutil.h"

/* Every planar fill of the key's generator against its blocks one at a
 * time (ising_rng_block: Random123's philox4x32_R or ars4x32_R). */
static void check_fills(ising_rng_key key) {
  const uint64_t firsts[] = {0, 5, 16, 0xFFFFFFF7ULL, (3ULL << 48) + 11};
  const int64_t counts[] = {1, 16, 17, 40};
  uint32_t out[4 * 41];
  for (size_t a = 0; a < sizeof firsts / sizeof *firsts; a++)
    for (size_t b = 0; b < sizeof counts / sizeof *counts; b++) {
      int64_t n = counts[b], stride = n + 1;
      ising_rng_fill_blocks(key, firsts[a], n, 7, 0x1234, out, stride);
      for (int64_t i = 0; i < n; i++) {
        uint32_t x[4];
        ising_rng_block(key, firsts[a] + (uint64_t)i, 7, 0x1234, x);
        for (int o = 0; o < 4; o++)
          ck_assert_msg(out[o * stride + i] == x[o], "group %llu word %d",
                        (unsigned long long)(firsts[a] + (uint64_t)i), o);
      }
    }
  /* runs of 16 blocks, one or two at a time */
  uint32_t ch[64 * 5];
  for (size_t a = 0; a < sizeof firsts / sizeof *firsts; a++)
    for (int64_t n = 1; n <= 5; n++) {
      ising_rng_fill_chunks16(key, firsts[a], n, 3, 0x77, ch);
      for (int64_t c = 0; c < n; c++)
        for (int i = 0; i < 16; i++) {
          uint32_t x[4];
          ising_rng_block(key, firsts[a] + 16 * (uint64_t)c + (uint64_t)i, 3, 0x77, x);
          for (int o = 0; o < 4; o++)
            ck_assert_msg(ch[64 * c + 16 * o + i] == x[o], "chunk %lld of %lld, block %d word %d",
                          (long long)c, (long long)n, i, o);
        }
    }
  /* runs of four blocks at unrelated offsets (the first chunks of several
   * rows, msc.c) and consecutive ones (a row's chunks: the paths take those
   * as one run of counters), 1 to 11 runs: every set size of every path,
   * partial sets */
  uint32_t rb[11][16];
  uint32_t *outs[11];
  uint64_t first[11];
  for (int64_t n = 1; n <= 11; n++)
    for (size_t a = 0; a < 2 * (sizeof firsts / sizeof *firsts); a++) {
      const size_t nf = sizeof firsts / sizeof *firsts;
      for (int64_t r = 0; r < n; r++) {
        first[r] = a < nf ? (firsts[(a + (size_t)r) % nf] & ~(uint64_t)3) + 4194304 * (uint64_t)r
                          : (firsts[a - nf] & ~(uint64_t)3) + 4 * (uint64_t)r; /* consecutive */
        outs[r] = rb[r];
      }
      memset(rb, 0xAB, sizeof rb);
      ising_rng_fill_runs4(key, first, n, 5, 0x99, outs);
      for (int64_t r = 0; r < 11; r++)
        for (int i = 0; i < 4; i++) {
          uint32_t x[4] = {0, 0, 0, 0};
          if (r < n) ising_rng_block(key, first[r] + (uint64_t)i, 5, 0x99, x);
          for (int o = 0; o < 4; o++) {
            if (r < n)
              ck_assert_msg(rb[r][4 * o + i] == x[o], "%lld runs: run %lld, block %d word %d",
                            (long long)n, (long long)r, i, o);
            else /* runs past n untouched */
              ck_assert_msg(rb[r][4 * o + i] == 0xABABABABu, "%lld runs: run %lld written",
                            (long long)n, (long long)r);
          }
        }
    }
}

START_TEST(fill_blocks_matches_random123) {
  ising_rng_key key = ising_rng_key_from_seed(99);
  check_fills(key);
  if (ising_rng_ars_available()) {
    key.alg = ISING_RNG_ARS;
    check_fills(key);
  } else
    printf("test_msc: ARS fills skipped (no AES-NI)\n");
}
END_TEST

typedef struct {
  ising_layout *lay;
  ising_lattice *a, *b; /* a: the int8 copy of the packed kernel's spins, b: reference */
  ising_msc *p;         /* the packed kernel's spins */
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
  /* groups of one rank: the x rows are whole */
  ck_assert_int_eq(ising_layout_create(MPI_COMM_WORLD, &cfg, 1, &p->lay), ISING_OK);
  ck_assert_int_eq(ising_lattice_create(p->lay, &p->a), ISING_OK);
  ck_assert_int_eq(ising_lattice_create(p->lay, &p->b), ISING_OK);
  ising_rng_key key = test_key(seed);
  ck_assert_int_eq(ising_lattice_fill_hot(p->a, key, 1), ISING_OK);
  ck_assert_int_eq(ising_lattice_fill_hot(p->b, key, 1), ISING_OK);
  ck_assert_int_eq(ising_msc_create(p->a, &p->p), ISING_OK);
  ck_assert_int_eq(ising_msc_load(p->p, p->a), ISING_OK);
}

static void drop(pair *p) {
  ising_msc_destroy(&p->p);
  ck_assert_ptr_null(p->p);
  ising_msc_destroy(&p->p); /* NULL is accepted */
  ising_lattice_destroy(&p->a);
  ising_lattice_destroy(&p->b);
  ising_layout_destroy(&p->lay);
}

/* Differences between the two lattices, halos included (x from -1 to n). */
static int64_t differences(const pair *p) {
  int64_t n[3], d = 0;
  ising_lattice_extent(p->a, n, NULL);
  int d3 = ising_lattice_dim(p->a) == 3;
  for (int64_t z = d3 ? -1 : 0; z < n[2] + d3; z++)
    for (int64_t y = -1; y <= n[1]; y++)
      for (int64_t x = -1; x <= n[0]; x++) {
        int inner = (y >= 0 && y < n[1]) + (z >= 0 && z < n[2]) + (x >= 0 && x < n[0]);
        if (inner < 2) continue; /* corners and edges of the halo are never used */
        d += ising_lattice_get(p->a, x, y, z) != ising_lattice_get(p->b, x, y, z);
      }
  return d;
}

/* `sweeps` sweeps with both kernels; every `look` half sweeps the packed
 * spins are stored into the int8 lattice and compared; every other look
 * they are loaded back from it, so the kernel also resumes from a
 * converted state.  Returns the flips counted. */
static int64_t run_pair(int dim, int64_t Lx, int64_t Ly, int64_t Lz, double H, double T, int sweeps,
                        int look) {
  pair p;
  make(&p, dim, Lx, Ly, Lz, 31 + (uint64_t)Lx);
  ising_model m;
  ck_assert_msg(ising_model_init(&m, dim, 1.0, H, T, ISING_ALG_METROPOLIS) == ISING_OK, "%s",
                ising_err_message());
  ising_stream st = {test_key(4321), 2};
  int64_t flips = 0, half = 0, looks = 0;
  for (int t = 0; t < sweeps; t++) {
    ising_half_sums ha[2], hb[2];
    for (int c = 0; c < 2; c++, half++) {
      int64_t B0, M0;
      ising_observe_block_reference(p.b, &B0, &M0);
      ck_assert_int_eq(ising_msc_half(p.p, &m, st, (uint64_t)t, c, &ha[c]), ISING_OK);
      ck_assert_int_eq(ising_msc_half_reference(p.b, &m, st, (uint64_t)t, c, &hb[c]), ISING_OK);
      ck_assert_int_eq(ising_msc_halo(p.p, c), ISING_OK);
      ck_assert_int_eq(ising_lattice_halo(p.b, c), ISING_OK);
      ck_assert_int_eq(ha[c].bonds, hb[c].bonds);
      ck_assert_int_eq(ha[c].mag, hb[c].mag);
      if (half % look == 0 || t == sweeps - 1) {
        ck_assert_int_eq(ising_msc_store(p.p, p.a), ISING_OK);
        ck_assert_msg(differences(&p) == 0, "kernels differ at sweep %d colour %d (%dD %lldx%lldx%lld H=%g T=%g)",
                      t, c, dim, (long long)Lx, (long long)Ly, (long long)Lz, H, T);
        if (looks++ % 2) ck_assert_int_eq(ising_msc_load(p.p, p.a), ISING_OK);
      }
      int64_t B1, M1;
      ising_observe_block_reference(p.b, &B1, &M1);
      flips += B0 != B1 || M0 != M1;
      if (c == 1) {
        ck_assert_int_eq(hb[0].bonds + hb[1].bonds, B1);
        ck_assert_int_eq(hb[0].mag + hb[1].mag, M1);
        int64_t Ba, Ma;
        ck_assert_int_eq(ising_msc_store(p.p, p.a), ISING_OK);
        ising_observe_block(p.a, &Ba, &Ma);
        ck_assert_int_eq(Ba, B1);
        ck_assert_int_eq(Ma, M1);
      }
    }
  }
  drop(&p);
  return flips;
}

START_TEST(packed_equals_reference_2d) {
  /* rows of 2, 8, 16, 64 (one word), 100 (partial second word) and 9 x 64
   * (whole words: the eight-words-per-register passes, with a tail) sites
   * per colour; 128 (two whole words: the AVX2 two-word pass); 256 (the
   * longest rows of 4-block chunks, made by the row itself) and 258 (the
   * shortest of 16-block chunks, msc_impl.h) */
  const int64_t Ls[][2] = {{4, 4}, {16, 16}, {32, 6}, {128, 8}, {200, 6}, {1152, 4}, {512, 20}, {516, 4}, {256, 6}};
  for (size_t i = 0; i < sizeof Ls / sizeof *Ls; i++) {
    ck_assert_int_gt(run_pair(2, Ls[i][0], Ls[i][1], 1, 0.0, 2.269, 6, (int)(1 + i % 3)), 0);
    ck_assert_int_gt(run_pair(2, Ls[i][0], Ls[i][1], 1, 0.3, 1.8, 4, 2), 0);
  }
  run_pair(2, 200, 6, 1, -0.7, 3.5, 4, 1);
}
END_TEST

START_TEST(packed_equals_reference_3d) {
  /* with 256 x 6 x 4 and 64 x 8 x 6, more rows than row streams made ahead
   * (msc.c, MSC_RING) in batches of 4 and 8 rows */
  const int64_t Ls[][3] = {{4, 4, 4}, {6, 4, 2}, {130, 4, 4}, {128, 4, 2}, {1152, 2, 2}, {256, 6, 4}, {64, 8, 6}};
  for (size_t i = 0; i < sizeof Ls / sizeof *Ls; i++) {
    ck_assert_int_gt(run_pair(3, Ls[i][0], Ls[i][1], Ls[i][2], 0.0, 4.5115, 4, 1), 0);
    ck_assert_int_gt(run_pair(3, Ls[i][0], Ls[i][1], Ls[i][2], 0.5, 3.0, 3, 2), 0);
  }
}
END_TEST

/* ARS (AES-NI): the packed kernel equals the reference on its stream too. */
START_TEST(ars_stream) {
  if (!ising_rng_ars_available()) {
    printf("test_msc: ARS skipped (no AES-NI)\n");
    return;
  }
  test_alg = ISING_RNG_ARS;
  ck_assert_int_gt(run_pair(2, 200, 6, 1, 0.0, 2.269, 6, 1), 0);
  ck_assert_int_gt(run_pair(2, 512, 20, 1, 0.3, 1.8, 4, 2), 0);
  ck_assert_int_gt(run_pair(3, 256, 6, 4, 0.0, 4.5115, 4, 1), 0);
  ck_assert_int_gt(run_pair(3, 130, 4, 4, 0.5, 3.0, 3, 2), 0);
  test_alg = ISING_RNG_PHILOX;
}
END_TEST

START_TEST(extreme_temperatures) {
  run_pair(2, 64, 8, 1, 0.0, 0.05, 3, 1); /* thresholds near 0: long bit runs */
  run_pair(2, 64, 8, 1, 0.0, 1e6, 3, 1);  /* thresholds near 2^32 - 1 */
  run_pair(3, 8, 4, 4, 0.01, 0.2, 3, 1);
}
END_TEST

/* MSC, byte kernel, MSC on one lattice: the spins move between the packed
 * and the int8 copy (store before the byte kernel, load after it) and must
 * lose nothing.  The comparison lattice runs the MSC reference and the byte
 * reference kernel. */
START_TEST(switching_kernels) {
  pair p;
  make(&p, 2, 40, 10, 1, 5);
  ising_model m;
  ck_assert_int_eq(ising_model_init(&m, 2, 1.0, 0.1, 2.5, ISING_ALG_METROPOLIS), ISING_OK);
  ising_stream st = {ising_rng_key_from_seed(8), 0};
  for (int t = 0; t < 9; t++) {
    int kind = (t / 3) % 2; /* 0: MSC, 1: byte kernels */
    if (t > 0 && t % 3 == 0) { /* switch */
      if (kind == 1)
        ck_assert_int_eq(ising_msc_store(p.p, p.a), ISING_OK);
      else
        ck_assert_int_eq(ising_msc_load(p.p, p.a), ISING_OK);
    }
    for (int c = 0; c < 2; c++) {
      if (kind == 0) {
        ck_assert_int_eq(ising_msc_half(p.p, &m, st, (uint64_t)t, c, NULL), ISING_OK);
        ck_assert_int_eq(ising_msc_halo(p.p, c), ISING_OK);
        ck_assert_int_eq(ising_msc_half_reference(p.b, &m, st, (uint64_t)t, c, NULL), ISING_OK);
      } else {
        ck_assert_int_eq(ising_update_half(p.a, &m, ISING_BYTE_FAST, st, (uint64_t)t, c, NULL), ISING_OK);
        ck_assert_int_eq(ising_lattice_halo(p.a, c), ISING_OK);
        ck_assert_int_eq(ising_update_half(p.b, &m, ISING_BYTE_REFERENCE, st, (uint64_t)t, c, NULL), ISING_OK);
      }
      ck_assert_int_eq(ising_lattice_halo(p.b, c), ISING_OK);
    }
  }
  ck_assert_int_eq(ising_msc_store(p.p, p.a), ISING_OK);
  ck_assert_int_eq(differences(&p), 0);
  /* the lattice reports its own int8 copy's bytes, the object the packed ones */
  ck_assert_int_eq(ising_lattice_bytes(p.a), ising_lattice_bytes(p.b));
  ck_assert_int_eq(ising_msc_bytes(p.p), 8 * 2 * 1 * 12); /* one word per colour and row, 12 rows */
  drop(&p);
}
END_TEST

/* Each decision reads bytes until the first that differs from the
 * threshold's: 1 + a geometric number with p = 255/256, i.e. 8 * 256/255 =
 * 8.031 bits on average (variance 64 * 256/255^2 ~ 0.25 per decision).  The
 * measured mean must match within 5 standard errors; reading one 32-bit
 * number per decision would give 32, reading bits would give 2. */
START_TEST(bits_per_decision) {
  pair p;
  make(&p, 2, 256, 256, 1, 9);
  ising_model m;
  ck_assert_int_eq(ising_model_init(&m, 2, 1.0, 0.0, 2.269, ISING_ALG_METROPOLIS), ISING_OK);
  ising_stream st = {ising_rng_key_from_seed(3), 0};
  for (int t = 0; t < 20; t++)
    for (int c = 0; c < 2; c++) {
      ck_assert_int_eq(ising_msc_half(p.p, &m, st, (uint64_t)t, c, NULL), ISING_OK);
      ck_assert_int_eq(ising_msc_halo(p.p, c), ISING_OK);
    }
  int64_t s[4];
  ising_msc_stats(p.p, s);
  ck_assert_int_eq(s[0], 20 * 2 * 256 * 2); /* words: 256 rows, 2 words per colour row */
  double n = (double)s[1], mean = (double)s[2] / n, se = sqrt(64.0 * 256.0 / (255.0 * 255.0) / n);
  ck_assert_msg(s[1] > 100000, "only %lld decisions", (long long)s[1]);
  ck_assert_msg(fabs(mean - 8.0 * 256.0 / 255.0) < 5 * se, "%.4f bits per decision (se %.4f)", mean, se);
  /* bits drawn: what was read, plus less than one 256-byte chunk per row
   * and half sweep */
  ck_assert_int_ge(128 * s[3], s[2]);
  ck_assert_int_lt(128 * s[3], s[2] + 20 * 2 * 256 * 8 * 256);
  drop(&p);
}
END_TEST

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  Suite *s = suite_create("msc");
  TCase *tc = tcase_create("msc");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, fill_blocks_matches_random123);
  tcase_add_test(tc, packed_equals_reference_2d);
  tcase_add_test(tc, packed_equals_reference_3d);
  tcase_add_checked_fixture(tc, philox_again, NULL);
  tcase_add_test(tc, ars_stream);
  tcase_add_test(tc, extreme_temperatures);
  tcase_add_test(tc, switching_kernels);
  tcase_add_test(tc, bits_per_decision);
  suite_add_tcase(s, tc);
  int rc = ising_test_run_suite(s);
  MPI_Finalize();
  return rc;
}
