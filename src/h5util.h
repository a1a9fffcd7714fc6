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

#endif
