/*
 * msc.c -- the multi-spin-coding Metropolis half sweep (msc.h): the packed
 * copy of a lattice block and its halo, the packed kernel, the site-by-site
 * reference that makes the same decisions, and the conversions between the
 * packed and the int8 copies of the spins (the only place that reads the
 * lattice's rows; the lattice knows nothing of this module).
 *
 * Packed rows are numbered like the int8 rows of lattice_impl.h: row
 * r = y + ny2 z (local y 0..n1+1, z 0..nz2-1, halo rows included) holds per
 * colour c the words bits + (2 r + c) nw: bit j of word k is the site of
 * colour c with global half index 64 k + j along the (whole, undivided) x
 * row, 1 = spin down.
 *
 * Geometry: in a row of colour-parity q (parity of the global coordinates
 * of its int8 site i = 0), the colour-c site with global half index j sits
 * at gx = 2 j + p with p = (c + q + 1) & 1, i.e. at int8 half index j + p.
 * Its x neighbours (the other colour, same row) have half indices j and
 * j + 1 when p = 1, j - 1 and j when p = 0; its y and z neighbours have
 * half index j in the rows beside it.  So in packed words the x neighbours
 * are the other colour's word itself and that word moved by one bit
 * (towards higher j when p = 0), with the bit that crosses a word boundary
 * taken from the next word and, at the ends, from the other end of the
 * periodic row.
 */
#include "ising/msc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/halo.h"
#include "ising/cpu.h"
#include "lattice_impl.h"
#include "msc_impl.h"
#if defined(__AVX512BW__)
#include <immintrin.h>
#endif

/* ------------------------------------------------------------ classes */

/* The Metropolis table in the kernel's terms: a site with spin bit sb (1:
 * down) and v aligned neighbours has the kernel index x = v + 8 sb and the
 * model's table index (sb ? z - v : z + 1 + v) (model.h, nb = s (2 v - z)).
 * Its move needs random bytes unless its threshold is 2^32 - 1 (p = 1). */
typedef struct msc_term {
  uint64_t k0, k1, k2, ks, ko; /* lanes of the class(es): (b_i ^ k_i) and ((s ^ ks) | ko) all ones */
  int g;                       /* its group */
} msc_term;

typedef struct msc_table {
  int z;
  uint16_t need;     /* bit x: the move of x needs random bytes */
  uint8_t needv[64]; /* 0x80 where it does (a 64-entry byte table for vpermb) */
  uint8_t tb[4][64]; /* byte q of x's threshold, most significant first */
#ifndef MSC_SIMD
  /* the AVX2 and portable decisions: the needing classes in groups of
   * equal byte 0 of the threshold (gval), as terms of one class or of both
   * spins of a v */
  int ng, nterm;
  uint8_t gval[16];
  msc_term term[16];  /* sorted by group: group g's are gstart[g] .. gstart[g + 1] - 1 */
  int gstart[17];
#endif
#ifdef MSC_PORTABLE
  int g3[3]; /* three groups: theirs in decreasing order of byte */
#endif
} msc_table;

static void table_init(msc_table *t, const ising_model *m) {
  memset(t, 0, sizeof *t);
  t->z = m->z;
  for (int sb = 0; sb < 2; sb++)
    for (int v = 0; v <= m->z; v++) {
      int x = v + 8 * sb;
      uint32_t thr = m->thr[sb ? m->z - v : m->z + 1 + v];
      for (int q = 0; q < 4; q++) t->tb[q][x] = (uint8_t)(thr >> (24 - 8 * q));
      if (thr == UINT32_MAX) continue;
      t->need |= (uint16_t)(1u << x);
      t->needv[x] = 0x80;
    }
#ifndef MSC_SIMD
  for (int v = 0; v <= m->z; v++)
    for (int sb = 0; sb < 2; sb++) {
      const int x = v + 8 * sb;
      if (!(t->need >> x & 1)) continue;
      int g = 0;
      while (g < t->ng && t->gval[g] != t->tb[0][x]) g++;
      if (g == t->ng) t->gval[t->ng++] = t->tb[0][x];
      const int both = sb == 0 && (t->need >> (x + 8) & 1) && t->tb[0][x + 8] == t->tb[0][x];
      if (sb == 1 && (t->need & 1u << v) && t->tb[0][v] == t->tb[0][x]) continue; /* in v's term */
      msc_term *e = &t->term[t->nterm++];
      e->k0 = (v & 1) ? 0 : ~(uint64_t)0;
      e->k1 = (v & 2) ? 0 : ~(uint64_t)0;
      e->k2 = (v & 4) ? 0 : ~(uint64_t)0;
      e->ks = sb ? 0 : ~(uint64_t)0;
      e->ko = both ? ~(uint64_t)0 : 0;
      e->g = g;
      for (msc_term *f = e; f > t->term && f[-1].g > f->g; f--) { /* keep them sorted by group */
        msc_term tmp = f[-1];
        f[-1] = *f;
        *f = tmp;
      }
    }
  for (int g = 0, i = 0; g <= t->ng; g++) {
    while (i < t->nterm && t->term[i].g < g) i++;
    t->gstart[g] = i;
  }
#endif
#ifdef MSC_PORTABLE
  for (int g = 0; g < t->ng && t->ng == 3; g++) {
    int above = 0;
    for (int h = 0; h < 3; h++) above += t->gval[h] > t->gval[g];
    t->g3[above] = g;
  }
#endif
}

/* Chunks per Philox call: two sets of sixteen counters on AVX-512, four
 * sets of eight on AVX2. */
#define MSC_PRE_RUNS 8
/* Row streams in flight (a power of 2): rows of at most MSC_PRE_RUNS / 2
 * chunks are made in batches of up to MSC_PRE_RUNS rows, one batch ahead. */
#define MSC_RING (2 * MSC_PRE_RUNS)

/* A row's working set (kernel scratch, sized for nw words): the row's
 * random bytes (chunks of msc_impl.h made on demand), and per word its
 * count planes, lanes decided to move and lanes still tied; the list of
 * words with tied lanes. */
typedef struct msc_row {
  uint32_t *rnd;    /* the row's stream, (nw + 2) 256 bytes: one of the ring's buffers */
  int64_t filled;   /* bytes of it made, whole chunks */
  int64_t nb;       /* blocks per chunk (msc_run_blocks) */
  /* with 4-block chunks, the streams of the rows of a half sweep made
   * ahead (row_start): rows t < pre_end have the first pre_filled[t %
   * MSC_RING] bytes of theirs made in ring buffer t % MSC_RING; longer
   * rows use buffer 0 */
  uint32_t *ring;
  int64_t ring_words; /* words per buffer */
  int64_t pre_end, pre_next, pre_filled[MSC_RING]; /* pre_next: the row at which to make more */
  int64_t hint;     /* bytes to make at the start of the next row */
  uint64_t *B, *A, *E; /* B: three count planes of nw words each */
  uint64_t *O;      /* nw + 2: the other colour's row with its periodic ends */
  int64_t *T;       /* nw: the words that still have tied lanes */
#ifndef MSC_SIMD
  /* the AVX2 and portable decisions: per word the lanes needing bytes (U)
   * and those of each group (M: 16 planes of nw words) */
  uint64_t *U, *M;
#endif
#ifdef MSC_PORTABLE
  uint8_t (*dep8)[256]; /* msc_dep8_init */
#endif
#ifdef MSC_AVX2
  /* per 64 bytes of the stream and group, the bytes below and equal to the
   * group's byte (bm, 32 words per 64 bytes), made for bytes [0, bmdone) */
  uint64_t *bm;
  int64_t bmdone;
  int soft; /* pext/pdep emulated (ising_cpu_pdep_emulated): round0_word_soft */
  uint64_t bytepat[256];
#endif
} msc_row;

static void row_free(msc_row *w) {
  if (!w) return;
  free(w->ring);
  free(w->B);
#ifndef MSC_SIMD
  free(w->U);
#endif
#ifdef MSC_PORTABLE
  free(w->dep8);
#endif
#ifdef MSC_AVX2
  free(w->bm);
#endif
  free(w);
}

