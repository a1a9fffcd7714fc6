/*
 * layout.c -- world -> replica groups -> Cartesian grid (see layout.h).
 *
 * The grid axes are ordered slowest first for MPI (z, y, x), so that
 * MPI_Dims_create, which returns non-increasing extents, gives the most
 * ranks to the slowest axis and keeps the contiguous x rows long.
 */
#include "ising/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"

int ising_mpi_check(int rc, const char *what, const char *file, int line) {
  if (rc == MPI_SUCCESS) return ISING_OK;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "code %d", rc);
  return ising_err_set(ISING_ERR_MPI, file, line, "MPI error in %s: %s", what, text);
}

void ising_layout_split(int64_t L, int P, int p, int64_t *start, int64_t *n) {
  int64_t base = L / P, rem = L % P;
  *n = base + (p < rem ? 1 : 0);
  *start = p * base + (p < rem ? p : rem);
}

int ising_layout_create(MPI_Comm comm, const ising_config *cfg, int ranks_per_replica,
                        ising_layout **out) {
  return ising_layout_create_rows(comm, cfg, ranks_per_replica, 0, out);
}

int ising_layout_create_rows(MPI_Comm comm, const ising_config *cfg, int ranks_per_replica,
                             int whole_x, ising_layout **out) {
  *out = NULL;
  ising_layout *lay = calloc(1, sizeof *lay);
  ISING_CHECK(lay, ISING_ERR_MEM, "out of memory (layout)");
  lay->world = MPI_COMM_NULL;
  lay->group = MPI_COMM_NULL;
  int rc = ISING_OK;
  MPI_Comm split = MPI_COMM_NULL;
  char where[256];
#define TRY(call)                                                              \
  do {                                                                         \
    rc = ising_mpi_check((call), #call, __FILE__, __LINE__);                   \
    if (rc) goto fail;                                                         \
  } while (0)
  TRY(MPI_Comm_dup(comm, &lay->world));
  TRY(MPI_Comm_set_errhandler(lay->world, MPI_ERRORS_RETURN));
  TRY(MPI_Comm_rank(lay->world, &lay->world_rank));
  TRY(MPI_Comm_size(lay->world, &lay->world_size));
  int g = ranks_per_replica > 0 ? ranks_per_replica : lay->world_size;
  if (lay->world_size % g != 0) {
    rc = ISING_ERR(ISING_ERR_INPUT,
                   "%d MPI ranks cannot be split into replica groups of %d ranks: "
                   "the rank count must be a multiple of ranks_per_replica",
                   lay->world_size, g);
    goto fail;
  }
  lay->n_groups = lay->world_size / g;
  lay->group_index = lay->world_rank / g;
  lay->dim = cfg->dim;
  int d = cfg->dim;
  int dims[ISING_MAX_DIM] = {0, 0, 0}, periods[ISING_MAX_DIM] = {1, 1, 1};
  /* x rows kept whole: x gets 1 rank */
  if (whole_x) dims[d - 1] = 1;
  TRY(MPI_Dims_create(g, d, dims));
  for (int k = 0; k < d; k++) {
    lay->L[k] = cfg->L[k];
    lay->procs[k] = dims[d - 1 - k];
  }
  for (int k = 0; k < d; k++) {
    if (lay->procs[k] > lay->L[k]) {
      static const char axis[] = "xyz";
      char grid[64] = "";
      for (int j = d - 1; j >= 0; j--) {
        char part[16];
        snprintf(part, sizeof part, "%s%d", j == d - 1 ? "" : "x", lay->procs[j]);
        snprintf(grid + strlen(grid), sizeof grid - strlen(grid), "%s", part);
      }
      rc = ISING_ERR(ISING_ERR_INPUT,
                     "%s: %d ranks per replica cannot tile the lattice: the process grid "
                     "(%s along %s) puts %d ranks on the %lld sites along %c; use at most %lld "
                     "ranks along that axis (a rank count whose grid fits)%s%s%s",
                     ising_config_where(cfg, "lattice", "L", where, sizeof where), g, grid,
                     d == 3 ? "z,y,x" : "y,x", lay->procs[k], (long long)lay->L[k], axis[k],
                     (long long)lay->L[k],
                     whole_x ? "; kernel = " : "", whole_x ? ising_config_backend(cfg) : "",
                     whole_x ? " keeps x rows whole, so only y and z are divided" : "");
      goto fail;
    }
  }
  for (int k = d; k < ISING_MAX_DIM; k++) {
    lay->L[k] = 1;
    lay->procs[k] = 1;
  }
  TRY(MPI_Comm_split(lay->world, lay->group_index, lay->world_rank, &split));
  TRY(MPI_Cart_create(split, d, dims, periods, 0, &lay->group));
  TRY(MPI_Comm_set_errhandler(lay->group, MPI_ERRORS_RETURN));
  TRY(MPI_Comm_free(&split));
  TRY(MPI_Comm_rank(lay->group, &lay->group_rank));
  TRY(MPI_Comm_size(lay->group, &lay->group_size));
  int coords[ISING_MAX_DIM] = {0, 0, 0};
  TRY(MPI_Cart_coords(lay->group, lay->group_rank, d, coords));
  for (int k = 0; k < ISING_MAX_DIM; k++) {
    if (k < d) {
      lay->coord[k] = coords[d - 1 - k];
      TRY(MPI_Cart_shift(lay->group, d - 1 - k, 1, &lay->nbr[k][0], &lay->nbr[k][1]));
    } else {
      lay->coord[k] = 0;
      lay->nbr[k][0] = lay->nbr[k][1] = lay->group_rank;
    }
    ising_layout_split(lay->L[k], lay->procs[k], lay->coord[k], &lay->start[k], &lay->n[k]);
  }
#undef TRY
  *out = lay;
  return ISING_OK;
fail:
  if (split != MPI_COMM_NULL) MPI_Comm_free(&split);
  ising_layout_destroy(&lay);
  return rc;
}

int ising_layout_destroy(ising_layout **layout) {
  if (!layout || !*layout) return ISING_OK;
  ising_layout *lay = *layout;
  int rc = ISING_OK;
  if (lay->group != MPI_COMM_NULL) rc = ising_mpi_check(MPI_Comm_free(&lay->group), "MPI_Comm_free", __FILE__, __LINE__);
  if (lay->world != MPI_COMM_NULL && !rc) rc = ising_mpi_check(MPI_Comm_free(&lay->world), "MPI_Comm_free", __FILE__, __LINE__);
  free(lay);
  *layout = NULL;
  return rc;
}

int ising_world_max_double(const ising_layout *lay, double *v) {
  ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_DOUBLE, MPI_MAX, lay->world));
  return ISING_OK;
}

int ising_world_max_int(const ising_layout *lay, int *v) {
  ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_INT, MPI_MAX, lay->world));
  return ISING_OK;
}

int ising_world_sum_i64(const ising_layout *lay, int64_t *v, int n) {
  ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_INT64_T, MPI_SUM, lay->world));
  return ISING_OK;
}

int ising_world_bcast(const ising_layout *lay, void *buf, int bytes, int root) {
  ISING_MPI(MPI_Bcast(buf, bytes, MPI_BYTE, root, lay->world));
  return ISING_OK;
}

int ising_world_max_ints(const ising_layout *lay, int *v, int n) {
  ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_INT, MPI_MAX, lay->world));
  return ISING_OK;
}

int ising_world_sum_double(const ising_layout *lay, double *v, int n) {
  ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, lay->world));
  return ISING_OK;
}
