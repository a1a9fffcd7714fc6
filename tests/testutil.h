/*
 * testutil.h -- small helpers shared by the test programs: a temporary
 * directory per test, and running a Check suite with the right exit code.
 */
#ifndef ISING_TESTUTIL_H
#define ISING_TESTUTIL_H
#include <check.h>

/* Run `s` (no fork: MPI and fork do not mix), return 0 if all passed. */
int ising_test_run_suite(Suite *s);
/* A fresh directory under $TMPDIR (or /tmp) named after `tag`; the path is
 * written to buf. Aborts the test program on failure. */
const char *ising_test_tmpdir(const char *tag, char *buf, int size);
#endif
