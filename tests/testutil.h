/*
 * testutil.h -- small helpers shared by the test programs: a temporary
 * directory per test, running a Check suite with the right exit code (also
 * over MPI ranks), and Monte Carlo estimates against exact values.
 */
#ifndef ISING_TESTUTIL_H
#define ISING_TESTUTIL_H
#include <check.h>

/* Run `s` (no fork: MPI and fork do not mix), return 0 if all passed. */
int ising_test_run_suite(Suite *s);
/* A fresh directory under $TMPDIR (or /tmp) named after `tag`; the path is
 * written to buf. Aborts the test program on failure. */
const char *ising_test_tmpdir(const char *tag, char *buf, int size);

/* The body of an MPI test program's main, between MPI_Init and
 * MPI_Finalize: a fresh directory named after `tag` into tmpdir (the same
 * path on every rank of MPI_COMM_WORLD), `s` run on every rank, the
 * directory removed; 0 if every rank passed. */
int ising_test_mpi_suite(const char *tag, char *tmpdir, int size, Suite *s);

/* A Monte Carlo estimate with its error bar and the exact value. */
typedef struct ising_test_cmp {
  const char *name;
  double mc, err, exact;
} ising_test_cmp;
/* The largest |mc - exact| / err of the n comparisons (infinite where an
 * error bar is not > 0); with `print`, one line per comparison. */
double ising_test_max_z(const char *label, const ising_test_cmp *c, int n, int print);
#endif
