/*
 * test_msc_async.c -- the asynchronous multi-spin-coding kernel
 * (msc_async.h): 64 replicas in one word per site, each lane at its own
 * temperature.
 *
 *  - the packed kernel, on its word-at-once path (the build's: AVX-512
 *    VBMI2, AVX2 or portable) and in its lane-by-lane code, against the
 *    site-by-site lane-by-lane reference:
 *    identical spins in every lane after every half sweep, 2D and 3D, H = 0
 *    and H != 0, rows of 1, 2, 3, 8, 17 and 64 words (the 8-word blocks and
 *    their tails), axes of length 2, lanes from T = 0.05 to T = 1e6
 *    (thresholds 0 and 2^32 - 1), temperature swaps between sweeps, and
 *    with some lanes frozen (set_active), whose spins must then neither
 *    change nor influence the moving lanes;
 *  - row transfers to and from int8 rows against the one-spin accessors;
 *  - the per-lane bond sums and magnetisations from positional popcounts
 *    against a direct count through the accessors;
 *  - the random-bit economy: 8 * 256/255 = 8.031 bits per decision;
 *  - physics: 2D 4x4 (H = 0) and 3D 4x2x2 (H = 0.1), 16 lanes at each of
 *    four temperatures, <e> and <|m|> against exact enumeration
 *    (ising_exact_enumerate); the error bar is the standard error of the
 *    16 independent lanes' time averages (their spread, not an assumed
 *    autocorrelation time); |z| < 4.5 must hold at the lanes' temperatures
 *    and fail (|z| > 4.5) against the exact values at a 3% higher one;
 *  - bimodal couplings (set_couplings), four hashed +-1 samples in blocks
 *    of 16 lanes or interleaved lane by lane: the packed paths against the
 *    reference (which reads the weights from the providers site by site),
 *    all-(+1) bimodal against the uniform kernel bit for bit, the sums
 *    against sum w_ij s_i s_j through the accessors, the refusals, and
 *    3D 2x2x2 at T = 2, H = 0.1: each sample's <e> against the exact
 *    enumeration of its 2^8 states, with power against the sign-blind rule.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/exact.h"
#include "ising/msc_async.h"
#include "testutil.h"

#define LANES ISING_MSC_ASYNC_LANES

/* Bimodal samples: w = +-1 from a hash of (seed, site, axis); seed 0: all
 * +1 (a bimodal provider of the ferromagnet). */
typedef struct sample {
  uint64_t seed;
} sample;

static int32_t sample_w(const void *ctx, int64_t site, int axis) {
  const uint64_t seed = ((const sample *)ctx)->seed;
  if (!seed) return 1;
  uint64_t h = seed * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)site * 3 + (uint64_t)axis) * 0xBF58476D1CE4E5B9ULL;
  h ^= h >> 31;
  h *= 0x94D049BB133111EBULL;
  h ^= h >> 29;
  return (h >> 7 & 1) ? -1 : 1;
}

#define NSAMPLES 4
static sample samples[NSAMPLES + 1] = {{0}, {11}, {22}, {33}, {44}};
static ising_couplings provider[NSAMPLES + 1];

static void providers_init(double H) {
  for (int k = 0; k <= NSAMPLES; k++) {
    provider[k] = ising_couplings_uniform(1.0, H);
    provider[k].bond = sample_w;
    provider[k].ctx = &samples[k];
    provider[k].bimodal = 1;
  }
}

/* The couplings make() gives every new object (NULL: uniform; reset
 * before every test, so that a failed one leaves no dangling pointer). */
static const ising_couplings *const *make_cp;
static void reset_make_cp(void) { make_cp = NULL; }

static ising_msc_async *make(int dim, int64_t Lx, int64_t Ly, int64_t Lz, double H,
                             const double T[64]) {
  const int64_t L[3] = {Lx, Ly, Lz};
  ising_msc_async *a = NULL;
  int rc = ising_msc_async_create(dim, L, 1.0, H, T, &a);
  ck_assert_msg(rc == ISING_OK, "create: %s", ising_err_message());
  if (make_cp) {
    rc = ising_msc_async_set_couplings(a, make_cp);
    ck_assert_msg(rc == ISING_OK, "set_couplings: %s", ising_err_message());
  }
  return a;
}

/* Lanes in blocks of 16 per sample 1..4 (mixed = 0), or lane l of sample
 * 1 + l % 4 (mixed = 1: the samples interleaved within every byte). */
static void lanes_of_samples(const ising_couplings *cp[64], int mixed, double H) {
  providers_init(H);
  for (int l = 0; l < LANES; l++) cp[l] = &provider[1 + (mixed ? l % NSAMPLES : l / 16)];
}

/* Number of (site, lane) spins that differ. */
static int64_t differences(const ising_msc_async *a, const ising_msc_async *b, int dim,
                           const int64_t L[3]) {
  int64_t d = 0;
  for (int64_t z = 0; z < (dim == 3 ? L[2] : 1); z++)
    for (int64_t y = 0; y < L[1]; y++)
      for (int64_t x = 0; x < L[0]; x++)
        for (int l = 0; l < LANES; l++) {
          int sa = 0, sb = 0;
          /* no ck_assert per spin: Check records every passing assertion */
          int rc = ising_msc_async_get(a, l, x, y, z, &sa) | ising_msc_async_get(b, l, x, y, z, &sb);
          d += rc != ISING_OK || sa != sb;
        }
  return d;
}

