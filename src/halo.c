/*
 * halo.c -- the halo exchange (see halo.h): face descriptions as runs,
 * buffers allocated once in setup, nonblocking receives and sends to the
 * face neighbours, a local copy along an axis with one rank.
 *
 * Messages are bytes (count x elsize) with tag 2 axis + side of the SENT
 * layer: the message received into halo side s was sent as the neighbour's
 * side 1 - s.  With two ranks along an axis both neighbours are the same
 * rank; the tags keep the two messages apart.
 */
#include "ising/halo.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/layout.h"

typedef struct halo_run {
  int64_t offset, count, stride;
} halo_run;

typedef struct halo_layer {
  halo_run *run;
  int64_t nrun, cap; /* runs used, allocated */
  int64_t total;     /* elements */
} halo_layer;

struct ising_halo {
  ising_halo_geom g;
  size_t elsize;
  unsigned axes;
  int ready;                      /* setup done */
  halo_layer layer[3][2][2][2];   /* [axis][colour][which][side] */
  char *sbuf[3][2], *rbuf[3][2];  /* per axis and side; self axes use rbuf only */
  int64_t bufcap[3];              /* elements per buffer */
  /* the exchange in flight */
  int pending, colour;
  void *base;
  int nreq, ridx[3][2];
  MPI_Request req[12];
  MPI_Status st[12];
};

static int axis_on(const ising_halo *h, int k) { return k < h->g.dim && (h->axes >> k & 1); }

int ising_halo_create(const ising_halo_geom *g, size_t elsize, unsigned axes, ising_halo **out) {
  *out = NULL;
  ISING_CHECK(g->dim >= 1 && g->dim <= 3 && elsize > 0 && (axes >> g->dim) == 0, ISING_ERR_INTERNAL,
              "halo: dim %d, element size %zu, axes 0x%x", g->dim, elsize, axes);
  ising_halo *h = calloc(1, sizeof *h);
  ISING_CHECK(h, ISING_ERR_MEM, "out of memory (halo)");
  h->g = *g;
  h->elsize = elsize;
  h->axes = axes;
  *out = h;
  return ISING_OK;
}

int ising_halo_add(ising_halo *h, int axis, int side, int colour, int which, int64_t offset,
                   int64_t count, int64_t stride) {
  ISING_CHECK(!h->ready && axis >= 0 && axis < 3 && axis_on(h, axis) && (side & ~1) == 0 &&
                  (colour & ~1) == 0 && (which & ~1) == 0 && count >= 0 && offset >= 0,
              ISING_ERR_INTERNAL, "halo: bad run (axis %d side %d colour %d count %lld)", axis,
              side, colour, (long long)count);
  halo_layer *L = &h->layer[axis][colour][which][side];
  if (L->nrun == L->cap) {
    int64_t cap = L->cap ? 2 * L->cap : 16;
    halo_run *r = realloc(L->run, (size_t)cap * sizeof *r);
    ISING_CHECK(r, ISING_ERR_MEM, "out of memory (halo faces)");
    L->run = r;
    L->cap = cap;
  }
  L->run[L->nrun++] = (halo_run){offset, count, stride};
  L->total += count;
  return ISING_OK;
}

int ising_halo_setup(ising_halo *h) {
  if (h->ready) return ISING_OK;
  for (int k = 0; k < 3; k++) {
    if (!axis_on(h, k)) continue;
    int64_t cap = 0;
    for (int c = 0; c < 2; c++)
      for (int w = 0; w < 2; w++)
        for (int s = 0; s < 2; s++)
          if (h->layer[k][c][w][s].total > cap) cap = h->layer[k][c][w][s].total;
    ISING_CHECK(cap <= INT_MAX / (int64_t)h->elsize, ISING_ERR_INPUT,
                "halo: a face of %lld elements of %zu bytes exceeds one MPI message; use more ranks",
                (long long)cap, h->elsize);
    const int self = h->g.procs[k] == 1;
    for (int c = 0; c < 2 && self; c++)
      for (int s = 0; s < 2; s++)
        ISING_CHECK(h->layer[k][c][ISING_HALO_SEND][s].total ==
                        h->layer[k][c][ISING_HALO_RECV][1 - s].total,
                    ISING_ERR_INTERNAL,
                    "halo: axis %d colour %d: layer of %lld elements fills a halo of %lld", k, c,
                    (long long)h->layer[k][c][ISING_HALO_SEND][s].total,
                    (long long)h->layer[k][c][ISING_HALO_RECV][1 - s].total);
    h->bufcap[k] = cap;
    size_t bytes = (size_t)cap * h->elsize + 1;
    for (int s = 0; s < 2; s++) {
      h->rbuf[k][s] = malloc(bytes);
      if (!self) h->sbuf[k][s] = malloc(bytes);
      ISING_CHECK(h->rbuf[k][s] && (self || h->sbuf[k][s]), ISING_ERR_MEM,
                  "out of memory (halo buffers, %zu bytes)", bytes);
    }
  }
  h->ready = 1;
  return ISING_OK;
}

