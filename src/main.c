/*
 * main.c -- the `ising` command: set-up, dispatch, exit status.
 *
 *   ising run DECK [--set section.key=value ...] [--force] [--quiet] [--walltime S]
 *   ising resume OUTPUT_OR_CHECKPOINT [--sweeps N] [--set ...] [--quiet] [--walltime S]
 *   ising info FILE
 *   ising baseline DECK [--set ...]
 *   ising bench [--dim D] [--L L] [--T T] [--H H] [--sweeps N] [--repeat N]
 *               [--algorithm metropolis|heatbath] [--kernel NAME of the registry, sweeper.h]
 *   ising --version | --help
 *
 * Exit status (README): 0 finished; 1 runtime failure (MPI, HDF5, I/O,
 * memory, internal); 2 bad input (deck, options, rank count, output path);
 * 3 stopped at a checkpoint with work left (signal or wall-time budget):
 * continue with `ising resume`.
 * Rank 0 reads the deck and broadcasts its text, so every rank parses the
 * same bytes and reaches the same verdict.
 */
#include <errno.h>
#include <stdint.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ising/baseline.h"
#include "ising/checkpoint.h"
#include "ising/config.h"
#include "ising/corr.h"
#include "ising/error.h"
#include "ising/layout.h"
#include "ising/h5io.h"
#include "ising/run.h"
#include "ising/sweeper.h"
#include "ising/varmf.h"
#include "ising/version.h"
#include "h5util.h"

enum { EXIT_FINISHED = 0, EXIT_FAILURE_RUNTIME = 1, EXIT_BAD_INPUT = 2, EXIT_STOPPED = 3 };

static void usage(FILE *f) {
  char kernels[256];
  ising_sweeper_names(kernels, sizeof kernels, 1);
  for (char *c = kernels; *c; c++) /* "a, b or c" -> "a|b|c" */
    if (*c == ',' || (*c == ' ' && c[1] == 'o' && c[2] == 'r' && c[3] == ' ')) {
      size_t skip = *c == ',' ? 2 : 4;
      *c = '|';
      memmove(c + 1, c + skip, strlen(c + skip) + 1);
    }
  fprintf(f,
          "usage: ising run DECK [--set section.key=value ...] [--force] [--quiet] [--walltime S]\n"
          "       ising resume OUTPUT_OR_CHECKPOINT [--sweeps N] [--set section.key=value ...]\n"
          "                    [--quiet] [--walltime S]\n"
          "       ising info FILE.h5\n"
          "       ising baseline DECK [--set section.key=value ...] [--field FILE.h5 [--force]]\n"
          "       ising bench [--dim 2|3] [--L N] [--T T] [--H H] [--sweeps N] [--repeat N]\n"
          "                   [--algorithm metropolis|heatbath] [--kernel %s]\n"
          "       ising --version | --help\n"
          "exit status: 0 finished, 1 runtime failure, 2 bad input, 3 stopped (resumable)\n",
          kernels);
}

/* Rank 0 reads the deck (ising_config_read_file: what cannot be read
 * exactly is refused there, with its message); all ranks receive its text
 * (NULL on failure) and the same status. */
static int read_deck(MPI_Comm comm, const char *path, char **text) {
  int rank;
  *text = NULL;
  ISING_MPI(MPI_Comm_rank(comm, &rank));
  char *buf = NULL;
  long len = 0;
  int rc = ISING_OK;
  if (rank == 0) {
    rc = ising_config_read_file(path, &buf);
    if (rc == ISING_OK) len = (long)strlen(buf);
  }
  ISING_MPI(MPI_Bcast(&rc, 1, MPI_INT, 0, comm));
  if (rc != ISING_OK)
    return rank == 0 ? rc : ISING_ERR(rc, "reading the deck failed on rank 0 (see its message)");
  ISING_MPI(MPI_Bcast(&len, 1, MPI_LONG, 0, comm));
  if (rank != 0) {
    buf = malloc((size_t)len + 1);
    ISING_CHECK(buf, ISING_ERR_MEM, "out of memory reading the deck");
    buf[len] = '\0';
  }
  *text = buf; /* the caller's to free, also when the broadcast fails */
  if (len > 0) ISING_MPI(MPI_Bcast(buf, (int)len, MPI_CHAR, 0, comm));
  return ISING_OK;
}