/* A ladder across the lanes from T = 0.05 to 1e6, geometric, lanes in a
 * scrambled order so that neighbouring lanes are far apart in T. */
static void wide_ladder(double T[64]) {
  for (int l = 0; l < LANES; l++) T[(l * 37) % LANES] = 0.05 * pow(1e6 / 0.05, l / 63.0);
}

static int64_t total_ties; /* bytes read beyond one per decision, over the tests */

/* The generator of the runs below: Philox, or ARS in ars_stream. */
static uint32_t test_alg = ISING_RNG_PHILOX;
static void philox_again(void) { test_alg = ISING_RNG_PHILOX; } /* each test starts so */
#define test_key(seed) ising_test_key(seed, test_alg)

/* Three copies (word-at-once path, lane-by-lane code, reference), the same hot start,
 * the lanes of `active` moving, `sweeps` sweeps, compared after every half
 * sweep; temperatures swapped between some sweeps. */
static void run_three_masked(int dim, int64_t Lx, int64_t Ly, int64_t Lz, double H,
                             const double T[64], int sweeps, uint64_t active) {
  const int64_t L[3] = {Lx, Ly, Lz};
  ising_msc_async *f = make(dim, Lx, Ly, Lz, H, T), *p = make(dim, Lx, Ly, Lz, H, T),
                  *r = make(dim, Lx, Ly, Lz, H, T);
  for (int k = 0; k < 3; k++)
    ck_assert_int_eq(ising_msc_async_set_active(k == 0 ? f : k == 1 ? p : r, active), ISING_OK);
  ck_assert_int_eq(ising_msc_async_use_simd(f, 1), ISING_OK); /* every build has a word-at-once path */
  ck_assert_int_eq(ising_msc_async_use_simd(p, 0), ISING_OK);
  ising_rng_key key = test_key(77 + (uint64_t)Lx);
  for (int k = 0; k < 3; k++)
    ck_assert_int_eq(ising_msc_async_fill_hot(k == 0 ? f : k == 1 ? p : r, key, 5), ISING_OK);
  ising_rng_key run = test_key(2024);
  int64_t changed = 0;
  for (int t = 0; t < sweeps; t++) {
    if (t % 2 == 1)
      for (int k = 0; k < 3; k++)
        ck_assert_int_eq(ising_msc_async_swap_temperatures(k == 0 ? f : k == 1 ? p : r, t % 64,
                                                           (5 * t + 3) % 64),
                         ISING_OK);
    for (int c = 0; c < 2; c++) {
      ising_msc_async *before = make(dim, Lx, Ly, Lz, H, T);
      for (int64_t z = 0; z < (dim == 3 ? Lz : 1); z++)
        for (int64_t y = 0; y < Ly; y++)
          for (int64_t x = 0; x < Lx; x++)
            for (int l = 0; l < LANES; l++) {
              int s;
              ising_msc_async_get(r, l, x, y, z, &s);
              ising_msc_async_set(before, l, x, y, z, s);
            }
      ck_assert_int_eq(ising_msc_async_half(f, c, (uint64_t)t, run, 9), ISING_OK);
      ck_assert_int_eq(ising_msc_async_half(p, c, (uint64_t)t, run, 9), ISING_OK);
      ck_assert_int_eq(ising_msc_async_half_reference(r, c, (uint64_t)t, run, 9), ISING_OK);
      ck_assert_msg(differences(f, r, dim, L) == 0,
                    "word-at-once kernel differs from the reference at sweep %d colour %d "
                    "(%dD %lldx%lldx%lld H=%g)",
                    t, c, dim, (long long)Lx, (long long)Ly, (long long)Lz, H);
      ck_assert_msg(differences(p, r, dim, L) == 0,
                    "lane-by-lane kernel differs from the reference at sweep %d colour %d (%dD %lldx%lldx%lld H=%g)",
                    t, c, dim, (long long)Lx, (long long)Ly, (long long)Lz, H);
      changed += differences(before, r, dim, L);
      ising_msc_async_destroy(&before);
    }
  }
  ck_assert_int_gt(changed, 0);
  int64_t sf[4], sp[4];
  ising_msc_async_stats(f, sf);
  ising_msc_async_stats(p, sp);
  for (int i = 0; i < 3; i++) ck_assert_int_eq(sf[i], sp[i]); /* blocks drawn may differ: refill sizes */
  total_ties += sf[2] - sf[1];
  ising_msc_async_destroy(&f);
  ising_msc_async_destroy(&p);
  ising_msc_async_destroy(&r);
}

static void run_three(int dim, int64_t Lx, int64_t Ly, int64_t Lz, double H, const double T[64],
                      int sweeps) {
  run_three_masked(dim, Lx, Ly, Lz, H, T, sweeps, ~(uint64_t)0);
}

