/*
 * mpi_cluster.c -- the swendsen-wang backend (sweep_sw.c) driven directly
 * through the registry (cfg.algorithm = swendsen-wang; ising_sweeper_create
 * picks the backend), on every layout the rank count allows.
 *
 * "labels": one and two sweeps compared site by site with a serial oracle
 * written here from the documented rules alone (natural site indices, a
 * breadth-first flood fill): the bond from g to its +e_a neighbour is active
 * iff J s_g s_n > 0 and word g % 4 of Philox block g / 4 (c2 = sweep,
 * c3 = ising_rng_c3(replica, 7 + a, 0)) is <= bond_thr; a cluster is
 * labelled by its smallest natural index and keeps its spins iff word 0 of
 * block `label` (c3 = ising_rng_c3(replica, 10, 0)) is <= the model's
 * ising_model_cluster_threshold(M_C).  The spins, the bond sum and
 * magnetisation (ops->sums) and the cluster statistics must agree exactly.
 * Cases: 2D and 3D, J of both signs, H zero and not, random and ordered
 * starts at the percolation threshold of the bonds, uneven and one-layer
 * blocks, and a deterministic cluster that winds through every rank's block
 * and around the torus along every axis.  Every ranks_per_replica that
 * divides the rank count is run (grids that split x, y and z at 4, 6 and 8
 * ranks), two replicas per group at two temperatures.
 *
 * "balance": detailed balance in one step.  Exact Boltzmann states of the
 * 4x4 torus (from the enumeration of its 2^16 states, drawn by the test's
 * own generator, the same on every rank) are updated by ONE sweep, all
 * ranks on one lattice, 32 samples per sweep as 32 replicas (so every
 * sample has its own replica id or sweep number: independent numbers); the
 * histogram of the results over the classes (bond sum, magnetisation), all
 * of whose states have the same weight, must match the Boltzmann weights
 * (chi-square over the classes, those expecting fewer than 5 counts pooled,
 * p > 1e-4).  Power: the same with a wrong bond probability
 * (that of a 15% lower temperature), and with a flip rule that ignores H,
 * must fail (p < 1e-4).  Every result is also compared with the oracle, so
 * the histograms are the same bits on any rank count.
 *
 * No argument runs both (tests.cmake: 1, 2 and 4 ranks); "labels" or
 * "balance" one of them.
 */
#include <check.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ising/config.h"
#include "ising/error.h"
#include "ising/lattice.h"
#include "ising/layout.h"
#include "ising/model.h"
#include "ising/rng.h"
#include "ising/sweeper.h"
#include "testutil.h"

static int world_rank, world_size;

/* A check that costs nothing when it passes (Check's ck_assert records
 * every passing check, a system call in no-fork mode: too slow for loops
 * over sites and samples). */
#define REQUIRE(cond, ...)                  \
  do {                                      \
    if (!(cond)) ck_abort_msg(__VA_ARGS__); \
  } while (0)
#define MPI_OK(call) REQUIRE((call) == MPI_SUCCESS, "%s failed", #call)

/* ------------------------------------------------------------ test generator */

/* splitmix64: the test's own numbers (inputs, never the backend's). */
static uint64_t mix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double u01(uint64_t *s) { return (double)(mix64(s) >> 11) * 0x1p-53; }

/* ------------------------------------------------------------ the oracle */

typedef struct geom {
  int dim;
  int64_t L[3], N;
} geom;

static geom make_geom(int dim, const int64_t L[3]) {
  geom G = {dim, {L[0], L[1], dim == 3 ? L[2] : 1}, 0};
  G.N = G.L[0] * G.L[1] * G.L[2];
  return G;
}
static void coords(const geom *G, int64_t g, int64_t c[3]) {
  c[0] = g % G->L[0];
  c[1] = (g / G->L[0]) % G->L[1];
  c[2] = g / (G->L[0] * G->L[1]);
}
static int64_t index_of(const geom *G, const int64_t c[3]) {
  return c[0] + G->L[0] * (c[1] + G->L[1] * c[2]);
}
/* The neighbour of g at +e_a (dir = +1) or -e_a (dir = -1). */
static int64_t neighbour(const geom *G, int64_t g, int a, int dir) {
  int64_t c[3];
  coords(G, g, c);
  c[a] = (c[a] + dir + G->L[a]) % G->L[a];
  return index_of(G, c);
}

typedef struct oracle_out {
  double stats[ISING_CLUSTER_NSTATS];
  int64_t bonds, mag; /* after the update */
} oracle_out;

/* Bond sum and magnetisation of s[N]. */
static void oracle_sums(const geom *G, const int8_t *s, int64_t *B, int64_t *M) {
  *B = *M = 0;
  for (int64_t g = 0; g < G->N; g++) {
    *M += s[g];
    for (int a = 0; a < G->dim; a++) *B += s[g] * s[neighbour(G, g, a, 1)];
  }
}

/* One Swendsen-Wang update of s[N] (natural order) at sweep t of `replica`
 * with model m, by the documented rules.  cl[N] (may be NULL) receives
 * each site's cluster label, csize[N] (may be NULL) its cluster's size. */
