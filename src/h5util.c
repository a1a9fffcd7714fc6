/*
 * h5util.c -- HDF5 attribute helpers (contract in h5util.h).  One place
 * that creates, replaces and reads attributes, so that the output file and
 * the checkpoint check every HDF5 call the same way.
 */
#include "h5util.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ising/error.h"

static int wfail(const char *step, const char *name, const char *file) {
  return ising_err_set(ISING_ERR_HDF5, __FILE__, __LINE__,
                       "HDF5 error in %s (attribute '%s') while writing '%s'", step, name, file);
}

int ising_h5_attr_write(hid_t obj, const char *name, hid_t type, int n, const void *data,
                        const char *file) {
  if (n < 1) return wfail("the attribute's size", name, file);
  htri_t ex = H5Aexists(obj, name);
  if (ex < 0) return wfail("H5Aexists", name, file);
  if (ex > 0 && H5Adelete(obj, name) < 0) return wfail("H5Adelete", name, file);
  hsize_t dims = (hsize_t)n;
  hid_t sp = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, NULL);
  if (sp < 0) return wfail("H5Screate", name, file);
  hid_t a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  const char *step = a < 0 ? "H5Acreate2" : NULL;
  if (!step && H5Awrite(a, type, data) < 0) step = "H5Awrite";
  if (a >= 0 && H5Aclose(a) < 0 && !step) step = "H5Aclose";
  if (H5Sclose(sp) < 0 && !step) step = "H5Sclose";
  return step ? wfail(step, name, file) : ISING_OK;
}

int ising_h5_attr_i64(hid_t obj, const char *name, int n, const int64_t *v, const char *file) {
  return ising_h5_attr_write(obj, name, H5T_NATIVE_INT64, n, v, file);
}

int ising_h5_attr_u64(hid_t obj, const char *name, int n, const uint64_t *v, const char *file) {
  return ising_h5_attr_write(obj, name, H5T_NATIVE_UINT64, n, v, file);
}

int ising_h5_attr_f64(hid_t obj, const char *name, int n, const double *v, const char *file) {
  return ising_h5_attr_write(obj, name, H5T_NATIVE_DOUBLE, n, v, file);
}

int ising_h5_attr_str(hid_t obj, const char *name, const char *s, const char *file) {
  size_t len = strlen(s);
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return wfail("H5Tcopy", name, file);
  int rc = H5Tset_size(t, len > 0 ? len : 1) < 0 ? wfail("H5Tset_size", name, file)
           : H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ? wfail("H5Tset_strpad", name, file)
           : ising_h5_attr_write(obj, name, t, 1, len > 0 ? s : "", file);
  if (H5Tclose(t) < 0 && !rc) rc = wfail("H5Tclose", name, file);
  return rc;
}

static int rfail(const char *why, const char *name, const char *file) {
  return ising_err_set(ISING_ERR_INPUT, __FILE__, __LINE__, "'%s': attribute %s %s", file, name, why);
}

/* Open `name` and check that it holds exactly n elements; -1 with the
 * error recorded otherwise. */
static hid_t open_sized(hid_t obj, const char *name, hssize_t n, const char *file) {
  htri_t ex = H5Aexists(obj, name);
  if (ex <= 0) {
    rfail(ex < 0 ? "cannot be looked up (damaged file?)" : "is missing", name, file);
    return -1;
  }
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) {
    rfail("cannot be opened (damaged file?)", name, file);
    return -1;
  }
  hid_t sp = H5Aget_space(a);
  hssize_t have = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  int ok = sp >= 0 && H5Sclose(sp) >= 0 && have == n;
  if (!ok) {
    H5Aclose(a);
    rfail("has the wrong size (damaged file?)", name, file);
    return -1;
  }
  return a;
}

int ising_h5_attr_read(hid_t obj, const char *name, hid_t type, int n, void *data,
                       const char *file) {
  hid_t a = open_sized(obj, name, n, file);
  if (a < 0) return ISING_ERR_INPUT;
  herr_t r = H5Aread(a, type, data);
  if (H5Aclose(a) < 0) r = -1;
  return r < 0 ? rfail("cannot be read (damaged file?)", name, file) : ISING_OK;
}

int ising_h5_attr_read_i64(hid_t obj, const char *name, int n, int64_t *v, const char *file) {
  return ising_h5_attr_read(obj, name, H5T_NATIVE_INT64, n, v, file);
}

int ising_h5_attr_read_u64(hid_t obj, const char *name, int n, uint64_t *v, const char *file) {
  return ising_h5_attr_read(obj, name, H5T_NATIVE_UINT64, n, v, file);
}

int ising_h5_attr_read_str(hid_t obj, const char *name, char *buf, size_t size, const char *file) {
  if (size > 0) buf[0] = '\0';
  hid_t a = open_sized(obj, name, 1, file);
  if (a < 0) return ISING_ERR_INPUT;
  hid_t t = H5Aget_type(a);
  size_t sz = t >= 0 && H5Tget_class(t) == H5T_STRING ? H5Tget_size(t) : 0;
  herr_t r = sz > 0 && sz < size && H5Tis_variable_str(t) == 0 ? H5Aread(a, t, buf) : -1;
  if (t >= 0 && H5Tclose(t) < 0) r = -1;
  if (H5Aclose(a) < 0) r = -1;
  if (r < 0) {
    if (size > 0) buf[0] = '\0';
    return rfail("is not a short string (damaged file?)", name, file);
  }
  buf[sz] = '\0';
  return ISING_OK;
}