START_TEST(packed_equals_reference_2d) {
  double T[64], Tc[64];
  wide_ladder(T);
  for (int l = 0; l < LANES; l++) Tc[l] = 1.5 + 0.05 * l; /* all near the transition */
  /* rows of 1, 2, 3, 8, 17 and 64 words per colour */
  const int64_t Ls[][2] = {{2, 4}, {4, 4}, {6, 2}, {16, 6}, {34, 4}, {128, 2}};
  for (size_t i = 0; i < sizeof Ls / sizeof *Ls; i++) {
    run_three(2, Ls[i][0], Ls[i][1], 1, 0.0, Tc, 4);
    run_three(2, Ls[i][0], Ls[i][1], 1, 0.3, T, 3);
  }
  run_three(2, 34, 4, 1, -0.7, T, 3);
  run_three(2, 16, 6, 1, 0.0, T, 3);
  run_three(2, 16, 6, 1, 5.0, Tc, 2); /* |H| > z J: the field decides alone */
}
END_TEST

START_TEST(packed_equals_reference_3d) {
  double T[64], Tc[64];
  wide_ladder(T);
  for (int l = 0; l < LANES; l++) Tc[l] = 3.0 + 0.05 * l;
  const int64_t Ls[][3] = {{2, 2, 2}, {4, 4, 4}, {6, 4, 2}, {34, 2, 4}};
  for (size_t i = 0; i < sizeof Ls / sizeof *Ls; i++) {
    run_three(3, Ls[i][0], Ls[i][1], Ls[i][2], 0.0, Tc, 3);
    run_three(3, Ls[i][0], Ls[i][1], Ls[i][2], 0.5, T, 2);
  }
  run_three(3, 6, 4, 2, -0.2, T, 2);
}
END_TEST

/* ARS (AES-NI): the word-at-once and lane-by-lane paths equal the
 * reference on its stream too. */
START_TEST(ars_stream) {
  if (!ising_rng_ars_available()) {
    printf("test_msc_async: ARS skipped (no AES-NI)\n");
    return;
  }
  double T[64], Tc[64];
  wide_ladder(T);
  for (int l = 0; l < LANES; l++) Tc[l] = 1.5 + 0.05 * l;
  test_alg = ISING_RNG_ARS;
  run_three(2, 34, 4, 1, 0.0, Tc, 4);
  run_three(2, 128, 2, 1, 0.3, T, 3);
  for (int l = 0; l < LANES; l++) Tc[l] = 3.0 + 0.05 * l;
  run_three(3, 6, 4, 2, 0.0, Tc, 3);
  test_alg = ISING_RNG_PHILOX;
}
END_TEST

/* Frozen lanes (ising_msc_async_set_active, the engine's idle lanes of a
 * partial set): the packed paths still equal the reference; a frozen lane
 * never changes; and the moving lanes' trajectory does not depend on what
 * the frozen lanes hold (two objects that differ only in the frozen lanes'
 * spins stay equal in the moving ones, and differ in the frozen ones). */
START_TEST(frozen_lanes) {
  double T[64];
  for (int l = 0; l < LANES; l++) T[l] = 1.6 + 0.04 * l;
  const uint64_t masks[] = {0x1, 0xF, 0x00000000FFFFFFFFull, 0x8000F00F0000A5A5ull};
  for (size_t i = 0; i < sizeof masks / sizeof *masks; i++) {
    run_three_masked(2, 34, 4, 1, 0.2, T, 3, masks[i]);
    run_three_masked(3, 6, 4, 2, 0.0, T, 2, masks[i]);
  }
  const int64_t L[3] = {34, 6, 1};
  const uint64_t on = 0x00000000FFFFFFFFull;
  ising_msc_async *a = make(2, L[0], L[1], 1, 0.0, T), *b = make(2, L[0], L[1], 1, 0.0, T);
  ck_assert_int_eq(ising_msc_async_fill_hot(a, ising_rng_key_from_seed(3), 0), ISING_OK);
  ck_assert_int_eq(ising_msc_async_fill_hot(b, ising_rng_key_from_seed(4), 0), ISING_OK);
  for (int64_t y = 0; y < L[1]; y++) /* b's moving lanes := a's */
    for (int64_t x = 0; x < L[0]; x++)
      for (int l = 0; l < 32; l++) {
        int s;
        ising_msc_async_get(a, l, x, y, 0, &s);
        ising_msc_async_set(b, l, x, y, 0, s);
      }
  ising_msc_async_set_active(a, on);
  ising_msc_async_set_active(b, on);
  int64_t frozen0 = differences(a, b, 2, L);
  ck_assert_int_gt(frozen0, 0);
  for (int t = 0; t < 20; t++)
    for (int c = 0; c < 2; c++) {
      ck_assert_int_eq(ising_msc_async_half(a, c, (uint64_t)t, ising_rng_key_from_seed(9), 1), ISING_OK);
      ck_assert_int_eq(ising_msc_async_half(b, c, (uint64_t)t, ising_rng_key_from_seed(9), 1), ISING_OK);
    }
  int64_t moving = 0, frozen = 0;
  for (int64_t y = 0; y < L[1]; y++)
    for (int64_t x = 0; x < L[0]; x++)
      for (int l = 0; l < LANES; l++) {
        int sa, sb;
        ising_msc_async_get(a, l, x, y, 0, &sa);
        ising_msc_async_get(b, l, x, y, 0, &sb);
        if (l < 32) moving += sa != sb;
        else frozen += sa != sb;
      }
  ck_assert_int_eq(moving, 0);
  ck_assert_int_eq(frozen, frozen0);
  int64_t st[4];
  ising_msc_async_stats(a, st);
  ck_assert_int_gt(st[1], 0);
  ising_msc_async_destroy(&a);
  ising_msc_async_destroy(&b);
}
END_TEST

