/*
 * checkpoint.c -- writing, validating and loading checkpoint generations
 * (layout in checkpoint.h).
 *
 * Spins go through a bounded buffer (at most SLAB_BYTES per call) in natural
 * order with independent MPI-IO transfers, each rank its own hyperslabs, so
 * memory stays at about one byte per site and nothing is gathered.  The
 * small state is written by every rank collectively (metadata) with rank 0
 * providing the raw data.  Replacing the previous generation is the Redis
 * recipe: write a temporary file, close it, fsync it, rename the old
 * generation aside, rename the new one into place, fsync the directory;
 * say which step failed and remove the temporary file on failure.
 */
#include "ising/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ising/error.h"

#define SLAB_BYTES (8 << 20)

void ising_ckpt_paths(const char *output, char *cur, char *old, int size) {
  if (cur) snprintf(cur, (size_t)size, "%s.ckpt", output);
  if (old) snprintf(old, (size_t)size, "%s.ckpt.old", output);
}

/* ------------------------------------------------------------ small I/O */

typedef struct h5ctx {
  hid_t file;
  int rank;
  const char *path;
  int64_t fmt; /* format_version of a file being read */
} h5ctx;

static int fail(const h5ctx *c, const char *what) {
  return ising_err_set(ISING_ERR_HDF5, __FILE__, __LINE__, "HDF5 error in %s (checkpoint '%s')",
                       what, c->path);
}

static int attr_i64(const h5ctx *c, const char *name, int64_t v) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = sp >= 0 ? H5Acreate2(c->file, name, H5T_NATIVE_INT64, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
  herr_t w = a >= 0 ? H5Awrite(a, H5T_NATIVE_INT64, &v) : -1;
  if (a >= 0) H5Aclose(a);
  if (sp >= 0) H5Sclose(sp);
  return w < 0 ? fail(c, name) : ISING_OK;
}

static int attr_str(const h5ctx *c, hid_t obj, const char *name, const char *s) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0 || H5Tset_size(t, strlen(s) ? strlen(s) : 1) < 0) return fail(c, name);
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t w = a >= 0 ? H5Awrite(a, t, strlen(s) ? s : " ") : -1;
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  H5Tclose(t);
  return w < 0 ? fail(c, name) : ISING_OK;
}

/* A 1D dataset of n elements of `type` at path; rank 0 writes the data. */
static int dset_write(const h5ctx *c, const char *path, hid_t type, int64_t n, const void *data) {
  hsize_t d = (hsize_t)(n > 0 ? n : 0);
  hid_t sp = H5Screate_simple(1, &d, NULL);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  if (lcpl >= 0) H5Pset_create_intermediate_group(lcpl, 1);
  hid_t ds = sp >= 0 ? H5Dcreate2(c->file, path, type, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT) : -1;
  herr_t w = 0;
  if (ds >= 0 && c->rank == 0 && n > 0) w = H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  if (ds >= 0) H5Dclose(ds);
  if (lcpl >= 0) H5Pclose(lcpl);
  if (sp >= 0) H5Sclose(sp);
  return ds < 0 || w < 0 ? fail(c, path) : ISING_OK;
}

static int dset_read(const h5ctx *c, const char *path, hid_t type, int64_t n, void *data) {
  hid_t ds = H5Dopen2(c->file, path, H5P_DEFAULT);
  if (ds < 0) return fail(c, path);
  hid_t sp = H5Dget_space(ds);
  hssize_t have = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  herr_t r = have == n ? (n > 0 ? H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0) : -1;
  if (sp >= 0) H5Sclose(sp);
  H5Dclose(ds);
  if (r < 0)
    return ising_err_set(ISING_ERR_INPUT, __FILE__, __LINE__,
                         "checkpoint '%s': %s has %lld elements, expected %lld", c->path, path,
                         (long long)have, (long long)n);
  return ISING_OK;
}

static int attr_read_i64(const h5ctx *c, const char *name, int64_t *v) {
  hid_t a = H5Aopen(c->file, name, H5P_DEFAULT);
  herr_t r = a >= 0 ? H5Aread(a, H5T_NATIVE_INT64, v) : -1;
  if (a >= 0) H5Aclose(a);
  return r < 0 ? ISING_ERR(ISING_ERR_INPUT, "checkpoint '%s': attribute %s missing", c->path, name)
               : ISING_OK;
}

/* A string dataset (text may be empty). */
static int text_write(const h5ctx *c, const char *path, const char *s) {
  return dset_write(c, path, H5T_NATIVE_CHAR, (int64_t)strlen(s), s);
}

