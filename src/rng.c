/*
 * rng.c -- Philox4x32-10 numbers one at a time (through Random123 itself) and
 * a chunk of 128 16-bit numbers at a time (sixteen counters in SIMD lanes).
 *
 * The chunked version exists because the sweep needs one 32-bit number per
 * spin and a scalar Philox call costs about 2.6 ns per number on this class
 * of machine; sixteen counters advanced together cost a fraction of that.
 * It uses Random123's constants and is tested against Random123's philox4x32
 * for every number (tests/test_rng.c), so the library stays the definition
 * of the generator.  An AVX-512 path is used when the build targets it
 * (-march=native on a machine that has it), an AVX2 path (sets of eight
 * lanes) when the build targets AVX2 only (-march=x86-64-v3, AMD Zen 2/3,
 * Intel before Skylake-SP), for the 16-bit chunks and for the planar
 * 32-bit blocks of the multi-spin-coding kernels alike; the portable loop
 * is written so that compilers vectorise it too.
 *
 * ARS (a key with alg ISING_RNG_ARS) takes the same counters and layouts:
 * each place that runs Philox rounds on a set of counters runs ARS's AES
 * rounds instead (VAES on whole registers where the CPU has it, 128-bit
 * AES-NI otherwise), tested against Random123's ars4x32_R number for
 * number.
 */
#include "ising/rng.h"

#if defined(__x86_64__)
#define ISING_ARS 1
/* Random123's ARS needs its AES-NI feature on; the functions that use it
 * are compiled for AES-NI alone (target pragmas below), and are reached
 * only where ising_rng_ars_available() said yes. */
#define R123_USE_AES_NI 1
#endif
#include <Random123/philox.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX512F__) || defined(__AVX2__) || defined(ISING_ARS)
#include <immintrin.h>
#endif

#ifdef ISING_ARS
#pragma GCC push_options
#pragma GCC target("sse4.1,aes")
#include <Random123/ars.h>

/* One ARS block through Random123: the definition the vector code below
 * is tested against (tests/test_rng.c). */
static void ars_block(ising_rng_key key, uint64_t group, uint32_t c2, uint32_t c3,
                      uint32_t out[4]) {
  ars4x32_ctr_t ctr = {{(uint32_t)group, (uint32_t)(group >> 32), c2, c3}};
  ars4x32_key_t k = {{key.k[0], key.k[1], 0, 0}};
  ars4x32_ctr_t r = ars4x32_R(ISING_RNG_ARS_ROUNDS, ctr, k);
  memcpy(out, r.v, sizeof r.v);
}

/* ARS's round keys: the key, then Weyl increments of its two 64-bit
 * halves (ars1xm128i_R). */
static inline void ars_round_keys(ising_rng_key key, __m128i rk[ISING_RNG_ARS_ROUNDS + 1]) {
  const __m128i weyl = _mm_set_epi64x((long long)0xBB67AE8584CAA73BULL,
                                      (long long)0x9E3779B97F4A7C15ULL);
  rk[0] = _mm_set_epi32(0, 0, (int)key.k[1], (int)key.k[0]);
  for (int r = 1; r <= ISING_RNG_ARS_ROUNDS; r++) rk[r] = _mm_add_epi64(rk[r - 1], weyl);
}

/* ARS on sixteen counters in the planar layout of philox16_c (word j of
 * counter i in w[16 j + i]), one 128-bit block per counter. */
static void ars16_c(uint32_t w[64], ising_rng_key key) {
  __m128i rk[ISING_RNG_ARS_ROUNDS + 1], v[16];
  ars_round_keys(key, rk);
  for (int i = 0; i < 16; i++)
    v[i] = _mm_xor_si128(_mm_set_epi32((int)w[48 + i], (int)w[32 + i], (int)w[16 + i], (int)w[i]),
                         rk[0]);
  for (int r = 1; r < ISING_RNG_ARS_ROUNDS; r++)
    for (int i = 0; i < 16; i++) v[i] = _mm_aesenc_si128(v[i], rk[r]);
  for (int i = 0; i < 16; i++) {
    uint32_t b[4];
    _mm_storeu_si128((__m128i *)(void *)b, _mm_aesenclast_si128(v[i], rk[ISING_RNG_ARS_ROUNDS]));
    for (int j = 0; j < 4; j++) w[16 * j + i] = b[j];
  }
}
#pragma GCC pop_options
#endif

int ising_rng_ars_available(void) {
#ifdef ISING_ARS
  return __builtin_cpu_supports("aes") != 0;
#else
  return 0;
#endif
}

/* Whether the vector paths may use VAES (-DISING_NO_VAES: never, to check
 * the AES-NI fallback on a CPU that has VAES). */
static inline int have_vaes(void) {
#if defined(ISING_ARS) && !defined(ISING_NO_VAES)
  return __builtin_cpu_supports("vaes") != 0;
#else
  return 0;
#endif
}

const char *ising_rng_alg_name(int alg) { return alg == ISING_RNG_ARS ? "ars" : "philox"; }

#ifndef ISING_ARS
/* A key asking for ARS where this build has none: configuration refuses
 * it first (ising_rng_ars_available), so this is an internal error. */
static void no_ars(void) {
  fprintf(stderr, "ising: internal error: ARS random numbers asked for, but this build has no AES-NI code\n");
  abort();
}
#define ars_block(key, group, c2, c3, out) no_ars()
#define ars16_c(w, key) no_ars()
#endif

