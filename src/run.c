/*
 * run.c -- the engine's schedule (see run.h): set-up, the sweep loop,
 * checkpoints, signals and wrap-up.  The time series live in series.c, the
 * summaries, references and result tables in results.c, the console output
 * in report.c and the resume in resume.c; engine.h is the state they share.
 *
 * R = n_T x copies replicas are spread over the replica groups of the layout
 * in blocks of the update backend's (replica r lives in group (r / block)
 * mod G; block 1 for most backends, 64 for msc-async).  How a sweep is done
 * is the backend's business (sweeper.h, chosen by [montecarlo] kernel): the
 * engine gives it the tables of the temperature each replica holds now and
 * the sweep number t (0-based, counting thermalisation), which with the
 * replica id keys the random numbers, so the run is a pure function of the
 * deck whatever the rank layout.
 *
 * At a measurement or an exchange step the bond sums and magnetisations of
 * all replicas (exact integers) are summed over the world in one call, so
 * every rank holds every replica's energy: the exchange decisions
 * (tempering.c) are computed identically everywhere and only energies cross
 * groups.  Rows are filed by temperature, buffered, and appended to the
 * output in chunks of a fixed count (a deterministic schedule, so the
 * collective HDF5 calls line up).  With adapt = feedback, the first half of
 * the thermalisation is split into rounds of doubling length after each of
 * which the ladder is re-optimised; the ladder is frozen for the second
 * half and the measurements.  Summaries are computed on world rank 0 from
 * the full series and broadcast.
 */
#include "ising/run.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "h5util.h"
#include "ising/disorder.h"
#include "ising/error.h"
#include "ising/observe.h"
#include "ising/sweeper.h"
#include "ising/timer.h"

#define FLUSH_ROWS 4096


/* Set by the signal handler; read at the agreement points of the loop. */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

static const int stop_signals[] = {SIGTERM, SIGINT, SIGUSR1, SIGXCPU};
#define N_STOP_SIGNALS 4

static void install_handlers(struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  /* a signal that arrived before (ising_signals_install) is kept */
  for (int i = 0; i < N_STOP_SIGNALS; i++) sigaction(stop_signals[i], &sa, &old[i]);
}

void ising_signals_install(void) {
  struct sigaction old[N_STOP_SIGNALS];
  install_handlers(old);
}

void ising_signals_release(void) {
  for (int i = 0; i < N_STOP_SIGNALS; i++) signal(stop_signals[i], SIG_DFL);
  if (stop_signal) raise(stop_signal); /* one that came meanwhile ends the process now */
}

static void restore_handlers(const struct sigaction *old) {
  for (int i = 0; i < N_STOP_SIGNALS; i++) sigaction(stop_signals[i], &old[i], NULL);
}

static const char *signal_name(int sig) {
  switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGUSR1: return "SIGUSR1";
    case SIGXCPU: return "SIGXCPU";
    default: return "a signal";
  }
}

/* Which ranks saw a stop signal, as agreed by one max over the world:
 * v[0] the signal (the largest number seen), v[1] world size minus the
 * lowest such rank, v[2] the highest such rank plus one (all 0: none). */
static void signal_flags(const ising_layout *lay, int *v) {
  int sig = stop_signal;
  v[0] = sig;
  v[1] = sig ? lay->world_size - lay->world_rank : 0;
  v[2] = sig ? lay->world_rank + 1 : 0;
}

/* "SIGTERM received on rank 1" from agreed signal_flags. */
static void signal_text(const ising_layout *lay, const int *v, char *buf, size_t size) {
  int lo = lay->world_size - v[1], hi = v[2] - 1;
  if (lo == hi)
    snprintf(buf, size, "%s received on rank %d", signal_name(v[0]), lo);
  else
    snprintf(buf, size, "%s received on ranks %d to %d", signal_name(v[0]), lo, hi);
}

static double wall_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int models_init(engine *E, const double *T) {
  for (int i = 0; i < E->n_T; i++)
    ISING_CALL(ising_model_init(&E->models[i], E->cfg->dim, E->cfg->J, E->cfg->H, T[i],
                                E->cfg->algorithm));
  return ISING_OK;
}

/* ------------------------------------------------------------ engine */

/* The sums of one sweep: bond sums and magnetisations (and field sums) of
 * all replicas. */
static int sums_len(const engine *E) { return (E->fields ? 3 : 2) * E->R; }

/* This group's share of the sums of the last sweep into dst[sums_len]
 * (zero for the replicas of other groups). */