static int text_read(const h5ctx *c, const char *path, char **out) {
  hid_t ds = H5Dopen2(c->file, path, H5P_DEFAULT);
  if (ds < 0) return ISING_ERR(ISING_ERR_INPUT, "checkpoint '%s': %s missing", c->path, path);
  hid_t sp = H5Dget_space(ds);
  hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
  herr_t r = buf ? (n > 0 ? H5Dread(ds, H5T_NATIVE_CHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0) : -1;
  if (sp >= 0) H5Sclose(sp);
  H5Dclose(ds);
  if (r < 0) {
    free(buf);
    return fail(c, path);
  }
  buf[n] = '\0';
  *out = buf;
  return ISING_OK;
}

/* ------------------------------------------------------------ spins */

/* Hash of one site, summed mod 2^64 over a replica (order independent). */
static inline uint64_t site_hash(uint64_t g, int spin) {
  uint64_t z = 2 * g + (spin > 0) + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* Move one replica's block between the lattice and /spins[slot] in slabs
 * of rows; returns the block's checksum contribution in *sum. */
static int spins_io(const h5ctx *c, hid_t ds, int dim, int64_t slot, ising_lattice *lat,
                    int writing, uint64_t *sum) {
  int64_t n[3], s0[3], L[3];
  ising_lattice_extent(lat, n, s0);
  hid_t fs = H5Dget_space(ds);
  hsize_t fdims[4];
  if (fs < 0 || H5Sget_simple_extent_dims(fs, fdims, NULL) != dim + 1) return fail(c, "/spins shape");
  for (int k = 0; k < dim; k++) L[k] = (int64_t)fdims[dim - k];
  int64_t rows = SLAB_BYTES / (n[0] > 0 ? n[0] : 1);
  if (rows < 1) rows = 1;
  if (rows > n[1]) rows = n[1];
  int8_t *buf = malloc((size_t)(rows * n[0]));
  if (!buf) {
    H5Sclose(fs);
    return ISING_ERR(ISING_ERR_MEM, "out of memory (checkpoint buffer)");
  }
  hid_t dx = H5Pcreate(H5P_DATASET_XFER);
  int rc = dx < 0 || H5Pset_dxpl_mpio(dx, H5FD_MPIO_INDEPENDENT) < 0 ? fail(c, "H5Pset_dxpl_mpio") : ISING_OK;
  uint64_t acc = 0;
  for (int64_t z = 0; z < n[2] && !rc; z++)
    for (int64_t y0 = 0; y0 < n[1] && !rc; y0 += rows) {
      int64_t ny = n[1] - y0 < rows ? n[1] - y0 : rows;
      hsize_t start[4], count[4];
      start[0] = (hsize_t)slot;
      count[0] = 1;
      if (dim == 3) {
        start[1] = (hsize_t)(s0[2] + z);
        count[1] = 1;
      }
      start[dim - 1] = (hsize_t)(s0[1] + y0);
      count[dim - 1] = (hsize_t)ny;
      start[dim] = (hsize_t)s0[0];
      count[dim] = (hsize_t)n[0];
      hsize_t mcount = (hsize_t)(ny * n[0]);
      hid_t ms = H5Screate_simple(1, &mcount, NULL);
      herr_t e = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
      if (writing) ising_lattice_pack_rows(lat, z, y0, ny, buf);
      herr_t io = ms < 0 || e < 0 ? -1
                  : writing ? H5Dwrite(ds, H5T_NATIVE_INT8, ms, fs, dx, buf)
                            : H5Dread(ds, H5T_NATIVE_INT8, ms, fs, dx, buf);
      if (ms >= 0) H5Sclose(ms);
      if (io < 0) {
        rc = writing ? fail(c, "H5Dwrite (/spins)")
                     : ising_err_set(ISING_ERR_INPUT, __FILE__, __LINE__,
                                     "checkpoint '%s': cannot read its spins (truncated?)", c->path);
        break;
      }
      for (int64_t j = 0; j < ny && !rc; j++)
        for (int64_t x = 0; x < n[0]; x++) {
          int8_t s = buf[j * n[0] + x];
          if (!writing && s != 1 && s != -1) {
            rc = ising_err_set(ISING_ERR_INPUT, __FILE__, __LINE__,
                               "checkpoint '%s': a spin is %d, not +-1", c->path, s);
            break;
          }
          uint64_t g = (uint64_t)((s0[0] + x) + L[0] * ((s0[1] + y0 + j) + L[1] * (dim == 3 ? s0[2] + z : 0)));
          acc += site_hash(g, s);
        }
      if (!writing && !rc) ising_lattice_unpack_rows(lat, z, y0, ny, buf);
    }
  if (dx >= 0) H5Pclose(dx);
  H5Sclose(fs);
  free(buf);
  *sum = acc;
  return rc;
}

/* ------------------------------------------------------------ correlation sums */

/* The hyperslab of accumulator `acc` on this rank: (1, nrows, dims...) at
 * (acc, row0, 0, 0) of /correlation/sk_sum. */
static void corr_slab(const ising_corr_layout *l, int acc, hsize_t *start, hsize_t *count) {
  start[0] = (hsize_t)acc;
  count[0] = 1;
  start[1] = (hsize_t)l->row0;
  count[1] = (hsize_t)l->nrows;
  for (int k = 1; k < l->rank; k++) {
    start[k + 1] = 0;
    count[k + 1] = (hsize_t)l->dims[k];
  }
}

/* /correlation: the exact sums (rank 0 writes) and, with sk_every > 0, the
 * spectrum sums (the ranks of group 0 write their rows).  Collective. */
static int corr_write(const h5ctx *c, const ising_layout *lay, const ising_config *cfg, ising_corr *corr) {
  ising_corr_layout l;
  ising_corr_state_layout(corr, &l);
  const int n = l.n_acc, spectrum = cfg->sk_every > 0;
  double *exact = malloc((size_t)n * ISING_CORR_NEXACT * sizeof *exact);
  double *spec = spectrum ? malloc((size_t)(l.local > 0 ? l.local : 1) * sizeof *spec) : NULL;
  int rc = exact && (spec || !spectrum) ? ISING_OK : ISING_ERR(ISING_ERR_MEM, "out of memory (checkpoint)");
  hid_t ds = -1, fs = -1, dx = -1;
  if (!rc && spectrum) {
    hsize_t dims[4] = {(hsize_t)n};
    for (int k = 0; k < l.rank; k++) dims[k + 1] = (hsize_t)l.dims[k];
    hid_t sp = H5Screate_simple(l.rank + 1, dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl >= 0) H5Pset_create_intermediate_group(lcpl, 1);
    ds = sp >= 0 && lcpl >= 0 ? H5Dcreate2(c->file, "correlation/sk_sum", H5T_NATIVE_DOUBLE, sp, lcpl,
                                           H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (lcpl >= 0) H5Pclose(lcpl);
    if (sp >= 0) H5Sclose(sp);
    fs = ds >= 0 ? H5Dget_space(ds) : -1;
    dx = H5Pcreate(H5P_DATASET_XFER);
    if (ds < 0 || fs < 0 || dx < 0 || H5Pset_dxpl_mpio(dx, H5FD_MPIO_INDEPENDENT) < 0)
      rc = fail(c, "H5Dcreate2 (/correlation/sk_sum)");
  }
  /* every rank takes part in each pooling (collective over the world) */
  for (int t = 0; t < n && !rc; t++) {
    rc = ising_corr_state_get(corr, t, exact + (size_t)t * ISING_CORR_NEXACT, spec);
    if (!rc && spectrum && l.writer && l.nrows > 0) {
      hsize_t start[4], count[4], m = (hsize_t)l.local;
      corr_slab(&l, t, start, count);
      hid_t ms = H5Screate_simple(1, &m, NULL);
      herr_t e = ms >= 0 ? H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) : -1;
      if (e < 0 || H5Dwrite(ds, H5T_NATIVE_DOUBLE, ms, fs, dx, spec) < 0) rc = fail(c, "H5Dwrite (/correlation/sk_sum)");
      if (ms >= 0) H5Sclose(ms);
    }
    /* a failed write on one rank must not leave the others in the next
     * pooling alone */
    int bad = rc;
    if (ising_world_max_int(lay, &bad) != ISING_OK && !rc) rc = ISING_ERR_MPI;
    if (!rc && bad) rc = ISING_ERR(bad, "writing the checkpoint's correlation sums failed on another rank");
  }
  if (dx >= 0) H5Pclose(dx);
  if (fs >= 0) H5Sclose(fs);
  if (ds >= 0 && H5Dclose(ds) < 0 && !rc) rc = fail(c, "H5Dclose (/correlation/sk_sum)");
  if (!rc) rc = dset_write(c, "correlation/exact", H5T_NATIVE_DOUBLE, (int64_t)n * ISING_CORR_NEXACT, exact);
  free(exact);
  free(spec);
  return rc;
}

/* Restore the accumulators from /correlation (format 2).  Collective; the
 * caller agrees on failure afterwards. */
static int corr_read(const h5ctx *c, const ising_config *cfg, ising_corr *corr) {
  ising_corr_layout l;
  ising_corr_state_layout(corr, &l);
  const int n = l.n_acc, spectrum = cfg->sk_every > 0;
  double *exact = malloc((size_t)n * ISING_CORR_NEXACT * sizeof *exact);
  double *spec = spectrum ? malloc((size_t)(l.local > 0 ? l.local : 1) * sizeof *spec) : NULL;
  if (!exact || (spectrum && !spec)) {
    free(exact);
    free(spec);
    return ISING_ERR(ISING_ERR_MEM, "out of memory (checkpoint)");
  }
  int rc = dset_read(c, "correlation/exact", H5T_NATIVE_DOUBLE, (int64_t)n * ISING_CORR_NEXACT, exact);
  hid_t ds = -1, fs = -1, dx = -1;
  if (!rc && spectrum) {
    ds = H5Dopen2(c->file, "correlation/sk_sum", H5P_DEFAULT);
    fs = ds >= 0 ? H5Dget_space(ds) : -1;
    hsize_t d[4] = {0};
    int nd = fs >= 0 ? H5Sget_simple_extent_dims(fs, d, NULL) : -1;
    int ok = nd == l.rank + 1 && d[0] == (hsize_t)n;
    for (int k = 0; ok && k < l.rank; k++) ok = d[k + 1] == (hsize_t)l.dims[k];
    if (!ok) rc = ISING_ERR(ISING_ERR_INPUT, "checkpoint '%s': /correlation/sk_sum is missing or has the wrong shape", c->path);
    dx = H5Pcreate(H5P_DATASET_XFER);
    if (!rc && (dx < 0 || H5Pset_dxpl_mpio(dx, H5FD_MPIO_INDEPENDENT) < 0)) rc = fail(c, "H5Pset_dxpl_mpio");
  }
  for (int t = 0; t < n && !rc; t++) {
    if (spectrum && l.writer && l.nrows > 0) {
      hsize_t start[4], count[4], m = (hsize_t)l.local;
      corr_slab(&l, t, start, count);
      hid_t ms = H5Screate_simple(1, &m, NULL);
      herr_t e = ms >= 0 ? H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) : -1;
      if (e < 0 || H5Dread(ds, H5T_NATIVE_DOUBLE, ms, fs, dx, spec) < 0)
        rc = ISING_ERR(ISING_ERR_INPUT, "checkpoint '%s': cannot read /correlation/sk_sum (truncated?)", c->path);
      if (ms >= 0) H5Sclose(ms);
    }
    if (!rc) rc = ising_corr_state_set(corr, t, exact + (size_t)t * ISING_CORR_NEXACT, spec);
  }
  if (dx >= 0) H5Pclose(dx);
  if (fs >= 0) H5Sclose(fs);
  if (ds >= 0) H5Dclose(ds);
  free(exact);
  free(spec);
  return rc;
}

/* ------------------------------------------------------------ write */

static int write_tempering(const h5ctx *c, const ising_config *cfg, const ising_ckpt_state *st) {
  const ising_tempering *t = st->temper;
  int n = t->n_T, R = t->R;
  ISING_CALL(dset_write(c, "tempering/T", H5T_NATIVE_DOUBLE, n, t->T));
  ISING_CALL(dset_write(c, "tempering/rep_at", H5T_NATIVE_INT, R, t->rep_at));
  ISING_CALL(dset_write(c, "tempering/temp_of", H5T_NATIVE_INT, R, t->temp_of));
  ISING_CALL(dset_write(c, "tempering/direction", H5T_NATIVE_INT, R, t->direction));
  ISING_CALL(dset_write(c, "tempering/round_trips", H5T_NATIVE_INT64, R, t->round_trips));
  ISING_CALL(dset_write(c, "tempering/attempts", H5T_NATIVE_INT64, n, t->attempts));
  ISING_CALL(dset_write(c, "tempering/accepts", H5T_NATIVE_INT64, n, t->accepts));
  ISING_CALL(dset_write(c, "tempering/n_up", H5T_NATIVE_INT64, n, t->n_up));
  ISING_CALL(dset_write(c, "tempering/n_down", H5T_NATIVE_INT64, n, t->n_down));
  ISING_CALL(dset_write(c, "tempering/steps", H5T_NATIVE_INT64, 1, &t->steps));
  (void)cfg;
  return dset_write(c, "tempering/ladder_history", H5T_NATIVE_DOUBLE, (int64_t)st->n_hist * n,
                    st->ladder_hist);
}

static int sync_path(const char *path, int dir) {
  int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return -1;
  int r = fsync(fd);
  close(fd);
  return r;
}

static void dir_of(const char *path, char *dir, size_t size) {
  snprintf(dir, size, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash)
    snprintf(dir, size, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
}

/* Rank 0: fsync the temporary file, keep the old generation, rename into
 * place, fsync the directory. */
static int commit_files(const char *tmp, const char *cur, const char *old) {
  char dir[ISING_PATH_MAX + 32];
  dir_of(cur, dir, sizeof dir);
  if (sync_path(tmp, 0) != 0)
    return ISING_ERR(ISING_ERR_IO, "checkpoint: fsync of '%s' failed: %s", tmp, strerror(errno));
  if (access(cur, F_OK) == 0 && rename(cur, old) != 0)
    return ISING_ERR(ISING_ERR_IO, "checkpoint: keeping the previous generation ('%s' -> '%s') failed: %s",
                     cur, old, strerror(errno));
  if (rename(tmp, cur) != 0)
    return ISING_ERR(ISING_ERR_IO, "checkpoint: rename '%s' -> '%s' failed: %s", tmp, cur,
                     strerror(errno));
  if (sync_path(dir, 1) != 0)
    return ISING_ERR(ISING_ERR_IO, "checkpoint: fsync of directory '%s' failed: %s", dir,
                     strerror(errno));
  return ISING_OK;
}

static int write_body(h5ctx *c, const ising_layout *lay, const ising_config *cfg,
                      const ising_ckpt_state *st, int n_local, const ising_ckpt_replica *local) {
  const int R = st->temper->R, dim = cfg->dim;
  ISING_CALL(attr_str(c, c->file, "program", "ising"));
  ISING_CALL(attr_str(c, c->file, "kind", "checkpoint"));
  ISING_CALL(attr_i64(c, "format_version", ISING_CKPT_FORMAT));
  ISING_CALL(attr_i64(c, "generation", st->generation));
  ISING_CALL(attr_i64(c, "sweeps_done", st->sweeps_done));
  ISING_CALL(attr_i64(c, "rows", st->rows));
  ISING_CALL(attr_i64(c, "next_round", st->next_round));
  ISING_CALL(attr_i64(c, "n_hist", st->n_hist));
  ISING_CALL(text_write(c, "deck_source", cfg->deck_source ? cfg->deck_source : ""));
  size_t len = 1;
  for (int i = 0; i < cfg->n_set; i++) len += strlen(cfg->set_list[i]) + 1;
  char *sets = calloc(len, 1);
  ISING_CHECK(sets, ISING_ERR_MEM, "out of memory");
  for (int i = 0; i < cfg->n_set; i++) {
    strcat(sets, cfg->set_list[i]);
    strcat(sets, "\n");
  }
  int rc = text_write(c, "set_list", sets);
  free(sets);
  ISING_CALL(rc);
  ISING_CALL(write_tempering(c, cfg, st));
  if (st->n_sweeper > 0) {
    char path[96];
    snprintf(path, sizeof path, "sweeper/%s", st->sweeper);
    ISING_CALL(dset_write(c, path, H5T_NATIVE_INT64, st->n_sweeper, st->sweeper_state));
  }
  /* spins */
  hsize_t dims[4] = {(hsize_t)R};
  for (int k = 0; k < dim; k++) dims[dim - k] = (hsize_t)cfg->L[k];
  hid_t sp = H5Screate_simple(dim + 1, dims, NULL);
  hid_t ds = sp >= 0 ? H5Dcreate2(c->file, "spins", H5T_NATIVE_INT8, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
  if (sp >= 0) H5Sclose(sp);
  if (ds < 0) return fail(c, "H5Dcreate2 (/spins)");
  uint64_t *sums = calloc((size_t)R, sizeof *sums);
  rc = sums ? ISING_OK : ISING_ERR(ISING_ERR_MEM, "out of memory");
  for (int k = 0; k < n_local && !rc; k++)
    rc = spins_io(c, ds, dim, local[k].id, local[k].lat, 1, &sums[local[k].id]);
  /* every rank must reach the collectives below: agree on failure first */
  int bad = rc;
  if (ising_world_max_int(lay, &bad) != ISING_OK && !rc) rc = ISING_ERR_MPI;
  if (!rc && bad) rc = ISING_ERR(bad, "writing the checkpoint's spins failed on another rank");
  if (!rc && MPI_Allreduce(MPI_IN_PLACE, sums, R, MPI_UINT64_T, MPI_SUM, lay->world) != MPI_SUCCESS)
    rc = ISING_ERR(ISING_ERR_MPI, "MPI_Allreduce (checkpoint checksums) failed");
  if (!rc) {
    hsize_t r = (hsize_t)R;
    hid_t as = H5Screate_simple(1, &r, NULL);
    hid_t a = as >= 0 ? H5Acreate2(ds, "checksums", H5T_NATIVE_UINT64, as, H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (a < 0 || H5Awrite(a, H5T_NATIVE_UINT64, sums) < 0) rc = fail(c, "checksums");
    if (a >= 0) H5Aclose(a);
    if (as >= 0) H5Sclose(as);
  }
  free(sums);
  H5Dclose(ds);
  ISING_CALL(rc);
  if (st->corr) ISING_CALL(corr_write(c, lay, cfg, st->corr));
  return attr_i64(c, "complete", 1); /* last */
}

int ising_ckpt_write(const ising_layout *lay, const ising_config *cfg, const ising_ckpt_state *st,
                     int n_local, const ising_ckpt_replica *local) {
  char cur[ISING_PATH_MAX + 16], old[ISING_PATH_MAX + 16], tmp[ISING_PATH_MAX + 32];
  ising_ckpt_paths(cfg->file, cur, old, sizeof cur);
  snprintf(tmp, sizeof tmp, "%s.ckpt.tmp", cfg->file);
  h5ctx c = {-1, lay->world_rank, tmp, ISING_CKPT_FORMAT};
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0 || H5Pset_fapl_mpio(fapl, lay->world, MPI_INFO_NULL) < 0) return fail(&c, "H5Pset_fapl_mpio");
  c.file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (c.file < 0)
    return ISING_ERR(ISING_ERR_IO, "checkpoint: cannot create '%s' (disk full? permissions?)", tmp);
  int rc = write_body(&c, lay, cfg, st, n_local, local);
  if (H5Fclose(c.file) < 0 && !rc) rc = fail(&c, "H5Fclose");
  if (!rc && lay->world_rank == 0) rc = commit_files(tmp, cur, old);
  if (rc && lay->world_rank == 0) unlink(tmp);
  int bad = rc;
  if (ising_world_max_int(lay, &bad) != ISING_OK && !rc) return ISING_ERR_MPI;
  if (!rc && bad) return ISING_ERR(bad, "checkpoint failed on rank 0 (see its message)");
  return rc;
}

/* ------------------------------------------------------------ read */

static int open_ckpt(MPI_Comm comm, const char *path, h5ctx *c) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  c->rank = rank;
  c->path = path;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  int exists = access(path, R_OK) == 0;
  if (!exists) return ISING_ERR(ISING_ERR_INPUT, "'%s' does not exist or is not readable", path);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) return fail(c, "H5Pset_fapl_mpio");
  c->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  H5Pclose(fapl);
  if (c->file < 0) return ISING_ERR(ISING_ERR_INPUT, "'%s' is not a readable HDF5 file (truncated or torn?)", path);
  int64_t fmt = -1, complete = 0;
  char kind[32] = "";
  hid_t a = H5Aopen(c->file, "kind", H5P_DEFAULT);
  if (a >= 0) {
    hid_t t = H5Aget_type(a);
    size_t sz = t >= 0 ? H5Tget_size(t) : 0;
    if (sz > 0 && sz < sizeof kind) H5Aread(a, t, kind);
    if (t >= 0) H5Tclose(t);
    H5Aclose(a);
  }
  int rc = ISING_OK;
  if (strcmp(kind, "checkpoint") != 0)
    rc = ISING_ERR(ISING_ERR_INPUT, "'%s' is not an ising checkpoint (no kind = checkpoint)", path);
  else if (attr_read_i64(c, "format_version", &fmt) || fmt < ISING_CKPT_FORMAT_MIN || fmt > ISING_CKPT_FORMAT)
    rc = ISING_ERR(ISING_ERR_INPUT, "'%s' has checkpoint format %lld; this ising reads formats %d to %d",
                   path, (long long)fmt, ISING_CKPT_FORMAT_MIN, ISING_CKPT_FORMAT);
  else if (attr_read_i64(c, "complete", &complete) || complete != 1)
    rc = ISING_ERR(ISING_ERR_INPUT, "'%s' is incomplete (the run stopped while writing it)", path);
  c->fmt = fmt;
  if (rc) {
    H5Fclose(c->file);
    c->file = -1;
  }
  return rc;
}

int ising_ckpt_read_deck(MPI_Comm comm, const char *output, char **text, int *nset, char ***set,
                         int *which) {
  char path[2][ISING_PATH_MAX + 16], why[2][600];
  ising_ckpt_paths(output, path[0], path[1], ISING_PATH_MAX + 16);
  *text = NULL;
  *nset = 0;
  *set = NULL;
  for (int g = 0; g < 2; g++) {
    h5ctx c = {-1, 0, path[g], 0};
    ising_err_clear();
    int rc = open_ckpt(comm, path[g], &c);
    char *sets = NULL;
    if (!rc) rc = text_read(&c, "deck_source", text);
    if (!rc) rc = text_read(&c, "set_list", &sets);
    if (c.file >= 0) H5Fclose(c.file);
    if (!rc) {
      int n = 0;
      for (char *p = sets; *p; p++) n += *p == '\n';
      char **list = calloc((size_t)n + 1, sizeof *list);
      int k = 0;
      for (char *p = sets, *nl; list && (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = '\0';
        list[k++] = strdup(p);
      }
      free(sets);
      ISING_CHECK(list, ISING_ERR_MEM, "out of memory");
      *nset = k;
      *set = list;
      *which = g;
      return ISING_OK;
    }
    free(sets);
    free(*text);
    *text = NULL;
    snprintf(why[g], sizeof why[g], "%s", ising_err_message());
  }
  ising_err_clear();
  return ISING_ERR(ISING_ERR_INPUT, "no usable checkpoint for '%s': %s; %s", output, why[0], why[1]);
}

void ising_ckpt_free_deck(char *text, int nset, char **set) {
  free(text);
  for (int i = 0; i < nset; i++) free(set[i]);
  free(set);
}

static int load_one(const ising_layout *lay, const ising_config *cfg, const char *path,
                    ising_ckpt_state *st, int n_local, const ising_ckpt_replica *local) {
  h5ctx c = {-1, lay->world_rank, path, 0};
  ISING_CALL(open_ckpt(lay->world, path, &c));
  ising_tempering *t = st->temper;
  const int n = t->n_T, R = t->R;
  int64_t v;
  int rc = attr_read_i64(&c, "sweeps_done", &st->sweeps_done);
  if (!rc) rc = attr_read_i64(&c, "rows", &st->rows);
  if (!rc) rc = attr_read_i64(&c, "generation", &st->generation);
  if (!rc && !(rc = attr_read_i64(&c, "next_round", &v))) st->next_round = (int)v;
  if (!rc && !(rc = attr_read_i64(&c, "n_hist", &v))) st->n_hist = (int)v;
  if (!rc && (st->n_hist < 1 || st->n_hist > cfg->adapt_rounds + 1))
    rc = ISING_ERR(ISING_ERR_INPUT, "checkpoint '%s': ladder history of %d rows", path, st->n_hist);
  if (!rc) rc = dset_read(&c, "tempering/T", H5T_NATIVE_DOUBLE, n, t->T);
  if (!rc) rc = dset_read(&c, "tempering/rep_at", H5T_NATIVE_INT, R, t->rep_at);
  if (!rc) rc = dset_read(&c, "tempering/temp_of", H5T_NATIVE_INT, R, t->temp_of);
  if (!rc) rc = dset_read(&c, "tempering/direction", H5T_NATIVE_INT, R, t->direction);
  if (!rc) rc = dset_read(&c, "tempering/round_trips", H5T_NATIVE_INT64, R, t->round_trips);
  if (!rc) rc = dset_read(&c, "tempering/attempts", H5T_NATIVE_INT64, n, t->attempts);
  if (!rc) rc = dset_read(&c, "tempering/accepts", H5T_NATIVE_INT64, n, t->accepts);
  if (!rc) rc = dset_read(&c, "tempering/n_up", H5T_NATIVE_INT64, n, t->n_up);
  if (!rc) rc = dset_read(&c, "tempering/n_down", H5T_NATIVE_INT64, n, t->n_down);
  if (!rc) rc = dset_read(&c, "tempering/steps", H5T_NATIVE_INT64, 1, &t->steps);
  if (!rc) rc = dset_read(&c, "tempering/ladder_history", H5T_NATIVE_DOUBLE, (int64_t)st->n_hist * n, st->ladder_hist);
  if (!rc && st->n_sweeper > 0) {
    char sp[96];
    snprintf(sp, sizeof sp, "sweeper/%s", st->sweeper);
    rc = dset_read(&c, sp, H5T_NATIVE_INT64, st->n_sweeper, st->sweeper_state);
  }
  for (int i = 0; i < n && !rc; i++) t->beta[i] = 1.0 / t->T[i];
  /* spins, then the checksums of every replica */
  hid_t ds = rc ? -1 : H5Dopen2(c.file, "spins", H5P_DEFAULT);
  if (!rc && ds < 0) rc = ISING_ERR(ISING_ERR_INPUT, "checkpoint '%s': /spins missing", path);
  uint64_t *sums = calloc((size_t)R, sizeof *sums), *want = calloc((size_t)R, sizeof *want);
  if (!rc && (!sums || !want)) rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
  if (!rc) {
    hid_t fs = H5Dget_space(ds);
    hsize_t d[4] = {0};
    int nd = fs >= 0 ? H5Sget_simple_extent_dims(fs, d, NULL) : -1;
    if (fs >= 0) H5Sclose(fs);
    int ok = nd == cfg->dim + 1 && d[0] == (hsize_t)R;
    for (int k = 0; ok && k < cfg->dim; k++) ok = d[cfg->dim - k] == (hsize_t)cfg->L[k];
    if (!ok) rc = ISING_ERR(ISING_ERR_INPUT, "checkpoint '%s': /spins has the wrong shape", path);
  }
  for (int k = 0; k < n_local && !rc; k++)
    rc = spins_io(&c, ds, cfg->dim, local[k].id, local[k].lat, 0, &sums[local[k].id]);
  int bad = rc;
  if (ising_world_max_int(lay, &bad) != ISING_OK && !rc) rc = ISING_ERR_MPI;
  if (!rc && bad) rc = ISING_ERR(ISING_ERR_INPUT, "checkpoint '%s': reading spins failed on another rank", path);
  if (!rc && MPI_Allreduce(MPI_IN_PLACE, sums, R, MPI_UINT64_T, MPI_SUM, lay->world) != MPI_SUCCESS)
    rc = ISING_ERR(ISING_ERR_MPI, "MPI_Allreduce (checkpoint checksums) failed");
  if (!rc) {
    hid_t a = H5Aopen(ds, "checksums", H5P_DEFAULT);
    if (a < 0 || H5Aread(a, H5T_NATIVE_UINT64, want) < 0)
      rc = ISING_ERR(ISING_ERR_INPUT, "checkpoint '%s': checksums missing", path);
    if (a >= 0) H5Aclose(a);
    for (int r = 0; r < R && !rc; r++)
      if (sums[r] != want[r])
        rc = ISING_ERR(ISING_ERR_INPUT, "checkpoint '%s': the spins of replica %d do not match their checksum", path, r);
  }
  free(sums);
  free(want);
  if (ds >= 0) H5Dclose(ds);
  /* the correlation accumulators (format 1 has none: they start empty) */
  if (!rc && st->corr) {
    if (c.fmt >= 2) {
      rc = corr_read(&c, cfg, st->corr);
      bad = rc;
      if (ising_world_max_int(lay, &bad) != ISING_OK && !rc) rc = ISING_ERR_MPI;
      if (!rc && bad) rc = ISING_ERR(ISING_ERR_INPUT, "checkpoint '%s': reading the correlation sums failed on another rank", path);
    } else {
      const double none[ISING_CORR_NEXACT] = {0};
      for (int i = 0; i < n && !rc; i++) rc = ising_corr_state_set(st->corr, i, none, NULL);
      if (!rc && lay->world_rank == 0)
        fprintf(stderr, "ising: warning: checkpoint '%s' has format %lld, without correlation sums: "
                "/correlation will cover only the sweeps from here on\n", path, (long long)c.fmt);
    }
  }
  H5Fclose(c.file);
  if (!rc)
    for (int k = 0; k < n_local && !rc; k++) {
      rc = ising_lattice_halo(local[k].lat, 0);
      if (!rc) rc = ising_lattice_halo(local[k].lat, 1);
    }
  return rc;
}

int ising_ckpt_load(const ising_layout *lay, const ising_config *cfg, ising_ckpt_state *st,
                    int n_local, const ising_ckpt_replica *local) {
  char path[2][ISING_PATH_MAX + 16], why[2][600];
  ising_ckpt_paths(cfg->file, path[0], path[1], ISING_PATH_MAX + 16);
  for (int g = 0; g < 2; g++) {
    ising_err_clear();
    int rc = load_one(lay, cfg, path[g], st, n_local, local);
    if (!rc) {
      if (g == 1 && lay->world_rank == 0)
        fprintf(stderr, "ising: warning: %s; resuming from the previous generation '%s'\n", why[0], path[1]);
      return ISING_OK;
    }
    if (rc != ISING_ERR_INPUT) return rc;
    snprintf(why[g], sizeof why[g], "%s", ising_err_message());
  }
  ising_err_clear();
  return ISING_ERR(ISING_ERR_INPUT, "no valid checkpoint: %s; %s", why[0], why[1]);
}

int ising_ckpt_describe(const char *path, FILE *out) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    fprintf(out, "  %s: not readable as HDF5 (truncated or torn)\n", path);
    return ISING_OK;
  }
  h5ctx c = {f, 0, path, 0};
  int64_t gen = -1, done = -1, rows = -1, complete = 0;
  attr_read_i64(&c, "generation", &gen);
  attr_read_i64(&c, "sweeps_done", &done);
  attr_read_i64(&c, "rows", &rows);
  attr_read_i64(&c, "complete", &complete);
  ising_err_clear();
  fprintf(out, "  %s: generation %lld, %lld sweeps done, %lld time-series rows, %s\n", path,
          (long long)gen, (long long)done, (long long)rows,
          complete == 1 ? "complete (checksums are verified on resume)" : "INCOMPLETE: will be skipped");
  H5Fclose(f);
  return ISING_OK;
}
