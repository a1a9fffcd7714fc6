/*
 * msc_impl.h -- the random stream of the multi-spin-coding kernel (msc.c)
 * and the rule its exact acceptance follows.
 *
 * Every lane of a word that needs a random decision compares its own
 * uniform u (32 bits) with its 32-bit threshold t (model.h: move iff
 * u <= t) one BYTE at a time, most significant first: at the first byte
 * where u and t differ the lane moves iff u's byte is the smaller; a lane
 * whose four bytes all equal t's moves (u == t).  So a decision reads 8
 * bits with probability 255/256 and 8.03 on average; lanes whose move has
 * p = 1 read none, and no byte serves two lanes.  (A comparison bit by bit
 * reads 2 bits on average, but its rounds are serial per word and ran at
 * 1.1-1.5 flips/ns here; a variant with 192 bits of its own per word, a
 * pdep per bit plane and 2.0 bits per decision ran at 1.35 flips/ns where
 * this one ran at 3.7; a third, round-major one that splits a row's
 * decisions into lists of equal threshold (so a round compares with one
 * constant bit; lists compacted between rounds, moves deposited back by
 * pdep; 2.0 bits per decision, Philox 6.5% of the sweep) ran at 2.1-2.5
 * where this one ran at 3.5-3.9 (2D L = 4096, alternating runs): its list
 * rounds, loops of data-dependent length forward and back for every list
 * of every row, took 60 of its 89 TSC cycles per word.  One AVX-512
 * VBMI2 expand deposits a byte into every undecided lane at once; on AVX2
 * msc.c compares the stream's bytes with each threshold byte in order and
 * gathers a word's outcomes by pext/pdep, msc_async.c deposits the bytes
 * eight lanes at a time by pdep; the portable msc.c compares 64 bytes of
 * the stream with every group's byte (SSE2, or eight bytes per 64-bit
 * word elsewhere) and deposits the outcome bitmaps into the lanes by a
 * table of 8-bit pdeps, msc_dep.)
 *
 * The random stream of a (replica, sweep, colour, global row) is a byte
 * sequence read in order by the words of the row, each taking one byte per
 * undecided lane in increasing lane order, round by round: chunk C of the
 * stream (nb = msc_run_blocks(Lx) Philox blocks, groups row_base + C nb +
 * i, i < nb) is the output words of those blocks in planar order (word o
 * of block i at byte offset 4 (o nb + i), little-endian).  Whole rows live
 * on one rank, so the stream and every decision are the same on any rank
 * count.
 */
#ifndef ISING_MSC_IMPL_H
#define ISING_MSC_IMPL_H

#include <stdint.h>

#include <string.h>

#include "ising/rng.h"
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the multi-spin-coding stream reads Philox words as little-endian bytes"
#endif
#if defined(__AVX512VBMI2__) && defined(__AVX512BW__)
#include <immintrin.h>
#define MSC_SIMD 1
#elif defined(__AVX2__) && defined(__BMI2__)
#include <immintrin.h>
#define MSC_AVX2 1 /* 256-bit vectors, pdep/pext: the x86-64-v3 decisions */
#endif

#if !defined(MSC_SIMD) && !defined(MSC_AVX2)
#define MSC_PORTABLE 1 /* the portable decisions: compare bitmaps, pdep by table */
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#endif

/* Set bits of x: the instruction where the target has one, else the SWAR
 * sum (x86-64 without POPCNT would call libgcc for __builtin_popcountll). */
static inline int msc_popcount(uint64_t x) {
#if defined(__x86_64__) && !defined(__POPCNT__)
  x -= (x >> 1) & 0x5555555555555555u;
  x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Fu;
  return (int)((x * 0x0101010101010101u) >> 56);
#else
  return __builtin_popcountll(x);
#endif
}

#ifdef MSC_PORTABLE
/* Bit i of lt[g] (eq[g]): byte r[i] below (equal to) t[g], g < ng, for
 * the 64 bytes r[0..63] (all readable). */