static int local_sums(engine *E, int64_t *dst) {
  const int n = E->n_local;
  ISING_CALL(E->sw->ops->sums(E->sw->state, E->lsums, E->lsums + n));
  if (E->fields) ISING_CALL(E->sw->ops->field_sums(E->sw->state, E->lsums + 2 * n));
  memset(dst, 0, (size_t)sums_len(E) * sizeof *dst);
  for (int k = 0; k < n; k++) {
    int r = E->local[k].id;
    dst[2 * r] = E->lsums[k];
    dst[2 * r + 1] = E->lsums[n + k];
    if (E->fields) dst[2 * E->R + r] = E->lsums[2 * n + k];
  }
  return ISING_OK;
}

static void set_energies(engine *E) {
  for (int r = 0; r < E->R; r++)
    E->energy[r] = ising_couplings_energy(&E->cpl[r / E->per_sample], E->sums[2 * r],
                                          E->sums[2 * r + 1], E->fields ? E->sums[2 * E->R + r] : 0);
}

/* Measurements whose rows need nothing else of the world (no correlations,
 * overlaps or cluster statistics) wait in a batch: their sums are added
 * over the world in one call when the batch is full (64 sweeps, or 1 MiB)
 * or before anything reads them (an exchange, a ladder update, a
 * checkpoint, the end), so that small lattices on several ranks do not
 * wait for a sum over the world after every sweep.  Integer sums: the rows
 * are the same bits as with one sum per sweep. */
#define BATCH_MAX_ROWS 64
#define BATCH_MAX_BYTES (1 << 20)

static int batch_create(engine *E) {
  if (E->corr || E->pairvals || E->cstats) return ISING_OK;
  int64_t rows = BATCH_MAX_BYTES / ((int64_t)sums_len(E) * (int64_t)sizeof(int64_t));
  if (rows > BATCH_MAX_ROWS) rows = BATCH_MAX_ROWS;
  if (rows < 2) return ISING_OK;
  E->batch = malloc((size_t)(rows * sums_len(E)) * sizeof *E->batch);
  E->batch_t = malloc((size_t)rows * sizeof *E->batch_t);
  ISING_CHECK(E->batch && E->batch_t, ISING_ERR_MEM, "out of memory (measurement batch)");
  E->batch_cap = (int)rows;
  return ISING_OK;
}

/* Charge the time since *tm to measuring, append the buffered rows to the
 * output once FLUSH_ROWS are waiting and charge that to output (collective);
 * *tm becomes now. */
static int rows_filed(engine *E, double *tm) {
  *tm = ising_timer_add(&E->timer, ISING_PHASE_MEASURE, *tm);
  if (E->rows - E->flushed >= FLUSH_ROWS) ISING_CALL(engine_flush_rows(E));
  *tm = ising_timer_add(&E->timer, ISING_PHASE_OUTPUT, *tm);
  return ISING_OK;
}

/* The batch's sums over the world, then their rows, in sweep order
 * (collective). */
static int batch_flush(engine *E) {
  if (E->batch_n == 0) return ISING_OK;
  const int S = sums_len(E);
  double tm = ising_timer_now();
  ISING_CALL(ising_world_sum_i64(E->lay, E->batch, E->batch_n * S));
  for (int b = 0; b < E->batch_n; b++) {
    memcpy(E->sums, E->batch + (int64_t)b * S, (size_t)S * sizeof *E->sums);
    set_energies(E);
    ISING_CALL(engine_measure(E, E->batch_t[b]));
  }
  E->batch_n = 0;
  return rows_filed(E, &tm);
}

/* Bond sums and magnetisations of all replicas on every rank: the kernels'
 * block sums of the last sweep, added over the world. */
static int gather_sums(engine *E) {
  ISING_CALL(local_sums(E, E->sums));
  ISING_CALL(ising_world_sum_i64(E->lay, E->sums, sums_len(E)));
  if (E->cstats) { /* the same on every rank of a group: group rank 0 gives them */
    const int S = ISING_CLUSTER_NSTATS, n = E->n_local;
    double *loc = calloc((size_t)(S * (n ? n : 1)), sizeof *loc);
    ISING_CHECK(loc, ISING_ERR_MEM, "out of memory");
    int rc = E->sw->ops->cluster_stats(E->sw->state, loc);
    memset(E->cstats, 0, (size_t)(S * E->R) * sizeof *E->cstats);
    for (int k = 0; k < n && !rc && E->lay->group_rank == 0; k++)
      memcpy(E->cstats + S * E->local[k].id, loc + S * k, S * sizeof *loc);
    free(loc);
    ISING_CALL(rc);
    ISING_CALL(ising_world_sum_double(E->lay, E->cstats, S * E->R));
  }
  set_energies(E);
  return ISING_OK;
}

