/*
 * engine.h -- private state of the engine (run.h), shared by its files:
 * run.c (set-up, the sweep loop, checkpoints, signals, wrap-up), series.c
 * (the time-series buffers and their rows in the output), results.c
 * (summaries, reference values, the output's result tables), report.c
 * (console output) and resume.c (continuing from a checkpoint).
 *
 * Every function below that can fail returns an error code (error.h); the
 * ones marked collective are called on every rank of the world in the same
 * order.  Nothing here is part of the public API.
 */
#ifndef ISING_ENGINE_H
#define ISING_ENGINE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "ising/baseline.h"
#include "ising/checkpoint.h"
#include "ising/config.h"
#include "ising/corr.h"
#include "ising/exact.h"
#include "ising/freeenergy.h"
#include "ising/h5io.h"
#include "ising/lattice.h"
#include "ising/layout.h"
#include "ising/model.h"
#include "ising/rng.h"
#include "ising/run.h"
#include "ising/sweeper.h"
#include "ising/tempering.h"
#include "ising/timer.h"

#define NCOL ISING_SERIES_COLUMNS /* the output's time-series columns (h5io.h) */
#define COL_CLUSTER 7               /* the first cluster column */

/* The rows of one (temperature, copy), in measurement order. */
typedef struct series {
  int64_t n, cap;
  int64_t *sweep;
  double *col[NCOL];
} series;

typedef struct replica {
  int id;
  ising_lattice *lat; /* the int8 spins; the backend keeps them up to date when asked (sync) */
} replica;

typedef struct engine {
  const ising_config *cfg;
  ising_layout *lay;
  int n_T, copies, R;
  int n_local;
  replica *local;        /* this group's replicas */
  ising_model *models;   /* [n_T], tables of the current ladder */
  ising_tempering *temper;
  ising_rng_key key;
  ising_output *out;
  int64_t *sums;         /* [3 R]: weighted bond sum, magnetisation and field sum per replica */
  double *energy;        /* [R] */
  series *all;           /* [n_T copies] series by (temperature, copy), world rank 0 */
  int32_t *tindex;       /* [R x cap] temperature index history, world rank 0 */
  int32_t *rep_hist;     /* [n_T copies x cap] replica of each row, world rank 0 */
  int64_t rows, flushed, hist_cap;
  double *ladder_hist;   /* [(rounds + 1) n_T] */
  int n_hist;
  int next_round;        /* feedback round to come */
  int64_t generation;    /* checkpoints written so far (over restarts) */
  double ckpt_seconds;   /* the longest checkpoint so far */
  double ckpt_total;     /* seconds spent writing checkpoints in this process's run */
  ising_corr *corr;      /* correlation measurements ([measurement] correlation) */
  double *corr_vals;     /* [2 R]: S(0), S(k_min) per replica at the last measurement */
  double *cstats;        /* [ISING_CLUSTER_NSTATS R]: cluster statistics of the last sweep
                            (a cluster algorithm's backend; else NULL) */
  int64_t ckpt_count;    /* checkpoints written in this process's run */
  ising_sweeper *sw;      /* the update backend of this group's replicas (sweeper.h) */
  ising_sweeper_needs needs;
  int64_t *lsums;         /* [2 n_local]: bond sums, then magnetisations, of the backend */
  ising_timer timer;      /* phases of this process's run (timer.h) */
  struct ising_disorder *dis;     /* the samples' couplings (disorder.h) */
  const ising_couplings *cpl;     /* [samples] */
  int samples, cps;       /* disorder samples (1 without [disorder]); copies per sample */
  int per_sample;         /* replicas per sample, n_T cps: replica r is of sample r / per_sample */
  int fields;             /* the couplings have a field source: F sums gathered */
  int deal;               /* replicas go to groups in blocks of this many (whole samples with
                             overlaps) */
  int *local_of;          /* [R]: local index of replica r, -1 elsewhere */
  int pairs, n_pairs_all; /* copy pairs per sample and in all (0: no overlaps) */
  int64_t *ovl;           /* overlap integers of the last measurement (overlap.c) */
  double *pairvals;       /* [3 n_T n_pairs_all]: q, q_l, S_q(k_min) by (temperature, pair) */
  int8_t *dbuf;           /* two blocks of spins (overlap.c) */
  series *pall;           /* [n_T n_pairs_all] pair series by (temperature, pair), world rank 0 */
  struct glass *glass;    /* disorder results (glass.c) */
  int n_bstate;           /* the backend's checkpoint state (sweeper.h) */
  int64_t *bstate;        /* [n_bstate] */
  int lock_fd;            /* OUTPUT.lock held by world rank 0 (h5io.h); -1: none */
  int64_t *batch;         /* [batch_cap x (2 or 3) R]: local sums of measured sweeps not yet
                             added over the world (run.c); NULL: every measurement adds at once */
  int64_t *batch_t;       /* [batch_cap]: their sweep indices */
  int batch_n, batch_cap;
} engine;