static msc_row *row_alloc(int64_t nw, int64_t nb) {
  msc_row *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  /* a row reads at most 4 bytes per lane, 256 nw bytes; 512 more for the
   * rounding up to whole chunks (refills of at least four 64-byte chunks)
   * and the 64-byte SIMD reads past the last byte used */
  w->nb = nb;
  w->ring_words = 64 * (nw + 2);
  const size_t ring_bytes = (size_t)((nb == 4 ? MSC_RING : 1) * w->ring_words) * sizeof *w->ring;
  w->ring = aligned_alloc(64, ring_bytes); /* whole cache lines per chunk */
  if (w->ring) memset(w->ring, 0, ring_bytes);
  w->rnd = w->ring;
  w->B = malloc((size_t)(7 * nw + 2) * sizeof *w->B);
#ifndef MSC_SIMD
  w->U = malloc((size_t)(17 * nw) * sizeof *w->U);
  if (!w->U) {
    row_free(w);
    return NULL;
  }
  w->M = w->U + nw;
#endif
#ifdef MSC_PORTABLE
  w->dep8 = malloc(256 * sizeof *w->dep8);
  if (!w->dep8) {
    row_free(w);
    return NULL;
  }
  msc_dep8_init(w->dep8);
#endif
#ifdef MSC_AVX2
  w->bm = calloc((size_t)(4 * (nw + 2) + 2) * 32, sizeof *w->bm);
  if (!w->bm) {
    row_free(w);
    return NULL;
  }
  w->soft = ising_cpu_pdep_emulated();
  msc_bytepat_init(w->bytepat);
#endif
  if (!w->ring || !w->B) {
    row_free(w);
    return NULL;
  }
  w->A = w->B + 3 * nw;
  w->E = w->A + nw;
  w->O = w->E + nw;
  w->T = (int64_t *)(w->O + nw + 2);
  return w;
}

/* ------------------------------------------------------------ the object */

struct ising_msc {
  int dim;
  int64_t L[3], start[3], n[3]; /* as the lattice's (n[2] = 1 in 2D) */
  int64_t ny2, nz2;             /* rows along y and z including halos */
  int zh;                       /* z halo width: 1 in 3D, 0 in 2D */
  int64_t nw;                   /* words per colour and row: ceil(L[0] / 128) */
  uint64_t *bits;
  msc_table tab;
  msc_row *w;
  int64_t stat[4]; /* words, decisions needing random bits, bits read, Philox blocks drawn */
  ising_halo *halo; /* y and z faces of packed rows */
};

static int64_t row_of(const ising_msc *p, int64_t y, int64_t z) { return z * p->ny2 + y; }
static uint64_t *bits_row(const ising_msc *p, int64_t y, int64_t z, int c) {
  return p->bits + (2 * row_of(p, y, z) + c) * p->nw;
}
/* Parity of the global coordinates of the int8 site i = 0 of row (y, z)
 * (lat_row_parity) and the global row number (lat_global_row). */
static int row_parity(const ising_msc *p, int64_t y, int64_t z) {
  int64_t g = (p->start[0] - 1) + (p->start[1] - 1 + y);
  if (p->dim == 3) g += p->start[2] - 1 + z;
  return (int)(g & 1);
}
static int64_t global_row(const ising_msc *p, int64_t y, int64_t z) {
  int64_t gy = p->start[1] - 1 + y, gz = p->dim == 3 ? p->start[2] - 1 + z : 0;
  return gy + p->L[1] * gz;
}
static int64_t half_len(const ising_msc *p) { return p->L[0] / 2; }

/* The y and z faces (halo.h) in word offsets from p->bits: whole packed
 * rows of colour c, interior layer j = 1 or n, halo layer 0 or n + 1. */
static int halo_faces(ising_msc *p, const ising_halo_geom *g) {
  ISING_CALL(ising_halo_create(g, sizeof(uint64_t), p->dim == 3 ? 6u : 2u, &p->halo));
  for (int k = 1; k < p->dim; k++)
    for (int w = 0; w < 2; w++)
      for (int s = 0; s < 2; s++) {
        const int64_t j = w == ISING_HALO_SEND ? (s ? p->n[k] : 1) : (s ? p->n[k] + 1 : 0);
        const int64_t lo = k == 1 ? p->zh : 1, hi = k == 1 ? p->zh + p->n[2] - 1 : p->n[1];
        for (int c = 0; c < 2; c++)
          for (int64_t o = lo; o <= hi; o++) {
            const int64_t r = k == 1 ? row_of(p, j, o) : row_of(p, o, j);
            ISING_CALL(ising_halo_add(p->halo, k, s, c, w, (2 * r + c) * p->nw, p->nw, 1));
          }
      }
  return ising_halo_setup(p->halo);
}

int ising_msc_create(const ising_lattice *l, ising_msc **out) {
  *out = NULL;
  ISING_CHECK(l->geom.procs[0] == 1, ISING_ERR_INPUT,
              "multi-spin coding needs whole x rows; the x axis is split over %d ranks",
              l->geom.procs[0]);
  ising_msc *p = calloc(1, sizeof *p);
  ISING_CHECK(p, ISING_ERR_MEM, "out of memory (msc)");
  p->dim = l->dim;
  for (int k = 0; k < 3; k++) {
    p->L[k] = l->L[k];
    p->start[k] = l->start[k];
    p->n[k] = l->n[k];
  }
  p->ny2 = l->ny2;
  p->nz2 = l->nz2;
  p->zh = l->zh;
  p->nw = (p->L[0] / 2 + 63) / 64;
  p->bits = calloc((size_t)(2 * p->nw * p->ny2 * p->nz2), sizeof *p->bits);
  p->w = row_alloc(p->nw, msc_run_blocks(p->L[0]));
  if (!p->bits || !p->w) {
    const long long words = (long long)(2 * p->nw * p->ny2 * p->nz2);
    ising_msc_destroy(&p);
    return ISING_ERR(ISING_ERR_MEM, "out of memory for the packed spins (%lld words)", words);
  }
  int rc = halo_faces(p, &l->geom);
  if (rc) {
    ising_msc_destroy(&p);
    return rc;
  }
  *out = p;
  return ISING_OK;
}

void ising_msc_destroy(ising_msc **pp) {
  if (!pp || !*pp) return;
  ising_msc *p = *pp;
  ising_halo_destroy(&p->halo);
  free(p->bits);
  row_free(p->w);
  free(p);
  *pp = NULL;
}

int64_t ising_msc_bytes(const ising_msc *p) {
  return (int64_t)sizeof(uint64_t) * 2 * p->nw * p->ny2 * p->nz2;
}

void ising_msc_stats(const ising_msc *p, int64_t out[4]) {
  for (int i = 0; i < 4; i++) out[i] = p->stat[i];
}

int ising_msc_halo(ising_msc *p, int colour) { return ising_halo_exchange(p->halo, p->bits, colour); }

/* ------------------------------------------------------------ conversions */

/* Mask of the valid lanes of word k. */
static inline uint64_t valid_mask(int64_t wg, int64_t k) {
  int64_t r = wg - 64 * k;
  return r >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << r) - 1);
}

static void pack_row(const int8_t *h, uint64_t *w, int64_t wg, int64_t nw) {
  for (int64_t k = 0; k < nw; k++) {
#if defined(__AVX512BW__)
    uint64_t v = valid_mask(wg, k);
    w[k] = _mm512_movepi8_mask(_mm512_maskz_loadu_epi8(v, h + 64 * k)) & v;
#else
    uint64_t x = 0;
    int n = (int)(wg - 64 * k < 64 ? wg - 64 * k : 64);
    for (int b = 0; b < n; b++) x |= (uint64_t)(h[64 * k + b] < 0) << b;
    w[k] = x;
#endif
  }
}

