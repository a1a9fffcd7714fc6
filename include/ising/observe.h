/*
 * observe.h -- observables of a configuration: the bond sum and the
 * magnetisation, exact integers so that the totals over ranks are the same
 * bits on any decomposition.  E = -J B - H M (model.h).
 */
#ifndef ISING_OBSERVE_H
#define ISING_OBSERVE_H

#include <stdint.h>

#include "ising/lattice.h"

/* Over the block: B = sum of s_i s_j over the bonds of the colour-0 sites
 * (every bond has exactly one colour-0 end, so the block sums add up to the
 * lattice's d N bonds), and M = sum of s_i.  Needs both halos current. */
void ising_observe_block(const ising_lattice *lat, int64_t *bonds, int64_t *mag);

/* The same by the natural definition (one bond to x + e_k per site and
 * axis; needs the + halos), for tests: slow, obviously right. */
void ising_observe_block_reference(const ising_lattice *lat, int64_t *bonds, int64_t *mag);

#endif
