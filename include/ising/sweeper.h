/*
 * sweeper.h -- update backends ("sweepers") behind an operations table, and
 * the registry that maps a kernel name to its table.
 *
 * The engine (run.c) owns the schedule: which sweep comes next, when to
 * measure, exchange, checkpoint.  How a sweep of the replicas is done is a
 * backend's business: checkerboard byte kernels (sweep_byte.c), packed
 * multi-spin coding (sweep_msc.c, sweep_msc_async.c), or anything else that
 * keeps the rules below.  A backend is one source file with one
 * `ising_sweeper_ops` table and one line in the registry (sweeper.c); config,
 * bench, output and layout ask the registry, never a kernel kind.
 *
 * Contract of a backend:
 * - It sweeps the replicas of ONE replica group (the `lats` it is given,
 *   global ids `ids`), every replica at the temperature its model gives.  A
 *   sweep does its own halo refreshes.  The random numbers of sweep t of
 *   replica r depend only on (seed, r, t, global site or bond), never on the
 *   rank count or layout: a run is the same bits on any decomposition.
 * - The engine owns one int8 lattice per replica (lattice.h): output,
 *   checkpoints and correlations read those.  A backend that sweeps another
 *   copy of the spins keeps the int8 lattices lazily up to date: `sync`
 *   brings them up to date (only when the engine is about to read them), and
 *   `load` takes them in after the engine wrote them (start, resume).
 * - `sums` gives the exact bond sum B = sum s_i s_j and magnetisation M of
 *   each replica's block after the last sweep (observe.h; E = -J B - H M).
 * - `state_len`/`state_get`/`state_set`: int64 values a backend needs in a
 *   checkpoint beyond the spins (none for today's kernels); they are stored
 *   under /sweeper/<name> and must not depend on the rank count.
 * - The couplings come from the providers it is given, one per disorder
 *   sample (model.h; replica r belongs to sample r / per_sample); a backend
 *   that only knows uniform couplings refuses others in `create`.
 * Every function that can fail returns an error code (error.h).
 */
#ifndef ISING_SWEEPER_H
#define ISING_SWEEPER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ising/config.h"
#include "ising/lattice.h"
#include "ising/layout.h"
#include "ising/model.h"
#include "ising/rng.h"
#include "ising/timer.h"

/* What a backend needs from the layout (asked before the layout exists). */
typedef struct ising_sweeper_needs {
  int whole_x;       /* x rows must stay whole on one rank (the grid splits y, z only) */
  int whole_replica; /* each lattice whole on one rank (ranks_per_replica = 1) */
  int block;         /* replicas are dealt to groups in blocks of this many:
                        replica r lives in group (r / block) mod G; 1 = round robin */
} ising_sweeper_needs;

/* What a backend is created with. */
typedef struct ising_sweeper_init {
  const ising_config *cfg;
  const ising_layout *lay;
  int R;                      /* replicas in all (temperatures x copies) */
  int n_local;                /* replicas of this group */
  const int *ids;             /* [n_local] their global ids, increasing */
  ising_lattice *const *lats; /* [n_local] their int8 lattices (the engine's) */
  ising_rng_key key;          /* the Monte Carlo key (rng.h) */
  ising_timer *timer;         /* phases to charge (may be NULL) */
  const ising_couplings *couplings; /* [R / per_sample]: J per bond, h per site of each
                                       disorder sample (model.h) */
  int per_sample;             /* replicas per sample: replica r has couplings[r / per_sample] */
} ising_sweeper_init;

/* The couplings of global replica id r. */
static inline const ising_couplings *ising_sweeper_couplings(const ising_sweeper_init *in, int r) {
  return &in->couplings[r / in->per_sample];
}

/* Cluster statistics of a replica's last sweep (cluster backends). */
enum {
  ISING_CLUSTER_M2,      /* an estimate of N <m^2> from this sweep's clusters, exact in the mean
                            at H = 0 (improved estimator of chi' = beta N <m^2>): Swendsen-Wang
                            sum_C M_C^2 / N, Wolff the mean of M_C^2 / |C| */
  ISING_CLUSTER_MEAN,    /* mean cluster size: Swendsen-Wang N / clusters, Wolff mean |C| */
  ISING_CLUSTER_LARGEST, /* the largest cluster's share of the N sites */
  ISING_CLUSTER_COUNT,   /* clusters: Swendsen-Wang all, Wolff the updates of the sweep */
  ISING_CLUSTER_NSTATS
};

