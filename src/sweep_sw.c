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
 * 2. Local labelling: union-find over the block's storage indices
 *    (cluster_impl.h), then one pass in natural order numbers the local
 *    components; a component's label is its first site in that order, the
 *    smallest global index it has.
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
 * int8 spins, one int32 per site (union-find) and 17 bytes per local
 * cluster.
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
  int split[3];          /* axis divided between ranks of the group */
  int32_t *parent;       /* [nloc] */
  int8_t *buf[3];        /* natural-order slabs: current, next, first */
  /* local components of the current sweep, numbered in natural order */
  int64_t ncomp, comp_cap;
  int32_t *comp;         /* 4 M + (C_FLIP | C_BOUNDARY): M the magnetisation of the
                            spins before the flip (|M| < 2^29) */
  int32_t *size;         /* J < 0 only (J > 0: |M|) */
  cross_edge *edges;
  int64_t nedge, edge_cap;
  boundary *bnd;
  int64_t nbnd, bnd_cap;
  uint32_t *rb;          /* bond words of one row, 4 planes x stride, per axis */
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
  for (int b = 0; b < 3; b++) free(s->buf[b]);
  free(s->comp);
  free(s->size);
  free(s->edges);
  free(s->bnd);
  free(s->rb);
  free(s->stats);
  free(s);
}

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
  s->rb_stride = s->n[0] / 4 + 2;
  rc = s->nloc < ((int64_t)1 << 29)
           ? ISING_OK
           : ISING_ERR(ISING_ERR_INPUT, "swendsen-wang: a rank's block of %lld sites is more than "
                       "2^29; use more ranks", (long long)s->nloc);
  if (!rc) {
    s->parent = malloc((size_t)s->nloc * sizeof *s->parent);
    for (int b = 0; b < 3; b++) s->buf[b] = malloc((size_t)s->slab);
    s->rb = malloc((size_t)(4 * s->rb_stride + 8 * s->rb_stride + s->n[0]) * sizeof *s->rb);
    s->stats = calloc((size_t)ISING_CLUSTER_NSTATS * (size_t)(in->n_local > 0 ? in->n_local : 1),
                      sizeof *s->stats);
    if (!s->parent || !s->buf[0] || !s->buf[1] || !s->buf[2] || !s->rb || !s->stats)
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

/* Whether the bond between spins a and b with uniform u is active. */
static inline int active(int8_t a, int8_t b, int ferro, uint32_t u, uint32_t thr) {
  return ((a == b) == ferro) && u <= thr;
}

/* Natural-order slab o (0 .. nslab-1) into out. */
static void pack_slab(const sw_state *s, const ising_lattice *l, int64_t o, int8_t *out) {
  if (s->dim == 3)
    ising_lattice_pack_rows(l, o, 0, s->n[1], out);
  else
    ising_lattice_pack_rows(l, 0, o, 1, out);
}
static void unpack_slab(const sw_state *s, ising_lattice *l, int64_t o, const int8_t *in) {
  if (s->dim == 3)
    ising_lattice_unpack_rows(l, o, 0, s->n[1], in);
  else
    ising_lattice_unpack_rows(l, 0, o, 1, in);
}

/* Global index of the local natural index x. */
static int64_t global_of(const ising_lattice *l, const int64_t n[3], int64_t x) {
  const int64_t i = x % n[0], y = (x / n[0]) % n[1], z = x / (n[0] * n[1]);
  return cl_global(l, i + 1, y + 1, z + lat_z0(l));
}

/* The bond words of axis a of the n0 sites of the row from global index
 * g0 on, in order: u[i] decides the bond of site g0 + i. */
static void row_words(sw_state *s, int64_t g0, int a, uint32_t c2, uint32_t rep, uint32_t *u) {
  const int64_t n0 = s->n[0], st = s->rb_stride;
  const uint64_t first = (uint64_t)g0 >> 2;
  const int64_t count = (int64_t)(((uint64_t)(g0 + n0 - 1) >> 2) - first + 1);
  ising_rng_fill_blocks(s->r.key, first, count, c2, ising_rng_c3(rep, CLUSTER_RNG_BOND + a, 0),
                        s->rb, st);
  for (int64_t i = 0; i < n0; i++) {
    const uint64_t g = (uint64_t)(g0 + i);
    u[i] = s->rb[(int64_t)(g & 3) * st + (int64_t)((g >> 2) - first)];
  }
}

/* The bond word of site g, axis a, alone. */
static uint32_t bond_word(const sw_state *s, int64_t g, int a, uint32_t c2, uint32_t rep) {
  return cl_word(s->r.key, (uint64_t)g >> 2, (int)(g & 3), c2, ising_rng_c3(rep, CLUSTER_RNG_BOND + a, 0));
}

/* Unions over the active bonds from the row `lo` (local indices from xl)
 * to the row `hi` (from xh), decided by the words of `lo`'s row (from g0). */
static void join_rows(sw_state *s, const int8_t *lo, const int8_t *hi, int64_t xl, int64_t xh,
                      int64_t g0, int a, uint32_t c2, uint32_t rep, uint32_t thr) {
  const int64_t n0 = s->n[0];
  uint32_t *u = s->rb + 12 * s->rb_stride;
  double t0 = ising_timer_now();
  row_words(s, g0, a, c2, rep, u);
  s->ph[PH_BONDS] += ising_timer_now() - t0;
  int32_t *p = s->parent;
  const int8_t same = (int8_t)s->ferro;
  /* the active bonds of 64 sites as bits (no branch per site), then the
   * unions of the set bits */
  for (int64_t w0 = 0; w0 < n0; w0 += 64) {
    const int nb = n0 - w0 < 64 ? (int)(n0 - w0) : 64;
    uint64_t mask = 0;
    for (int i = 0; i < nb; i++)
      mask |= (uint64_t)(((lo[w0 + i] == hi[w0 + i]) == same) & (u[w0 + i] <= thr)) << i;
    int64_t prev = -2;
    while (mask) {
      const int64_t i = w0 + __builtin_ctzll(mask);
      mask &= mask - 1;
      /* nothing to do when both ends share a parent with the ends just joined */
      if (prev == i - 1 && p[xh + i] == p[xh + i - 1] && p[xl + i] == p[xl + i - 1]) {
        prev = i;
        continue;
      }
      uf_union(p, (int32_t)(xl + i), (int32_t)(xh + i));
      prev = i;
    }
  }
}

/* Step 1 and the unions of step 2 for one replica: the bonds inside the
 * block (a row's x bonds make runs that share the run's first site as
 * parent; the bonds from the row or plane below join runs), the periodic
 * bonds of undivided axes, and the bonds to other ranks recorded as edges
 * by both ends. */
static int bonds_and_unions(sw_state *s, const ising_lattice *l, const ising_model *m,
                            uint32_t c2, uint32_t rep) {
  const int dim = s->dim, ferro = s->ferro, outer = dim == 3 ? 2 : 1;
  const uint32_t thr = m->bond_thr;
  const int64_t n0 = s->n[0], n1 = s->n[1], rows = dim == 3 ? n1 : 1, z0 = lat_z0(l);
  const int64_t Lx = l->L[0], Lxy = l->L[0] * l->L[1];
  int32_t *p = s->parent;
  uint32_t *u = s->rb + 12 * s->rb_stride;
  s->nedge = 0;
  int8_t *cur = s->buf[0], *prev = s->buf[1], *first = s->buf[2];
  for (int64_t o = 0; o < s->nslab; o++) {
    if (o > 0) {
      int8_t *t = prev;
      prev = cur;
      cur = t;
    }
    pack_slab(s, l, o, cur);
    if (o == 0) memcpy(first, cur, (size_t)s->slab);
    for (int64_t y = 0; y < rows; y++) {
      const int64_t gy = dim == 3 ? y : o, gz = dim == 3 ? o : 0;
      const int64_t g0 = cl_global(l, 1, gy + 1, gz + z0), xr = o * s->slab + y * n0;
      const int8_t *row = cur + y * n0;
      double t0 = ising_timer_now();
      row_words(s, g0, 0, c2, rep, u);
      s->ph[PH_BONDS] += ising_timer_now() - t0;
      /* runs along x: a site joined to its left neighbour shares its parent */
      p[xr] = (int32_t)xr;
      for (int64_t i = 1; i < n0; i++) {
        const int act = ((row[i - 1] == row[i]) == ferro) & (u[i - 1] <= thr);
        p[xr + i] = act ? p[xr + i - 1] : (int32_t)(xr + i);
      }
      if (!s->split[0] && active(row[n0 - 1], row[0], ferro, bond_word(s, g0 + n0 - 1, 0, c2, rep), thr))
        uf_union(p, (int32_t)(xr + n0 - 1), (int32_t)xr);
      /* y: from the row below (2D: the slab below) */
      if (dim == 3 && y > 0)
        join_rows(s, cur + (y - 1) * n0, row, xr - n0, xr, g0 - Lx, 1, c2, rep, thr);
      else if (dim == 2 && o > 0)
        join_rows(s, prev, row, xr - n0, xr, g0 - Lx, 1, c2, rep, thr);
      if (dim == 3 && y == n1 - 1 && !s->split[1]) /* periodic y within the plane */
        join_rows(s, row, cur, xr, o * s->slab, g0, 1, c2, rep, thr);
      /* z: from the plane below */
      if (dim == 3 && o > 0) join_rows(s, prev + y * n0, row, xr - s->slab, xr, g0 - Lxy, 2, c2, rep, thr);
    }
  }
  /* periodic along the outer axis: the last slab to the first */
  if (!s->split[outer]) {
    const int64_t xl = (s->nslab - 1) * s->slab;
    for (int64_t y = 0; y < rows; y++) {
      const int64_t gy = dim == 3 ? y : s->nslab - 1, gz = dim == 3 ? s->nslab - 1 : 0;
      const int64_t g0 = cl_global(l, 1, gy + 1, gz + z0);
      join_rows(s, cur + y * n0, first + y * n0, xl + y * n0, y * n0, g0, outer, c2, rep, thr);
    }
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
    const int32_t r = uf_find(p, (int32_t)s->edges[e].site);
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

/* A cluster's statistics into S2 (sum of M^2), count and the largest. */
static inline void tally(double *acc, int64_t size, int64_t mag) {
  acc[0] += (double)mag * (double)mag;
  acc[1] += 1;
  if ((double)size > acc[2]) acc[2] = (double)size;
}

/* Step 2's numbering pass: components in natural order (a root is its
 * component's smallest index, so it comes first; boundary components are
 * numbered by the merge already), magnetisations and sizes summed;
 * afterwards every site points at its root and a root holds -1 - its
 * component.  With `flip` (H = 0, where a cluster's orientation needs only
 * its label) it is step 4 too: each new component decided at its root,
 * the spins flipped. */
static int number_components(sw_state *s, ising_lattice *l, int flip, const ising_model *m,
                             uint32_t c2, uint32_t c3, uint32_t half) {
  int32_t *p = s->parent;
  int8_t *b = s->buf[0];
  for (int64_t o = 0; o < s->nslab; o++) {
    pack_slab(s, l, o, b);
    const int64_t xo = o * s->slab;
    for (int64_t j = 0; j < s->slab; j++) {
      const int32_t x = (int32_t)(xo + j);
      int64_t k;
      if (p[x] == x) {
        k = s->ncomp;
        ISING_CALL(new_comp(s));
        p[x] = (int32_t)(-1 - k);
        if (flip) set_state(s, k, flips(s, m, c2, c3, half, global_of(l, s->n, x), 0));
      } else if (p[x] < 0) {
        k = -1 - (int64_t)p[x];
      } else {
        const int32_t root = uf_find(p, x);
        p[x] = root;
        k = -1 - (int64_t)p[root];
      }
      s->comp[k] += 4 * b[j];
      if (!s->ferro) s->size[k]++;
      const int8_t f = (int8_t)(flip & s->comp[k] & C_FLIP);
      b[j] = (int8_t)((b[j] ^ -f) + f); /* -b[j] when it flips, without a branch */
    }
    if (flip) unpack_slab(s, l, o, b);
  }
  return ISING_OK;
}

/* Step 4 after the numbering pass (H != 0: a cluster's orientation needs
 * its magnetisation): each local cluster decided at its root, the spins
 * flipped. */
static void decide_flip(sw_state *s, ising_lattice *l, const ising_model *m, uint32_t c2,
                        uint32_t c3, uint32_t half) {
  const int32_t *p = s->parent;
  int8_t *b = s->buf[0];
  for (int64_t o = 0; o < s->nslab; o++) {
    pack_slab(s, l, o, b);
    const int64_t xo = o * s->slab;
    for (int64_t j = 0; j < s->slab; j++) {
      const int64_t x = xo + j;
      int64_t k;
      if (p[x] < 0) { /* a root: the first site of its component */
        k = -1 - (int64_t)p[x];
        if (!(comp_state(s, k) & C_BOUNDARY))
          set_state(s, k, flips(s, m, c2, c3, half, global_of(l, s->n, x), comp_mag(s, k)));
      } else {
        k = -1 - (int64_t)p[p[x]];
      }
      const int8_t f = (int8_t)(s->comp[k] & C_FLIP);
      b[j] = (int8_t)((b[j] ^ -f) + f);
    }
    unpack_slab(s, l, o, b);
  }
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
  if (!zero) ISING_CALL(number_components(s, l, 0, m, c2, c3, half));
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
    ISING_CALL(number_components(s, l, 1, m, c2, c3, half));
  else
    decide_flip(s, l, m, c2, c3, half);
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
  return s->nloc * (int64_t)sizeof *s->parent + 3 * s->slab +
         s->comp_cap * (int64_t)(sizeof *s->comp + (s->ferro ? 0 : sizeof *s->size)) +
         s->edge_cap * (int64_t)sizeof *s->edges + s->bnd_cap * (int64_t)sizeof *s->bnd +
         12 * s->rb_stride * 4;
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
