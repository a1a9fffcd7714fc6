/* testutil.c -- see testutil.h. */
#include "testutil.h"

#include <math.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ising_test_run_suite(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}

const char *ising_test_tmpdir(const char *tag, char *buf, int size) {
  const char *base = getenv("TMPDIR");
  if (!base || !*base) base = "/tmp";
  snprintf(buf, (size_t)size, "%s/ising-%s-XXXXXX", base, tag);
  if (!mkdtemp(buf)) {
    perror("mkdtemp");
    exit(1);
  }
  return buf;
}

int ising_test_mpi_suite(const char *tag, char *tmpdir, int size, Suite *s) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) ising_test_tmpdir(tag, tmpdir, size);
  MPI_Bcast(tmpdir, size, MPI_CHAR, 0, MPI_COMM_WORLD);
  int rc = ising_test_run_suite(s);
  MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  }
  return rc;
}

double ising_test_max_z(const char *label, const ising_test_cmp *c, int n, int print) {
  double worst = 0;
  for (int i = 0; i < n; i++) {
    double z = fabs(c[i].mc - c[i].exact) / c[i].err;
    if (!(c[i].err > 0)) z = INFINITY;
    if (z > worst) worst = z;
    if (print)
      printf("  %-34s %-6s mc %.6f +- %.6f exact %.6f  z %+.2f\n", label, c[i].name, c[i].mc,
             c[i].err, c[i].exact, (c[i].mc - c[i].exact) / c[i].err);
  }
  return worst;
}

void ising_test_tally_fail(ising_test_tally *t, const char *fmt, ...) {
  if (t->failed++ == 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->first, sizeof t->first, fmt, ap);
    va_end(ap);
  }
}