/* S(0) and S(k_min) of every replica on every rank (collective): each group
 * measures its replicas (the full S(k) every sk_every-th measurement), group
 * rank 0 contributes the values, one sum over the world spreads them. */
static int measure_correlations(engine *E) {
  memset(E->corr_vals, 0, (size_t)(2 * E->R) * sizeof *E->corr_vals);
  ISING_CALL(E->sw->ops->sync(E->sw->state));
  int full = E->cfg->sk_every > 0 && E->rows % E->cfg->sk_every == 0;
  for (int k = 0; k < E->n_local; k++) {
    const replica *rp = &E->local[k];
    int t = E->temper->temp_of[rp->id];
    double s0, sk;
    if (full)
      ISING_CALL(ising_corr_measure(E->corr, rp->lat, t, &s0, &sk));
    else
      ISING_CALL(ising_corr_measure_kmin(E->corr, rp->lat, t, &s0, &sk));
    if (E->lay->group_rank == 0) {
      E->corr_vals[2 * rp->id] = s0;
      E->corr_vals[2 * rp->id + 1] = sk;
    }
  }
  return ising_world_sum_double(E->lay, E->corr_vals, 2 * E->R);
}

/* One sweep of every replica of this group, each at the temperature it
 * holds now (tempering and ladder feedback change them between sweeps). */
static int sweep_all(engine *E, uint64_t t) {
  double t0 = ising_timer_now(), halo = E->timer.total[ISING_PHASE_HALO];
  ISING_CALL(E->sw->ops->set_temperatures(E->sw->state, E->models, E->temper->temp_of));
  ISING_CALL(E->sw->ops->sweep(E->sw->state, t));
  /* the backend charged its halo refreshes; the rest is the sweep's */
  ising_timer_add(&E->timer, ISING_PHASE_SWEEP, t0 + (E->timer.total[ISING_PHASE_HALO] - halo));
  return ISING_OK;
}

static int record_ladder(engine *E) {
  memcpy(E->ladder_hist + (size_t)E->n_hist * (size_t)E->n_T, E->temper->T, (size_t)E->n_T * sizeof(double));
  E->n_hist++;
  return ISING_OK;
}

/* Sweep index after which feedback round k (1..rounds) ends. */
static int64_t round_end(const ising_config *cfg, int k) {
  int64_t half = cfg->thermalization / 2;
  return (int64_t)((double)half * (double)((1LL << k) - 1) / (double)((1LL << cfg->adapt_rounds) - 1)) - 1;
}

int engine_ckpt_replicas(const engine *E, ising_ckpt_replica **loc) {
  *loc = calloc((size_t)(E->n_local ? E->n_local : 1), sizeof **loc);
  ISING_CHECK(*loc, ISING_ERR_MEM, "out of memory");
  for (int k = 0; k < E->n_local; k++) {
    (*loc)[k].id = E->local[k].id;
    (*loc)[k].lat = E->local[k].lat;
  }
  return ISING_OK;
}

/* Write a checkpoint generation after `done` sweeps (collective): the
 * output's rows first, flushed and synced, then the state. */
static int checkpoint(engine *E, int64_t done) {
  const double t0 = ising_timer_now();
  ISING_CALL(engine_flush_rows(E));
  ISING_CALL(ising_output_sync(E->out));
  ISING_CALL(E->sw->ops->sync(E->sw->state));
  if (E->n_bstate > 0) ISING_CALL(E->sw->ops->state_get(E->sw->state, E->bstate));
  ising_ckpt_replica *loc;
  ISING_CALL(engine_ckpt_replicas(E, &loc));
  ising_ckpt_state st = {done, E->rows, E->generation + 1, E->next_round, E->n_hist,
                         E->ladder_hist, E->temper, E->corr, ising_config_backend(E->cfg), E->n_bstate,
                         E->bstate, ising_disorder_checksum(E->dis)};
  int rc = ising_ckpt_write(E->lay, E->cfg, &st, E->n_local, loc);
  free(loc);
  ISING_CALL(rc);
  E->generation++;
  double dt = ising_timer_add(&E->timer, ISING_PHASE_CHECKPOINT, t0) - t0;
  ISING_CALL(ising_world_max_double(E->lay, &dt));
  if (dt > E->ckpt_seconds) E->ckpt_seconds = dt;
  E->ckpt_total += dt;
  E->ckpt_count++;
  return ISING_OK;
}

/* Phase and checkpoint timings of this invocation (/timing and root
 * attributes), for the benchmark and the user. */