ising_rng_key ising_rng_key_from_seed(uint64_t seed) {
  /* splitmix64 finaliser: a bijection that spreads nearby seeds apart. */
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  ising_rng_key key = {{(uint32_t)z, (uint32_t)(z >> 32)}, ISING_RNG_PHILOX};
  return key;
}

void ising_rng_block(ising_rng_key key, uint64_t group, uint32_t c2, uint32_t c3,
                     uint32_t out[4]) {
  if (key.alg == ISING_RNG_ARS) {
    ars_block(key, group, c2, c3, out);
    return;
  }
  philox4x32_ctr_t ctr = {{(uint32_t)group, (uint32_t)(group >> 32), c2, c3}};
  philox4x32_key_t k = {{key.k[0], key.k[1]}};
  philox4x32_ctr_t r = philox4x32_R(10, ctr, k);
  memcpy(out, r.v, sizeof r.v);
}

uint16_t ising_rng_number16(ising_rng_key key, uint64_t chunk, int k, uint32_t c2,
                            uint32_t c3) {
  uint32_t out[4];
  int w = k % 64;
  ising_rng_block(key, 16 * chunk + (uint64_t)(w % 16), c2, c3, out);
  return (uint16_t)(out[w / 16] >> (16 * (k / 64)));
}

/* Ten Philox rounds on sixteen counters in plain C, word j of counter i in
 * w[16 j + i] (a loop compilers vectorise): the portable fills. */
static inline void philox16_c(uint32_t w[64], ising_rng_key key) {
  if (key.alg == ISING_RNG_ARS) {
    ars16_c(w, key);
    return;
  }
  uint32_t *a0 = w, *a1 = w + 16, *a2 = w + 32, *a3 = w + 48;
  uint32_t k0 = key.k[0], k1 = key.k[1];
  for (int r = 0; r < 10; r++) {
    for (int i = 0; i < 16; i++) {
      uint64_t p0 = (uint64_t)PHILOX_M4x32_0 * a0[i];
      uint64_t p1 = (uint64_t)PHILOX_M4x32_1 * a2[i];
      uint32_t n0 = (uint32_t)(p1 >> 32) ^ a1[i] ^ k0;
      uint32_t n2 = (uint32_t)(p0 >> 32) ^ a3[i] ^ k1;
      a1[i] = (uint32_t)p1;
      a3[i] = (uint32_t)p0;
      a0[i] = n0;
      a2[i] = n2;
    }
    k0 += PHILOX_W32_0;
    k1 += PHILOX_W32_1;
  }
}

#if defined(ISING_ARS) && defined(__AVX2__) && !defined(__AVX512F__)
/* Eight counters' words in SIMD registers (sixteen in ars_tr512 below),
 * x[o] = word o of each counter (the Philox layout), and ARS on them: a 4 x 4 transpose within
 * each 128-bit lane makes x[j]'s lane l the block of counter 4 l + j, the
 * rounds run on whole blocks (VAES: two or four blocks per instruction),
 * and the same transpose puts the words back. */
static inline void ars_tr256(__m256i x[4]) {
  const __m256i t0 = _mm256_unpacklo_epi32(x[0], x[1]), t1 = _mm256_unpackhi_epi32(x[0], x[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(x[2], x[3]), t3 = _mm256_unpackhi_epi32(x[2], x[3]);
  x[0] = _mm256_unpacklo_epi64(t0, t2);
  x[1] = _mm256_unpackhi_epi64(t0, t2);
  x[2] = _mm256_unpacklo_epi64(t1, t3);
  x[3] = _mm256_unpackhi_epi64(t1, t3);
}

#pragma GCC push_options
#pragma GCC target("aes,vaes")
/* ARS on n sets of eight counters (VAES), the sets in registers. */
static inline __attribute__((always_inline)) void ars8_vaes_n(const int n, __m256i a[][4],
                                                             const __m256i k[]) {
  __m256i v[4][4];
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < 4; j++) v[i][j] = a[i][j];
    ars_tr256(v[i]);
    for (int j = 0; j < 4; j++) v[i][j] = _mm256_xor_si256(v[i][j], k[0]);
  }
  for (int r = 1; r < ISING_RNG_ARS_ROUNDS; r++)
    for (int i = 0; i < n; i++)
      for (int j = 0; j < 4; j++) v[i][j] = _mm256_aesenc_epi128(v[i][j], k[r]);
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < 4; j++) v[i][j] = _mm256_aesenclast_epi128(v[i][j], k[ISING_RNG_ARS_ROUNDS]);
    ars_tr256(v[i]);
    for (int j = 0; j < 4; j++) a[i][j] = v[i][j];
  }
}

/* ARS on n <= 4 sets of eight counters (VAES). */
static void ars8n_vaes(int n, __m256i a[][4], ising_rng_key key) {
  __m128i rk[ISING_RNG_ARS_ROUNDS + 1];
  __m256i k[ISING_RNG_ARS_ROUNDS + 1];
  ars_round_keys(key, rk);
  for (int r = 0; r <= ISING_RNG_ARS_ROUNDS; r++) k[r] = _mm256_broadcastsi128_si256(rk[r]);
  switch (n) {
  case 1: ars8_vaes_n(1, a, k); break;
  case 2: ars8_vaes_n(2, a, k); break;
  case 3: ars8_vaes_n(3, a, k); break;
  default: ars8_vaes_n(4, a, k); break;
  }
}
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("aes")
/* ARS on n <= 4 sets of eight counters with 128-bit AES-NI (CPUs with AVX2
 * but no VAES: Intel Haswell to Skylake, AMD Zen 1 and 2): the blocks of
 * the transposed registers' two halves, eight per set. */
