/*
 * lattice.c -- block storage, index maps and halo exchange (see lattice.h and
 * lattice_impl.h for the layout).
 *
 * The halo of one colour is refreshed after that colour's half sweep.  Only
 * face neighbours matter for nearest-neighbour models, so there are at most
 * six messages; their buffers are sized and allocated once in
 * ising_lattice_create.  For an axis with a single rank the "neighbour" is
 * this rank and the halo is filled by a local copy without MPI.
 */
#include "lattice_impl.h"

#include <stdlib.h>
#include <string.h>

#include "ising/error.h"

static int64_t xface_rows(const ising_lattice *l) { return l->n[1] * l->n[2]; }

int ising_lattice_create(const ising_layout *lay, ising_lattice **out) {
  *out = NULL;
  ising_lattice *l = calloc(1, sizeof *l);
  ISING_CHECK(l, ISING_ERR_MEM, "out of memory (lattice)");
  l->dim = lay->dim;
  for (int k = 0; k < 3; k++) {
    l->L[k] = lay->L[k];
    l->start[k] = lay->start[k];
    l->n[k] = lay->n[k];
    l->procs[k] = lay->procs[k];
    l->nbr[k][0] = lay->nbr[k][0];
    l->nbr[k][1] = lay->nbr[k][1];
  }
  l->comm = lay->group;
  l->W = (l->n[0] + 3) / 2;
  l->ny2 = l->n[1] + 2;
  l->zh = l->dim == 3 ? 1 : 0;
  l->nz2 = l->dim == 3 ? l->n[2] + 2 : 1;
  l->nw = (l->L[0] / 2 + 63) / 64;
  l->state = LAT_BYTES;
  /* A row's interior spans at most n0/2 + 1 half indices, which can straddle
   * one more chunk than they fill; at least 16 chunks so that short rows
   * share fills; +64 numbers keep SIMD tails in bounds. */
  l->rnd_chunks = (l->n[0] / 2 + 2) / ISING_RNG_CHUNK + 2;
  if (l->rnd_chunks < 16) l->rnd_chunks = 16;
  size_t nspin = (size_t)(2 * l->W * l->ny2 * l->nz2) + 64; /* +64: SIMD tail slack */
  l->spins = calloc(nspin, 1);
  l->rnd = calloc((size_t)(l->rnd_chunks * ISING_RNG_CHUNK + 64), sizeof *l->rnd);
  int ok = l->spins && l->rnd;
  size_t rowb = (size_t)(l->W > 8 * l->nw ? l->W : 8 * l->nw); /* int8 or packed row */
  size_t face[3] = {(size_t)xface_rows(l), rowb * (size_t)l->n[2], rowb * (size_t)l->n[1]};
  for (int k = 0; k < l->dim && ok; k++) {
    if (l->procs[k] == 1) continue;
    for (int s = 0; s < 2; s++) {
      l->sbuf[k][s] = malloc(face[k] + 1);
      l->rbuf[k][s] = malloc(face[k] + 1);
      ok = ok && l->sbuf[k][s] && l->rbuf[k][s];
    }
  }
  if (!ok) {
    ising_lattice_destroy(&l);
    return ISING_ERR(ISING_ERR_MEM, "out of memory allocating the %lld-site block",
                     (long long)(lay->n[0] * lay->n[1] * lay->n[2]));
  }
  *out = l;
  return ISING_OK;
}

int ising_lattice_destroy(ising_lattice **lat) {
  if (!lat || !*lat) return ISING_OK;
  ising_lattice *l = *lat;
  for (int k = 0; k < 3; k++)
    for (int s = 0; s < 2; s++) {
      free(l->sbuf[k][s]);
      free(l->rbuf[k][s]);
    }
  free(l->spins);
  free(l->rnd);
  lat_msc_free(l);
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
  lat_bytes_current(l);
  return *site_ptr(l, x, y, z);
}

