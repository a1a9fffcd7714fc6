/*
 * checkpoint.h -- the checkpoint file: everything needed to continue a run
 * bit for bit, on any number of ranks and any replica-group layout.
 *
 * One HDF5 file per generation (HDF5 1.8 object formats, whose metadata
 * HDF5 checksums), written collectively through parallel HDF5:
 *   /   attrs program = "ising", kind = "checkpoint", format_version,
 *       generation, sweeps_done, rows (time-series rows in the output file),
 *       next_round (feedback rounds done + 1), n_hist (rows of the ladder
 *       history), correlation (0 none, 1 exact sums, 2 with the spectrum),
 *       checksum (of those seven counters), complete (written last)
 *   every dataset but /spins: attr checksum (uint64), the sum over its
 *       elements of a hash of (flat index, value), the same on any
 *       decomposition
 *   /deck_source, /set_list  the deck text and the --set overrides of the run
 *   /spins        (replica, [Lz,] Ly, Lx) int8, each rank writing the
 *                 hyperslab of its blocks in slabs of bounded size (never
 *                 gathered); /spins attr checksums (replica): the sum over
 *                 sites of a hash of (global index, spin), mod 2^64, the
 *                 same on any decomposition
 *   /sweeper/<kernel>  int64 values the update backend keeps beyond the
 *                 spins (sweeper.h; only for backends that have any)
 *   /tempering    T, rep_at, temp_of, direction, round_trips, attempts,
 *                 accepts, n_up, n_down, steps, ladder_history
 *   /correlation  (format >= 2, with [measurement] correlation = yes) the
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
 * generation only if it opens, says complete = 1, every checksum matches
 * and every value is in range (tempering indices permutations, counts >= 0);
 * otherwise (also on any HDF5 read error) the generation is damaged: the
 * reader says why and tries the previous one.
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

/* Format 3 added the checksums of every dataset and of the root counters
 * (root attrs correlation and checksum); format 2 files (checksums of the
 * spins only) are still read, and so are format 1 files, which lack
 * /correlation (the accumulators then start empty: /correlation covers
 * only the sweeps after the resume).  A file that says format < 3 but has
 * a root checksum, or 3 without one, is damaged. */
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
  const char *sweeper;   /* the update backend's name (sweeper.h) */
  int n_sweeper;         /* values of its state (/sweeper/<name>, int64; 0: none) */
  int64_t *sweeper_state; /* [n_sweeper]: written from world rank 0, read by every rank */
  uint64_t disorder_sum; /* ising_disorder_checksum of couplings from a file (/disorder_checksum;
                            0: none, also when loading a file without it) */
} ising_ckpt_state;

/* "<output>.ckpt" and "<output>.ckpt.old" for an output path. */
void ising_ckpt_paths(const char *output, char *cur, char *old, int size);

/* Write a generation (collective over lay->world). */
int ising_ckpt_write(const ising_layout *lay, const ising_config *cfg, const ising_ckpt_state *st,
                     int n_local, const ising_ckpt_replica *local);

/* Read the deck text and overrides of the newest generation that passes
 * every check of ising_ckpt_load that does not need the run's shape: all
 * checksums, spins and spectrum included (read once here, shared among the
 * ranks of comm), and the tempering state's ranges.  So ising_ckpt_load,
 * run with the deck returned, loads the same generation.  Collective;
 * *text and *set allocated, free with ising_ckpt_free_deck.  *which is 0
 * (current) or 1 (previous). */
int ising_ckpt_read_deck(MPI_Comm comm, const char *output, char **text, int *nset,
                         char ***set, int *which);
void ising_ckpt_free_deck(char *text, int nset, char **set);

/* Load the newest valid generation into the engine's state and lattices
 * (collective over lay->world; the tempering struct must have the ladder's
 * size).  Everything read is verified before the run uses it.  Damaged
 * generations are reported on rank 0's stderr and skipped; none valid is an
 * ISING_ERR_INPUT that lists why each was refused. */
int ising_ckpt_load(const ising_layout *lay, const ising_config *cfg, ising_ckpt_state *st,
                    int n_local, const ising_ckpt_replica *local);

/* What `ising info` prints about a checkpoint file (rank 0 only, serial). */
int ising_ckpt_describe(const char *path, FILE *out);

#endif