static inline __attribute__((always_inline)) void ars8_aesni_n(const int n, __m256i a[][4],
                                                              const __m128i k[]) {
  __m128i v[4][8];
  for (int i = 0; i < n; i++) {
    __m256i t[4] = {a[i][0], a[i][1], a[i][2], a[i][3]};
    ars_tr256(t);
    for (int j = 0; j < 4; j++) {
      v[i][j] = _mm_xor_si128(_mm256_castsi256_si128(t[j]), k[0]);
      v[i][4 + j] = _mm_xor_si128(_mm256_extracti128_si256(t[j], 1), k[0]);
    }
  }
  for (int r = 1; r < ISING_RNG_ARS_ROUNDS; r++)
    for (int i = 0; i < n; i++)
      for (int j = 0; j < 8; j++) v[i][j] = _mm_aesenc_si128(v[i][j], k[r]);
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < 8; j++) v[i][j] = _mm_aesenclast_si128(v[i][j], k[ISING_RNG_ARS_ROUNDS]);
    for (int j = 0; j < 4; j++) a[i][j] = _mm256_inserti128_si256(_mm256_castsi128_si256(v[i][j]), v[i][4 + j], 1);
    ars_tr256(a[i]);
  }
}

static void ars8n_aesni(int n, __m256i a[][4], ising_rng_key key) {
  __m128i k[ISING_RNG_ARS_ROUNDS + 1];
  ars_round_keys(key, k);
  switch (n) {
  case 1: ars8_aesni_n(1, a, k); break;
  case 2: ars8_aesni_n(2, a, k); break;
  case 3: ars8_aesni_n(3, a, k); break;
  default: ars8_aesni_n(4, a, k); break;
  }
}
#pragma GCC pop_options

/* ARS on n sets of eight counters: VAES where the CPU has it, else AES-NI. */
static void ars8n(int n, __m256i a[][4], ising_rng_key key) {
  if (have_vaes())
    ars8n_vaes(n, a, key);
  else
    ars8n_aesni(n, a, key);
}
#endif

#if defined(ISING_ARS) && defined(__AVX512F__)
static inline void ars_tr512(__m512i x[4]) {
  const __m512i t0 = _mm512_unpacklo_epi32(x[0], x[1]), t1 = _mm512_unpackhi_epi32(x[0], x[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(x[2], x[3]), t3 = _mm512_unpackhi_epi32(x[2], x[3]);
  x[0] = _mm512_unpacklo_epi64(t0, t2);
  x[1] = _mm512_unpackhi_epi64(t0, t2);
  x[2] = _mm512_unpacklo_epi64(t1, t3);
  x[3] = _mm512_unpackhi_epi64(t1, t3);
}

#pragma GCC push_options
#pragma GCC target("aes,vaes")
/* ARS on n sets of sixteen counters (VAES), the sets in registers. */
static inline __attribute__((always_inline)) void ars16_vaes_n(const int n, __m512i *const s[2],
                                                              const __m512i k[]) {
  __m512i v[2][4];
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < 4; j++) v[i][j] = s[i][j];
    ars_tr512(v[i]);
    for (int j = 0; j < 4; j++) v[i][j] = _mm512_xor_si512(v[i][j], k[0]);
  }
  for (int r = 1; r < ISING_RNG_ARS_ROUNDS; r++)
    for (int i = 0; i < n; i++)
      for (int j = 0; j < 4; j++) v[i][j] = _mm512_aesenc_epi128(v[i][j], k[r]);
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < 4; j++) v[i][j] = _mm512_aesenclast_epi128(v[i][j], k[ISING_RNG_ARS_ROUNDS]);
    ars_tr512(v[i]);
    for (int j = 0; j < 4; j++) s[i][j] = v[i][j];
  }
}

/* ARS on sixteen counters a, and sixteen more b unless NULL (VAES). */
static void ars16v_vaes(__m512i a[4], __m512i b[4], ising_rng_key key) {
  __m128i rk[ISING_RNG_ARS_ROUNDS + 1];
  __m512i k[ISING_RNG_ARS_ROUNDS + 1];
  ars_round_keys(key, rk);
  for (int r = 0; r <= ISING_RNG_ARS_ROUNDS; r++) k[r] = _mm512_broadcast_i32x4(rk[r]);
  __m512i *const s[2] = {a, b};
  if (b)
    ars16_vaes_n(2, s, k);
  else
    ars16_vaes_n(1, s, k);
}
#pragma GCC pop_options

/* ARS on sixteen counters a (and b): VAES, else AES-NI (ars16_c). */
static void ars16v(__m512i a[4], __m512i b[4], ising_rng_key key) {
  if (have_vaes()) {
    ars16v_vaes(a, b, key);
    return;
  }
  __m512i *s[2] = {a, b};
  for (int i = 0; i < (b ? 2 : 1); i++) {
    uint32_t w[64];
    for (int o = 0; o < 4; o++) _mm512_storeu_si512((void *)(w + 16 * o), s[i][o]);
    ars16_c(w, key);
    for (int o = 0; o < 4; o++) s[i][o] = _mm512_loadu_si512((const void *)(w + 16 * o));
  }
}
#endif

