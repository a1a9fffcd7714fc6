/*
 * sweep_sw.c -- the Swendsen-Wang cluster update as an update backend
 * (sweeper.h): `[montecarlo] algorithm = swendsen-wang`, any decomposition,
 * any sign of J, any field H.
 *
 * One sweep of a replica at temperature T:
 * 1. Bonds.  The bond from global site g to its +e_a neighbour is active
 *    iff both ends satisfy it (J s_i s_j > 0) and its uniform (Philox
 *    block g / 4, word g % 4, counter c2 = sweep, purpose 7 + a: rng.h) is
 *    <= bond_thr (model.h): probability 1 - exp(-2 beta |J|).  A bond
 *    between two ranks is decided by both (the same numbers).
 * 2. Local labelling (see "Labels"): a row's bonds as bit masks (the
 *    uniforms of whole Philox blocks against bond_thr, the satisfied bonds
 *    by XOR of the rows' spin bits); the x runs first, then union-find
 *    over the runs' first sites (Rem's union with splicing), parents
 *    always at smaller indices; then one pass over the runs in natural
 *    order numbers the local components.  A component's label is its root,
 *    its first site in that order, the smallest global index it has.
 * 3. Merge across ranks (replica groups of more than one rank): every
 *    active bond between two ranks is reported by both ends as (bond,
 *    label of its end's component), with the size and magnetisation of
 *    every component that has such a bond.  One all-gather over the group
 *    (log P rounds in MPI's tree algorithms) gives every rank this
 *    contracted boundary graph; each resolves it with the same union-find
 *    (pairs matched by bond, sets rooted at their smallest label), so a
 *    cluster's label is the smallest global index of its sites on any
 *    layout, and its size and magnetisation are totals.  No relaxation
 *    sweeps: the cost is one collective whatever the clusters' extent.
 * 4. Flips: a cluster with magnetisation M keeps its spins iff its uniform
 *    (Philox block `label`, word 0, purpose 10) is <= the heat-bath
 *    threshold of model.h (1/2 at H = 0), else all its spins flip.
 * Hence a run is the same bits on any rank count and layout.  Memory: the
 * int8 spins, one int32 per site (union-find), 4 bytes per local cluster
 * (8 for J < 0), 10 bits per site of a slab (the masks) and the cluster
 * merge's lists.
 *
 * Cluster statistics per sweep (sweeper.h: cluster_stats): sum over
 * clusters of M_C^2 / N (its mean is N <m^2> at H = 0: the improved
 * estimator of chi'), the mean cluster size N / clusters, the largest
 * cluster's share of the sites, and the number of clusters.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_impl.h"
#include "ising/error.h"
#include "ising/layout.h"
#include "ising/observe.h"
#include "ising/sweeper.h"

#ifdef __AVX512F__
#include <immintrin.h>
#endif

/* The phases `ising bench` reports. */
enum { PH_BONDS, PH_LABEL, PH_MERGE, PH_FLIP, N_PH };
static const char *const ph_names[N_PH] = {"bond drawing", "local labelling",
                                           "cross-rank merge", "flips and sums"};

/* A component's state bits: it flips; it has bonds to other ranks. */
enum { C_FLIP = 1, C_BOUNDARY = 2 };

typedef struct cross_edge {
  int64_t bond; /* g dim + axis */
  int64_t site; /* local natural index of this rank's end */
} cross_edge;

/* A component with a bond to another rank. */
typedef struct boundary {
  int64_t k;              /* local component */
  int64_t own;            /* its own label (smallest global index of its sites here) */
  int64_t label;          /* the cluster's label: the smallest over its components */
  int64_t tsize, tmag;    /* the cluster's totals (merge_totals) */
} boundary;

typedef struct sw_state {
  ising_sweeper_replicas r;
  int dim, ferro;
  int64_t N;
  int64_t n[3], nloc;    /* the block, local natural index i + n0 (y + n1 z) */
  int64_t slab;          /* sites of a slab: a row (2D) or a plane (3D) */
  int64_t nslab;         /* slabs: n1 (2D) or n2 (3D) */
  int64_t rows;          /* rows of a slab: 1 (2D) or n1 (3D) */
  int64_t nw;            /* 64-bit words of a row's bit masks */
  int split[3];          /* axis divided between ranks of the group */
  int32_t *parent;       /* [nloc]: see "Labels" */
  int8_t *buf;           /* one natural-order row (portable build) */
  /* bit masks of a slab, rows x nw words each (bit i of a row: site i) */
  uint64_t *sb[3];       /* the spin is -1: current, previous, first slab */
  uint64_t *jm[3];       /* the site's bond from its left neighbour is active */
  uint64_t *rx, *ry;     /* the uniform of the site's x (y) bond is <= bond_thr */
  uint64_t *ro[2];       /* the same for the outer axis: current, previous slab */
  uint64_t *gbits;       /* [nw + 2] uniforms' bits in Philox block order */
  uint64_t *fm;          /* [nw] flip mask of a row */
  int32_t *starts;       /* [n0 + 16] a row's run starts */
  int32_t *krun;         /* [n0] their components */
  int32_t *dk;           /* [n0 + 16] clusters to decide: component, */
  uint64_t *dl;          /* label, */
  int64_t *dm;           /* magnetisation; */
  uint32_t *dw;          /* their uniforms */
  /* local components of the current sweep, numbered in natural order */
  int64_t ncomp, comp_cap;
  int32_t *comp;         /* 4 M + (C_FLIP | C_BOUNDARY): M the magnetisation of the
                            spins before the flip (|M| < 2^29) */
  int32_t *size;         /* J < 0 only (J > 0: |M|) */
  cross_edge *edges;
  int64_t nedge, edge_cap;
  boundary *bnd;
  int64_t nbnd, bnd_cap;
  uint32_t *rb;          /* Philox blocks of a row, 4 planes x rb_stride */
  int64_t rb_stride;
  double *stats;         /* [ISING_CLUSTER_NSTATS n] */
  double ph[N_PH];       /* seconds per phase */
  int fresh;             /* the halos are current (set by a sweep, cleared by load) */
} sw_state;

static void sw_destroy(void *p) {
  sw_state *s = p;
  if (!s) return;
  ising_sweeper_replicas_free(&s->r);
  free(s->parent);
  free(s->buf);
  free(s->sb[0]); /* all the bit masks */
  free(s->starts);
  free(s->krun);
  free(s->dk);
  free(s->dl);
  free(s->dm);
  free(s->dw);
  free(s->comp);
  free(s->size);
  free(s->edges);
  free(s->bnd);
  free(s->rb);
  free(s->stats);
  free(s);
}

/* Words of the bit masks: ten slabs and two rows. */
static int64_t mask_words(const sw_state *s) { return 10 * s->rows * s->nw + 2 * s->nw + 2; }

