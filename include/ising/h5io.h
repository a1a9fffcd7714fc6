/*
 * h5io.h -- the HDF5 output file (README: "Output file").
 *
 * One file per run, opened by every rank of the communicator through parallel
 * HDF5 (MPI-IO).  Metadata operations (creating groups, datasets and
 * attributes, extending a dataset) are collective: every rank calls every
 * function below with the same arguments.  Raw data of the small scalar
 * series is written by rank 0 of the communicator alone.
 *
 * Layout (format_version 1):
 *   /                 attrs program, format_version, version, git_commit,
 *                     created, mpi_ranks, process_grid, kernel, status,
 *                     sweeps_done, wall_seconds, flips_per_ns
 *   /deck             the deck text as read, plus the --set lines
 *   /parameters       attrs dim, L, N, J, H, T, beta, algorithm, start,
 *                     kernel, seed, thermalization, sweeps, interval
 *   /timeseries       sweep (n), e m m_abs m2 m4 (temperature, copy, n)
 *   /summary          T and e, m_abs, m2, m4, U4, chi, chi_p, c with *_err,
 *                     tau_e, tau_m_abs, bin_size, n_measurements, converged:
 *                     one entry per temperature
 *   /reference/...    exact values where they exist (kaufman, onsager,
 *                     enumeration), one entry per temperature
 */
#ifndef ISING_H5IO_H
#define ISING_H5IO_H

#include <mpi.h>
#include <stdint.h>

#include "ising/config.h"

typedef struct ising_output ising_output;

/* Before any work: the output path must not exist unless `force`, and its
 * directory must exist and be writable.  Rank 0 checks, every rank returns
 * the same code (ISING_ERR_INPUT naming the [output] file key). */
int ising_output_check(MPI_Comm comm, const ising_config *cfg, int force);

/* Create (truncate with force) the file and write /deck and /parameters.
 * `grid` is the process grid (x first), `kernel` the kernel's name. */
int ising_output_create(MPI_Comm comm, const ising_config *cfg, int force, const int grid[3],
                        const char *kernel, ising_output **out);

/* Append `n` measurement rows (one temperature, one copy for now). */
int ising_output_append(ising_output *o, int64_t n, const int64_t *sweep, const double *e,
                        const double *m, const double *m_abs, const double *m2,
                        const double *m4);

/* Write a group of named per-temperature datasets (length n_T each); the
 * group path may be nested ("reference/kaufman"). */
int ising_output_write_values(ising_output *o, const char *group, int n_names,
                              const char *const *names, int n_T, const double *values);

/* Root attributes of the end of a run. */
int ising_output_finish(ising_output *o, const char *status, int64_t sweeps_done,
                        double wall_seconds, double flips_per_ns);

/* Flush and close; accepts NULL and nulls *o. */
int ising_output_close(ising_output **o);

#endif
