/*
 * msc_impl.h -- the exact bit-serial acceptance of the multi-spin-coding
 * kernels (msc.c: one lattice, 64 sites per word; msc_async.c: 64 replicas
 * per word), shared by both.
 *
 * Every lane of a word that needs a random decision compares its own
 * uniform u = 0.u31 u30 ... u0 (32 bits, most significant first) with its
 * 32-bit threshold t (model.h: move iff u <= t) one bit at a time: at the
 * first bit where u and t differ the lane moves iff t has the 1; a lane
 * whose 32 bits all equal t's moves (u == t).  The bits are drawn only for
 * the lanes still undecided, one fresh bit per lane and round, so a lane
 * uses 2 bits on average and no bit serves two lanes: round by round, the
 * undecided lanes take the next bits of the word's stream in increasing
 * lane order (a parallel bit deposit of the stream into the undecided
 * mask).
 *
 * The word's stream: Philox block (group, c2, c3) gives the 64-bit words
 * x0 | x1 << 32 and x2 | x3 << 32, consumed from the least significant bit;
 * when they run out, block (group + (e << 48), c2, c3) for e = 1, 2, ...
 * continues it.  The kernels pre-generate the first block of every word of
 * a row with ising_rng_fill_blocks.
 */
#ifndef ISING_MSC_IMPL_H
#define ISING_MSC_IMPL_H

#include <stdint.h>

#include "ising/rng.h"
#if defined(__BMI2__)
#include <immintrin.h>
#endif

/* Parallel bit deposit: the low popcount(mask) bits of src, in order, to the
 * set bits of mask (BMI2's pdep where the build targets it). */
static inline uint64_t msc_pdep(uint64_t src, uint64_t mask) {
#if defined(__BMI2__)
  return _pdep_u64(src, mask);
#else
  uint64_t r = 0;
  for (uint64_t b = 1; mask; b += b) {
    uint64_t low = mask & (0 - mask);
    if (src & b) r |= low;
    mask ^= low;
  }
  return r;
#endif
}

typedef struct msc_reader {
  uint64_t cur; /* unread bits, least significant first; zero above `have` */
  int have;
  int stage;    /* 0: second word of the first block unread; e >= 1: next block e */
  uint64_t v1, pend;
  int pend_ok;
  ising_rng_key key;
  uint64_t group;
  uint32_t c2, c3;
  int64_t extra; /* Philox blocks drawn beyond the first */
} msc_reader;

static inline void msc_reader_start(msc_reader *rd, ising_rng_key key, uint64_t group,
                                    uint32_t c2, uint32_t c3, uint32_t x0, uint32_t x1,
                                    uint32_t x2, uint32_t x3) {
  rd->cur = x0 | (uint64_t)x1 << 32;
  rd->v1 = x2 | (uint64_t)x3 << 32;
  rd->have = 64;
  rd->stage = 0;
  rd->pend_ok = 0;
  rd->key = key;
  rd->group = group;
  rd->c2 = c2;
  rd->c3 = c3;
}

static inline uint64_t msc_next_word(msc_reader *rd) {
  if (rd->stage == 0) {
    rd->stage = 1;
    return rd->v1;
  }
  if (rd->pend_ok) {
    rd->pend_ok = 0;
    return rd->pend;
  }
  uint32_t x[4];
  ising_rng_block(rd->key, rd->group + ((uint64_t)rd->stage << 48), rd->c2, rd->c3, x);
  rd->stage++;
  rd->extra++;
  rd->pend = x[2] | (uint64_t)x[3] << 32;
  rd->pend_ok = 1;
  return x[0] | (uint64_t)x[1] << 32;
}

/* The next k (1..64) bits of the stream in the low bits of the result
 * (bits above k are not cleared: pdep reads only the low ones). */
static inline uint64_t msc_take(msc_reader *rd, int k) {
  if (rd->have >= k) {
    uint64_t r = rd->cur;
    rd->cur = k == 64 ? 0 : rd->cur >> k;
    rd->have -= k;
    return r;
  }
  uint64_t nx = msc_next_word(rd);
  uint64_t r = rd->cur | (nx << rd->have); /* have <= 63 here */
  int used = k - rd->have;
  rd->cur = used == 64 ? 0 : nx >> used;
  rd->have = 64 - used;
  return r;
}

/* The lanes that move.  Lane b belongs to at most one class i (need[i] bit
 * b); tb[i][j] has lane b set where bit j of that lane's threshold is 1
 * (for one lattice at one temperature: all lanes or none).  *bits gets the
 * number of random bits drawn. */
static inline uint64_t msc_decide(int ncls, const uint64_t *need, const uint64_t (*tb)[32],
                                  msc_reader *rd, int64_t *bits) {
  uint64_t U = 0, A = 0;
  for (int i = 0; i < ncls; i++) U |= need[i];
  for (int j = 31; U; j--) {
    if (j < 0) return A | U; /* u == t */
    uint64_t T = 0;
    for (int i = 0; i < ncls; i++) T |= need[i] & tb[i][j];
    int k = __builtin_popcountll(U);
    *bits += k;
    uint64_t r = msc_pdep(msc_take(rd, k), U);
    A |= U & T & ~r;  /* u's bit 0 where t's is 1: u < t */
    U &= ~(r ^ T);    /* equal bits: still undecided */
  }
  return A;
}

#endif
