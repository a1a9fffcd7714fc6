/*
 * update.h -- sweep kernels: one half sweep (one checkerboard colour).
 *
 * A kernel sees a lattice block, a model and a random stream (key, replica,
 * sweep), never MPI: the engine refreshes the halo of the colour just
 * updated (ising_lattice_halo) between the two half sweeps.  Two
 * implementations make the same decisions bit for bit: the reference kernel
 * (natural site order, one scalar Random123 call per number: readable, slow,
 * the oracle) and the fast kernel (colour-split rows, numbers in SIMD
 * chunks; AVX-512 or AVX2 where the build targets them, plain C otherwise).
 * A site's move uses its 32-bit uniform u = hi << 16 | lo (rng.h) and the
 * threshold rule of model.h.
 */
#ifndef ISING_UPDATE_H
#define ISING_UPDATE_H

#include <stdint.h>

#include "ising/lattice.h"
#include "ising/model.h"
#include "ising/rng.h"

typedef struct ising_stream {
  ising_rng_key key;
  uint32_t replica;
} ising_stream;

/* Exact sums a half sweep returns for its block, so that E and M need no
 * extra pass over the lattice.  With nb a site's neighbour sum:
 *   colour 0: bonds = sum over its sites of s_new nb
 *   colour 1: bonds = sum over its sites of (s_new - s_old) nb
 *   mag = sum of s_new over the colour's sites.
 * Every bond has exactly one colour-0 end, so after a sweep (colour 0, its
 * halo refresh, colour 1) the block's bond sum (observe.h) is the sum of the
 * two `bonds` and its magnetisation the sum of the two `mag`. */
typedef struct ising_half_sums {
  int64_t bonds, mag;
} ising_half_sums;

/* Which byte kernel: the reference (the oracle), the fast one with the SIMD
 * path the build targets, or the fast one's plain C path (tests, bench). */
typedef enum {
  ISING_BYTE_FAST = 0,
  ISING_BYTE_REFERENCE = 1,
  ISING_BYTE_PORTABLE = 2
} ising_byte_kernel;

/* Update every interior site of `colour` of the block for sweep `sweep`;
 * fill *sums (see above; may be NULL).  Does not touch halos. */
int ising_update_half(ising_lattice *lat, const ising_model *m, ising_byte_kernel kind,
                      ising_stream stream, uint64_t sweep, int colour, ising_half_sums *sums);

/* Quenched disorder: the couplings of a block from a provider (model.h).
 *
 * A cache holds what a half sweep needs of one disorder sample on one
 * lattice block: for every site of the block and its halo the weight w of
 * each of its dim bonds to the +e_axis neighbour (int8 when the provider is
 * bimodal, else int32), colour-split like the spins, and f of every site
 * when the provider has a field source.  It is made for one block geometry
 * (layout) and may serve every lattice of that geometry with the sample's
 * couplings (the replicas of one sample).  The provider must outlive the
 * cache: the reference kernel reads it directly.
 * ising_update_cache_create: ISING_ERR_MEM when out of memory.
 * ising_update_cache_bytes: the memory it holds. */
typedef struct ising_update_cache ising_update_cache;

int ising_update_cache_create(const ising_couplings *c, const ising_lattice *lat,
                              ising_update_cache **out);
void ising_update_cache_free(ising_update_cache **cache);
int64_t ising_update_cache_bytes(const ising_update_cache *cache);

/* ising_update_half with the couplings of `cache`: a site with spin s,
 * weighted neighbour sum nw = sum_j w_ij s_j and field weight f moves iff
 * its uniform u = hi << 16 | lo (the same numbers as ising_update_half)
 * satisfies u <= ising_model_threshold(ising_model_probability_local(m, s,
 * ising_couplings_local(c, nw, f))), in every kernel kind; m gives beta and
 * the algorithm, the provider J_unit, h_unit and H.  *sums as above with nw
 * in place of nb (colour 0: sum s_new nw, colour 1: sum (s_new - s_old) nw),
 * so that the two bonds add up to B = sum over bonds of w_ij s_i s_j;
 * *fsum = sum of f s_new over the colour's sites (0 without a field
 * source; the two colours add up to F).  sums and fsum may be NULL.
 * Bimodal couplings without a field source, or with field weights f in
 * {-1, 0, +1}, decide through threshold tables per temperature (computed by
 * the rule above and memoised in the cache, which is why it is not const);
 * others evaluate the rule per site (by ising_update_approx_x, with the
 * exact rule where that cannot decide, and wholly exactly for int32 weights
 * with 2 z max|w| >= 2^31).
 * ISING_ERR_INTERNAL when the cache was made for another block geometry. */
int ising_update_half_disorder(ising_lattice *lat, const ising_model *m, ising_update_cache *cache,
                               ising_byte_kernel kind, ising_stream stream, uint64_t sweep,
                               int colour, ising_half_sums *sums, int64_t *fsum);

/* The fast kernels' stand-in x~ for x = 2^16 p, p =
 * ising_model_probability_local(m, s, local) (for tests): where x >= 1,
 * |x~/x - 1| <= 2^-18; where x < 1, 0 <= x~ < 1 or the same bound.  (The
 * kernels compute the argument in float from nw and f and widen the band
 * by its error bound, update.c.)  Sites whose high half lies within about
 * 2^-16 x~ + 1 of x~ take the exact rule, so the decisions are those above
 * in every case. */
float ising_update_approx_x(const ising_model *m, int s, double local);

/* Name of the path `kind` runs in this build ("reference", "fast/avx512",
 * "fast/avx2", "fast/portable"). */
const char *ising_update_kernel_name(ising_byte_kernel kind);

#endif