void ising_lattice_set(ising_lattice *l, int64_t x, int64_t y, int64_t z, int spin) {
  lat_bytes_written(l);
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
  int64_t b = 2 * l->W * l->ny2 * l->nz2;
  if (l->bits) b += 8 * 2 * l->nw * l->ny2 * l->nz2;
  return b;
}

void ising_lattice_export(const ising_lattice *l, double *out) {
  /* Site x of a row is i = x + 1, colour (q + i) & 1, half index i >> 1: for
   * even x = 2j that is colour q ^ 1 at j, for odd x = 2j + 1 colour q at
   * j + 1.  Two unit-stride reads per pair of outputs. */
  const int64_t n0 = l->n[0];
  lat_bytes_current(l);
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
  l->state = LAT_BYTES;
  memset(l->spins, spin > 0 ? 1 : -1, (size_t)(2 * l->W * l->ny2 * l->nz2));
  return ISING_OK;
}

int ising_lattice_fill_hot(ising_lattice *l, ising_rng_key key, uint32_t replica) {
  const int64_t hx = l->L[0] / 2;
  l->state = LAT_BYTES;
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

/* ----------------------------------------------------------- halo exchange */

/* x faces: the interior site at i = 1 (to the - neighbour) or i = n0 (to the
 * + neighbour) of every interior row whose site there has colour c. */
static int64_t pack_x(const ising_lattice *l, int c, int64_t i, int8_t *buf) {
  int64_t k = 0;
  for (int64_t z = lat_z0(l); z <= lat_z1(l); z++)
    for (int64_t y = 1; y <= l->n[1]; y++)
      if (((lat_row_parity(l, y, z) + i) & 1) == c) buf[k++] = lat_half(l, y, z, c)[i >> 1];
  return k;
}
static int64_t unpack_x(ising_lattice *l, int c, int64_t i, const int8_t *buf) {
  int64_t k = 0;
  for (int64_t z = lat_z0(l); z <= lat_z1(l); z++)
    for (int64_t y = 1; y <= l->n[1]; y++)
      if (((lat_row_parity(l, y, z) + i) & 1) == c) lat_half(l, y, z, c)[i >> 1] = buf[k++];
  return k;
}
/* The colour-c row (y, z) of the current copy: the int8 half row, or the
 * packed words (`packed`), and its length in bytes. */
static char *row_of(const ising_lattice *l, int64_t y, int64_t z, int c, int packed) {
  if (packed) return (char *)(l->bits + (2 * lat_row(l, y, z) + c) * l->nw);
  return (char *)lat_half(l, y, z, c);
}
static int64_t row_bytes(const ising_lattice *l, int packed) { return packed ? 8 * l->nw : l->W; }

/* y and z faces: whole colour-c rows of the plane y = j (axis 1) or z = j
 * (axis 2), interior rows of the other axis only. */
static int64_t copy_plane(ising_lattice *l, int axis, int c, int64_t j, int8_t *buf, int pack,
                          int packed) {
  int64_t k = 0, W = row_bytes(l, packed);
  int64_t lo = axis == 1 ? lat_z0(l) : 1, hi = axis == 1 ? lat_z1(l) : l->n[1];
  for (int64_t o = lo; o <= hi; o++) {
    char *row = axis == 1 ? row_of(l, j, o, c, packed) : row_of(l, o, j, c, packed);
    if (pack)
      memcpy(buf + k, row, (size_t)W);
    else
      memcpy(row, buf + k, (size_t)W);
    k += W;
  }
  return k;
}
static int64_t pack(ising_lattice *l, int axis, int c, int side, int8_t *buf, int packed) {
  /* side 0: the face sent to the - neighbour (first interior layer) */
  int64_t first = 1, last = l->n[axis];
  if (axis == 0) return pack_x(l, c, side ? last : first, buf);
  return copy_plane(l, axis, c, side ? last : first, buf, 1, packed);
}
static int64_t unpack(ising_lattice *l, int axis, int c, int side, const int8_t *buf, int packed) {
  /* side 0: the - halo layer (filled by the - neighbour's last layer) */
  if (axis == 0) return unpack_x(l, c, side ? l->n[0] + 1 : 0, buf);
  return copy_plane(l, axis, c, side ? l->n[axis] + 1 : 0, (int8_t *)buf, 0, packed);
}

/* The self-neighbour case: halo layer side <- own opposite interior layer.
 * The packed rows have no x halo (the kernel wraps the whole x row). */
static void self_copy(ising_lattice *l, int axis, int c, int packed) {
  int64_t n = l->n[axis];
  if (axis == 0) {
    for (int64_t z = lat_z0(l); z <= lat_z1(l); z++)
      for (int64_t y = 1; y <= l->n[1]; y++) {
        int q = lat_row_parity(l, y, z);
        int8_t *h = lat_half(l, y, z, c);
        if (((q + 0) & 1) == c) h[0] = h[n >> 1];             /* i=0 <- i=n0 */
        if (((q + n + 1) & 1) == c) h[(n + 1) >> 1] = h[1 >> 1]; /* i=n0+1 <- i=1 */
      }
    return;
  }
  int64_t W = row_bytes(l, packed);
  int64_t lo = axis == 1 ? lat_z0(l) : 1, hi = axis == 1 ? lat_z1(l) : l->n[1];
  for (int64_t o = lo; o <= hi; o++) {
    if (axis == 1) {
      memcpy(row_of(l, 0, o, c, packed), row_of(l, n, o, c, packed), (size_t)W);
      memcpy(row_of(l, n + 1, o, c, packed), row_of(l, 1, o, c, packed), (size_t)W);
    } else {
      memcpy(row_of(l, o, 0, c, packed), row_of(l, o, n, c, packed), (size_t)W);
      memcpy(row_of(l, o, n + 1, c, packed), row_of(l, o, 1, c, packed), (size_t)W);
    }
  }
}

int ising_lattice_halo(ising_lattice *l, int c) {
  MPI_Request req[12];
  int nreq = 0, ridx[3][2] = {{0}};
  /* the copy the last half sweep wrote: the packed one after an MSC sweep
   * (whose x rows are never split, layout.c) */
  const int packed = l->state == LAT_BITS;
  ISING_CHECK(!packed || l->procs[0] == 1, ISING_ERR_INTERNAL,
              "packed spins with the x axis split over %d ranks", l->procs[0]);
  for (int k = 0; k < l->dim; k++) {
    if (l->procs[k] == 1) {
      if (!(packed && k == 0)) self_copy(l, k, c, packed);
      continue;
    }
    /* receive side s from nbr[k][s]; it sent its face towards us with tag
     * 2k + (1 - s) */
    int64_t cap = k == 0 ? xface_rows(l) : row_bytes(l, packed) * (k == 1 ? l->n[2] : l->n[1]);
    for (int s = 0; s < 2; s++) {
      ridx[k][s] = nreq;
      ISING_MPI(MPI_Irecv(l->rbuf[k][s], (int)cap, MPI_INT8_T, l->nbr[k][s], 2 * k + (1 - s),
                          l->comm, &req[nreq++]));
    }
    for (int s = 0; s < 2; s++) {
      int64_t cnt = pack(l, k, c, s, l->sbuf[k][s], packed);
      ISING_MPI(MPI_Isend(l->sbuf[k][s], (int)cnt, MPI_INT8_T, l->nbr[k][s], 2 * k + s, l->comm,
                          &req[nreq++]));
    }
  }
  if (nreq == 0) return ISING_OK;
  MPI_Status st[12];
  ISING_MPI(MPI_Waitall(nreq, req, st));
  for (int k = 0; k < l->dim; k++) {
    if (l->procs[k] == 1) continue;
    for (int s = 0; s < 2; s++) {
      int got = 0;
      ISING_MPI(MPI_Get_count(&st[ridx[k][s]], MPI_INT8_T, &got));
      int64_t used = unpack(l, k, c, s, l->rbuf[k][s], packed);
      ISING_CHECK(used == got, ISING_ERR_INTERNAL,
                  "halo size mismatch on axis %d: received %d sites, expected %lld", k, got,
                  (long long)used);
    }
  }
  return ISING_OK;
}