static int sw_create(const ising_sweeper_init *in, void **out) {
  *out = NULL;
  ISING_CALL(ising_sweeper_uniform_only(in));
  sw_state *s = calloc(1, sizeof *s);
  ISING_CHECK(s, ISING_ERR_MEM, "out of memory");
  int rc = ising_sweeper_replicas_init(&s->r, in);
  if (rc) {
    free(s);
    return rc;
  }
  s->dim = in->cfg->dim;
  s->ferro = in->cfg->J > 0;
  s->N = ising_config_sites(in->cfg);
  for (int a = 0; a < s->dim; a++) s->split[a] = in->lay->procs[a] > 1;
  s->n[0] = s->n[1] = s->n[2] = 1;
  if (in->n_local > 0) ising_lattice_extent(in->lats[0], s->n, NULL);
  if (s->dim == 2) s->n[2] = 1;
  s->nloc = s->n[0] * s->n[1] * s->n[2];
  s->slab = s->dim == 3 ? s->n[0] * s->n[1] : s->n[0];
  s->nslab = s->dim == 3 ? s->n[2] : s->n[1];
  s->rows = s->dim == 3 ? s->n[1] : 1;
  s->nw = (s->n[0] + 63) / 64;
  s->rb_stride = (s->n[0] / 4 + 2 + 15) / 16 * 16;
  rc = s->nloc < ((int64_t)1 << 29)
           ? ISING_OK
           : ISING_ERR(ISING_ERR_INPUT, "swendsen-wang: a rank's block of %lld sites is more than "
                       "2^29; use more ranks", (long long)s->nloc);
  if (!rc) {
    const size_t n0 = (size_t)s->n[0], sw = (size_t)(s->rows * s->nw);
    s->parent = malloc((size_t)s->nloc * sizeof *s->parent);
    s->buf = malloc((size_t)s->n[0]);
    uint64_t *m = calloc((size_t)mask_words(s), sizeof *m);
    for (int b = 0; b < 3; b++) {
      s->sb[b] = m ? m + b * sw : NULL;
      s->jm[b] = m ? m + (3 + b) * sw : NULL;
    }
    s->rx = m ? m + 6 * sw : NULL;
    s->ry = m ? m + 7 * sw : NULL;
    s->ro[0] = m ? m + 8 * sw : NULL;
    s->ro[1] = m ? m + 9 * sw : NULL;
    s->gbits = m ? m + 10 * sw : NULL;
    s->fm = m ? m + 10 * sw + (size_t)s->nw + 2 : NULL;
    s->starts = malloc((n0 + 16) * sizeof *s->starts);
    s->krun = malloc(n0 * sizeof *s->krun);
    s->dk = malloc((n0 + 16) * sizeof *s->dk);
    s->dl = calloc(n0 + 16, sizeof *s->dl);
    s->dm = calloc(n0 + 16, sizeof *s->dm);
    s->dw = malloc((n0 + 16) * sizeof *s->dw);
    s->rb = calloc((size_t)(4 * s->rb_stride), sizeof *s->rb);
    s->stats = calloc((size_t)ISING_CLUSTER_NSTATS * (size_t)(in->n_local > 0 ? in->n_local : 1),
                      sizeof *s->stats);
    if (!s->parent || !s->buf || !m || !s->starts || !s->krun || !s->dk || !s->dl || !s->dm || !s->dw ||
        !s->rb || !s->stats)
      rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
  }
  if (rc) {
    sw_destroy(s);
    return rc;
  }
  *out = s;
  return ISING_OK;
}

#define GROW(arr, n, cap, first, what)                                         \
  do {                                                                         \
    if ((n) == (cap)) {                                                        \
      int64_t c_ = (cap) ? 2 * (cap) : (first);                                \
      void *q_ = realloc((arr), (size_t)c_ * sizeof *(arr));                   \
      ISING_CHECK(q_, ISING_ERR_MEM, "out of memory (%s)", what);              \
      (arr) = q_;                                                              \
      (cap) = c_;                                                              \
    }                                                                          \
  } while (0)

/* The cluster arrays with room for cap clusters. */
static int resize_comps(sw_state *s, int64_t cap) {
  int32_t *m = realloc(s->comp, (size_t)cap * sizeof *m);
  ISING_CHECK(m, ISING_ERR_MEM, "out of memory (clusters)");
  s->comp = m;
  if (!s->ferro) {
    int32_t *z = realloc(s->size, (size_t)cap * sizeof *z);
    ISING_CHECK(z, ISING_ERR_MEM, "out of memory (clusters)");
    s->size = z;
  }
  s->comp_cap = cap;
  return ISING_OK;
}

static int new_comp(sw_state *s) {
  if (s->ncomp == s->comp_cap) ISING_CALL(resize_comps(s, s->comp_cap ? 2 * s->comp_cap : 4096));
  s->comp[s->ncomp] = 0;
  if (!s->ferro) s->size[s->ncomp] = 0;
  s->ncomp++;
  return ISING_OK;
}

/* Give back cluster memory that the last sweep left far unused (the first
 * sweeps from a hot start have many more clusters than equilibrium). */
static int shrink_comps(sw_state *s) {
  const int64_t want = s->ncomp + s->ncomp / 4 + 4096;
  return s->comp_cap > 2 * want ? resize_comps(s, want) : ISING_OK;
}

static int add_edge(sw_state *s, int64_t bond, int64_t site) {
  GROW(s->edges, s->nedge, s->edge_cap, 1024, "cluster edges");
  s->edges[s->nedge].bond = bond;
  s->edges[s->nedge].site = site;
  s->nedge++;
  return ISING_OK;
}

/* Global index of the local natural index x. */
static int64_t global_of(const ising_lattice *l, const int64_t n[3], int64_t x) {
  const int64_t i = x % n[0], y = (x / n[0]) % n[1], z = x / (n[0] * n[1]);
  return cl_global(l, i + 1, y + 1, z + lat_z0(l));
}

/* Global index of the first site of row y (0-based) of slab o. */
static int64_t row_global(const sw_state *s, const ising_lattice *l, int64_t o, int64_t y) {
  return s->dim == 3 ? cl_global(l, 1, y + 1, o + lat_z0(l)) : cl_global(l, 1, o + 1, lat_z0(l));
}

/* The bits i < n0 of a row's last word. */
static inline uint64_t tail_mask(int64_t n0) {
  return (n0 & 63) ? ((uint64_t)1 << (n0 & 63)) - 1 : ~(uint64_t)0;
}

/* Bit j of the 16-bit m at bit 4 j. */
static inline uint64_t spread4(uint64_t m) {
  m = (m | m << 24) & 0x000000FF000000FFull;
  m = (m | m << 12) & 0x000F000F000F000Full;
  m = (m | m << 6) & 0x0303030303030303ull;
  return (m | m << 3) & 0x1111111111111111ull;
}

/* The bonds of axis a from the n0 sites of the row from global index g0
 * whose uniform is <= thr: bit i of out[nw] for site g0 + i. */
