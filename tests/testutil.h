/*
 * testutil.h -- small helpers shared by the test programs: a temporary
 * directory per test, running a Check suite with the right exit code (also
 * over MPI ranks), and Monte Carlo estimates against exact values.
 */
#ifndef ISING_TESTUTIL_H
#define ISING_TESTUTIL_H
#include <check.h>

#include "ising/rng.h"

/* The key of seed for generator alg (ISING_RNG_PHILOX or ISING_RNG_ARS):
 * the kernel suites run their comparisons on either stream. */
static inline ising_rng_key ising_test_key(uint64_t seed, uint32_t alg) {
  ising_rng_key k = ising_rng_key_from_seed(seed);
  k.alg = alg;
  return k;
}

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

/* Checks inside loops of many iterations.  Check records every ck_assert
 * that passes (a write system call, for the location of a later crash), so
 * a loop of millions of ck_asserts spends seconds in the kernel; the loop
 * tallies its failures here instead, keeping the message of the first, and
 * ising_test_tally_assert fails the test once after the loop if any failed. */
typedef struct ising_test_tally {
  long checked, failed;
  char first[512];
} ising_test_tally;
void ising_test_tally_fail(ising_test_tally *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Count one check of `cond`; on failure keep the printf-style message. */
#define ising_test_check(t, cond, ...)                                     \
  ((t)->checked++, (cond) ? (void)0 : ising_test_tally_fail((t), __VA_ARGS__))
#define ising_test_tally_assert(t)                                         \
  ck_assert_msg((t)->failed == 0, "%ld of %ld checks failed, the first: %s", \
                (t)->failed, (t)->checked, (t)->first)
#endif
