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

typedef struct cross_edge {
  int64_t bond; /* g dim + axis */
  int64_t site; /* storage index of this rank's end */
} cross_edge;

typedef struct sw_state {
  ising_sweeper_replicas r;
  int dim;
  int64_t N;
  int split[3];          /* axis divided between ranks of the group */
  int64_t cap;           /* storage indices */
  int32_t *parent;       /* [cap] */
  /* local components of the current sweep */
  int64_t ncomp, comp_cap;
  int64_t *label;
  int32_t *size, *mag;
  uint8_t *flip;
  int64_t *tsize, *tmag; /* totals of merged boundary components (else = size, mag) */
  uint8_t *counted;      /* this rank counts the cluster in the statistics */
  cross_edge *edges;
  int64_t nedge, edge_cap;
  uint32_t *rb;          /* bond words of one row, 4 planes x stride, per axis */
  int64_t rb_stride;
  double *stats;         /* [ISING_CLUSTER_NSTATS n] */
  double ph[N_PH];       /* seconds per phase */
} sw_state;

static void sw_destroy(void *p) {
  sw_state *s = p;
  if (!s) return;
  ising_sweeper_replicas_free(&s->r);
  free(s->parent);
  free(s->label);
  free(s->size);
  free(s->mag);
  free(s->flip);
  free(s->tsize);
  free(s->tmag);
  free(s->counted);
  free(s->edges);
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
  s->N = ising_config_sites(in->cfg);
  for (int a = 0; a < s->dim; a++) s->split[a] = in->lay->procs[a] > 1;
  if (in->n_local > 0) {
    const ising_lattice *l = in->lats[0];
    s->cap = 2 * l->W * l->ny2 * l->nz2;
    s->rb_stride = l->n[0] / 4 + 2;
  }
  rc = s->cap < INT32_MAX ? ISING_OK
                          : ISING_ERR(ISING_ERR_INPUT, "swendsen-wang: a rank's block of %lld "
                                      "sites (with halos) is more than 2^31; use more ranks",
                                      (long long)s->cap);
  if (!rc) {
    s->parent = malloc((size_t)(s->cap > 0 ? s->cap : 1) * sizeof *s->parent);
    s->rb = malloc((size_t)(3 * 4 * (s->rb_stride > 0 ? s->rb_stride : 1)) * sizeof *s->rb);
    s->stats = calloc((size_t)ISING_CLUSTER_NSTATS * (size_t)(in->n_local > 0 ? in->n_local : 1),
                      sizeof *s->stats);
    if (!s->parent || !s->rb || !s->stats) rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
  }
  if (rc) {
    sw_destroy(s);
    return rc;
  }
  *out = s;
  return ISING_OK;
}

static int grow_comps(sw_state *s) {
  int64_t cap = s->comp_cap ? 2 * s->comp_cap : 4096;
#define GROW(f)                                                     \
  do {                                                              \
    void *q = realloc(s->f, (size_t)cap * sizeof *s->f);            \
    ISING_CHECK(q, ISING_ERR_MEM, "out of memory (clusters)");      \
    s->f = q;                                                       \
  } while (0)
  GROW(label);
  GROW(size);
  GROW(mag);
  GROW(flip);
  GROW(tsize);
  GROW(tmag);
  GROW(counted);
#undef GROW
  s->comp_cap = cap;
  return ISING_OK;
}

static int add_edge(sw_state *s, int64_t bond, int64_t site) {
  if (s->nedge == s->edge_cap) {
    int64_t cap = s->edge_cap ? 2 * s->edge_cap : 1024;
    cross_edge *e = realloc(s->edges, (size_t)cap * sizeof *e);
    ISING_CHECK(e, ISING_ERR_MEM, "out of memory (cluster edges)");
    s->edges = e;
    s->edge_cap = cap;
  }
  s->edges[s->nedge].bond = bond;
  s->edges[s->nedge].site = site;
  s->nedge++;
  return ISING_OK;
}

/* Whether the bond between spins a and b with uniform u is active. */
static inline int active(int8_t a, int8_t b, int ferro, uint32_t u, uint32_t thr) {
  return ((a == b) == ferro) && u <= thr;
}