static void row_rand(sw_state *s, int64_t g0, int a, uint32_t c2, uint32_t rep, uint32_t thr,
                     uint64_t *out) {
  const int64_t n0 = s->n[0], st = s->rb_stride, nw = s->nw;
  const uint64_t first = (uint64_t)g0 >> 2;
  const int sh = (int)(g0 & 3);
  const int64_t count = (int64_t)(((uint64_t)(g0 + n0 - 1) >> 2) - first + 1);
  ising_rng_fill_blocks(s->r.key, first, count, c2, ising_rng_c3(rep, CLUSTER_RNG_BOND + a, 0),
                        s->rb, st);
  uint64_t *gb = s->gbits; /* bit 4 j + o: word o of group first + j */
  const int64_t ng = (count + 15) / 16;
  for (int64_t c = 0; c < ng; c++) {
    uint64_t w = 0;
    for (int o = 0; o < 4; o++) {
      const uint32_t *r = s->rb + o * st + 16 * c;
      uint32_t m = 0;
      for (int j = 0; j < 16; j++) m |= (uint32_t)(r[j] <= thr) << j;
      w |= spread4(m) << o;
    }
    gb[c] = w;
  }
  gb[ng] = 0;
  for (int64_t w = 0; w < nw; w++)
    out[w] = sh ? (gb[w] >> sh) | (gb[w + 1] << (64 - sh)) : gb[w];
  out[nw - 1] &= tail_mask(n0);
}

/* The bond word of site g, axis a, alone. */
static uint32_t bond_word(const sw_state *s, int64_t g, int a, uint32_t c2, uint32_t rep) {
  return cl_word(s->r.key, (uint64_t)g >> 2, (int)(g & 3), c2, ising_rng_c3(rep, CLUSTER_RNG_BOND + a, 0));
}

/* Whether the bond between spins a and b with uniform u is active. */
static inline int active(int8_t a, int8_t b, int ferro, uint32_t u, uint32_t thr) {
  return ((a == b) == ferro) && u <= thr;
}

/* Row y (0-based) of slab o: its spins are bits of natural order (bit i
 * of word i / 64: site i is -1), and flips by such a mask.  With AVX-512
 * and BMI2 straight from the two colours' half rows (lattice_impl.h: the
 * even sites of the row in one, the odd in the other, which starts with a
 * halo site); else through a natural-order copy of the row. */
#if defined(__AVX512BW__) && defined(__BMI2__)
#define EVEN_BITS 0x5555555555555555ull
static inline void row_halves(const sw_state *s, const ising_lattice *l, int64_t o, int64_t y,
                              int8_t **he, int8_t **ho) {
  const int64_t yy = s->dim == 3 ? y + 1 : o + 1, zz = s->dim == 3 ? o + lat_z0(l) : lat_z0(l);
  const int q = lat_row_parity(l, yy, zz);
  *he = lat_half(l, yy, zz, (q + 1) & 1); /* i = x + 1 odd */
  *ho = lat_half(l, yy, zz, q & 1) + 1;
}
/* The half sites (even, odd) of word w that are in the row, as masks. */
static inline __mmask32 half_mask(int64_t n) { return n >= 32 ? ~(__mmask32)0 : ((__mmask32)1 << n) - 1; }

static void row_spin_bits(sw_state *s, const ising_lattice *l, int64_t o, int64_t y, uint64_t *out) {
  int8_t *he, *ho;
  row_halves(s, l, o, y, &he, &ho);
  const int64_t n0 = s->n[0];
  for (int64_t w = 0; 64 * w < n0; w++) {
    const __mmask32 ke = half_mask((n0 - 64 * w + 1) / 2), ko = half_mask((n0 - 64 * w) / 2);
    const uint64_t me = _mm256_movepi8_mask(_mm256_maskz_loadu_epi8(ke, he + 32 * w));
    const uint64_t mo = _mm256_movepi8_mask(_mm256_maskz_loadu_epi8(ko, ho + 32 * w));
    out[w] = _pdep_u64(me, EVEN_BITS) | _pdep_u64(mo, ~EVEN_BITS);
  }
}

static void row_flip(sw_state *s, ising_lattice *l, int64_t o, int64_t y, const uint64_t *fm) {
  int8_t *he, *ho;
  row_halves(s, l, o, y, &he, &ho);
  const int64_t n0 = s->n[0];
  const __m256i zero = _mm256_setzero_si256();
  for (int64_t w = 0; 64 * w < n0; w++) {
    const __mmask32 ke = half_mask((n0 - 64 * w + 1) / 2) & (__mmask32)_pext_u64(fm[w], EVEN_BITS);
    const __mmask32 ko = half_mask((n0 - 64 * w) / 2) & (__mmask32)_pext_u64(fm[w], ~EVEN_BITS);
    const __m256i ve = _mm256_maskz_loadu_epi8(ke, he + 32 * w);
    const __m256i vo = _mm256_maskz_loadu_epi8(ko, ho + 32 * w);
    _mm256_mask_storeu_epi8(he + 32 * w, ke, _mm256_sub_epi8(zero, ve));
    _mm256_mask_storeu_epi8(ho + 32 * w, ko, _mm256_sub_epi8(zero, vo));
  }
}
#else
/* Row y of plane o (2D: row o) in natural order into s->buf. */
static int8_t *row_pack(sw_state *s, const ising_lattice *l, int64_t o, int64_t y) {
  if (s->dim == 3)
    ising_lattice_pack_rows(l, o, y, 1, s->buf);
  else
    ising_lattice_pack_rows(l, 0, o, 1, s->buf);
  return s->buf;
}

static void row_spin_bits(sw_state *s, const ising_lattice *l, int64_t o, int64_t y, uint64_t *out) {
  const int64_t n0 = s->n[0];
  const int8_t *b = row_pack(s, l, o, y);
  for (int64_t w = 0; 64 * w < n0; w++) {
    const int64_t n = n0 - 64 * w < 64 ? n0 - 64 * w : 64;
    uint64_t m = 0;
    for (int64_t i = 0; i < n; i++) m |= (uint64_t)(b[64 * w + i] < 0) << i;
    out[w] = m;
  }
}

static void row_flip(sw_state *s, ising_lattice *l, int64_t o, int64_t y, const uint64_t *fm) {
  const int64_t n0 = s->n[0];
  int8_t *b = row_pack(s, l, o, y);
  for (int64_t i = 0; i < n0; i++) {
    const int8_t f = (int8_t)((fm[i >> 6] >> (i & 63)) & 1);
    b[i] = (int8_t)((b[i] ^ -f) + f); /* -b[i] when it flips */
  }
  if (s->dim == 3)
    ising_lattice_unpack_rows(l, o, y, 1, b);
  else
    ising_lattice_unpack_rows(l, 0, o, 1, b);
}
#endif

/*
 * Labels.  parent[x] of the local natural index x, after the unions:
 * - a site whose bond from its left neighbour is active (not the first of
 *   its x run) holds NOT_FIRST | the run's first site, unchanged until the
 *   next sweep;
 * - the first site of a run holds itself (a root) or another first site
 *   of its cluster with a smaller index (parents only point back: the
 *   unions and finds keep it so), hence every root is its cluster's
 *   smallest index, the first site of the cluster in natural order.
 * The numbering pass visits the first sites in natural order, so that a
 * first site's parent is resolved before it (no find loops): a root gets
 * -1 - its component (a negative entry, numbered in that order), another
 * first site its root.  Indices are < 2^29, so bit 30 is free for
 * NOT_FIRST and a negative entry is never read as one.
 */
#define NOT_FIRST ((int32_t)1 << 30)

static inline int is_first(int32_t v) { return ((uint32_t)v >> 30) != 1; }

/* First site of x's run (a select, not a branch: taken half the time). */
static inline int32_t first_of(const int32_t *p, int32_t x) {
  const int32_t v = p[x], nf = -(int32_t)!is_first(v);
  return x ^ ((x ^ (v ^ NOT_FIRST)) & nf);
}

