/*
 * sweep_wolff.c -- the Wolff single-cluster update as an update backend
 * (sweeper.h): `[montecarlo] algorithm = wolff`, H = 0, any sign of J, each
 * replica whole on one rank (ranks_per_replica = 1, or one rank).
 *
 * A sweep of a replica is `clusters_per_sweep` single-cluster updates.  An
 * update picks a seed site uniformly, grows the cluster from it through
 * the bonds that its sites satisfy (J s_i s_j > 0), each taken with
 * probability 1 - exp(-2 beta |J|) (model.h bond_thr), and flips it as it
 * grows.  Random numbers: one sequential stream per (replica, sweep)
 * (Philox blocks 0, 1, 2, ... with c2 = sweep and purpose 11: rng.h,
 * cluster_impl.h), words taken in a fixed order: two for each seed (64
 * bits, site = floor(u N / 2^64)), one per bond tested, in the order of a
 * depth-first growth that visits the axes x, y, z and the sides -, + in
 * that order.  The lattice is whole on one rank, so a replica's updates do
 * not depend on the rank count or on which rank holds it.  The backend
 * sweeps a natural-order copy of each replica's spins (1 byte per site);
 * the engine's lattices follow on `sync`, and `load` takes them in.
 *
 * clusters_per_sweep = 0 (automatic): during the thermalisation a sweep
 * does updates until it has flipped at least N sites; afterwards a sweep
 * at temperature index T does round(c_T / n_T) updates (at least one),
 * c_T the updates of the n_T sweeps done at T in the last half of the
 * thermalisation, summed over every replica of the run (a world sum per
 * sweep, so the same on any decomposition), frozen from then on.  The sums
 * are the backend's checkpoint state (2 per temperature).
 */
#include <stdlib.h>
#include <string.h>

#include "cluster_impl.h"
#include "ising/error.h"
#include "ising/layout.h"
#include "ising/observe.h"
#include "ising/sweeper.h"

#define WOLFF_BLOCKS 64 /* Philox blocks per refill of a stream */

#define WOLFF_SLACK 8 /* words kept before a refill (a site takes at most 6) */
#define WOLFF_END (WOLFF_SLACK + 4 * WOLFF_BLOCKS)

/* The stream's words, in order: each refill computes the next WOLFF_BLOCKS
 * blocks into buf[WOLFF_SLACK ..] in ising_rng_fill_blocks's planes (word
 * 0 of every block, then word 1, ...), and the words not yet taken move
 * just before them. */
typedef struct wolff_stream {
  ising_rng_key key;
  uint32_t c2, c3;
  uint64_t next; /* next block */
  int used;      /* index in buf of the next word */
  uint32_t buf[WOLFF_END];
} wolff_stream;

static void stream_refill(wolff_stream *w) {
  const int left = WOLFF_END - w->used;
  memmove(w->buf + WOLFF_SLACK - left, w->buf + w->used, (size_t)left * sizeof w->buf[0]);
  ising_rng_fill_blocks(w->key, w->next, WOLFF_BLOCKS, w->c2, w->c3, w->buf + WOLFF_SLACK,
                        WOLFF_BLOCKS);
  w->next += WOLFF_BLOCKS;
  w->used = WOLFF_SLACK - left;
}

static inline uint32_t stream_word(wolff_stream *w) {
  if (w->used == WOLFF_END) stream_refill(w);
  return w->buf[w->used++];
}

typedef struct wolff_state {
  ising_sweeper_replicas r;
  const ising_config *cfg;
  int dim, n_T;
  int64_t N;
  int *tix;           /* [n] temperature index of each local replica */
  int64_t *acc;       /* [2 n_T]: updates and sweeps at T (last half of the thermalisation) */
  int64_t *inc;       /* [2 n_T]: this sweep's */
  int8_t **nat;       /* [n][N] the spins in natural order (the engine's lattices lag: sync) */
  uint64_t *stack;    /* [N] coordinates x | y << b0 | z << (b0 + b1) */
  int b0, b1;         /* bits of the x and y coordinates */
  double *stats;      /* [ISING_CLUSTER_NSTATS n] */
  double grow_s;      /* seconds growing clusters (bench) */
  int64_t flipped;    /* sites flipped in the timed sweeps (bench) */
} wolff_state;