/* Step 1 and the unions of step 2 for one replica. */
static int bonds_and_unions(sw_state *s, const ising_lattice *l, const ising_model *m,
                            uint32_t c2, uint32_t replica) {
  const int dim = s->dim, ferro = m->J > 0;
  const uint32_t thr = m->bond_thr;
  const int64_t n0 = l->n[0], n1 = l->n[1];
  const int64_t z0 = lat_z0(l), z1 = lat_z1(l);
  int32_t *p = s->parent;
  const int8_t *sp = l->spins;
  const ising_rng_key key = s->r.key;
  const int64_t st = s->rb_stride;
  s->nedge = 0;
  for (int64_t z = z0; z <= z1; z++)
    for (int64_t y = 1; y <= n1; y++) {
      const int64_t g0 = cl_global(l, 1, y, z);
      const uint64_t first = (uint64_t)g0 >> 2;
      const int64_t count = (int64_t)(((uint64_t)(g0 + n0 - 1) >> 2) - first + 1);
      double t0 = ising_timer_now();
      for (int a = 0; a < dim; a++)
        ising_rng_fill_blocks(key, first, count, c2,
                              ising_rng_c3(replica, CLUSTER_RNG_BOND + a, 0), s->rb + 4 * st * a, st);
      s->ph[PH_BONDS] += ising_timer_now() - t0;
      for (int64_t i = 1; i <= n0; i++) {
        const int64_t x = cl_index(l, i, y, z), g = g0 + i - 1;
        const int w = (int)(g & 3);
        const int64_t gi = (int64_t)(((uint64_t)g >> 2) - first);
        const int64_t nb[3][3] = {{i + 1, y, z}, {i, y + 1, z}, {i, y, z + 1}};
        const int64_t edge[3] = {n0, n1, z1};
        for (int a = 0; a < dim; a++) {
          int64_t c[3] = {nb[a][0], nb[a][1], nb[a][2]};
          const int at_edge = c[a] > edge[a];
          if (at_edge && !s->split[a]) c[a] = a == 2 ? z0 : 1; /* periodic, same rank */
          const int64_t xn = cl_index(l, c[0], c[1], c[2]);
          if (!active(sp[x], sp[xn], ferro, s->rb[4 * st * a + w * st + gi], thr)) continue;
          if (at_edge && s->split[a])
            ISING_CALL(add_edge(s, g * dim + a, x));
          else
            uf_union(p, (int32_t)x, (int32_t)xn);
        }
      }
    }
  /* bonds from the - neighbours on other ranks into the first layers */
  for (int a = 0; a < dim; a++) {
    if (!s->split[a]) continue;
    const int64_t lo[3] = {1, 1, z0};
    int64_t hi[3] = {n0, n1, z1}, c[3];
    hi[a] = lo[a]; /* the first layer along a */
    for (c[2] = lo[2]; c[2] <= hi[2]; c[2]++)
      for (c[1] = lo[1]; c[1] <= hi[1]; c[1]++)
        for (c[0] = lo[0]; c[0] <= hi[0]; c[0]++) {
          int64_t b[3] = {c[0], c[1], c[2]};
          b[a] -= 1; /* in the - halo */
          const int64_t x = cl_index(l, c[0], c[1], c[2]), xb = cl_index(l, b[0], b[1], b[2]);
          const int64_t gb = cl_global(l, b[0], b[1], b[2]);
          double t0 = ising_timer_now();
          const uint32_t u = cl_word(key, (uint64_t)gb >> 2, (int)(gb & 3), c2,
                                     ising_rng_c3(replica, CLUSTER_RNG_BOND + a, 0));
          s->ph[PH_BONDS] += ising_timer_now() - t0;
          if (active(sp[xb], sp[x], ferro, u, thr)) ISING_CALL(add_edge(s, gb * dim + a, x));
        }
  }
  return ISING_OK;
}

/* Step 2's numbering pass: components in natural order, sizes and
 * magnetisations; afterwards every site points at its root and a root
 * holds -1 - its component. */