#ifdef __AVX512F__
/* hi and lo 32-bit halves of m * a for sixteen 32-bit lanes. */
static inline void mulhilo16(__m512i a, __m512i m, __m512i *hi, __m512i *lo) {
  __m512i pe = _mm512_mul_epu32(a, m);                        /* even lanes */
  __m512i po = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m); /* odd lanes */
  /* swapping the dwords of each qword moves a product's other half into
   * place: odd lanes take po's low half, even lanes pe's high half */
  *lo = _mm512_mask_shuffle_epi32(pe, 0xAAAA, po, _MM_PERM_CDAB);
  *hi = _mm512_mask_shuffle_epi32(po, 0x5555, pe, _MM_PERM_CDAB);
}

/* Ten Philox rounds on sixteen counters, one word of each per register. */
static inline void philox16(__m512i a[4], ising_rng_key key) {
  if (key.alg == ISING_RNG_ARS) {
    ars16v(a, NULL, key);
    return;
  }
  __m512i a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  const __m512i m0 = _mm512_set1_epi32((int)PHILOX_M4x32_0);
  const __m512i m1 = _mm512_set1_epi32((int)PHILOX_M4x32_1);
  uint32_t k0 = key.k[0], k1 = key.k[1];
  for (int r = 0; r < 10; r++) {
    __m512i hi0, lo0, hi1, lo1;
    mulhilo16(a0, m0, &hi0, &lo0);
    mulhilo16(a2, m1, &hi1, &lo1);
    a0 = _mm512_ternarylogic_epi32(hi1, a1, _mm512_set1_epi32((int)k0), 0x96);
    a2 = _mm512_ternarylogic_epi32(hi0, a3, _mm512_set1_epi32((int)k1), 0x96);
    a1 = lo1;
    a3 = lo0;
    k0 += PHILOX_W32_0;
    k1 += PHILOX_W32_1;
  }
  a[0] = a0;
  a[1] = a1;
  a[2] = a2;
  a[3] = a3;
}

/* philox16 on two independent sets of counters at once: the multiplies of
 * one set fill the latency of the other's (about 20% more blocks per
 * second here than one set at a time). */
static inline void philox16x2(__m512i a[4], __m512i b[4], ising_rng_key key) {
  if (key.alg == ISING_RNG_ARS) {
    ars16v(a, b, key);
    return;
  }
  const __m512i m0 = _mm512_set1_epi32((int)PHILOX_M4x32_0);
  const __m512i m1 = _mm512_set1_epi32((int)PHILOX_M4x32_1);
  uint32_t k0 = key.k[0], k1 = key.k[1];
  for (int r = 0; r < 10; r++) {
    __m512i ha0, la0, ha1, la1, hb0, lb0, hb1, lb1;
    const __m512i vk0 = _mm512_set1_epi32((int)k0), vk1 = _mm512_set1_epi32((int)k1);
    mulhilo16(a[0], m0, &ha0, &la0);
    mulhilo16(b[0], m0, &hb0, &lb0);
    mulhilo16(a[2], m1, &ha1, &la1);
    mulhilo16(b[2], m1, &hb1, &lb1);
    a[0] = _mm512_ternarylogic_epi32(ha1, a[1], vk0, 0x96);
    b[0] = _mm512_ternarylogic_epi32(hb1, b[1], vk0, 0x96);
    a[2] = _mm512_ternarylogic_epi32(ha0, a[3], vk1, 0x96);
    b[2] = _mm512_ternarylogic_epi32(hb0, b[3], vk1, 0x96);
    a[1] = la1;
    b[1] = lb1;
    a[3] = la0;
    b[3] = lb0;
    k0 += PHILOX_W32_0;
    k1 += PHILOX_W32_1;
  }
}

/* The counters of groups g .. g+15 (the low word may wrap into the high). */
static inline void counters16(uint64_t g, uint32_t c2, uint32_t c3, __m512i a[4]) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i lo = _mm512_set1_epi32((int)(uint32_t)g), hi = _mm512_set1_epi32((int)(uint32_t)(g >> 32));
  a[0] = _mm512_add_epi32(lo, lane);
  __mmask16 carry = _mm512_cmplt_epu32_mask(a[0], lo);
  a[1] = _mm512_mask_add_epi32(hi, carry, hi, _mm512_set1_epi32(1));
  a[2] = _mm512_set1_epi32((int)c2);
  a[3] = _mm512_set1_epi32((int)c3);
}

/* A chunk's 128 numbers from its sixteen counters' words a[0..3]: numbers
 * 0..63 are the low halves of words 0..63, 64..127 the high halves. */
static inline void store_chunk(const __m512i a[4], uint16_t *out) {
  for (int j = 0; j < 4; j++) {
    _mm256_storeu_si256((void *)(out + 16 * j), _mm512_cvtepi32_epi16(a[j]));
    _mm256_storeu_si256((void *)(out + 64 + 16 * j), _mm512_cvtepi32_epi16(_mm512_srli_epi32(a[j], 16)));
  }
}

static void fill_chunk(ising_rng_key key, uint64_t chunk, uint32_t c2, uint32_t c3,
                       uint16_t *out) {
  __m512i a[4];
  counters16(16 * chunk, c2, c3, a);
  philox16(a, key);
  store_chunk(a, out);
}