/* Root of x's cluster (a numbered root included; path halving over first
 * sites). */
static inline int32_t sw_find(int32_t *p, int32_t x) {
  x = first_of(p, x);
  int32_t v = p[x];
  while (v >= 0 && v != x) {
    const int32_t w = p[v];
    if (w < 0 || w == v) return v;
    p[x] = w;
    x = w;
    v = p[x];
  }
  return x;
}

/* Join the clusters of a and b (before numbering): Rem's union with
 * splicing over first sites, which keeps every parent below its child (a
 * root is its set's smallest index) and stops at the first common
 * ancestor rather than at the roots. */
static inline void sw_union(int32_t *p, int32_t a, int32_t b) {
  a = first_of(p, a);
  b = first_of(p, b);
  for (;;) {
    const int32_t pa = p[a], pb = p[b];
    if (pa == pb) return;
    if (pa > pb) {
      p[a] = pb;
      if (a == pa) return;
      a = pa;
    } else {
      p[b] = pa;
      if (b == pb) return;
      b = pb;
    }
  }
}

/* A row's x runs (local indices from xr; sb its spin bits, rx its x
 * uniforms' bits): jm, and the row's parents as in "Labels". */
static void row_runs(sw_state *s, int64_t xr, const uint64_t *sb, const uint64_t *rx, uint64_t *jm) {
  const int64_t n0 = s->n[0], nw = s->nw;
  int32_t *p = s->parent;
  uint64_t carry = 0;
  for (int64_t w = 0; w < nw; w++) { /* bit i: the bond i -> i + 1 (i < n0 - 1) */
    const uint64_t next = (sb[w] >> 1) | (w + 1 < nw ? sb[w + 1] << 63 : 0);
    const uint64_t d = sb[w] ^ next;
    uint64_t xm = (s->ferro ? ~d : d) & rx[w];
    if (w == nw - 1) xm &= ((uint64_t)1 << (n0 - 1 - 64 * w)) - 1;
    jm[w] = (xm << 1) | carry;
    carry = xm >> 63;
  }
#ifdef __AVX512F__
  /* sixteen sites at a time: a lane's run start is the largest start at
   * or before it (a prefix maximum in four shifts) or the carried one */
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i zero = _mm512_setzero_si512(), nf = _mm512_set1_epi32(NOT_FIRST);
  __m512i carry16 = _mm512_set1_epi32((int32_t)xr);
  for (int64_t i0 = 0; i0 < n0; i0 += 16) {
    const __mmask16 join = (__mmask16)(jm[i0 >> 6] >> (i0 & 63));
    const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(xr + i0)), iota);
    __m512i v = _mm512_mask_mov_epi32(carry16, (__mmask16)~join, idx);
    v = _mm512_max_epi32(v, _mm512_alignr_epi32(v, zero, 15));
    v = _mm512_max_epi32(v, _mm512_alignr_epi32(v, zero, 14));
    v = _mm512_max_epi32(v, _mm512_alignr_epi32(v, zero, 12));
    v = _mm512_max_epi32(v, _mm512_alignr_epi32(v, zero, 8));
    const __mmask16 keep = n0 - i0 >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n0 - i0)) - 1);
    _mm512_mask_storeu_epi32(p + xr + i0, keep, _mm512_mask_or_epi32(v, join, v, nf));
    carry16 = _mm512_permutexvar_epi32(_mm512_set1_epi32(15), v);
  }
#else
  int32_t first = (int32_t)xr;
  for (int64_t i = 0; i < n0; i++) {
    const int32_t x = (int32_t)(xr + i);
    const int32_t keep = -(int32_t)((jm[i >> 6] >> (i & 63)) & 1); /* all ones: joined */
    first ^= (first ^ x) & ~keep;
    p[x] = x ^ ((x ^ (first | NOT_FIRST)) & keep);
  }
#endif
}

/* Unions over the active bonds from the row `lo` (local indices from xl;
 * spin bits sbl, runs jml, its uniforms' bits rl for this axis) to the
 * row `hi` (from xh): of neighbouring bonds that join the same two runs
 * only the first. */
static void join_rows(sw_state *s, const uint64_t *sbl, const uint64_t *jml, const uint64_t *rl,
                      int64_t xl, const uint64_t *sbh, const uint64_t *jmh, int64_t xh) {
  int32_t *p = s->parent;
  uint64_t carry = 0;
  for (int64_t w = 0; w < s->nw; w++) {
    const uint64_t d = sbl[w] ^ sbh[w];
    const uint64_t vm = (s->ferro ? ~d : d) & rl[w];
    uint64_t need = vm & ~(((vm << 1) | carry) & jml[w] & jmh[w]);
    carry = vm >> 63;
    while (need) {
      const int64_t i = 64 * w + __builtin_ctzll(need);
      need &= need - 1;
      sw_union(p, (int32_t)(xl + i), (int32_t)(xh + i));
    }
  }
}

/* Step 1 and the unions of step 2 for one replica, slab by slab: the
 * uniforms' bits of the slab's rows (bond drawing), then per row its x
 * runs and the unions with the row below (3D: in the plane) and the slab
 * below; the periodic bonds of undivided axes; the bonds to other ranks
 * recorded as edges by both ends. */
