/*
 * cluster_impl.h -- what the cluster backends (sweep_sw.c, sweep_wolff.c)
 * share: the geometry of a lattice block in site terms (lattice_impl.h
 * stores the spins by colour) and the random-number purposes of cluster
 * updates.
 *
 * A site's storage index is its index in the int8 array (lattice_impl.h);
 * the local coordinates (i, y, z) are those of lattice_impl.h (i = x + 1;
 * y from 1; z from zh), interior i in 1..n0, y in 1..n1, z in
 * zh..zh+n2-1.
 */
#ifndef ISING_CLUSTER_IMPL_H
#define ISING_CLUSTER_IMPL_H

#include <stdint.h>

#include "ising/rng.h"
#include "lattice_impl.h"

/* Random-number purposes (rng.h counter word c3) of the cluster updates. */
enum {
  CLUSTER_RNG_BOND = 7,  /* + axis: 7, 8, 9: the bond from a site to its +e_axis neighbour */
  CLUSTER_RNG_FLIP = 10, /* a Swendsen-Wang cluster's orientation, keyed by its label */
  CLUSTER_RNG_WOLFF = 11 /* a Wolff sweep's sequential stream (seeds and bonds) */
};

/* Storage index of the local site (i, y, z). */
static inline int64_t cl_index(const ising_lattice *l, int64_t i, int64_t y, int64_t z) {
  const int q = lat_row_parity(l, y, z);
  return (2 * lat_row(l, y, z) + ((q + i) & 1)) * l->W + (i >> 1);
}

/* Global natural index gx + Lx (gy + Ly gz) of the local site (i, y, z),
 * which may lie in a halo (then wrapped onto the periodic lattice). */
static inline int64_t cl_global(const ising_lattice *l, int64_t i, int64_t y, int64_t z) {
  int64_t g[3] = {l->start[0] - 1 + i, l->start[1] - 1 + y, l->dim == 3 ? l->start[2] - 1 + z : 0};
  for (int a = 0; a < l->dim; a++) g[a] = (g[a] % l->L[a] + l->L[a]) % l->L[a];
  return g[0] + l->L[0] * (g[1] + l->L[1] * g[2]);
}

/* One 32-bit word of the Philox block for `counter` (rng.h layout). */
static inline uint32_t cl_word(ising_rng_key key, uint64_t group, int word, uint32_t c2,
                               uint32_t c3) {
  uint32_t out[4];
  ising_rng_block(key, group, c2, c3, out);
  return out[word & 3];
}

#endif
