/*
 * h5io.c -- the output file (layout in h5io.h).
 *
 * Every HDF5 return value is checked; HDF5's own error printing is switched
 * off and the failing call is named in our message instead.  Property lists
 * are made once per file.  Time-series datasets are chunked and extendable,
 * so a run appends rows as it goes and a reader can follow it; their chunks
 * are sized to the run (series_chunk).
 */
#include "ising/h5io.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "h5util.h"
#include "ising/disorder.h"
#include "ising/error.h"
#include "ising/layout.h"
#include "ising/version.h"

#define FORMAT_VERSION 1
#define SERIES_CHUNK 4096

#define NSERIES ISING_SERIES_COLUMNS
static const char *const series_names[NSERIES] = {
    "e", "m", "m_abs", "m2", "m4", "S0", "Skmin", "m2_improved", "cluster_mean_size",
    "cluster_largest_fraction", "clusters", "q", "ql", "sq_kmin"};

struct ising_output;
static int has_col(const struct ising_output *o, int i);

struct ising_output {
  MPI_Comm comm; /* the file's communicator (the caller's; kept alive by it) */
  hid_t file, fapl;
  hid_t series[NSERIES], sweep, replica, tindex; /* tindex < 0 without a ladder */
  int corr, clusters;                         /* which optional columns exist */
  int rank;
  int n_T, copies, R, pairs;
  int64_t rows;
  char path[ISING_PATH_MAX];
};

/* The cause is errno's text where the failing call left one (a write
 * that hit a full disk or quota: callers clear errno before raw-data
 * writes and flushes); a full disk is ISING_ERR_IO. */
static int has_col(const struct ising_output *o, int i) {
  return i < 5 || (i < 7 ? o->corr : i < ISING_SERIES_FIRST_PAIR ? o->clusters : o->pairs > 0);
}
/* The second axis of column i: copies, or copy pairs. */
static int col_width(const struct ising_output *o, int i) {
  return i < ISING_SERIES_FIRST_PAIR ? o->copies : o->pairs;
}

static int h5fail(const char *what, const char *path, const char *file, int line) {
  int err = errno;
  const char *cause = ising_h5_io_cause(path, err);
  int code = err == ENOSPC || err == EDQUOT || err == EFBIG || err == EIO ||
                     (err == 0 && *cause)
                 ? ISING_ERR_IO
                 : ISING_ERR_HDF5;
  if (code == ISING_ERR_IO)
    return ising_err_set(code, file, line, "HDF5 error in %s while writing '%s': %s", what, path, cause);
  /* no I/O cause: HDF5's own (an errno left by an earlier call says little) */
  char h5[300];
  ising_h5_stack_text(h5, sizeof h5);
  return ising_err_set(code, file, line, "HDF5 error in %s while writing '%s'%s%s%s%s", what, path,
                       *h5 ? ": " : "", h5, err ? "; errno: " : "", err ? strerror(err) : "");
}
#define H5CHK(expr, what)                                                      \
  do {                                                                         \
    if ((expr) < 0) return h5fail((what), o->path, __FILE__, __LINE__);       \
  } while (0)

/* The file access properties of an output: MPI-IO over comm; a close
 * that closes every object of the file (after a failed write a dataset
 * may refuse to close; the file must still be closed before MPI ends);
 * and a metadata cache that never evicts nor resizes itself.  Raw data is
 * written by rank 0 alone, whose chunk lookups make its cache's accesses,
 * hit rate and so its size and evictions differ from the other ranks';
 * an entry evicted on one rank only is then loaded collectively (an
 * MPI_Bcast inside HDF5) by that rank alone: "MPI_ERR_TRUNCATE" on one
 * rank and a hang on the other (2 ranks, 4096 replicas with a chunk
 * each).  The metadata of an output is small (the chunk index grows
 * with the rows: well under a megabyte per million rows of a replica). */
static hid_t output_fapl(MPI_Comm comm) {
  hid_t p = H5Pcreate(H5P_FILE_ACCESS);
  H5AC_cache_config_t mc;
  memset(&mc, 0, sizeof mc);
  mc.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  if (p >= 0 && H5Pget_mdc_config(p, &mc) >= 0) {
    mc.evictions_enabled = 0;
    mc.incr_mode = H5C_incr__off;
    mc.flash_incr_mode = H5C_flash_incr__off;
    mc.decr_mode = H5C_decr__off;
  }
  if (p >= 0 && (H5Pset_fapl_mpio(p, comm, MPI_INFO_NULL) < 0 ||
                 H5Pset_fclose_degree(p, H5F_CLOSE_STRONG) < 0 || H5Pset_mdc_config(p, &mc) < 0)) {
    H5Pclose(p);
    p = -1;
  }
  return p;
}