#if defined(__SSE2__) && !defined(MSC_SWAR) /* MSC_SWAR: the SWAR code on x86-64 too (a check) */
static inline void msc_cmp_bits(const uint8_t *r, const uint8_t *t, int ng, uint64_t *lt,
                                uint64_t *eq) {
  const __m128i flip = _mm_set1_epi8((char)0x80);
  __m128i x[4], xf[4];
  for (int i = 0; i < 4; i++) {
    x[i] = _mm_loadu_si128((const __m128i *)(r + 16 * i));
    xf[i] = _mm_xor_si128(x[i], flip); /* a signed compare of these is the unsigned one */
  }
  for (int g = 0; g < ng; g++) {
    const __m128i tv = _mm_set1_epi8((char)t[g]), tx = _mm_xor_si128(tv, flip);
    uint64_t l = 0, e = 0;
    for (int i = 0; i < 4; i++) {
      l |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmplt_epi8(xf[i], tx)) << (16 * i);
      e |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x[i], tv)) << (16 * i);
    }
    lt[g] = l;
    eq[g] = e;
  }
}
/* The set bits of each 64-bit half of x (psadbw sums the byte counts). */
static inline __m128i msc_popcount2(__m128i x) {
  const __m128i m1 = _mm_set1_epi8(0x55), m2 = _mm_set1_epi8(0x33), m4 = _mm_set1_epi8(0x0F);
  x = _mm_sub_epi8(x, _mm_and_si128(_mm_srli_epi64(x, 1), m1));
  x = _mm_add_epi8(_mm_and_si128(x, m2), _mm_and_si128(_mm_srli_epi64(x, 2), m2));
  x = _mm_and_si128(_mm_add_epi8(x, _mm_srli_epi64(x, 4)), m4);
  return _mm_sad_epu8(x, _mm_setzero_si128());
}
#else
/* SWAR on eight bytes at a time: the top bit of each byte, gathered. */
#define MSC_H8 0x8080808080808080u
#define MSC_L8 0x7F7F7F7F7F7F7F7Fu
static inline unsigned msc_top_bits(uint64_t h) { return (unsigned)(((h >> 7) * 0x0102040810204080u) >> 56); }
static inline void msc_cmp_bits(const uint8_t *r, const uint8_t *t, int ng, uint64_t *lt,
                                uint64_t *eq) {
  for (int g = 0; g < ng; g++) lt[g] = eq[g] = 0;
  for (int i = 0; i < 8; i++) {
    uint64_t x;
    memcpy(&x, r + 8 * i, 8);
    for (int g = 0; g < ng; g++) {
      /* top bit of d: the low 7 bits of x's byte at least t's */
      const uint64_t d = ((x & MSC_L8) | MSC_H8) - (t[g] & 0x7F) * 0x0101010101010101u;
      const uint64_t ge = (t[g] & 0x80) ? x & d : x | d;
      const uint64_t y = x ^ (t[g] * 0x0101010101010101u); /* zero bytes where equal */
      lt[g] |= (uint64_t)msc_top_bits(~ge & MSC_H8) << (8 * i);
      eq[g] |= (uint64_t)msc_top_bits(~(((y & MSC_L8) + MSC_L8) | y) & MSC_H8) << (8 * i);
    }
  }
}
#endif

/* pdep without the instruction: per byte of the mask a table lookup.
 * dep8[m][v] (msc_dep8_init) is pdep of v into the 8-bit mask m; a word's
 * mask U is split once (msc_dep_split), then every msc_dep deposits the
 * low popcount(U) bits of x into U's lanes. */
static inline void msc_dep8_init(uint8_t (*dep8)[256]) {
  for (int m = 0; m < 256; m++)
    for (int v = 0; v < 256; v++) {
      unsigned o = 0;
      for (int i = 0, k = 0; i < 8; i++)
        if (m >> i & 1) o |= (unsigned)(v >> k++ & 1) << i;
      dep8[m][v] = (uint8_t)o;
    }
}
typedef struct msc_dep_split {
  const uint8_t *row[8]; /* dep8[byte i of U] */
  int off[8];            /* bits of x taken by the bytes below i */
  int n;                 /* popcount(U) */
} msc_dep_split;
static inline void msc_dep_split_init(msc_dep_split *d, uint8_t (*dep8)[256], uint64_t U) {
  /* the set bits of each byte of U, then their prefix sums: byte i of
   * pre is the count in bytes 0..i */
  uint64_t x = U - ((U >> 1) & 0x5555555555555555u);
  x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Fu;
  const uint64_t pre = x * 0x0101010101010101u;
  for (int i = 0; i < 8; i++) {
    d->row[i] = dep8[U >> (8 * i) & 0xFF];
    d->off[i] = i ? (int)(pre >> (8 * i - 8) & 0xFF) : 0;
  }
  d->n = (int)(pre >> 56);
}
static inline uint64_t msc_dep(const msc_dep_split *d, uint64_t x) {
  uint64_t o = 0;
  for (int i = 0; i < 8; i++) o |= (uint64_t)d->row[i][x >> d->off[i] & 0xFF] << (8 * i);
  return o;
}

