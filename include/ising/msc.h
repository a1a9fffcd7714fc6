/*
 * msc.h -- multi-spin coding (MSC): the Metropolis half sweep on packed
 * spins, 64 sites of one colour per 64-bit word ([montecarlo] kernel = msc).
 *
 * An ising_msc object holds a packed copy of one lattice block (halo rows
 * included), the kernel's scratch and its counters; the lattice knows
 * nothing of it.  The caller moves the spins between the two copies:
 * ising_msc_load before packed sweeps, ising_msc_store before anything
 * reads the int8 lattice (output, checkpoints, correlations, the byte
 * kernels).  The x rows stay whole on one rank (layout.c divides y and z
 * only), so that a word is 64 consecutive sites of one colour of a GLOBAL
 * row and its random bits, keyed by (global row, word), do not depend on
 * the rank count; the packed halo is therefore only y and z rows.
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
 * public accessors of the int8 lattice (readable; the oracle the packed
 * kernel is tested against); its decisions differ from the byte kernels'
 * (another stream), so the MSC kernel is tested against exact results and
 * statistically against the byte kernel, like any new algorithm.
 */
#ifndef ISING_MSC_H
#define ISING_MSC_H

#include <stdint.h>

#include "ising/config.h"
#include "ising/lattice.h"
#include "ising/model.h"
#include "ising/update.h"

/* Packed copy of one lattice block, kernel scratch and counters. */
typedef struct ising_msc ising_msc;

/* Geometry and neighbours from `lat`, whose x rows must be whole on this
 * rank (ISING_ERR_INPUT otherwise); the packed spins are undefined until
 * ising_msc_load. */
int ising_msc_create(const ising_lattice *lat, ising_msc **out);
/* Accepts NULL and nulls *p. */
void ising_msc_destroy(ising_msc **p);
/* The int8 spins of `lat` (interior and halo rows) -> the packed copy.
 * `lat` must have the geometry the object was made from. */
int ising_msc_load(ising_msc *p, const ising_lattice *lat);
/* The packed copy -> the int8 spins of `lat`, every row (halo rows
 * included), the int8 x halos from the periodic x row. */
int ising_msc_store(const ising_msc *p, ising_lattice *lat);

/* One MSC half sweep of `colour` on the packed copy (Metropolis, J > 0: the
 * caller checks); sums as ising_update_half.  Refresh the colour's packed
 * halo with ising_msc_halo before the other colour's half sweep. */
int ising_msc_half(ising_msc *p, const ising_model *m, ising_stream st, uint64_t sweep,
                   int colour, ising_half_sums *sums);
/* Refresh the packed halo rows of `colour` (y and z faces; halo.h).
 * Collective over the lattice's group. */
int ising_msc_halo(ising_msc *p, int colour);
/* Bytes of the packed copy (halo rows included). */
int64_t ising_msc_bytes(const ising_msc *p);

/* The same decisions, site by site on the int8 spins. */
int ising_msc_half_reference(ising_lattice *lat, const ising_model *m, ising_stream st,
                             uint64_t sweep, int colour, ising_half_sums *sums);

/* What the multi-spin-coding kernels can run (msc and msc-async): Metropolis,
 * J > 0, x rows of at most row_max sites.  1, or 0 with the reason in why[]
 * (one line, for the deck's kernel key). */
int ising_msc_deck_check(const ising_config *cfg, int64_t row_max, char *why, size_t size);

/* Counters of the packed kernel since the object was made: words updated,
 * site decisions that needed random bits, random bits read by them, Philox
 * blocks drawn (128 bits each). */
void ising_msc_stats(const ising_msc *p, int64_t out[4]);
/* For `ising bench`: draw `blocks` Philox blocks the way `words` words of
 * half sweeps did (one fill per row and half sweep, of the mean size) and
 * nothing else: the generator's share of the time. */
void ising_msc_rng_only(ising_msc *p, ising_stream st, int64_t blocks, int64_t words);

#endif