/* Row transfers (the engine's bridge to int8 lattices) against the
 * one-spin accessors: get_row reads what set wrote, set_row writes what get
 * reads and keeps the lanes past nlanes; bad arguments are refused. */
START_TEST(row_transfers) {
  double T[64];
  for (int l = 0; l < LANES; l++) T[l] = 2.0;
  const int64_t L[3] = {10, 4, 6};
  ising_msc_async *a = make(3, L[0], L[1], L[2], 0.0, T);
  ck_assert_int_eq(ising_msc_async_fill_hot(a, ising_rng_key_from_seed(5), 2), ISING_OK);
  int8_t buf[LANES][10], *rows[LANES];
  for (int l = 0; l < LANES; l++) rows[l] = buf[l];
  int64_t bad = 0, kept = 0;
  for (int64_t z = 0; z < L[2]; z++)
    for (int64_t y = 0; y < L[1]; y++) {
      ck_assert_int_eq(ising_msc_async_get_row(a, y, z, LANES, rows), ISING_OK);
      for (int64_t x = 0; x < L[0]; x++)
        for (int l = 0; l < LANES; l++) {
          int s;
          ising_msc_async_get(a, l, x, y, z, &s);
          bad += buf[l][x] != s;
          buf[l][x] = (int8_t)((x + y + z + l) % 3 ? 1 : -1); /* a pattern to write back */
        }
      int keep[LANES][10];
      for (int64_t x = 0; x < L[0]; x++)
        for (int l = 40; l < LANES; l++) ising_msc_async_get(a, l, x, y, z, &keep[l][x]);
      ck_assert_int_eq(ising_msc_async_set_row(a, y, z, 40, (const int8_t *const *)rows), ISING_OK);
      for (int64_t x = 0; x < L[0]; x++)
        for (int l = 0; l < LANES; l++) {
          int s;
          ising_msc_async_get(a, l, x, y, z, &s);
          if (l < 40) bad += s != buf[l][x];
          else kept += s == keep[l][x];
        }
    }
  ck_assert_int_eq(bad, 0);
  ck_assert_int_eq(kept, (LANES - 40) * L[0] * L[1] * L[2]);
  ck_assert_int_eq(ising_msc_async_get_row(a, 4, 0, LANES, rows), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_msc_async_get_row(a, 0, 6, LANES, rows), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_msc_async_get_row(a, 0, 0, 65, rows), ISING_ERR_INPUT);
  buf[3][7] = 0;
  ck_assert_int_eq(ising_msc_async_set_row(a, 0, 0, 4, (const int8_t *const *)rows), ISING_ERR_INPUT);
  ising_err_clear();
  ising_msc_async_destroy(&a);
}
END_TEST

/* After the two tests above: the rare rounds 1..3 were exercised. */
START_TEST(ties_were_exercised) { ck_assert_int_gt(total_ties, 20); }
END_TEST

static void check_sums(int dim, int64_t Lx, int64_t Ly, int64_t Lz, double H) {
  double T[64];
  wide_ladder(T);
  ising_msc_async *a = make(dim, Lx, Ly, Lz, H, T);
  ising_rng_key key = ising_rng_key_from_seed(5);
  ck_assert_int_eq(ising_msc_async_fill_hot(a, key, 1), ISING_OK);
  for (int round = 0; round < 3; round++) {
    if (round == 1) ck_assert_int_eq(ising_msc_async_fill_cold(a, -1), ISING_OK);
    if (round == 2)
      for (int t = 0; t < 5; t++)
        for (int c = 0; c < 2; c++) ck_assert_int_eq(ising_msc_async_half(a, c, (uint64_t)t, key, 0), ISING_OK);
    int64_t B[64], M[64];
    ck_assert_int_eq(ising_msc_async_sums(a, B, M), ISING_OK);
    const int64_t Lzz = dim == 3 ? Lz : 1;
    for (int l = 0; l < LANES; l++) {
      int64_t b = 0, m = 0;
      for (int64_t z = 0; z < Lzz; z++)
        for (int64_t y = 0; y < Ly; y++)
          for (int64_t x = 0; x < Lx; x++) {
            int s, n;
            ising_msc_async_get(a, l, x, y, z, &s);
            m += s;
            ising_msc_async_get(a, l, x + 1, y, z, &n); /* one bond to x + e_k per axis */
            b += s * n;
            ising_msc_async_get(a, l, x, y + 1, z, &n);
            b += s * n;
            if (dim == 3) {
              ising_msc_async_get(a, l, x, y, z + 1, &n);
              b += s * n;
            }
          }
      ck_assert_msg(B[l] == b && M[l] == m, "lane %d: sums B=%lld M=%lld, direct B=%lld M=%lld (%dD %lldx%lldx%lld)", l,
                    (long long)B[l], (long long)M[l], (long long)b, (long long)m, dim, (long long)Lx,
                    (long long)Ly, (long long)Lz);
    }
  }
  ising_msc_async_destroy(&a);
}