/* Chunks `chunk` and `chunk` + 1 together (philox16x2: the rounds of one
 * fill the latency of the other's). */
static void fill_chunk_pair(ising_rng_key key, uint64_t chunk, uint32_t c2, uint32_t c3,
                            uint16_t *out) {
  __m512i a[4], b[4];
  counters16(16 * chunk, c2, c3, a);
  counters16(16 * (chunk + 1), c2, c3, b);
  philox16x2(a, b, key);
  store_chunk(a, out);
  store_chunk(b, out + ISING_RNG_CHUNK);
}
#elif defined(__AVX2__)
/* hi and lo 32-bit halves of m * a for eight 32-bit lanes (m: one constant
 * in every lane): _mm256_mul_epu32 multiplies the even lanes, the odd ones
 * are shifted down first; blends put the halves back in lane order. */
static inline void mulhilo8(__m256i a, __m256i m, __m256i *hi, __m256i *lo) {
  __m256i pe = _mm256_mul_epu32(a, m);                             /* even lanes */
  __m256i po = _mm256_mul_epu32(_mm256_shuffle_epi32(a, 0xF5), m); /* odd lanes */
  *lo = _mm256_mullo_epi32(a, m);
  *hi = _mm256_blend_epi32(_mm256_shuffle_epi32(pe, 0xF5), po, 0xAA);
}

/* One Philox4x32 round on eight counters: the state a[0..3] is the four
 * words of each counter, one word per register. */
static inline void round8(__m256i a[4], __m256i m0, __m256i m1, __m256i k0, __m256i k1) {
  __m256i hi0, lo0, hi1, lo1;
  mulhilo8(a[0], m0, &hi0, &lo0);
  mulhilo8(a[2], m1, &hi1, &lo1);
  a[0] = _mm256_xor_si256(_mm256_xor_si256(hi1, a[1]), k0);
  a[2] = _mm256_xor_si256(_mm256_xor_si256(hi0, a[3]), k1);
  a[1] = lo1;
  a[3] = lo0;
}

/* 16-bit halves (shift 0: low, 16: high) of the 32-bit words x (counters
 * 0..7) and y (counters 8..15), as sixteen 16-bit numbers in counter order:
 * packus works within 128-bit lanes, the permute restores the order. */
static inline __m256i halves16(__m256i x, __m256i y, int shift) {
  const __m256i low = _mm256_set1_epi32(0xFFFF);
  __m256i a = shift ? _mm256_srli_epi32(x, 16) : _mm256_and_si256(x, low);
  __m256i b = shift ? _mm256_srli_epi32(y, 16) : _mm256_and_si256(y, low);
  return _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);
}

/* A chunk's 128 numbers from its sixteen counters' words, counters 0..7 in
 * a[j], 8..15 in b[j]: numbers 0..63 are the low halves of words 0..63,
 * 64..127 the high ones. */
static inline void store_chunk(const __m256i a[4], const __m256i b[4], uint16_t *out) {
  for (int j = 0; j < 4; j++) {
    _mm256_storeu_si256((void *)(out + 16 * j), halves16(a[j], b[j], 0));
    _mm256_storeu_si256((void *)(out + 64 + 16 * j), halves16(a[j], b[j], 16));
  }
}
#else
static void fill_chunk(ising_rng_key key, uint64_t chunk, uint32_t c2, uint32_t c3,
                       uint16_t *out) {
  uint32_t w[64];
  uint64_t g = 16 * chunk;
  for (int i = 0; i < 16; i++) {
    w[i] = (uint32_t)g + (uint32_t)i;
    w[16 + i] = (uint32_t)(g >> 32);
    w[32 + i] = c2;
    w[48 + i] = c3;
  }
  philox16_c(w, key);
  for (int i = 0; i < 64; i++) {
    out[i] = (uint16_t)w[i];
    out[64 + i] = (uint16_t)(w[i] >> 16);
  }
}
#endif

#ifdef __AVX512F__
void ising_rng_fill_blocks(ising_rng_key key, uint64_t first, int64_t count, uint32_t c2,
                           uint32_t c3, uint32_t *out, int64_t stride) {
  for (int64_t i = 0; i < count; i += 16) {
    __m512i a[4];
    counters16(first + (uint64_t)i, c2, c3, a);
    philox16(a, key);
    __mmask16 keep = count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1);
    for (int o = 0; o < 4; o++) _mm512_mask_storeu_epi32(out + o * stride + i, keep, a[o]);
  }
}

void ising_rng_fill_chunks16(ising_rng_key key, uint64_t first, int64_t chunks, uint32_t c2,
                             uint32_t c3, uint32_t *out) {
  int64_t c = 0;
  for (; c + 1 < chunks; c += 2) {
    __m512i a[4], b[4];
    counters16(first + 16 * (uint64_t)c, c2, c3, a);
    counters16(first + 16 * (uint64_t)(c + 1), c2, c3, b);
    philox16x2(a, b, key);
    for (int o = 0; o < 4; o++) {
      _mm512_storeu_si512(out + 64 * c + 16 * o, a[o]);
      _mm512_storeu_si512(out + 64 * (c + 1) + 16 * o, b[o]);
    }
  }
  if (c < chunks) ising_rng_fill_blocks(key, first + 16 * (uint64_t)c, 16, c2, c3, out + 64 * c, 16);
}