static int note_checkpoints(engine *E) {
  double v[ISING_PHASES];
  const char *names[ISING_PHASES];
  for (int p = 0; p < ISING_PHASES; p++) {
    v[p] = E->timer.total[p];
    names[p] = ising_timer_name((ising_phase)p);
  }
  for (int p = 0; p < ISING_PHASES; p++) ISING_CALL(ising_world_max_double(E->lay, &v[p]));
  ISING_CALL(ising_output_timing(E->out, ISING_PHASES, names, v));
  ISING_CALL(ising_output_note(E->out, "checkpoints_written", (double)E->ckpt_count));
  ISING_CALL(ising_output_note(E->out, "checkpoint_seconds_total", E->ckpt_total));
  return ising_output_note(E->out, "checkpoint_seconds_max", E->ckpt_seconds);
}

/* Sweeps between agreement points (signals, wall time, timed checkpoints):
 * about 4 ms of sweeping per rank, from the work per sweep (the same number
 * on every rank), so that the small collective costs nothing measurable. */
static int64_t agreement_interval(const engine *E) {
  double work = (double)ising_config_sites(E->cfg) * E->R / E->lay->world_size; /* site updates */
  double k = ceil(4e6 / (work > 1 ? work : 1));
  return k < 1 ? 1 : (int64_t)k;
}

static int engine_loop(engine *E, const ising_run_options *opt, ising_run_result *res,
                       int64_t from) {
  const ising_config *cfg = E->cfg;
  const int64_t total = cfg->thermalization + cfg->sweeps;
  const double N = (double)ising_config_sites(cfg);
  const int talk = E->lay->world_rank == 0 && !opt->quiet;
  const int tempering = E->n_T >= 2;
  const int adapting = tempering && cfg->adapt == ISING_ADAPT_FEEDBACK && E->n_T >= 3;
  const int64_t agree_every = agreement_interval(E);
  double deadline = 0; /* wall-clock time (epoch seconds) by which to have stopped */
  if (opt->walltime > 0) deadline = opt->start_time + opt->walltime;
  const char *slurm_end = getenv("SLURM_JOB_END_TIME");
  if (slurm_end && *slurm_end) {
    double end = atof(slurm_end);
    if (end > 0 && (deadline == 0 || end < deadline)) deadline = end;
  }
  double t0 = ising_timer_now(), last = t0, last_ckpt = t0;
  char why[96] = "";
  res->stopped = 0;
  for (int64_t t = from; t < total; t++) {
    ISING_CALL(sweep_all(E, (uint64_t)t));
    int64_t done = t + 1 - cfg->thermalization;
    int measure_now = done > 0 && done % cfg->interval == 0;
    int exchange_now = tempering && (t + 1) % cfg->exchange_interval == 0;
    double tm = ising_timer_now();
    if (measure_now && !exchange_now && E->batch) {
      ISING_CALL(local_sums(E, E->batch + (int64_t)E->batch_n * sums_len(E)));
      E->batch_t[E->batch_n++] = t;
      ising_timer_add(&E->timer, ISING_PHASE_MEASURE, tm);
      if (E->batch_n == E->batch_cap) ISING_CALL(batch_flush(E));
      measure_now = 0;
    }
    if (measure_now || exchange_now) {
      ISING_CALL(batch_flush(E));
      tm = ising_timer_now();
      ISING_CALL(gather_sums(E));
    }
    if (measure_now) {
      if (E->corr) ISING_CALL(measure_correlations(E));
      if (E->pairvals) ISING_CALL(engine_measure_overlaps(E));
      ISING_CALL(engine_measure(E, t));
      ISING_CALL(rows_filed(E, &tm));
    }
    if (exchange_now) {
      ising_tempering_exchange(E->temper, E->key, (uint64_t)t, E->energy);
      ising_timer_add(&E->timer, ISING_PHASE_EXCHANGE, tm);
    }
    if (adapting && E->next_round <= cfg->adapt_rounds && t == round_end(cfg, E->next_round)) {
      ISING_CALL(batch_flush(E));
      int rc = ising_tempering_adapt(E->temper);
      if (rc) return rc;
      ISING_CALL(models_init(E, E->temper->T));
      ISING_CALL(record_ladder(E));
      E->next_round++;
    }
    if (tempering && t + 1 == cfg->thermalization) ising_tempering_reset_stats(E->temper);
    /* checkpoints and stops, decided alike on every rank */
    int do_ckpt = cfg->ckpt_sweeps > 0 && (t + 1) % cfg->ckpt_sweeps == 0, stop = 0;
    if ((t + 1 - from) % agree_every == 0) {
      double now = ising_timer_now();
      /* signal_flags, a timed checkpoint due, the wall-time budget reached */
      int flags[5];
      signal_flags(E->lay, flags);
      flags[3] = cfg->ckpt_minutes > 0 && now - last_ckpt >= 60.0 * cfg->ckpt_minutes;
      /* stop in time for one more checkpoint and some slack */
      double margin = ISING_WALLTIME_SLACK + 3.0 * E->ckpt_seconds;
      flags[4] = deadline > 0 && wall_clock() + margin >= deadline;
      ISING_CALL(ising_world_max_ints(E->lay, flags, 5));
      stop = flags[0] || flags[4];
      do_ckpt |= flags[3] | stop;
      if (flags[0])
        signal_text(E->lay, flags, why, sizeof why);
      else if (flags[4])
        snprintf(why, sizeof why, "wall-time budget");
    }
    if (t + 1 == total) do_ckpt = stop = 0; /* the final checkpoint follows the loop */
    if (do_ckpt) {
      ISING_CALL(batch_flush(E));
      ISING_CALL(checkpoint(E, t + 1));
      last_ckpt = ising_timer_now();
    }
    if (stop) {
      res->stopped = 1;
      res->sweeps_done = t + 1;
      if (talk)
        printf("ising: stopping at sweep %lld of %lld (%s); checkpoint written, continue with: "
               "ising resume %s\n", (long long)(t + 1), (long long)total, why, cfg->file);
      break;
    }
    if (talk && cfg->progress > 0) {
      double now = ising_timer_now();
      if (now - last >= cfg->progress) {
        double rate = (double)(t + 1 - from) * N * E->R / (now - t0) * 1e-9;
        engine_print_progress(t + 1, from, total, done <= 0, now - t0, rate);
        last = now;
      }
    }
  }
  if (!res->stopped) {
    ISING_CALL(batch_flush(E));
    double tf = ising_timer_now();
    ISING_CALL(engine_flush_rows(E));
    ising_timer_add(&E->timer, ISING_PHASE_OUTPUT, tf);
    res->sweeps_done = total;
  }
  double wall = ising_timer_now() - t0;
  ISING_CALL(ising_world_max_double(E->lay, &wall));
  res->wall_seconds = wall;
  res->flips_per_ns = (double)(res->sweeps_done - from) * N * E->R / (wall > 0 ? wall : 1) * 1e-9;
  return ISING_OK;
}

