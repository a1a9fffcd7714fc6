/*
 * h5io.h -- the HDF5 output file (README: "Output file").
 *
 * One file per run, opened by every rank of the communicator through parallel
 * HDF5 (MPI-IO).  Metadata operations (creating groups, datasets and
 * attributes, extending a dataset) are collective: every rank calls every
 * function below with the same arguments.  Raw data of the small scalar
 * series is written by rank 0 of the communicator alone.
 *
 * Every collective function returns the same status on every rank: the
 * ranks agree on success before the next collective call, and on failure
 * each holds the message of the lowest failing rank (h5util.h,
 * ising_h5_agree), naming the file and the cause.  Time-series rows, like
 * the checkpoint and the result tables, are written only after rank 0 has
 * found room for them on the file system; a full disk or quota is
 * ISING_ERR_IO and leaves the file readable up to its last flushed row.
 *
 * Layout (format_version 1):
 *   /                 attrs program, format_version, version, git_commit,
 *                     created, mpi_ranks, process_grid, kernel, status,
 *                     sweeps_done, wall_seconds, flips_per_ns
 *   /deck             the deck text as read, plus the --set lines
 *   /parameters       attrs dim, L, N, J, H, T (the ladder as given), beta,
 *                     algorithm, start, kernel, seed, thermalization,
 *                     sweeps, interval, copies, ladder, exchange_interval,
 *                     adapt, adapt_rounds, ranks_per_replica, replica_groups
 *   /timeseries       sweep (n), e m m_abs m2 m4 [S0 Skmin] (temperature, copy, n),
 *                     replica (temperature, copy, n): which replica it was
 *   /tempering        (ladders only) temperature_index (replica, n), and at
 *                     the end ladder, ladder_history, acceptance, attempts,
 *                     accepted, round_trips, round_trip_rate
 *   /summary          T and e, m_abs, m2, m4, U4, chi, chi_p, c with *_err,
 *                     tau_e, tau_m_abs, bin_size, n_measurements, converged:
 *                     one entry per temperature (copies pooled)
 *   /reference/...    exact values where they exist (kaufman, onsager,
 *                     enumeration), one entry per temperature
 */
#ifndef ISING_H5IO_H
#define ISING_H5IO_H

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>

#include "ising/config.h"

typedef struct ising_output ising_output;

/* Before any work: the output path must not exist unless `force`, and its
 * directory must exist and be writable.  Rank 0 checks, every rank returns
 * the same code (ISING_ERR_INPUT naming the [output] file key). */
int ising_output_check(MPI_Comm comm, const ising_config *cfg, int force);

/* One job per output: rank 0 takes an exclusive flock(2) on OUTPUT.lock
 * (created if missing, never removed: the lock, not the file, is what
 * counts, and it dies with the process) and writes its pid, host and start
 * time into it.  A lock held by another live process is ISING_ERR_INPUT
 * naming it (a second job, or ranks of a killed mpirun still running), so
 * that two jobs never write one output and its checkpoints.  A file system
 * without flock gets a warning and no lock.  Collective; *fd is the lock's
 * descriptor on rank 0 (-1 elsewhere), released by ising_output_unlock. */
int ising_output_lock(MPI_Comm comm, const char *output, int *fd);
void ising_output_unlock(int *fd);

/* Create (truncate with force) the file and write /deck and /parameters.
 * `grid` is the process grid of a replica group (x first), `groups` the
 * number of replica groups, `kernel` the kernel's name. */
int ising_output_create(MPI_Comm comm, const ising_config *cfg, int force, const int grid[3],
                        int groups, const char *kernel, ising_output **out);

/* The time-series columns: e, m, m_abs, m2, m4; S0, Skmin (with
 * correlation); m2_improved, cluster_mean_size, cluster_largest_fraction,
 * clusters (with a cluster algorithm: sweeper.h ISING_CLUSTER_*; the first
 * is the cluster estimate of m^2); q, ql, sq_kmin (with overlaps: one row
 * per (temperature, sample x copy pair) instead of (temperature, copy):
 * ISING_SERIES_FIRST_PAIR on).  Columns a deck does not have are neither
 * written nor read (their cols[] entries are ignored).  With [disorder]
 * samples, "copy" is sample x copies + copy. */
