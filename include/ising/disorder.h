/*
 * disorder.h -- quenched disorder ([disorder]): the couplings and random
 * fields of every sample, as couplings providers (model.h).
 *
 * Drawn samples: every weight is a pure function of (disorder seed, sample,
 * global bond or site), the same on any rank count and layout.  The bond
 * (site, axis) uses the Philox block of group `site`, c2 = sample,
 * c3 = ising_rng_c3(axis, ISING_RNG_DISORDER_BOND, 0) of the key of the
 * disorder seed (rng.h), words o0..o3:
 *   uniform:  w = 1, J_unit = J
 *   bimodal:  w = +1 if o0 < 2^31 else -1, J_unit = J
 *   gaussian: w = round(2^24 g), J_unit = |J| 2^-24, where
 *             g = sqrt(-2 ln u1) cos(2 pi u2), u1 = (o0 + 1/2) 2^-32,
 *             u2 = o1 2^-32 (Box-Muller: a standard normal, quantised to
 *             2^-24 so that energies are exact integer sums)
 *   dilution: w = 0 when o2 2^-32 < bond_dilution.
 * A site's field uses the block of group `site`, c2 = sample,
 * c3 = ising_rng_c3(0, ISING_RNG_DISORDER_FIELD, 0): bimodal f = +-1 (o0 as
 * above), h_unit = field_strength; gaussian f = round(2^24 g), h_unit =
 * field_strength 2^-24; h_i = H + h_unit f_i.
 * Without [disorder] (or uniform couplings with no dilution and no fields)
 * the providers are uniform (model.h): today's model, bit for bit.
 *
 * Samples from a file ([disorder] file): an HDF5 file with /disorder/J
 * (sample, axis, [Lz,] Ly, Lx) float64, the coupling of the bond from each
 * site to its +e_axis neighbour (axis 0 = x), and optionally /disorder/h
 * (sample, [Lz,] Ly, Lx) float64, the random part of the field (added to
 * [model] H); the output of a run has this layout, so its samples can be
 * rerun.  The file must hold at least [disorder] samples samples (the first
 * ones are used).  Units: the attributes J_unit, h_unit of /disorder when
 * present (every value must then be an integer multiple of its unit, to
 * 10^-6 of the unit: unit x weight as a run writes it); else
 * a = the largest |J|: J_unit = a when every |J| is 0 or a, else a 2^-24
 * with the couplings rounded to it (likewise h).  A wrong shape, a
 * non-finite value, too few samples: ISING_ERR_INPUT naming the file and
 * the dataset.
 */
#ifndef ISING_DISORDER_H
#define ISING_DISORDER_H

#include <stdint.h>

#include "ising/config.h"
#include "ising/model.h"

typedef struct ising_disorder ising_disorder;

/* The providers of the deck's samples (collective nowhere: every rank may
 * call it; a file is read by the caller alone). */
int ising_disorder_create(const ising_config *cfg, ising_disorder **out);
void ising_disorder_destroy(ising_disorder **d);
int ising_disorder_samples(const ising_disorder *d);
/* [samples] providers, valid while d lives. */
const ising_couplings *ising_disorder_couplings(const ising_disorder *d);
/* Whether any sample has per-bond or per-site parts. */
int ising_disorder_is_uniform(const ising_disorder *d);
/* Couplings read from a file: a 64-bit checksum (never 0) of the samples
 * used, their units and every weight, which a checkpoint keeps so that a
 * resume can tell a changed file; drawn or uniform couplings: 0 (the deck's
 * keys determine them). */
uint64_t ising_disorder_checksum(const ising_disorder *d);

/* The couplings of sample s as arrays of the whole lattice: J[a N + i] =
 * J of bond (i, a) and h[i] = h_i - H (the random part), i the natural
 * index (N = sites); h may be NULL. */
void ising_disorder_arrays(const ising_disorder *d, int s, double *J, double *h);

#endif