int ising_output_check(MPI_Comm comm, const ising_config *cfg, int force) {
  int rank;
  ISING_MPI(MPI_Comm_rank(comm, &rank));
  int rc = ISING_OK;
  if (rank == 0) {
    char where[ISING_PATH_MAX + 64];
    ising_config_where(cfg, "output", "file", where, sizeof where);
    struct stat sb;
    char dir[ISING_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", cfg->file);
    char *slash = strrchr(dir, '/');
    if (!slash)
      snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
      dir[1] = '\0';
    else
      *slash = '\0';
    if (stat(cfg->file, &sb) == 0 && !force)
      rc = ISING_ERR(ISING_ERR_INPUT,
                     "%s: output file exists; choose another name or pass --force to overwrite it",
                     where);
    else if (stat(cfg->file, &sb) == 0 && S_ISDIR(sb.st_mode))
      rc = ISING_ERR(ISING_ERR_INPUT, "%s: is a directory, not a file", where);
    else if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
      rc = ISING_ERR(ISING_ERR_INPUT, "%s: directory '%s' does not exist", where, dir);
    else if (access(dir, W_OK) != 0)
      rc = ISING_ERR(ISING_ERR_INPUT, "%s: directory '%s' is not writable (%s)", where, dir,
                     strerror(errno));
    else if (stat(cfg->file, &sb) == 0 && access(cfg->file, W_OK) != 0)
      rc = ISING_ERR(ISING_ERR_INPUT, "%s: file is not writable (%s)", where, strerror(errno));
  }
  ISING_MPI(MPI_Bcast(&rc, 1, MPI_INT, 0, comm));
  if (rc != ISING_OK && rank != 0)
    return ISING_ERR(rc, "output check failed on rank 0 (see its message)");
  return rc;
}

int ising_output_lock(MPI_Comm comm, const char *output, int *fd) {
  int rank;
  *fd = -1;
  ISING_MPI(MPI_Comm_rank(comm, &rank));
  int rc = ISING_OK;
  if (rank == 0) {
    char path[ISING_PATH_MAX + 8];
    snprintf(path, sizeof path, "%s.lock", output);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) {
      rc = ISING_ERR(ISING_ERR_IO, "cannot open the lock file '%s': %s", path, strerror(errno));
    } else if (flock(f, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        char who[256] = "";
        ssize_t n = pread(f, who, sizeof who - 1, 0);
        who[n > 0 ? n : 0] = '\0';
        who[strcspn(who, "\n")] = '\0';
        rc = ISING_ERR(ISING_ERR_INPUT, "output '%s' is in use by another ising job (%s; lock '%s'): "
                       "wait for it to end (the ranks of a killed mpirun can live on for seconds)",
                       output, *who ? who : "no details", path);
      } else {
        fprintf(stderr, "ising: warning: no lock on '%s' (%s): this file system does not lock; make "
                "sure that no other job writes '%s'\n", path, strerror(errno), output);
      }
      close(f);
    } else {
      char host[128] = "?", line[256];
      gethostname(host, sizeof host - 1);
      host[sizeof host - 1] = '\0';
      time_t now = time(NULL);
      struct tm tm;
      char when[32] = "?";
      if (localtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
      int len = snprintf(line, sizeof line, "pid %ld on host %s since %s\n", (long)getpid(), host, when);
      if (ftruncate(f, 0) != 0 || pwrite(f, line, (size_t)len, 0) != len)
        fprintf(stderr, "ising: warning: could not write to the lock file '%s': %s\n", path, strerror(errno));
      *fd = f;
    }
  }
  ISING_MPI(MPI_Bcast(&rc, 1, MPI_INT, 0, comm));
  if (rc != ISING_OK && rank != 0)
    return ISING_ERR(rc, "output lock failed on rank 0 (see its message)");
  return rc;
}

void ising_output_unlock(int *fd) {
  if (*fd >= 0) close(*fd); /* releases the flock */
  *fd = -1;
}

/* ---------------------------------------------------------- attributes */

static int attr_i64(ising_output *o, hid_t obj, const char *name, int n, const int64_t *v) {
  return ising_h5_attr_i64(obj, name, n, v, o->path);
}
static int attr_u64(ising_output *o, hid_t obj, const char *name, uint64_t v) {
  return ising_h5_attr_u64(obj, name, 1, &v, o->path);
}
static int attr_f64(ising_output *o, hid_t obj, const char *name, double v) {
  return ising_h5_attr_f64(obj, name, 1, &v, o->path);
}
static int attr_str(ising_output *o, hid_t obj, const char *name, const char *s) {
  return ising_h5_attr_str(obj, name, s, o->path);
}

/* A scalar string dataset (the deck text). */
static int dataset_str(ising_output *o, const char *name, const char *s) {
  size_t len = strlen(s);
  hid_t t = H5Tcopy(H5T_C_S1);
  H5CHK(t, "H5Tcopy");
  H5CHK(H5Tset_size(t, len > 0 ? len : 1), "H5Tset_size");
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t d = sp >= 0 ? H5Dcreate2(o->file, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
  herr_t w = 0;
  if (d >= 0 && o->rank == 0) w = H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, len > 0 ? s : " ");
  herr_t c = 0;
  if (d >= 0 && H5Dclose(d) < 0) c = -1;
  if (sp >= 0 && H5Sclose(sp) < 0) c = -1;
  if (H5Tclose(t) < 0) c = -1;
  H5CHK(sp, "H5Screate (/deck)");
  H5CHK(d, "H5Dcreate2 (/deck)");
  H5CHK(w, "H5Dwrite (/deck)");
  H5CHK(c, "closing /deck");
  return ISING_OK; /* rank 0's write is agreed on by the caller */
}

static int write_parameters(ising_output *o, const ising_config *cfg, const int grid[3],
                            int groups, const char *kernel, int nranks) {
  hid_t g = H5Gcreate2(o->file, "parameters", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5CHK(g, "H5Gcreate2 (/parameters)");
  int64_t dim = cfg->dim, N = ising_config_sites(cfg);
  int rc = attr_i64(o, g, "dim", 1, &dim);
  if (!rc) rc = attr_i64(o, g, "L", cfg->dim, cfg->L);
  if (!rc) rc = attr_i64(o, g, "N", 1, &N);
  if (!rc) rc = attr_f64(o, g, "J", cfg->J);
  if (!rc) rc = attr_f64(o, g, "H", cfg->H);
  double beta[ISING_MAX_TEMPS];
  for (int i = 0; i < cfg->n_temps; i++) beta[i] = 1.0 / cfg->temps[i];
  if (!rc) rc = ising_h5_attr_f64(g, "T", cfg->n_temps, cfg->temps, o->path);
  if (!rc) rc = ising_h5_attr_f64(g, "beta", cfg->n_temps, beta, o->path);
  if (!rc) rc = attr_str(o, g, "algorithm", ising_algorithm_name(cfg->algorithm));
  if (!rc) rc = attr_str(o, g, "start", cfg->start == ISING_START_COLD ? "cold" : "hot");
  if (!rc) rc = attr_str(o, g, "kernel", ising_config_backend(cfg));
  if (!rc) rc = attr_str(o, g, "rng", ising_rng_alg_name(cfg->rng));
  if (!rc) rc = attr_u64(o, g, "seed", cfg->seed);
  if (!rc) rc = attr_i64(o, g, "thermalization", 1, &cfg->thermalization);
  if (!rc) rc = attr_i64(o, g, "sweeps", 1, &cfg->sweeps);
  if (!rc) rc = attr_i64(o, g, "interval", 1, &cfg->interval);
  static const char *const ladders[] = {"list", "linear", "geometric"};
  int64_t copies = cfg->copies, rounds = cfg->adapt_rounds, rpr = cfg->ranks_per_replica,
          ngroups = groups;
  if (!rc) rc = attr_i64(o, g, "copies", 1, &copies);
  if (!rc) rc = attr_str(o, g, "ladder", ladders[cfg->ladder]);
  if (!rc) rc = attr_i64(o, g, "exchange_interval", 1, &cfg->exchange_interval);
  if (!rc) rc = attr_str(o, g, "adapt", cfg->adapt == ISING_ADAPT_FEEDBACK ? "feedback" : "none");
  if (!rc) rc = attr_i64(o, g, "adapt_rounds", 1, &rounds);
  if (!rc) rc = attr_i64(o, g, "ranks_per_replica", 1, &rpr);
  if (!rc) rc = attr_i64(o, g, "replica_groups", 1, &ngroups);
  if (!rc && cfg->disorder) {
    static const char *const ck[] = {"uniform", "bimodal", "gaussian"}, *const fk[] = {"none", "bimodal", "gaussian"};
    int64_t ns = cfg->samples, ov = ising_config_overlap(cfg);
    rc = attr_i64(o, g, "samples", 1, &ns);
    if (!rc) rc = attr_str(o, g, "couplings", cfg->dis_file[0] ? "file" : ck[cfg->dis_couplings]);
    if (!rc) rc = attr_f64(o, g, "bond_dilution", cfg->bond_dilution);
    if (!rc) rc = attr_str(o, g, "fields", cfg->dis_file[0] ? "file" : fk[cfg->dis_fields]);
    if (!rc) rc = attr_f64(o, g, "field_strength", cfg->field_strength);
    if (!rc) rc = attr_u64(o, g, "disorder_seed", cfg->dis_seed);
    if (!rc) rc = attr_str(o, g, "disorder_file", cfg->dis_file);
    if (!rc) rc = attr_i64(o, g, "overlap", 1, &ov);
  }
  if (H5Gclose(g) < 0 && !rc) rc = h5fail("H5Gclose (/parameters)", o->path, __FILE__, __LINE__);
  if (rc) return rc;

  int64_t fmt = FORMAT_VERSION, nr = nranks, pg[3] = {grid[0], grid[1], grid[2]};
  char created[64];
  time_t now = time(NULL);
  struct tm tmv;
  strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tmv));
  ISING_CALL(attr_str(o, o->file, "program", "ising"));
  ISING_CALL(attr_i64(o, o->file, "format_version", 1, &fmt));
  ISING_CALL(attr_str(o, o->file, "version", ising_version));
  ISING_CALL(attr_str(o, o->file, "git_commit", ising_git_commit));
  ISING_CALL(attr_str(o, o->file, "created", created));
  ISING_CALL(attr_i64(o, o->file, "mpi_ranks", 1, &nr));
  ISING_CALL(attr_i64(o, o->file, "process_grid", cfg->dim, pg));
  ISING_CALL(attr_str(o, o->file, "kernel", kernel));
  ISING_CALL(attr_str(o, o->file, "status", "running"));
  return ISING_OK;
}