static void oracle_sweep(const geom *G, int8_t *s, const ising_model *m, ising_rng_key key,
                         uint32_t replica, uint64_t t, oracle_out *o, int64_t *cl, int64_t *csize) {
  const int64_t N = G->N;
  const int dim = G->dim;
  uint8_t *act = calloc((size_t)(N * dim), 1);
  int64_t *comp = malloc((size_t)N * sizeof *comp), *queue = malloc((size_t)N * sizeof *queue);
  int64_t *lab = malloc((size_t)N * sizeof *lab), *size = malloc((size_t)N * sizeof *size);
  int64_t *mag = malloc((size_t)N * sizeof *mag);
  uint8_t *flip = malloc((size_t)N);
  REQUIRE(act && comp && queue && lab && size && mag && flip, "out of memory");
  for (int64_t g = 0; g < N; g++)
    for (int a = 0; a < dim; a++) {
      const int64_t n = neighbour(G, g, a, 1);
      if (!(m->J * s[g] * s[n] > 0)) continue;
      uint32_t w[4];
      ising_rng_block(key, (uint64_t)g / 4, (uint32_t)t, ising_rng_c3(replica, 7 + a, 0), w);
      act[g * dim + a] = w[g % 4] <= m->bond_thr;
    }
  /* flood fill in natural order: a cluster's first site is its smallest */
  int64_t nc = 0;
  for (int64_t g = 0; g < N; g++) comp[g] = -1;
  for (int64_t g0 = 0; g0 < N; g0++) {
    if (comp[g0] >= 0) continue;
    const int64_t c = nc++;
    lab[c] = g0;
    size[c] = mag[c] = 0;
    int64_t head = 0, tail = 0;
    queue[tail++] = g0;
    comp[g0] = c;
    while (head < tail) {
      const int64_t g = queue[head++];
      size[c]++;
      mag[c] += s[g];
      for (int a = 0; a < dim; a++) {
        const int64_t up = neighbour(G, g, a, 1), dn = neighbour(G, g, a, -1);
        if (act[g * dim + a] && comp[up] < 0) {
          comp[up] = c;
          queue[tail++] = up;
        }
        if (act[dn * dim + a] && comp[dn] < 0) {
          comp[dn] = c;
          queue[tail++] = dn;
        }
      }
    }
  }
  double S2 = 0, big = 0;
  for (int64_t c = 0; c < nc; c++) {
    uint32_t w[4];
    ising_rng_block(key, (uint64_t)lab[c], (uint32_t)t, ising_rng_c3(replica, 10, 0), w);
    flip[c] = !(w[0] <= ising_model_cluster_threshold(m, mag[c]));
    S2 += (double)mag[c] * (double)mag[c];
    if ((double)size[c] > big) big = (double)size[c];
  }
  for (int64_t g = 0; g < N; g++) {
    if (cl) cl[g] = lab[comp[g]];
    if (csize) csize[g] = size[comp[g]];
    if (flip[comp[g]]) s[g] = (int8_t)-s[g];
  }
  const double dN = (double)N;
  o->stats[ISING_CLUSTER_M2] = S2 / dN;
  o->stats[ISING_CLUSTER_MEAN] = dN / (double)nc;
  o->stats[ISING_CLUSTER_LARGEST] = big / dN;
  o->stats[ISING_CLUSTER_COUNT] = (double)nc;
  oracle_sums(G, s, &o->bonds, &o->mag);
  free(act);
  free(comp);
  free(queue);
  free(lab);
  free(size);
  free(mag);
  free(flip);
}

/* ------------------------------------------------------------ the backend on a layout */

#define N_MODELS 2

typedef struct lrun {
  ising_config cfg;
  geom G;
  ising_layout *lay;
  int R, n_local;
  int *ids, *temp_of;
  ising_lattice **lats;
  ising_model models[N_MODELS];
  ising_couplings cpl;
  ising_rng_key key;
  ising_sweeper *sw;
} lrun;