static int bonds_and_unions(sw_state *s, const ising_lattice *l, const ising_model *m,
                            uint32_t c2, uint32_t rep) {
  const int dim = s->dim, ferro = s->ferro, outer = dim == 3 ? 2 : 1;
  const uint32_t thr = m->bond_thr;
  const int64_t n0 = s->n[0], n1 = s->n[1], nw = s->nw, rows = s->rows, z0 = lat_z0(l);
  int32_t *p = s->parent;
  s->nedge = 0;
  uint64_t *sb = s->sb[0], *sbp = s->sb[1], *jm = s->jm[0], *jmp = s->jm[1];
  uint64_t *ro = s->ro[0], *rop = s->ro[1];
  for (int64_t o = 0; o < s->nslab; o++) {
    const double t0 = ising_timer_now();
    for (int64_t y = 0; y < rows; y++) {
      const int64_t g0 = row_global(s, l, o, y);
      row_rand(s, g0, 0, c2, rep, thr, s->rx + y * nw);
      if (dim == 3 && (y < n1 - 1 || !s->split[1])) row_rand(s, g0, 1, c2, rep, thr, s->ry + y * nw);
      if (o < s->nslab - 1 || !s->split[outer]) row_rand(s, g0, outer, c2, rep, thr, ro + y * nw);
    }
    s->ph[PH_BONDS] += ising_timer_now() - t0;
    for (int64_t y = 0; y < rows; y++) {
      const int64_t xr = o * s->slab + y * n0, yw = y * nw;
      row_spin_bits(s, l, o, y, sb + yw);
      row_runs(s, xr, sb + yw, s->rx + yw, jm + yw);
      if (!s->split[0]) { /* periodic x: the bond from the last site to the first */
        const int last = (int)((sb[yw + (n0 - 1) / 64] >> ((n0 - 1) & 63)) & 1);
        const int same = last == (int)(sb[yw] & 1);
        if (same == ferro && ((s->rx[yw + (n0 - 1) / 64] >> ((n0 - 1) & 63)) & 1))
          sw_union(p, (int32_t)(xr + n0 - 1), (int32_t)xr);
      }
      if (dim == 3 && y > 0) /* y: from the row below in the plane */
        join_rows(s, sb + yw - nw, jm + yw - nw, s->ry + yw - nw, xr - n0, sb + yw, jm + yw, xr);
      if (dim == 3 && y == n1 - 1 && !s->split[1]) /* periodic y within the plane */
        join_rows(s, sb + yw, jm + yw, s->ry + yw, xr, sb, jm, o * s->slab);
      if (o > 0) /* the outer axis: from the slab below */
        join_rows(s, sbp + yw, jmp + yw, rop + yw, xr - s->slab, sb + yw, jm + yw, xr);
    }
    if (o == 0 && !s->split[outer]) {
      memcpy(s->sb[2], sb, (size_t)(rows * nw) * sizeof *sb);
      memcpy(s->jm[2], jm, (size_t)(rows * nw) * sizeof *jm);
    }
    uint64_t *t;
    t = sb, sb = sbp, sbp = t;
    t = jm, jm = jmp, jmp = t;
    t = ro, ro = rop, rop = t;
  }
  /* periodic along the outer axis: the last slab (now "previous") to the first */
  if (!s->split[outer]) {
    const int64_t xl = (s->nslab - 1) * s->slab;
    for (int64_t y = 0; y < rows; y++)
      join_rows(s, sbp + y * nw, jmp + y * nw, rop + y * nw, xl + y * n0, s->sb[2] + y * nw,
                s->jm[2] + y * nw, y * n0);
  }
  /* bonds to other ranks: from the last layers to the + halos, and from
   * the - halos into the first layers */
  for (int a = 0; a < dim; a++) {
    if (!s->split[a]) continue;
    for (int side = 0; side < 2; side++) {
      int64_t lo[3] = {0, 0, 0}, hi[3] = {n0, n1, s->n[2]}, c[3];
      if (side) lo[a] = hi[a] - 1; /* the last layer */
      else hi[a] = 1;              /* the first layer */
      for (c[2] = lo[2]; c[2] < hi[2]; c[2]++)
        for (c[1] = lo[1]; c[1] < hi[1]; c[1]++)
          for (c[0] = lo[0]; c[0] < hi[0]; c[0]++) {
            int64_t b[3] = {c[0], c[1], c[2]};
            b[a] += side ? 1 : -1; /* in a halo */
            const int64_t xs = cl_index(l, c[0] + 1, c[1] + 1, c[2] + z0);
            const int64_t xb = cl_index(l, b[0] + 1, b[1] + 1, b[2] + z0);
            const int64_t gs = cl_global(l, c[0] + 1, c[1] + 1, c[2] + z0);
            const int64_t gb = cl_global(l, b[0] + 1, b[1] + 1, b[2] + z0);
            const int64_t gl = side ? gs : gb; /* the bond's lower end */
            double t0 = ising_timer_now();
            const uint32_t w = bond_word(s, gl, a, c2, rep);
            s->ph[PH_BONDS] += ising_timer_now() - t0;
            if (active(l->spins[xs], l->spins[xb], ferro, w, thr))
              ISING_CALL(add_edge(s, gl * dim + a, c[0] + n0 * (c[1] + n1 * c[2])));
          }
    }
  }
  return ISING_OK;
}

static inline int64_t comp_mag(const sw_state *s, int64_t k) {
  return (s->comp[k] - (s->comp[k] & 3)) / 4;
}
static inline int comp_state(const sw_state *s, int64_t k) { return s->comp[k] & 3; }
static inline void set_state(sw_state *s, int64_t k, int st) { s->comp[k] = (s->comp[k] & ~3) | st; }
static inline int64_t comp_size(const sw_state *s, int64_t k) {
  const int64_t m = comp_mag(s, k);
  return s->ferro ? (m < 0 ? -m : m) : s->size[k];
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}
static int cmp_pair(const void *a, const void *b) { /* by [0], then [1] */
  const int64_t *x = a, *y = b;
  if (x[0] != y[0]) return (x[0] > y[0]) - (x[0] < y[0]);
  return (x[1] > y[1]) - (x[1] < y[1]);
}