static void unpack_row(const uint64_t *w, int8_t *h, int64_t wg, int64_t nw) {
  for (int64_t k = 0; k < nw; k++) {
#if defined(__AVX512BW__)
    uint64_t v = valid_mask(wg, k);
    __m512i s = _mm512_or_si512(_mm512_movm_epi8(w[k]), _mm512_set1_epi8(1)); /* 1 -> -1, 0 -> +1 */
    _mm512_mask_storeu_epi8(h + 64 * k, v, s);
#else
    int n = (int)(wg - 64 * k < 64 ? wg - 64 * k : 64);
    for (int b = 0; b < n; b++) h[64 * k + b] = (int8_t)((w[k] >> b & 1) ? -1 : 1);
#endif
  }
}

static int same_block(const ising_msc *p, const ising_lattice *l) {
  int same = p->dim == l->dim;
  for (int k = 0; k < 3; k++)
    same = same && p->L[k] == l->L[k] && p->start[k] == l->start[k] && p->n[k] == l->n[k];
  return same;
}

int ising_msc_load(ising_msc *p, const ising_lattice *l) {
  ISING_CHECK(same_block(p, l), ISING_ERR_INTERNAL, "msc: load from a lattice of another block");
  const int64_t wg = half_len(p);
  for (int64_t z = 0; z < p->nz2; z++)
    for (int64_t y = 0; y < p->ny2; y++) {
      int q = lat_row_parity(l, y, z);
      for (int c = 0; c < 2; c++)
        pack_row(lat_half(l, y, z, c) + ((c + q + 1) & 1), bits_row(p, y, z, c), wg, p->nw);
    }
  return ISING_OK;
}

int ising_msc_store(const ising_msc *p, ising_lattice *l) {
  ISING_CHECK(same_block(p, l), ISING_ERR_INTERNAL, "msc: store into a lattice of another block");
  const int64_t wg = half_len(p);
  for (int64_t z = 0; z < p->nz2; z++)
    for (int64_t y = 0; y < p->ny2; y++) {
      int q = lat_row_parity(l, y, z);
      for (int c = 0; c < 2; c++)
        unpack_row(bits_row(p, y, z, c), lat_half(l, y, z, c) + ((c + q + 1) & 1), wg, p->nw);
      /* x halos of the whole periodic row: i = 0 is gx = Lx - 1 (colour q,
       * half index wg), i = Lx + 1 is gx = 0 (colour q ^ 1, half index 0) */
      lat_half(l, y, z, q)[0] = lat_half(l, y, z, q)[wg];
      lat_half(l, y, z, q ^ 1)[wg] = lat_half(l, y, z, q ^ 1)[0];
    }
  return ISING_OK;
}

/* ------------------------------------------------------------ packed kernel */

/* Table index x = v + 8 sb (msc_table) of lane l from the count planes b and spins s. */
static inline int lane_index(const uint64_t b[3], uint64_t s, int l) {
  return (int)((b[0] >> l & 1) | (b[1] >> l & 1) << 1 | (b[2] >> l & 1) << 2 | (s >> l & 1) << 3);
}

/* Words per row from which the counts, flips and sums of a row take
 * SIMD registers: shorter rows go word by word (a wide load of words just
 * stored one by one waits for those stores). */
#define MSC_WIDE_ROW 4

typedef struct msc_sums {
  int64_t bonds, mag, words, decisions, bits, blocks;
} msc_sums;

/* At least n bytes of the row's stream (whose chunk 0 starts at group
 * base), MSC_PRE_RUNS chunks per Philox call; at least four chunks at a
 * time where the buffer has room (fewer leave SIMD counters empty). */
static __attribute__((noinline)) void row_stream_make(msc_row *w, int64_t n, ising_rng_key key,
                                                      uint64_t base, uint32_t c2, uint32_t c3) {
  const int64_t bytes = 16 * w->nb, c0 = w->filled / bytes;
  int64_t chunks = (n - w->filled + bytes - 1) / bytes;
  if (w->nb == 16) {
    ising_rng_fill_chunks16(key, base + (uint64_t)c0 * 16, chunks, c2, c3, w->rnd + 64 * c0);
  } else {
    const int64_t room = w->ring_words / 16 - 1 - c0;
    if (chunks < 4) chunks = room < 4 ? chunks : 4;
    uint64_t first[MSC_PRE_RUNS];
    uint32_t *out[MSC_PRE_RUNS];
    for (int64_t i = 0; i < chunks; i += MSC_PRE_RUNS) {
      const int64_t m = chunks - i < MSC_PRE_RUNS ? chunks - i : MSC_PRE_RUNS;
      for (int64_t r = 0; r < m; r++) {
        first[r] = base + (uint64_t)(c0 + i + r) * 4;
        out[r] = w->rnd + 16 * (c0 + i + r);
      }
      ising_rng_fill_runs4(key, first, m, c2, c3, out);
    }
  }
  w->filled += chunks * bytes;
}

static inline void row_stream_need(msc_row *w, int64_t n, ising_rng_key key, uint64_t base,
                                   uint32_t c2, uint32_t c3) {
  if (w->filled < n) row_stream_make(w, n, key, base, c2, c3);
}

#ifndef MSC_SIMD
/* The group masks of word k (count planes b, spins s) into M, and the
 * lanes that need bytes, returned. */
static inline uint64_t groups_word(const msc_table *tab, const uint64_t b[3], uint64_t s,
                                   uint64_t *M, int64_t nw, int64_t k) {
  uint64_t U = 0;
  for (int g = 0; g < tab->ng; g++) {
    uint64_t m = 0;
    for (int i = tab->gstart[g]; i < tab->gstart[g + 1]; i++) {
      const msc_term *e = &tab->term[i];
      m |= MSC_MATCH(b[0], b[1], b[2], s, e);
    }
    M[g * nw + k] = m;
    U |= m;
  }
  return U;
}
#endif

#ifdef MSC_AVX2
/* The stream's bitmaps (msc_row.bm) of the bytes made below `upto` (in
 * whole 64-byte blocks): bit i of word 2g of block i / 64 is byte i <
 * gval[g], of word 2g + 1 byte i == gval[g] (a signed compare of the bytes
 * with their top bits flipped). */
static inline void bm_update(const msc_table *tab, msc_row *w, int64_t upto) {
  const uint8_t *rb = (const uint8_t *)w->rnd;
  const int ng = tab->ng;
  const __m256i flip = _mm256_set1_epi8((char)0x80);
  int64_t i = w->bmdone;
  for (; i < w->filled && i < upto; i += 64) {
    const __m256i lo = _mm256_loadu_si256((const __m256i *)(rb + i));
    const __m256i hi = _mm256_loadu_si256((const __m256i *)(rb + i + 32));
    const __m256i lx = _mm256_xor_si256(lo, flip), hx = _mm256_xor_si256(hi, flip);
    uint64_t *o = w->bm + (i / 64) * 2 * ng;
    for (int g = 0; g < ng; g++) {
      const __m256i t = _mm256_set1_epi8((char)tab->gval[g]);
      const __m256i tx = _mm256_xor_si256(t, flip);
      o[2 * g] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(tx, lx)) |
                 (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi8(tx, hx)) << 32;
      o[2 * g + 1] = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(t, lo)) |
                     (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(t, hi)) << 32;
    }
  }
  w->bmdone = i;
}

/* Round 0 of a word with ng groups: the byte of its i-th lane needing one
 * is stream byte pos + i; the compare outcomes of those bytes (bits pos ..
 * pos + 63 of the group's bitmaps) gathered by the group's lanes in U
 * (pext) and deposited back into lane order (pdep). */
static inline __attribute__((always_inline)) void round0_word(int ng, const uint64_t *bm,
                                                               const uint64_t *M, int64_t nw,
                                                               int64_t k, uint64_t U, int64_t pos,
                                                               uint64_t *A, uint64_t *E) {
  const uint64_t *b0 = bm + (pos >> 6) * 2 * ng, *b1 = b0 + 2 * ng;
  const int r = (int)(pos & 63);
  uint64_t lt = 0, eq = 0;
  for (int g = 0; g < ng; g++) {
    const uint64_t c = _pext_u64(M[g * nw + k], U);
    lt |= c & ((b0[2 * g] >> r) | ((b1[2 * g] << 1) << (63 - r)));
    eq |= c & ((b0[2 * g + 1] >> r) | ((b1[2 * g + 1] << 1) << (63 - r)));
  }
  *A = _pdep_u64(lt, U);
  *E = _pdep_u64(eq, U);
}

