/*
 * observe.c -- per-block sums behind E and M (see observe.h).  The fast sum
 * walks the colour-split rows like the kernels do; the reference sum walks
 * sites in natural order through the public accessors.
 */
#include "ising/observe.h"

#include "lattice_impl.h"

void ising_observe_block(const ising_lattice *l, int64_t *bonds, int64_t *mag) {
  int64_t B = 0, M = 0;
  for (int64_t z = lat_z0(l); z <= lat_z1(l); z++)
    for (int64_t y = 1; y <= l->n[1]; y++) {
      int q = lat_row_parity(l, y, z);
      for (int c = 0; c < 2; c++) {
        int64_t h0, h1;
        int dl;
        lat_row_range(l, q, c, &h0, &h1, &dl);
        const int8_t *sc = lat_half(l, y, z, c);
        int32_t m = 0, b = 0;
        if (c == 0) {
          const int8_t *so = lat_half(l, y, z, 1), *su = lat_half(l, y - 1, z, 1),
                       *sd = lat_half(l, y + 1, z, 1);
          const int8_t *sf = l->dim == 3 ? lat_half(l, y, z - 1, 1) : su;
          const int8_t *sb = l->dim == 3 ? lat_half(l, y, z + 1, 1) : sd;
          const int w3 = l->dim == 3;
          for (int64_t h = h0; h <= h1; h++) {
            int nb = so[h + dl] + so[h + dl + 1] + su[h] + sd[h] + w3 * (sf[h] + sb[h]);
            b += sc[h] * nb;
            m += sc[h];
          }
        } else {
          for (int64_t h = h0; h <= h1; h++) m += sc[h];
        }
        B += b;
        M += m;
      }
    }
  *bonds = B;
  *mag = M;
}

void ising_observe_block_reference(const ising_lattice *l, int64_t *bonds, int64_t *mag) {
  int64_t n[3];
  ising_lattice_extent(l, n, NULL);
  int64_t B = 0, M = 0;
  for (int64_t z = 0; z < n[2]; z++)
    for (int64_t y = 0; y < n[1]; y++)
      for (int64_t x = 0; x < n[0]; x++) {
        int s = ising_lattice_get(l, x, y, z);
        M += s;
        /* the bonds of the natural convention: to x + e_k for each axis k */
        B += s * ising_lattice_get(l, x + 1, y, z);
        B += s * ising_lattice_get(l, x, y + 1, z);
        if (ising_lattice_dim(l) == 3) B += s * ising_lattice_get(l, x, y, z + 1);
      }
  *bonds = B;
  *mag = M;
}