/* The stream's next popcount(U) bytes r[0 ..] put into the lanes of U in
 * lane order, byte l of u[l / 8] for lane l (the others zero), without a
 * byte shuffle: the bytes of each eight lanes moved up in three steps of
 * 4, 2 and 1 bytes (the largest first: a byte's distance to its lane grows
 * with its rank, so no step moves a byte onto one that stays), under the
 * masks mv[m][0..2] of msc_bexp_init for the lanes' bit mask m.  r must
 * have 64 readable bytes. */
static inline void msc_bexp_init(uint64_t (*mv)[3]) {
  for (int m = 0; m < 256; m++) {
    int pos[8], d[8], n = 0;
    for (int l = 0; l < 8; l++)
      if (m >> l & 1) pos[n] = n, d[n] = l - n, n++;
    for (int k = 2; k >= 0; k--) {
      uint64_t x = 0;
      for (int i = 0; i < n; i++)
        if (d[i] >> k & 1) x |= (uint64_t)0xFF << (8 * pos[i]), pos[i] += 1 << k;
      mv[m][2 - k] = x;
    }
  }
}
static inline void msc_bexp(const uint64_t (*mv)[3], const uint8_t *r, uint64_t U, uint64_t u[8]) {
  uint64_t x = U - ((U >> 1) & 0x5555555555555555u); /* bits per byte of U, then prefix sums */
  x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Fu;
  const uint64_t pre = x * 0x0101010101010101u;
  for (int i = 0; i < 8; i++) {
    const unsigned m = (unsigned)(U >> (8 * i) & 0xFF), n = (unsigned)(x >> (8 * i) & 0xFF);
    uint64_t v;
    memcpy(&v, r + (i ? (pre >> (8 * i - 8) & 0xFF) : 0), 8);
    v &= n == 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * n)) - 1; /* the next lanes' bytes */
    const uint64_t *k = mv[m];
    v = (v & ~k[0]) | ((v & k[0]) << 32);
    v = (v & ~k[1]) | ((v & k[1]) << 16);
    v = (v & ~k[2]) | ((v & k[2]) << 8);
    u[i] = v;
  }
}

/* Bit l of *lt (*eq): byte l of u below (equal to) byte l of t, 64 bytes. */
#if defined(__SSE2__) && !defined(MSC_SWAR)
static inline void msc_cmp_lanes(const uint64_t u[8], const uint8_t *t, uint64_t *lt, uint64_t *eq) {
  const __m128i flip = _mm_set1_epi8((char)0x80);
  uint64_t l = 0, e = 0;
  for (int i = 0; i < 4; i++) {
    const __m128i x = _mm_set_epi64x((long long)u[2 * i + 1], (long long)u[2 * i]);
    const __m128i y = _mm_loadu_si128((const __m128i *)(t + 16 * i));
    l |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmplt_epi8(_mm_xor_si128(x, flip), _mm_xor_si128(y, flip)))
         << (16 * i);
    e |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) << (16 * i);
  }
  *lt = l;
  *eq = e;
}
#else
static inline void msc_cmp_lanes(const uint64_t u[8], const uint8_t *t, uint64_t *lt, uint64_t *eq) {
  uint64_t l = 0, e = 0;
  for (int i = 0; i < 8; i++) {
    uint64_t y;
    memcpy(&y, t + 8 * i, 8);
    const uint64_t x = u[i];
    /* top bit of d: the low 7 bits of x's byte at least y's */
    const uint64_t d = ((x & MSC_L8) | MSC_H8) - (y & MSC_L8);
    const uint64_t ge = (x & ~y) | (~(x ^ y) & d), z = x ^ y;
    l |= (uint64_t)msc_top_bits(~ge & MSC_H8) << (8 * i);
    e |= (uint64_t)msc_top_bits(~(((z & MSC_L8) + MSC_L8) | z) & MSC_H8) << (8 * i);
  }
  *lt = l;
  *eq = e;
}
#endif
#endif

