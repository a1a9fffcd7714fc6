/*
 * msc.h -- multi-spin coding (MSC): the Metropolis half sweep on packed
 * spins, 64 sites of one colour per 64-bit word ([montecarlo] kernel = msc).
 *
 * The lattice keeps a packed copy of its spins (lattice_impl.h) beside the
 * int8 one; the MSC kernel sweeps the packed copy, and every other reader
 * (output, checkpoints, correlations, the byte kernels) sees the int8 copy,
 * which is brought up to date only when one of them asks.  The x rows stay
 * whole on one rank (layout.c divides y and z only), so that a word is 64
 * consecutive sites of one colour of a GLOBAL row and its random bits, keyed
 * by (global row, word), do not depend on the rank count.
 *
 * A word's neighbour counts come from bitwise adders over the aligned-bit
 * masks ~(s ^ n) of its 2d neighbour words (x neighbours by a one-bit shift
 * with the carry from the next word, wrapping around the row); lanes whose
 * move has p = 1 flip, the others decide exactly, byte by byte, against
 * their 32-bit thresholds (msc_impl.h): 8.03 random bits per decision on
 * average instead of 32.  The kernel returns the same exact bond and magnetisation sums as
 * the byte kernels (update.h), from popcounts.
 *
 * ising_msc_half_reference makes the same decisions site by site through the
 * public accessors (readable; the oracle the packed kernel is tested
 * against); its decisions differ from the byte kernels' (another stream),
 * so the MSC kernel is tested against exact results and statistically
 * against the byte kernel, like any new algorithm.
 */
#ifndef ISING_MSC_H
#define ISING_MSC_H

#include <stdint.h>

#include "ising/lattice.h"
#include "ising/model.h"
#include "ising/update.h"

/* One MSC half sweep of `colour` (Metropolis, J > 0: the caller checks).
 * Like ising_update_half; the halo of the colour is refreshed by
 * ising_lattice_halo afterwards (packed rows are exchanged). */
int ising_msc_half(ising_lattice *lat, const ising_model *m, ising_stream st, uint64_t sweep,
                   int colour, ising_half_sums *sums);
/* The same decisions, site by site on the int8 spins. */
int ising_msc_half_reference(ising_lattice *lat, const ising_model *m, ising_stream st,
                             uint64_t sweep, int colour, ising_half_sums *sums);

/* Counters of the packed kernel since the lattice was made: words updated,
 * site decisions that needed random bits, random bits read by them, Philox
 * blocks drawn (128 bits each). */
void ising_msc_stats(const ising_lattice *lat, int64_t out[4]);
/* For `ising bench`: draw `blocks` Philox blocks the way `words` words of
 * half sweeps did (one fill per row and half sweep, of the mean size) and
 * nothing else: the generator's share of the time. */
void ising_msc_rng_only(ising_lattice *lat, ising_stream st, int64_t blocks, int64_t words);

#endif