static int parse_seconds(const char *opt, const char *s, double *v) {
  char *end;
  double x = strtod(s, &end);
  ISING_CHECK(*s && !*end && x > 0 && x < 1e10, ISING_ERR_INPUT,
              "%s %s: expected a number of seconds > 0", opt, s);
  *v = x;
  return ISING_OK;
}

static double epoch_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The value of option argv[*i] (advancing *i), or NULL with *rc set when
 * it is the last argument. */
static char *option_value(const char *cmd, int argc, char **argv, int *i, const char *what,
                          int *rc) {
  if (*i + 1 < argc) return argv[++*i];
  *rc = ISING_ERR(ISING_ERR_INPUT, "ising %s: %s needs a value (%s)", cmd, argv[*i], what);
  return NULL;
}

/* `--sweeps N`: a decimal integer, 1 <= N <= 2^32 - 1 (the sweep is a
 * 32-bit counter of the random numbers, so no run has more). */
static int parse_sweeps(const char *s, int64_t *out) {
  int ok = *s != '\0';
  uint64_t v = 0;
  for (const char *p = s; ok && *p; p++) {
    ok = *p >= '0' && *p <= '9' && v <= UINT32_MAX;
    if (ok) v = v * 10 + (uint64_t)(*p - '0'); /* v < 2^32 before: no overflow */
  }
  ISING_CHECK(ok && v >= 1 && v <= UINT32_MAX, ISING_ERR_INPUT,
              "ising resume: --sweeps %s: expected an integer between 1 and %lu (measured "
              "sweeps in all; thermalization + sweeps must stay below 2^32)", s,
              (unsigned long)UINT32_MAX);
  *out = (int64_t)v;
  return ISING_OK;
}

/* Options shared by run and resume; returns 1 if argv[*i] was one. */
static int common_option(const char *cmd, int argc, char **argv, int *i,
                         ising_run_options *opt, char **set, int *nset, int *rc) {
  const char *a = argv[*i];
  if (!strcmp(a, "--quiet")) {
    opt->quiet = 1;
  } else if (!strcmp(a, "--set")) {
    char *v = option_value(cmd, argc, argv, i, "section.key=value", rc);
    if (v) set[(*nset)++] = v;
  } else if (!strncmp(a, "--set=", 6)) {
    set[(*nset)++] = argv[*i] + 6;
  } else if (!strcmp(a, "--walltime")) {
    const char *v = option_value(cmd, argc, argv, i, "seconds", rc);
    if (!v) return 1;
    *rc = parse_seconds("--walltime", v, &opt->walltime);
    if (!*rc && opt->walltime <= ISING_WALLTIME_SLACK)
      *rc = ISING_ERR(ISING_ERR_INPUT, "--walltime %s: must be more than %g seconds, the slack a "
                      "run keeps before its budget ends to write its last checkpoint", v,
                      ISING_WALLTIME_SLACK);
  } else {
    return 0;
  }
  return 1;
}

static int cmd_run(MPI_Comm comm, int argc, char **argv) {
  const char *deck = NULL;
  ising_run_options opt = {0};
  opt.start_time = epoch_now();
  char **set = calloc((size_t)argc + 1, sizeof *set);
  ISING_CHECK(set, ISING_ERR_MEM, "out of memory");
  int nset = 0, rc = ISING_OK;
  for (int i = 0; i < argc && !rc; i++) {
    if (!strcmp(argv[i], "--force"))
      opt.force = 1;
    else if (common_option("run", argc, argv, &i, &opt, set, &nset, &rc))
      continue;
    else if (argv[i][0] == '-' && argv[i][1])
      rc = ISING_ERR(ISING_ERR_INPUT, "ising run: unknown option '%s' (allowed: --set section.key=value, --force, --quiet, --walltime S)", argv[i]);
    else if (!deck)
      deck = argv[i];
    else
      rc = ISING_ERR(ISING_ERR_INPUT, "ising run: more than one deck given ('%s' and '%s')", deck, argv[i]);
  }
  if (!rc && !deck) rc = ISING_ERR(ISING_ERR_INPUT, "ising run: no deck given (usage: ising run DECK)");
  char *text = NULL;
  ising_config cfg;
  ising_config_defaults(&cfg);
  if (!rc) rc = read_deck(comm, deck, &text);
  if (!rc) rc = ising_config_parse_string(text, deck, nset, set, &cfg);
  if (!rc) rc = ising_run(comm, &cfg, &opt, NULL);
  ising_config_free(&cfg);
  free(text);
  free(set);
  return rc;
}