static int check_measurements(const ising_config *cfg) {
  int64_t n = cfg->sweeps / cfg->interval;
  char w1[256], w2[256];
  /* the sweep number is 32 bits of the random-number counter (rng.h) */
  if (cfg->thermalization + cfg->sweeps > (int64_t)UINT32_MAX)
    return ISING_ERR(ISING_ERR_INPUT,
                     "%s and %s: at most %lld sweeps in all (the sweep is a 32-bit counter of "
                     "the random numbers)",
                     ising_config_where(cfg, "montecarlo", "thermalization", w1, sizeof w1),
                     ising_config_where(cfg, "montecarlo", "sweeps", w2, sizeof w2),
                     (long long)UINT32_MAX);
  if (n >= ISING_STATS_MIN_BINS) return ISING_OK;
  return ISING_ERR(ISING_ERR_INPUT,
                   "%s and %s: only %lld measurements; error bars by binning need at least %d "
                   "(sweeps / interval >= %d)",
                   ising_config_where(cfg, "montecarlo", "sweeps", w1, sizeof w1),
                   ising_config_where(cfg, "measurement", "interval", w2, sizeof w2),
                   (long long)n, ISING_STATS_MIN_BINS, ISING_STATS_MIN_BINS);
}

/* What the backend needs of the layout (sweeper.h), checked before anything
 * is written. */
static int check_backend_layout(const engine *E) {
  const ising_config *cfg = E->cfg;
  char w[256];
  const int B = E->deal, blocks = (E->R + B - 1) / B;
  if (E->needs.whole_replica && E->lay->group_size != 1)
    return ISING_ERR(ISING_ERR_INPUT, "%s: %s = %s keeps each lattice whole on one rank; "
                     "set ranks_per_replica = 1 (%d ranks now share one)",
                     ising_config_where(cfg, "parallel", "ranks_per_replica", w, sizeof w),
                     ising_algorithm_is_cluster(cfg->algorithm) ? "algorithm" : "kernel",
                     ising_config_backend(cfg), E->lay->group_size);
  if (B > 1 && E->lay->n_groups > blocks && E->deal != E->needs.block)
    return ISING_ERR(ISING_ERR_INPUT, "%s: the %d ranks make %d replica groups, but overlaps keep "
                     "the %d replicas of a sample (temperatures x copies) in one group and there "
                     "are only %d such block%s; use at most %d group%s (ranks / ranks_per_replica)",
                     ising_config_where(cfg, "parallel", "ranks_per_replica", w, sizeof w),
                     E->lay->world_size, E->lay->n_groups, E->per_sample, blocks,
                     blocks > 1 ? "s" : "", blocks, blocks > 1 ? "s" : "");
  if (B > 1 && E->lay->n_groups > blocks)
    return ISING_ERR(ISING_ERR_INPUT, "%s: kernel = %s packs the %d replicas (temperatures x "
                     "copies) into %d set%s of %d and never splits a set, so at most %d rank%s can "
                     "work; use that many ranks or more copies",
                     ising_config_where(cfg, "parallel", "ranks_per_replica", w, sizeof w),
                     ising_config_backend(cfg), E->R, blocks, blocks > 1 ? "s" : "", B, blocks,
                     blocks > 1 ? "s" : "");
  return ISING_OK;
}