/* Round 0 of a word where pdep/pext are emulated (cpu.h): the same
 * decisions without them.  The bytes pos .. pos + popcount(U) - 1 of the
 * stream r go into the lanes of U in lane order (msc_expand64 by byte
 * shuffles), and every lane compares its byte with its group's byte. */
static inline __attribute__((always_inline)) void round0_word_soft(int ng, const msc_table *tab,
                                                                    const uint64_t *bytepat,
                                                                    const uint8_t *r,
                                                                    const uint64_t *M, int64_t nw,
                                                                    int64_t k, uint64_t U,
                                                                    uint64_t *A, uint64_t *E) {
  __m256i lo, hi;
  msc_expand64(NULL, bytepat, r, U, &lo, &hi);
  const __m256i flip = _mm256_set1_epi8((char)0x80);
  lo = _mm256_xor_si256(lo, flip);
  hi = _mm256_xor_si256(hi, flip);
  uint64_t lt = 0, eq = 0;
  for (int g = 0; g < ng; g++) {
    const __m256i t = _mm256_xor_si256(_mm256_set1_epi8((char)tab->gval[g]), flip);
    const uint64_t m = M[g * nw + k];
    lt |= m & msc_lt64(lo, hi, t, t);
    eq |= m & msc_eq64(lo, hi, t, t);
  }
  *A = lt & U;
  *E = eq & U;
}
#endif

#ifdef MSC_AVX2
/* Words k1 .. k1 + m - 1 (m = 4, or 2 in the registers' low halves) of a
 * row: their count planes into B (msc_count_aligned's adders on the
 * aligned masks), group masks into M and needing lanes into U, from their
 * spins S, the other colour's words O, the x neighbours X (O moved by a
 * bit) and the rows beside them, nbr. */
static inline __attribute__((always_inline)) void counts_groups4(int d3, const msc_table *tab,
                                                                 msc_row *w, int64_t nw, int64_t k1,
                                                                 __m256i S, __m256i O, __m256i X,
                                                                 const uint64_t *const *nbr, int m) {
#define LOADN(q) (m == 4 ? _mm256_loadu_si256((const __m256i *)(q)) : _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(q))))
#define STOREN(q, v) (m == 4 ? _mm256_storeu_si256((__m256i *)(q), v) : _mm_storeu_si128((__m128i *)(q), _mm256_castsi256_si128(v)))
  /* aligned masks ~(s ^ n) = ~s ^ n, then msc_count_aligned's adders */
  const __m256i nS = _mm256_xor_si256(S, _mm256_set1_epi64x(-1));
  const __m256i zero = _mm256_setzero_si256();
  const __m256i a[6] = {_mm256_xor_si256(nS, O), _mm256_xor_si256(nS, X),
                        _mm256_xor_si256(nS, LOADN(nbr[0] + k1)), _mm256_xor_si256(nS, LOADN(nbr[1] + k1)),
                        d3 ? _mm256_xor_si256(nS, LOADN(nbr[2] + k1)) : zero,
                        d3 ? _mm256_xor_si256(nS, LOADN(nbr[3] + k1)) : zero};
  __m256i B[3];
  msc_count4(d3, a, B);
  const __m256i b0 = B[0], b1 = B[1], b2 = B[2];
  STOREN(w->B + k1, b0);
  STOREN(w->B + nw + k1, b1);
  STOREN(w->B + 2 * nw + k1, b2);
  __m256i Uv = _mm256_setzero_si256();
  const int ng = tab->ng;
  for (int g = 0; g < ng; g++) {
    __m256i mg = _mm256_setzero_si256();
    for (int i = tab->gstart[g]; i < tab->gstart[g + 1]; i++) {
      const msc_term *e = &tab->term[i];
      mg = _mm256_or_si256(mg, msc_match4(b0, b1, b2, S, e->k0, e->k1, e->k2, e->ks, e->ko));
    }
    STOREN(w->M + g * nw + k1, mg);
    Uv = _mm256_or_si256(Uv, mg);
  }
  STOREN(w->U + k1, Uv);
#undef LOADN
#undef STOREN
}
#endif

#ifdef MSC_PORTABLE
/* counts_groups4 for two words in a 128-bit vector (msc_v2). */
static inline msc_v2 msc_v2_load(const uint64_t *q) {
  msc_v2 v;
  memcpy(&v, q, sizeof v);
  return v;
}
static inline __attribute__((always_inline)) void counts_groups2(int d3, const msc_table *tab,
                                                                 msc_row *w, int64_t nw, int64_t k1,
                                                                 msc_v2 S, msc_v2 O, msc_v2 X,
                                                                 const uint64_t *const *nbr) {
  const msc_v2 zero = {0, 0};
  const msc_v2 n[6] = {O, X, msc_v2_load(nbr[0] + k1), msc_v2_load(nbr[1] + k1),
                       d3 ? msc_v2_load(nbr[2] + k1) : zero, d3 ? msc_v2_load(nbr[3] + k1) : zero};
  msc_v2 b[3];
  msc_count_aligned2(d3, S, n, b);
  for (int i = 0; i < 3; i++) memcpy(w->B + i * nw + k1, &b[i], sizeof b[i]);
  msc_v2 U = zero;
  const int ng = tab->ng;
  for (int g = 0; g < ng; g++) {
    msc_v2 mg = zero;
    for (int i = tab->gstart[g]; i < tab->gstart[g + 1]; i++)
      mg |= MSC_MATCH(b[0], b[1], b[2], S, &tab->term[i]);
    memcpy(w->M + g * nw + k1, &mg, sizeof mg);
    U |= mg;
  }
  memcpy(w->U + k1, &U, sizeof U);
}
#endif

/* One row: words of colour c in sc, the other colour's words of this row in
 * o, of the rows beside it in nbr[0..2d-3].  Four passes: (1) counts;
 * (2) word by word, the lanes needing bytes and their round-0 decisions;
 * (3) rounds 1..3 for the tied lanes (rare: 1/256 per decision), the words
 * with ties in order, all of round q before round q+1; (4) flips and sums.
 * The row reads its stream in exactly that order (the reference does the
 * same site by site). */
