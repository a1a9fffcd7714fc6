/*
 * layout.h -- how the MPI world is arranged: replica groups x Cartesian grid.
 *
 * The world communicator is split into groups of `ranks_per_replica` ranks;
 * each group decomposes the lattice over all axes with MPI_Cart_create
 * (MPI_Dims_create chooses the grid, the slowest axis getting the most
 * ranks; uneven blocks are allowed).  This module holds the topology calls
 * and the small world collectives (sums, maxima, broadcasts) that the other
 * modules use; every other module receives the communicators it needs from
 * here.  Raw MPI elsewhere is limited to what a module exists for: the
 * point-to-point halo traffic (halo.c), the FFT slab transposes (corr.c),
 * the collective-I/O agreement of the HDF5 writers (h5io.c, checkpoint.c)
 * and start-up (main.c).
 * All communicators are duplicates with MPI_ERRORS_RETURN, so every MPI
 * failure comes back as a code that is checked.
 */
#ifndef ISING_LAYOUT_H
#define ISING_LAYOUT_H

#include <mpi.h>
#include <stdint.h>

#include "ising/config.h"

typedef struct ising_layout {
  MPI_Comm world;   /* duplicate of the communicator given */
  MPI_Comm group;   /* this rank's replica group (Cartesian, periodic) */
  int world_rank, world_size;
  int group_index, n_groups;
  int group_rank, group_size;
  int dim;
  int64_t L[ISING_MAX_DIM];     /* global extents, x first */
  int procs[ISING_MAX_DIM];     /* ranks along each axis, x first */
  int coord[ISING_MAX_DIM];     /* this rank's grid coordinate, x first */
  int nbr[ISING_MAX_DIM][2];    /* neighbour group ranks in -/+ direction */
  int64_t start[ISING_MAX_DIM]; /* first global coordinate of the block */
  int64_t n[ISING_MAX_DIM];     /* block extent */
} ising_layout;

/* Build the layout of `comm` for the lattice of `cfg` with
 * `ranks_per_replica` ranks per group (0 = all ranks in one group).  A
 * world size that the group size does not divide, or a grid with more ranks
 * than sites along an axis, is ISING_ERR_INPUT naming the deck key. */
int ising_layout_create(MPI_Comm comm, const ising_config *cfg, int ranks_per_replica,
                        ising_layout **out);
/* The same with the x rows kept whole on one rank when `whole_x` (the grid
 * divides y and z only: what an update backend may need, sweeper.h). */
int ising_layout_create_rows(MPI_Comm comm, const ising_config *cfg, int ranks_per_replica,
                             int whole_x, ising_layout **out);
/* Free the communicators; accepts NULL and nulls *layout. */
int ising_layout_destroy(ising_layout **layout);

/* Block of grid coordinate p among P parts of L: start and extent. */
void ising_layout_split(int64_t L, int P, int p, int64_t *start, int64_t *n);

/* Check an MPI return code: record "MPI error in <what>: <MPI text>". */
int ising_mpi_check(int rc, const char *what, const char *file, int line);
#define ISING_MPI(call) ISING_CALL(ising_mpi_check((call), #call, __FILE__, __LINE__))



/* Collectives over the world (kept here with the other raw MPI). */
/* Largest value of v over the world (for timings: the slowest rank). */
int ising_world_max_double(const ising_layout *lay, double *v);
int ising_world_max_int(const ising_layout *lay, int *v);
int ising_world_max_ints(const ising_layout *lay, int *v, int n);
/* In-place sum over the world (every replica's sums on every rank). */
int ising_world_sum_i64(const ising_layout *lay, int64_t *v, int n);
int ising_world_sum_double(const ising_layout *lay, double *v, int n);
int ising_world_bcast(const ising_layout *lay, void *buf, int bytes, int root);
#endif