#ifdef MSC_AVX2

/* Byte shuffles that deposit consecutive bytes into the lanes of a byte
 * mask (the pdep of msc_expand64 without pdep): byte i of pat[m] is the rank
 * of bit i among the set bits of m, 0x80 (a zero byte) where bit i is clear. */
static inline void msc_bytepat_init(uint64_t pat[256]) {
  for (int m = 0; m < 256; m++) {
    pat[m] = 0;
    for (int i = 0, k = 0; i < 8; i++) pat[m] |= (uint64_t)(m >> i & 1 ? k++ : 0x80) << (8 * i);
  }
}

/* The next popcount(U) stream bytes r[0 ..] put into the lanes of U in lane
 * order (the others zero), 64 bytes in two registers: eight lanes at a time
 * by pdep with the byte mask of their bits of U (bytemask[m]: byte i 0xFF
 * where bit i of m is set; one pdep per eight lanes, not two), or where
 * pdep is emulated (bytepat != NULL) by a byte shuffle of msc_bytepat_init.
 * r must have 64 readable bytes: eight lanes starting at lane 8i read from
 * byte <= 8i. */
static inline void msc_expand64(const uint64_t *bytemask, const uint64_t *bytepat, const uint8_t *r,
                                uint64_t U, __m256i *lo, __m256i *hi) {
  uint64_t x[8];
  for (int i = 0; i < 8; i++) {
    const unsigned mb = (unsigned)(U >> (8 * i) & 0xFF);
    uint64_t v;
    memcpy(&v, r + __builtin_popcountll(_bzhi_u64(U, (unsigned)(8 * i))), 8);
    if (bytepat) /* pdep emulated: the same bytes by a byte shuffle */
      x[i] = (uint64_t)_mm_cvtsi128_si64(_mm_shuffle_epi8(_mm_cvtsi64_si128((long long)v),
                                                          _mm_cvtsi64_si128((long long)bytepat[mb])));
    else
      x[i] = _pdep_u64(v, bytemask[mb]);
  }
  *lo = _mm256_setr_epi64x((long long)x[0], (long long)x[1], (long long)x[2], (long long)x[3]);
  *hi = _mm256_setr_epi64x((long long)x[4], (long long)x[5], (long long)x[6], (long long)x[7]);
}

/* Lanes where the bytes u (sign bits flipped) are below / equal to t (sign
 * bits flipped: a signed compare is the unsigned one). */
static inline uint64_t msc_lt64(__m256i ulo, __m256i uhi, __m256i tlo, __m256i thi) {
  return (uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(tlo, ulo)) |
         (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(thi, uhi)) << 32;
}
/* msc_count_aligned on four words per register: the count's bit planes
 * b[0..2] of the aligned masks a[0..3] (and a[4..5] in 3D). */
static inline void msc_count4(int d3, const __m256i a[6], __m256i b[3]) {
  __m256i s1, y1, s2, y2;
  if (!d3) {
    s1 = _mm256_xor_si256(a[0], a[1]), y1 = _mm256_and_si256(a[0], a[1]);
    s2 = _mm256_xor_si256(a[2], a[3]), y2 = _mm256_and_si256(a[2], a[3]);
  } else {
    const __m256i t1 = _mm256_xor_si256(a[0], a[1]), t2 = _mm256_xor_si256(a[3], a[4]);
    s1 = _mm256_xor_si256(t1, a[2]);
    y1 = _mm256_or_si256(_mm256_and_si256(a[0], a[1]), _mm256_and_si256(t1, a[2]));
    s2 = _mm256_xor_si256(t2, a[5]);
    y2 = _mm256_or_si256(_mm256_and_si256(a[3], a[4]), _mm256_and_si256(t2, a[5]));
  }
  const __m256i k = _mm256_and_si256(s1, s2), t = _mm256_xor_si256(y1, y2);
  b[0] = _mm256_xor_si256(s1, s2);
  b[1] = _mm256_xor_si256(t, k);
  b[2] = _mm256_or_si256(_mm256_and_si256(y1, y2), _mm256_and_si256(t, k));
}

/* The lanes of four words in a class term: count planes b ^ k all ones and
 * (spins ^ ks) | ko all ones (msc.c's msc_term, msc_async.c's as_group). */