/* The backend for this group's replicas (after their lattices exist). */
static int create_backend(engine *E) {
  const int n = E->n_local;
  int *ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
  ising_lattice **lats = malloc((size_t)(n ? n : 1) * sizeof *lats);
  E->lsums = calloc((size_t)(3 * (n ? n : 1)), sizeof *E->lsums);
  int rc = ids && lats && E->lsums ? ISING_OK : ISING_ERR(ISING_ERR_MEM, "out of memory");
  for (int k = 0; k < n && !rc; k++) {
    ids[k] = E->local[k].id;
    lats[k] = E->local[k].lat;
  }
  ising_sweeper_init in = {E->cfg, E->lay, E->R, n, ids, lats, E->key, &E->timer, E->cpl,
                           E->per_sample};
  if (!rc) rc = ising_sweeper_create(&in, &E->sw);
  free(ids);
  free(lats);
  ISING_CALL(rc);
  const ising_sweeper_ops *ops = E->sw->ops;
  E->n_bstate = ops->state_len ? ops->state_len(E->cfg) : 0;
  ISING_CHECK(E->n_bstate <= 0 || (ops->state_get && ops->state_set), ISING_ERR_INTERNAL,
              "backend %s: checkpoint state without state_get/state_set", ops->name);
  E->bstate = calloc((size_t)(E->n_bstate > 0 ? E->n_bstate : 1), sizeof *E->bstate);
  ISING_CHECK(E->bstate, ISING_ERR_MEM, "out of memory");
  return ISING_OK;
}

/* Layout, replicas, tables, output check (fresh runs).  `resuming`: no
 * output check and no initial spins (they come from the checkpoint). */
