/*
 * lattice.c -- block storage, index maps and the description of the int8
 * faces for the halo exchange (see lattice.h and lattice_impl.h for the
 * layout; the exchange itself is halo.c).
 *
 * The halo of one colour is refreshed after that colour's half sweep.  Only
 * face neighbours matter for nearest-neighbour models.  A y or z face is the
 * whole colour-c half rows of a plane; an x face is one site per row, in
 * every other row of a plane (the colour alternates with y).
 */
#include "lattice_impl.h"

#include <stdlib.h>
#include <string.h>

#include "ising/error.h"

/* The faces of the int8 half rows (halo.h), in element offsets from
 * l->spins.  Layer j of axis k: interior j = 1 (sent to the - neighbour) or
 * n (to the + neighbour), halo j = 0 (from the - neighbour) or n + 1. */
static int halo_faces(ising_lattice *l) {
  ISING_CALL(ising_halo_create(&l->geom, 1, (1u << l->dim) - 1, &l->halo));
  const int64_t W = l->W;
  for (int k = 0; k < l->dim; k++)
    for (int w = 0; w < 2; w++)
      for (int s = 0; s < 2; s++) {
        const int64_t j = w == ISING_HALO_SEND ? (s ? l->n[k] : 1) : (s ? l->n[k] + 1 : 0);
        for (int c = 0; c < 2; c++) {
          if (k == 0) { /* site i = j of the rows where it has colour c: y0, y0 + 2, ... */
            for (int64_t z = lat_z0(l); z <= lat_z1(l); z++) {
              int64_t y0 = ((lat_row_parity(l, 1, z) + j) & 1) == c ? 1 : 2;
              int64_t cnt = y0 <= l->n[1] ? (l->n[1] - y0) / 2 + 1 : 0;
              ISING_CALL(ising_halo_add(l->halo, k, s, c, w, (2 * lat_row(l, y0, z) + c) * W + (j >> 1),
                                        cnt, 4 * W));
            }
          } else if (k == 1) { /* the half rows (j, z) */
            for (int64_t z = lat_z0(l); z <= lat_z1(l); z++)
              ISING_CALL(ising_halo_add(l->halo, k, s, c, w, (2 * lat_row(l, j, z) + c) * W, W, 1));
          } else { /* the half rows (y, j) */
            for (int64_t y = 1; y <= l->n[1]; y++)
              ISING_CALL(ising_halo_add(l->halo, k, s, c, w, (2 * lat_row(l, y, j) + c) * W, W, 1));
          }
        }
      }
  return ising_halo_setup(l->halo);
}

int ising_lattice_create(const ising_layout *lay, ising_lattice **out) {
  *out = NULL;
  ising_lattice *l = calloc(1, sizeof *l);
  ISING_CHECK(l, ISING_ERR_MEM, "out of memory (lattice)");
  l->dim = lay->dim;
  for (int k = 0; k < 3; k++) {
    l->L[k] = lay->L[k];
    l->start[k] = lay->start[k];
    l->n[k] = lay->n[k];
  }
  l->geom = ising_halo_geom_of(lay);
  l->W = (l->n[0] + 3) / 2;
  l->ny2 = l->n[1] + 2;
  l->zh = l->dim == 3 ? 1 : 0;
  l->nz2 = l->dim == 3 ? l->n[2] + 2 : 1;
  /* A row's interior spans at most n0/2 + 1 half indices, which can straddle
   * one more chunk than they fill; at least 16 chunks so that short rows
   * share fills; +64 numbers keep SIMD tails in bounds. */
  l->rnd_chunks = (l->n[0] / 2 + 2) / ISING_RNG_CHUNK + 2;
  if (l->rnd_chunks < 16) l->rnd_chunks = 16;
  size_t nspin = (size_t)(2 * l->W * l->ny2 * l->nz2) + 64; /* +64: SIMD tail slack */
  l->spins = calloc(nspin, 1);
  l->rnd = calloc((size_t)(l->rnd_chunks * ISING_RNG_CHUNK + 64), sizeof *l->rnd);
  int ok = l->spins && l->rnd;
  if (!ok) {
    ising_lattice_destroy(&l);
    return ISING_ERR(ISING_ERR_MEM, "out of memory allocating the %lld-site block",
                     (long long)(lay->n[0] * lay->n[1] * lay->n[2]));
  }
  int rc = halo_faces(l);
  if (rc) {
    ising_lattice_destroy(&l);
    return rc;
  }
  *out = l;
  return ISING_OK;
}

int ising_lattice_destroy(ising_lattice **lat) {
  if (!lat || !*lat) return ISING_OK;
  ising_lattice *l = *lat;
  ising_halo_destroy(&l->halo);
  free(l->spins);
  free(l->rnd);
  free(l);
  *lat = NULL;
  return ISING_OK;
}