/* The counters of runs r < m (at most four) of four blocks: group
 * first[r] + i in lane 4 r + i, group 0 in the lanes of missing runs. */
static inline void counters_runs4(const uint64_t *first, int64_t m, uint32_t c2, uint32_t c3,
                                  __m512i a[4]) {
  if (m >= 4 && first[1] == first[0] + 4 && first[2] == first[0] + 8 && first[3] == first[0] + 12) {
    counters16(first[0], c2, c3, a); /* consecutive runs: sixteen consecutive groups */
    return;
  }
  /* built in registers: a load of an array just written word by word
   * would wait for those stores */
  const __m512i x = _mm512_castsi256_si512(
      _mm256_setr_epi64x((long long)first[0], m > 1 ? (long long)first[1] : 0,
                         m > 2 ? (long long)first[2] : 0, m > 3 ? (long long)first[3] : 0));
  const __m512i lo = _mm512_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4, 6, 6, 6, 6);
  const __m512i hi = _mm512_setr_epi32(1, 1, 1, 1, 3, 3, 3, 3, 5, 5, 5, 5, 7, 7, 7, 7);
  const __m512i block = _mm512_setr_epi32(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3);
  a[0] = _mm512_add_epi32(_mm512_permutexvar_epi32(lo, x), block);
  a[1] = _mm512_permutexvar_epi32(hi, x);
  a[2] = _mm512_set1_epi32((int)c2);
  a[3] = _mm512_set1_epi32((int)c3);
}

/* Runs r < m of the four planes a (run r in the 128-bit lanes r) to
 * out[r] in planes of four: a 4 x 4 transpose of 128-bit lanes. */
static inline void store_runs4(const __m512i a[4], int64_t m, uint32_t *const *out) {
  const __m512i t0 = _mm512_shuffle_i64x2(a[0], a[1], 0x44), t1 = _mm512_shuffle_i64x2(a[2], a[3], 0x44);
  const __m512i t2 = _mm512_shuffle_i64x2(a[0], a[1], 0xEE), t3 = _mm512_shuffle_i64x2(a[2], a[3], 0xEE);
  const __m512i run[4] = {_mm512_shuffle_i64x2(t0, t1, 0x88), _mm512_shuffle_i64x2(t0, t1, 0xDD),
                          _mm512_shuffle_i64x2(t2, t3, 0x88), _mm512_shuffle_i64x2(t2, t3, 0xDD)};
  for (int64_t r = 0; r < m && r < 4; r++) _mm512_storeu_si512(out[r], run[r]);
}

void ising_rng_fill_runs4(ising_rng_key key, const uint64_t *first, int64_t n, uint32_t c2,
                          uint32_t c3, uint32_t *const *out) {
  int64_t j = 0;
  for (; j + 4 < n; j += 8) { /* five to eight runs: two sets of sixteen counters */
    __m512i a[4], b[4];
    counters_runs4(first + j, 4, c2, c3, a);
    counters_runs4(first + j + 4, n - j - 4, c2, c3, b);
    philox16x2(a, b, key);
    store_runs4(a, 4, out + j);
    store_runs4(b, n - j - 4, out + j + 4);
  }
  if (j < n) {
    __m512i a[4];
    counters_runs4(first + j, n - j, c2, c3, a);
    philox16(a, key);
    store_runs4(a, n - j, out + j);
  }
}
#elif defined(__AVX2__)
/* The counters of groups g .. g+7 (the low word may wrap into the high:
 * an unsigned compare through the flipped sign bits finds the lanes). */
static inline void counters8(uint64_t g, uint32_t c2, uint32_t c3, __m256i a[4]) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i sign = _mm256_set1_epi32(INT32_MIN);
  const __m256i lo = _mm256_set1_epi32((int)(uint32_t)g);
  a[0] = _mm256_add_epi32(lo, lane);
  const __m256i wrapped = _mm256_cmpgt_epi32(_mm256_xor_si256(lo, sign), _mm256_xor_si256(a[0], sign));
  a[1] = _mm256_sub_epi32(_mm256_set1_epi32((int)(uint32_t)(g >> 32)), wrapped); /* -(-1) */
  a[2] = _mm256_set1_epi32((int)c2);
  a[3] = _mm256_set1_epi32((int)c3);
}

/* Ten Philox rounds on n sets of eight counters at once: the multiplies of
 * one set fill the latency of the other's. */
static inline __attribute__((always_inline)) void philox8n(int n, __m256i a[][4], ising_rng_key key) {
  if (key.alg == ISING_RNG_ARS) {
    ars8n(n, a, key);
    return;
  }
  const __m256i m0 = _mm256_set1_epi32((int)PHILOX_M4x32_0);
  const __m256i m1 = _mm256_set1_epi32((int)PHILOX_M4x32_1);
  uint32_t k0 = key.k[0], k1 = key.k[1];
  for (int r = 0; r < 10; r++) {
    const __m256i vk0 = _mm256_set1_epi32((int)k0), vk1 = _mm256_set1_epi32((int)k1);
    for (int i = 0; i < n; i++) round8(a[i], m0, m1, vk0, vk1);
    k0 += PHILOX_W32_0;
    k1 += PHILOX_W32_1;
  }
}

