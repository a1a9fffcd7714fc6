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
 *
 * Integrity.  A checksum here is a position-keyed sum over the elements of
 * a dataset (elem_hash, site_hash): one changed element always changes it,
 * and since a sum does not depend on the order, every rank adds up the part
 * it wrote or read and one reduction gives the whole, on any decomposition.
 * The file is written in the HDF5 1.8 object formats, whose metadata
 * (superblock, object headers with the attributes, links) HDF5 checksums
 * and verifies itself.  Reading, every failure (an HDF5 error, a mismatch,
 * a value out of range) is ISING_ERR_INPUT: the generation is damaged and
 * the caller tries the previous one.
 */
#include "ising/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5util.h"
#include "ising/error.h"

#define SLAB_BYTES (8 << 20)

void ising_ckpt_paths(const char *output, char *cur, char *old, int size) {
  if (cur) snprintf(cur, (size_t)size, "%s.ckpt", output);
  if (old) snprintf(old, (size_t)size, "%s.ckpt.old", output);
}

/* ------------------------------------------------------------ small I/O */

/* The root attributes that resume reads, in the order of their checksum. */
enum { A_FORMAT, A_GENERATION, A_SWEEPS, A_ROWS, A_ROUND, A_HIST, A_CORR, N_ROOT };
static const char *const root_names[N_ROOT] = {"format_version", "generation", "sweeps_done",
                                               "rows", "next_round", "n_hist", "correlation"};

typedef struct h5ctx {
  hid_t file;
  int rank;
  MPI_Comm comm;     /* the file's communicator */
  const char *path;
  int64_t root[N_ROOT]; /* of a file being read */
  int sums;          /* it has checksums of every dataset and of root[] (format >= 3) */
  int64_t bytes;     /* its size: a bound for any dataset in it */
} h5ctx;

/* A write (of the temporary file: its name ends in ".tmp") that hit a
 * full disk or quota is ISING_ERR_IO with the cause's text. */
static int fail(const h5ctx *c, const char *what) {
  int err = errno;
  size_t n = strlen(c->path);
  const char *cause = n > 4 && strcmp(c->path + n - 4, ".tmp") == 0 ? ising_h5_io_cause(c->path, err) : "";
  if (*cause)
    return ising_err_set(ISING_ERR_IO, __FILE__, __LINE__, "HDF5 error in %s (checkpoint '%s'): %s",
                         what, c->path, cause);
  return ising_err_set(ISING_ERR_HDF5, __FILE__, __LINE__, "HDF5 error in %s (checkpoint '%s')",
                       what, c->path);
}