/* Index of `v` in the sorted v[stride i] (i < n), or -1. */
static int64_t find_strided(const int64_t *v, int64_t n, int stride, int64_t x) {
  int64_t lo = 0, hi = n - 1;
  while (lo <= hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (v[stride * mid] == x) return mid;
    if (v[stride * mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
static int64_t find_sorted(const int64_t *v, int64_t n, int64_t x) { return find_strided(v, n, 1, x); }
static int64_t find_sorted3(const int64_t *v, int64_t n, int64_t x) { return find_strided(v, n, 3, x); }

static int64_t dense_find(int64_t *p, int64_t x) {
  while (p[x] != x) {
    p[x] = p[p[x]];
    x = p[x];
  }
  return x;
}

/* All ranks' failures agreed before the next collective. */
static int agree(MPI_Comm comm, int rc) {
  int bad = rc != ISING_OK, any = 0;
  if (MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS)
    return rc ? rc : ISING_ERR(ISING_ERR_MPI, "MPI_Allreduce (cluster merge) failed");
  if (!rc && any) return ISING_ERR(ISING_ERR_INTERNAL, "cluster merge failed on another rank");
  return rc;
}

/* Gather every rank's `n` values (int64) into *all (malloc'ed; *total
 * values) over the group (collective; failures agreed first). */
static int gather(MPI_Comm comm, int gsize, const int64_t *mine, int64_t n, int64_t **all,
                  int64_t *total, int rc) {
  *all = NULL;
  *total = 0;
  int *cnt = malloc((size_t)gsize * sizeof *cnt), *disp = malloc((size_t)gsize * sizeof *disp);
  if (!rc && (!cnt || !disp)) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (cluster merge)");
  if (!rc && n > INT32_MAX / 4) rc = ISING_ERR(ISING_ERR_INPUT, "swendsen-wang: too many cluster bonds between ranks");
  rc = agree(comm, rc);
  int my = (int)n;
  if (!rc && MPI_Allgather(&my, 1, MPI_INT, cnt, 1, MPI_INT, comm) != MPI_SUCCESS)
    rc = ISING_ERR(ISING_ERR_MPI, "MPI_Allgather (cluster merge sizes) failed");
  int64_t t = 0;
  for (int q = 0; q < gsize && !rc; q++) {
    disp[q] = (int)t;
    t += cnt[q];
  }
  if (!rc && t > INT32_MAX) rc = ISING_ERR(ISING_ERR_INPUT, "swendsen-wang: too many cluster bonds between ranks");
  if (!rc && !(*all = malloc((size_t)(t > 0 ? t : 1) * sizeof **all)))
    rc = ISING_ERR(ISING_ERR_MEM, "out of memory (cluster merge)");
  rc = agree(comm, rc);
  if (!rc && MPI_Allgatherv(mine, my, MPI_INT64_T, *all, cnt, disp, MPI_INT64_T, comm) != MPI_SUCCESS)
    rc = ISING_ERR(ISING_ERR_MPI, "MPI_Allgatherv (cluster merge) failed");
  free(cnt);
  free(disp);
  if (rc) {
    free(*all);
    *all = NULL;
  }
  *total = t;
  return rc;
}

/* Step 3a (collective over the group): the components of this rank that
 * have bonds to other ranks (numbered here if they are not yet: they get
 * C_BOUNDARY) and their clusters' labels.  Every active bond between ranks
 * is reported by both ends as (bond, own label); the pairs of all ranks
 * join the labels (one union-find over the sorted labels, every rank
 * alike), a cluster's label is the smallest. */
static int merge_labels(sw_state *s, const ising_lattice *l, MPI_Comm comm, int gsize) {
  int rc = ISING_OK;
  const int64_t ne = s->nedge;
  int64_t *mine = malloc((size_t)(2 * (ne > 0 ? ne : 1)) * sizeof *mine);
  int64_t *labels = malloc((size_t)(ne > 0 ? ne : 1) * sizeof *labels);
  int64_t *all_e = NULL, *all_l = NULL, *dp = NULL, te = 0, tl = 0;
  if (!mine || !labels) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (cluster merge)");
  s->nbnd = 0;
  int32_t *p = s->parent;
  for (int64_t e = 0; e < ne && !rc; e++) {
    const int32_t r = sw_find(p, (int32_t)s->edges[e].site);
    const int64_t own = global_of(l, s->n, r);
    mine[2 * e] = s->edges[e].bond;
    mine[2 * e + 1] = own;
    if (p[r] == r) { /* not yet numbered: number it now */
      rc = new_comp(s);
      if (rc) break;
      p[r] = (int32_t)(-s->ncomp);
    }
    const int64_t k = -1 - (int64_t)p[r];
    if (comp_state(s, k) & C_BOUNDARY) continue;
    set_state(s, k, C_BOUNDARY);
    if (s->nbnd == s->bnd_cap) {
      int64_t c = s->bnd_cap ? 2 * s->bnd_cap : 256;
      boundary *q = realloc(s->bnd, (size_t)c * sizeof *q);
      if (!q) {
        rc = ISING_ERR(ISING_ERR_MEM, "out of memory (cluster merge)");
        break;
      }
      s->bnd = q;
      s->bnd_cap = c;
    }
    s->bnd[s->nbnd].k = k;
    s->bnd[s->nbnd].own = own;
    labels[s->nbnd] = own;
    s->nbnd++;
  }
  rc = gather(comm, gsize, mine, 2 * ne, &all_e, &te, rc);
  rc = gather(comm, gsize, labels, s->nbnd, &all_l, &tl, rc);
  const int64_t NE = te / 2, NL = tl;
  if (!rc && NL > 0) {
    qsort(all_l, (size_t)NL, sizeof *all_l, cmp_i64);
    qsort(all_e, (size_t)NE, 2 * sizeof *all_e, cmp_pair);
    dp = malloc((size_t)NL * sizeof *dp);
    if (!dp) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (cluster merge)");
    for (int64_t k = 0; k < NL && !rc; k++) dp[k] = k;
    for (int64_t e = 0; e < NE && !rc; e += 2) { /* each bond is reported by its two ends */
      if (e + 1 >= NE || all_e[2 * e] != all_e[2 * (e + 1)]) {
        rc = ISING_ERR(ISING_ERR_INTERNAL, "cluster merge: bond %lld reported by one rank only",
                       (long long)all_e[2 * e]);
        break;
      }
      int64_t a = find_sorted(all_l, NL, all_e[2 * e + 1]), b = find_sorted(all_l, NL, all_e[2 * e + 3]);
      if (a < 0 || b < 0) {
        rc = ISING_ERR(ISING_ERR_INTERNAL, "cluster merge: a bond's component is missing");
        break;
      }
      a = dense_find(dp, a);
      b = dense_find(dp, b);
      if (a < b) dp[b] = a;
      else if (b < a) dp[a] = b;
    }
    for (int64_t q = 0; q < s->nbnd && !rc; q++) {
      boundary *b = &s->bnd[q];
      b->label = all_l[dense_find(dp, find_sorted(all_l, NL, b->own))];
    }
  }
  free(mine);
  free(labels);
  free(all_e);
  free(all_l);
  free(dp);
  return rc;
}

/* Step 3b (collective over the group): the clusters' total sizes and
 * magnetisations from every rank's parts (label, size, mag). */
static int merge_totals(sw_state *s, MPI_Comm comm, int gsize) {
  int rc = ISING_OK;
  int64_t *mine = malloc((size_t)(3 * (s->nbnd > 0 ? s->nbnd : 1)) * sizeof *mine), *all = NULL, t = 0;
  if (!mine) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (cluster merge)");
  for (int64_t q = 0; q < s->nbnd && !rc; q++) {
    mine[3 * q] = s->bnd[q].label;
    mine[3 * q + 1] = comp_size(s, s->bnd[q].k);
    mine[3 * q + 2] = comp_mag(s, s->bnd[q].k);
  }
  rc = gather(comm, gsize, mine, 3 * s->nbnd, &all, &t, rc);
  const int64_t n = t / 3;
  if (!rc && n > 0) {
    qsort(all, (size_t)n, 3 * sizeof *all, cmp_i64);
    int64_t w = 0; /* sum the parts of each label in place */
    for (int64_t i = 0; i < n; i++) {
      if (w > 0 && all[3 * (w - 1)] == all[3 * i]) {
        all[3 * (w - 1) + 1] += all[3 * i + 1];
        all[3 * (w - 1) + 2] += all[3 * i + 2];
      } else {
        memmove(all + 3 * w, all + 3 * i, 3 * sizeof *all);
        w++;
      }
    }
    for (int64_t q = 0; q < s->nbnd; q++) {
      const int64_t i = find_sorted3(all, w, s->bnd[q].label);
      s->bnd[q].tsize = all[3 * i + 1];
      s->bnd[q].tmag = all[3 * i + 2];
    }
  }
  free(mine);
  free(all);
  return rc;
}

/* Whether a cluster with this label and magnetisation flips. */
static inline int flips(const sw_state *s, const ising_model *m, uint32_t c2, uint32_t c3,
                        uint32_t half, int64_t label, int64_t mag) {
  const uint32_t thr = m->H == 0 ? half : ising_model_cluster_threshold(m, mag);
  return cl_word(s->r.key, (uint64_t)label, 0, c2, c3) > thr;
}

/* The orientations of the n clusters listed in dk, dl, dm (component,
 * label, magnetisation). */
static void decide(sw_state *s, const ising_model *m, uint32_t c2, uint32_t c3, uint32_t half,
                   int64_t n) {
  uint32_t *w = s->dw;
  ising_rng_words_at(s->r.key, s->dl, n, 0, c2, c3, w);
  if (m->H == 0)
    for (int64_t i = 0; i < n; i++) set_state(s, s->dk[i], w[i] > half ? C_FLIP : 0);
  else
    for (int64_t i = 0; i < n; i++)
      set_state(s, s->dk[i], w[i] > ising_model_cluster_threshold(m, s->dm[i]) ? C_FLIP : 0);
}

/* A cluster's statistics into S2 (sum of M^2), count and the largest. */
static inline void tally(double *acc, int64_t size, int64_t mag) {
  acc[0] += (double)mag * (double)mag;
  acc[1] += 1;
  if ((double)size > acc[2]) acc[2] = (double)size;
}

enum { PASS_NUMBER = 1, PASS_FLIP = 2 };

/* The passes over the x runs after the unions, in natural order (a run's
 * sites share its first site's cluster).  PASS_NUMBER: step 2's numbering
 * ("Labels"; boundary components are numbered by the merge already), the
 * magnetisations and sizes summed.  PASS_FLIP: step 4, the clusters that
 * are not decided yet decided at their roots (sixteen at a time per row),
 * the spins flipped.  Both at once at H = 0, where a cluster's orientation
 * needs only its label; at H != 0 PASS_FLIP follows the numbering and the
 * merge (it needs the total magnetisation). */
static int run_pass(sw_state *s, ising_lattice *l, int mode, const ising_model *m, uint32_t c2,
                    uint32_t c3, uint32_t half) {
  int32_t *p = s->parent, *starts = s->starts, *kr = s->krun;
  const int64_t n0 = s->n[0], nw = s->nw;
  const int ferro = s->ferro;
  uint64_t *sbits = s->sb[0];
#ifdef __AVX512F__
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i one = _mm512_set1_epi32(1);
#endif
  for (int64_t o = 0; o < s->nslab; o++) {
    for (int64_t y = 0; y < s->rows; y++) {
      const int64_t xr = o * s->slab + y * n0;
      if (mode & PASS_NUMBER) row_spin_bits(s, l, o, y, sbits);
      const int32_t *pr = p + xr;
      int64_t nr = 0, nd = 0;
#ifdef __AVX512F__
      for (int64_t i0 = 0; i0 < n0; i0 += 16) { /* the first sites, sixteen at a time */
        const __mmask16 in = n0 - i0 >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n0 - i0)) - 1);
        const __m512i v = _mm512_maskz_loadu_epi32(in, pr + i0);
        const __mmask16 f = _mm512_mask_cmpneq_epi32_mask(in, _mm512_srli_epi32(v, 30), one);
        const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32((int32_t)i0), iota);
        _mm512_storeu_si512(starts + nr, _mm512_maskz_compress_epi32(f, idx));
        nr += __builtin_popcount(f);
      }
#else
      for (int64_t i = 0; i < n0; i++) {
        starts[nr] = (int32_t)i;
        nr += is_first(pr[i]);
      }
#endif
      starts[nr] = (int32_t)n0;
      const int64_t g0 = row_global(s, l, o, y);
      if (mode & PASS_NUMBER) { /* without a branch per run: room for a row's new components first */
        if (s->comp_cap < s->ncomp + n0)
          ISING_CALL(resize_comps(s, s->ncomp + n0 > 2 * s->comp_cap ? s->ncomp + n0 : 2 * s->comp_cap));
        int64_t nc = s->ncomp;
        const int flip = (mode & PASS_FLIP) != 0;
        for (int64_t r = 0; r < nr; r++) {
          const int64_t i = starts[r], len = starts[r + 1] - i;
          const int32_t x = (int32_t)(xr + i), v = p[x];
          /* fresh: a root not numbered yet; else v < 0: a numbered root;
           * else (ptr) v, an earlier first site, is the root or holds it.
           * Selects by masks (compilers turn conditionals into branches). */
          const int32_t fresh = -(int32_t)(v == x), ptr = -(int32_t)(v >= 0 && v != x);
          const int32_t e = x ^ ((x ^ v) & ptr), w = p[e];
          const int32_t root = e ^ ((e ^ w) & ptr & ~(w >> 31));
          const int32_t k32 = ~p[root], k = k32 ^ ((k32 ^ (int32_t)nc) & fresh);
          const int32_t keep = v ^ ((v ^ ~(int32_t)nc) & fresh);
          p[x] = keep ^ ((keep ^ root) & ptr);
          s->dk[nd] = k;
          s->dl[nd] = (uint64_t)(g0 + i);
          nd += fresh & flip;
          nc -= fresh;
          const int32_t spin = 1 - 2 * (int32_t)((sbits[i >> 6] >> (i & 63)) & 1);
          const int32_t mag = ferro ? spin * (int32_t)len : spin * (int32_t)(len & 1);
          s->comp[k] = (s->comp[k] & ~fresh) + 4 * mag;
          if (!ferro) s->size[k] = (s->size[k] & ~fresh) + (int32_t)len;
          kr[r] = (int32_t)k;
        }
        s->ncomp = nc;
      } else {
        for (int64_t r = 0; r < nr; r++) {
          const int64_t i = starts[r];
          const int32_t v = p[xr + i];
          int64_t k;
          if (v < 0) { /* a root */
            k = -1 - (int64_t)v;
            if (!(comp_state(s, k) & C_BOUNDARY)) {
              s->dk[nd] = (int32_t)k;
              s->dl[nd] = (uint64_t)(g0 + i);
              s->dm[nd] = comp_mag(s, k);
              nd++;
            }
          } else {
            k = -1 - (int64_t)p[v];
          }
          kr[r] = (int32_t)k;
        }
      }
      if (!(mode & PASS_FLIP)) continue;
      decide(s, m, c2, c3, half, nd);
      /* the flip mask: its changes at run starts, then a prefix XOR */
      uint64_t *fm = s->fm, acc = 0;
      int64_t wi = 0;
      int prev = 0;
      for (int64_t r = 0; r < nr; r++) {
        const int f = s->comp[kr[r]] & C_FLIP;
        while (starts[r] >> 6 != wi) {
          fm[wi++] = acc;
          acc = 0;
        }
        acc |= (uint64_t)(f ^ prev) << (starts[r] & 63);
        prev = f;
      }
      while (wi < nw) {
        fm[wi++] = acc;
        acc = 0;
      }
      uint64_t carry = 0;
      for (int64_t w = 0; w < nw; w++) {
        uint64_t x = fm[w];
        x ^= x << 1;
        x ^= x << 2;
        x ^= x << 4;
        x ^= x << 8;
        x ^= x << 16;
        x ^= x << 32;
        x ^= carry;
        fm[w] = x;
        carry = (uint64_t)0 - (x >> 63);
      }
      row_flip(s, l, o, y, fm);
    }
  }
  return ISING_OK;
}

