/*
 * test_rng.c -- the counter-based streams: every chunked number equals the
 * Random123 philox4x32 output the layout in rng.h names, streams differ by
 * purpose, colour, replica, sweep and seed, and the numbers are uniform.
 */
#if defined(__x86_64__)
#define R123_USE_AES_NI 1
#endif
#include <Random123/philox.h>
#include <check.h>
#include <math.h>
#include <stdio.h>

#include "ising/rng.h"
#include "testutil.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("sse4.1,aes")
#include <Random123/ars.h>
/* ARS-7 of rng.h, through Random123 */
static void ars_direct(ising_rng_key key, uint64_t g, uint32_t c2, uint32_t c3, uint32_t out[4]) {
  ars4x32_ctr_t c = {{(uint32_t)g, (uint32_t)(g >> 32), c2, c3}};
  ars4x32_key_t kk = {{key.k[0], key.k[1], 0, 0}};
  ars4x32_ctr_t r = ars4x32_R(ISING_RNG_ARS_ROUNDS, c, kk);
  for (int i = 0; i < 4; i++) out[i] = r.v[i];
}
#pragma GCC pop_options
#endif

/* rng.h's definition of one block, written out independently of src/rng.c */
static uint32_t direct_word(ising_rng_key key, uint64_t g, int w, uint32_t c2, uint32_t c3) {
#if defined(__x86_64__)
  if (key.alg == ISING_RNG_ARS) {
    uint32_t out[4];
    ars_direct(key, g, c2, c3, out);
    return out[w];
  }
#endif
  ck_assert_int_eq(key.alg, ISING_RNG_PHILOX);
  philox4x32_ctr_t c = {{(uint32_t)g, (uint32_t)(g >> 32), c2, c3}};
  philox4x32_key_t kk = {{key.k[0], key.k[1]}};
  return philox4x32(c, kk).v[w];
}

/* rng.h's layout of the chunked numbers */
static uint16_t direct(ising_rng_key key, uint64_t chunk, int k, uint32_t c2, uint32_t c3) {
  int w = k % 64;
  uint64_t g = 16 * chunk + (uint64_t)(w % 16);
  return (uint16_t)(direct_word(key, g, w / 16, c2, c3) >> (k < 64 ? 0 : 16));
}

/* The generators this CPU runs: Philox, and ARS where it has AES-NI. */
static int n_algs(void) {
  if (ising_rng_ars_available()) return 2;
  printf("test_rng: ARS skipped (no AES-NI)\n");
  return 1;
}

START_TEST(fill_matches_random123) {
  ising_rng_key key = ising_rng_key_from_seed(2026);
  static uint16_t buf[40 * ISING_RNG_CHUNK];
  uint64_t firsts[3] = {0, 123456789, (1ULL << 36) - 20}; /* crosses 2^32 groups */
  for (int a = 0, na = n_algs(); a < na; a++)
  for (int f = 0; f < 3; f++) {
    key.alg = (uint32_t)a;
    const int n = 40 - f % 2; /* pairs of chunks, and a last one alone */
    ising_rng_fill16(key, firsts[f], n, 17, ising_rng_c3(5, ISING_RNG_SWEEP, 1), buf);
    for (int i = 0; i < n; i++)
      for (int k = 0; k < ISING_RNG_CHUNK; k++) {
        uint16_t want = direct(key, firsts[f] + (uint64_t)i, k, 17, ising_rng_c3(5, ISING_RNG_SWEEP, 1));
        ck_assert_uint_eq(buf[i * ISING_RNG_CHUNK + k], want);
        ck_assert_uint_eq(ising_rng_number16(key, firsts[f] + (uint64_t)i, k, 17,
                                             ising_rng_c3(5, ISING_RNG_SWEEP, 1)), want);
      }
  }
}
END_TEST

/* Word w of the blocks at arbitrary counters (the Swendsen-Wang clusters'
 * decisions): 37 groups, not a multiple of the sixteen computed together,
 * some past 2^32, in no order. */