#define DAMAGED(c, ...) damaged_((c), __FILE__, __LINE__, __VA_ARGS__)
static int damaged_(const h5ctx *c, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int damaged_(const h5ctx *c, const char *file, int line, const char *fmt, ...) {
  char what[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return ising_err_set(ISING_ERR_INPUT, file, line, "checkpoint '%s': %s", c->path, what);
}

/* Every rank learns whether any failed (`rc` the local status); a rank
 * that did not fail itself gets a message pointing to the one that did.
 * Collective over c->comm. */
static int agree(const h5ctx *c, int rc) {
  int v = rc;
  if (MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, c->comm) != MPI_SUCCESS)
    return rc ? rc : ISING_ERR(ISING_ERR_MPI, "MPI_Allreduce (checkpoint '%s') failed", c->path);
  if (!rc && v)
    return v == ISING_ERR_INPUT ? DAMAGED(c, "damaged (reported on another rank)")
                                : ISING_ERR(v, "checkpoint '%s': failed on another rank", c->path);
  return rc;
}

/* ------------------------------------------------------------ checksums */

static inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* Hash of one site, summed mod 2^64 over a replica (order independent). */
static inline uint64_t site_hash(uint64_t g, int spin) {
  return mix64(2 * g + (spin > 0) + 0x9E3779B97F4A7C15ULL);
}

/* Element i with bit pattern v: for a fixed i a bijection of v, so one
 * changed element always changes the sum. */
static inline uint64_t elem_hash(uint64_t i, uint64_t v) {
  return mix64(v ^ mix64(i + 0x9E3779B97F4A7C15ULL));
}

/* The sum of elem_hash over n elements of size esize (1, 4 or 8 bytes)
 * whose first has the index `first`. */
static uint64_t part_hash(const void *buf, size_t esize, int64_t first, int64_t n) {
  const unsigned char *b = buf;
  uint64_t acc = 0;
  for (int64_t i = 0; i < n; i++) {
    uint64_t v = 0;
    if (esize == 1) {
      v = b[i];
    } else if (esize == 4) {
      uint32_t u;
      memcpy(&u, b + 4 * i, 4);
      v = u;
    } else {
      memcpy(&v, b + 8 * i, 8);
    }
    acc += elem_hash((uint64_t)(first + i), v);
  }
  return acc;
}

/* The checksum of a dataset of `total` elements from the sum of its parts. */
static uint64_t hash_close(uint64_t sum, int64_t total) {
  return sum + mix64((uint64_t)total ^ 0xD6E8FEB86659FD93ULL);
}

static int64_t corr_flag(const ising_config *cfg, const ising_corr *corr) {
  return corr ? (cfg->sk_every > 0 ? 2 : 1) : 0;
}

/* ------------------------------------------------------------ datasets */

/* A 1D dataset of n elements of `type` at path with its "checksum"; rank 0
 * writes the data and its checksum goes to every rank.  Collective. */
static int dset_write(const h5ctx *c, const char *path, hid_t type, int64_t n, const void *data) {
  uint64_t h = c->rank == 0 ? hash_close(part_hash(data, H5Tget_size(type), 0, n), n) : 0;
  if (MPI_Bcast(&h, 1, MPI_UINT64_T, 0, c->comm) != MPI_SUCCESS)
    return ISING_ERR(ISING_ERR_MPI, "MPI_Bcast (checkpoint checksum) failed");
  hsize_t d = (hsize_t)(n > 0 ? n : 0);
  hid_t sp = H5Screate_simple(1, &d, NULL);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  const char *step = sp < 0 ? "H5Screate_simple" : lcpl < 0 ? "H5Pcreate"
                   : H5Pset_create_intermediate_group(lcpl, 1) < 0 ? "H5Pset_create_intermediate_group"
                   : NULL;
  hid_t ds = step ? -1 : H5Dcreate2(c->file, path, type, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  if (!step && ds < 0) step = "H5Dcreate2";
  if (!step && c->rank == 0 && n > 0 && H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    step = "H5Dwrite";
  int rc = ISING_OK;
  if (!step) rc = ising_h5_attr_u64(ds, "checksum", 1, &h, c->path);
  if (ds >= 0 && H5Dclose(ds) < 0 && !step) step = "H5Dclose";
  if (lcpl >= 0 && H5Pclose(lcpl) < 0 && !step) step = "H5Pclose";
  if (sp >= 0 && H5Sclose(sp) < 0 && !step) step = "H5Sclose";
  if (rc) return rc;
  if (step) {
    char what[300];
    snprintf(what, sizeof what, "%s (/%s)", step, path);
    return fail(c, what);
  }
  return ISING_OK;
}

/* The 1D dataset at path into a buffer of its own size (at most c->bytes;
 * *data allocated with one zero element more, free() it), its checksum
 * verified when the file has them.  Local; every failure is "damaged". */
static int dset_read_any(const h5ctx *c, const char *path, hid_t type, int64_t *n, void **data) {
  *data = NULL;
  *n = 0;
  size_t esize = H5Tget_size(type);
  hid_t ds = H5Dopen2(c->file, path, H5P_DEFAULT);
  if (ds < 0) return DAMAGED(c, "/%s is missing or unreadable", path);
  hid_t sp = H5Dget_space(ds);
  hssize_t have = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  int rc = sp < 0 || have < 0 || nd != 1 || esize == 0 || (int64_t)have > c->bytes / (int64_t)esize
               ? DAMAGED(c, "/%s has an impossible shape", path) : ISING_OK;
  void *buf = rc ? NULL : calloc((size_t)have + 1, esize);
  if (!rc && !buf) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (checkpoint)");
  if (!rc && have > 0 && H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
    rc = DAMAGED(c, "/%s cannot be read", path);
  if (!rc && c->sums) {
    uint64_t want;
    rc = ising_h5_attr_read_u64(ds, "checksum", 1, &want, c->path);
    if (!rc && hash_close(part_hash(buf, esize, 0, have), have) != want)
      rc = DAMAGED(c, "/%s does not match its checksum", path);
  }
  if (sp >= 0 && H5Sclose(sp) < 0 && !rc) rc = DAMAGED(c, "/%s: H5Sclose failed", path);
  if (H5Dclose(ds) < 0 && !rc) rc = DAMAGED(c, "/%s: H5Dclose failed", path);
  if (rc) {
    free(buf);
    return rc;
  }
  *n = have;
  *data = buf;
  return ISING_OK;
}

/* Exactly n elements of `type` at path into data (checksum verified). */
static int dset_read(const h5ctx *c, const char *path, hid_t type, int64_t n, void *data) {
  int64_t have;
  void *buf;
  ISING_CALL(dset_read_any(c, path, type, &have, &buf));
  if (have != n) {
    free(buf);
    return DAMAGED(c, "/%s has %lld elements, expected %lld", path, (long long)have, (long long)n);
  }
  memcpy(data, buf, (size_t)n * H5Tget_size(type));
  free(buf);
  return ISING_OK;
}

/* A string dataset (text may be empty). */
static int text_write(const h5ctx *c, const char *path, const char *s) {
  return dset_write(c, path, H5T_NATIVE_CHAR, (int64_t)strlen(s), s);
}

static int text_read(const h5ctx *c, const char *path, char **out) {
  int64_t n;
  void *buf;
  ISING_CALL(dset_read_any(c, path, H5T_NATIVE_CHAR, &n, &buf));
  char *text = buf;
  if ((int64_t)strlen(text) != n) {
    free(buf);
    return DAMAGED(c, "/%s holds a NUL byte", path);
  }
  *out = text;
  return ISING_OK;
}

/* ------------------------------------------------------------ spins */

/* Move one replica's block between the lattice and /spins[slot] in slabs
 * of rows; returns the block's checksum contribution in *sum.  Local. */
static int spins_io(const h5ctx *c, hid_t ds, int dim, int64_t slot, ising_lattice *lat,
                    int writing, uint64_t *sum) {
  int64_t n[3], s0[3], L[3];
  *sum = 0;
  ising_lattice_extent(lat, n, s0);
  hid_t fs = H5Dget_space(ds);
  hsize_t fdims[H5S_MAX_RANK];
  if (fs < 0 || H5Sget_simple_extent_dims(fs, fdims, NULL) != dim + 1) {
    if (fs >= 0) H5Sclose(fs);
    return writing ? fail(c, "/spins shape") : DAMAGED(c, "/spins has the wrong shape");
  }
  for (int k = 0; k < dim; k++) L[k] = (int64_t)fdims[dim - k];
  int64_t rows = SLAB_BYTES / (n[0] > 0 ? n[0] : 1);
  if (rows < 1) rows = 1;
  if (rows > n[1]) rows = n[1];
  int8_t *buf = malloc((size_t)(rows * n[0]));
  hid_t dx = buf ? H5Pcreate(H5P_DATASET_XFER) : -1;
  int rc = !buf ? ISING_ERR(ISING_ERR_MEM, "out of memory (checkpoint buffer)")
           : dx < 0 || H5Pset_dxpl_mpio(dx, H5FD_MPIO_INDEPENDENT) < 0 ? fail(c, "H5Pset_dxpl_mpio")
           : ISING_OK;
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
      if (ms >= 0 && H5Sclose(ms) < 0) io = -1;
      if (io < 0) {
        rc = writing ? fail(c, "H5Dwrite (/spins)") : DAMAGED(c, "cannot read its spins (truncated?)");
        break;
      }
      for (int64_t j = 0; j < ny && !rc; j++)
        for (int64_t x = 0; x < n[0]; x++) {
          int8_t s = buf[j * n[0] + x];
          if (!writing && s != 1 && s != -1) {
            rc = DAMAGED(c, "a spin is %d, not +-1", s);
            break;
          }
          uint64_t g = (uint64_t)((s0[0] + x) + L[0] * ((s0[1] + y0 + j) + L[1] * (dim == 3 ? s0[2] + z : 0)));
          acc += site_hash(g, s);
        }
      if (!writing && !rc) ising_lattice_unpack_rows(lat, z, y0, ny, buf);
    }
  if (dx >= 0 && H5Pclose(dx) < 0 && !rc) rc = fail(c, "H5Pclose");
  if (H5Sclose(fs) < 0 && !rc) rc = fail(c, "H5Sclose");
  free(buf);
  *sum = acc;
  return rc;
}

/* Verify a whole dataset of a file being read, the ranks of c->comm
 * sharing its planes (all axes but the last two index the planes), without
 * knowing any decomposition.  spins: /spins (int8, +-1), per-replica
 * checksums of site_hash against its attribute "checksums"; otherwise a
 * float64 dataset against its "checksum".  Collective. */
static int verify_whole(const h5ctx *c, const char *path, int spins) {
  int size = 1;
  int rc = MPI_Comm_size(c->comm, &size) != MPI_SUCCESS
               ? ISING_ERR(ISING_ERR_MPI, "MPI_Comm_size failed") : ISING_OK;
  hid_t ds = rc ? -1 : H5Dopen2(c->file, path, H5P_DEFAULT);
  hid_t fs = ds >= 0 ? H5Dget_space(ds) : -1;
  hsize_t d[H5S_MAX_RANK] = {0};
  int nd = fs >= 0 ? H5Sget_simple_extent_ndims(fs) : -1;
  if (!rc && (nd < 3 || nd > 4 || H5Sget_simple_extent_dims(fs, d, NULL) != nd))
    rc = DAMAGED(c, "/%s is missing or has an impossible shape", path);
  const size_t esize = spins ? 1 : 8;
  int64_t total = 1, X = 0, Y = 0, per = 1, planes = 0, R = 1;
  for (int k = 0; k < nd && !rc; k++) {
    if (d[k] == 0 || (int64_t)d[k] > c->bytes || total > c->bytes / (int64_t)d[k]) {
      rc = DAMAGED(c, "/%s has an impossible shape", path);
      break;
    }
    total *= (int64_t)d[k];
  }
  if (!rc) {
    X = (int64_t)d[nd - 1];
    Y = (int64_t)d[nd - 2];
    planes = total / (X * Y);
    R = spins ? (int64_t)d[0] : 1;
    if (R > INT_MAX) rc = DAMAGED(c, "/%s has an impossible shape", path);
    per = total / R; /* elements per checksum */
    if (total > c->bytes / (int64_t)esize) rc = DAMAGED(c, "/%s is larger than the file", path);
  }
  int64_t rows = SLAB_BYTES / ((int64_t)esize * (X > 0 ? X : 1));
  if (rows < 1) rows = 1;
  if (rows > Y) rows = Y;
  void *buf = rc ? NULL : malloc((size_t)(rows * X) * esize + 1);
  uint64_t *sums = rc ? NULL : calloc((size_t)R, sizeof *sums);
  hid_t dx = rc ? -1 : H5Pcreate(H5P_DATASET_XFER);
  if (!rc && (!buf || !sums)) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (checkpoint)");
  if (!rc && (dx < 0 || H5Pset_dxpl_mpio(dx, H5FD_MPIO_INDEPENDENT) < 0)) rc = fail(c, "H5Pset_dxpl_mpio");
  for (int64_t p = c->rank; p < planes && !rc; p += size)
    for (int64_t y0 = 0; y0 < Y && !rc; y0 += rows) {
      int64_t ny = Y - y0 < rows ? Y - y0 : rows;
      hsize_t start[4] = {0}, count[4] = {1, 1, 1, 1};
      if (nd == 4) {
        start[0] = (hsize_t)(p / (int64_t)d[1]);
        start[1] = (hsize_t)(p % (int64_t)d[1]);
      } else {
        start[0] = (hsize_t)p;
      }
      start[nd - 2] = (hsize_t)y0;
      count[nd - 2] = (hsize_t)ny;
      count[nd - 1] = (hsize_t)X;
      hsize_t m = (hsize_t)(ny * X);
      hid_t ms = H5Screate_simple(1, &m, NULL);
      herr_t e = ms >= 0 ? H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) : -1;
      if (e < 0 || H5Dread(ds, spins ? H5T_NATIVE_INT8 : H5T_NATIVE_DOUBLE, ms, fs, dx, buf) < 0)
        rc = DAMAGED(c, "/%s cannot be read (truncated?)", path);
      if (ms >= 0 && H5Sclose(ms) < 0 && !rc) rc = DAMAGED(c, "/%s: H5Sclose failed", path);
      int64_t f0 = (p * Y + y0) * X; /* flat index of the slab's first element */
      if (rc) break;
      if (!spins) {
        sums[0] += part_hash(buf, 8, f0, ny * X);
        continue;
      }
      const int8_t *s = buf;
      for (int64_t i = 0; i < ny * X && !rc; i++) {
        if (s[i] != 1 && s[i] != -1) rc = DAMAGED(c, "a spin is %d, not +-1", s[i]);
        int64_t f = f0 + i;
        sums[f / per] += site_hash((uint64_t)(f % per), s[i]);
      }
    }
  if (dx >= 0 && H5Pclose(dx) < 0 && !rc) rc = fail(c, "H5Pclose");
  rc = agree(c, rc);
  if (!rc && MPI_Allreduce(MPI_IN_PLACE, sums, (int)R, MPI_UINT64_T, MPI_SUM, c->comm) != MPI_SUCCESS)
    rc = ISING_ERR(ISING_ERR_MPI, "MPI_Allreduce (checkpoint checksums) failed");
  uint64_t *want = rc ? NULL : calloc((size_t)R, sizeof *want);
  if (!rc && !want) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (checkpoint)");
  if (!rc) rc = ising_h5_attr_read_u64(ds, spins ? "checksums" : "checksum", (int)R, want, c->path);
  if (!rc && !spins) sums[0] = hash_close(sums[0], total);
  for (int64_t r = 0; r < R && !rc; r++)
    if (sums[r] != want[r])
      rc = spins ? DAMAGED(c, "the spins of replica %lld do not match their checksum", (long long)r)
                 : DAMAGED(c, "/%s does not match its checksum", path);
  if (fs >= 0 && H5Sclose(fs) < 0 && !rc) rc = DAMAGED(c, "/%s: H5Sclose failed", path);
  if (ds >= 0 && H5Dclose(ds) < 0 && !rc) rc = DAMAGED(c, "/%s: H5Dclose failed", path);
  free(buf);
  free(sums);
  free(want);
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
 * spectrum sums (the ranks of group 0 write their rows, and the checksum
 * is the sum of their parts).  Collective. */
static int corr_write(const h5ctx *c, const ising_layout *lay, const ising_config *cfg, ising_corr *corr) {
  ising_corr_layout l;
  ising_corr_state_layout(corr, &l);
  const int n = l.n_acc, spectrum = cfg->sk_every > 0;
  double *exact = malloc((size_t)n * ISING_CORR_NEXACT * sizeof *exact);
  double *spec = spectrum ? malloc((size_t)(l.local > 0 ? l.local : 1) * sizeof *spec) : NULL;
  int rc = exact && (spec || !spectrum) ? ISING_OK : ISING_ERR(ISING_ERR_MEM, "out of memory (checkpoint)");
  hid_t ds = -1, fs = -1, dx = -1;
  /* elements per accumulator and per row of axis 0 */
  const int64_t S = l.dims[1] * l.dims[2], P = l.dims[0] * S;
  uint64_t sum = 0;
  if (!rc && spectrum) {
    hsize_t dims[4] = {(hsize_t)n};
    for (int k = 0; k < l.rank; k++) dims[k + 1] = (hsize_t)l.dims[k];
    hid_t sp = H5Screate_simple(l.rank + 1, dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    int bad = sp < 0 || lcpl < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0;
    ds = !bad ? H5Dcreate2(c->file, "correlation/sk_sum", H5T_NATIVE_DOUBLE, sp, lcpl,
                           H5P_DEFAULT, H5P_DEFAULT) : -1;
    if (lcpl >= 0 && H5Pclose(lcpl) < 0) bad = 1;
    if (sp >= 0 && H5Sclose(sp) < 0) bad = 1;
    fs = ds >= 0 ? H5Dget_space(ds) : -1;
    dx = H5Pcreate(H5P_DATASET_XFER);
    if (bad || ds < 0 || fs < 0 || dx < 0 || H5Pset_dxpl_mpio(dx, H5FD_MPIO_INDEPENDENT) < 0)
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
      if (ms >= 0 && H5Sclose(ms) < 0 && !rc) rc = fail(c, "H5Sclose");
      sum += part_hash(spec, 8, t * P + l.row0 * S, l.local);
    }
    /* a failed write on one rank must not leave the others in the next
     * pooling alone */
    rc = ising_h5_agree(lay->world, rc);
  }
  if (!rc && spectrum) {
    if (MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_UINT64_T, MPI_SUM, c->comm) != MPI_SUCCESS)
      rc = ISING_ERR(ISING_ERR_MPI, "MPI_Allreduce (checkpoint checksums) failed");
    sum = hash_close(sum, n * P);
    if (!rc) rc = ising_h5_attr_u64(ds, "checksum", 1, &sum, c->path);
  }
  if (dx >= 0 && H5Pclose(dx) < 0 && !rc) rc = fail(c, "H5Pclose");
  if (fs >= 0 && H5Sclose(fs) < 0 && !rc) rc = fail(c, "H5Sclose");
  if (ds >= 0 && H5Dclose(ds) < 0 && !rc) rc = fail(c, "H5Dclose (/correlation/sk_sum)");
  if (!rc) rc = dset_write(c, "correlation/exact", H5T_NATIVE_DOUBLE, (int64_t)n * ISING_CORR_NEXACT, exact);
  free(exact);
  free(spec);
  return rc;
}

/* Restore the accumulators from /correlation (format >= 2), all of it
 * read and verified before any accumulator is set.  Collective; the
 * ranks agree on the outcome. */
static int corr_read(const h5ctx *c, const ising_config *cfg, ising_corr *corr) {
  ising_corr_layout l;
  ising_corr_state_layout(corr, &l);
  const int n = l.n_acc, spectrum = cfg->sk_every > 0;
  const int64_t S = l.dims[1] * l.dims[2], P = l.dims[0] * S;
  const int reads = spectrum && l.writer && l.nrows > 0;
  double *exact = malloc((size_t)n * ISING_CORR_NEXACT * sizeof *exact);
  double *spec = reads ? malloc((size_t)n * (size_t)l.local * sizeof *spec) : NULL;
  int rc = !exact || (reads && !spec) ? ISING_ERR(ISING_ERR_MEM, "out of memory (checkpoint)") : ISING_OK;
  if (!rc && c->sums && c->root[A_CORR] != corr_flag(cfg, corr))
    rc = DAMAGED(c, "it says correlation = %lld, the deck %lld", (long long)c->root[A_CORR],
                 (long long)corr_flag(cfg, corr));
  if (!rc) rc = dset_read(c, "correlation/exact", H5T_NATIVE_DOUBLE, (int64_t)n * ISING_CORR_NEXACT, exact);
  hid_t ds = -1, fs = -1, dx = -1;
  uint64_t sum = 0;
  if (!rc && spectrum) {
    ds = H5Dopen2(c->file, "correlation/sk_sum", H5P_DEFAULT);
    fs = ds >= 0 ? H5Dget_space(ds) : -1;
    hsize_t d[H5S_MAX_RANK] = {0};
    int nd = fs >= 0 ? H5Sget_simple_extent_ndims(fs) : -1;
    int ok = nd == l.rank + 1 && H5Sget_simple_extent_dims(fs, d, NULL) == nd && d[0] == (hsize_t)n;
    for (int k = 0; ok && k < l.rank; k++) ok = d[k + 1] == (hsize_t)l.dims[k];
    if (!ok) rc = DAMAGED(c, "/correlation/sk_sum is missing or has the wrong shape");
    dx = H5Pcreate(H5P_DATASET_XFER);
    if (!rc && (dx < 0 || H5Pset_dxpl_mpio(dx, H5FD_MPIO_INDEPENDENT) < 0)) rc = fail(c, "H5Pset_dxpl_mpio");
  }
  for (int t = 0; t < n && !rc && reads; t++) {
    hsize_t start[4], count[4], m = (hsize_t)l.local;
    double *slab = spec + (size_t)t * (size_t)l.local;
    corr_slab(&l, t, start, count);
    hid_t ms = H5Screate_simple(1, &m, NULL);
    herr_t e = ms >= 0 ? H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) : -1;
    if (e < 0 || H5Dread(ds, H5T_NATIVE_DOUBLE, ms, fs, dx, slab) < 0)
      rc = DAMAGED(c, "cannot read /correlation/sk_sum (truncated?)");
    if (ms >= 0 && H5Sclose(ms) < 0 && !rc) rc = DAMAGED(c, "/correlation/sk_sum: H5Sclose failed");
    sum += part_hash(slab, 8, t * P + l.row0 * S, l.local);
  }
  /* the spectrum's checksum is the sum of every writer's part */
  if (spectrum) {
    rc = agree(c, rc);
    if (!rc && MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_UINT64_T, MPI_SUM, c->comm) != MPI_SUCCESS)
      rc = ISING_ERR(ISING_ERR_MPI, "MPI_Allreduce (checkpoint checksums) failed");
    uint64_t want = 0;
    if (!rc && c->sums) {
      rc = ising_h5_attr_read_u64(ds, "checksum", 1, &want, c->path);
      if (!rc && hash_close(sum, n * P) != want) rc = DAMAGED(c, "/correlation/sk_sum does not match its checksum");
    }
  }
  for (int t = 0; t < n && !rc; t++)
    rc = ising_corr_state_set(corr, t, exact + (size_t)t * ISING_CORR_NEXACT,
                              reads ? spec + (size_t)t * (size_t)l.local : NULL);
  if (dx >= 0 && H5Pclose(dx) < 0 && !rc) rc = fail(c, "H5Pclose");
  if (fs >= 0 && H5Sclose(fs) < 0 && !rc) rc = fail(c, "H5Sclose");
  if (ds >= 0 && H5Dclose(ds) < 0 && !rc) rc = fail(c, "H5Dclose");
  free(exact);
  free(spec);
  return agree(c, rc);
}

