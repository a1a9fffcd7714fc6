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

#include "ising/config.h"
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

/* Update every interior site of `colour` of the block for sweep `sweep`;
 * fill *sums (see above).  Does not touch halos.  An error code only for
 * the multi-spin-coding kinds, which are refused here: ISING_KERNEL_MSC
 * sweeps its own packed copy of the spins (msc.h) and ISING_KERNEL_MSC_ASYNC
 * sets of 64 replicas (msc_async.h), both driven by the engine. */
int ising_update_half(ising_lattice *lat, const ising_model *m, ising_kernel_kind kind,
                      ising_stream stream, uint64_t sweep, int colour, ising_half_sums *sums);

/* Name of the kernel that `kind` selects in this build ("reference",
 * "fast/avx512", "fast/avx2", "fast/portable", "msc/bmi2", "msc/portable",
 * "msc-async/avx512", "msc-async/portable"). */
const char *ising_update_kernel_name(ising_kernel_kind kind);

#endif