static int cmd_resume(MPI_Comm comm, int argc, char **argv) {
  const char *file = NULL;
  ising_run_options opt = {0};
  opt.start_time = epoch_now();
  char **set = calloc((size_t)argc + 1, sizeof *set);
  ISING_CHECK(set, ISING_ERR_MEM, "out of memory");
  int nset = 0, rc = ISING_OK;
  int64_t sweeps = 0;
  for (int i = 0; i < argc && !rc; i++) {
    if (common_option("resume", argc, argv, &i, &opt, set, &nset, &rc)) {
      continue;
    } else if (!strcmp(argv[i], "--sweeps")) {
      const char *v = option_value("resume", argc, argv, &i, "measured sweeps in all", &rc);
      if (v) rc = parse_sweeps(v, &sweeps);
    } else if (argv[i][0] == '-' && argv[i][1]) {
      rc = ISING_ERR(ISING_ERR_INPUT, "ising resume: unknown option '%s' (allowed: --sweeps N, "
                     "--set section.key=value, --quiet, --walltime S)", argv[i]);
    } else if (!file) {
      file = argv[i];
    } else {
      rc = ISING_ERR(ISING_ERR_INPUT, "ising resume: more than one file given");
    }
  }
  if (!rc && !file) rc = ISING_ERR(ISING_ERR_INPUT, "ising resume: no output file given (usage: ising resume OUTPUT)");
  if (!rc) rc = ising_resume(comm, file, nset, set, sweeps, &opt, NULL);
  free(set);
  return rc;
}

/* The inhomogeneous variational bound on the deck's own lattice (all ranks,
 * decomposed like a run), from a uniform start along H and, for J < 0, from
 * a staggered one; rank 0 prints. */
static int lattice_bound(MPI_Comm comm, const ising_config *cfg, int rank, const char *field,
                         int force) {
  ising_layout *lay = NULL;
  ISING_CALL(ising_layout_create(comm, cfg, 0, &lay));
  int rc = ISING_OK;
  int64_t nblock = lay->n[0] * lay->n[1] * lay->n[2];
  double **fields = field ? calloc((size_t)cfg->n_temps, sizeof *fields) : NULL;
  double *fvar = field ? calloc((size_t)cfg->n_temps, sizeof *fvar) : NULL;
  if (field && (!fields || !fvar)) rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
  for (int t = 0; t < cfg->n_temps && field && !rc; t++)
    if (!(fields[t] = malloc((size_t)nblock * sizeof(double)))) rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
  if (rank == 0)
    printf("# inhomogeneous variational mean field on the %lld-site lattice (site fields, GBF bound "
           "f_var >= f_exact; varmf.h):\n#            T   start        f_var        e_var        s_var"
           "            m       m_stag  iterations\n", (long long)ising_config_sites(cfg));
  for (int t = 0; t < cfg->n_temps && !rc; t++)
    for (int st = 0; st < (cfg->J < 0 ? 2 : 1) && !rc; st++) {
      ising_varmf_result r;
      rc = ising_varmf_solve(lay, cfg->J, cfg->H, cfg->temps[t], st ? ISING_VARMF_STAGGERED : ISING_VARMF_UNIFORM,
                             cfg->seed, 0.7, 1e-10, 100000, &r, field && st == 0 ? fields[t] : NULL);
      if (!rc && field && st == 0) fvar[t] = r.f;
      if (!rc && rank == 0)
        printf("%14.8g %9s %12.8f %12.8f %12.8f %12.8f %12.8f %8d%s\n", cfg->temps[t],
               st ? "staggered" : "uniform", r.f, r.e, r.s, r.m, r.m_stag, r.iterations,
               r.converged ? "" : " (not converged)");
    }
  if (!rc && field) {
    rc = ising_field_file_write(lay, field, force, cfg->n_temps, cfg->temps, fields, fvar);
    if (!rc && rank == 0) printf("# fields m_i (uniform start) written to %s: /m (T, [Lz,] Ly, Lx), /T, /f_var\n", field);
  }
  for (int t = 0; fields && t < cfg->n_temps; t++) free(fields[t]);
  free(fields);
  free(fvar);
  int rc2 = ising_layout_destroy(&lay);
  return rc ? rc : rc2;
}

