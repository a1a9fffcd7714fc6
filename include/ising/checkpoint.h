/*
 * checkpoint.h -- the checkpoint file: everything needed to continue a run
 * bit for bit, on any number of ranks and any replica-group layout.
 *
 * One HDF5 file per generation, written collectively through parallel HDF5:
 *   /   attrs program = "ising", kind = "checkpoint", format_version,
 *       generation, sweeps_done, rows (time-series rows in the output file),
 *       next_round (feedback rounds done + 1), complete (written last)
 *   /deck_source, /set_list  the deck text and the --set overrides of the run
 *   /spins        (replica, [Lz,] Ly, Lx) int8, each rank writing the
 *                 hyperslab of its blocks in slabs of bounded size (never
 *                 gathered); /spins attr checksums (replica): the sum over
 *                 sites of a hash of (global index, spin), mod 2^64, the
 *                 same on any decomposition
 *   /tempering    T, rep_at, temp_of, direction, round_trips, attempts,
 *                 accepts, n_up, n_down, steps, ladder_history
 *   /correlation  (format 2, with [measurement] correlation = yes) the
 *                 accumulators of the correlation module, pooled over the
 *                 replica groups, in a layout that does not depend on the
 *                 rank count (corr.h, "Checkpointing"):
 *                 exact (temperature x 7): measurements, FFT measurements,
 *                 sums of M/N, M^2/N, S(k_min,x), S(k_min,y), S(k_min,z);
 *                 sk_sum (temperature, <half spectrum>) float64, only with
 *                 sk_every > 0: 2D (T, Lx/2+1, Ly/2+1) [kx][ky], 3D (T, Ly,
 *                 Lz/2+1, Lx/2+1) [ky][kz][kx], the sums of |F(k)|^2/N
 *                 folded over the slowest axis (corr.h), each rank of
 *                 replica group 0 writing its rows (never gathered)
 * The file is written under "<output>.ckpt.tmp", then the previous
 * generation is renamed to "<output>.ckpt.old" and the new one to
 * "<output>.ckpt" (fsync of file and directory between).  A reader accepts a
 * generation only if it opens, says complete = 1, and its spins match their
 * checksums; otherwise it says why and tries the previous one.
 */
#ifndef ISING_CHECKPOINT_H
#define ISING_CHECKPOINT_H

#include <stdint.h>
#include <stdio.h>

#include "ising/config.h"
#include "ising/corr.h"
#include "ising/lattice.h"
#include "ising/layout.h"
#include "ising/tempering.h"

/* Format 2 added /correlation; format 1 files are still read (the
 * correlation accumulators then start empty: /correlation covers only the
 * sweeps after the resume, as before). */
#define ISING_CKPT_FORMAT 3
#define ISING_CKPT_FORMAT_MIN 1

typedef struct ising_ckpt_replica {
  int id;
  ising_lattice *lat;
} ising_ckpt_replica;

/* The engine's state besides the spins. */
typedef struct ising_ckpt_state {
  int64_t sweeps_done;   /* sweeps completed (the next sweep's number) */
  int64_t rows;          /* rows of the output file's time series */
  int64_t generation;
  int next_round;        /* feedback round to come */
  int n_hist;            /* rows of ladder_hist */
  double *ladder_hist;   /* [(adapt_rounds + 1) n_T] */
  ising_tempering *temper;
  ising_corr *corr;      /* the correlation accumulators, NULL without correlation */
} ising_ckpt_state;

/* "<output>.ckpt" and "<output>.ckpt.old" for an output path. */
void ising_ckpt_paths(const char *output, char *cur, char *old, int size);

/* Write a generation (collective over lay->world). */
int ising_ckpt_write(const ising_layout *lay, const ising_config *cfg, const ising_ckpt_state *st,
                     int n_local, const ising_ckpt_replica *local);

/* Read the deck text and overrides of the newest generation that opens and
 * is complete (collective; *text and *set allocated, free with
 * ising_ckpt_free_deck).  *which is 0 (current) or 1 (previous). */
int ising_ckpt_read_deck(MPI_Comm comm, const char *output, char **text, int *nset,
                         char ***set, int *which);
void ising_ckpt_free_deck(char *text, int nset, char **set);

/* Load the newest valid generation into the engine's state and lattices
 * (collective over lay->world; the tempering struct must have the ladder's
 * size).  Damaged generations are reported on rank 0's stderr and skipped;
 * none valid is an ISING_ERR_INPUT that lists why each was refused. */
int ising_ckpt_load(const ising_layout *lay, const ising_config *cfg, ising_ckpt_state *st,
                    int n_local, const ising_ckpt_replica *local);

/* What `ising info` prints about a checkpoint file (rank 0 only, serial). */
int ising_ckpt_describe(const char *path, FILE *out);

#endif