static inline void row_kernel(int d3, const msc_table *tab, uint64_t *sc, const uint64_t *o,
                              const uint64_t *const *nbr, int p, int64_t wg, int64_t nw,
                              msc_row *w, ising_rng_key key, uint64_t base, uint32_t c2,
                              uint32_t c3, int colour, msc_sums *acc) {
  const int z = tab->z;
  const int r_last = (int)(wg - 64 * (nw - 1)); /* valid bits of the last word, 1..64 */
  const uint8_t *rb = (const uint8_t *)w->rnd;
  int64_t A_old = 0, A_f = 0, nf = 0, nvalid = 0, ndown = 0, dec = 0;
  uint64_t *const B0 = w->B, *const B1 = w->B + nw, *const B2 = w->B + 2 * nw;
  /* w->filled: the bytes of this row's stream the caller made */
  /* (1) counts: eight words per register where the row is whole words */
  int64_t k1 = 0;
#if defined(MSC_SIMD) && defined(__AVX512VPOPCNTDQ__)
  if (r_last == 64 && nw >= MSC_WIDE_ROW) {
    /* the other colour's row with the periodic neighbours of its ends:
     * op[1 + k] = o[k], op[0] = o[nw - 1], op[nw + 1] = o[0]; a row of at
     * most eight words has them by a permute instead (the copy's narrow
     * stores would stall the wide loads that follow them) */
    uint64_t *op = w->O;
    const int whole = nw <= 8;
    if (!whole) {
      memcpy(op + 1, o, (size_t)nw * sizeof *o);
      op[0] = o[nw - 1];
      op[nw + 1] = o[0];
    }
    for (; k1 < nw; k1 += 8) {
      const __mmask8 lm = (__mmask8)(nw - k1 < 8 ? (1u << (nw - k1)) - 1 : 0xFF);
      const __m512i S = _mm512_maskz_loadu_epi64(lm, sc + k1);
      __m512i O, X;
      if (whole) { /* word k's neighbours k + 1 and k - 1 modulo nw */
        const __m512i idx = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7), zero = _mm512_setzero_si512();
        const __m512i one = _mm512_set1_epi64(1), vnw = _mm512_set1_epi64(nw);
        O = _mm512_maskz_loadu_epi64(lm, o);
        const __m512i up = _mm512_add_epi64(idx, one), down = _mm512_sub_epi64(idx, one);
        X = p ? _mm512_shrdi_epi64(O, _mm512_permutexvar_epi64(_mm512_mask_mov_epi64(up, _mm512_cmpeq_epi64_mask(up, vnw), zero), O), 1)
              : _mm512_shldi_epi64(O, _mm512_permutexvar_epi64(_mm512_mask_mov_epi64(down, _mm512_cmpeq_epi64_mask(idx, zero), _mm512_sub_epi64(vnw, one)), O), 1);
      } else {
        O = _mm512_maskz_loadu_epi64(lm, op + 1 + k1);
        /* x neighbour j+1 (p = 1) or j-1 (p = 0): a one-bit funnel shift */
        X = p ? _mm512_shrdi_epi64(O, _mm512_maskz_loadu_epi64(lm, op + 2 + k1), 1)
              : _mm512_shldi_epi64(O, _mm512_maskz_loadu_epi64(lm, op + k1), 1);
      }
      /* anti-aligned masks s ^ n; the count of aligned ones is the count of
       * zeros: add the complements */
      const __m512i a0 = _mm512_xor_si512(S, O), a1 = _mm512_xor_si512(S, X);
      const __m512i a2 = _mm512_xor_si512(S, _mm512_maskz_loadu_epi64(lm, nbr[0] + k1));
      const __m512i a3 = _mm512_xor_si512(S, _mm512_maskz_loadu_epi64(lm, nbr[1] + k1));
      /* ternary-logic immediates: bit (A << 2 | B << 1 | C) of imm is f(A, B, C) */
      __m512i h1, q1, h2, q2;
      if (!d3) { /* half adders of the aligned bits ~a (C unused) */
        h1 = _mm512_xor_si512(a0, a1);                     /* ~a0 ^ ~a1 = a0 ^ a1 */
        q1 = _mm512_ternarylogic_epi64(a0, a1, a1, 0x03); /* ~a0 & ~a1 */
        h2 = _mm512_xor_si512(a2, a3);
        q2 = _mm512_ternarylogic_epi64(a2, a3, a3, 0x03);
      } else { /* full adders of three: sum = parity, carry = majority */
        const __m512i a4 = _mm512_xor_si512(S, _mm512_maskz_loadu_epi64(lm, nbr[2] + k1));
        const __m512i a5 = _mm512_xor_si512(S, _mm512_maskz_loadu_epi64(lm, nbr[3] + k1));
        h1 = _mm512_ternarylogic_epi64(a0, a1, a2, 0x69); /* parity of the complements */
        q1 = _mm512_ternarylogic_epi64(a0, a1, a2, 0x17); /* majority of the complements */
        h2 = _mm512_ternarylogic_epi64(a3, a4, a5, 0x69);
        q2 = _mm512_ternarylogic_epi64(a3, a4, a5, 0x17);
      }
      const __m512i kk = _mm512_and_si512(h1, h2);
      _mm512_mask_storeu_epi64(B0 + k1, lm, _mm512_xor_si512(h1, h2));
      _mm512_mask_storeu_epi64(B1 + k1, lm, _mm512_ternarylogic_epi64(q1, q2, kk, 0x96));
      _mm512_mask_storeu_epi64(B2 + k1, lm, _mm512_ternarylogic_epi64(q1, q2, kk, 0xE8));
    }
  }
#elif defined(MSC_AVX2)
  if (r_last == 64 && nw >= MSC_WIDE_ROW) { /* four words per register: shorter rows go word by word */
    uint64_t *op = w->O; /* as the AVX-512 pass: op[1 + k] = o[k], periodic ends */
    memcpy(op + 1, o, (size_t)nw * sizeof *o);
    op[0] = o[nw - 1];
    op[nw + 1] = o[0];
    for (; k1 + 4 <= nw; k1 += 4) {
      const __m256i O = _mm256_loadu_si256((const __m256i *)(op + 1 + k1));
      const __m256i X =
          p ? _mm256_or_si256(_mm256_srli_epi64(O, 1),
                              _mm256_slli_epi64(_mm256_loadu_si256((const __m256i *)(op + 2 + k1)), 63))
            : _mm256_or_si256(_mm256_slli_epi64(O, 1),
                              _mm256_srli_epi64(_mm256_loadu_si256((const __m256i *)(op + k1)), 63));
      counts_groups4(d3, tab, w, nw, k1, _mm256_loadu_si256((const __m256i *)(sc + k1)), O, X, nbr, 4);
    }
  } else if (r_last == 64 && nw == 2) {
    /* two words (3D L = 256): in the low half of a register, the x
     * neighbours' other word being the row's other word */
    const __m256i O = _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)o));
    const __m256i Os = _mm256_permute4x64_epi64(O, 0x01); /* o[1], o[0] */
    const __m256i X = p ? _mm256_or_si256(_mm256_srli_epi64(O, 1), _mm256_slli_epi64(Os, 63))
                        : _mm256_or_si256(_mm256_slli_epi64(O, 1), _mm256_srli_epi64(Os, 63));
    counts_groups4(d3, tab, w, nw, 0, _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)sc)), O,
                   X, nbr, 2);
    k1 = 2;
  }
#elif defined(MSC_PORTABLE)
  if (r_last == 64) /* two words per 128-bit vector (SSE2, NEON, ...) */
    for (; k1 + 2 <= nw; k1 += 2) {
      const msc_v2 O = msc_v2_load(o + k1);
      const uint64_t e0 = p ? o[k1 + 1] : (k1 > 0 ? o[k1 - 1] : o[nw - 1]);
      const uint64_t e1 = p ? (k1 + 2 < nw ? o[k1 + 2] : o[0]) : o[k1];
      const msc_v2 Xn = {e0, e1}; /* the words whose end bits move in */
      const msc_v2 X = p ? (O >> 1) | (Xn << 63) : (O << 1) | (Xn >> 63);
      counts_groups2(d3, tab, w, nw, k1, msc_v2_load(sc + k1), O, X, nbr);
    }
#endif
  for (int64_t k = k1; k < nw; k++) {
    const uint64_t s = sc[k], ow = o[k];
    uint64_t xs;
    if (p) { /* neighbours j and j + 1: bit j + 1 moved down to j */
      uint64_t in = k < nw - 1 ? o[k + 1] & 1 : o[0] & 1;
      xs = (ow >> 1) | (in << (k < nw - 1 ? 63 : r_last - 1));
    } else { /* j - 1 and j: bit j - 1 moved up to j */
      uint64_t in = k > 0 ? o[k - 1] >> 63 : (o[nw - 1] >> (r_last - 1)) & 1;
      xs = (ow << 1) | in;
    }
    uint64_t n[6] = {ow, xs, nbr[0][k], nbr[1][k], d3 ? nbr[2][k] : 0, d3 ? nbr[3][k] : 0};
    uint64_t b[3];
    msc_count_aligned(d3, s, n, b);
    B0[k] = b[0], B1[k] = b[1], B2[k] = b[2];
#ifndef MSC_SIMD
    w->U[k] = groups_word(tab, b, s, w->M, nw, k) & (k == nw - 1 ? valid_mask(wg, k) : ~(uint64_t)0);
#endif
  }
  /* (2) per word: the lanes that need bytes, and their round-0 decisions
   * (the row's stream is made up to the bytes a word reads; the 64-byte
   * SIMD reads past them land in the buffer, in bytes of earlier rows or
   * zeros, which the expand and the compares do not use) */
  row_stream_need(w, w->hint - w->hint / 8, key, base, c2, c3);