static int setup(engine *E, MPI_Comm comm, const ising_run_options *opt, ising_run_result *res,
                 int resuming) {
  const ising_config *cfg = E->cfg;
  ISING_CALL(ising_sweeper_validate(cfg));
  ISING_CALL(check_measurements(cfg));
  E->n_T = cfg->n_temps;
  E->samples = cfg->disorder ? cfg->samples : 1;
  E->cps = cfg->copies;
  E->copies = E->samples * E->cps; /* the ladders: (sample, copy) */
  E->R = E->n_T * E->copies;
  E->per_sample = E->n_T * E->cps;
  E->pairs = ising_config_overlap(cfg) ? E->cps * (E->cps - 1) / 2 : 0;
  E->n_pairs_all = E->pairs * E->samples;
  ising_sweeper_find(ising_config_backend(cfg))->needs(cfg, &E->needs);
  E->deal = E->needs.block;
  if (ising_config_overlap(cfg)) { /* whole samples per group: lcm(block, per_sample) */
    int a = E->deal, b = E->per_sample;
    while (b) {
      int r = a % b;
      a = b;
      b = r;
    }
    E->deal = E->deal / a * E->per_sample;
  }
  if (cfg->rng == ISING_RNG_ARS && !ising_rng_ars_available()) {
    char w[256];
    return ISING_ERR(ISING_ERR_INPUT, "%s: rng = ars needs a CPU with AES-NI, which this one "
                     "lacks (use rng = philox)",
                     ising_config_where(cfg, "montecarlo", "rng", w, sizeof w));
  }
  ISING_CALL(ising_disorder_create(cfg, &E->dis));
  E->cpl = ising_disorder_couplings(E->dis);
  E->fields = E->cpl[0].field != NULL;
  if (E->fields)
    ISING_CHECK(ising_sweeper_find(ising_config_backend(cfg))->field_sums, ISING_ERR_INPUT,
                "[montecarlo] kernel = %s does not take random fields ([disorder] fields)",
                ising_config_backend(cfg));
  ISING_CALL(ising_layout_create_rows(comm, cfg, cfg->ranks_per_replica, E->needs.whole_x, &E->lay));
  ISING_CALL(check_backend_layout(E));
  if (E->lay->n_groups > E->R) {
    char w[256];
    int size = E->lay->world_size, fit = size;
    for (int d = 1; d <= size; d++)
      if (size % d == 0 && size / d <= E->R) {
        fit = d;
        break;
      }
    return ISING_ERR(ISING_ERR_INPUT,
                     "%s: %d ranks make %d replica groups but there are only %d replicas "
                     "(temperatures x copies): groups would idle; use ranks_per_replica = %d "
                     "(or a larger divisor of %d)",
                     ising_config_where(cfg, "parallel", "ranks_per_replica", w, sizeof w), size,
                     E->lay->n_groups, E->R, fit, size);
  }
  if (!resuming) ISING_CALL(ising_output_check(E->lay->world, cfg, opt->force));
  ISING_CALL(ising_output_lock(E->lay->world, cfg->file, &E->lock_fd));
  E->models = calloc((size_t)E->n_T, sizeof *E->models);
  E->sums = calloc((size_t)(3 * E->R), sizeof *E->sums);
  E->local_of = malloc((size_t)E->R * sizeof *E->local_of);
  E->energy = calloc((size_t)E->R, sizeof *E->energy);
  E->local = calloc((size_t)E->R, sizeof *E->local);
  E->ladder_hist = calloc((size_t)(cfg->adapt_rounds + 1) * (size_t)E->n_T, sizeof *E->ladder_hist);
  res->summaries = calloc((size_t)E->n_T, sizeof *res->summaries);
  ISING_CHECK(E->models && E->sums && E->energy && E->local && E->ladder_hist && res->summaries &&
                  E->local_of,
              ISING_ERR_MEM, "out of memory");
  ISING_CALL(engine_series_create(E));
  ISING_CALL(ising_tempering_create(E->n_T, E->copies, cfg->temps, &E->temper));
  ISING_CALL(models_init(E, cfg->temps));
  E->corr_vals = calloc((size_t)(2 * E->R), sizeof *E->corr_vals);
  ISING_CHECK(E->corr_vals, ISING_ERR_MEM, "out of memory");
  if (ising_sweeper_find(ising_config_backend(cfg))->cluster_stats) {
    E->cstats = calloc((size_t)(ISING_CLUSTER_NSTATS * E->R), sizeof *E->cstats);
    ISING_CHECK(E->cstats, ISING_ERR_MEM, "out of memory");
  }
  if (cfg->correlation) ISING_CALL(ising_corr_create(E->lay, E->n_T, 1, &E->corr));
  ISING_CALL(record_ladder(E));
  E->next_round = 1;
  E->key = ising_rng_key_from_seed(cfg->seed);
  E->key.alg = (uint32_t)cfg->rng;
  for (int r = 0; r < E->R; r++) {
    /* replicas round robin over the groups in blocks of the backend's
     * (needs.block; whole samples with overlaps), in increasing order */
    E->local_of[r] = -1;
    if ((r / E->deal) % E->lay->n_groups != E->lay->group_index) continue;
    E->local_of[r] = E->n_local;
    replica *rp = &E->local[E->n_local++];
    rp->id = r;
    ISING_CALL(ising_lattice_create(E->lay, &rp->lat));
    if (resuming) continue;
    if (cfg->start == ISING_START_HOT)
      ISING_CALL(ising_lattice_fill_hot(rp->lat, E->key, (uint32_t)r));
    else
      ISING_CALL(ising_lattice_fill_cold(rp->lat, 1));
  }
  ISING_CALL(create_backend(E));
  ISING_CALL(engine_overlap_create(E));
  ISING_CALL(batch_create(E));
  if (!resuming) ISING_CALL(E->sw->ops->load(E->sw->state)); /* the start */
  const char *kname = E->sw->ops->path();
  if (E->lay->world_rank == 0 && !opt->quiet) engine_print_banner(E, E->local[0].lat, resuming);
  if (!resuming) {
    /* checkpoints of an earlier run under this name are not this run's */
    if (E->lay->world_rank == 0) {
      char cur[ISING_PATH_MAX + 16], old[ISING_PATH_MAX + 16];
      ising_ckpt_paths(cfg->file, cur, old, sizeof cur);
      unlink(cur);
      unlink(old);
    }
    ISING_CALL(ising_output_create(E->lay->world, cfg, opt->force, E->lay->procs,
                                   E->lay->n_groups, kname, &E->out));
    if (!ising_disorder_is_uniform(E->dis)) ISING_CALL(ising_output_write_disorder(E->out, cfg, E->dis));
  }
  return ISING_OK;
}