/* `ising baseline DECK [--set ...]`: the analytic baselines at the deck's
 * temperatures, no Monte Carlo (rank 0 prints). */
static int cmd_baseline(MPI_Comm comm, int argc, char **argv) {
  const char *deck = NULL;
  char **set = calloc((size_t)argc + 1, sizeof *set);
  ISING_CHECK(set, ISING_ERR_MEM, "out of memory");
  int nset = 0, rc = ISING_OK, rank, force = 0;
  const char *field = NULL;
  ISING_MPI(MPI_Comm_rank(comm, &rank));
  for (int i = 0; i < argc && !rc; i++) {
    if (!strcmp(argv[i], "--field"))
      field = option_value("baseline", argc, argv, &i, "the output file FILE.h5", &rc);
    else if (!strcmp(argv[i], "--force"))
      force = 1;
    else if (!strcmp(argv[i], "--set")) {
      char *v = option_value("baseline", argc, argv, &i, "section.key=value", &rc);
      if (v) set[nset++] = v;
    } else if (!strncmp(argv[i], "--set=", 6))
      set[nset++] = argv[i] + 6;
    else if (argv[i][0] == '-' && argv[i][1])
      rc = ISING_ERR(ISING_ERR_INPUT, "ising baseline: unknown option '%s' (allowed: --set section.key=value, --field FILE.h5, --force)", argv[i]);
    else if (!deck)
      deck = argv[i];
    else
      rc = ISING_ERR(ISING_ERR_INPUT, "ising baseline: more than one deck given");
  }
  if (!rc && !deck) rc = ISING_ERR(ISING_ERR_INPUT, "ising baseline: no deck given (usage: ising baseline DECK)");
  char *text = NULL;
  ising_config cfg;
  ising_config_defaults(&cfg);
  if (!rc) rc = read_deck(comm, deck, &text);
  if (!rc) rc = ising_config_parse_string(text, deck, nset, set, &cfg);
  if (!rc && rank == 0) rc = ising_baseline_print_table(stdout, &cfg);
  if (!rc) rc = lattice_bound(comm, &cfg, rank, field, force);
  ising_config_free(&cfg);
  free(text);
  free(set);
  return rc;
}

/* `ising info FILE`: what the file holds, and the checkpoint generations of
 * an output file.  Rank 0 only. */
static int cmd_info(MPI_Comm comm, int argc, char **argv) {
  int rank;
  ISING_MPI(MPI_Comm_rank(comm, &rank));
  ISING_CHECK(argc == 1, ISING_ERR_INPUT, "usage: ising info FILE.h5");
  int rc = ISING_OK;
  if (rank == 0) {
    rc = ising_output_describe(argv[0], stdout);
    if (!rc) {
      char cur[ISING_PATH_MAX + 16], old[ISING_PATH_MAX + 16];
      ising_ckpt_paths(argv[0], cur, old, sizeof cur);
      printf(" checkpoints:\n");
      if (access(cur, F_OK) == 0) ising_ckpt_describe(cur, stdout);
      else printf("  %s: none\n", cur);
      if (access(old, F_OK) == 0) ising_ckpt_describe(old, stdout);
      else printf("  %s: none\n", old);
    }
  }
  ISING_MPI(MPI_Bcast(&rc, 1, MPI_INT, 0, comm));
  if (rc && rank != 0) return ISING_ERR(rc, "ising info failed on rank 0");
  return rc;
}