/* Chunk shape of a time-series dataset, leading axes lead[0..nlead-1] then
 * time: the time axis holds the run's rows (at most SERIES_CHUNK), then
 * whole rows of the last leading axis (copies, replicas), then of the one
 * before (temperatures) join while the chunk stays within CHUNK_BYTES.  A
 * short run of many replicas writes a few chunks of its own size instead of
 * one SERIES_CHUNK-row chunk per replica. */
#define CHUNK_BYTES (256 << 10)
static void series_chunk(int nlead, const hsize_t *lead, int64_t rows, size_t esize, hsize_t *chunk) {
  hsize_t bytes = (hsize_t)(rows < 1 ? 1 : rows > SERIES_CHUNK ? SERIES_CHUNK : rows);
  chunk[nlead] = bytes;
  bytes *= esize;
  int full = 1;
  for (int k = nlead - 1; k >= 0; k--) {
    hsize_t fit = bytes < CHUNK_BYTES ? CHUNK_BYTES / bytes : 1;
    chunk[k] = full ? (lead[k] < fit ? lead[k] : fit) : 1;
    full = full && chunk[k] == lead[k];
    bytes *= chunk[k];
  }
}

/* An extendable 2D int32 dataset (rows fixed, columns growing). */
static hid_t create_int_2d(ising_output *o, hid_t g, const char *name, int rows, int64_t expect) {
  hsize_t d[2] = {(hsize_t)rows, 0}, m[2] = {(hsize_t)rows, H5S_UNLIMITED}, c[2];
  series_chunk(1, d, expect, sizeof(int32_t), c);
  hid_t sp = H5Screate_simple(2, d, m), p = H5Pcreate(H5P_DATASET_CREATE);
  hid_t ds = -1;
  if (sp >= 0 && p >= 0 && H5Pset_chunk(p, 2, c) >= 0 && H5Pset_fill_time(p, H5D_FILL_TIME_NEVER) >= 0)
    ds = H5Dcreate2(g, name, H5T_NATIVE_INT32, sp, H5P_DEFAULT, p, H5P_DEFAULT);
  if (p >= 0 && H5Pclose(p) < 0 && ds >= 0) {
    H5Dclose(ds);
    ds = -1;
  }
  if (sp >= 0 && H5Sclose(sp) < 0 && ds >= 0) {
    H5Dclose(ds);
    ds = -1;
  }
  return ds;
}