/* ------------------------------------------------------------ write */

/* The datasets of the tempering state and the ladder history, written and
 * read from the same list. */
typedef struct tfield {
  const char *path;
  int kind; /* 0 double, 1 int, 2 int64 */
  int64_t len;
  void *data;
} tfield;
enum { N_TFIELDS = 11 };

static void tempering_fields(ising_tempering *t, int n_hist, double *hist, tfield f[N_TFIELDS]) {
  const int64_t n = t->n_T, R = t->R;
  const tfield all[N_TFIELDS] = {
      {"tempering/T", 0, n, t->T},
      {"tempering/rep_at", 1, R, t->rep_at},
      {"tempering/temp_of", 1, R, t->temp_of},
      {"tempering/direction", 1, R, t->direction},
      {"tempering/round_trips", 2, R, t->round_trips},
      {"tempering/attempts", 2, n, t->attempts},
      {"tempering/accepts", 2, n, t->accepts},
      {"tempering/n_up", 2, n, t->n_up},
      {"tempering/n_down", 2, n, t->n_down},
      {"tempering/steps", 2, 1, &t->steps},
      {"tempering/ladder_history", 0, (int64_t)n_hist * n, hist}};
  memcpy(f, all, sizeof all);
}

static hid_t tfield_type(int kind) {
  return kind == 0 ? H5T_NATIVE_DOUBLE : kind == 1 ? H5T_NATIVE_INT : H5T_NATIVE_INT64;
}