static int8_t *site_ptr(const ising_lattice *l, int64_t x, int64_t y, int64_t z) {
  int64_t yl = y + 1, zl = z + l->zh, i = x + 1;
  int c = (lat_row_parity(l, yl, zl) + (int)(i & 1)) & 1;
  return lat_half(l, yl, zl, c) + (i >> 1);
}

int ising_lattice_get(const ising_lattice *l, int64_t x, int64_t y, int64_t z) {
  return *site_ptr(l, x, y, z);
}

void ising_lattice_set(ising_lattice *l, int64_t x, int64_t y, int64_t z, int spin) {
  *site_ptr(l, x, y, z) = (int8_t)spin;
}

void ising_lattice_extent(const ising_lattice *l, int64_t n[3], int64_t start[3]) {
  for (int k = 0; k < 3; k++) {
    if (n) n[k] = l->n[k];
    if (start) start[k] = l->start[k];
  }
}

int ising_lattice_dim(const ising_lattice *l) { return l->dim; }

static int64_t wrap(int64_t g, int64_t L) { return ((g % L) + L) % L; }

int64_t ising_lattice_global_index(const ising_lattice *l, int64_t x, int64_t y, int64_t z) {
  int64_t gx = wrap(l->start[0] + x, l->L[0]), gy = wrap(l->start[1] + y, l->L[1]);
  int64_t gz = l->dim == 3 ? wrap(l->start[2] + z, l->L[2]) : 0;
  return gx + l->L[0] * (gy + l->L[1] * gz);
}

int ising_lattice_colour(const ising_lattice *l, int64_t x, int64_t y, int64_t z) {
  int64_t g = l->start[0] + x + l->start[1] + y + (l->dim == 3 ? l->start[2] + z : 0);
  return (int)(g & 1);
}

int64_t ising_lattice_bytes(const ising_lattice *l) {
  return 2 * l->W * l->ny2 * l->nz2;
}

void ising_lattice_export(const ising_lattice *l, double *out) {
  /* Site x of a row is i = x + 1, colour (q + i) & 1, half index i >> 1: for
   * even x = 2j that is colour q ^ 1 at j, for odd x = 2j + 1 colour q at
   * j + 1.  Two unit-stride reads per pair of outputs. */
  const int64_t n0 = l->n[0];
  for (int64_t z = lat_z0(l); z <= lat_z1(l); z++)
    for (int64_t y = 1; y <= l->n[1]; y++) {
      int q = lat_row_parity(l, y, z);
      const int8_t *restrict ev = lat_half(l, y, z, q ^ 1);
      const int8_t *restrict od = lat_half(l, y, z, q) + 1;
      double *restrict o = out;
      for (int64_t j = 0; j < n0 / 2; j++) {
        o[2 * j] = ev[j];
        o[2 * j + 1] = od[j];
      }
      if (n0 & 1) o[n0 - 1] = ev[n0 / 2];
      out += n0;
    }
}

int ising_lattice_fill_cold(ising_lattice *l, int spin) {
  memset(l->spins, spin > 0 ? 1 : -1, (size_t)(2 * l->W * l->ny2 * l->nz2));
  return ISING_OK;
}

int ising_lattice_fill_hot(ising_lattice *l, ising_rng_key key, uint32_t replica) {
  const int64_t hx = l->L[0] / 2;
  for (int c = 0; c < 2; c++) {
    lat_window w = {0, 0};
    uint32_t c3 = ising_rng_c3(replica, ISING_RNG_INIT, c);
    for (int64_t z = lat_z0(l); z <= lat_z1(l); z++) {
      uint64_t cap_end = (uint64_t)((lat_global_row(l, l->n[1], z) + 1) * hx - 1) / ISING_RNG_CHUNK;
      for (int64_t y = 1; y <= l->n[1]; y++) {
        int q = lat_row_parity(l, y, z);
        int64_t h0, h1;
        int dl;
        lat_row_range(l, q, c, &h0, &h1, &dl);
        if (h1 < h0) continue;
        int64_t base = lat_global_row(l, y, z) * hx + lat_global_half_offset(l, q, c);
        lat_window_need(l, &w, key, 0, c3, (uint64_t)(base + h0) / ISING_RNG_CHUNK,
                        (uint64_t)(base + h1) / ISING_RNG_CHUNK, cap_end);
        int8_t *s = lat_half(l, y, z, c);
        const uint16_t *r = l->rnd + (base - (int64_t)w.first * ISING_RNG_CHUNK);
        for (int64_t h = h0; h <= h1; h++) s[h] = (r[h] & 0x8000) ? -1 : 1;
      }
    }
  }
  ISING_CALL(ising_lattice_halo(l, 0));
  return ising_lattice_halo(l, 1);
}

int ising_lattice_halo(ising_lattice *l, int c) { return ising_halo_exchange(l->halo, l->spins, c); }