typedef struct ising_sweeper_ops {
  const char *name;    /* the deck's [montecarlo] kernel value, or the algorithm's */
  int deck;            /* 1: a kernel a deck may name; 0: `ising bench --kernel` only;
                          2: the backend of a cluster algorithm (config.h: chosen by
                          [montecarlo] algorithm, `ising bench --algorithm`) */
  /* Deck-level checks of this backend (algorithm, couplings, sizes): 0 with
   * a reason in why[] when the deck cannot run on it, 1 when it can. */
  int (*check)(const ising_config *cfg, char *why, size_t size);
  void (*needs)(const ising_config *cfg, ising_sweeper_needs *needs);
  /* The implementation in use on this CPU, e.g. "fast/avx512". */
  const char *(*path)(void);
  int (*create)(const ising_sweeper_init *in, void **state);
  void (*destroy)(void *state);
  /* Every local replica k at models[temp_of[ids[k]]] from the next sweep on
   * (called at the start, after resume and whenever a ladder or a
   * replica's temperature changed). */
  int (*set_temperatures)(void *state, const ising_model *models, const int *temp_of);
  int (*sweep)(void *state, uint64_t t);
  int (*sums)(void *state, int64_t *bonds, int64_t *mag); /* [n_local] each */
  /* [n_local] F = sum f_i s_i of the block after the last sweep: required of
   * a backend that takes couplings with a field source (else NULL). */
  int (*field_sums)(void *state, int64_t *F);
  int (*sync)(void *state);
  int (*load)(void *state);
  /* optional (NULL: nothing) */
  int64_t (*bytes)(const void *state); /* memory beyond the int8 lattices */
  int (*state_len)(const ising_config *cfg);
  int (*state_get)(const void *state, int64_t *v);
  int (*state_set)(void *state, const int64_t *v);
  /* `ising bench`: a benchmark of its own instead of the generic one
   * (argument values already checked), or extra lines after the generic one
   * (timed: seconds the timed sweeps took, in `sweeps` sweeps). */
  int (*bench)(const ising_config *cfg, long sweeps, long repeat);
  int (*bench_report)(void *state, FILE *out, double timed, long sweeps, double sites);
  /* Cluster backends: ISING_CLUSTER_NSTATS values per local replica of the
   * last sweep (the same on every rank of the group) into out. */
  int (*cluster_stats)(void *state, double *out);
} ising_sweeper_ops;

/* The backend registered under `name`, or NULL. */
const ising_sweeper_ops *ising_sweeper_find(const char *name);
/* The registered names, "fast, reference, msc or msc-async" (deck = 1
 * ones, or with all = 1 every kernel `ising bench --kernel` takes: deck
 * 0 and 1), into buf. */
const char *ising_sweeper_names(char *buf, size_t size, int all);
/* Instruction-set paths: a build for x86-64 without ISING_NATIVE holds a
 * portable, an avx2 (x86-64-v3) and an avx512 (x86-64-v4 with VBMI2 and
 * VPOPCNTDQ) table of every built-in backend, bit for bit the same results;
 * ising_sweeper_find gives the one of the path in use: the environment's
 * ISING_ISA = portable | avx2 | avx512 where this CPU runs it, else the best
 * this CPU runs.  ising_sweeper_isa_check: ISING_ERR_INPUT, one line, when
 * ISING_ISA is set but names no path, one this CPU lacks, or any path in a
 * build without the choice, or ISING_PDEP is invalid (cpu.h).
 * ising_sweeper_isa: the path in use. */
int ising_sweeper_isa_check(void);
const char *ising_sweeper_isa(void);

/* Add a backend (tests; a name already there is ISING_ERR_INPUT). */
int ising_sweeper_register(const ising_sweeper_ops *ops);

/* The deck's kernel against the registry and its checks: a one-line
 * ISING_ERR_INPUT naming the [montecarlo] kernel key otherwise. */
int ising_sweeper_validate(const ising_config *cfg);

/* Building blocks for backends that sweep one lattice per replica (the
 * byte and msc kernels): the replicas' ids and lattices (copied from the
 * init), the tables each sweeps with, the sums of its last sweep. */
typedef struct ising_sweeper_replicas {
  int n;
  int *ids;
  ising_lattice **lats;
  const ising_model **model; /* [n] models[temp_of[ids[k]]] */
  int64_t *bonds, *mag;      /* [n] after the last sweep */
  ising_rng_key key;
  ising_timer *timer;
  const ising_layout *lay;
} ising_sweeper_replicas;

int ising_sweeper_replicas_init(ising_sweeper_replicas *r, const ising_sweeper_init *in);
void ising_sweeper_replicas_free(ising_sweeper_replicas *r);
void ising_sweeper_replicas_set_temperatures(ising_sweeper_replicas *r, const ising_model *models,
                                             const int *temp_of);
void ising_sweeper_replicas_sums(const ising_sweeper_replicas *r, int64_t *bonds, int64_t *mag);
/* ISING_ERR_INPUT unless every sample's couplings are uniform (kernels
 * with tables only). */
int ising_sweeper_uniform_only(const ising_sweeper_init *in);

/* A created backend and its table. */
typedef struct ising_sweeper {
  const ising_sweeper_ops *ops;
  void *state;
  int n_local;
} ising_sweeper;

int ising_sweeper_create(const ising_sweeper_init *in, ising_sweeper **out);
void ising_sweeper_destroy(ising_sweeper **sw);

#endif