START_TEST(sums_equal_direct_count) {
  check_sums(2, 4, 4, 1, 0.0);
  check_sums(2, 2, 6, 1, 0.3);
  check_sums(2, 34, 10, 1, 0.0);
  check_sums(2, 200, 150, 1, 0.0); /* enough sites to carry the byte counters over */
  check_sums(2, 202, 150, 1, 0.0); /* rows ending in a partial register (101 words) */
  check_sums(3, 2, 2, 2, 0.1);
  check_sums(3, 6, 4, 8, 0.0);
  check_sums(3, 40, 30, 20, 0.0);
  check_sums(3, 46, 30, 20, 0.0); /* 23 words per row */
}
END_TEST

START_TEST(api_errors) {
  double T[64];
  for (int l = 0; l < LANES; l++) T[l] = 2.0;
  ising_msc_async *a = NULL;
  const int64_t odd[3] = {5, 4, 4}, ok[3] = {4, 4, 4}, zero[3] = {0, 4, 4};
  ck_assert_int_eq(ising_msc_async_create(2, odd, 1.0, 0.0, T, &a), ISING_ERR_INPUT);
  ck_assert_ptr_null(a);
  ck_assert_int_eq(ising_msc_async_create(2, zero, 1.0, 0.0, T, &a), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_msc_async_create(4, ok, 1.0, 0.0, T, &a), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_msc_async_create(2, ok, -1.0, 0.0, T, &a), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_msc_async_create(2, ok, 1.0, NAN, T, &a), ISING_ERR_INPUT);
  T[17] = 0;
  ck_assert_int_eq(ising_msc_async_create(2, ok, 1.0, 0.0, T, &a), ISING_ERR_INPUT);
  T[17] = 2.0;
  ising_err_clear();
  ck_assert_int_eq(ising_msc_async_create(2, ok, 1.0, 0.0, T, &a), ISING_OK);
  ck_assert_int_eq(ising_msc_async_set_temperature(a, 64, 1.0), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_msc_async_set_temperature(a, 3, -1.0), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_msc_async_set_temperature(a, 3, 7.5), ISING_OK);
  ck_assert_int_eq(ising_msc_async_swap_temperatures(a, 3, 60), ISING_OK);
  double t3, t60;
  ck_assert_int_eq(ising_msc_async_temperature(a, 3, &t3), ISING_OK);
  ck_assert_int_eq(ising_msc_async_temperature(a, 60, &t60), ISING_OK);
  ck_assert(t3 == 2.0 && t60 == 7.5);
  ck_assert_int_eq(ising_msc_async_swap_temperatures(a, -1, 2), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_msc_async_half(a, 2, 0, ising_rng_key_from_seed(1), 0), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_msc_async_half(a, 0, 0, ising_rng_key_from_seed(1), 1u << 24), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_msc_async_set(a, 0, 0, 0, 0, 2), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_msc_async_fill_cold(a, 0), ISING_ERR_INPUT);
  /* get/set: one lane, one site, periodic coordinates */
  ck_assert_int_eq(ising_msc_async_set(a, 63, -1, 5, 0, -1), ISING_OK);
  int s;
  ck_assert_int_eq(ising_msc_async_get(a, 63, 3, 1, 7, &s), ISING_OK);
  ck_assert_int_eq(s, -1);
  ck_assert_int_eq(ising_msc_async_get(a, 62, 3, 1, 0, &s), ISING_OK);
  ck_assert_int_eq(s, 1);
  int64_t B[64], M[64];
  ck_assert_int_eq(ising_msc_async_sums(a, B, M), ISING_OK);
  ck_assert_int_eq(M[63], 14);
  ck_assert_int_eq(B[63], 32 - 8);
  ck_assert_int_eq(M[0], 16);
  ising_err_clear();
  ising_msc_async_destroy(&a);
  ck_assert_ptr_null(a);
  ising_msc_async_destroy(&a);
  ising_msc_async_destroy(NULL);
}
END_TEST

/* Each decision reads bytes until the first that differs from the
 * threshold's: 8 * 256/255 = 8.031 bits on average, variance 64 * 256/255^2
 * per decision; the measured mean within 5 standard errors. */
START_TEST(bits_per_decision) {
  double T[64];
  for (int l = 0; l < LANES; l++) T[l] = 1.8 + 0.02 * l;
  ising_msc_async *a = make(2, 64, 64, 1, 0.0, T);
  ising_rng_key key = ising_rng_key_from_seed(3);
  ck_assert_int_eq(ising_msc_async_fill_hot(a, key, 0), ISING_OK);
  for (int t = 0; t < 10; t++)
    for (int c = 0; c < 2; c++) ck_assert_int_eq(ising_msc_async_half(a, c, (uint64_t)t, key, 0), ISING_OK);
  int64_t st[4];
  ising_msc_async_stats(a, st);
  ck_assert_int_eq(st[0], 10 * 64 * 64);
  double bits = 8.0 * (double)st[2] / (double)st[1], mean = 8.0 * 256.0 / 255.0;
  double se = sqrt(64.0 * 256.0 / (255.0 * 255.0) / (double)st[1]);
  ck_assert_msg(fabs(bits - mean) < 5 * se, "%.5f bits per decision, expected %.5f +- %.5f", bits, mean, se);
  ck_assert(128.0 * (double)st[3] >= 8.0 * (double)st[2]);
  ising_msc_async_destroy(&a);
}
END_TEST