static inline __m256i msc_match4(__m256i b0, __m256i b1, __m256i b2, __m256i S, uint64_t k0, uint64_t k1,
                                 uint64_t k2, uint64_t ks, uint64_t ko) {
  __m256i x = _mm256_and_si256(_mm256_xor_si256(b0, _mm256_set1_epi64x((long long)k0)),
                               _mm256_xor_si256(b1, _mm256_set1_epi64x((long long)k1)));
  x = _mm256_and_si256(x, _mm256_xor_si256(b2, _mm256_set1_epi64x((long long)k2)));
  return _mm256_and_si256(x, _mm256_or_si256(_mm256_xor_si256(S, _mm256_set1_epi64x((long long)ks)),
                                             _mm256_set1_epi64x((long long)ko)));
}

static inline uint64_t msc_eq64(__m256i ulo, __m256i uhi, __m256i tlo, __m256i thi) {
  return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(tlo, ulo)) |
         (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(thi, uhi)) << 32;
}

#endif

/* Blocks per chunk of an msc row's stream for rows of Lx sites: 4 (64
 * bytes) for rows of up to 512 sites, whose streams are short (a 3D row of
 * L = 256 reads about 83 bytes, a whole 256-byte chunk would be mostly
 * waste), 16 for longer ones (sixteen blocks fill a SIMD register's
 * counters and store without a transpose). */
#define MSC_SHORT_ROW 512
static inline int64_t msc_run_blocks(int64_t Lx) { return Lx <= MSC_SHORT_ROW ? 4 : 16; }
#define MSC_CHUNK_BLOCKS 16                   /* blocks per chunk of an msc-async stream */
#define MSC_CHUNK_BYTES (16 * MSC_CHUNK_BLOCKS) /* 256 bytes */
/* Blocks a row's stream may use per half sweep: the group of block b of
 * row R is R * MSC_ROW_BLOCKS + b (a row of 2^20 sites needs < 2^19). */
#define MSC_ROW_BLOCKS ((uint64_t)1 << 22)

/* Aligned-neighbour count of every lane as bit planes b0 b1 b2 (bitwise
 * adders over the aligned masks ~(s ^ n) of the 2d neighbour words n[0..]:
 * in 3D two full adders of three, then the two 2-bit partial sums added),
 * for one word (msc_count_aligned) or, in the portable build, two words in
 * a vector of the compiler's vector extensions (msc_count_aligned2: SSE2
 * on x86-64, NEON on arm64). */
#define MSC_COUNT_ALIGNED(NAME, T)                                                \
  static inline void NAME(int d3, T s, const T *n, T b[3]) {                      \
    const T a0 = ~(s ^ n[0]), a1 = ~(s ^ n[1]), a2 = ~(s ^ n[2]), a3 = ~(s ^ n[3]); \
    T s1, c1, s2, c2;                                                             \
    if (!d3) {                                                                    \
      s1 = a0 ^ a1, c1 = a0 & a1, s2 = a2 ^ a3, c2 = a2 & a3;                     \
    } else {                                                                      \
      const T a4 = ~(s ^ n[4]), a5 = ~(s ^ n[5]);                                 \
      const T t1 = a0 ^ a1, t2 = a3 ^ a4;                                         \
      s1 = t1 ^ a2, c1 = (a0 & a1) | (t1 & a2);                                   \
      s2 = t2 ^ a5, c2 = (a3 & a4) | (t2 & a5);                                   \
    }                                                                             \
    const T k = s1 & s2, t = c1 ^ c2;                                             \
    b[0] = s1 ^ s2;                                                               \
    b[1] = t ^ k;                                                                 \
    b[2] = (c1 & c2) | (t & k);                                                   \
  }
MSC_COUNT_ALIGNED(msc_count_aligned, uint64_t)
#ifdef MSC_PORTABLE
typedef uint64_t msc_v2 __attribute__((vector_size(16)));
MSC_COUNT_ALIGNED(msc_count_aligned2, msc_v2)
#endif

/* The lanes in a class term e (msc.c's msc_term, msc_async.c's as_group):
 * count planes b0 b1 b2 ^ k all ones and (spins s ^ ks) | ko all ones; for
 * a word or a vector of words. */
#define MSC_MATCH(b0, b1, b2, s, e) \
  (((b0) ^ (e)->k0) & ((b1) ^ (e)->k1) & ((b2) ^ (e)->k2) & (((s) ^ (e)->ks) | (e)->ko))

#endif