static void wolff_destroy(void *p) {
  wolff_state *s = p;
  if (!s) return;
  ising_sweeper_replicas_free(&s->r);
  free(s->tix);
  free(s->acc);
  free(s->inc);
  free(s->stack);
  for (int k = 0; s->nat && k < s->r.n; k++) free(s->nat[k]);
  free(s->nat);
  free(s->stats);
  free(s);
}

static int wolff_create(const ising_sweeper_init *in, void **out) {
  *out = NULL;
  ISING_CALL(ising_sweeper_uniform_only(in));
  ISING_CHECK(in->lay->group_size == 1, ISING_ERR_INPUT,
              "algorithm = wolff keeps each lattice whole on one rank; set ranks_per_replica = 1 "
              "(%d ranks now share one)", in->lay->group_size);
  const int64_t N = ising_config_sites(in->cfg);
  ISING_CHECK(N < INT32_MAX, ISING_ERR_INPUT,
              "algorithm = wolff: %lld sites are more than one rank's 2^31", (long long)N);
  wolff_state *s = calloc(1, sizeof *s);
  ISING_CHECK(s, ISING_ERR_MEM, "out of memory");
  int rc = ising_sweeper_replicas_init(&s->r, in);
  if (rc) {
    free(s);
    return rc;
  }
  s->cfg = in->cfg;
  s->dim = in->cfg->dim;
  s->n_T = in->cfg->n_temps;
  s->N = N;
  const size_t n = (size_t)(in->n_local > 0 ? in->n_local : 1);
  s->tix = calloc(n, sizeof *s->tix);
  s->acc = calloc((size_t)(2 * s->n_T), sizeof *s->acc);
  s->inc = calloc((size_t)(2 * s->n_T), sizeof *s->inc);
  /* a pass writes one entry past the stack's top (kept only when a site
   * joins): at most N sites are on it, so N + 1 entries */
  s->stack = malloc((size_t)(in->n_local > 0 ? N + 1 : 1) * sizeof *s->stack);
  s->nat = calloc(n, sizeof *s->nat);
  for (int k = 0; s->nat && k < in->n_local; k++)
    if (!(s->nat[k] = malloc((size_t)N))) {
      wolff_destroy(s);
      return ISING_ERR(ISING_ERR_MEM, "out of memory");
    }
  while ((int64_t)1 << s->b0 < in->cfg->L[0]) s->b0++;
  while ((int64_t)1 << s->b1 < in->cfg->L[1]) s->b1++;
  s->stats = calloc(ISING_CLUSTER_NSTATS * n, sizeof *s->stats);
  if (!s->tix || !s->acc || !s->inc || !s->stack || !s->stats || !s->nat) {
    wolff_destroy(s);
    return ISING_ERR(ISING_ERR_MEM, "out of memory");
  }
  *out = s;
  return ISING_OK;
}

/* Updates of sweep t at temperature index T; -1: as many as it takes to
 * flip N sites (the automatic number's thermalisation). */
static int64_t clusters_now(const wolff_state *s, int T, uint64_t t) {
  if (s->cfg->clusters_per_sweep > 0) return s->cfg->clusters_per_sweep;
  if ((int64_t)t < s->cfg->thermalization) return -1;
  const int64_t c = s->acc[2 * T], n = s->acc[2 * T + 1];
  if (c <= 0 || n <= 0) return 1; /* no replica ever sat at T while it was learnt */
  const int64_t k = (2 * c + n) / (2 * n);
  return k < 1 ? 1 : k;
}

/* Bond sum and magnetisation of a natural-order periodic lattice. */
static void nat_sums(const int8_t *sp, const int64_t n[3], int dim, int64_t *bonds, int64_t *mag) {
  int64_t B = 0, M = 0;
  const int64_t n01 = n[0] * n[1];
  for (int64_t z = 0; z < n[2]; z++)
    for (int64_t y = 0; y < n[1]; y++) {
      const int8_t *r = sp + z * n01 + y * n[0];
      const int8_t *ry = sp + z * n01 + (y + 1 == n[1] ? 0 : y + 1) * n[0];
      const int8_t *rz = sp + (z + 1 == n[2] ? 0 : z + 1) * n01 + y * n[0];
      int64_t b = 0, m = 0;
      for (int64_t i = 0; i + 1 < n[0]; i++) b += r[i] * (r[i + 1] + ry[i] + (dim == 3 ? rz[i] : 0));
      const int64_t i = n[0] - 1;
      b += r[i] * (r[0] + ry[i] + (dim == 3 ? rz[i] : 0));
      for (int64_t j = 0; j < n[0]; j++) m += r[j];
      B += b;
      M += m;
    }
  *bonds = B;
  *mag = M;
}

