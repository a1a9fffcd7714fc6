/*
 * lattice.h -- the local block of spins, its index maps and halo exchange.
 *
 * Each rank of a replica group owns a block of the periodic lattice plus a
 * one-site halo on every face.  Spins are int8 (+1/-1) stored colour-split:
 * every row (fixed local y, z) is kept as two half rows, one per
 * checkerboard colour, so that a half sweep reads and writes unit-stride
 * arrays (memory: about 1 byte per site plus halos).  The colour of a site is
 * the parity of its GLOBAL coordinates, so every L must be even.
 * ising_lattice_halo() refreshes the halo of one colour after that colour has
 * been updated, through the halo exchange (halo.h: nonblocking messages to
 * the face neighbours, buffers allocated once; an axis with one rank is a
 * local copy).
 * Local coordinates run 0..n-1 inside the block, -1 and n are halo sites.
 */
#ifndef ISING_LATTICE_H
#define ISING_LATTICE_H

#include <stdint.h>

#include "ising/layout.h"
#include "ising/rng.h"

typedef struct ising_lattice ising_lattice;

int ising_lattice_create(const ising_layout *layout, ising_lattice **out);
int ising_lattice_destroy(ising_lattice **lat);

/* Spin at local coordinates (halo sites allowed: -1 .. n). */
int ising_lattice_get(const ising_lattice *lat, int64_t x, int64_t y, int64_t z);
void ising_lattice_set(ising_lattice *lat, int64_t x, int64_t y, int64_t z, int spin);

/* Local block geometry (x first), and its global start. */
void ising_lattice_extent(const ising_lattice *lat, int64_t n[3], int64_t start[3]);
int ising_lattice_dim(const ising_lattice *lat);
/* Natural global index gx + Lx (gy + Ly gz) of a local site. */
int64_t ising_lattice_global_index(const ising_lattice *lat, int64_t x, int64_t y, int64_t z);
/* Checkerboard colour of a local site: parity of its global coordinates. */
int ising_lattice_colour(const ising_lattice *lat, int64_t x, int64_t y, int64_t z);
/* Bytes held by the int8 spin array (including halos and padding). */
int64_t ising_lattice_bytes(const ising_lattice *lat);

/* Copy the interior spins of the block into out[x + n0 (y + n1 z)] (local
 * coordinates, x fastest; n0 n1 n2 doubles, each +1.0 or -1.0): one
 * unit-stride pass over the colour-split rows, for FFTs and output. */
void ising_lattice_export(const ising_lattice *lat, double *out);

/* Every site +1 (cold start), or each spin from the INIT stream (hot start):
 * site's number >= 2^15 -> -1.  Halos are refreshed. */
int ising_lattice_fill_cold(ising_lattice *lat, int spin);
int ising_lattice_fill_hot(ising_lattice *lat, ising_rng_key key, uint32_t replica);

/* Refresh the halo sites of `colour` from the face neighbours. */
int ising_lattice_halo(ising_lattice *lat, int colour);

/* Interior rows y0 .. y0+ny-1 of plane z (local, 0-based; z = 0 in 2D) in
 * natural order (x fastest), ny * n0 int8 (lattice_io.c).  Halos are not
 * touched: refresh both colours after unpacking. */
void ising_lattice_pack_rows(const ising_lattice *lat, int64_t z, int64_t y0, int64_t ny,
                             int8_t *out);
void ising_lattice_unpack_rows(ising_lattice *lat, int64_t z, int64_t y0, int64_t ny,
                               const int8_t *in);

#endif