#ifdef MSC_AVX2
  /* bitmaps only of the bytes round 0 reads (and a word's window past
   * them): short rows read a third of their chunk */
  int64_t bm_upto = 64;
  for (int64_t k = 0; k < nw; k++) bm_upto += msc_popcount(w->U[k]);
  w->bmdone = 0;
  if (w->soft) bm_upto = 0; /* round0_word_soft reads the bytes themselves */
  bm_update(tab, w, bm_upto);
#endif
  int64_t pos = 0;
  int64_t *const tl = w->T, nt = 0; /* the words with tied lanes, in order */
  for (int64_t k = 0; k < nw; k++) {
    const uint64_t valid = k == nw - 1 ? valid_mask(wg, k) : ~(uint64_t)0;
    const uint64_t s = sc[k], b[3] = {B0[k], B1[k], B2[k]};
    uint64_t U, A, E = 0;
#ifdef MSC_SIMD
    row_stream_need(w, pos + 64, key, base, c2, c3); /* at most 64 lanes read */
    __m512i x = _mm512_maskz_mov_epi8(b[0], _mm512_set1_epi8(1));
    x = _mm512_mask_add_epi8(x, b[1], x, _mm512_set1_epi8(2));
    x = _mm512_mask_add_epi8(x, b[2], x, _mm512_set1_epi8(4));
    x = _mm512_mask_add_epi8(x, s, x, _mm512_set1_epi8(8));
    U = _mm512_movepi8_mask(_mm512_permutexvar_epi8(x, _mm512_loadu_si512(tab->needv))) & valid;
    const __m512i u = _mm512_maskz_expand_epi8(U, _mm512_loadu_si512(rb + pos));
    const __m512i th = _mm512_permutexvar_epi8(x, _mm512_loadu_si512(tab->tb[0]));
    A = (valid & ~U) | _mm512_mask_cmplt_epu8_mask(U, u, th); /* p = 1, or u's byte < t's */
    E = _mm512_mask_cmpeq_epu8_mask(U, u, th);
#elif defined(MSC_AVX2)
    (void)s, (void)b;
    U = w->U[k];
    if (pos + msc_popcount(U) > w->filled) {
      row_stream_need(w, pos + msc_popcount(U), key, base, c2, c3);
      bm_update(tab, w, bm_upto);
    }
    uint64_t Ad;
    if (w->soft) round0_word_soft(tab->ng, tab, w->bytepat, rb + pos, w->M, nw, k, U, &Ad, &E);
    else if (tab->ng == 2) round0_word(2, w->bm, w->M, nw, k, U, pos, &Ad, &E);
    else if (tab->ng == 3) round0_word(3, w->bm, w->M, nw, k, U, pos, &Ad, &E);
    else round0_word(tab->ng, w->bm, w->M, nw, k, U, pos, &Ad, &E);
    A = (valid & ~U) | Ad;
#else
    /* the bytes' compare bitmaps per group deposited into the lanes of U
     * (msc_dep), each kept in its group's lanes */
    (void)s, (void)b;
    U = w->U[k];
    msc_dep_split d;
    msc_dep_split_init(&d, w->dep8, U);
    row_stream_need(w, pos + d.n, key, base, c2, c3);
    const uint8_t *r = rb + pos;
    A = valid & ~U; /* p = 1 */
    uint64_t eqany = 0, ltg[16], eqg[16];
    msc_cmp_bits(r, tab->gval, tab->ng, ltg, eqg);
    if (tab->ng == 3) {
      /* bytes below the lowest group byte are below all three: deposit
       * the rank of each byte among the three (0..3) in two bit planes */
      const int hi = tab->g3[0], mid = tab->g3[1], lo = tab->g3[2];
      const uint64_t r0 = msc_dep(&d, ltg[hi] ^ ltg[mid] ^ ltg[lo]), r1 = msc_dep(&d, ltg[mid]);
      A |= (w->M[hi * nw + k] & (r0 | r1)) | (w->M[mid * nw + k] & r1) | (w->M[lo * nw + k] & r0 & r1);
      eqany = eqg[0] | eqg[1] | eqg[2];
    } else
      for (int g = 0; g < tab->ng; g++) {
        A |= w->M[g * nw + k] & msc_dep(&d, ltg[g]);
        eqany |= eqg[g];
      }
    if (d.n < 64) eqany &= ((uint64_t)1 << d.n) - 1; /* bytes past the word's */
    if (eqany)
      for (int g = 0; g < tab->ng; g++) E |= w->M[g * nw + k] & msc_dep(&d, eqg[g]);
#endif
    w->A[k] = A;
    w->E[k] = E;
    pos += msc_popcount(U);
    tl[nt] = k;
    nt += E != 0;
  }
  dec = pos;
  /* the next row of this half sweep will likely read about as many */
  w->hint = pos;
  /* (3) */
  for (int q = 1; q < 4 && nt; q++) {
    int64_t nt2 = 0;
    for (int64_t i = 0; i < nt; i++) {
      const int64_t k = tl[i];
      const uint64_t E = w->E[k];
      row_stream_need(w, pos + msc_popcount(E), key, base, c2, c3);
      uint64_t E2 = 0;
      const uint64_t b[3] = {B0[k], B1[k], B2[k]}, sk = sc[k];
      uint64_t Ak = w->A[k];
      for (uint64_t m = E; m; m &= m - 1) { /* a few lanes: one by one, no branch on the outcome */
        const int l = __builtin_ctzll(m);
        const unsigned ub = rb[pos++], tb = tab->tb[q][lane_index(b, sk, l)];
        Ak |= (uint64_t)(ub < tb) << l;
        E2 |= (uint64_t)(ub == tb) << l;
      }
      w->A[k] = Ak;
      w->E[k] = E2;
      tl[nt2] = k;
      nt2 += E2 != 0;
    }
    nt = nt2;
  }
  const int64_t bytes = pos;
  /* (4) flips and the popcount sums */
  int64_t k4 = 0;
#if defined(MSC_SIMD) && defined(__AVX512VPOPCNTDQ__)
  /* registers where the row is long: A and E were just stored word by
   * word, and a wide load of them waits for those stores (short rows,
   * 3D L <= 256, are faster word by word) */
  if (r_last == 64 && nw >= MSC_WIDE_ROW) {
    __m512i vAo = _mm512_setzero_si512(), vAf = vAo, vnf = vAo, vdn = vAo;
    for (; k4 < nw; k4 += 8) {
      const __mmask8 lm = (__mmask8)(nw - k4 < 8 ? (1u << (nw - k4)) - 1 : 0xFF);
      const __m512i f = _mm512_or_si512(_mm512_maskz_loadu_epi64(lm, w->A + k4),
                                        _mm512_maskz_loadu_epi64(lm, w->E + k4));
      const __m512i sn = _mm512_xor_si512(_mm512_maskz_loadu_epi64(lm, sc + k4), f);
      _mm512_mask_storeu_epi64(sc + k4, lm, sn);
      const __m512i b0 = _mm512_maskz_loadu_epi64(lm, B0 + k4), b1 = _mm512_maskz_loadu_epi64(lm, B1 + k4),
                    b2 = _mm512_maskz_loadu_epi64(lm, B2 + k4);
      /* weights 1, 2, 4 of the count planes by shifts of the popcounts */
      vAf = _mm512_add_epi64(vAf, _mm512_popcnt_epi64(_mm512_and_si512(b0, f)));
      vAf = _mm512_add_epi64(vAf, _mm512_slli_epi64(_mm512_popcnt_epi64(_mm512_and_si512(b1, f)), 1));
      vAf = _mm512_add_epi64(vAf, _mm512_slli_epi64(_mm512_popcnt_epi64(_mm512_and_si512(b2, f)), 2));
      if (colour == 0) {
        vAo = _mm512_add_epi64(vAo, _mm512_popcnt_epi64(b0));
        vAo = _mm512_add_epi64(vAo, _mm512_slli_epi64(_mm512_popcnt_epi64(b1), 1));
        vAo = _mm512_add_epi64(vAo, _mm512_slli_epi64(_mm512_popcnt_epi64(b2), 2));
      }
      vnf = _mm512_add_epi64(vnf, _mm512_popcnt_epi64(f));
      vdn = _mm512_add_epi64(vdn, _mm512_popcnt_epi64(sn));
    }
    A_old += _mm512_reduce_add_epi64(vAo);
    A_f += _mm512_reduce_add_epi64(vAf);
    nf += _mm512_reduce_add_epi64(vnf);
    ndown += _mm512_reduce_add_epi64(vdn);
    nvalid += 64 * nw;
  }