/* One neighbour of a site being grown from: a neighbour whose spin is
 * `spin` (its bond satisfied; not in the cluster yet) takes the next word
 * and joins when the word is <= thr: its spin flips and its stack entry e
 * is pushed.  Without branches on the spins or the words (the entry is
 * written always). */
static inline __attribute__((always_inline)) void visit(int8_t *sp, int64_t xn, uint64_t e,
                                                        int8_t spin, uint32_t thr,
                                                        const uint32_t **word, uint64_t *stack,
                                                        int64_t *top) {
  const int8_t sn = sp[xn];
  const int cand = sn == spin;
  const int join = cand & (**word <= thr);
  *word += cand;
  sp[xn] = join ? (int8_t)-spin : sn;
  stack[*top] = e;
  *top += join;
}

/* One replica's sweep, for a lattice of dimension dim (a constant where it
 * is inlined, so that the neighbour loop is unrolled). */
static inline __attribute__((always_inline)) int replica_dim(wolff_state *s, int k, uint64_t t,
                                                             const int dim) {
  const ising_model *m = s->r.model[k];
  const int T = s->tix[k];
  const int64_t n0 = s->cfg->L[0], n1 = s->cfg->L[1], n2 = dim == 3 ? s->cfg->L[2] : 1;
  const int64_t n01 = n0 * n1, N = s->N;
  const uint32_t thr = m->bond_thr;
  const int8_t same = (int8_t)(m->J > 0); /* a bond is satisfied by equal spins */
  int8_t *sp = s->nat[k];
  uint64_t *stack = s->stack;
  const int b0 = s->b0, b01 = s->b0 + s->b1;
  const uint64_t m0 = ((uint64_t)1 << b0) - 1, m1 = ((uint64_t)1 << s->b1) - 1;
  const uint64_t p1 = (uint64_t)1 << b0, p2 = (uint64_t)1 << b01; /* +1 in y, z of an entry */
  wolff_stream w = {s->r.key, (uint32_t)t,
                    ising_rng_c3((uint32_t)s->r.ids[k], CLUSTER_RNG_WOLFF, 0), 0, WOLFF_END, {0}};
  const int64_t want = clusters_now(s, T, t);
  double sum_size = 0, sum_m2 = 0, big = 0;
  int64_t ncl = 0;
  const double t0 = ising_timer_now();
  for (; want < 0 ? sum_size < (double)N : ncl < want; ncl++) {
    const uint64_t hi = stream_word(&w), lo = stream_word(&w);
    const uint64_t u = hi << 32 | lo;
    const int64_t seed = (int64_t)(((unsigned __int128)u * (uint64_t)N) >> 64);
    int64_t top = 0, size = 1, mag = sp[seed];
    sp[seed] = (int8_t)-sp[seed];
    stack[top++] = (uint64_t)(seed % n0) | (uint64_t)((seed / n0) % n1) << b0 |
                    (uint64_t)(seed / n01) << b01;
    const uint32_t *word = w.buf + w.used; /* the next word */
    while (top > 0) {
      const uint64_t v = stack[--top];
      const int64_t c0 = (int64_t)(v & m0), c1 = (int64_t)((v >> b0) & m1);
      const int64_t c2 = dim == 3 ? (int64_t)(v >> b01) : 0;
      const int64_t x = c0 + n0 * c1 + n01 * c2;
      /* the spin a neighbour needs to be bonded (the site itself is flipped) */
      const int8_t spin = same ? (int8_t)-sp[x] : sp[x];
      if (word > w.buf + WOLFF_END - 6) { /* at least 6 words from here */
        w.used = (int)(word - w.buf);
        stream_refill(&w);
        word = w.buf + w.used;
      }
      const int64_t before = top;
      /* the neighbours x-, x+, y-, y+, z-, z+ (periodic): index and stack entry */
      visit(sp, c0 ? x - 1 : x + n0 - 1, c0 ? v - 1 : v + (uint64_t)(n0 - 1), spin, thr, &word,
            stack, &top);
      visit(sp, c0 + 1 < n0 ? x + 1 : x - n0 + 1, c0 + 1 < n0 ? v + 1 : v - (uint64_t)(n0 - 1),
            spin, thr, &word, stack, &top);
      visit(sp, c1 ? x - n0 : x + n01 - n0, c1 ? v - p1 : v + (uint64_t)(n1 - 1) * p1, spin, thr,
            &word, stack, &top);
      visit(sp, c1 + 1 < n1 ? x + n0 : x - n01 + n0,
            c1 + 1 < n1 ? v + p1 : v - (uint64_t)(n1 - 1) * p1, spin, thr, &word, stack, &top);
      if (dim == 3) {
        visit(sp, c2 ? x - n01 : x + N - n01, c2 ? v - p2 : v + (uint64_t)(n2 - 1) * p2, spin,
              thr, &word, stack, &top);
        visit(sp, c2 + 1 < n2 ? x + n01 : x - N + n01,
              c2 + 1 < n2 ? v + p2 : v - (uint64_t)(n2 - 1) * p2, spin, thr, &word, stack, &top);
      }
      mag += spin * (top - before);
      size += top - before;
    }
    w.used = (int)(word - w.buf);
    sum_size += (double)size;
    sum_m2 += (double)mag * (double)mag / (double)size;
    if ((double)size > big) big = (double)size;
  }
  if (want < 0 && 2 * (int64_t)t >= s->cfg->thermalization) { /* the last half is learnt */
    s->inc[2 * T] += ncl;
    s->inc[2 * T + 1] += 1;
  }
  s->grow_s += ising_timer_now() - t0;
  s->flipped += (int64_t)sum_size;
  double *out = s->stats + (size_t)k * ISING_CLUSTER_NSTATS;
  out[ISING_CLUSTER_M2] = sum_m2 / (double)ncl;
  out[ISING_CLUSTER_MEAN] = sum_size / (double)ncl;
  out[ISING_CLUSTER_LARGEST] = big / (double)N;
  out[ISING_CLUSTER_COUNT] = (double)ncl;
  const int64_t ext[3] = {n0, n1, n2};
  nat_sums(sp, ext, dim, &s->r.bonds[k], &s->r.mag[k]);
  return ISING_OK;
}