#define ISING_SERIES_COLUMNS 14
#define ISING_SERIES_FIRST_PAIR 11
/* The copies of the time series (samples x copies) and the copy pairs
 * (samples x copies (copies - 1) / 2, 0 without overlaps). */
static inline int ising_series_copies(const ising_config *cfg) {
  return (cfg->disorder ? cfg->samples : 1) * cfg->copies;
}
static inline int ising_series_pairs(const ising_config *cfg) {
  return ising_config_overlap(cfg) ? (cfg->disorder ? cfg->samples : 1) * cfg->copies *
                                         (cfg->copies - 1) / 2 : 0;
}

/* Append `n` measurement rows.  cols[q] (the columns above) and
 * replica hold n_T x copies x n values in (temperature, copy, row) order
 * (the pair columns n_T x pairs x n);
 * tindex holds R x n temperature indices (replica, row), R = n_T copies.
 * Only rank 0's data are written; the other ranks may pass NULLs. */
int ising_output_append(ising_output *o, int64_t n, const int64_t *sweep,
                        const double *const cols[ISING_SERIES_COLUMNS], const int32_t *replica,
                        const int32_t *tindex);

/* /disorder/J (sample, axis, [Lz,] Ly, Lx) and, with random fields,
 * /disorder/h (sample, [Lz,] Ly, Lx), float64, attributes J_unit, h_unit
 * (disorder.h): the couplings of every sample (collective; rank 0 writes). */
struct ising_disorder;
int ising_output_write_disorder(ising_output *o, const ising_config *cfg,
                                const struct ising_disorder *d);

/* A 2D float64 dataset rows x cols under `group` (ladder history). */
int ising_output_write_matrix(ising_output *o, const char *group, const char *name,
                              int rows, int cols, const double *data);

/* Write a group of named per-temperature datasets (length n_T each); the
 * group path may be nested ("reference/kaufman"). */
int ising_output_write_values(ising_output *o, const char *group, int n_names,
                              const char *const *names, int n_T, const double *values);

/* A float64 attribute on the root group (collective). */
int ising_output_note(ising_output *o, const char *name, double value);

/* Root attributes of the end of a run. */
/* /timing: attributes `names[i]` = seconds[i] (wall-clock seconds by phase of
 * this invocation, the slowest rank's: timer.h); collective. */
int ising_output_timing(ising_output *o, int n, const char *const *names, const double *seconds);
int ising_output_finish(ising_output *o, const char *status, int64_t sweeps_done,
                        double wall_seconds, double flips_per_ns);

/* Resume: open the existing output of cfg (collective), check that it is
 * ours and has the run's shape, cut the time series back to `rows` rows,
 * remove the results of a finished run (/summary, /reference, tempering
 * statistics) and mark it running. */
int ising_output_reopen(MPI_Comm comm, const ising_config *cfg, int64_t rows, ising_output **out);

/* Rank 0 alone: read the first `rows` rows back (same layouts as
 * ising_output_append; tindex may be NULL without a ladder). */
int ising_output_read_rows(ising_output *o, int64_t rows, int64_t *sweep, double *const cols[ISING_SERIES_COLUMNS],
                           int32_t *replica, int32_t *tindex);

/* Flush the file to the OS and fsync it (collective), before a checkpoint
 * records how many rows it holds. */
int ising_output_sync(ising_output *o);

/* `ising baseline --field`: write the variational fields m_i of the block
 * of every rank (collective over lay->group; no gathering): /m (T, [Lz,] Ly,
 * Lx) float64 and /T, /f_var (T).  fields[t] holds the block in natural
 * order.  An existing file is an error unless force. */
struct ising_layout;
int ising_field_file_write(const struct ising_layout *lay, const char *path, int force, int n_T,
                           const double *T, double *const *fields, const double *f_var);

/* `ising info`: print what an output or checkpoint file holds (serial). */
int ising_output_describe(const char *path, FILE *out);

/* Flush and close; accepts NULL and nulls *o. */
int ising_output_close(ising_output **o);

#endif