/* Chunk `chunk` into out[0..127], sixteen counters as two sets of eight. */
static void fill_chunk(ising_rng_key key, uint64_t chunk, uint32_t c2, uint32_t c3,
                       uint16_t *out) {
  __m256i a[2][4];
  for (int h = 0; h < 2; h++) counters8(16 * chunk + 8 * (uint64_t)h, c2, c3, a[h]);
  philox8n(2, a, key);
  store_chunk(a[0], a[1], out);
}

/* Chunks `chunk` and `chunk` + 1 together: four sets of eight counters in
 * flight (one chunk's two sets leave the multiplier idle). */
static void fill_chunk_pair(ising_rng_key key, uint64_t chunk, uint32_t c2, uint32_t c3,
                            uint16_t *out) {
  __m256i a[4][4];
  for (int h = 0; h < 4; h++) counters8(16 * chunk + 8 * (uint64_t)h, c2, c3, a[h]);
  philox8n(4, a, key);
  store_chunk(a[0], a[1], out);
  store_chunk(a[2], a[3], out + ISING_RNG_CHUNK);
}

void ising_rng_fill_blocks(ising_rng_key key, uint64_t first, int64_t count, uint32_t c2,
                           uint32_t c3, uint32_t *out, int64_t stride) {
  for (int64_t i = 0; i < count; i += 16) {
    __m256i a[2][4];
    counters8(first + (uint64_t)i, c2, c3, a[0]);
    counters8(first + (uint64_t)i + 8, c2, c3, a[1]);
    philox8n(2, a, key);
    const int64_t left = count - i;
    for (int h = 0; h < 2; h++) {
      const int64_t m = left - 8 * h;
      if (m <= 0) break;
      if (m >= 8) {
        for (int o = 0; o < 4; o++) _mm256_storeu_si256((__m256i *)(out + o * stride + i + 8 * h), a[h][o]);
        continue;
      }
      uint32_t t[4][8]; /* a masked store is slow on some CPUs: copy the tail */
      for (int o = 0; o < 4; o++) _mm256_storeu_si256((__m256i *)t[o], a[h][o]);
      for (int o = 0; o < 4; o++) memcpy(out + o * stride + i + 8 * h, t[o], (size_t)m * sizeof *out);
    }
  }
}

void ising_rng_fill_chunks16(ising_rng_key key, uint64_t first, int64_t chunks, uint32_t c2,
                             uint32_t c3, uint32_t *out) {
  int64_t c = 0;
  for (; c + 1 < chunks; c += 2) { /* two chunks, four sets of eight */
    __m256i a[4][4];
    for (int h = 0; h < 4; h++) counters8(first + 16 * (uint64_t)c + 8 * (uint64_t)h, c2, c3, a[h]);
    philox8n(4, a, key);
    for (int h = 0; h < 4; h++)
      for (int o = 0; o < 4; o++)
        _mm256_storeu_si256((__m256i *)(out + 64 * (c + h / 2) + 16 * o + 8 * (h % 2)), a[h][o]);
  }
  for (; c < chunks; c++) {
    __m256i a[2][4];
    counters8(first + 16 * (uint64_t)c, c2, c3, a[0]);
    counters8(first + 16 * (uint64_t)c + 8, c2, c3, a[1]);
    philox8n(2, a, key);
    for (int h = 0; h < 2; h++)
      for (int o = 0; o < 4; o++) _mm256_storeu_si256((__m256i *)(out + 64 * c + 16 * o + 8 * h), a[h][o]);
  }
}

/* The counters of runs r < m (at most two) of four blocks: group
 * first[r] + i in lane 4 r + i, group 0 in the lanes of a missing run. */
static inline void counters_runs4(const uint64_t *first, int64_t m, uint32_t c2, uint32_t c3,
                                  __m256i a[4]) {
  if (m >= 2 && first[1] == first[0] + 4) {
    counters8(first[0], c2, c3, a); /* consecutive runs: eight consecutive groups */
    return;
  }
  const __m256i x = _mm256_castsi128_si256( /* in registers, as on AVX-512 */
      _mm_set_epi64x(m > 1 ? (long long)first[1] : 0, (long long)first[0]));
  a[0] = _mm256_add_epi32(_mm256_permutevar8x32_epi32(x, _mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2)),
                          _mm256_setr_epi32(0, 1, 2, 3, 0, 1, 2, 3));
  a[1] = _mm256_permutevar8x32_epi32(x, _mm256_setr_epi32(1, 1, 1, 1, 3, 3, 3, 3));
  a[2] = _mm256_set1_epi32((int)c2);
  a[3] = _mm256_set1_epi32((int)c3);
}