#define OK(call)                                                    \
  do {                                                              \
    int rc_ = (call);                                               \
    REQUIRE(rc_ == ISING_OK, "%s: %s", #call, ising_err_message()); \
  } while (0)

/* Layout with ranks_per_replica rpr (and x rows kept whole if `rows`:
 * another grid), `per_group` replicas per group (R in all), replica r at
 * models[r % nm]; the backend created with the lattices still empty
 * (lrun_load fills them).  Returns 0 when the grid does not fit the
 * lattice and may_not_fit (nothing to close), else 1. */
static int lrun_open(lrun *u, int dim, const int64_t L[3], double J, double H, const double *T,
                     int nm, int rpr, int rows, int per_group, int may_not_fit) {
  memset(u, 0, sizeof *u);
  ising_config_defaults(&u->cfg);
  u->cfg.dim = dim;
  for (int a = 0; a < 3; a++) u->cfg.L[a] = a < dim ? L[a] : 1;
  u->cfg.J = J;
  u->cfg.H = H;
  u->cfg.algorithm = ISING_ALG_SWENDSEN_WANG;
  u->cfg.n_temps = nm;
  for (int k = 0; k < nm; k++) u->cfg.temps[k] = T[k];
  u->cfg.seed = 20261204;
  u->G = make_geom(dim, u->cfg.L);
  const ising_sweeper_ops *ops = ising_sweeper_find(ising_config_backend(&u->cfg));
  ck_assert_msg(ops && !strcmp(ops->name, "swendsen-wang"), "no swendsen-wang backend");
  ising_sweeper_needs needs;
  ops->needs(&u->cfg, &needs);
  const int rc = ising_layout_create_rows(MPI_COMM_WORLD, &u->cfg, rpr, needs.whole_x || rows, &u->lay);
  if (rc == ISING_ERR_INPUT && may_not_fit) { /* the same on every rank */
    ising_config_free(&u->cfg);
    return 0;
  }
  ck_assert_msg(rc == ISING_OK, "layout: %s", ising_err_message());
  const int Gn = u->lay->n_groups;
  u->R = per_group * Gn;
  u->ids = malloc((size_t)u->R * sizeof *u->ids);
  u->temp_of = malloc((size_t)u->R * sizeof *u->temp_of);
  u->lats = calloc((size_t)u->R, sizeof *u->lats);
  ck_assert(u->ids && u->temp_of && u->lats);
  for (int r = 0; r < u->R; r++) {
    u->temp_of[r] = r % nm;
    if ((r / needs.block) % Gn == u->lay->group_index) u->ids[u->n_local++] = r;
  }
  for (int k = 0; k < u->n_local; k++) OK(ising_lattice_create(u->lay, &u->lats[k]));
  for (int k = 0; k < nm; k++)
    OK(ising_model_init(&u->models[k], dim, J, H, T[k], ISING_ALG_SWENDSEN_WANG));
  u->cpl = ising_couplings_uniform(J, H);
  u->key = ising_rng_key_from_seed(u->cfg.seed);
  ising_sweeper_init in = {&u->cfg, u->lay, u->R, u->n_local, u->ids,
                           u->lats, u->key, NULL, &u->cpl, u->R};
  OK(ising_sweeper_create(&in, &u->sw));
  ck_assert_ptr_eq(u->sw->ops, ops);
  OK(u->sw->ops->set_temperatures(u->sw->state, u->models, u->temp_of));
  return 1;
}

static void lrun_close(lrun *u) {
  ising_sweeper_destroy(&u->sw);
  for (int k = 0; k < u->n_local; k++) ising_lattice_destroy(&u->lats[k]);
  OK(ising_layout_destroy(&u->lay));
  free(u->ids);
  free(u->temp_of);
  free(u->lats);
  ising_config_free(&u->cfg);
}

/* Every local lattice from the global configurations s[R][N]. */
static void lrun_load(lrun *u, const int8_t *s) {
  for (int k = 0; k < u->n_local; k++) {
    ising_lattice *l = u->lats[k];
    const int8_t *sr = s + (size_t)u->ids[k] * (size_t)u->G.N;
    int64_t n[3];
    ising_lattice_extent(l, n, NULL);
    for (int64_t z = 0; z < n[2]; z++)
      for (int64_t y = 0; y < n[1]; y++)
        for (int64_t x = 0; x < n[0]; x++)
          ising_lattice_set(l, x, y, z, sr[ising_lattice_global_index(l, x, y, z)]);
  }
  /* (a sweep refreshes the halos itself: sweeper.h) */
  OK(u->sw->ops->load(u->sw->state));
}

/* The global configurations s[R][N] on every rank (each site written by
 * the one rank that holds it, then summed over the world). */
static void lrun_gather(lrun *u, int8_t *s) {
  OK(u->sw->ops->sync(u->sw->state));
  memset(s, 0, (size_t)u->R * (size_t)u->G.N);
  for (int k = 0; k < u->n_local; k++) {
    const ising_lattice *l = u->lats[k];
    int8_t *sr = s + (size_t)u->ids[k] * (size_t)u->G.N;
    int64_t n[3];
    ising_lattice_extent(l, n, NULL);
    for (int64_t z = 0; z < n[2]; z++)
      for (int64_t y = 0; y < n[1]; y++)
        for (int64_t x = 0; x < n[0]; x++)
          sr[ising_lattice_global_index(l, x, y, z)] = (int8_t)ising_lattice_get(l, x, y, z);
  }
  MPI_OK(MPI_Allreduce(MPI_IN_PLACE, s, u->R * (int)u->G.N, MPI_INT8_T, MPI_SUM, MPI_COMM_WORLD));
}

/* B[R], M[R] (ops->sums summed over each group) and st[R][NSTATS]
 * (cluster_stats of each group's rank 0), on every rank. */
static void lrun_results(lrun *u, int64_t *B, int64_t *M, double *st) {
  int64_t *b = malloc((size_t)(u->n_local + 1) * sizeof *b),
          *m = malloc((size_t)(u->n_local + 1) * sizeof *m);
  double *cs = malloc((size_t)(u->n_local + 1) * ISING_CLUSTER_NSTATS * sizeof *cs);
  REQUIRE(b && m && cs, "out of memory");
  OK(u->sw->ops->sums(u->sw->state, b, m));
  ck_assert_ptr_nonnull(u->sw->ops->cluster_stats);
  OK(u->sw->ops->cluster_stats(u->sw->state, cs));
  memset(B, 0, (size_t)u->R * sizeof *B);
  memset(M, 0, (size_t)u->R * sizeof *M);
  memset(st, 0, (size_t)u->R * ISING_CLUSTER_NSTATS * sizeof *st);
  for (int k = 0; k < u->n_local; k++) {
    B[u->ids[k]] = b[k];
    M[u->ids[k]] = m[k];
    if (u->lay->group_rank == 0)
      memcpy(st + (size_t)u->ids[k] * ISING_CLUSTER_NSTATS, cs + (size_t)k * ISING_CLUSTER_NSTATS,
             ISING_CLUSTER_NSTATS * sizeof *st);
  }
  MPI_OK(MPI_Allreduce(MPI_IN_PLACE, B, u->R, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD));
  MPI_OK(MPI_Allreduce(MPI_IN_PLACE, M, u->R, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD));
  MPI_OK(MPI_Allreduce(MPI_IN_PLACE, st, u->R * ISING_CLUSTER_NSTATS, MPI_DOUBLE, MPI_SUM,
                       MPI_COMM_WORLD));
  free(b);
  free(m);
  free(cs);
}

/* ------------------------------------------------------------ labels: cases */

typedef enum { START_HOT, START_COLD, START_NEEL, START_SNAKE } start_kind;

typedef struct lcase {
  const char *name;
  int dim;
  int64_t L[3];
  double J, H, T[N_MODELS];
  start_kind start;
  int may_not_fit; /* skipped on the layouts whose grid does not fit L */
} lcase;

/* The bond probability 1 - exp(-2 |J| / T) is the bond percolation
 * threshold p_c at T = -2 |J| / log(1 - p_c) (|J| = 1; checked in
 * labels_against_oracle). */
#define PC_2D 0.5       /* square lattice */
#define PC_3D 0.2488126 /* simple cubic */
#define T_PC_2D 2.8853900817779268
#define T_PC_3D 6.990559700917284

static const lcase lcases[] = {
    {"2D 14x10 ferro hot", 2, {14, 10, 1}, 1.0, 0.0, {2.269, 3.0}, START_HOT, 0},
    {"2D 14x10 antiferro H hot", 2, {14, 10, 1}, -1.0, 0.4, {2.0, 2.6}, START_HOT, 0},
    {"2D 14x10 p_c hot", 2, {14, 10, 1}, 1.0, 0.0, {T_PC_2D, T_PC_2D}, START_HOT, 0},
    {"2D 14x10 p_c cold H", 2, {14, 10, 1}, 1.0, 0.25, {T_PC_2D, T_PC_2D}, START_COLD, 0},
    {"2D 14x10 antiferro p_c Neel", 2, {14, 10, 1}, -1.0, 0.0, {T_PC_2D, T_PC_2D}, START_NEEL, 0},
    {"2D 16x4 thin p_c cold", 2, {16, 4, 1}, 1.0, 0.0, {T_PC_2D, 2.0}, START_COLD, 0},
    {"2D 2x8 thin x hot", 2, {2, 8, 1}, 1.0, 0.2, {1.5, T_PC_2D}, START_HOT, 0},
    {"2D 2x8 thin x p_c cold", 2, {2, 8, 1}, 1.0, 0.0, {T_PC_2D, 1.5}, START_COLD, 0},
    {"2D 8x2 two rows hot", 2, {8, 2, 1}, -1.0, 0.3, {1.5, T_PC_2D}, START_HOT, 1},
    {"2D 8x2 two rows p_c cold", 2, {8, 2, 1}, 1.0, 0.0, {T_PC_2D, 1.5}, START_COLD, 1},
    /* more clusters than the first allocation (4096) on a rank, and more
     * cross-rank bonds than the first edge allocation (1024) */
    {"2D 2400x4 many clusters hot", 2, {2400, 4, 1}, 1.0, 0.1, {10.0, 20.0}, START_HOT, 0},
    {"2D 2400x4 long edges cold", 2, {2400, 4, 1}, 1.0, -0.05, {0.5, 1.0}, START_COLD, 0},
    {"2D 14x10 snake", 2, {14, 10, 1}, 1.0, 0.0, {0.02, 0.03}, START_SNAKE, 0},
    {"2D 14x10 antiferro snake", 2, {14, 10, 1}, -1.0, 0.0, {0.02, 0.03}, START_SNAKE, 0},
    {"3D 6x10x6 ferro hot", 3, {6, 10, 6}, 1.0, 0.0, {4.5, 5.0}, START_HOT, 0},
    {"3D 6x10x6 antiferro H hot", 3, {6, 10, 6}, -1.0, -0.3, {4.0, 4.6}, START_HOT, 0},
    {"3D 6x10x6 p_c hot", 3, {6, 10, 6}, 1.0, 0.0, {T_PC_3D, T_PC_3D}, START_HOT, 0},
    {"3D 6x10x6 p_c cold H", 3, {6, 10, 6}, 1.0, 0.2, {T_PC_3D, T_PC_3D}, START_COLD, 0},
    {"3D 6x10x6 antiferro p_c Neel", 3, {6, 10, 6}, -1.0, 0.0, {T_PC_3D, T_PC_3D}, START_NEEL, 0},
    {"3D 4x4x4 thin p_c cold H", 3, {4, 4, 4}, 1.0, 0.1, {T_PC_3D, 4.5}, START_COLD, 0},
    {"3D 4x4x2 two planes hot", 3, {4, 4, 2}, 1.0, 0.0, {3.0, T_PC_3D}, START_HOT, 1},
    {"3D 4x4x2 two planes p_c cold", 3, {4, 4, 2}, -1.0, 0.1, {T_PC_3D, 3.0}, START_NEEL, 1},
    {"3D 24^3 many clusters hot", 3, {24, 24, 24}, -1.0, 0.0, {20.0, 30.0}, START_HOT, 0},
    {"3D 24^3 long edges cold", 3, {24, 24, 24}, 1.0, 0.05, {1.0, 2.0}, START_COLD, 0},
    {"3D 6x10x6 snake", 3, {6, 10, 6}, 1.0, 0.0, {0.02, 0.03}, START_SNAKE, 0},
};
#define N_LCASES ((int)(sizeof lcases / sizeof *lcases))

/* The staggered sign (-1)^(x + y + z) of g. */
static int stagger(const geom *G, int64_t g) {
  int64_t c[3];
  coords(G, g, c);
  return (c[0] + c[1] + c[2]) % 2 ? -1 : 1;
}

/* The snake: paint[g] = 1 on a path through all sites with even
 * coordinates (the coarse grid, in boustrophedon order), the odd sites
 * between consecutive ones, and for each axis a the sites at coordinate
 * L_a - 1 that join the coarse points of the face x_a = 0 to their
 * periodic neighbours at x_a = L_a - 2 (the path wraps the torus along
 * every axis; the last layer of every axis is visited).  Two painted sites
 * are neighbours only where the path or a wrap site joins them (a site
 * with one odd coordinate has no painted neighbour of its kind), so the
 * painted sites are one cluster and no more.  Returns the painted count. */
static int64_t snake(const geom *G, uint8_t *paint) {
  memset(paint, 0, (size_t)G->N);
  const int64_t cx = G->L[0] / 2, cy = G->L[1] / 2, cz = G->dim == 3 ? G->L[2] / 2 : 1;
  int64_t prev[3] = {-1, -1, -1}, row = 0;
  for (int64_t kz = 0; kz < cz; kz++)
    for (int64_t jj = 0; jj < cy; jj++, row++) {
      const int64_t jy = kz % 2 ? cy - 1 - jj : jj;
      for (int64_t ii = 0; ii < cx; ii++) {
        const int64_t ix = row % 2 ? cx - 1 - ii : ii;
        const int64_t c[3] = {2 * ix, 2 * jy, 2 * kz};
        paint[index_of(G, c)] = 1;
        if (prev[0] >= 0) {
          int64_t mid[3];
          for (int a = 0; a < 3; a++) mid[a] = (c[a] + prev[a]) / 2;
          int moved = 0;
          for (int a = 0; a < 3; a++) moved += c[a] != prev[a];
          REQUIRE(moved == 1, "snake: a step of %d axes", moved);
          paint[index_of(G, mid)] = 1;
        }
        memcpy(prev, c, sizeof c);
      }
    }
  /* the wrap sites: coordinate a = L_a - 1, the others those of a coarse point */
  const int64_t C = cx * cy * cz, cc[3] = {cx, cy, cz};
  for (int a = 0; a < G->dim; a++)
    for (int64_t k = 0; k < C; k++) {
      int64_t c[3] = {2 * (k % cx), 2 * (k / cx % cy), 2 * (k / (cx * cy))};
      if (c[a] != 0) continue;
      c[a] = G->L[a] - 1;
      paint[index_of(G, c)] = 1;
    }
  int64_t count = 0, wraps = 0;
  for (int a = 0; a < G->dim; a++) wraps += C / cc[a];
  for (int64_t g = 0; g < G->N; g++) count += paint[g];
  ck_assert_int_eq(count, 2 * C - 1 + wraps);
  return count;
}

/* The start configuration of case c for replica r (s[N]). */
static void start_config(const lcase *c, const geom *G, int ci, int r, const uint8_t *paint,
                         int8_t *s) {
  uint64_t st = 0x5eed0000ULL + 1000003ULL * (uint64_t)ci + (uint64_t)r;
  for (int64_t g = 0; g < G->N; g++) {
    switch (c->start) {
      case START_HOT:
        s[g] = (mix64(&st) >> 63) ? 1 : -1;
        break;
      case START_COLD:
        s[g] = 1;
        break;
      case START_NEEL:
        s[g] = (int8_t)stagger(G, g);
        break;
      case START_SNAKE:
        s[g] = (int8_t)((paint[g] ? 1 : -1) * (c->J < 0 ? stagger(G, g) : 1));
        break;
    }
  }
}

static int first_mismatch(const int8_t *a, const int8_t *b, int64_t n, int64_t *where) {
  int64_t bad = 0;
  *where = -1;
  for (int64_t g = 0; g < n; g++)
    if (a[g] != b[g]) {
      if (*where < 0) *where = g;
      bad++;
    }
  return (int)bad;
}

/* "2 groups of 2x1" (ranks along x, y[, z]). */
static const char *grid_text(const ising_layout *lay, char *buf, size_t size) {
  int n = snprintf(buf, size, "%d group%s of %dx%d", lay->n_groups, lay->n_groups > 1 ? "s" : "",
                   lay->procs[0], lay->procs[1]);
  if (lay->dim == 3 && n > 0 && (size_t)n < size)
    snprintf(buf + n, size - (size_t)n, "x%d", lay->procs[2]);
  return buf;
}

/* Which axes some layout of this run divided (asserted at the end). */
static int split_seen[3];

/* Case ci on the layout with ranks_per_replica rpr (x rows whole if
 * `rows`); returns the ranks along x, 0 when the grid did not fit. */
static int run_lcase(int ci, int rpr, int rows) {
  const lcase *c = &lcases[ci];
  lrun u;
  if (!lrun_open(&u, c->dim, c->L, c->J, c->H, c->T, N_MODELS, rpr, rows, 2,
                 c->may_not_fit || rows)) {
    if (world_rank == 0)
      printf("labels: %-30s %d ranks per replica%s: the grid does not fit\n", c->name, rpr,
             rows ? ", x rows whole" : "");
    return 0;
  }
  const int procs_x = u.lay->procs[0];
  const geom *G = &u.G;
  const int64_t N = G->N;
  char grid[64];
  grid_text(u.lay, grid, sizeof grid);
  for (int a = 0; a < c->dim; a++) split_seen[a] |= u.lay->procs[a] > 1;
  const int snake_case = c->start == START_SNAKE;
  int8_t *init = malloc((size_t)(u.R * N)), *got = malloc((size_t)(u.R * N));
  int8_t *want = malloc((size_t)(u.R * N));
  int64_t *B = malloc((size_t)u.R * sizeof *B), *M = malloc((size_t)u.R * sizeof *M);
  double *st = malloc((size_t)u.R * ISING_CLUSTER_NSTATS * sizeof *st);
  uint8_t *paint = malloc((size_t)N);
  int64_t *cl = malloc((size_t)N * sizeof *cl), *csize = malloc((size_t)N * sizeof *csize);
  ck_assert(init && got && want && B && M && st && paint && cl && csize);
  int64_t painted = snake_case ? snake(G, paint) : 0;
  if (snake_case) {
    for (int k = 0; k < N_MODELS; k++)
      ck_assert_msg(u.models[k].bond_thr == UINT32_MAX, "%s: T %g leaves bonds inactive", c->name,
                    c->T[k]);
    /* the path visits every rank's block */
    int64_t n[3], mine = 0;
    const ising_lattice *l = u.lats[0];
    ising_lattice_extent(l, n, NULL);
    for (int64_t z = 0; z < n[2]; z++)
      for (int64_t y = 0; y < n[1]; y++)
        for (int64_t x = 0; x < n[0]; x++) mine += paint[ising_lattice_global_index(l, x, y, z)];
    int least = mine > 0;
    MPI_OK(MPI_Allreduce(MPI_IN_PLACE, &least, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
    ck_assert_msg(least, "%s (%s): the path misses a rank's block", c->name, grid);
  }
  for (int r = 0; r < u.R; r++) start_config(c, G, ci, r, paint, init + (size_t)r * (size_t)N);
  memcpy(want, init, (size_t)(u.R * N));
  lrun_load(&u, init);
  const int steps = snake_case ? 4 : 2;
  const double t_start = MPI_Wtime();
  double clusters = 0; /* of replica 0's last sweep */
  for (int step = 0; step < steps; step++) {
    const uint64_t t = 3 + 65599 * (uint64_t)step + 7 * (uint64_t)ci;
    if (snake_case && step > 0) { /* every sweep from the snake */
      memcpy(want, init, (size_t)(u.R * N));
      lrun_load(&u, init);
    }
    OK(u.sw->ops->sweep(u.sw->state, t));
    lrun_gather(&u, got);
    lrun_results(&u, B, M, st);
    for (int r = 0; r < u.R; r++) {
      int8_t *w = want + (size_t)r * (size_t)N;
      const int8_t *gr = got + (size_t)r * (size_t)N;
      oracle_out o;
      oracle_sweep(G, w, &u.models[u.temp_of[r]], u.key, (uint32_t)r, t, &o, cl, csize);
      int64_t at;
      int bad = first_mismatch(gr, w, N, &at);
      REQUIRE(bad == 0,
              "%s (%s), replica %d, sweep %llu: %d spins differ from the oracle, first at "
              "site %lld (backend %d, oracle %d)",
              c->name, grid, r, (unsigned long long)t, bad, (long long)at, at >= 0 ? gr[at] : 0,
              at >= 0 ? w[at] : 0);
      REQUIRE(B[r] == o.bonds && M[r] == o.mag,
              "%s (%s), replica %d: sums B %lld M %lld, oracle B %lld M %lld", c->name, grid, r,
              (long long)B[r], (long long)M[r], (long long)o.bonds, (long long)o.mag);
      const double *sr = st + (size_t)r * ISING_CLUSTER_NSTATS;
      if (r == 0) clusters = o.stats[ISING_CLUSTER_COUNT];
      for (int q = 0; q < ISING_CLUSTER_NSTATS; q++)
        REQUIRE(sr[q] == o.stats[q],
                "%s (%s), replica %d: cluster statistic %d is %.17g, the oracle's %.17g", c->name,
                grid, r, q, sr[q], o.stats[q]);
      if (snake_case) {
        /* the oracle sees the path as one cluster, exactly */
        int64_t first = -1;
        for (int64_t g = 0; g < N && first < 0; g++)
          if (paint[g]) first = g;
        for (int64_t g = 0; g < N; g++) {
          REQUIRE(!paint[g] || (cl[g] == first && csize[g] == painted),
                  "%s: oracle: path site %lld in cluster %lld of size %lld, not %lld of %lld",
                  c->name, (long long)g, (long long)cl[g], (long long)csize[g], (long long)first,
                  (long long)painted);
          REQUIRE(paint[g] || cl[g] != first, "%s: oracle: site %lld joins the path", c->name,
                  (long long)g);
        }
        /* and the backend flipped it as a whole */
        const int ref = gr[first] * (c->J < 0 ? stagger(G, first) : 1);
        for (int64_t g = 0; g < N; g++)
          REQUIRE(!paint[g] || gr[g] * (c->J < 0 ? stagger(G, g) : 1) == ref,
                  "%s (%s): the path was not flipped as one cluster (site %lld)", c->name, grid,
                  (long long)g);
      }
    }
  }
  if (world_rank == 0)
    printf(
        "labels: %-30s %-18s %2d replicas, %d sweeps (%5.0f clusters), %.2f s: same as the "
        "oracle\n",
        c->name, grid, u.R, steps, clusters, MPI_Wtime() - t_start);
  free(init);
  free(got);
  free(want);
  free(B);
  free(M);
  free(st);
  free(paint);
  free(cl);
  free(csize);
  lrun_close(&u);
  return procs_x;
}

START_TEST(labels_against_oracle) {
  OK(ising_sweeper_isa_check()); /* ISING_ISA names a path this CPU runs */
  if (world_rank == 0) printf("labels: the %s path\n", ising_sweeper_isa());
  ck_assert(fabs(-expm1(-2.0 / T_PC_2D) - PC_2D) < 1e-12);
  ck_assert(fabs(-expm1(-2.0 / T_PC_3D) - PC_3D) < 1e-12);
  /* every group size that divides the rank count: all ranks on one
   * lattice down to one rank per lattice; where the grid divides x, also
   * the grid of the same ranks with x rows whole (2D 1x4, 1x6, 1x8; 3D
   * 1x2x4) */
  for (int ci = 0; ci < N_LCASES; ci++)
    for (int rpr = world_size; rpr >= 1; rpr--)
      if (world_size % rpr == 0 && run_lcase(ci, rpr, 0) > 1) run_lcase(ci, rpr, 1);
  /* 4 ranks and more: some grid divided every axis (2D: 2x2, 3x2, 4x2;
   * 3D: 1x2x2, 1x2x3, 2x2x2) */
  if (world_size >= 4) {
    ck_assert_msg(split_seen[0] && split_seen[1] && split_seen[2],
                  "no layout divided x (%d), y (%d) and z (%d)", split_seen[0], split_seen[1],
                  split_seen[2]);
  }
}
END_TEST

/* ------------------------------------------------------------ balance */

#define BAL_N 16
#define BAL_STATES (1 << BAL_N)
#define BAL_BATCH 32 /* replicas per sweep (samples) */

/* Bond sum and magnetisation class of every state of the 4x4 torus
 * (spin g = +1 iff bit g), and the Boltzmann probabilities. */
typedef struct bal_table {
  geom G;
  int8_t cls_B[BAL_STATES], cls_M[BAL_STATES];
  double p[BAL_STATES], cum[BAL_STATES];
} bal_table;

static int class_of(int B, int M) { return (B + 32) / 2 * 17 + (M + 16) / 2; }
#define BAL_CLASSES (33 * 17)

static void bal_enumerate(bal_table *tb, double J, double H, double T) {
  const int64_t L[3] = {4, 4, 1};
  tb->G = make_geom(2, L);
  int8_t s[BAL_N];
  double lmax = -INFINITY;
  for (int x = 0; x < BAL_STATES; x++) {
    for (int g = 0; g < BAL_N; g++) s[g] = (x >> g) & 1 ? 1 : -1;
    int64_t B, M;
    oracle_sums(&tb->G, s, &B, &M);
    tb->cls_B[x] = (int8_t)B;
    tb->cls_M[x] = (int8_t)M;
    tb->p[x] = (J * (double)B + H * (double)M) / T; /* log weight */
    if (tb->p[x] > lmax) lmax = tb->p[x];
  }
  double Z = 0;
  for (int x = 0; x < BAL_STATES; x++) Z += tb->p[x] = exp(tb->p[x] - lmax);
  double c = 0;
  for (int x = 0; x < BAL_STATES; x++) {
    tb->p[x] /= Z;
    tb->cum[x] = c += tb->p[x];
  }
}

static int bal_draw(const bal_table *tb, uint64_t *st) {
  const double u = u01(st) * tb->cum[BAL_STATES - 1];
  int lo = 0, hi = BAL_STATES - 1;
  while (lo < hi) { /* first x with cum[x] > u */
    int mid = lo + (hi - lo) / 2;
    if (tb->cum[mid] > u)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* Pearson chi-square of counts against K p over the classes, classes with
 * expected counts below 5 pooled; the p-value. */
static double chisq_p(const double *count, const double *expect, int n, int *dof) {
  double chi = 0, pc = 0, pe = 0;
  int bins = 0;
  for (int k = 0; k < n; k++) {
    if (expect[k] <= 0) {
      REQUIRE(count[k] == 0, "class %d: %g samples of an impossible class", k, count[k]);
      continue;
    }
    if (expect[k] < 5) {
      pc += count[k];
      pe += expect[k];
      continue;
    }
    chi += (count[k] - expect[k]) * (count[k] - expect[k]) / expect[k];
    bins++;
  }
  if (pe > 0) {
    chi += (pc - pe) * (pc - pe) / pe;
    bins++;
  }
  *dof = bins - 1;
  return gsl_cdf_chisq_Q(chi, *dof);
}

/* K samples of the Boltzmann distribution at (J, H, T), one sweep each
 * with `used` (the backend's model: the right one or a wrong one), all
 * ranks on one lattice.  Each result is checked against the oracle with
 * `used`.  Returns the chi-square p-value against the Boltzmann weights. */
static double balance_run(const bal_table *tb, double J, double H, double T,
                          const ising_model *used, int K, uint64_t run, const char *what) {
  const int64_t L[3] = {4, 4, 1};
  const double Ts[1] = {T};
  lrun u;
  lrun_open(&u, 2, L, J, H, Ts, 1, 0, 0, BAL_BATCH, 0);
  ck_assert_int_eq(u.R, BAL_BATCH);
  u.models[0] = *used;
  OK(u.sw->ops->set_temperatures(u.sw->state, u.models, u.temp_of));
  double *count = calloc(BAL_CLASSES, sizeof *count), *expect = calloc(BAL_CLASSES, sizeof *expect);
  int8_t *in = malloc(BAL_BATCH * BAL_N), *out = malloc(BAL_BATCH * BAL_N);
  ck_assert(count && expect && in && out);
  uint64_t st = 0xba1a9ce0ULL + run;
  int checked = 0;
  for (int b = 0; b < K / BAL_BATCH; b++) {
    for (int r = 0; r < BAL_BATCH; r++) {
      const int x = bal_draw(tb, &st);
      for (int g = 0; g < BAL_N; g++) in[r * BAL_N + g] = (x >> g) & 1 ? 1 : -1;
    }
    lrun_load(&u, in);
    const uint64_t t = run * 1000003ULL + (uint64_t)b;
    OK(u.sw->ops->sweep(u.sw->state, t));
    lrun_gather(&u, out);
    for (int r = 0; r < BAL_BATCH; r++) {
      int8_t *w = in + r * BAL_N;
      const int8_t *gr = out + r * BAL_N;
      oracle_out o;
      oracle_sweep(&tb->G, w, used, u.key, (uint32_t)r, t, &o, NULL, NULL);
      int64_t at;
      REQUIRE(first_mismatch(gr, w, BAL_N, &at) == 0,
              "balance %s: sample %d differs from the oracle at site %lld", what, b * BAL_BATCH + r,
              (long long)at);
      int x = 0;
      for (int g = 0; g < BAL_N; g++) x |= (gr[g] > 0) << g;
      count[class_of(tb->cls_B[x], tb->cls_M[x])] += 1;
      checked++;
    }
  }
  const double Kd = (double)checked;
  for (int x = 0; x < BAL_STATES; x++)
    expect[class_of(tb->cls_B[x], tb->cls_M[x])] += Kd * tb->p[x];
  int dof;
  const double p = chisq_p(count, expect, BAL_CLASSES, &dof);
  if (world_rank == 0)
    printf("balance: J %g H %g T %g, %s, %d ranks: %d samples, chi-square p = %.3g (%d dof)\n", J,
           H, T, what, world_size, checked, p, dof);
  free(count);
  free(expect);
  free(in);
  free(out);
  lrun_close(&u);
  return p;
}

#define P_MIN 1e-4

/* The right model with K samples; the wrong ones with K_power. */
static void balance_case(double J, double H, double T, int K, int K_power, uint64_t run,
                         int wrong_h) {
  bal_table *tb = malloc(sizeof *tb);
  ck_assert_ptr_nonnull(tb);
  bal_enumerate(tb, J, H, T);
  ising_model right, wrong;
  OK(ising_model_init(&right, 2, J, H, T, ISING_ALG_SWENDSEN_WANG));
  double p = balance_run(tb, J, H, T, &right, K, run, "right model");
  ck_assert_msg(p > P_MIN,
                "J %g H %g T %g: one sweep from Boltzmann states is not Boltzmann "
                "(chi-square p = %.3g)",
                J, H, T, p);
  /* power: the bond probability of a 15% lower temperature */
  wrong = right;
  ising_model lower;
  OK(ising_model_init(&lower, 2, J, H, 0.85 * T, ISING_ALG_SWENDSEN_WANG));
  wrong.bond_thr = lower.bond_thr;
  p = balance_run(tb, J, H, T, &wrong, K_power, run + 1, "wrong bond probability");
  ck_assert_msg(p < P_MIN, "J %g H %g T %g: a wrong bond probability passed (p = %.3g)", J, H, T,
                p);
  if (wrong_h) { /* power: a flip rule that ignores H */
    OK(ising_model_init(&wrong, 2, J, 0.0, T, ISING_ALG_SWENDSEN_WANG));
    p = balance_run(tb, J, H, T, &wrong, K_power, run + 2, "flips ignoring H");
    ck_assert_msg(p < P_MIN, "J %g H %g T %g: flips that ignore H passed (p = %.3g)", J, H, T, p);
  }
  free(tb);
}

/* Samples of the right model: 96000 on 1 rank (1.5 s for both cases), 16000
 * on more (each sample costs the group about ten collectives and halo
 * exchanges: 10 s for both cases on 4 oversubscribed ranks of 2 cores); of
 * the wrong ones 4000 (p-values below 1e-16 today). */
static int right_samples(void) { return world_size == 1 ? 96000 : 16000; }
#define POWER_SAMPLES 4000

START_TEST(balance_ferro_field) {
  balance_case(1.0, 0.3, 2.5, right_samples(), POWER_SAMPLES, 100, 1);
}
END_TEST

START_TEST(balance_antiferro) {
  balance_case(-1.0, 0.0, 2.0, right_samples(), POWER_SAMPLES, 200, 0);
}
END_TEST

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  const char *which = argc > 1 ? argv[1] : "all";
  if (strcmp(which, "all") && strcmp(which, "labels") && strcmp(which, "balance")) {
    if (world_rank == 0)
      fprintf(stderr, "mpi_cluster: argument %s: expected all, labels or balance\n", which);
    MPI_Finalize();
    return 2;
  }
  Suite *s = suite_create("cluster");
  if (strcmp(which, "balance")) {
    TCase *tc = tcase_create("swendsen-wang labels");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, labels_against_oracle);
    suite_add_tcase(s, tc);
  }
  if (strcmp(which, "labels")) {
    TCase *tc = tcase_create("swendsen-wang balance");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, balance_ferro_field);
    tcase_add_test(tc, balance_antiferro);
    suite_add_tcase(s, tc);
  }
  int failed = ising_test_run_suite(s);
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any ? 1 : 0;
}