static int write_tempering(const h5ctx *c, const ising_ckpt_state *st) {
  tfield f[N_TFIELDS];
  tempering_fields(st->temper, st->n_hist, st->ladder_hist, f);
  for (int i = 0; i < N_TFIELDS; i++)
    ISING_CALL(dset_write(c, f[i].path, tfield_type(f[i].kind), f[i].len, f[i].data));
  return ISING_OK;
}

static int sync_path(const char *path, int dir) {
  int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return -1;
  int r = fsync(fd);
  close(fd);
  return r;
}

/* Rank 0: fsync the temporary file, keep the old generation, rename into
 * place, fsync the directory. */
static int commit_files(const char *tmp, const char *cur, const char *old) {
  char dir[ISING_PATH_MAX + 32];
  ising_h5_dir_of(cur, dir, sizeof dir);
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
  ISING_CALL(ising_h5_attr_str(c->file, "program", "ising", c->path));
  ISING_CALL(ising_h5_attr_str(c->file, "kind", "checkpoint", c->path));
  int64_t root[N_ROOT] = {ISING_CKPT_FORMAT, st->generation, st->sweeps_done, st->rows,
                          st->next_round, st->n_hist, corr_flag(cfg, st->corr)};
  for (int i = 0; i < N_ROOT; i++) ISING_CALL(ising_h5_attr_i64(c->file, root_names[i], 1, &root[i], c->path));
  uint64_t rsum = hash_close(part_hash(root, 8, 0, N_ROOT), N_ROOT);
  ISING_CALL(ising_h5_attr_u64(c->file, "checksum", 1, &rsum, c->path));
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
  ISING_CALL(write_tempering(c, st));
  if (st->n_sweeper > 0) {
    char path[96];
    snprintf(path, sizeof path, "sweeper/%s", st->sweeper);
    ISING_CALL(dset_write(c, path, H5T_NATIVE_INT64, st->n_sweeper, st->sweeper_state));
  }
  if (st->disorder_sum) ISING_CALL(dset_write(c, "disorder_checksum", H5T_NATIVE_UINT64, 1, &st->disorder_sum));
  /* spins */
  hsize_t dims[4] = {(hsize_t)R};
  for (int k = 0; k < dim; k++) dims[dim - k] = (hsize_t)cfg->L[k];
  hid_t sp = H5Screate_simple(dim + 1, dims, NULL);
  hid_t ds = sp >= 0 ? H5Dcreate2(c->file, "spins", H5T_NATIVE_INT8, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
  if (sp >= 0 && H5Sclose(sp) < 0 && ds >= 0) {
    H5Dclose(ds);
    ds = -1;
  }
  if (ds < 0) return fail(c, "H5Dcreate2 (/spins)");
  uint64_t *sums = calloc((size_t)R, sizeof *sums);
  rc = sums ? ISING_OK : ISING_ERR(ISING_ERR_MEM, "out of memory");
  for (int k = 0; k < n_local && !rc; k++)
    rc = spins_io(c, ds, dim, local[k].id, local[k].lat, 1, &sums[local[k].id]);
  /* every rank must reach the collectives below: agree on failure first */
  rc = ising_h5_agree(lay->world, rc);
  if (!rc && MPI_Allreduce(MPI_IN_PLACE, sums, R, MPI_UINT64_T, MPI_SUM, lay->world) != MPI_SUCCESS)
    rc = ISING_ERR(ISING_ERR_MPI, "MPI_Allreduce (checkpoint checksums) failed");
  if (!rc) rc = ising_h5_attr_u64(ds, "checksums", R, sums, c->path);
  free(sums);
  if (H5Dclose(ds) < 0 && !rc) rc = fail(c, "H5Dclose (/spins)");
  ISING_CALL(rc);
  if (st->corr) ISING_CALL(corr_write(c, lay, cfg, st->corr));
  int64_t one = 1;
  return ising_h5_attr_i64(c->file, "complete", 1, &one, c->path); /* last */
}

int ising_ckpt_write(const ising_layout *lay, const ising_config *cfg, const ising_ckpt_state *st,
                     int n_local, const ising_ckpt_replica *local) {
  char cur[ISING_PATH_MAX + 16], old[ISING_PATH_MAX + 16], tmp[ISING_PATH_MAX + 32];
  ising_ckpt_paths(cfg->file, cur, old, sizeof cur);
  snprintf(tmp, sizeof tmp, "%s.ckpt.tmp", cfg->file);
  h5ctx c = {.file = -1, .rank = lay->world_rank, .comm = lay->world, .path = tmp};
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  /* room for the new generation beside the two kept (a full disk or quota
   * fails here, before HDF5's collective I/O, and the generations stay as
   * they were): the size of the last one, or the spins, tempering state
   * and correlation sums of the first */
  uint64_t need = 0;
  if (lay->world_rank == 0) {
    struct stat sb;
    int64_t N = ising_config_sites(cfg), R = st->temper->R, n = st->temper->n_T;
    if (stat(cur, &sb) == 0)
      need = (uint64_t)sb.st_size;
    else
      need = (uint64_t)(R * N + 8 * (R + n) * (st->n_hist + 16) + (st->corr ? 16 * n * N : 0) +
                        (st->n_sweeper > 0 ? 8 * st->n_sweeper : 0));
  }
  ISING_CALL(ising_h5_space_check(lay->world, tmp, need, "the checkpoint"));
  /* the 1.8 object formats: HDF5 checksums the file's metadata; a close
   * after a failed write closes every object of the file */
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  int bad = fapl < 0 || H5Pset_fapl_mpio(fapl, lay->world, MPI_INFO_NULL) < 0 ||
            H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0 ||
            H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0;
  c.file = bad ? -1 : H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (fapl >= 0 && H5Pclose(fapl) < 0) bad = 1;
  if (bad) {
    if (c.file >= 0) H5Fclose(c.file);
    return fail(&c, "H5Pset_fapl_mpio/H5Pset_libver_bounds");
  }
  int rc = c.file < 0 ? ISING_ERR(ISING_ERR_IO, "checkpoint: cannot create '%s' (disk full? "
                                "permissions?)", tmp) : ISING_OK;
  ISING_CALL(ising_h5_agree(lay->world, rc));
  /* every rank knows the body's fate before the collective close; a
   * failed generation is removed and never replaces the kept ones */
  errno = 0;
  rc = ising_h5_agree(lay->world, write_body(&c, lay, cfg, st, n_local, local));
  /* a failed generation is garbage: its written blocks go first, so that
   * the close finds room for HDF5's metadata on a full disk or quota (a
   * close that fails there leaves HDF5 unable to end cleanly) */
  if (rc && lay->world_rank == 0 && truncate(tmp, 0) != 0)
    fprintf(stderr, "ising: warning: could not empty the failed checkpoint '%s': %s\n", tmp,
            strerror(errno));
  if (rc) rc = ising_h5_agree(lay->world, rc); /* emptied before any rank closes */
  if (rc) ising_h5_watchdog_arm(tmp, lay->world_rank, ISING_H5_CLOSE_GRACE);
  errno = 0;
  herr_t closed = H5Fclose(c.file);
  if (rc) ising_h5_watchdog_disarm();
  if (closed < 0 && !rc) {
    int err = errno;
    rc = ising_err_set(err ? ISING_ERR_IO : ISING_ERR_HDF5, __FILE__, __LINE__,
                       "HDF5 error in H5Fclose (checkpoint '%s')%s%s", tmp, err ? ": " : "",
                       err ? strerror(err) : "");
  }
  rc = ising_h5_agree(lay->world, rc);
  if (!rc && lay->world_rank == 0) rc = commit_files(tmp, cur, old);
  if (rc && lay->world_rank == 0) unlink(tmp);
  return ising_h5_agree(lay->world, rc);
}

/* ------------------------------------------------------------ read */

/* Open a generation and check what every reader needs: kind, format,
 * complete, the root attributes and (format >= 3) their checksum.  The
 * open is collective, the checks local; the file stays open (c->file >= 0)
 * also on failure, for the caller to agree and then close (collective). */
static int open_ckpt(MPI_Comm comm, const char *path, h5ctx *c) {
  c->file = -1;
  c->comm = comm;
  c->path = path;
  c->sums = 0;
  ISING_CHECK(MPI_Comm_rank(comm, &c->rank) == MPI_SUCCESS, ISING_ERR_MPI, "MPI_Comm_rank failed");
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  int exists = access(path, R_OK) == 0;
  if (!exists) return ISING_ERR(ISING_ERR_INPUT, "'%s' does not exist or is not readable", path);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) {
    if (fapl >= 0) H5Pclose(fapl);
    return fail(c, "H5Pset_fapl_mpio");
  }
  c->file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  if (H5Pclose(fapl) < 0 && c->file >= 0) {
    H5Fclose(c->file);
    c->file = -1;
    return fail(c, "H5Pclose");
  }
  if (c->file < 0) return ISING_ERR(ISING_ERR_INPUT, "'%s' is not a readable HDF5 file (truncated or torn?)", path);
  int64_t *v = c->root, complete = 0;
  hsize_t bytes = 0;
  char kind[32] = "";
  int rc = ISING_OK;
  for (int i = 0; i < N_ROOT; i++) v[i] = 0;
  /* the helpers' messages give way to ours */
  int no_kind = ising_h5_attr_read_str(c->file, "kind", kind, sizeof kind, path) != ISING_OK;
  int no_fmt = no_kind || ising_h5_attr_read_i64(c->file, "format_version", 1, &v[A_FORMAT], path) != ISING_OK;
  int no_complete = no_fmt || ising_h5_attr_read_i64(c->file, "complete", 1, &complete, path) != ISING_OK;
  ising_err_clear();
  if (no_kind || strcmp(kind, "checkpoint") != 0)
    rc = ISING_ERR(ISING_ERR_INPUT, "'%s' is not an ising checkpoint (no kind = checkpoint)", path);
  else if (no_fmt || v[A_FORMAT] < ISING_CKPT_FORMAT_MIN || v[A_FORMAT] > ISING_CKPT_FORMAT)
    rc = ISING_ERR(ISING_ERR_INPUT, "'%s' has checkpoint format %lld; this ising reads formats %d to %d",
                   path, (long long)v[A_FORMAT], ISING_CKPT_FORMAT_MIN, ISING_CKPT_FORMAT);
  else if (no_complete || complete != 1)
    rc = ISING_ERR(ISING_ERR_INPUT, "'%s' is incomplete (the run stopped while writing it)", path);
  else if (H5Fget_filesize(c->file, &bytes) < 0)
    rc = DAMAGED(c, "H5Fget_filesize failed");
  c->bytes = (int64_t)bytes;
  /* a format number damaged downwards must not switch the checksums off */
  htri_t has = rc ? 0 : H5Aexists(c->file, "checksum");
  c->sums = v[A_FORMAT] >= 3;
  if (!rc && (has < 0 || (has > 0) != c->sums))
    rc = DAMAGED(c, "format %lld %s a checksum of its attributes (damaged?)", (long long)v[A_FORMAT],
                 has > 0 ? "but with" : "without");
  for (int i = A_GENERATION; i < N_ROOT && !rc; i++)
    if (i != A_CORR || c->sums) rc = ising_h5_attr_read_i64(c->file, root_names[i], 1, &v[i], path);
  if (!rc && c->sums) {
    uint64_t want;
    rc = ising_h5_attr_read_u64(c->file, "checksum", 1, &want, path);
    if (!rc && hash_close(part_hash(v, 8, 0, N_ROOT), N_ROOT) != want)
      rc = DAMAGED(c, "its attributes do not match their checksum");
  }
  if (!rc && (v[A_GENERATION] < 0 || v[A_SWEEPS] < 0 || v[A_ROWS] < 0 || v[A_ROUND] < 1 ||
              v[A_ROUND] > INT_MAX || v[A_HIST] < 1 || v[A_HIST] > INT_MAX || v[A_CORR] < 0 || v[A_CORR] > 2))
    rc = DAMAGED(c, "its counters are out of range");
  return rc;
}

