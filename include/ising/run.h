/*
 * run.h -- the engine: from a validated deck to an output file and a summary.
 *
 * The engine owns the schedule (thermalisation, sweeps, measurement
 * interval), the sweep counter that keys the random numbers, the halo
 * refreshes between half sweeps, progress lines and the output file.  The
 * physics of a sweep and of a measurement belong to update/observe.
 */
#ifndef ISING_RUN_H
#define ISING_RUN_H

#include <mpi.h>

#include "ising/config.h"
#include "ising/exact.h"
#include "ising/stats.h"

/* A wall-time budget stops the run this many seconds (plus three times the
 * last checkpoint's duration) before it ends, so that the last checkpoint
 * is written in time; --walltime must be longer. */
#define ISING_WALLTIME_SLACK 30.0

typedef struct ising_run_options {
  int force;         /* overwrite an existing output file */
  int quiet;         /* no progress lines and no summary table */
  double walltime;   /* seconds from start_time by which to have stopped, 0 = none;
                        > ISING_WALLTIME_SLACK */
  double start_time; /* epoch seconds when the job started (for walltime) */
} ising_run_options;

typedef struct ising_run_result {
  int n_temps;
  double T[ISING_MAX_TEMPS];   /* the final ladder (adapted or as given) */
  ising_summary *summaries;    /* [n_temps], allocated by ising_run: free() it */
  ising_summary summary;       /* = summaries[0] */
  double wall_seconds;
  double flips_per_ns; /* sweep throughput of the whole run, all ranks */
  int64_t sweeps_done;
  int stopped;         /* stopped at a checkpoint with work left (ISING_STOPPED) */
  int have_kaufman, have_onsager, have_enum;
  ising_exact_obs kaufman, onsager, enumeration;
} ising_run_result;

/* Run `cfg` on the ranks of `comm` (collective).  Bad input (rank count,
 * output path, too few measurements) is ISING_ERR_INPUT before anything is
 * written.  `res` may be NULL; otherwise the caller frees res->summaries. */
int ising_run(MPI_Comm comm, const ising_config *cfg, const ising_run_options *opt,
              ising_run_result *res);

/* Continue the run whose output (or checkpoint) is `path` from its newest
 * valid checkpoint, on any rank layout.  The deck stored in the checkpoint
 * is used with its overrides, then `set` (run control only: a change of the
 * physics is refused, listing the differences); sweeps > 0 sets the
 * measured sweeps in all (extends a finished run).  Returns ISING_OK when
 * finished, ISING_STOPPED when stopped at a checkpoint again. */
int ising_resume(MPI_Comm comm, const char *path, int nset, char *const *set, int64_t sweeps,
                 const ising_run_options *opt, ising_run_result *res);

/* Catch SIGTERM, SIGINT, SIGUSR1 and SIGXCPU from the start of the process
 * (before MPI_Init), so that a stop request that arrives early is kept and
 * honoured at the first agreement point of the run. */
void ising_signals_install(void);
/* The default dispositions again, for the commands without checkpoints
 * (bench, baseline, info): a stop signal ends them at once, one caught
 * before this call included. */
void ising_signals_release(void);

/* `ising bench` with its command-line arguments (after "bench"). */
int ising_bench(MPI_Comm comm, int argc, char **argv);

#endif