int main(int argc, char **argv) {
  /* First, so that a stop signal is kept from here on (MPI_Init leaves these
   * handlers alone).  Before this line a signal kills the process, and one
   * sent to mpirun before it has started the ranks never reaches them. */
  ising_signals_install();
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
    fprintf(stderr, "ising: MPI_Init failed\n");
    return EXIT_FAILURE_RUNTIME;
  }
  MPI_Comm comm;
  int rank = 0, size = 1, rc = ISING_OK;
  if (MPI_Comm_dup(MPI_COMM_WORLD, &comm) != MPI_SUCCESS ||
      MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN) != MPI_SUCCESS ||
      MPI_Comm_rank(comm, &rank) != MPI_SUCCESS || MPI_Comm_size(comm, &size) != MPI_SUCCESS) {
    fprintf(stderr, "ising: MPI set-up failed\n");
    MPI_Abort(MPI_COMM_WORLD, EXIT_FAILURE_RUNTIME);
  }
  const char *cmd = argc > 1 ? argv[1] : "";
  if (strcmp(cmd, "run") != 0 && strcmp(cmd, "resume") != 0) ising_signals_release();
  if (!strcmp(cmd, "run")) {
    rc = cmd_run(comm, argc - 2, argv + 2);
  } else if (!strcmp(cmd, "resume")) {
    rc = cmd_resume(comm, argc - 2, argv + 2);
  } else if (!strcmp(cmd, "baseline")) {
    rc = cmd_baseline(comm, argc - 2, argv + 2);
  } else if (!strcmp(cmd, "info")) {
    rc = cmd_info(comm, argc - 2, argv + 2);
  } else if (!strcmp(cmd, "bench")) {
    rc = ising_bench(comm, argc - 2, argv + 2);
  } else if (!strcmp(cmd, "--version")) {
    if (rank == 0) printf("ising %s (git %s)\n", ising_version, ising_git_commit);
  } else if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    if (rank == 0) usage(stdout);
  } else {
    rc = ISING_ERR(ISING_ERR_INPUT, "unknown command '%s'", cmd);
    if (rank == 0) usage(stderr);
  }
  int status = rc == ISING_OK ? EXIT_FINISHED : rc == ISING_STOPPED ? EXIT_STOPPED
               : rc == ISING_ERR_INPUT ? EXIT_BAD_INPUT : EXIT_FAILURE_RUNTIME;
  if (rc != ISING_OK && rc != ISING_STOPPED) {
    /* Input errors are reached identically by every rank: rank 0 speaks.
     * Runtime failures may be local to a rank: that rank speaks, and the
     * job is aborted so that no rank waits forever in a collective.
     * A runtime failure that every rank agreed on (error.h) is held alike
     * by all: rank 0 speaks and every rank ends normally. */
    int alike = rc == ISING_ERR_INPUT || ising_err_agreed();
    if (rank == 0 || !alike)
      fprintf(stderr, "ising: error%s: %s\n", rc == ISING_ERR_INPUT ? "" : " (runtime)", ising_err_message());
    if (!alike && size > 1) MPI_Abort(MPI_COMM_WORLD, status);
  }
  MPI_Comm_free(&comm);
  ising_corr_global_finalize();
  /* HDF5 ends while MPI lives: a file left open by a failure is closed
   * here, not from MPI_Finalize's callbacks (where it cannot be) */
  /* after a failure HDF5 may still hold a file it cannot close, here or
   * in MPI_Finalize (silent: the error is said above) */
  if (status == EXIT_FAILURE_RUNTIME) ising_h5_watchdog_arm("", -1, ISING_H5_CLOSE_GRACE);
  if (H5close() < 0 && status == EXIT_FINISHED) {
    fprintf(stderr, "ising: error (runtime): HDF5 did not close cleanly\n");
    status = EXIT_FAILURE_RUNTIME;
  }
  MPI_Finalize();
  return status;
}
