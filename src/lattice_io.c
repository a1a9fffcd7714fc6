/*
 * lattice_io.c -- a block's interior spins to and from natural order (x
 * fastest), a bounded number of rows at a time, for checkpoints.  Kept apart
 * from lattice.c: it walks the colour-split rows of lattice_impl.h but has
 * nothing to do with the sweep or the halo.
 */
#include <string.h>

#include "ising/lattice.h"
#include "lattice_impl.h"

/* Rows (y0 .. y0+ny-1, local) of plane z (local, 0-based) as int8 in natural
 * order into out[ny * n0]. */
void ising_lattice_pack_rows(const ising_lattice *l, int64_t z, int64_t y0, int64_t ny,
                             int8_t *out) {
  for (int64_t j = 0; j < ny; j++) {
    int64_t y = y0 + j + 1, zz = z + l->zh;
    int q = lat_row_parity(l, y, zz);
    const int8_t *h[2] = {lat_half(l, y, zz, 0), lat_half(l, y, zz, 1)};
    int8_t *o = out + j * l->n[0];
    for (int64_t i = 1; i <= l->n[0]; i++) o[i - 1] = h[(q + i) & 1][i >> 1];
  }
}

void ising_lattice_unpack_rows(ising_lattice *l, int64_t z, int64_t y0, int64_t ny,
                               const int8_t *in) {
  for (int64_t j = 0; j < ny; j++) {
    int64_t y = y0 + j + 1, zz = z + l->zh;
    int q = lat_row_parity(l, y, zz);
    int8_t *h[2] = {lat_half(l, y, zz, 0), lat_half(l, y, zz, 1)};
    const int8_t *s = in + j * l->n[0];
    for (int64_t i = 1; i <= l->n[0]; i++) h[(q + i) & 1][i >> 1] = s[i - 1];
  }
}