static int close_ckpt(h5ctx *c, int rc) {
  if (c->file >= 0 && H5Fclose(c->file) < 0 && !rc) rc = DAMAGED(c, "H5Fclose failed");
  c->file = -1;
  return rc;
}

/* The tempering state and ladder history of an open generation into t and
 * st (n_hist rows of st->ladder_hist), checked for use.  Local. */
static int read_tempering(const h5ctx *c, ising_tempering *t, ising_ckpt_state *st) {
  const int n = t->n_T;
  tfield f[N_TFIELDS];
  tempering_fields(t, st->n_hist, st->ladder_hist, f);
  for (int i = 0; i < N_TFIELDS; i++)
    ISING_CALL(dset_read(c, f[i].path, tfield_type(f[i].kind), f[i].len, f[i].data));
  for (int i = 0; i < n; i++) t->beta[i] = 1.0 / t->T[i];
  char source[ISING_PATH_MAX + 32];
  snprintf(source, sizeof source, "checkpoint '%s'", c->path);
  return ising_tempering_check(t, source);
}

/* Every dataset under /sweeper (an update backend's state, int64), its
 * checksum verified, whatever the backend's name.  Local. */
static int verify_sweeper(const h5ctx *c) {
  htri_t has = H5Lexists(c->file, "sweeper", H5P_DEFAULT);
  if (has <= 0) return has < 0 ? DAMAGED(c, "its links cannot be read") : ISING_OK;
  hid_t g = H5Gopen2(c->file, "sweeper", H5P_DEFAULT);
  H5G_info_t info;
  int rc = g < 0 || H5Gget_info(g, &info) < 0 ? DAMAGED(c, "/sweeper cannot be read") : ISING_OK;
  for (hsize_t i = 0; !rc && i < info.nlinks; i++) {
    char name[128], path[160];
    ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
    if (len <= 0 || len >= (ssize_t)sizeof name) {
      rc = DAMAGED(c, "/sweeper holds an unreadable name");
      break;
    }
    snprintf(path, sizeof path, "sweeper/%s", name);
    int64_t n;
    void *buf = NULL;
    rc = dset_read_any(c, path, H5T_NATIVE_INT64, &n, &buf);
    free(buf);
  }
  if (g >= 0 && H5Gclose(g) < 0 && !rc) rc = DAMAGED(c, "/sweeper: H5Gclose failed");
  return rc;
}