static int wolff_replica(wolff_state *s, int k, uint64_t t) {
  return s->dim == 2 ? replica_dim(s, k, t, 2) : replica_dim(s, k, t, 3);
}

/* The engine's lattices from the natural copies (and back). */
static int wolff_sync(void *p) {
  wolff_state *s = p;
  for (int k = 0; k < s->r.n; k++) {
    ising_lattice *l = s->r.lats[k];
    const int64_t nz = s->dim == 3 ? s->cfg->L[2] : 1, plane = s->cfg->L[0] * s->cfg->L[1];
    for (int64_t z = 0; z < nz; z++) ising_lattice_unpack_rows(l, z, 0, s->cfg->L[1], s->nat[k] + z * plane);
    ISING_CALL(ising_lattice_halo(l, 0));
    ISING_CALL(ising_lattice_halo(l, 1));
  }
  return ISING_OK;
}

static int wolff_load(void *p) {
  wolff_state *s = p;
  for (int k = 0; k < s->r.n; k++) {
    const int64_t nz = s->dim == 3 ? s->cfg->L[2] : 1, plane = s->cfg->L[0] * s->cfg->L[1];
    for (int64_t z = 0; z < nz; z++)
      ising_lattice_pack_rows(s->r.lats[k], z, 0, s->cfg->L[1], s->nat[k] + z * plane);
  }
  return ISING_OK;
}

static int wolff_sweep(void *p, uint64_t t) {
  wolff_state *s = p;
  memset(s->inc, 0, (size_t)(2 * s->n_T) * sizeof *s->inc);
  for (int k = 0; k < s->r.n; k++) ISING_CALL(wolff_replica(s, k, t));
  /* the automatic number adapts during the thermalisation (collective) */
  if (s->cfg->clusters_per_sweep == 0 && (int64_t)t < s->cfg->thermalization) {
    ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, s->inc, 2 * s->n_T, MPI_INT64_T, MPI_SUM, s->r.lay->world));
    for (int q = 0; q < 2 * s->n_T; q++) s->acc[q] += s->inc[q];
  }
  return ISING_OK;
}