/* 16 lanes at each of four temperatures (lane l at temps[l % 4]); every
 * sweep each lane's e = E/N and |m| are recorded; the lanes' time averages
 * at one temperature are 16 independent estimates whose spread gives the
 * standard error. */
static void physics(int dim, const int64_t L[3], double H, const double temps[4], long burn,
                    long sweeps) {
  double T[64];
  for (int l = 0; l < LANES; l++) T[l] = temps[l % 4];
  ising_msc_async *a = make(dim, L[0], L[1], L[2], H, T);
  const double N = (double)(L[0] * L[1] * (dim == 3 ? L[2] : 1));
  ising_rng_key key = ising_rng_key_from_seed(31337 + (uint64_t)dim);
  ck_assert_int_eq(ising_msc_async_fill_hot(a, key, 3), ISING_OK);
  double se_[64] = {0}, sm[64] = {0};
  int64_t B[64], M[64];
  int rc = ISING_OK;
  for (long t = 0; t < burn + sweeps && !rc; t++) {
    for (int c = 0; c < 2; c++) rc |= ising_msc_async_half(a, c, (uint64_t)t, key, 3);
    if (t < burn) continue;
    rc |= ising_msc_async_sums(a, B, M);
    for (int l = 0; l < LANES; l++) {
      se_[l] += (-(double)B[l] - H * (double)M[l]) / N;
      sm[l] += fabs((double)M[l]) / N;
    }
  }
  ck_assert_int_eq(rc, ISING_OK);
  for (int k = 0; k < 4; k++) {
    double me = 0, mm = 0, ve = 0, vm = 0;
    for (int l = k; l < LANES; l += 4) me += se_[l] / (double)sweeps / 16, mm += sm[l] / (double)sweeps / 16;
    for (int l = k; l < LANES; l += 4) {
      double de = se_[l] / (double)sweeps - me, dm = sm[l] / (double)sweeps - mm;
      ve += de * de / 15, vm += dm * dm / 15;
    }
    double ee = sqrt(ve / 16), em = sqrt(vm / 16);
    ising_exact_obs x, w;
    ck_assert_int_eq(ising_exact_enumerate(dim, L, 1.0, H, temps[k], &x), ISING_OK);
    ck_assert_int_eq(ising_exact_enumerate(dim, L, 1.0, H, 1.03 * temps[k], &w), ISING_OK);
    double ze = (me - x.e) / ee, zm = (mm - x.m_abs) / em;
    double we = (me - w.e) / ee, wm = (mm - w.m_abs) / em;
    printf("msc-async physics %dD T=%g H=%g: e = %.5f +- %.5f (exact %.5f, z %.2f; at 1.03 T z %.1f), "
           "|m| = %.5f +- %.5f (exact %.5f, z %.2f; at 1.03 T z %.1f)\n",
           dim, temps[k], H, me, ee, x.e, ze, we, mm, em, x.m_abs, zm, wm);
    ck_assert_msg(fabs(ze) < 4.5 && fabs(zm) < 4.5, "%dD T=%g: z(e) = %.2f, z(|m|) = %.2f", dim,
                  temps[k], ze, zm);
    ck_assert_msg(fabs(we) > 4.5 && fabs(wm) > 4.5,
                  "%dD T=%g: no power: against 1.03 T z(e) = %.2f, z(|m|) = %.2f", dim, temps[k], we, wm);
  }
  ising_msc_async_destroy(&a);
}

START_TEST(physics_2d_4x4_exact) {
  const int64_t L[3] = {4, 4, 1};
  const double temps[4] = {1.6, 2.269, 3.0, 4.0};
  physics(2, L, 0.0, temps, 2000, 400000);
}
END_TEST

START_TEST(physics_3d_4x2x2_exact) {
  const int64_t L[3] = {4, 2, 2};
  const double temps[4] = {3.0, 4.5, 6.0, 8.0};
  physics(3, L, 0.1, temps, 2000, 400000);
}
END_TEST

/* Bimodal couplings: packed (word at once and lane by lane) against the reference
 * with the weights read from the providers site by site. */
START_TEST(bimodal_equals_reference) {
  double T[64];
  wide_ladder(T);
  const ising_couplings *cp[64];
  for (int mixed = 0; mixed < 2; mixed++) {
    lanes_of_samples(cp, mixed, 0.0);
    make_cp = cp;
    run_three(2, 16, 6, 1, 0.0, T, 4);
    run_three(3, 4, 6, 2, 0.0, T, 4);
    run_three(3, 34, 4, 4, 0.0, T, 3); /* 17 words per row */
    lanes_of_samples(cp, mixed, 0.3);
    run_three(2, 6, 2, 1, 0.3, T, 4);
    run_three(3, 16, 4, 6, 0.3, T, 4);
    run_three_masked(3, 8, 4, 2, 0.3, T, 4, 0x00FF00FF00FF00FFULL);
    for (int l = 0; l < LANES; l++) T[l] = 0.8 + 0.05 * l; /* many random decisions */
    run_three(3, 16, 16, 16, 0.3, T, 2);
    wide_ladder(T);
  }
  make_cp = NULL;
}
END_TEST