/* Summaries, results, final checkpoint, closing the output. */
static int finish(engine *E, const ising_run_options *opt, ising_run_result *res) {
  if (res->stopped) {
    ISING_CALL(note_checkpoints(E));
    ISING_CALL(ising_output_finish(E->out, "stopped", res->sweeps_done, res->wall_seconds,
                                   res->flips_per_ns));
    return ising_output_close(&E->out);
  }
  int rc = E->lay->world_rank == 0 ? engine_summaries(E, res) : ISING_OK;
  ISING_CALL(ising_h5_agree(E->lay->world, rc));
  ISING_CALL(ising_world_bcast(E->lay, res->summaries, (int)((size_t)E->n_T * sizeof *res->summaries), 0));
  if (E->cfg->disorder) ISING_CALL(engine_glass_results(E, res));
  res->n_temps = E->n_T;
  res->summary = res->summaries[0];
  for (int t = 0; t < E->n_T; t++) res->T[t] = E->temper->T[t];
  engine_refs ref;
  rc = engine_refs_make(E, res, &ref);
  if (!rc) rc = engine_write_tables(E, &ref, res);
  if (!rc && E->glass) rc = engine_glass_write(E);
  /* the final state, so that --sweeps can extend the run */
  if (!rc) rc = checkpoint(E, res->sweeps_done);
  if (!rc) rc = note_checkpoints(E);
  if (!rc)
    rc = ising_output_finish(E->out, "finished", res->sweeps_done, res->wall_seconds,
                             res->flips_per_ns);
  if (!rc) rc = ising_output_close(&E->out);
  if (!rc && E->lay->world_rank == 0 && !opt->quiet) engine_print_results(E, &ref, res);
  if (!rc && E->lay->world_rank == 0 && !opt->quiet) engine_glass_print(E);
  engine_refs_free(&ref);
  return rc;
}

/* A stop signal that came after the loop's last agreement point (or in a
 * run too short to have one) cannot stop the run any more: it is reported
 * (rank 0, stderr); the run finished. */
static int report_late_signal(const engine *E) {
  int v[3];
  signal_flags(E->lay, v);
  ISING_CALL(ising_world_max_ints(E->lay, v, 3));
  if (v[0] && E->lay->world_rank == 0) {
    char what[96];
    signal_text(E->lay, v, what, sizeof what);
    fprintf(stderr, "ising: %s when no stopping point was left; the run finished instead "
            "(exit 0, nothing to resume)\n", what);
  }
  return ISING_OK;
}

static void engine_free(engine *E, int *rc2, int *rc3) {
  *rc2 = ising_output_close(&E->out);
  ising_output_unlock(&E->lock_fd);
  for (int k = 0; k < E->n_local; k++) ising_lattice_destroy(&E->local[k].lat);
  ising_sweeper_destroy(&E->sw);
  free(E->lsums);
  free(E->bstate);
  *rc3 = ising_layout_destroy(&E->lay);
  engine_series_destroy(E);
  free(E->local);
  free(E->models);
  free(E->sums);
  free(E->batch);
  free(E->batch_t);
  free(E->energy);
  free(E->ladder_hist);
  free(E->corr_vals);
  free(E->cstats);
  free(E->local_of);
  engine_overlap_free(E);
  engine_glass_free(E);
  ising_disorder_destroy(&E->dis);
  ising_corr_destroy(&E->corr);
  ising_tempering_destroy(&E->temper);
}

int engine_run(MPI_Comm comm, const ising_config *cfg, const ising_run_options *opt,
               ising_run_result *res, int resuming) {
  engine E = {0};
  E.cfg = cfg;
  E.lock_fd = -1;
  struct sigaction old[N_STOP_SIGNALS];
  install_handlers(old);
  int64_t from = 0;
  int rc = setup(&E, comm, opt, res, resuming);
  if (!rc && resuming) rc = resume_state(&E, &from);
  if (!rc) rc = engine_loop(&E, opt, res, from);
  if (!rc) rc = finish(&E, opt, res);
  if (!rc && !res->stopped) rc = report_late_signal(&E);
  restore_handlers(old);
  /* Clean-up errors must not mask the first one. */
  int rc2, rc3;
  engine_free(&E, &rc2, &rc3);
  if (rc) return rc;
  if (rc2 || rc3) return rc2 ? rc2 : rc3;
  return res->stopped ? ISING_STOPPED : ISING_OK;
}

int ising_run(MPI_Comm comm, const ising_config *cfg, const ising_run_options *opt,
              ising_run_result *res) {
  ising_run_options none = {0};
  ising_run_result local;
  if (!opt) opt = &none;
  if (!res) res = &local;
  memset(res, 0, sizeof *res);
  int rc = engine_run(comm, cfg, opt, res, 0);
  if (res == &local) free(local.summaries);
  return rc;
}