#elif defined(MSC_PORTABLE) && defined(__SSE2__) && !defined(__POPCNT__) && !defined(MSC_SWAR)
  { /* no popcount instruction: two words' bit counts per register */
    __m128i s1 = _mm_setzero_si128(), s2 = s1, s3 = s1, s4 = s1;
    nvalid += wg - 64 * k4;
    for (; k4 < nw; k4++) {
      const uint64_t valid = k4 == nw - 1 ? valid_mask(wg, k4) : ~(uint64_t)0;
      const uint64_t f = w->A[k4] | w->E[k4];
      const uint64_t b0 = B0[k4], b1 = B1[k4], b2 = B2[k4], sn = sc[k4] ^ f;
      sc[k4] = sn;
      s1 = _mm_add_epi64(s1, msc_popcount2(_mm_set_epi64x((long long)(b1 & f), (long long)(b0 & f))));
      s2 = _mm_add_epi64(s2, msc_popcount2(_mm_set_epi64x((long long)f, (long long)(b2 & f))));
      if (colour == 0)
        s3 = _mm_add_epi64(s3, msc_popcount2(_mm_set_epi64x((long long)(b1 & valid), (long long)(b0 & valid))));
      s4 = _mm_add_epi64(s4, msc_popcount2(_mm_set_epi64x((long long)sn, colour == 0 ? (long long)(b2 & valid) : 0)));
    }
    int64_t v[8];
    _mm_storeu_si128((__m128i *)v, s1);
    _mm_storeu_si128((__m128i *)(v + 2), s2);
    _mm_storeu_si128((__m128i *)(v + 4), s3);
    _mm_storeu_si128((__m128i *)(v + 6), s4);
    A_f += v[0] + 2 * v[1] + 4 * v[2];
    nf += v[3];
    A_old += v[4] + 2 * v[5] + 4 * v[6];
    ndown += v[7];
  }
#endif
  for (int64_t k = k4; k < nw; k++) {
    const uint64_t valid = k == nw - 1 ? valid_mask(wg, k) : ~(uint64_t)0;
    const uint64_t f = w->A[k] | w->E[k]; /* still tied after four bytes: u == t */
    const uint64_t b[3] = {B0[k], B1[k], B2[k]}, sn = sc[k] ^ f;
    sc[k] = sn;
    nvalid += msc_popcount(valid);
    nf += msc_popcount(f);
    A_f += msc_popcount(b[0] & f) + 2 * msc_popcount(b[1] & f) +
           4 * msc_popcount(b[2] & f);
    if (colour == 0)
      A_old += msc_popcount(b[0] & valid) + 2 * msc_popcount(b[1] & valid) +
               4 * msc_popcount(b[2] & valid);
    ndown += msc_popcount(sn);
  }
  /* colour 0: sum of s_new nb = sum of (2 a_new - z); colour 1: sum of
   * (s_new - s_old) nb = sum over flips of (2 z - 4 a_old) */
  if (colour == 0)
    acc->bonds += 2 * A_old - 4 * A_f + 2 * z * nf - z * nvalid;
  else
    acc->bonds += 2 * z * nf - 4 * A_f;
  acc->mag += nvalid - 2 * ndown;
  acc->words += nw;
  acc->decisions += dec;
  acc->bits += 8 * bytes;
  acc->blocks += w->filled / 16;
}

/* Row streams made ahead (rows of 4-block chunks): rows that read at most
 * MSC_PRE_RUNS / 2 chunks (about as many as the last row read, w->hint)
 * have their first chunks made in batches, MSC_PRE_RUNS chunks of several
 * rows in one Philox call (one row's alone would leave most SIMD counters
 * empty), a batch ahead of the row that reads them (a read right after the
 * wide stores of its bytes would wait for them).  Rows that read more
 * make theirs in row_kernel.  row_batches makes the batches due at row t,
 * row_start gives row t its buffer. */
static void row_batches(const ising_msc *p, msc_row *w, int64_t t, int64_t nrows,
                        ising_rng_key key, uint32_t c2, uint32_t c3) {
  /* a quarter more than the last row read: a refill of a row made in a
   * batch costs a Philox call of its own (3D L = 256 reads 83 +- 5 bytes
   * per row) */
  const int64_t k = (w->hint + w->hint / 4 + 63) / 64;
  if (k < 1 || 2 * k > MSC_PRE_RUNS) {
    w->pre_next = t + 1; /* not this row: ask again at the next */
    return;
  }
  const int64_t per = MSC_PRE_RUNS / k; /* rows per batch, at most MSC_RING / 2 */
  while (w->pre_end <= t + per && w->pre_end < nrows) {
    const int64_t t0 = w->pre_end > t ? w->pre_end : t;
    const int64_t rows = nrows - t0 < per ? nrows - t0 : per;
    int64_t y = 1 + t0 % p->n[1], z = p->zh + t0 / p->n[1]; /* row t0 */
    uint64_t first[MSC_PRE_RUNS];
    uint32_t *out[MSC_PRE_RUNS];
    for (int64_t r = 0; r < rows; r++) {
      const uint64_t base = (uint64_t)global_row(p, y, z) * MSC_ROW_BLOCKS;
      if (++y > p->n[1]) y = 1, z++;
      uint32_t *buf = w->ring + w->ring_words * ((t0 + r) & (MSC_RING - 1));
      for (int64_t i = 0; i < k; i++) {
        first[r * k + i] = base + (uint64_t)i * 4;
        out[r * k + i] = buf + 16 * i;
      }
      w->pre_filled[(t0 + r) & (MSC_RING - 1)] = k * 64;
    }
    ising_rng_fill_runs4(key, first, rows * k, c2, c3, out);
    w->pre_end = t0 + rows;
  }
  /* the next batch is due when a row is per rows before pre_end */
  w->pre_next = w->pre_end < nrows ? w->pre_end - per : INT64_MAX;
}

static inline void row_start(const ising_msc *p, msc_row *w, int64_t t, int64_t nrows,
                             ising_rng_key key, uint32_t c2, uint32_t c3) {
  if (w->nb != 4) { /* long rows: row_kernel makes the stream */
    w->filled = 0;
    return;
  }
  w->rnd = w->ring + w->ring_words * (t & (MSC_RING - 1));
  if (t >= w->pre_next) row_batches(p, w, t, nrows, key, c2, c3);
  w->filled = t < w->pre_end ? w->pre_filled[t & (MSC_RING - 1)] : 0;
}

int ising_msc_half(ising_msc *p, const ising_model *m, ising_stream st, uint64_t sweep, int c,
                   ising_half_sums *sums) {
  msc_table *tab = &p->tab;
  table_init(tab, m);
  msc_row *w = p->w;
  const uint32_t c2 = (uint32_t)sweep, c3 = ising_rng_c3(st.replica, ISING_RNG_MSC, c);
  const int64_t wg = half_len(p), nw = p->nw;
  const int d3 = p->dim == 3;
  msc_sums acc = {0, 0, 0, 0, 0, 0};
  const int64_t zlast = p->zh + p->n[2] - 1;
  const int64_t n1 = p->n[1], nrows = n1 * (zlast - p->zh + 1);
  w->pre_end = w->pre_next = 0;
  int64_t t = 0; /* rows in (z, y) order */
  for (int64_t z = p->zh; z <= zlast; z++)
    for (int64_t y = 1; y <= n1; y++, t++) {
      const int q = row_parity(p, y, z);
      const uint64_t *nbr[4] = {bits_row(p, y - 1, z, 1 - c), bits_row(p, y + 1, z, 1 - c),
                                d3 ? bits_row(p, y, z - 1, 1 - c) : NULL,
                                d3 ? bits_row(p, y, z + 1, 1 - c) : NULL};
      const uint64_t base = (uint64_t)global_row(p, y, z) * MSC_ROW_BLOCKS;
      row_start(p, w, t, nrows, st.key, c2, c3);
      if (d3)
        row_kernel(1, tab, bits_row(p, y, z, c), bits_row(p, y, z, 1 - c), nbr, (c + q + 1) & 1,
                   wg, nw, w, st.key, base, c2, c3, c, &acc);
      else
        row_kernel(0, tab, bits_row(p, y, z, c), bits_row(p, y, z, 1 - c), nbr, (c + q + 1) & 1,
                   wg, nw, w, st.key, base, c2, c3, c, &acc);
    }
  p->stat[0] += acc.words;
  p->stat[1] += acc.decisions;
  p->stat[2] += acc.bits;
  p->stat[3] += acc.blocks;
  if (sums) {
    sums->bonds = acc.bonds;
    sums->mag = acc.mag;
  }
  return ISING_OK;
}