static int wolff_set_temperatures(void *p, const ising_model *models, const int *temp_of) {
  wolff_state *s = p;
  ising_sweeper_replicas_set_temperatures(&s->r, models, temp_of);
  for (int k = 0; k < s->r.n; k++) s->tix[k] = temp_of[s->r.ids[k]];
  return ISING_OK;
}

static int wolff_sums(void *p, int64_t *bonds, int64_t *mag) {
  ising_sweeper_replicas_sums(&((wolff_state *)p)->r, bonds, mag);
  return ISING_OK;
}

static int wolff_cluster_stats(void *p, double *out) {
  const wolff_state *s = p;
  memcpy(out, s->stats, (size_t)s->r.n * ISING_CLUSTER_NSTATS * sizeof *out);
  return ISING_OK;
}

static int wolff_check(const ising_config *cfg, char *why, size_t size) {
  if (cfg->H != 0)
    return snprintf(why, size, "wolff runs at H = 0 only ([model] H = %g); use swendsen-wang for "
                    "a field", cfg->H), 0;
  if (cfg->clusters_per_sweep == 0 && cfg->thermalization == 0)
    return snprintf(why, size, "clusters_per_sweep = 0 (automatic) is chosen during the "
                    "thermalization, which is 0; set thermalization > 0 or clusters_per_sweep"), 0;
  return 1;
}

static void wolff_needs(const ising_config *cfg, ising_sweeper_needs *needs) {
  (void)cfg;
  needs->whole_x = 0;
  needs->whole_replica = 1;
  needs->block = 1;
}

static int64_t wolff_bytes(const void *p) {
  const wolff_state *s = p;
  return s->N * (int64_t)sizeof *s->stack + (int64_t)s->r.n * s->N;
}

static int wolff_state_len(const ising_config *cfg) {
  return cfg->clusters_per_sweep == 0 ? 2 * cfg->n_temps : 0;
}
static int wolff_state_get(const void *p, int64_t *v) {
  const wolff_state *s = p;
  memcpy(v, s->acc, (size_t)(2 * s->n_T) * sizeof *v);
  return ISING_OK;
}
static int wolff_state_set(void *p, const int64_t *v) {
  wolff_state *s = p;
  for (int q = 0; q < 2 * s->n_T; q++)
    ISING_CHECK(v[q] >= 0, ISING_ERR_INPUT, "checkpoint: wolff cluster counts are negative");
  memcpy(s->acc, v, (size_t)(2 * s->n_T) * sizeof *v);
  return ISING_OK;
}

static int wolff_bench_report(void *p, FILE *out, double timed, long sweeps, double sites) {
  wolff_state *s = p;
  (void)sites;
  if (!out) {
    s->grow_s = 0;
    s->flipped = 0;
    return ISING_OK;
  }
  if (s->r.lay->world_rank == 0 && s->r.n > 0) {
    const double *st = s->stats;
    fprintf(out, "bench: wolff: %.4g sites flipped per ns per rank (%.1f%% of the sweep time "
            "growing clusters); %.0f clusters per sweep, mean size %.4g (%.3g of the sites) "
            "after %ld timed sweeps\n", (double)s->flipped / (s->grow_s > 0 ? s->grow_s : 1) * 1e-9,
            timed > 0 ? 100 * s->grow_s / timed : 0, st[ISING_CLUSTER_COUNT], st[ISING_CLUSTER_MEAN],
            st[ISING_CLUSTER_MEAN] / (double)s->N, sweeps);
  }
  return ISING_OK;
}

/* The instruction-set path this copy was compiled for (sweeper.h). */
static const char *wolff_path(void) {
#if defined(__AVX512F__)
  return "wolff/avx512";
#elif defined(__AVX2__)
  return "wolff/avx2";
#else
  return "wolff/portable";
#endif
}

const ising_sweeper_ops ising_sweep_wolff = {
    .name = "wolff", .deck = 2, .check = wolff_check, .needs = wolff_needs, .path = wolff_path,
    .create = wolff_create, .destroy = wolff_destroy, .set_temperatures = wolff_set_temperatures,
    .sweep = wolff_sweep, .sums = wolff_sums, .sync = wolff_sync, .load = wolff_load,
    .bytes = wolff_bytes, .state_len = wolff_state_len, .state_get = wolff_state_get,
    .state_set = wolff_state_set, .bench_report = wolff_bench_report,
    .cluster_stats = wolff_cluster_stats};