static int number_components(sw_state *s, const ising_lattice *l) {
  int32_t *p = s->parent;
  const int8_t *sp = l->spins;
  s->ncomp = 0;
  for (int64_t z = lat_z0(l); z <= lat_z1(l); z++)
    for (int64_t y = 1; y <= l->n[1]; y++) {
      const int64_t g0 = cl_global(l, 1, y, z);
      for (int64_t i = 1; i <= l->n[0]; i++) {
        const int32_t x = (int32_t)cl_index(l, i, y, z);
        const int32_t root = uf_find(p, x);
        if (p[root] == root) {
          if (s->ncomp == s->comp_cap) ISING_CALL(grow_comps(s));
          const int64_t k = s->ncomp++;
          s->label[k] = g0 + i - 1;
          s->size[k] = 0;
          s->mag[k] = 0;
          p[root] = (int32_t)(-1 - k);
        }
        const int64_t k = -1 - (int64_t)p[root];
        s->size[k]++;
        s->mag[k] += sp[x];
        if (x != root) p[x] = root;
      }
    }
  for (int64_t k = 0; k < s->ncomp; k++) {
    s->tsize[k] = s->size[k];
    s->tmag[k] = s->mag[k];
    s->counted[k] = 1;
  }
  return ISING_OK;
}