/* `expect`: the rows the run will write (sweeps / interval). */
static int create_series(ising_output *o, int64_t expect) {
  hid_t g = H5Gcreate2(o->file, "timeseries", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5CHK(g, "H5Gcreate2 (/timeseries)");
  hsize_t d3[3] = {(hsize_t)o->n_T, (hsize_t)o->copies, 0},
          m3[3] = {(hsize_t)o->n_T, (hsize_t)o->copies, H5S_UNLIMITED}, c3d[3], c3i[3];
  hsize_t d1 = 0, m1 = H5S_UNLIMITED, c1;
  series_chunk(2, d3, expect, sizeof(double), c3d);
  series_chunk(2, d3, expect, sizeof(int32_t), c3i);
  series_chunk(0, NULL, expect, sizeof(int64_t), &c1);
  hsize_t d3p[3] = {(hsize_t)o->n_T, (hsize_t)(o->pairs ? o->pairs : 1), 0},
          m3p[3] = {(hsize_t)o->n_T, (hsize_t)(o->pairs ? o->pairs : 1), H5S_UNLIMITED}, c3p[3];
  series_chunk(2, d3p, expect, sizeof(double), c3p);
  hid_t sp3 = H5Screate_simple(3, d3, m3), sp1 = H5Screate_simple(1, &d1, &m1);
  hid_t sp3p = H5Screate_simple(3, d3p, m3p), p3p = H5Pcreate(H5P_DATASET_CREATE);
  hid_t p3 = H5Pcreate(H5P_DATASET_CREATE), p3i = H5Pcreate(H5P_DATASET_CREATE),
        p1 = H5Pcreate(H5P_DATASET_CREATE);
  int bad = sp3 < 0 || sp1 < 0 || p3 < 0 || p3i < 0 || p1 < 0 || H5Pset_chunk(p3, 3, c3d) < 0 ||
            H5Pset_chunk(p3i, 3, c3i) < 0 || H5Pset_chunk(p1, 1, &c1) < 0 ||
            H5Pset_fill_time(p3, H5D_FILL_TIME_NEVER) < 0 || H5Pset_fill_time(p3i, H5D_FILL_TIME_NEVER) < 0 ||
            H5Pset_fill_time(p1, H5D_FILL_TIME_NEVER) < 0 || sp3p < 0 || p3p < 0 ||
            H5Pset_chunk(p3p, 3, c3p) < 0 || H5Pset_fill_time(p3p, H5D_FILL_TIME_NEVER) < 0;
  for (int i = 0; i < NSERIES && !bad; i++) {
    if (!has_col(o, i)) continue;
    int pc = i >= ISING_SERIES_FIRST_PAIR;
    o->series[i] = H5Dcreate2(g, series_names[i], H5T_NATIVE_DOUBLE, pc ? sp3p : sp3, H5P_DEFAULT,
                              pc ? p3p : p3, H5P_DEFAULT);
    bad = o->series[i] < 0;
  }
  if (!bad) {
    o->sweep = H5Dcreate2(g, "sweep", H5T_NATIVE_INT64, sp1, H5P_DEFAULT, p1, H5P_DEFAULT);
    bad = o->sweep < 0;
  }
  if (!bad) {
    o->replica = H5Dcreate2(g, "replica", H5T_NATIVE_INT32, sp3, H5P_DEFAULT, p3i, H5P_DEFAULT);
    bad = o->replica < 0;
  }
  if (!bad && o->n_T > 1) {
    hid_t tg = H5Gcreate2(o->file, "tempering", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    bad = tg < 0;
    if (!bad) {
      o->tindex = create_int_2d(o, tg, "temperature_index", o->R, expect);
      bad = o->tindex < 0;
      if (H5Gclose(tg) < 0) bad = 1;
    }
  }
  if (p3 >= 0 && H5Pclose(p3) < 0) bad = 1;
  if (p3p >= 0 && H5Pclose(p3p) < 0) bad = 1;
  if (sp3p >= 0 && H5Sclose(sp3p) < 0) bad = 1;
  if (p3i >= 0 && H5Pclose(p3i) < 0) bad = 1;
  if (p1 >= 0 && H5Pclose(p1) < 0) bad = 1;
  if (sp3 >= 0 && H5Sclose(sp3) < 0) bad = 1;
  if (sp1 >= 0 && H5Sclose(sp1) < 0) bad = 1;
  if (H5Gclose(g) < 0) bad = 1;
  if (bad) return h5fail("creating /timeseries", o->path, __FILE__, __LINE__);
  return ISING_OK;
}

int ising_output_create(MPI_Comm comm, const ising_config *cfg, int force, const int grid[3],
                        int groups, const char *kernel, ising_output **out) {
  *out = NULL;
  ising_output *o = calloc(1, sizeof *o);
  int rc0 = ising_h5_agree(comm, o ? ISING_OK : ISING_ERR(ISING_ERR_MEM, "out of memory (output)"));
  if (rc0) {
    free(o);
    return rc0;
  }
  o->comm = comm;
  o->file = o->fapl = o->sweep = o->replica = o->tindex = -1;
  o->n_T = cfg->n_temps;
  o->copies = ising_series_copies(cfg);
  o->pairs = ising_series_pairs(cfg);
  o->R = cfg->n_temps * o->copies;
  for (int i = 0; i < NSERIES; i++) o->series[i] = -1;
  o->corr = cfg->correlation;
  o->clusters = ising_algorithm_is_cluster(cfg->algorithm);
  snprintf(o->path, sizeof o->path, "%s", cfg->file);
  int nranks;
  int rc = ising_mpi_check(MPI_Comm_rank(comm, &o->rank), "MPI_Comm_rank", __FILE__, __LINE__);
  if (!rc) rc = ising_mpi_check(MPI_Comm_size(comm, &nranks), "MPI_Comm_size", __FILE__, __LINE__);
  if (!rc) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    o->fapl = output_fapl(comm);
    if (o->fapl < 0) rc = h5fail("H5Pset_fapl_mpio", o->path, __FILE__, __LINE__);
  }
  if (!rc) {
    errno = 0;
    o->file = H5Fcreate(o->path, force ? H5F_ACC_TRUNC : H5F_ACC_EXCL, H5P_DEFAULT, o->fapl);
    if (o->file < 0)
      rc = ISING_ERR(ISING_ERR_IO, "cannot create output file '%s'%s", o->path,
                     force ? "" : " (does it exist already? --force overwrites)");
  }
  rc = ising_h5_agree(comm, rc);
  if (!rc) rc = ising_h5_agree(comm, dataset_str(o, "deck", cfg->deck_text ? cfg->deck_text : ""));
  if (!rc) rc = ising_h5_agree(comm, write_parameters(o, cfg, grid, groups, kernel, nranks));
  if (!rc) rc = ising_h5_agree(comm, create_series(o, cfg->interval > 0 ? cfg->sweeps / cfg->interval : 1));
  if (!rc) {
    errno = 0;
    if (H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) rc = h5fail("H5Fflush", o->path, __FILE__, __LINE__);
    rc = ising_h5_agree(comm, rc);
  }
  if (rc) {
    ising_output_close(&o);
    return rc;
  }
  *out = o;
  return ISING_OK;
}

/* Extend `d` to `total` along its last axis (collective) and, unless
 * *rc already holds a failure, write the block `count` starting at `start`
 * from `buf` (rank 0 only).  The extent is set whatever *rc says, so that
 * every rank makes the same collective calls; the first failure stays in
 * *rc. */
static void extend_write(ising_output *o, hid_t d, int rank_, const hsize_t *total,
                         const hsize_t *start, const hsize_t *count, hid_t type, const void *buf,
                         const char *what, int *rc) {
  errno = 0;
  if (H5Dset_extent(d, total) < 0) {
    if (!*rc) *rc = h5fail("H5Dset_extent", o->path, __FILE__, __LINE__);
    return;
  }
  if (o->rank != 0 || *rc) return;
  hid_t fs = H5Dget_space(d);
  herr_t e1 = fs >= 0 ? H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) : -1;
  hid_t ms = H5Screate_simple(rank_, count, NULL);
  errno = 0;
  herr_t w = e1 >= 0 && ms >= 0 ? H5Dwrite(d, type, ms, fs, H5P_DEFAULT, buf) : 0;
  if (w < 0) *rc = h5fail(what, o->path, __FILE__, __LINE__);
  herr_t c = 0;
  if (ms >= 0 && H5Sclose(ms) < 0) c = -1;
  if (fs >= 0 && H5Sclose(fs) < 0) c = -1;
  if (!*rc && (fs < 0 || e1 < 0 || ms < 0 || c < 0))
    *rc = h5fail("selecting the rows", o->path, __FILE__, __LINE__);
}

/* Bytes by which `d` (time last) grows from `from` to `to` rows: its
 * chunks are allocated whole (and filled) when the extent reaches them.
 * Local. */
static uint64_t growth(hid_t d, int64_t from, int64_t to) {
  hsize_t c[4] = {0}, dims[4] = {0};
  hid_t p = H5Dget_create_plist(d), sp = H5Dget_space(d), t = H5Dget_type(d);
  int nd = p >= 0 ? H5Pget_chunk(p, 4, c) : -1;
  int ns = sp >= 0 ? H5Sget_simple_extent_dims(sp, dims, NULL) : -1;
  size_t es = t >= 0 ? H5Tget_size(t) : 8;
  if (p >= 0) H5Pclose(p);
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  if (nd < 1 || ns != nd || c[nd - 1] == 0) /* unknown: the rows themselves, twice */
    return 2 * (uint64_t)(to - from) * (uint64_t)es * (ns > 1 ? (uint64_t)dims[0] * (ns > 2 ? dims[1] : 1) : 1);
  uint64_t per = es;
  for (int k = 0; k < nd - 1; k++) per *= (uint64_t)((dims[k] + c[k] - 1) / c[k]) * c[k];
  uint64_t ct = c[nd - 1];
  uint64_t chunks = ((uint64_t)to + ct - 1) / ct - ((uint64_t)from + ct - 1) / ct;
  return chunks * ct * per;
}