/* One replica's sweep. */
static int sw_replica(sw_state *s, int k, uint64_t t) {
  ising_lattice *l = s->r.lats[k];
  const ising_model *m = s->r.model[k];
  const uint32_t c2 = (uint32_t)t, rep = (uint32_t)s->r.ids[k];
  const ising_layout *lay = s->r.lay;
  const int multi = lay->group_size > 1, zero = m->H == 0;
  const uint32_t c3 = ising_rng_c3(rep, CLUSTER_RNG_FLIP, 0);
  const uint32_t half = ising_model_cluster_threshold(m, 0);
  double t0 = ising_timer_now();
  if (!s->fresh) { /* after load: every replica's halos */
    ISING_CALL(ising_lattice_halo(l, 0));
    ISING_CALL(ising_lattice_halo(l, 1));
  }
  double t1 = ising_timer_add(s->r.timer, ISING_PHASE_HALO, t0);
  const double bonds0 = s->ph[PH_BONDS];
  ISING_CALL(shrink_comps(s));
  s->ncomp = 0;
  s->nbnd = 0;
  ISING_CALL(bonds_and_unions(s, l, m, c2, rep));
  if (!zero) ISING_CALL(run_pass(s, l, PASS_NUMBER, m, c2, c3, half));
  double t2 = ising_timer_now(), merge_s = 0;
  s->ph[PH_LABEL] += (t2 - t1) - (s->ph[PH_BONDS] - bonds0);
  if (multi) ISING_CALL(merge_labels(s, l, lay->group, lay->group_size));
  if (multi && !zero) ISING_CALL(merge_totals(s, lay->group, lay->group_size));
  for (int64_t q = 0; q < s->nbnd; q++) { /* the clusters with bonds to other ranks */
    const boundary *b = &s->bnd[q];
    set_state(s, b->k, C_BOUNDARY | flips(s, m, c2, c3, half, b->label, zero ? 0 : b->tmag));
  }
  double t3 = ising_timer_now();
  merge_s += t3 - t2;
  if (zero)
    ISING_CALL(run_pass(s, l, PASS_NUMBER | PASS_FLIP, m, c2, c3, half));
  else
    ISING_CALL(run_pass(s, l, PASS_FLIP, m, c2, c3, half));
  double t4 = ising_timer_now();
  if (multi && zero) ISING_CALL(merge_totals(s, lay->group, lay->group_size));
  double t5 = ising_timer_now();
  merge_s += t5 - t4;
  /* statistics: local clusters here, a cluster that spans ranks where its
   * label's component is */
  double acc[3] = {0, 0, 0};
  for (int64_t c = 0; c < s->ncomp; c++)
    if (!(comp_state(s, c) & C_BOUNDARY)) tally(acc, comp_size(s, c), comp_mag(s, c));
  for (int64_t q = 0; q < s->nbnd; q++)
    if (s->bnd[q].label == s->bnd[q].own) tally(acc, s->bnd[q].tsize, s->bnd[q].tmag);
  double t6 = ising_timer_now();
  ISING_CALL(ising_lattice_halo(l, 0));
  ISING_CALL(ising_lattice_halo(l, 1));
  double t7 = ising_timer_add(s->r.timer, ISING_PHASE_HALO, t6);
  ising_observe_block(l, &s->r.bonds[k], &s->r.mag[k]);
  double sums[2] = {acc[0], acc[1]}, mx = acc[2];
  if (multi) {
    ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, lay->group));
    ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, &mx, 1, MPI_DOUBLE, MPI_MAX, lay->group));
  }
  const double N = (double)s->N;
  double *out = s->stats + (size_t)k * ISING_CLUSTER_NSTATS;
  out[ISING_CLUSTER_M2] = sums[0] / N;
  out[ISING_CLUSTER_MEAN] = N / sums[1];
  out[ISING_CLUSTER_LARGEST] = mx / N;
  out[ISING_CLUSTER_COUNT] = sums[1];
  s->ph[PH_MERGE] += merge_s;
  s->ph[PH_FLIP] += (t4 - t3) + (t6 - t5) + (ising_timer_now() - t7);
  return ISING_OK;
}