static inline int64_t comp_of(const int32_t *p, int64_t x) {
  const int32_t q = p[x];
  return q < 0 ? -1 - (int64_t)q : -1 - (int64_t)p[q];
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

static int64_t find_label(const int64_t *sorted3, int64_t n, int64_t label) {
  int64_t lo = 0, hi = n - 1;
  while (lo <= hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (sorted3[3 * mid] == label) return mid;
    if (sorted3[3 * mid] < label) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

static int64_t dense_find(int64_t *p, int64_t x) {
  while (p[x] != x) {
    p[x] = p[p[x]];
    x = p[x];
  }
  return x;
}

/* Step 3 (collective over the group). */
static int merge(sw_state *s, MPI_Comm comm, int gsize) {
  int rc = ISING_OK;
  /* this rank's contribution: pairs (bond, label), components (label, size, mag) */
  const int64_t ne = s->nedge;
  int64_t *mine = malloc((size_t)(2 * (ne > 0 ? ne : 1)) * sizeof *mine);
  int64_t *comps = malloc((size_t)(3 * (ne > 0 ? ne : 1)) * sizeof *comps);
  int *cnt = malloc((size_t)gsize * 2 * sizeof *cnt), *disp = malloc((size_t)gsize * 2 * sizeof *disp);
  int64_t *all_e = NULL, *all_c = NULL, *dp = NULL;
  if (!mine || !comps || !cnt || !disp) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (cluster merge)");
  int64_t nc = 0;
  for (int64_t e = 0; e < ne && !rc; e++) {
    const int64_t k = comp_of(s->parent, s->edges[e].site);
    mine[2 * e] = s->edges[e].bond;
    mine[2 * e + 1] = s->label[k];
    if (s->counted[k] == 1) { /* first edge of k: report the component once */
      s->counted[k] = 2;
      comps[3 * nc] = s->label[k];
      comps[3 * nc + 1] = s->size[k];
      comps[3 * nc + 2] = s->mag[k];
      nc++;
    }
  }
  /* sizes, then the data (counts of int64 values) */
  int my[2] = {(int)(2 * ne), (int)(3 * nc)};
  if (!rc && (2 * ne > INT32_MAX / 2 || 3 * nc > INT32_MAX / 2))
    rc = ISING_ERR(ISING_ERR_INPUT, "swendsen-wang: too many cluster bonds between ranks");
  int *both = malloc((size_t)gsize * 2 * sizeof *both);
  if (!rc && !both) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (cluster merge)");
  /* every rank must enter the collectives: agree on failure first */
  int bad = rc != ISING_OK, any = 0;
  if (MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS)
    rc = rc ? rc : ISING_ERR(ISING_ERR_MPI, "MPI_Allreduce (cluster merge) failed");
  if (!rc && any) rc = ISING_ERR(ISING_ERR_INTERNAL, "cluster merge failed on another rank");
  if (!rc && MPI_Allgather(my, 2, MPI_INT, both, 2, MPI_INT, comm) != MPI_SUCCESS)
    rc = ISING_ERR(ISING_ERR_MPI, "MPI_Allgather (cluster merge sizes) failed");
  int64_t te = 0, tc = 0;
  if (!rc) {
    for (int q = 0; q < gsize; q++) {
      cnt[q] = both[2 * q];
      disp[q] = (int)te;
      te += both[2 * q];
      cnt[gsize + q] = both[2 * q + 1];
      disp[gsize + q] = (int)tc;
      tc += both[2 * q + 1];
    }
    if (te > INT32_MAX || tc > INT32_MAX)
      rc = ISING_ERR(ISING_ERR_INPUT, "swendsen-wang: too many cluster bonds between ranks");
  }
  if (!rc) {
    all_e = malloc((size_t)(te > 0 ? te : 1) * sizeof *all_e);
    all_c = malloc((size_t)(tc > 0 ? tc : 1) * sizeof *all_c);
    if (!all_e || !all_c) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (cluster merge)");
  }
  /* a failed allocation must not leave the others waiting */
  bad = rc != ISING_OK;
  if (MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS && !rc)
    rc = ISING_ERR(ISING_ERR_MPI, "MPI_Allreduce (cluster merge) failed");
  if (!rc && any) rc = ISING_ERR(ISING_ERR_INTERNAL, "cluster merge failed on another rank");
  if (!rc && MPI_Allgatherv(mine, my[0], MPI_INT64_T, all_e, cnt, disp, MPI_INT64_T, comm) != MPI_SUCCESS)
    rc = ISING_ERR(ISING_ERR_MPI, "MPI_Allgatherv (cluster bonds) failed");
  if (!rc && MPI_Allgatherv(comps, my[1], MPI_INT64_T, all_c, cnt + gsize, disp + gsize, MPI_INT64_T,
                            comm) != MPI_SUCCESS)
    rc = ISING_ERR(ISING_ERR_MPI, "MPI_Allgatherv (cluster components) failed");
  const int64_t NE = te / 2, NC = tc / 3;
  if (!rc && NC > 0) {
    /* components sorted by label: dense index = rank in label order */
    qsort(all_c, (size_t)NC, 3 * sizeof *all_c, cmp_i64);
    qsort(all_e, (size_t)NE, 2 * sizeof *all_e, cmp_pair);
    dp = malloc((size_t)NC * sizeof *dp);
    if (!dp) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (cluster merge)");
    for (int64_t k = 0; k < NC && !rc; k++) dp[k] = k;
    /* each bond is reported by its two ends */
    for (int64_t e = 0; e < NE && !rc; e += 2) {
      if (e + 1 >= NE || all_e[2 * e] != all_e[2 * (e + 1)]) {
        rc = ISING_ERR(ISING_ERR_INTERNAL, "cluster merge: bond %lld reported by one rank only",
                       (long long)all_e[2 * e]);
        break;
      }
      int64_t a = find_label(all_c, NC, all_e[2 * e + 1]), b = find_label(all_c, NC, all_e[2 * e + 3]);
      if (a < 0 || b < 0) {
        rc = ISING_ERR(ISING_ERR_INTERNAL, "cluster merge: a bond's component is missing");
        break;
      }
      a = dense_find(dp, a);
      b = dense_find(dp, b);
      if (a < b) dp[b] = a;
      else if (b < a) dp[a] = b;
    }
    /* totals at the roots (the smallest label of each set) */
    int64_t *ts = NULL;
    if (!rc) {
      ts = calloc((size_t)(2 * NC), sizeof *ts);
      if (!ts) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (cluster merge)");
    }
    for (int64_t k = 0; k < NC && !rc; k++) {
      const int64_t r = dense_find(dp, k);
      ts[2 * r] += all_c[3 * k + 1];
      ts[2 * r + 1] += all_c[3 * k + 2];
    }
    for (int64_t k = 0; k < s->ncomp && !rc; k++) {
      if (s->counted[k] != 2) continue;
      const int64_t d = find_label(all_c, NC, s->label[k]);
      const int64_t r = dense_find(dp, d);
      s->tsize[k] = ts[2 * r];
      s->tmag[k] = ts[2 * r + 1];
      s->counted[k] = r == d; /* the cluster's smallest label is this component's */
      s->label[k] = all_c[3 * r];
    }
    free(ts);
  }
  free(mine);
  free(comps);
  free(cnt);
  free(disp);
  free(both);
  free(all_e);
  free(all_c);
  free(dp);
  return rc;
}

/* One replica's sweep; st[] its statistics. */
static int sw_replica(sw_state *s, int k, uint64_t t) {
  ising_lattice *l = s->r.lats[k];
  const ising_model *m = s->r.model[k];
  const uint32_t c2 = (uint32_t)t, rep = (uint32_t)s->r.ids[k];
  const ising_layout *lay = s->r.lay;
  double t0 = ising_timer_now();
  ISING_CALL(ising_lattice_halo(l, 0));
  ISING_CALL(ising_lattice_halo(l, 1));
  ising_timer_add(s->r.timer, ISING_PHASE_HALO, t0);
  double t1 = ising_timer_now();
  for (int64_t z = lat_z0(l); z <= lat_z1(l); z++)
    for (int64_t y = 1; y <= l->n[1]; y++)
      for (int64_t i = 1; i <= l->n[0]; i++) {
        const int64_t x = cl_index(l, i, y, z);
        s->parent[x] = (int32_t)x;
      }
  const double bonds0 = s->ph[PH_BONDS];
  ISING_CALL(bonds_and_unions(s, l, m, c2, rep));
  ISING_CALL(number_components(s, l));
  double t2 = ising_timer_now();
  s->ph[PH_LABEL] += (t2 - t1) - (s->ph[PH_BONDS] - bonds0);
  if (lay->group_size > 1) ISING_CALL(merge(s, lay->group, lay->group_size));
  double t3 = ising_timer_now();
  s->ph[PH_MERGE] += t3 - t2;
  /* decisions and statistics */
  const uint32_t c3 = ising_rng_c3(rep, CLUSTER_RNG_FLIP, 0);
  const uint32_t half = ising_model_cluster_threshold(m, 0);
  double S2 = 0, ncl = 0, big = 0;
  for (int64_t c = 0; c < s->ncomp; c++) {
    const uint32_t thr = m->H == 0 ? half : ising_model_cluster_threshold(m, s->tmag[c]);
    const uint64_t lab = (uint64_t)s->label[c];
    s->flip[c] = cl_word(s->r.key, lab, 0, c2, c3) > thr;
    if (s->counted[c]) {
      const double mc = (double)s->tmag[c];
      S2 += mc * mc;
      ncl += 1;
      if ((double)s->tsize[c] > big) big = (double)s->tsize[c];
    }
  }
  int8_t *sp = l->spins;
  for (int64_t z = lat_z0(l); z <= lat_z1(l); z++)
    for (int64_t y = 1; y <= l->n[1]; y++)
      for (int64_t i = 1; i <= l->n[0]; i++) {
        const int64_t x = cl_index(l, i, y, z);
        if (s->flip[comp_of(s->parent, x)]) sp[x] = (int8_t)-sp[x];
      }
  double t4 = ising_timer_now();
  ISING_CALL(ising_lattice_halo(l, 0));
  ISING_CALL(ising_lattice_halo(l, 1));
  double t5 = ising_timer_add(s->r.timer, ISING_PHASE_HALO, t4);
  ising_observe_block(l, &s->r.bonds[k], &s->r.mag[k]);
  double sums[2] = {S2, ncl}, mx = big;
  if (lay->group_size > 1) {
    ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, lay->group));
    ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, &mx, 1, MPI_DOUBLE, MPI_MAX, lay->group));
  }
  const double N = (double)s->N;
  double *out = s->stats + (size_t)k * ISING_CLUSTER_NSTATS;
  out[ISING_CLUSTER_M2] = sums[0] / N;
  out[ISING_CLUSTER_MEAN] = N / sums[1];
  out[ISING_CLUSTER_LARGEST] = mx / N;
  out[ISING_CLUSTER_COUNT] = sums[1];
  s->ph[PH_FLIP] += (t4 - t3) + (ising_timer_now() - t5);
  return ISING_OK;
}

static int sw_sweep(void *p, uint64_t t) {
  sw_state *s = p;
  for (int k = 0; k < s->r.n; k++) ISING_CALL(sw_replica(s, k, t));
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
  return s->cap * (int64_t)sizeof *s->parent +
         s->comp_cap * (int64_t)(sizeof *s->label + sizeof *s->size + sizeof *s->mag +
                                 sizeof *s->flip + sizeof *s->tsize + sizeof *s->tmag +
                                 sizeof *s->counted) +
         s->edge_cap * (int64_t)sizeof *s->edges + 12 * s->rb_stride * 4;
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

static const char *sw_path(void) { return "swendsen-wang"; }

const ising_sweeper_ops ising_sweep_swendsen_wang = {
    .name = "swendsen-wang", .deck = 2, .check = sw_check, .needs = sw_needs, .path = sw_path,
    .create = sw_create, .destroy = sw_destroy, .set_temperatures = sw_set_temperatures,
    .sweep = sw_sweep, .sums = sw_sums, .sync = sw_nothing, .load = sw_nothing,
    .bytes = sw_bytes, .bench_report = sw_bench_report, .cluster_stats = sw_cluster_stats};