/* Reference values at one temperature of the final ladder; a have_ flag is
 * 0 where the value does not exist for the deck or could not be computed. */
typedef struct engine_ref {
  int have_kaufman, have_onsager; /* 2D, H = 0 */
  int have_enum;                  /* at most 20 sites */
  int have_baseline;
  ising_exact_obs kaufman, onsager, enumeration;
  ising_baseline_point baseline;
} engine_ref;

/* The references of every temperature and the free energy by
 * thermodynamic integration: made once at the end of a run, on every rank
 * alike, for the output tables and the console. */
typedef struct engine_refs {
  int n_T;
  engine_ref *at;     /* [n_T] */
  int have_ti;        /* free energy computed */
  ising_ti_point *ti; /* [n_T] when have_ti */
  char why[512];      /* why not, when !have_ti */
} engine_refs;

/* run.c */
/* The acceptance tables of temperatures T[0 .. n_T-1]. */
int models_init(engine *E, const double *T);
/* This rank's replicas as the checkpoint module takes them (*loc: free()). */
int engine_ckpt_replicas(const engine *E, ising_ckpt_replica **loc);
/* Set up (resuming: from the checkpoint, resume.c), sweep, wrap up and free
 * an engine for `cfg` (collective); res is zeroed by the caller. */
int engine_run(MPI_Comm comm, const ising_config *cfg, const ising_run_options *opt,
               ising_run_result *res, int resuming);

/* overlap.c (with [measurement] overlap) */
int engine_overlap_create(engine *E);
void engine_overlap_free(engine *E);
/* q, q_l, S_q(k_min) of every pair into E->pairvals (collective). */
int engine_measure_overlaps(engine *E);

/* glass.c: the results of a [disorder] run: compute (world rank 0; the
 * summaries' e and c become disorder averages; collective), write the
 * tables (collective), print (rank 0), free. */
int engine_glass_results(engine *E, ising_run_result *res);
int engine_glass_write(engine *E);
void engine_glass_print(const engine *E);
void engine_glass_free(engine *E);

/* series.c: rows are kept on world rank 0 */
int engine_series_create(engine *E);
void engine_series_destroy(engine *E);
/* File one row per (temperature, copy) of the sums and correlations of the
 * last sweep, numbered `sweep` (every rank calls it: all count the rows,
 * world rank 0 keeps them). */
int engine_measure(engine *E, int64_t sweep);
/* Append the rows not yet in the output (collective). */
int engine_flush_rows(engine *E);
/* Take the output's first `rows` rows back after a resume (collective). */
int engine_series_reload(engine *E, int64_t rows);

/* results.c */
/* Summaries per temperature (copies pooled); world rank 0 only. */
int engine_summaries(engine *E, ising_run_result *res);
/* The references and free energy of the final ladder from the broadcast
 * summaries, and res's single-temperature reference fields; free with
 * engine_refs_free (also after a failure). */
int engine_refs_make(const engine *E, ising_run_result *res, engine_refs *ref);
void engine_refs_free(engine_refs *ref);
/* /summary, /baseline, /reference, /tempering, /free_energy and
 * /correlation (collective). */
int engine_write_tables(engine *E, const engine_refs *ref, const ising_run_result *res);

/* report.c: stdout, world rank 0 only */
/* The start line; `lat` is one of this rank's lattices. */
void engine_print_banner(const engine *E, const ising_lattice *lat, int resuming);
/* A progress line after sweep `step` of `total` (`from`: the first sweep of
 * this invocation; `elapsed` seconds since then; `rate` in flips/ns). */
void engine_print_progress(int64_t step, int64_t from, int64_t total, int thermalising,
                           double elapsed, double rate);
/* The summary table of a finished run. */
void engine_print_results(const engine *E, const engine_refs *ref, const ising_run_result *res);

/* resume.c */
/* Load the checkpoint and the output's rows into a set-up engine; *from:
 * the next sweep (collective). */
int resume_state(engine *E, int64_t *from);

#endif
