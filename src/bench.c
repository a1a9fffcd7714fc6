/*
 * bench.c -- `ising bench`: the sweep kernel alone, timed.
 *
 * Sets up the same layout, lattice and model as a run (hot start), performs
 * a few warm-up sweeps, then times `repeat` blocks of `sweeps` full sweeps
 * (both half sweeps and both halo refreshes, no measurement, no I/O) and
 * reports spin flips attempted per nanosecond: in total and per rank (per
 * core when one rank runs on each core), median over the blocks, slowest
 * rank's time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/lattice.h"
#include "ising/layout.h"
#include "ising/msc.h"
#include "ising/msc_async.h"
#include "ising/run.h"
#include "ising/update.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int parse_long(const char *opt, const char *s, long lo, long hi, long *v) {
  char *end;
  long x = strtol(s, &end, 10);
  ISING_CHECK(*s && !*end && x >= lo && x <= hi, ISING_ERR_INPUT,
              "ising bench: %s %s: expected an integer in [%ld, %ld]", opt, s, lo, hi);
  *v = x;
  return ISING_OK;
}

static int parse_double(const char *opt, const char *s, double *v) {
  char *end;
  double x = strtod(s, &end);
  ISING_CHECK(*s && !*end && isfinite(x), ISING_ERR_INPUT, "ising bench: %s %s: expected a number", opt, s);
  *v = x;
  return ISING_OK;
}

int ising_bench(MPI_Comm comm, int argc, char **argv) {
  ising_config cfg;
  ising_config_defaults(&cfg);
  cfg.L[0] = cfg.L[1] = cfg.L[2] = 2048;
  cfg.temps[0] = 2.269;
  cfg.n_temps = 1;
  long sweeps = 20, repeat = 5, dim = 2, L = 2048;
  static const char options[] = "--dim 2|3, --L N (even), --T T, --H H, --sweeps N, --repeat N, "
                                 "--algorithm metropolis|heatbath, --kernel "
                                 "fast|reference|portable|msc|msc-async";
  static const char *const known[] = {"--dim", "--L", "--T", "--H", "--sweeps", "--repeat",
                                      "--algorithm", "--kernel"};
  const char *T_text = "2.269", *H_text = "0";
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    int is_known = 0;
    for (size_t k = 0; k < sizeof known / sizeof *known; k++) is_known |= !strcmp(a, known[k]);
    ISING_CHECK(is_known, ISING_ERR_INPUT, "ising bench: unknown option '%s'; options: %s", a,
                options);
    ISING_CHECK(i + 1 < argc, ISING_ERR_INPUT, "ising bench: %s needs a value; options: %s", a,
                options);
    const char *v = argv[++i];
    if (!strcmp(a, "--dim"))
      ISING_CALL(parse_long(a, v, 2, 3, &dim));
    else if (!strcmp(a, "--L"))
      ISING_CALL(parse_long(a, v, 2, 1L << 20, &L));
    else if (!strcmp(a, "--T") && (T_text = v))
      ISING_CALL(parse_double(a, v, &cfg.temps[0]));
    else if (!strcmp(a, "--H") && (H_text = v))
      ISING_CALL(parse_double(a, v, &cfg.H));
    else if (!strcmp(a, "--sweeps"))
      ISING_CALL(parse_long(a, v, 1, 1L << 30, &sweeps));
    else if (!strcmp(a, "--repeat"))
      ISING_CALL(parse_long(a, v, 1, 1000, &repeat));
    else if (!strcmp(a, "--algorithm") && !strcmp(v, "metropolis"))
      cfg.algorithm = ISING_ALG_METROPOLIS;
    else if (!strcmp(a, "--algorithm") && !strcmp(v, "heatbath"))
      cfg.algorithm = ISING_ALG_HEATBATH;
    else if (!strcmp(a, "--kernel") && !strcmp(v, "fast"))
      cfg.kernel = ISING_KERNEL_FAST;
    else if (!strcmp(a, "--kernel") && !strcmp(v, "reference"))
      cfg.kernel = ISING_KERNEL_REFERENCE;
    else if (!strcmp(a, "--kernel") && !strcmp(v, "portable"))
      cfg.kernel = ISING_KERNEL_PORTABLE;
    else if (!strcmp(a, "--kernel") && !strcmp(v, "msc"))
      cfg.kernel = ISING_KERNEL_MSC;
    else if (!strcmp(a, "--kernel") && !strcmp(v, "msc-async"))
      cfg.kernel = ISING_KERNEL_MSC_ASYNC; /* 64 replicas in the bits of a word */
    else
      return ISING_ERR(ISING_ERR_INPUT, "ising bench: %s %s: expected %s", a, v,
                       !strcmp(a, "--algorithm") ? "metropolis or heatbath"
                                                 : "fast, reference, portable, msc or msc-async");
  }
  ISING_CHECK(L % 2 == 0, ISING_ERR_INPUT, "ising bench: --L %ld: L must be even", L);
  char why[512];
  ISING_CHECK(ising_config_check_scales((int)dim, cfg.J, cfg.H, cfg.temps[0], why, sizeof why) ==
                  ISING_OK,
              ISING_ERR_INPUT, "ising bench: --T %s --H %s: %s", T_text, H_text, why);
  ISING_CHECK(cfg.kernel != ISING_KERNEL_MSC || cfg.algorithm == ISING_ALG_METROPOLIS,
              ISING_ERR_INPUT, "ising bench: --kernel msc does Metropolis only");
  cfg.dim = (int)dim;
  for (int k = 0; k < 3; k++) cfg.L[k] = k < dim ? L : 1;
  if (cfg.kernel == ISING_KERNEL_MSC_ASYNC) {
    /* one process's words; every rank would run its own copy */
    int rank = 0;
    ISING_MPI(MPI_Comm_rank(comm, &rank));
    ISING_CHECK(cfg.algorithm == ISING_ALG_METROPOLIS && cfg.H == 0, ISING_ERR_INPUT,
                "ising bench: --kernel msc-async runs Metropolis at H = 0");
    return rank == 0 ? ising_msc_async_bench(cfg.dim, L, cfg.temps[0], sweeps, repeat) : ISING_OK;
  }

  ising_layout *lay = NULL;
  ising_lattice *lat = NULL;
  double *rate = calloc((size_t)repeat, sizeof *rate);
  ISING_CHECK(rate, ISING_ERR_MEM, "out of memory");
  int rc = ising_layout_create(comm, &cfg, 0, &lay);
  if (!rc) rc = ising_lattice_create(lay, &lat);
  ising_model m;
  if (!rc) rc = ising_model_init(&m, cfg.dim, cfg.J, cfg.H, cfg.temps[0], cfg.algorithm);
  ising_stream st = {ising_rng_key_from_seed(cfg.seed), 0};
  if (!rc) rc = ising_lattice_fill_hot(lat, st.key, 0);
  double N = (double)ising_config_sites(&cfg);
  uint64_t t = 0;
  for (int w = 0; w < 3 && !rc; w++, t++)
    for (int c = 0; c < 2 && !rc; c++) {
      rc = ising_update_half(lat, &m, cfg.kernel, st, t, c, NULL);
      if (!rc) rc = ising_lattice_halo(lat, c);
    }
  int64_t st0[4];
  if (lat) ising_msc_stats(lat, st0);
  for (long r = 0; r < repeat && !rc; r++) {
    rc = ising_mpi_check(MPI_Barrier(lay->world), "MPI_Barrier", __FILE__, __LINE__);
    double t0 = MPI_Wtime();
    for (long s = 0; s < sweeps && !rc; s++, t++)
      for (int c = 0; c < 2 && !rc; c++) {
        rc = ising_update_half(lat, &m, cfg.kernel, st, t, c, NULL);
        if (!rc) rc = ising_lattice_halo(lat, c);
      }
    double dt = MPI_Wtime() - t0;
    if (!rc) rc = ising_world_max_double(lay, &dt);
    rate[r] = N * (double)sweeps / dt * 1e-9;
  }
  /* MSC: the random-bit economy, and the time the Philox blocks alone take
   * (the same fills the kernel makes, for the same sweeps) */
  double t_sweeps = 0, t_rng = 0;
  int64_t st1[4] = {0, 0, 0, 0};
  if (!rc && cfg.kernel == ISING_KERNEL_MSC) {
    ising_msc_stats(lat, st1);
    for (int i = 0; i < 4; i++) st1[i] -= st0[i];
    for (long r = 0; r < repeat; r++) t_sweeps += N * (double)sweeps / (rate[r] * 1e9);
    double t0 = MPI_Wtime();
    ising_msc_rng_only(lat, st, st1[3], st1[0]);
    t_rng = MPI_Wtime() - t0;
    rc = ising_world_max_double(lay, &t_rng);
  }
  if (!rc && lay->world_rank == 0) {
    double *sorted = malloc((size_t)repeat * sizeof *sorted);
    if (sorted) {
      memcpy(sorted, rate, (size_t)repeat * sizeof *sorted);
      qsort(sorted, (size_t)repeat, sizeof *sorted, cmp_double);
      double med = repeat % 2 ? sorted[repeat / 2] : 0.5 * (sorted[repeat / 2 - 1] + sorted[repeat / 2]);
      int64_t n[3];
      ising_lattice_extent(lat, n, NULL);
      printf("bench: %ldD L=%ld T=%g H=%g %s, kernel %s, %d rank%s (grid", dim, L, cfg.temps[0], cfg.H,
             cfg.algorithm == ISING_ALG_HEATBATH ? "heat bath" : "Metropolis",
             ising_update_kernel_name(cfg.kernel), lay->world_size, lay->world_size > 1 ? "s" : "");
      for (int k = 0; k < cfg.dim; k++) printf("%s%d", k ? "x" : " ", lay->procs[k]);
      printf("), %ld sweeps x %ld repeats\n", sweeps, repeat);
      printf("bench: spin flips per ns: median %.3f per rank, %.3f in total; each repeat (total):",
             med / lay->world_size, med);
      for (long r = 0; r < repeat; r++) printf(" %.3f", rate[r]);
      printf("\nbench: memory %.4f bytes/site including halos on rank 0\n",
             (double)ising_lattice_bytes(lat) / (double)(n[0] * n[1] * n[2]));
      if (cfg.kernel == ISING_KERNEL_MSC && st1[1] > 0) {
        double sites = N * (double)sweeps * (double)repeat / lay->world_size;
        printf("bench: msc on rank 0: %.4f decisions needing random bits per site, %.4f random "
               "bits per such decision, %.3f random bits per site (%.3f drawn from Philox)\n",
               (double)st1[1] / sites, (double)st1[2] / (double)st1[1], (double)st1[2] / sites,
               128.0 * (double)st1[3] / sites);
        printf("bench: msc: drawing those Philox blocks alone takes %.1f%% of the sweep time\n",
               100.0 * t_rng / t_sweeps);
      }
      free(sorted);
    }
  }
  free(rate);
  ising_lattice_destroy(&lat);
  int rc2 = ising_layout_destroy(&lay);
  return rc ? rc : rc2;
}