int ising_output_append(ising_output *o, int64_t n, const int64_t *sweep,
                        const double *const cols[ISING_SERIES_COLUMNS], const int32_t *replica,
                        const int32_t *tindex) {
  if (n <= 0) return ISING_OK;
  /* room for the chunks these rows open, agreed before any collective
   * write: a full disk stops the run with the file as it was */
  uint64_t need = 0;
  if (o->rank == 0) {
    for (int i = 0; i < NSERIES; i++)
      if (has_col(o, i)) need += growth(o->series[i], o->rows, o->rows + n);
    need += growth(o->replica, o->rows, o->rows + n) + growth(o->sweep, o->rows, o->rows + n);
    if (o->tindex >= 0) need += growth(o->tindex, o->rows, o->rows + n);
  }
  ISING_CALL(ising_h5_space_check(o->comm, o->path, need, "the next time-series rows"));
  int rc = ISING_OK;
  hsize_t total3[3] = {(hsize_t)o->n_T, (hsize_t)o->copies, (hsize_t)(o->rows + n)};
  hsize_t start3[3] = {0, 0, (hsize_t)o->rows};
  hsize_t count3[3] = {(hsize_t)o->n_T, (hsize_t)o->copies, (hsize_t)n};
  for (int i = 0; i < NSERIES; i++)
    if (has_col(o, i)) {
      total3[1] = count3[1] = (hsize_t)col_width(o, i);
      extend_write(o, o->series[i], 3, total3, start3, count3, H5T_NATIVE_DOUBLE,
                   cols ? cols[i] : NULL, "H5Dwrite (/timeseries)", &rc);
    }
  total3[1] = count3[1] = (hsize_t)o->copies;
  extend_write(o, o->replica, 3, total3, start3, count3, H5T_NATIVE_INT32, replica,
               "H5Dwrite (/timeseries/replica)", &rc);
  hsize_t total1 = (hsize_t)(o->rows + n), start1 = (hsize_t)o->rows, count1 = (hsize_t)n;
  extend_write(o, o->sweep, 1, &total1, &start1, &count1, H5T_NATIVE_INT64, sweep,
               "H5Dwrite (/timeseries/sweep)", &rc);
  if (o->tindex >= 0) {
    hsize_t total2[2] = {(hsize_t)o->R, (hsize_t)(o->rows + n)}, start2[2] = {0, (hsize_t)o->rows},
            count2[2] = {(hsize_t)o->R, (hsize_t)n};
    extend_write(o, o->tindex, 2, total2, start2, count2, H5T_NATIVE_INT32, tindex,
                 "H5Dwrite (/tempering/temperature_index)", &rc);
  }
  ISING_CALL(ising_h5_agree(o->comm, rc));
  o->rows += n;
  errno = 0;
  if (H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) rc = h5fail("H5Fflush", o->path, __FILE__, __LINE__);
  return ising_h5_agree(o->comm, rc);
}