static int sw_sweep(void *p, uint64_t t) {
  sw_state *s = p;
  for (int k = 0; k < s->r.n; k++) ISING_CALL(sw_replica(s, k, t));
  s->fresh = 1;
  return ISING_OK;
}

static int sw_load(void *p) {
  ((sw_state *)p)->fresh = 0;
  return ISING_OK;
}

static int sw_set_temperatures(void *p, const ising_model *models, const int *temp_of) {
  ising_sweeper_replicas_set_temperatures(&((sw_state *)p)->r, models, temp_of);
  return ISING_OK;
}

static int sw_sums(void *p, int64_t *bonds, int64_t *mag) {
  ising_sweeper_replicas_sums(&((sw_state *)p)->r, bonds, mag);
  return ISING_OK;
}

static int sw_cluster_stats(void *p, double *out) {
  const sw_state *s = p;
  memcpy(out, s->stats, (size_t)s->r.n * ISING_CLUSTER_NSTATS * sizeof *out);
  return ISING_OK;
}

static int sw_nothing(void *p) {
  (void)p;
  return ISING_OK;
}

static int sw_check(const ising_config *cfg, char *why, size_t size) {
  (void)cfg;
  (void)why;
  (void)size;
  return 1;
}

static void sw_needs(const ising_config *cfg, ising_sweeper_needs *needs) {
  (void)cfg;
  needs->whole_x = needs->whole_replica = 0;
  needs->block = 1;
}

static int64_t sw_bytes(const void *p) {
  const sw_state *s = p;
  return s->nloc * (int64_t)sizeof *s->parent + s->n[0] + mask_words(s) * 8 +
         (s->n[0] + 16) * (int64_t)(4 * sizeof(int32_t) + sizeof(uint64_t) + sizeof(int64_t)) +
         s->comp_cap * (int64_t)(sizeof *s->comp + (s->ferro ? 0 : sizeof *s->size)) +
         s->edge_cap * (int64_t)sizeof *s->edges + s->bnd_cap * (int64_t)sizeof *s->bnd +
         4 * s->rb_stride * 4;
}

static int sw_bench_report(void *p, FILE *out, double timed, long sweeps, double sites) {
  sw_state *s = p;
  (void)sweeps;
  (void)sites;
  if (!out) { /* before the timed sweeps */
    memset(s->ph, 0, sizeof s->ph);
    return ISING_OK;
  }
  double ph[N_PH];
  memcpy(ph, s->ph, sizeof ph);
  const ising_layout *lay = s->r.lay;
  ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, ph, N_PH, MPI_DOUBLE, MPI_MAX, lay->world));
  double tot = 0;
  for (int q = 0; q < N_PH; q++) tot += ph[q];
  if (lay->world_rank == 0) {
    fprintf(out, "bench: swendsen-wang share of the sweep time (slowest rank per phase):");
    for (int q = 0; q < N_PH; q++) fprintf(out, "%s %s %.1f%%", q ? "," : "", ph_names[q], 100 * ph[q] / tot);
    fprintf(out, " (phases %.3g s of %.3g s timed; the rest is halo exchange)\n", tot, timed);
    const double *st = s->stats;
    fprintf(out, "bench: last sweep: %.0f clusters, mean size %.3g, largest %.3g of the sites\n",
            st[ISING_CLUSTER_COUNT], st[ISING_CLUSTER_MEAN], st[ISING_CLUSTER_LARGEST]);
  }
  return ISING_OK;
}

/* The instruction-set path this copy was compiled for (sweeper.h). */
static const char *sw_path(void) {
#if defined(__AVX512F__)
  return "swendsen-wang/avx512";
#elif defined(__AVX2__)
  return "swendsen-wang/avx2";
#else
  return "swendsen-wang/portable";
#endif
}

const ising_sweeper_ops ising_sweep_swendsen_wang = {
    .name = "swendsen-wang", .deck = 2, .check = sw_check, .needs = sw_needs, .path = sw_path,
    .create = sw_create, .destroy = sw_destroy, .set_temperatures = sw_set_temperatures,
    .sweep = sw_sweep, .sums = sw_sums, .sync = sw_nothing, .load = sw_load,
    .bytes = sw_bytes, .bench_report = sw_bench_report, .cluster_stats = sw_cluster_stats};
