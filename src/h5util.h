/*
 * h5util.h -- the HDF5 attribute helpers shared by the output file (h5io.c)
 * and the checkpoint (checkpoint.c); private to the library.
 *
 * Writers are metadata operations: under parallel HDF5 every rank of the
 * file's communicator calls them with the same arguments.  A writer
 * replaces an attribute of the same name (a resumed run writes its
 * end-of-run attributes again); n == 1 makes a scalar, n > 1 a 1D array.
 * Readers are local and demand the stored shape: exactly n elements.
 * Every HDF5 return value is checked.  A failed writer is ISING_ERR_HDF5, a
 * failed reader ISING_ERR_INPUT (missing, another shape, unreadable: a file
 * that is not what it claims is the user's input); both messages name the
 * attribute and `file`, the HDF5 file's path.
 */
#ifndef ISING_H5UTIL_H
#define ISING_H5UTIL_H

#include <hdf5.h>
#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

int ising_h5_attr_write(hid_t obj, const char *name, hid_t type, int n, const void *data,
                        const char *file);
int ising_h5_attr_i64(hid_t obj, const char *name, int n, const int64_t *v, const char *file);
int ising_h5_attr_u64(hid_t obj, const char *name, int n, const uint64_t *v, const char *file);
int ising_h5_attr_f64(hid_t obj, const char *name, int n, const double *v, const char *file);
/* A fixed-length, NUL-terminated string attribute (an empty string is
 * stored in one byte). */
int ising_h5_attr_str(hid_t obj, const char *name, const char *s, const char *file);

int ising_h5_attr_read(hid_t obj, const char *name, hid_t type, int n, void *data,
                       const char *file);
int ising_h5_attr_read_i64(hid_t obj, const char *name, int n, int64_t *v, const char *file);
int ising_h5_attr_read_u64(hid_t obj, const char *name, int n, uint64_t *v, const char *file);
/* A string attribute of at most size - 1 bytes into buf (NUL-terminated). */
int ising_h5_attr_read_str(hid_t obj, const char *name, char *buf, size_t size, const char *file);

/* Agreement after a collective phase (collective over comm): `rc` is this
 * rank's status.  When every rank succeeded, ISING_OK.  Otherwise every
 * rank returns the code and holds the message of the lowest rank that
 * failed (the others learn it by broadcast), marked agreed (error.h), so
 * that the next collective call is never entered by only some ranks and
 * one rank can report for all.  A failed agreement itself is
 * ISING_ERR_MPI (not agreed). */
int ising_h5_agree(MPI_Comm comm, int rc);

/* The directory part of a file path ("." for a bare name, "/" at the root). */
void ising_h5_dir_of(const char *path, char *dir, size_t size);

/* Collective over comm: rank 0 checks that the file system holding `path`
 * has at least `bytes` plus a margin for HDF5's metadata free for `what`
 * (a phrase: "the next time-series rows"), before the data is written, so
 * that a full disk or quota stops the run between two consistent states
 * of the file instead of in the middle of HDF5's own collective I/O.
 * Not enough: ISING_ERR_IO naming path, what, the bytes and ENOSPC's text,
 * agreed.  A file system that cannot tell (statvfs fails) passes, and so
 * does every check while the environment variable ISING_NO_SPACE_CHECK is
 * set and not empty (tests of a write that fails in HDF5 itself, as a
 * quota that statvfs does not show makes it). */
#define ISING_H5_SPACE_MARGIN ((uint64_t)64 << 10)
int ising_h5_space_check(MPI_Comm comm, const char *path, uint64_t bytes, const char *what);

/* The text of the cause of a failed write of `path` whose errno was `err`
 * (0: not known): strerror(err), or ENOSPC's text when the file system is
 * full, else "".  For messages: "...: %s". */
const char *ising_h5_io_cause(const char *path, int err);

/* The innermost entry of the calling thread's HDF5 error stack as
 * "<description> (<function>)" in buf ("" when the stack is empty): the
 * cause of a failed call when no errno names one. */
void ising_h5_stack_text(char *buf, size_t size);

/* A watchdog over HDF5's collective clean-up after a failure (closing a
 * file whose writes failed): HDF5 1.10 itself can leave the ranks in
 * different collective calls when its own metadata cannot be written (a
 * full disk or quota that the room check did not see), and would wait
 * forever.  Armed, the process ends with status 1 after `seconds`,
 * printing on rank 0 of the run the message recorded so far (error.h) and
 * that `file` could not be closed; every other watchdog (other ranks, and
 * the silent ones, world_rank < 0) waits ISING_H5_CLOSE_LAG seconds more,
 * so that rank 0's line comes out before the launcher ends the job (Open
 * MPI kills the rest when one rank exits 1, at once where
 * odls_base_sigkill_timeout = 0).  Disarm restores the previous SIGALRM
 * action. */
#define ISING_H5_CLOSE_GRACE 10
#define ISING_H5_CLOSE_LAG 3
void ising_h5_watchdog_arm(const char *file, int world_rank, int seconds);
void ising_h5_watchdog_disarm(void);

#endif
