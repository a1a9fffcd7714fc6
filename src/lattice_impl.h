/*
 * lattice_impl.h -- private layout of ising_lattice, shared by lattice.c,
 * lattice_io.c, update.c, observe.c and msc.c (the modules that walk the
 * spin array directly; msc.c only to convert its packed copy).
 *
 * Storage: rows r = y + ny2 * z with local y in 0..n1+1 (0 and n1+1 halo) and
 * z in 0..nz2-1 (3D: 0 and n2+1 halo; 2D: a single row plane, z = 0).  Row r
 * holds two half rows of W int8, colour c at spins + (2 r + c) W.  Along a
 * row the local x index i = x + 1 runs 0..n0+1; the site i has colour
 * (q + i) & 1 with q the row parity below, and sits at half index i >> 1 of
 * its colour.  Hence for a site of colour c at half index h, its x
 * neighbours are at half indices h + dl and h + dl + 1 of the other colour,
 * with dl = -1 when i is even (c == q) and 0 when i is odd; its y and z
 * neighbours are at the same h in the neighbouring rows.
 */
#ifndef ISING_LATTICE_IMPL_H
#define ISING_LATTICE_IMPL_H

#include <stdint.h>

#include "ising/halo.h"
#include "ising/lattice.h"

struct ising_lattice {
  int dim;
  int64_t L[3], start[3];
  int64_t n[3];  /* block extent (n[2] = 1 in 2D) */
  int64_t W;     /* half-row length */
  int64_t ny2, nz2; /* rows along y and z including halos (nz2 = 1 in 2D) */
  int zh;        /* z halo width: 1 in 3D, 0 in 2D */
  int8_t *spins;
  uint16_t *rnd; /* random numbers of consecutive chunks (kernel scratch) */
  int64_t rnd_chunks; /* capacity in chunks */
  ising_halo_geom geom; /* the replica group's grid and face neighbours */
  ising_halo *halo;     /* int8 faces of both colours (lattice.c) */
};

static inline int64_t lat_row(const ising_lattice *l, int64_t y, int64_t z) {
  return z * l->ny2 + y;
}
/* Parity of the global coordinates of the site i = 0 of row (y, z). */
static inline int lat_row_parity(const ising_lattice *l, int64_t y, int64_t z) {
  int64_t g = (l->start[0] - 1) + (l->start[1] - 1 + y);
  if (l->dim == 3) g += l->start[2] - 1 + z;
  return (int)(g & 1);
}
static inline int8_t *lat_half(const ising_lattice *l, int64_t y, int64_t z, int c) {
  return l->spins + (2 * lat_row(l, y, z) + c) * l->W;
}
/* Interior z range of the row planes. */
static inline int64_t lat_z0(const ising_lattice *l) { return l->zh; }
static inline int64_t lat_z1(const ising_lattice *l) { return l->zh + l->n[2] - 1; }

/* Half-index range [*h0, *h1] of the interior sites of colour c in a row of
 * parity q (empty when *h1 < *h0) and dl (see above). */
static inline void lat_row_range(const ising_lattice *l, int q, int c, int64_t *h0,
                                 int64_t *h1, int *dl) {
  int odd = (c ^ q) & 1; /* parity of i for colour c */
  int64_t i0 = odd ? 1 : 2;
  int64_t i1 = ((l->n[0] & 1) == odd) ? l->n[0] : l->n[0] - 1;
  *h0 = i0 >> 1;
  *h1 = i1 >= i0 ? i1 >> 1 : (i0 >> 1) - 1;
  *dl = odd ? 0 : -1;
}
/* Global half index of half index h in a row of parity q, colour c. */
static inline int64_t lat_global_half_offset(const ising_lattice *l, int q, int c) {
  int64_t a = l->start[0] - 1 + ((c ^ q) & 1);
  return a >= 0 ? a / 2 : -1; /* floor(a / 2), a >= -1 */
}
/* Global row number gy + Ly gz of local row (y, z). */
static inline int64_t lat_global_row(const ising_lattice *l, int64_t y, int64_t z) {
  int64_t gy = l->start[1] - 1 + y, gz = l->dim == 3 ? l->start[2] - 1 + z : 0;
  return gy + l->L[1] * gz;
}

/* A window of consecutive random-number chunks of one stream, refilled when
 * a row needs chunks outside it; rows shorter than a chunk share one fill.
 * rnd[G - 128 first] is the number of half-lattice index G. */
typedef struct lat_window {
  uint64_t first;
  int64_t count; /* 0: empty */
} lat_window;

/* Make the window cover chunks [a, b]; when refilling, fill ahead up to the
 * scratch capacity but not past chunk `cap_end` (the block's last chunk of
 * this plane). */
static inline void lat_window_need(ising_lattice *l, lat_window *w, ising_rng_key key,
                                   uint32_t c2, uint32_t c3, uint64_t a, uint64_t b,
                                   uint64_t cap_end) {
  if (w->count > 0 && a >= w->first && b < w->first + (uint64_t)w->count) return;
  int64_t cnt = (int64_t)(b - a + 1);
  int64_t ahead = cap_end >= a ? (int64_t)(cap_end - a + 1) : cnt;
  if (ahead > l->rnd_chunks) ahead = l->rnd_chunks;
  if (ahead > cnt) cnt = ahead;
  ising_rng_fill16(key, a, cnt, c2, c3, l->rnd);
  w->first = a;
  w->count = cnt;
}

#endif