int ising_output_write_disorder(ising_output *o, const ising_config *cfg, const ising_disorder *d) {
  const int S = ising_disorder_samples(d), dim = cfg->dim;
  const ising_couplings *c = ising_disorder_couplings(d);
  const int64_t N = ising_config_sites(cfg);
  hsize_t dJ[5], dh[4];
  int nJ = 0, nh = 0;
  dJ[nJ++] = (hsize_t)S;
  dJ[nJ++] = (hsize_t)dim;
  dh[nh++] = (hsize_t)S;
  for (int a = dim - 1; a >= 0; a--) dJ[nJ++] = dh[nh++] = (hsize_t)cfg->L[a];
  const int fields = c[0].field != NULL;
  int rc = ISING_OK;
  hid_t g = H5Gcreate2(o->file, "disorder", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) rc = h5fail("H5Gcreate2 (/disorder)", o->path, __FILE__, __LINE__);
  if (!rc) rc = attr_f64(o, g, "J_unit", c[0].J_unit);
  if (!rc && fields) rc = attr_f64(o, g, "h_unit", c[0].h_unit);
  hid_t sJ = H5Screate_simple(nJ, dJ, NULL), sh = H5Screate_simple(nh, dh, NULL);
  hid_t DJ = -1, Dh = -1;
  if (!rc) {
    DJ = H5Dcreate2(g, "J", H5T_NATIVE_DOUBLE, sJ, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (fields) Dh = H5Dcreate2(g, "h", H5T_NATIVE_DOUBLE, sh, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (DJ < 0 || (fields && Dh < 0)) rc = h5fail("creating /disorder", o->path, __FILE__, __LINE__);
  }
  rc = ising_h5_agree(o->comm, rc);
  if (!rc && o->rank == 0) { /* one sample at a time */
    double *J = malloc((size_t)(dim * N) * sizeof *J), *h = fields ? malloc((size_t)N * sizeof *h) : NULL;
    if (!J || (fields && !h)) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (/disorder)");
    for (int s = 0; s < S && !rc; s++) {
      ising_disorder_arrays(d, s, J, h);
      for (int k = 0; k < 1 + fields && !rc; k++) {
        hid_t D = k ? Dh : DJ, fs = k ? sh : sJ;
        int nd = k ? nh : nJ;
        hsize_t st[5] = {(hsize_t)s, 0, 0, 0, 0}, ct[5];
        for (int i = 0; i < nd; i++) ct[i] = i ? (k ? dh[i] : dJ[i]) : 1;
        hid_t ms = H5Screate_simple(nd, ct, NULL);
        errno = 0;
        if (ms < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, ct, NULL) < 0 ||
            H5Dwrite(D, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, k ? h : J) < 0)
          rc = h5fail("H5Dwrite (/disorder)", o->path, __FILE__, __LINE__);
        if (ms >= 0) H5Sclose(ms);
      }
    }
    free(J);
    free(h);
  }
  if (DJ >= 0 && H5Dclose(DJ) < 0 && !rc) rc = h5fail("H5Dclose", o->path, __FILE__, __LINE__);
  if (Dh >= 0 && H5Dclose(Dh) < 0 && !rc) rc = h5fail("H5Dclose", o->path, __FILE__, __LINE__);
  if (sJ >= 0) H5Sclose(sJ);
  if (sh >= 0) H5Sclose(sh);
  if (g >= 0 && H5Gclose(g) < 0 && !rc) rc = h5fail("H5Gclose", o->path, __FILE__, __LINE__);
  return ising_h5_agree(o->comm, rc);
}

/* Open "a/b", creating missing groups. */
static hid_t open_groups(ising_output *o, const char *path) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  hid_t cur = H5Gopen2(o->file, "/", H5P_DEFAULT);
  char *save = NULL;
  for (char *tok = strtok_r(buf, "/", &save); tok && cur >= 0; tok = strtok_r(NULL, "/", &save)) {
    htri_t ex = H5Lexists(cur, tok, H5P_DEFAULT);
    hid_t next = ex < 0  ? -1
                 : ex > 0 ? H5Gopen2(cur, tok, H5P_DEFAULT)
                          : H5Gcreate2(cur, tok, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (H5Gclose(cur) < 0 && next >= 0) {
      H5Gclose(next);
      next = -1;
    }
    cur = next;
  }
  return cur;
}

int ising_output_write_values(ising_output *o, const char *group, int n_names,
                              const char *const *names, int n_T, const double *values) {
  hid_t g = open_groups(o, group);
  if (g < 0) return ising_h5_agree(o->comm, h5fail("H5Gcreate2 (values)", o->path, __FILE__, __LINE__));
  hsize_t dims = (hsize_t)n_T;
  hid_t sp = H5Screate_simple(1, &dims, NULL);
  int rc = sp < 0 ? h5fail("H5Screate_simple", o->path, __FILE__, __LINE__) : ISING_OK;
  /* every rank creates every dataset (collective) even after rank 0's
   * write failed; the status is agreed at the end */
  for (int i = 0; i < n_names && sp >= 0; i++) {
    hid_t d = H5Dcreate2(g, names[i], H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    errno = 0;
    herr_t w = 0;
    if (d >= 0 && o->rank == 0 && !rc)
      w = H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values + (size_t)i * (size_t)n_T);
    if (d >= 0 && H5Dclose(d) < 0) w = -1;
    if ((d < 0 || w < 0) && !rc) rc = h5fail(names[i], o->path, __FILE__, __LINE__);
  }
  if (sp >= 0 && H5Sclose(sp) < 0 && !rc) rc = h5fail("H5Sclose", o->path, __FILE__, __LINE__);
  if (H5Gclose(g) < 0 && !rc) rc = h5fail("H5Gclose", o->path, __FILE__, __LINE__);
  return ising_h5_agree(o->comm, rc);
}

int ising_output_write_matrix(ising_output *o, const char *group, const char *name,
                              int rows, int cols, const double *data) {
  hid_t g = open_groups(o, group);
  if (g < 0) return ising_h5_agree(o->comm, h5fail("H5Gcreate2 (matrix)", o->path, __FILE__, __LINE__));
  hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
  hid_t sp = H5Screate_simple(2, dims, NULL);
  hid_t d = sp >= 0 ? H5Dcreate2(g, name, H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
  errno = 0;
  herr_t w = 0;
  if (d >= 0 && o->rank == 0) w = H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  int rc = d < 0 || w < 0 ? h5fail(name, o->path, __FILE__, __LINE__) : ISING_OK;
  if (d >= 0 && H5Dclose(d) < 0 && !rc) rc = h5fail(name, o->path, __FILE__, __LINE__);
  if (sp >= 0 && H5Sclose(sp) < 0 && !rc) rc = h5fail("H5Sclose", o->path, __FILE__, __LINE__);
  if (H5Gclose(g) < 0 && !rc) rc = h5fail("H5Gclose", o->path, __FILE__, __LINE__);
  return ising_h5_agree(o->comm, rc);
}

int ising_output_note(ising_output *o, const char *name, double value) {
  return ising_h5_agree(o->comm, attr_f64(o, o->file, name, value));
}

int ising_output_timing(ising_output *o, int n, const char *const *names, const double *seconds) {
  htri_t have = H5Lexists(o->file, "timing", H5P_DEFAULT);
  hid_t g = have < 0 ? -1
            : have > 0 ? H5Gopen2(o->file, "timing", H5P_DEFAULT)
                       : H5Gcreate2(o->file, "timing", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  int rc = g < 0 ? h5fail("opening /timing", o->path, __FILE__, __LINE__) : ISING_OK;
  for (int i = 0; i < n && !rc; i++) rc = attr_f64(o, g, names[i], seconds[i]);
  if (g >= 0 && H5Gclose(g) < 0 && !rc) rc = h5fail("H5Gclose (/timing)", o->path, __FILE__, __LINE__);
  return ising_h5_agree(o->comm, rc);
}

int ising_output_finish(ising_output *o, const char *status, int64_t sweeps_done,
                        double wall_seconds, double flips_per_ns) {
  int rc = attr_str(o, o->file, "status", status);
  if (!rc) rc = attr_i64(o, o->file, "sweeps_done", 1, &sweeps_done);
  if (!rc) rc = attr_f64(o, o->file, "wall_seconds", wall_seconds);
  if (!rc) rc = attr_f64(o, o->file, "flips_per_ns", flips_per_ns);
  ISING_CALL(ising_h5_agree(o->comm, rc));
  errno = 0;
  if (H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) rc = h5fail("H5Fflush", o->path, __FILE__, __LINE__);
  return ising_h5_agree(o->comm, rc);
}

static int open_series(ising_output *o) {
  for (int i = 0; i < NSERIES; i++) {
    if (!has_col(o, i)) continue;
    char name[64];
    snprintf(name, sizeof name, "timeseries/%s", series_names[i]);
    o->series[i] = H5Dopen2(o->file, name, H5P_DEFAULT);
    H5CHK(o->series[i], name);
  }
  o->sweep = H5Dopen2(o->file, "timeseries/sweep", H5P_DEFAULT);
  H5CHK(o->sweep, "timeseries/sweep");
  o->replica = H5Dopen2(o->file, "timeseries/replica", H5P_DEFAULT);
  H5CHK(o->replica, "timeseries/replica");
  if (o->n_T > 1) {
    o->tindex = H5Dopen2(o->file, "tempering/temperature_index", H5P_DEFAULT);
    H5CHK(o->tindex, "tempering/temperature_index");
  }
  /* the run's shape: (n_T, copies, rows >= wanted) */
  hid_t fs = H5Dget_space(o->series[0]);
  hsize_t d[3] = {0, 0, 0};
  int nd = fs >= 0 ? H5Sget_simple_extent_dims(fs, d, NULL) : -1;
  if (fs >= 0) H5Sclose(fs);
  ISING_CHECK(nd == 3 && d[0] == (hsize_t)o->n_T && d[1] == (hsize_t)o->copies, ISING_ERR_INPUT,
              "output '%s' does not have the shape of this run (%d temperatures x %d copies)",
              o->path, o->n_T, o->copies);
  ISING_CHECK(d[2] >= (hsize_t)o->rows, ISING_ERR_INPUT,
              "output '%s' has %llu rows but the checkpoint counts %lld: it is not this run's "
              "output, or it was cut", o->path, (unsigned long long)d[2], (long long)o->rows);
  return ISING_OK;
}

int ising_output_reopen(MPI_Comm comm, const ising_config *cfg, int64_t rows, ising_output **out) {
  *out = NULL;
  ising_output *o = calloc(1, sizeof *o);
  ISING_CHECK(o, ISING_ERR_MEM, "out of memory (output)");
  o->file = o->fapl = o->sweep = o->replica = o->tindex = -1;
  for (int i = 0; i < NSERIES; i++) o->series[i] = -1;
  o->n_T = cfg->n_temps;
  o->copies = ising_series_copies(cfg);
  o->pairs = ising_series_pairs(cfg);
  o->R = cfg->n_temps * o->copies;
  o->corr = cfg->correlation;
  o->clusters = ising_algorithm_is_cluster(cfg->algorithm);
  o->rows = rows;
  o->comm = comm;
  snprintf(o->path, sizeof o->path, "%s", cfg->file);
  int rc = ising_mpi_check(MPI_Comm_rank(comm, &o->rank), "MPI_Comm_rank", __FILE__, __LINE__);
  if (!rc) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    o->fapl = output_fapl(comm);
    if (o->fapl < 0) rc = h5fail("H5Pset_fapl_mpio", o->path, __FILE__, __LINE__);
  }
  if (!rc) {
    o->file = H5Fopen(o->path, H5F_ACC_RDWR, o->fapl);
    if (o->file < 0)
      rc = ISING_ERR(ISING_ERR_INPUT, "cannot open the output file '%s' for resuming (missing, "
                     "unreadable or damaged)", o->path);
  }
  rc = ising_h5_agree(comm, rc);
  if (!rc) rc = ising_h5_agree(comm, open_series(o));
  /* cut back to the checkpoint: rows written after it are written again */
  hsize_t t3[3] = {(hsize_t)o->n_T, (hsize_t)o->copies, (hsize_t)rows}, t1 = (hsize_t)rows,
          t2[2] = {(hsize_t)o->R, (hsize_t)rows};
  for (int i = 0; i < NSERIES && !rc; i++) {
    t3[1] = (hsize_t)col_width(o, i);
    if (has_col(o, i) && H5Dset_extent(o->series[i], t3) < 0) rc = h5fail("H5Dset_extent", o->path, __FILE__, __LINE__);
  }
  t3[1] = (hsize_t)o->copies;
  if (!rc && (H5Dset_extent(o->replica, t3) < 0 || H5Dset_extent(o->sweep, &t1) < 0 ||
              (o->tindex >= 0 && H5Dset_extent(o->tindex, t2) < 0)))
    rc = h5fail("H5Dset_extent", o->path, __FILE__, __LINE__);
  static const char *const stale[] = {"summary", "samples", "equilibration", "reference", "baseline", "free_energy",
                                      "correlation", "tempering/acceptance",
                                      "tempering/attempts", "tempering/accepted",
                                      "tempering/round_trips", "tempering/round_trip_rate",
                                      "tempering/ladder", "tempering/ladder_history"};
  for (size_t i = 0; i < sizeof stale / sizeof stale[0] && !rc; i++) {
    htri_t ex = H5Lexists(o->file, stale[i], H5P_DEFAULT);
    if (ex > 0 && H5Ldelete(o->file, stale[i], H5P_DEFAULT) < 0)
      rc = h5fail("H5Ldelete (old results)", o->path, __FILE__, __LINE__);
  }
  if (!rc) rc = attr_str(o, o->file, "status", "running");
  /* run control that a resume may change */
  hid_t g = rc ? -1 : H5Gopen2(o->file, "parameters", H5P_DEFAULT);
  if (!rc && g < 0) rc = h5fail("H5Gopen2 (/parameters)", o->path, __FILE__, __LINE__);
  if (!rc) rc = attr_i64(o, g, "sweeps", 1, &cfg->sweeps);
  if (g >= 0 && H5Gclose(g) < 0 && !rc) rc = h5fail("H5Gclose (/parameters)", o->path, __FILE__, __LINE__);
  rc = ising_h5_agree(comm, rc);
  if (!rc) {
    errno = 0;
    if (H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) rc = h5fail("H5Fflush", o->path, __FILE__, __LINE__);
    rc = ising_h5_agree(comm, rc);
  }
  if (rc) {
    ising_output_close(&o);
    return rc;
  }
  *out = o;
  return ISING_OK;
}

int ising_output_read_rows(ising_output *o, int64_t rows, int64_t *sweep, double *const cols[ISING_SERIES_COLUMNS],
                           int32_t *replica, int32_t *tindex) {
  if (rows <= 0) return ISING_OK;
  hsize_t s3[3] = {0, 0, 0}, c3[3] = {(hsize_t)o->n_T, (hsize_t)o->copies, (hsize_t)rows};
  hsize_t s1 = 0, c1 = (hsize_t)rows, s2[2] = {0, 0}, c2[2] = {(hsize_t)o->R, (hsize_t)rows};
  /* items: the series columns, then replica, sweep, tindex */
  for (int i = 0; i < NSERIES + 3; i++) {
    int col = i < NSERIES, it = i - NSERIES; /* it: 0 replica, 1 sweep, 2 tindex */
    if (col && !has_col(o, i)) continue;
    hid_t d = col ? o->series[i] : it == 0 ? o->replica : it == 1 ? o->sweep : o->tindex;
    if (d < 0 || (it == 2 && !tindex)) continue;
    int nd = col || it == 0 ? 3 : it == 1 ? 1 : 2;
    c3[1] = (hsize_t)(col ? col_width(o, i) : o->copies);
    hsize_t *st = nd == 3 ? s3 : nd == 1 ? &s1 : s2, *ct = nd == 3 ? c3 : nd == 1 ? &c1 : c2;
    hid_t fs = H5Dget_space(d);
    herr_t e = fs >= 0 ? H5Sselect_hyperslab(fs, H5S_SELECT_SET, st, NULL, ct, NULL) : -1;
    hid_t ms = H5Screate_simple(nd, ct, NULL);
    hid_t type = col ? H5T_NATIVE_DOUBLE : it == 1 ? H5T_NATIVE_INT64 : H5T_NATIVE_INT32;
    void *buf = col ? (void *)cols[i] : it == 0 ? (void *)replica : it == 1 ? (void *)sweep : (void *)tindex;
    herr_t r = e >= 0 && ms >= 0 ? H5Dread(d, type, ms, fs, H5P_DEFAULT, buf) : -1;
    if (ms >= 0 && H5Sclose(ms) < 0) r = -1;
    if (fs >= 0 && H5Sclose(fs) < 0) r = -1;
    if (r < 0)
      return ISING_ERR(ISING_ERR_INPUT, "cannot read the time series of '%s' back (damaged?)", o->path);
  }
  return ISING_OK;
}

int ising_output_sync(ising_output *o) {
  errno = 0;
  int rc = H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0 ? h5fail("H5Fflush", o->path, __FILE__, __LINE__) : ISING_OK;
  ISING_CALL(ising_h5_agree(o->comm, rc));
  if (o->rank == 0) {
    int fd = open(o->path, O_RDONLY);
    int bad = fd < 0 || fsync(fd) != 0;
    if (bad) rc = ISING_ERR(ISING_ERR_IO, "fsync of the output '%s' failed: %s", o->path, strerror(errno));
    if (fd >= 0) close(fd);
  }
  return ising_h5_agree(o->comm, rc);
}

int ising_field_file_write(const ising_layout *lay, const char *path, int force, int n_T,
                           const double *T, double *const *fields, const double *f_var) {
  ising_output tmp = {0};
  ising_output *o = &tmp;
  snprintf(o->path, sizeof o->path, "%s", path);
  o->rank = lay->group_rank;
  o->comm = lay->group;
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5CHK(fapl, "H5Pcreate");
  if (H5Pset_fapl_mpio(fapl, lay->group, MPI_INFO_NULL) < 0) {
    H5Pclose(fapl);
    return h5fail("H5Pset_fapl_mpio", path, __FILE__, __LINE__);
  }
  o->file = H5Fcreate(path, force ? H5F_ACC_TRUNC : H5F_ACC_EXCL, H5P_DEFAULT, fapl);
  if (H5Pclose(fapl) < 0 && o->file >= 0) {
    H5Fclose(o->file);
    return h5fail("H5Pclose", path, __FILE__, __LINE__);
  }
  ISING_CHECK(o->file >= 0, ISING_ERR_INPUT, "cannot create '%s' (it exists? --force overwrites; "
              "or the directory is missing or not writable)", path);
  int d = lay->dim, rc = attr_str(o, o->file, "program", "ising");
  if (!rc) rc = attr_str(o, o->file, "kind", "variational field");
  hsize_t dims[4] = {(hsize_t)n_T}, start[4] = {0}, count[4] = {1};
  for (int k = 0; k < d; k++) {
    dims[d - k] = (hsize_t)lay->L[k];
    start[d - k] = (hsize_t)lay->start[k];
    count[d - k] = (hsize_t)lay->n[k];
  }
  hid_t sp = rc ? -1 : H5Screate_simple(d + 1, dims, NULL);
  hid_t ds = sp >= 0 ? H5Dcreate2(o->file, "m", H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : -1;
  if (!rc && ds < 0) rc = h5fail("H5Dcreate2 (/m)", path, __FILE__, __LINE__);
  hsize_t nblock = (hsize_t)(lay->n[0] * lay->n[1] * lay->n[2]);
  hid_t ms = H5Screate_simple(1, &nblock, NULL);
  if (!rc && ms < 0) rc = h5fail("H5Screate_simple (/m)", path, __FILE__, __LINE__);
  for (int t = 0; t < n_T && !rc; t++) {
    start[0] = (hsize_t)t;
    if (H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        H5Dwrite(ds, H5T_NATIVE_DOUBLE, ms, sp, H5P_DEFAULT, fields[t]) < 0)
      rc = h5fail("H5Dwrite (/m)", path, __FILE__, __LINE__);
  }
  if (ms >= 0 && H5Sclose(ms) < 0 && !rc) rc = h5fail("H5Sclose", path, __FILE__, __LINE__);
  if (ds >= 0 && H5Dclose(ds) < 0 && !rc) rc = h5fail("H5Dclose (/m)", path, __FILE__, __LINE__);
  if (sp >= 0 && H5Sclose(sp) < 0 && !rc) rc = h5fail("H5Sclose", path, __FILE__, __LINE__);
  if (!rc) {
    const char *names[2] = {"T", "f_var"};
    double *v = malloc((size_t)(2 * n_T) * sizeof *v);
    if (!v) rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
    for (int t = 0; t < n_T && !rc; t++) {
      v[t] = T[t];
      v[n_T + t] = f_var[t];
    }
    if (!rc) rc = ising_output_write_values(o, "/", 2, names, n_T, v);
    free(v);
  }
  if (H5Fclose(o->file) < 0 && !rc) rc = h5fail("H5Fclose", path, __FILE__, __LINE__);
  return rc;
}

/* One line "name value..." for `ising info`; an attribute that is absent
 * prints nothing, one that cannot be read says so. */
static void print_attr(hid_t obj, const char *name, FILE *out) {
  if (H5Aexists(obj, name) <= 0) return;
  fprintf(out, "  %-18s", name);
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t t = a >= 0 ? H5Aget_type(a) : -1, sp = a >= 0 ? H5Aget_space(a) : -1;
  hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  int shown = 0;
  if (cls == H5T_STRING) {
    char b[256];
    shown = ising_h5_attr_read_str(obj, name, b, sizeof b, "") == ISING_OK;
    if (!shown) ising_err_clear(); /* said on the line instead */
    if (shown) fprintf(out, " %s", b);
  } else if (cls == H5T_INTEGER && n > 0 && n < 64) {
    long long v[64];
    shown = H5Aread(a, H5T_NATIVE_LLONG, v) >= 0;
    for (hssize_t i = 0; shown && i < n; i++) fprintf(out, " %lld", v[i]);
  } else if (cls == H5T_FLOAT && n > 0 && n <= ISING_MAX_TEMPS) {
    double v[ISING_MAX_TEMPS];
    shown = H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0;
    for (hssize_t i = 0; shown && i < n; i++) fprintf(out, " %g", v[i]);
  }
  fprintf(out, "%s\n", shown ? "" : " (unreadable)");
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  if (a >= 0) H5Aclose(a);
}

int ising_output_describe(const char *path, FILE *out) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  ISING_CHECK(f >= 0, ISING_ERR_INPUT, "'%s' is not a readable HDF5 file", path);
  char prog[32] = "";
  if (ising_h5_attr_read_str(f, "program", prog, sizeof prog, path) != ISING_OK) ising_err_clear();
  if (strcmp(prog, "ising") != 0) {
    H5Fclose(f);
    return ISING_ERR(ISING_ERR_INPUT, "'%s' was not written by ising (no program = \"ising\")", path);
  }
  fprintf(out, "%s:\n", path);
  static const char *const root[] = {"kind", "status", "version", "git_commit", "created", "mpi_ranks",
                                     "process_grid", "kernel", "sweeps_done", "wall_seconds",
                                     "flips_per_ns", "generation", "rows", "complete"};
  for (size_t i = 0; i < sizeof root / sizeof root[0]; i++) print_attr(f, root[i], out);
  if (H5Lexists(f, "parameters", H5P_DEFAULT) > 0) {
    hid_t g = H5Gopen2(f, "parameters", H5P_DEFAULT);
    fprintf(out, " parameters:\n");
    static const char *const par[] = {"dim", "L", "J", "H", "T", "algorithm", "seed", "thermalization",
                                      "sweeps", "interval", "copies", "ladder", "exchange_interval",
                                      "adapt"};
    for (size_t i = 0; i < sizeof par / sizeof par[0]; i++) print_attr(g, par[i], out);
    H5Gclose(g);
  }
  if (H5Lexists(f, "timeseries", H5P_DEFAULT) > 0) {
    hid_t d = H5Dopen2(f, "timeseries/sweep", H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    long long last = -1;
    if (n > 0) {
      hsize_t st = (hsize_t)(n - 1), ct = 1;
      hid_t ms = H5Screate_simple(1, &ct, NULL);
      H5Sselect_hyperslab(sp, H5S_SELECT_SET, &st, NULL, &ct, NULL);
      H5Dread(d, H5T_NATIVE_LLONG, ms, sp, H5P_DEFAULT, &last);
      H5Sclose(ms);
    }
    fprintf(out, " progress: %lld measurement rows, the last after sweep %lld (0-based)\n", (long long)n, last);
    H5Sclose(sp);
    H5Dclose(d);
  }
  if (H5Lexists(f, "summary", H5P_DEFAULT) > 0) fprintf(out, " summary: present (finished run)\n");
  if (H5Lexists(f, "deck", H5P_DEFAULT) > 0) {
    hid_t d = H5Dopen2(f, "deck", H5P_DEFAULT);
    hid_t t = H5Dget_type(d);
    size_t sz = H5Tget_size(t);
    char *b = calloc(sz + 1, 1);
    if (b && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, b) >= 0) fprintf(out, " deck:\n%s%s", b, sz && b[sz - 1] == '\n' ? "" : "\n");
    free(b);
    H5Tclose(t);
    H5Dclose(d);
  }
  H5Fclose(f);
  return ISING_OK;
}

int ising_output_close(ising_output **op) {
  if (!op || !*op) return ISING_OK;
  ising_output *o = *op;
  int bad = 0;
  for (int i = 0; i < NSERIES; i++)
    if (o->series[i] >= 0) bad |= H5Dclose(o->series[i]) < 0;
  if (o->sweep >= 0) bad |= H5Dclose(o->sweep) < 0;
  if (o->replica >= 0) bad |= H5Dclose(o->replica) < 0;
  if (o->tindex >= 0) bad |= H5Dclose(o->tindex) < 0;
  /* after a failure HDF5's collective close may never end (h5util.h) */
  const int failed = *ising_err_message() != '\0';
  if (failed) ising_h5_watchdog_arm(o->path, o->rank, ISING_H5_CLOSE_GRACE);
  errno = 0;
  if (o->file >= 0) bad |= H5Fclose(o->file) < 0; /* closes what is left (H5F_CLOSE_STRONG) */
  int err = errno;
  if (failed) ising_h5_watchdog_disarm();
  if (o->fapl >= 0) bad |= H5Pclose(o->fapl) < 0;
  char path[ISING_PATH_MAX];
  snprintf(path, sizeof path, "%s", o->path);
  MPI_Comm comm = o->comm;
  free(o);
  *op = NULL;
  int rc = ISING_OK;
  if (bad) {
    const char *cause = ising_h5_io_cause(path, err);
    rc = ising_err_set(*cause ? ISING_ERR_IO : ISING_ERR_HDF5, __FILE__, __LINE__,
                       "HDF5 error closing '%s'%s%s", path, *cause ? ": " : "", cause);
  }
  return comm != MPI_COMM_NULL ? ising_h5_agree(comm, rc) : rc;
}
