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

/* Name of the path `kind` runs in this build ("reference", "fast/avx512",
 * "fast/avx2", "fast/portable"). */
const char *ising_update_kernel_name(ising_byte_kernel kind);

#endif