/* ------------------------------------------------------ collective status */

int ising_h5_agree(MPI_Comm comm, int rc) {
  int rank;
  if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS)
    return rc ? rc : ising_err_set(ISING_ERR_MPI, __FILE__, __LINE__, "MPI_Comm_rank failed");
  /* any failure, and the lowest failing rank (as the largest -rank) */
  int v[2] = {rc != ISING_OK, rc != ISING_OK ? -rank : INT_MIN};
  if (MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_INT, MPI_MAX, comm) != MPI_SUCCESS)
    return rc ? rc : ising_err_set(ISING_ERR_MPI, __FILE__, __LINE__, "MPI_Allreduce (agreement) failed");
  if (!v[0]) return ISING_OK;
  const int who = -v[1];
  struct {
    int code;
    char text[1000];
  } m = {rc, ""};
  if (rank == who) snprintf(m.text, sizeof m.text, "%s", ising_err_message());
  if (MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, who, comm) != MPI_SUCCESS)
    return rc ? rc : ising_err_set(ISING_ERR_MPI, __FILE__, __LINE__, "MPI_Bcast (agreement) failed");
  if (rank != who) {
    ising_err_clear();
    ising_err_set(m.code, __FILE__, __LINE__, "%s", m.text);
  }
  ising_err_set_agreed();
  return m.code;
}

void ising_h5_dir_of(const char *path, char *dir, size_t size) {
  snprintf(dir, size, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash)
    snprintf(dir, size, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
}

/* Bytes free to this process on the file system of `path`; -1: unknown. */
static long long space_free(const char *path) {
  char dir[4096];
  ising_h5_dir_of(path, dir, sizeof dir);
  struct statvfs sv;
  if (statvfs(dir, &sv) != 0) return -1;
  return (long long)sv.f_bavail * (long long)sv.f_frsize;
}

int ising_h5_space_check(MPI_Comm comm, const char *path, uint64_t bytes, const char *what) {
  int rank, rc = ISING_OK;
  if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS)
    return ising_err_set(ISING_ERR_MPI, __FILE__, __LINE__, "MPI_Comm_rank failed");
  const char *off = getenv("ISING_NO_SPACE_CHECK");
  if (rank == 0 && !(off && *off)) {
    long long avail = space_free(path);
    uint64_t need = bytes + ISING_H5_SPACE_MARGIN;
    if (avail >= 0 && (uint64_t)avail < need)
      rc = ising_err_set(ISING_ERR_IO, __FILE__, __LINE__,
                         "'%s': %s need about %llu bytes, %lld are free: %s (free space or "
                         "raise the quota, then: ising resume)",
                         path, what, (unsigned long long)need, avail, strerror(ENOSPC));
  }
  return ising_h5_agree(comm, rc);
}

const char *ising_h5_io_cause(const char *path, int err) {
  if (err != 0) return strerror(err);
  long long avail = space_free(path);
  if (avail >= 0 && (uint64_t)avail < ISING_H5_SPACE_MARGIN) return strerror(ENOSPC);
  return "";
}

typedef struct stack_text {
  char *buf;
  size_t size;
} stack_text;

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data) {
  stack_text *t = data;
  if (n == 0) snprintf(t->buf, t->size, "%s (%s)", e->desc ? e->desc : "?", e->func_name ? e->func_name : "?");
  return 0;
}

void ising_h5_stack_text(char *buf, size_t size) {
  if (size == 0) return;
  buf[0] = '\0';
  stack_text t = {buf, size};
  if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &t) < 0) buf[0] = '\0';
}

/* ------------------------------------------------------------- watchdog */

static char dog_text[1400];
static size_t dog_len;
static struct sigaction dog_old;
static int dog_armed;

static void dog_bite(int sig) {
  (void)sig;
  if (dog_len > 0) {
    ssize_t w = write(STDERR_FILENO, dog_text, dog_len);
    (void)w;
  }
  _exit(1);
}

void ising_h5_watchdog_arm(const char *file, int world_rank, int seconds) {
  if (dog_armed) return;
  const char *first = ising_err_message();
  int n = world_rank != 0 ? 0
          : snprintf(dog_text, sizeof dog_text,
                     "ising: error (runtime): %s%sHDF5 could not close '%s' within %d s after the "
                     "failure (its metadata could not be written either: the file may be "
                     "unreadable; free space, then: ising resume)\n",
                     first, *first ? "; then " : "", file, seconds);
  dog_len = n > 0 ? ((size_t)n < sizeof dog_text ? (size_t)n : sizeof dog_text - 1) : 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = dog_bite;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGALRM, &sa, &dog_old) != 0) return;
  dog_armed = 1;
  /* the other ranks wait longer: rank 0 says why before the launcher, seeing
   * a rank end with status 1, kills the rest (mpiexec may do so at once) */
  alarm((unsigned)(world_rank != 0 ? seconds + ISING_H5_CLOSE_LAG : seconds));
}

void ising_h5_watchdog_disarm(void) {
  if (!dog_armed) return;
  alarm(0);
  sigaction(SIGALRM, &dog_old, NULL);
  dog_armed = 0;
}