/* All w = +1 through the bimodal path: the ferromagnet's bits. */
START_TEST(bimodal_ferromagnet_is_uniform) {
  double T[64];
  for (int l = 0; l < LANES; l++) T[l] = 1.5 + 0.1 * l;
  providers_init(0.2);
  const ising_couplings *cp[64];
  for (int l = 0; l < LANES; l++) cp[l] = &provider[0];
  for (int dim = 2; dim <= 3; dim++) {
    const int64_t L[3] = {12, 8, 6};
    ising_msc_async *u = make(dim, 12, 8, 6, 0.2, T), *b = make(dim, 12, 8, 6, 0.2, T);
    ck_assert_int_eq(ising_msc_async_set_couplings(b, cp), ISING_OK);
    ising_rng_key key = ising_rng_key_from_seed(99);
    ck_assert_int_eq(ising_msc_async_fill_hot(u, key, 2), ISING_OK);
    ck_assert_int_eq(ising_msc_async_fill_hot(b, key, 2), ISING_OK);
    for (int t = 0; t < 6; t++)
      for (int c = 0; c < 2; c++) {
        ck_assert_int_eq(ising_msc_async_half(u, c, (uint64_t)t, key, 2), ISING_OK);
        ck_assert_int_eq(ising_msc_async_half(b, c, (uint64_t)t, key, 2), ISING_OK);
        ck_assert_int_eq(differences(u, b, dim, L), 0);
      }
    int64_t Bu[64], Mu[64], Bb[64], Mb[64];
    ck_assert_int_eq(ising_msc_async_sums(u, Bu, Mu), ISING_OK);
    ck_assert_int_eq(ising_msc_async_sums(b, Bb, Mb), ISING_OK);
    for (int l = 0; l < LANES; l++) ck_assert(Bu[l] == Bb[l] && Mu[l] == Mb[l]);
    ising_msc_async_destroy(&u);
    ising_msc_async_destroy(&b);
  }
}
END_TEST

/* Sums with bond signs against sum w_ij s_i s_j through the accessors. */
static void check_sums_bimodal(int dim, int64_t Lx, int64_t Ly, int64_t Lz) {
  double T[64];
  wide_ladder(T);
  const ising_couplings *cp[64];
  lanes_of_samples(cp, 1, 0.0);
  make_cp = cp;
  ising_msc_async *a = make(dim, Lx, Ly, Lz, 0.0, T);
  make_cp = NULL;
  ising_rng_key key = ising_rng_key_from_seed(8);
  ck_assert_int_eq(ising_msc_async_fill_hot(a, key, 1), ISING_OK);
  for (int round = 0; round < 2; round++) {
    if (round == 1)
      for (int t = 0; t < 3; t++)
        for (int c = 0; c < 2; c++) ck_assert_int_eq(ising_msc_async_half(a, c, (uint64_t)t, key, 0), ISING_OK);
    int64_t B[64], M[64];
    ck_assert_int_eq(ising_msc_async_sums(a, B, M), ISING_OK);
    const int64_t Lzz = dim == 3 ? Lz : 1;
    for (int l = 0; l < LANES; l++) {
      int64_t b = 0, m = 0;
      for (int64_t z = 0; z < Lzz; z++)
        for (int64_t y = 0; y < Ly; y++)
          for (int64_t x = 0; x < Lx; x++) {
            const int64_t site = x + Lx * (y + Ly * z);
            int s, n;
            ising_msc_async_get(a, l, x, y, z, &s);
            m += s;
            ising_msc_async_get(a, l, x + 1, y, z, &n);
            b += ising_couplings_w(cp[l], site, 0) * s * n;
            ising_msc_async_get(a, l, x, y + 1, z, &n);
            b += ising_couplings_w(cp[l], site, 1) * s * n;
            if (dim == 3) {
              ising_msc_async_get(a, l, x, y, z + 1, &n);
              b += ising_couplings_w(cp[l], site, 2) * s * n;
            }
          }
      ck_assert_msg(B[l] == b && M[l] == m, "lane %d: sums B=%lld M=%lld, direct B=%lld M=%lld", l,
                    (long long)B[l], (long long)M[l], (long long)b, (long long)m);
    }
  }
  ising_msc_async_destroy(&a);
}

START_TEST(bimodal_sums) {
  check_sums_bimodal(2, 4, 4, 1);
  check_sums_bimodal(2, 2, 6, 1);
  check_sums_bimodal(2, 202, 150, 1); /* the carry-save path, partial registers */
  check_sums_bimodal(3, 2, 2, 2);
  check_sums_bimodal(3, 6, 4, 8);
  check_sums_bimodal(3, 46, 30, 20);
}
END_TEST

/* Refused couplings: a field source, dilution, another J_unit. */
START_TEST(bimodal_refused) {
  double T[64];
  wide_ladder(T);
  ising_msc_async *a = make(3, 4, 4, 4, 0.0, T);
  const ising_couplings *cp[64];
  lanes_of_samples(cp, 0, 0.0);
  ising_couplings bad = provider[1];
  bad.bimodal = 0;
  cp[5] = &bad;
  ck_assert_int_eq(ising_msc_async_set_couplings(a, cp), ISING_ERR_INPUT);
  ck_assert_ptr_nonnull(strstr(ising_err_message(), "without dilution or random fields"));
  ising_err_clear();
  bad = provider[1];
  bad.J_unit = 2.0;
  cp[5] = &bad;
  ck_assert_int_eq(ising_msc_async_set_couplings(a, cp), ISING_ERR_INPUT);
  ising_err_clear();
  ising_msc_async_destroy(&a);
}
END_TEST