/* Everything that ising_ckpt_load checks, without knowing the run's shape
 * or rank layout (sizes from the file, spins and spectrum shared among the
 * ranks): deck text, overrides, root attributes, tempering state, ladder
 * history, backend state (/sweeper), spins, correlation sums.  On success
 * *text and *sets are the deck and the overrides ("\n"-separated).
 * Collective; the ranks agree. */
static int verify_generation(MPI_Comm comm, const char *path, char **text, char **sets) {
  h5ctx c;
  *text = *sets = NULL;
  int rc = agree(&c, open_ckpt(comm, path, &c));
  if (rc) return close_ckpt(&c, rc);
  rc = text_read(&c, "deck_source", text);
  if (!rc) rc = text_read(&c, "set_list", sets);
  /* the tempering state at the sizes it has */
  int64_t n = 0, R = 0;
  void *T = NULL, *rep = NULL;
  if (!rc) rc = dset_read_any(&c, "tempering/T", H5T_NATIVE_DOUBLE, &n, &T);
  if (!rc) rc = dset_read_any(&c, "tempering/rep_at", H5T_NATIVE_INT, &R, &rep);
  if (!rc && (n < 1 || n > ISING_MAX_TEMPS || R < n || R % n != 0 || c.root[A_HIST] > c.bytes / n))
    rc = DAMAGED(&c, "a tempering state of %lld replicas at %lld temperatures", (long long)R, (long long)n);
  ising_tempering *t = NULL;
  double *hist = NULL, *ladder = rc ? NULL : malloc((size_t)n * sizeof *ladder);
  if (!rc && !ladder) rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
  for (int64_t i = 0; i < n && !rc; i++) ladder[i] = (double)(i + 1); /* replaced by /tempering/T */
  if (!rc) rc = ising_tempering_create((int)n, (int)(R / n), ladder, &t);
  if (!rc && !(hist = malloc((size_t)(c.root[A_HIST] * n) * sizeof *hist)))
    rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
  ising_ckpt_state st = {.n_hist = (int)c.root[A_HIST], .ladder_hist = hist};
  if (!rc) rc = read_tempering(&c, t, &st);
  if (!rc) rc = verify_sweeper(&c);
  if (!rc && c.root[A_CORR] >= 1) {
    int64_t m;
    void *exact = NULL;
    rc = dset_read_any(&c, "correlation/exact", H5T_NATIVE_DOUBLE, &m, &exact);
    free(exact);
  }
  free(T);
  free(rep);
  free(ladder);
  free(hist);
  ising_tempering_destroy(&t);
  /* the large datasets, shared among the ranks */
  rc = agree(&c, rc);
  if (!rc) rc = verify_whole(&c, "spins", 1);
  if (!rc && c.root[A_CORR] == 2) rc = verify_whole(&c, "correlation/sk_sum", 0);
  rc = agree(&c, close_ckpt(&c, agree(&c, rc)));
  if (rc) {
    free(*text);
    free(*sets);
    *text = *sets = NULL;
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
    ising_err_clear();
    char *sets = NULL;
    int rc = verify_generation(comm, path[g], text, &sets);
    if (!rc) {
      int n = 0;
      for (char *p = sets; *p; p++) n += *p == '\n';
      char **list = calloc((size_t)n + 1, sizeof *list);
      int k = 0;
      for (char *p = sets, *nl; list && (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = '\0';
        if (!(list[k++] = strdup(p))) break;
      }
      free(sets);
      if (!list || (k > 0 && !list[k - 1])) {
        ising_ckpt_free_deck(*text, k, list);
        *text = NULL;
        return ISING_ERR(ISING_ERR_MEM, "out of memory");
      }
      *nset = k;
      *set = list;
      *which = g;
      return ISING_OK;
    }
    if (rc != ISING_ERR_INPUT) return rc;
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
  h5ctx c;
  int rc = agree(&c, open_ckpt(lay->world, path, &c));
  if (rc) return close_ckpt(&c, rc);
  ising_tempering *t = st->temper;
  const int R = t->R;
  st->sweeps_done = c.root[A_SWEEPS];
  st->rows = c.root[A_ROWS];
  st->generation = c.root[A_GENERATION];
  st->next_round = (int)c.root[A_ROUND];
  st->n_hist = (int)c.root[A_HIST];
  if (st->n_hist > cfg->adapt_rounds + 1)
    rc = DAMAGED(&c, "ladder history of %d rows", st->n_hist);
  /* the deck text and overrides: what ising_ckpt_read_deck verified */
  char *text = NULL, *sets = NULL;
  if (!rc && c.sums) rc = text_read(&c, "deck_source", &text);
  if (!rc && c.sums) rc = text_read(&c, "set_list", &sets);
  free(text);
  free(sets);
  if (!rc) rc = read_tempering(&c, t, st);
  if (!rc) rc = verify_sweeper(&c); /* as ising_ckpt_read_deck did */
  if (!rc && st->n_sweeper > 0) {
    char sp[96];
    snprintf(sp, sizeof sp, "sweeper/%s", st->sweeper);
    rc = dset_read(&c, sp, H5T_NATIVE_INT64, st->n_sweeper, st->sweeper_state);
  }
  st->disorder_sum = 0;
  htri_t has_sum = rc ? 0 : H5Lexists(c.file, "disorder_checksum", H5P_DEFAULT);
  if (has_sum < 0) rc = DAMAGED(&c, "its links cannot be read");
  if (has_sum > 0) rc = dset_read(&c, "disorder_checksum", H5T_NATIVE_UINT64, 1, &st->disorder_sum);
  /* spins, then the checksums of every replica */
  rc = agree(&c, rc);
  hid_t ds = rc ? -1 : H5Dopen2(c.file, "spins", H5P_DEFAULT);
  if (!rc && ds < 0) rc = DAMAGED(&c, "/spins missing");
  uint64_t *sums = calloc((size_t)R, sizeof *sums), *want = calloc((size_t)R, sizeof *want);
  if (!rc && (!sums || !want)) rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
  if (!rc) {
    hid_t fs = H5Dget_space(ds);
    hsize_t d[H5S_MAX_RANK] = {0};
    int nd = fs >= 0 ? H5Sget_simple_extent_ndims(fs) : -1;
    int ok = nd == cfg->dim + 1 && H5Sget_simple_extent_dims(fs, d, NULL) == nd && d[0] == (hsize_t)R;
    for (int k = 0; ok && k < cfg->dim; k++) ok = d[cfg->dim - k] == (hsize_t)cfg->L[k];
    if (fs >= 0 && H5Sclose(fs) < 0) ok = 0;
    if (!ok) rc = DAMAGED(&c, "/spins has the wrong shape");
  }
  for (int k = 0; k < n_local && !rc; k++)
    rc = spins_io(&c, ds, cfg->dim, local[k].id, local[k].lat, 0, &sums[local[k].id]);
  rc = agree(&c, rc);
  if (!rc && MPI_Allreduce(MPI_IN_PLACE, sums, R, MPI_UINT64_T, MPI_SUM, lay->world) != MPI_SUCCESS)
    rc = ISING_ERR(ISING_ERR_MPI, "MPI_Allreduce (checkpoint checksums) failed");
  if (!rc) rc = ising_h5_attr_read_u64(ds, "checksums", R, want, path);
  for (int r = 0; r < R && !rc; r++)
    if (sums[r] != want[r]) rc = DAMAGED(&c, "the spins of replica %d do not match their checksum", r);
  free(sums);
  free(want);
  if (ds >= 0 && H5Dclose(ds) < 0 && !rc) rc = DAMAGED(&c, "H5Dclose (/spins) failed");
  rc = agree(&c, rc);
  /* the correlation accumulators (format 1 has none: they start empty) */
  if (!rc && c.sums && !st->corr && c.root[A_CORR] != 0)
    rc = DAMAGED(&c, "it holds correlation sums, the deck measures none");
  if (!rc && st->corr) {
    if (c.root[A_FORMAT] >= 2) {
      rc = corr_read(&c, cfg, st->corr);
    } else {
      const double none[ISING_CORR_NEXACT] = {0};
      for (int i = 0; i < t->n_T && !rc; i++) rc = ising_corr_state_set(st->corr, i, none, NULL);
      if (!rc && lay->world_rank == 0)
        fprintf(stderr, "ising: warning: checkpoint '%s' has format %lld, without correlation sums: "
                "/correlation will cover only the sweeps from here on\n", path, (long long)c.root[A_FORMAT]);
    }
  }
  rc = agree(&c, close_ckpt(&c, rc));
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
  int64_t gen = -1, done = -1, rows = -1, complete = 0;
  ising_h5_attr_read_i64(f, "generation", 1, &gen, path);
  ising_h5_attr_read_i64(f, "sweeps_done", 1, &done, path);
  ising_h5_attr_read_i64(f, "rows", 1, &rows, path);
  ising_h5_attr_read_i64(f, "complete", 1, &complete, path);
  ising_err_clear();
  fprintf(out, "  %s: generation %lld, %lld sweeps done, %lld time-series rows, %s\n", path,
          (long long)gen, (long long)done, (long long)rows,
          complete == 1 ? "complete (checksums are verified on resume)" : "INCOMPLETE: will be skipped");
  if (H5Fclose(f) < 0) fprintf(out, "  %s: H5Fclose failed\n", path);
  return ISING_OK;
}