/* Layer -> buffer (pack) or buffer -> layer; elements of 1 and 8 bytes
 * copied as such, stride-1 runs as one block. */
static void move(const halo_layer *L, char *base, size_t es, char *buf, int pack) {
  for (int64_t r = 0; r < L->nrun; r++) {
    const halo_run *u = &L->run[r];
    char *p = base + (size_t)u->offset * es;
    if (u->stride == 1) {
      if (pack)
        memcpy(buf, p, (size_t)u->count * es);
      else
        memcpy(p, buf, (size_t)u->count * es);
    } else if (es == 1) {
      for (int64_t i = 0; i < u->count; i++) {
        if (pack)
          buf[i] = p[i * u->stride];
        else
          p[i * u->stride] = buf[i];
      }
    } else if (es == 8) {
      for (int64_t i = 0; i < u->count; i++) {
        if (pack)
          memcpy(buf + 8 * i, p + 8 * i * u->stride, 8);
        else
          memcpy(p + 8 * i * u->stride, buf + 8 * i, 8);
      }
    } else {
      for (int64_t i = 0; i < u->count; i++) {
        if (pack)
          memcpy(buf + es * (size_t)i, p + es * (size_t)(i * u->stride), es);
        else
          memcpy(p + es * (size_t)(i * u->stride), buf + es * (size_t)i, es);
      }
    }
    buf += (size_t)u->count * es;
  }
}

int ising_halo_start(ising_halo *h, void *base, int c) {
  ISING_CHECK(h->ready && !h->pending && (c & ~1) == 0, ISING_ERR_INTERNAL,
              "halo: start without setup, twice, or of colour %d", c);
  const size_t es = h->elsize;
  h->nreq = 0;
  h->colour = c;
  h->base = base;
  h->pending = 1;
  for (int k = 0; k < 3; k++) {
    if (!axis_on(h, k)) continue;
    if (h->g.procs[k] == 1) { /* halo side 1 - s <- own layer s */
      for (int s = 0; s < 2; s++)
        move(&h->layer[k][c][ISING_HALO_SEND][s], base, es, h->rbuf[k][1 - s], 1);
      continue;
    }
    for (int s = 0; s < 2; s++) {
      h->ridx[k][s] = h->nreq;
      ISING_MPI(MPI_Irecv(h->rbuf[k][s], (int)(h->bufcap[k] * (int64_t)es), MPI_BYTE,
                          h->g.nbr[k][s], 2 * k + (1 - s), h->g.comm, &h->req[h->nreq++]));
    }
    for (int s = 0; s < 2; s++) {
      const halo_layer *L = &h->layer[k][c][ISING_HALO_SEND][s];
      move(L, base, es, h->sbuf[k][s], 1);
      ISING_MPI(MPI_Isend(h->sbuf[k][s], (int)(L->total * (int64_t)es), MPI_BYTE, h->g.nbr[k][s],
                          2 * k + s, h->g.comm, &h->req[h->nreq++]));
    }
  }
  return ISING_OK;
}

int ising_halo_finish(ising_halo *h) {
  ISING_CHECK(h->pending, ISING_ERR_INTERNAL, "halo: finish without start");
  h->pending = 0;
  if (h->nreq) ISING_MPI(MPI_Waitall(h->nreq, h->req, h->st));
  const int c = h->colour;
  const size_t es = h->elsize;
  for (int k = 0; k < 3; k++) {
    if (!axis_on(h, k)) continue;
    for (int s = 0; s < 2; s++) {
      const halo_layer *L = &h->layer[k][c][ISING_HALO_RECV][s];
      if (h->g.procs[k] > 1) {
        int got = 0;
        ISING_MPI(MPI_Get_count(&h->st[h->ridx[k][s]], MPI_BYTE, &got));
        ISING_CHECK((int64_t)got == L->total * (int64_t)es, ISING_ERR_INTERNAL,
                    "halo size mismatch on axis %d side %d: received %d bytes, expected %lld "
                    "elements of %zu",
                    k, s, got, (long long)L->total, es);
      }
      move(L, h->base, es, h->rbuf[k][s], 0);
    }
  }
  return ISING_OK;
}

int ising_halo_exchange(ising_halo *h, void *base, int colour) {
  ISING_CALL(ising_halo_start(h, base, colour));
  return ising_halo_finish(h);
}

void ising_halo_destroy(ising_halo **hp) {
  if (!hp || !*hp) return;
  ising_halo *h = *hp;
  for (int k = 0; k < 3; k++) {
    for (int s = 0; s < 2; s++) {
      free(h->sbuf[k][s]);
      free(h->rbuf[k][s]);
    }
    for (int c = 0; c < 2; c++)
      for (int w = 0; w < 2; w++)
        for (int s = 0; s < 2; s++) free(h->layer[k][c][w][s].run);
  }
  free(h);
  *hp = NULL;
}