/* 3D 2x2x2 with H = 0.1: lanes l of sample 1 + l % 4 at T = 2; each
 * sample's <e> against the exact enumeration of its 2^8 states with its
 * weights (E = -sum over bonds (site, axis) of w s s - H M), and with
 * power against the sign-blind rule (the ferromagnet's exact <e>). */
static double exact_e(const ising_couplings *c, double T, double H) {
  double Z = 0, Es = 0;
  for (int st = 0; st < 256; st++) {
    int s[8];
    for (int i = 0; i < 8; i++) s[i] = (st >> i & 1) ? -1 : 1;
    double E = 0;
    for (int i = 0; i < 8; i++) {
      const int x = i & 1, y = i >> 1 & 1, z = i >> 2;
      const int nb[3] = {(x ^ 1) + 2 * y + 4 * z, x + 2 * (y ^ 1) + 4 * z, x + 2 * y + 4 * (z ^ 1)};
      for (int k = 0; k < 3; k++) E -= ising_couplings_w(c, i, k) * s[i] * s[nb[k]];
      E -= H * s[i];
    }
    const double w = exp(-E / T);
    Z += w;
    Es += E * w;
  }
  return Es / Z / 8;
}

START_TEST(bimodal_physics_2x2x2_exact) {
  const double H = 0.1, Tt = 2.0;
  double T[64];
  for (int l = 0; l < LANES; l++) T[l] = Tt;
  const ising_couplings *cp[64];
  lanes_of_samples(cp, 1, H);
  make_cp = cp;
  ising_msc_async *a = make(3, 2, 2, 2, H, T);
  make_cp = NULL;
  ising_rng_key key = ising_rng_key_from_seed(4242);
  ck_assert_int_eq(ising_msc_async_fill_hot(a, key, 0), ISING_OK);
  const long burn = 1000, sweeps = 200000;
  double se_[64] = {0};
  int64_t B[64], M[64];
  int rc = ISING_OK;
  for (long t = 0; t < burn + sweeps && !rc; t++) {
    for (int c = 0; c < 2; c++) rc |= ising_msc_async_half(a, c, (uint64_t)t, key, 0);
    if (t < burn) continue;
    rc |= ising_msc_async_sums(a, B, M);
    for (int l = 0; l < LANES; l++) se_[l] += (-(double)B[l] - H * (double)M[l]) / 8;
  }
  ck_assert_int_eq(rc, ISING_OK);
  const double ferro = exact_e(&provider[0], Tt, H);
  int powered = 0;
  for (int k = 0; k < NSAMPLES; k++) {
    double me = 0, ve = 0;
    for (int l = k; l < LANES; l += NSAMPLES) me += se_[l] / (double)sweeps / 16;
    for (int l = k; l < LANES; l += NSAMPLES) {
      const double d = se_[l] / (double)sweeps - me;
      ve += d * d / 15;
    }
    const double ee = sqrt(ve / 16), x = exact_e(&provider[1 + k], Tt, H);
    const double z = (me - x) / ee, zf = (me - ferro) / ee;
    printf("msc-async bimodal 2x2x2 sample %d T=%g H=%g: e = %.5f +- %.5f (exact %.5f, z %.2f; "
           "sign-blind exact %.5f, z %.1f)\n", k + 1, Tt, H, me, ee, x, z, ferro, zf);
    ck_assert_msg(fabs(z) < 4.5, "sample %d: z(e) = %.2f", k + 1, z);
    if (fabs(x - ferro) > 0.05) {
      ck_assert_msg(fabs(zf) > 4.5, "sample %d: no power against the sign-blind rule", k + 1);
      powered++;
    }
  }
  ck_assert_int_gt(powered, 0);
  ising_msc_async_destroy(&a);
}
END_TEST

int main(void) {
  Suite *s = suite_create("msc_async");
  TCase *tc = tcase_create("msc_async");
  tcase_set_timeout(tc, 300);
  tcase_add_checked_fixture(tc, reset_make_cp, NULL);
  tcase_add_test(tc, api_errors);
  tcase_add_test(tc, packed_equals_reference_2d);
  tcase_add_test(tc, packed_equals_reference_3d);
  tcase_add_checked_fixture(tc, philox_again, NULL);
  tcase_add_test(tc, ars_stream);
  tcase_add_test(tc, ties_were_exercised);
  tcase_add_test(tc, frozen_lanes);
  tcase_add_test(tc, row_transfers);
  tcase_add_test(tc, sums_equal_direct_count);
  tcase_add_test(tc, bits_per_decision);
  tcase_add_test(tc, physics_2d_4x4_exact);
  tcase_add_test(tc, physics_3d_4x2x2_exact);
  tcase_add_test(tc, bimodal_equals_reference);
  tcase_add_test(tc, bimodal_ferromagnet_is_uniform);
  tcase_add_test(tc, bimodal_sums);
  tcase_add_test(tc, bimodal_refused);
  tcase_add_test(tc, bimodal_physics_2x2x2_exact);
  suite_add_tcase(s, tc);
  return ising_test_run_suite(s);
}