void ising_rng_fill_runs4(ising_rng_key key, const uint64_t *first, int64_t n, uint32_t c2,
                          uint32_t c3, uint32_t *const *out) {
  for (int64_t j = 0; j < n; j += 8) { /* up to eight runs: four sets of eight counters */
    const int64_t m = n - j < 8 ? n - j : 8;
    const int sets = (int)((m + 1) / 2);
    __m256i a[4][4];
    for (int h = 0; h < sets; h++) counters_runs4(first + j + 2 * h, m - 2 * h, c2, c3, a[h]);
    switch (sets) { /* constant set counts: the rounds unrolled over the sets */
    case 1: philox8n(1, a, key); break;
    case 2: philox8n(2, a, key); break;
    case 3: philox8n(3, a, key); break;
    default: philox8n(4, a, key); break;
    }
    for (int64_t r = 0; r < m; r++) {
      const __m256i *p = a[r / 2];
      for (int o = 0; o < 4; o++)
        _mm_storeu_si128((__m128i *)(out[j + r] + 4 * o),
                         r % 2 ? _mm256_extracti128_si256(p[o], 1) : _mm256_castsi256_si128(p[o]));
    }
  }
}
#else
void ising_rng_fill_blocks(ising_rng_key key, uint64_t first, int64_t count, uint32_t c2,
                           uint32_t c3, uint32_t *out, int64_t stride) {
  for (int64_t i0 = 0; i0 < count; i0 += 16) {
    uint32_t w[64];
    int n = count - i0 < 16 ? (int)(count - i0) : 16;
    for (int i = 0; i < 16; i++) {
      uint64_t g = first + (uint64_t)(i0 + i);
      w[i] = (uint32_t)g;
      w[16 + i] = (uint32_t)(g >> 32);
      w[32 + i] = c2;
      w[48 + i] = c3;
    }
    philox16_c(w, key);
    for (int o = 0; o < 4; o++)
      for (int i = 0; i < n; i++) out[o * stride + i0 + i] = w[16 * o + i];
  }
}
#endif

#if !defined(__AVX512F__) && !defined(__AVX2__)
void ising_rng_fill_chunks16(ising_rng_key key, uint64_t first, int64_t chunks, uint32_t c2,
                             uint32_t c3, uint32_t *out) {
  for (int64_t c = 0; c < chunks; c++)
    ising_rng_fill_blocks(key, first + 16 * (uint64_t)c, 16, c2, c3, out + 64 * c, 16);
}

void ising_rng_fill_runs4(ising_rng_key key, const uint64_t *first, int64_t n, uint32_t c2,
                          uint32_t c3, uint32_t *const *out) {
  for (int64_t j = 0; j < n; j += 4) {
    const int64_t m = n - j < 4 ? n - j : 4;
    uint32_t w[64];
    for (int l = 0; l < 16; l++) {
      const uint64_t g = l / 4 < m ? first[j + l / 4] + (uint64_t)(l % 4) : 0;
      w[l] = (uint32_t)g;
      w[16 + l] = (uint32_t)(g >> 32);
      w[32 + l] = c2;
      w[48 + l] = c3;
    }
    philox16_c(w, key);
    for (int64_t r = 0; r < m; r++)
      for (int o = 0; o < 4; o++)
        for (int i = 0; i < 4; i++) out[j + r][4 * o + i] = w[16 * o + 4 * r + i];
  }
}
#endif

void ising_rng_fill16(ising_rng_key key, uint64_t first, int64_t count, uint32_t c2,
                      uint32_t c3, uint16_t *out) {
  int64_t i = 0;
#if defined(__AVX512F__) || defined(__AVX2__)
  for (; i + 1 < count; i += 2)
    fill_chunk_pair(key, first + (uint64_t)i, c2, c3, out + ISING_RNG_CHUNK * i);
#endif
  for (; i < count; i++)
    fill_chunk(key, first + (uint64_t)i, c2, c3, out + ISING_RNG_CHUNK * i);
}

#ifdef __AVX512F__
void ising_rng_words_at(ising_rng_key key, const uint64_t *groups, int64_t n, int word,
                        uint32_t c2, uint32_t c3, uint32_t *out) {
  for (int64_t i = 0; i < n; i += 16) {
    const int m = n - i < 16 ? (int)(n - i) : 16;
    const __mmask8 k0 = (__mmask8)(m >= 8 ? 0xFF : (1u << m) - 1);
    const __mmask8 k1 = (__mmask8)(m >= 16 ? 0xFF : m > 8 ? (1u << (m - 8)) - 1 : 0);
    const __m512i g0 = _mm512_maskz_loadu_epi64(k0, groups + i);
    const __m512i g1 = _mm512_maskz_loadu_epi64(k1, groups + i + 8);
    __m512i a[4];
    a[0] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(g0)),
                              _mm512_cvtepi64_epi32(g1), 1);
    a[1] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(_mm512_srli_epi64(g0, 32))),
                              _mm512_cvtepi64_epi32(_mm512_srli_epi64(g1, 32)), 1);
    a[2] = _mm512_set1_epi32((int)c2);
    a[3] = _mm512_set1_epi32((int)c3);
    philox16(a, key);
    _mm512_mask_storeu_epi32(out + i, (__mmask16)(m == 16 ? 0xFFFF : (1u << m) - 1), a[word & 3]);
  }
}
#else
void ising_rng_words_at(ising_rng_key key, const uint64_t *groups, int64_t n, int word,
                        uint32_t c2, uint32_t c3, uint32_t *out) {
  for (int64_t i0 = 0; i0 < n; i0 += 16) {
    uint32_t w[64];
    const int m = n - i0 < 16 ? (int)(n - i0) : 16;
    for (int i = 0; i < 16; i++) {
      const uint64_t g = i < m ? groups[i0 + i] : 0;
      w[i] = (uint32_t)g;
      w[16 + i] = (uint32_t)(g >> 32);
      w[32 + i] = c2;
      w[48 + i] = c3;
    }
    philox16_c(w, key);
    for (int i = 0; i < m; i++) out[i0 + i] = w[16 * (word & 3) + i];
  }
}
#endif
