/*
 * rng.h -- counter-based random numbers: Philox4x32-10, or ARS-7 where the
 * CPU has AES-NI (both Random123; the key says which).
 *
 * A random number is a pure function of (key, counter); the key comes from
 * the deck's seed by hashing (never seed + something), the counter from what
 * the number is for: (purpose, replica, sweep, colour, global site group).
 * Hence a run gives the same bits on any number of ranks, and the generator
 * state of a checkpoint is just the seed and the sweep counter.
 *
 * Counter layout (one Philox call = four 32-bit output words):
 *   c0, c1 = low and high 32 bits of the group index
 *   c2     = sweep number (low 32 bits)
 *   c3     = replica << 8 | purpose << 1 | colour
 * Numbers are served as 16-bit halves in chunks of ISING_RNG_CHUNK = 128:
 * chunk C is made of groups 16C .. 16C+15 (64 words); number k of the chunk
 * is bits [16 (k / 64), 16 (k / 64) + 16) of word w = k % 64, and word w is
 * output w / 16 of group 16 C + w % 16.  Sixteen counters advance in SIMD
 * lanes and store their words contiguously.
 *
 * A site's acceptance uses the full 32-bit uniform
 *     u = (number of purpose SWEEP) << 16 | (number of purpose SWEEP_LO)
 * compared exactly with a 32-bit threshold; the fast kernel draws the low
 * half only when the high halves tie (probability 2^-16), so one Philox
 * output word serves two sites.  A site with global coordinates (gx,gy,gz)
 * has the half-lattice index G = (gy + Ly gz) (Lx / 2) + gx / 2 (its rank
 * among the sites of its colour, rows in natural order) and uses number
 * G % 128 of chunk G / 128: short rows share chunks.
 * ising_rng_fill16 is tested bit for bit against Random123's philox4x32.
 */
#ifndef ISING_RNG_H
#define ISING_RNG_H

#include <stdint.h>

/* The generator of a key (the deck's [montecarlo] rng): Philox4x32-10, or
 * ARS-7 (Random123's ars4x32 with its default 7 rounds, 128-bit key
 * k[0], k[1], 0, 0), which needs AES-NI.  Both take the same counters and
 * give four 32-bit words per group, served in the same layouts below. */
enum ising_rng_alg { ISING_RNG_PHILOX = 0, ISING_RNG_ARS = 1 };
#define ISING_RNG_ARS_ROUNDS 7

typedef struct ising_rng_key {
  uint32_t k[2];
  uint32_t alg; /* enum ising_rng_alg */
} ising_rng_key;

enum ising_rng_purpose {
  ISING_RNG_SWEEP = 1, /* acceptance decisions of a half sweep */
  ISING_RNG_SWEEP_LO = 4, /* low 16 bits of a sweep decision, on a tie */
  ISING_RNG_INIT = 2,  /* hot-start spins */
  ISING_RNG_TEMPER = 3, /* tempering decisions (keyed by pair, not site) */
  ISING_RNG_MSC = 5,   /* multi-spin coding: bits of one word of 64 sites (msc.h) */
  ISING_RNG_MSC_ASYNC = 6, /* multi-replica multi-spin coding: one word per site */
  /* 7 .. 11: the cluster algorithms (src/cluster_impl.h) */
  ISING_RNG_DISORDER_BOND = 12, /* quenched couplings (disorder.h; key of the disorder seed) */
  ISING_RNG_DISORDER_FIELD = 13 /* quenched random fields (disorder.h) */
};

/* Key of a run: a 64-bit mix (splitmix64 finaliser) of the seed; Philox. */
ising_rng_key ising_rng_key_from_seed(uint64_t seed);

/* Whether this CPU can run ARS (AES-NI; x86-64 builds only). */
int ising_rng_ars_available(void);

/* "philox" or "ars". */
const char *ising_rng_alg_name(int alg);

/* The c3 counter word. replica < 2^24. */
static inline uint32_t ising_rng_c3(uint32_t replica, int purpose, int colour) {
  return (replica << 8) | ((uint32_t)purpose << 1) | (uint32_t)(colour & 1);
}

/* One block of the key's generator (Random123's philox4x32_R or
 * ars4x32_R): out[0..3]. */
void ising_rng_block(ising_rng_key key, uint64_t group, uint32_t c2, uint32_t c3,
                     uint32_t out[4]);

#define ISING_RNG_CHUNK 128

/* Number k (0..127) of chunk `chunk`, computed alone through Random123:
 * the reference that ising_rng_fill16 is tested against. */
uint16_t ising_rng_number16(ising_rng_key key, uint64_t chunk, int k, uint32_t c2,
                            uint32_t c3);

/* Chunks first .. first+count-1 into out[128*count]: out[128*i + k] is number
 * k of chunk first+i.  Vectorised (AVX-512 or AVX2 where the build targets it). */
void ising_rng_fill16(ising_rng_key key, uint64_t first, int64_t count, uint32_t c2,
                      uint32_t c3, uint16_t *out);

/* Whole Philox blocks for groups first .. first+count-1 in four planes:
 * out[o * stride + i] = output word o of group first + i (stride >= count).
 * Vectorised where the build targets AVX-512 or AVX2 (the
 * multi-spin-coding kernels' random bits, msc.h). */
void ising_rng_fill_blocks(ising_rng_key key, uint64_t first, int64_t count, uint32_t c2,
                           uint32_t c3, uint32_t *out, int64_t stride);

/* `chunks` runs of 16 consecutive blocks (groups first + 16 c .. + 15), each
 * in four planes of 16 words: out[64 c + 16 o + i] = output word o of group
 * first + 16 c + i.  The same words as ising_rng_fill_blocks with count 16
 * per run; two runs are computed together where AVX-512 or AVX2 allows. */
void ising_rng_fill_chunks16(ising_rng_key key, uint64_t first, int64_t chunks, uint32_t c2,
                             uint32_t c3, uint32_t *out);
/* n runs of four consecutive blocks, each into its own 16 words in four
 * planes of four: out[j][4 o + i] = output word o of group first[j] + i.
 * Every first[j] is a multiple of 4 (the low word never carries).  The
 * multi-spin-coding rows' streams (msc.c): a row's 64-byte chunks, or the
 * first chunks of several rows, four runs to sixteen SIMD counters. */
void ising_rng_fill_runs4(ising_rng_key key, const uint64_t *first, int64_t n, uint32_t c2,
                          uint32_t c3, uint32_t *const *out);

/* Output word `word` (0..3) of the blocks of the n groups groups[i] into
 * out[i]: ising_rng_block at arbitrary counters, sixteen at a time
 * (vectorised where the build targets AVX-512). */
void ising_rng_words_at(ising_rng_key key, const uint64_t *groups, int64_t n, int word,
                        uint32_t c2, uint32_t c3, uint32_t *out);
/* Half-lattice index of a site (see above). */
static inline int64_t ising_rng_site_index(const int64_t L[3], int64_t gx, int64_t gy, int64_t gz) {
  return (gy + L[1] * gz) * (L[0] / 2) + gx / 2;
}

/* Uniform in [0,1) with 32 random bits: u * 2^-32. */
static inline double ising_rng_u01(uint32_t u) { return (double)u * 0x1p-32; }

#endif