void ising_msc_rng_only(ising_msc *p, ising_stream st, int64_t blocks, int64_t words) {
  const uint32_t c2 = 0, c3 = ising_rng_c3(st.replica, ISING_RNG_MSC, 0);
  msc_row *w = p->w;
  if (blocks <= 0 || words <= 0) return;
  /* the fills the sweeps made (ising_msc_half): per row and half sweep
   * the mean number of chunks, into the row buffer; 16-block chunks in one
   * call per row, 4-block ones of rows of up to MSC_PRE_RUNS / 2 chunks
   * in batches of rows */
  const int64_t calls = words / p->nw > 0 ? words / p->nw : 1;
  const int64_t nb = w->nb, runs = blocks / nb, per = runs / calls > 0 ? runs / calls : 1;
  const int64_t cap = w->ring_words / (4 * nb) - 1; /* chunks of w->rnd */
  if (nb == 16) {
    for (int64_t done = 0; done < runs; done += per)
      ising_rng_fill_chunks16(st.key, (uint64_t)done * 16, runs - done < per ? runs - done : per, c2,
                              c3, w->rnd);
    return;
  }
  const int64_t batch = 2 * per <= MSC_PRE_RUNS ? MSC_PRE_RUNS / per * per : per;
  uint64_t first[MSC_PRE_RUNS];
  uint32_t *out[MSC_PRE_RUNS];
  for (int64_t done = 0; done < runs; done += batch)
    for (int64_t i = 0; i < batch && done + i < runs; i += MSC_PRE_RUNS) {
      int64_t m = batch - i < MSC_PRE_RUNS ? batch - i : MSC_PRE_RUNS;
      if (m > runs - done - i) m = runs - done - i;
      for (int64_t r = 0; r < m; r++) {
        first[r] = (uint64_t)(done + i + r) * 4;
        out[r] = w->rnd + 16 * ((i + r) % cap);
      }
      ising_rng_fill_runs4(st.key, first, m, c2, c3, out);
    }
}

/* ------------------------------------------------------------ reference */

/* A row's random stream one byte at a time (msc_impl.h, written out): with
 * nb blocks per chunk, byte n is in chunk n / (16 nb), output word
 * o = (n % 16 nb) / 4 nb of its block i = (n % 4 nb) / 4, byte n % 4 of
 * that word from the least significant. */
typedef struct byte_stream {
  int64_t nb; /* msc_run_blocks */
  ising_rng_key key;
  uint64_t row;
  uint32_t c2, c3;
  int64_t n;
} byte_stream;

static unsigned next_byte(byte_stream *b) {
  const int64_t nb = b->nb, chunk = b->n / (16 * nb), o = (b->n % (16 * nb)) / (4 * nb),
                i = (b->n % (4 * nb)) / 4, byte = b->n % 4;
  uint32_t x[4];
  ising_rng_block(b->key, b->row * MSC_ROW_BLOCKS + (uint64_t)(chunk * nb + i), b->c2, b->c3, x);
  b->n++;
  return x[o] >> (8 * byte) & 0xFF;
}

int ising_msc_half_reference(ising_lattice *l, const ising_model *m, ising_stream st,
                             uint64_t sweep, int c, ising_half_sums *sums) {
  ISING_CHECK(l->geom.procs[0] == 1, ISING_ERR_INTERNAL, "multi-spin coding needs whole x rows");
  int64_t n[3], s0[3], bonds = 0, mag = 0;
  ising_lattice_extent(l, n, s0);
  const int64_t wg = l->L[0] / 2;
  int *spin = malloc((size_t)wg * sizeof *spin), *nbs = malloc((size_t)wg * sizeof *nbs);
  int *open = malloc((size_t)wg * sizeof *open), *move = malloc((size_t)wg * sizeof *move);
  uint32_t *thr = malloc((size_t)wg * sizeof *thr);
  if (!spin || !nbs || !open || !move || !thr) {
    free(spin), free(nbs), free(open), free(move), free(thr);
    return ISING_ERR(ISING_ERR_MEM, "out of memory (msc reference)");
  }
  for (int64_t z = 0; z < n[2]; z++)
    for (int64_t y = 0; y < n[1]; y++) {
      int64_t gy = s0[1] + y, gz = l->dim == 3 ? s0[2] + z : 0;
      int p = (int)((c + gy + gz) & 1); /* colour-c sites of the row: gx = 2 j + p */
      for (int64_t j = 0; j < wg; j++) {
        int64_t x = 2 * j + p;
        int sp = ising_lattice_get(l, x, y, z);
        int nb = ising_lattice_get(l, x - 1, y, z) + ising_lattice_get(l, x + 1, y, z) +
                 ising_lattice_get(l, x, y - 1, z) + ising_lattice_get(l, x, y + 1, z);
        if (l->dim == 3) nb += ising_lattice_get(l, x, y, z - 1) + ising_lattice_get(l, x, y, z + 1);
        spin[j] = sp;
        nbs[j] = nb;
        thr[j] = m->thr[ising_model_index(m, sp, nb)];
        move[j] = thr[j] == UINT32_MAX; /* p = 1 */
        open[j] = !move[j];
      }
      /* byte q of u (most significant first) for every undecided site of the
       * row in order (its words in order, lanes in order), q = 0..3; the
       * first byte that differs from t's decides */
      byte_stream bs = {msc_run_blocks(l->L[0]), st.key, (uint64_t)(gy + l->L[1] * gz), (uint32_t)sweep,
                        ising_rng_c3(st.replica, ISING_RNG_MSC, c), 0};
      for (int qb = 0; qb < 4; qb++)
        for (int64_t j = 0; j < wg; j++) {
          if (!open[j]) continue;
          unsigned ub = next_byte(&bs), tb = thr[j] >> (24 - 8 * qb) & 0xFF;
          if (ub != tb) {
            open[j] = 0;
            move[j] = ub < tb;
          }
        }
      for (int64_t j = 0; j < wg; j++) {
        if (open[j]) move[j] = 1; /* u == t */
        int ns = move[j] ? -spin[j] : spin[j];
        ising_lattice_set(l, 2 * j + p, y, z, ns);
        bonds += (c == 0 ? ns : ns - spin[j]) * nbs[j];
        mag += ns;
      }
    }
  free(spin), free(nbs), free(open), free(move), free(thr);
  if (sums) {
    sums->bonds = bonds;
    sums->mag = mag;
  }
  return ISING_OK;
}

int ising_msc_deck_check(const ising_config *cfg, int64_t row_max, char *why, size_t size) {
  if (cfg->algorithm != ISING_ALG_METROPOLIS)
    return snprintf(why, size, "the multi-spin-coding kernel does Metropolis only; set [montecarlo] "
                    "algorithm = metropolis or kernel = fast"), 0;
  if (cfg->L[0] > row_max)
    return snprintf(why, size, "this kernel takes x rows of at most %lld sites (one random stream "
                    "per row); L = %lld, use kernel = fast", (long long)row_max,
                    (long long)cfg->L[0]), 0;
  if (!(cfg->J > 0))
    return snprintf(why, size, "the multi-spin-coding kernel needs a ferromagnet, [model] J > 0; "
                    "use kernel = fast for J <= 0"), 0;
  return 1;
}