START_TEST(words_at_match_random123) {
  ising_rng_key key = ising_rng_key_from_seed(77);
  uint64_t groups[37];
  uint32_t out[37];
  for (int i = 0; i < 37; i++)
    groups[i] = (uint64_t)(i * 2654435761u) ^ (i % 3 == 0 ? (uint64_t)i << 33 : 0);
  const uint32_t c2 = 99, c3 = ising_rng_c3(3, ISING_RNG_SWEEP, 0);
  for (int a = 0, na = n_algs(); a < na; a++)
  for (int w = 0; w < 4; w++) {
    key.alg = (uint32_t)a;
    ising_rng_words_at(key, groups, 37, w, c2, c3, out);
    for (int i = 0; i < 37; i++) {
      uint32_t x[4];
      ising_rng_block(key, groups[i], c2, c3, x);
      ck_assert_uint_eq(out[i], direct_word(key, groups[i], w, c2, c3));
      ck_assert_uint_eq(x[w], out[i]);
    }
  }
}
END_TEST

START_TEST(streams_differ) {
  ising_rng_key a = ising_rng_key_from_seed(1), b = ising_rng_key_from_seed(2);
  ck_assert(a.k[0] != b.k[0] || a.k[1] != b.k[1]);
  /* consecutive seeds give unrelated keys: about half of the 64 bits differ */
  int bits = __builtin_popcount(a.k[0] ^ b.k[0]) + __builtin_popcount(a.k[1] ^ b.k[1]);
  ck_assert_int_gt(bits, 16);
  ck_assert_int_lt(bits, 48);
  uint32_t c3s[5] = {ising_rng_c3(0, ISING_RNG_SWEEP, 0), ising_rng_c3(0, ISING_RNG_SWEEP, 1),
                     ising_rng_c3(1, ISING_RNG_SWEEP, 0), ising_rng_c3(0, ISING_RNG_SWEEP_LO, 0),
                     ising_rng_c3(0, ISING_RNG_INIT, 0)};
  for (int i = 0; i < 5; i++)
    for (int j = i + 1; j < 5; j++) {
      ck_assert_uint_ne(c3s[i], c3s[j]);
      int same = 0;
      for (int k = 0; k < 128; k++)
        same += ising_rng_number16(a, 7, k, 3, c3s[i]) == ising_rng_number16(a, 7, k, 3, c3s[j]);
      ck_assert_int_lt(same, 4);
    }
  int same = 0;
  for (int k = 0; k < 128; k++) same += ising_rng_number16(a, 7, k, 3, c3s[0]) == ising_rng_number16(a, 7, k, 4, c3s[0]);
  ck_assert_int_lt(same, 4);
}
END_TEST

/* Chi-square over 64 bins of 2^20 numbers: 63 degrees of freedom, the
 * 1e-6 tail is at about 125; a wrong half-word order or a stuck lane would
 * give tens of thousands. */
START_TEST(uniformity) {
  for (int a = 0, na = n_algs(); a < na; a++) {
  ising_rng_key key = ising_rng_key_from_seed(99);
  key.alg = (uint32_t)a;
  static uint16_t buf[8192 * ISING_RNG_CHUNK];
  ising_rng_fill16(key, 1000, 8192, 0, ising_rng_c3(0, ISING_RNG_SWEEP, 0), buf);
  double bins[64] = {0}, n = 8192.0 * ISING_RNG_CHUNK;
  double bit15 = 0;
  for (int64_t i = 0; i < 8192 * ISING_RNG_CHUNK; i++) {
    bins[buf[i] >> 10] += 1;
    bit15 += buf[i] >> 15;
  }
  double chi2 = 0, e = n / 64;
  for (int i = 0; i < 64; i++) chi2 += (bins[i] - e) * (bins[i] - e) / e;
  ck_assert_double_lt(chi2, 125.0);
  ck_assert_double_lt(fabs(bit15 / n - 0.5), 5 * 0.5 / sqrt(n));
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("rng");
  TCase *tc = tcase_create("philox");
  tcase_add_test(tc, fill_matches_random123);
  tcase_add_test(tc, words_at_match_random123);
  tcase_add_test(tc, streams_differ);
  tcase_add_test(tc, uniformity);
  suite_add_tcase(s, tc);
  return ising_test_run_suite(s);
}
