/*
 * halo.h -- the halo exchange of a decomposed lattice, for any element type:
 * the int8 spins (lattice.c), the packed spin words (msc.c) and the
 * mean-field doubles (varmf.c) all refresh their halos through it.  This
 * module is where the point-to-point MPI calls of the sweep live.
 *
 * The caller describes its faces once, as runs of elements relative to the
 * array it will pass later (elements base[offset + i stride], i < count):
 * for every exchanged axis, colour and side, the interior layer that is
 * SENT (side 0: the first layer, to the - neighbour; side 1: the last, to
 * the + neighbour) and the halo layer that is RECEIVED (side 0: the - halo,
 * filled from the - neighbour's last layer; side 1: the + halo, from the +
 * neighbour's first layer).  The runs of one layer are packed in the order
 * they were added, so the sender's layer and the receiver's halo must list
 * the same sites in the same order.  ising_halo_setup sizes and allocates
 * every buffer once.
 *
 * An exchange of one colour posts nonblocking receives and sends to the
 * face neighbours (at most six messages; an axis with one rank is a local
 * copy of the opposite layer, without MPI) and completes them together;
 * received sizes are checked against the halo layer's element count before
 * anything is written.  start/finish may be split so that work on the
 * interior overlaps the messages: start packs the sent layers (they may be
 * changed afterwards), finish writes the halo layers.  Collective over the
 * communicator: every rank exchanges the same colours in the same order.
 * After an error the object may only be destroyed.
 */
#ifndef ISING_HALO_H
#define ISING_HALO_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "ising/layout.h"

/* Where the neighbours are (ising_halo_geom_of: the layout's group, procs,
 * nbr).  Axes 0..dim-1, x first. */
typedef struct ising_halo_geom {
  MPI_Comm comm;  /* the replica group's Cartesian communicator */
  int dim;
  int procs[3];   /* ranks along each axis */
  int nbr[3][2];  /* group ranks of the - and + neighbours */
} ising_halo_geom;

static inline ising_halo_geom ising_halo_geom_of(const ising_layout *lay) {
  ising_halo_geom g = {lay->group, lay->dim, {1, 1, 1}, {{0, 0}, {0, 0}, {0, 0}}};
  for (int k = 0; k < 3; k++) {
    g.procs[k] = lay->procs[k];
    g.nbr[k][0] = lay->nbr[k][0];
    g.nbr[k][1] = lay->nbr[k][1];
  }
  return g;
}

typedef struct ising_halo ising_halo;

enum { ISING_HALO_SEND = 0, ISING_HALO_RECV = 1 };

/* An exchange of elements of `elsize` bytes over the axes whose bit is set
 * in `axes` (bit k: axis k < g->dim); no layers yet. */
int ising_halo_create(const ising_halo_geom *g, size_t elsize, unsigned axes, ising_halo **out);
/* Append a run of `count` >= 0 elements (offset + i stride) to the layer
 * `which` (ISING_HALO_SEND or ISING_HALO_RECV) of (axis, side, colour).
 * Only before setup. */
int ising_halo_add(ising_halo *h, int axis, int side, int colour, int which, int64_t offset,
                   int64_t count, int64_t stride);
/* Allocate the buffers; on an axis with one rank every sent layer must
 * have as many elements as the halo layer it fills. */
int ising_halo_setup(ising_halo *h);
/* Refresh the halo layers of `colour` in the array `base`. */
int ising_halo_exchange(ising_halo *h, void *base, int colour);
int ising_halo_start(ising_halo *h, void *base, int colour);
int ising_halo_finish(ising_halo *h);
/* Accepts NULL and nulls *h. */
void ising_halo_destroy(ising_halo **h);

#endif
