/*
 * bench.c -- `ising bench`: the sweep kernel alone, timed.
 *
 * Sets up the same layout, lattice and model as a run (hot start), performs
 * a few warm-up sweeps, then times `repeat` blocks of `sweeps` full sweeps
 * (both half sweeps and both halo refreshes, no measurement, no I/O) and
 * reports spin flips attempted per nanosecond: in total and per rank (per
 * core when one rank runs on each core), median over the blocks, slowest
 * rank's time.  The kernel is any backend of the registry (sweeper.h), run
 * through its operations table on one replica; a backend with a benchmark
 * of its own (msc-async: 64 replicas in one word) runs that instead, and a
 * backend may add lines of its own (msc: the random-bit economy).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ising/disorder.h"
#include "ising/error.h"
#include "ising/lattice.h"
#include "ising/layout.h"
#include "ising/run.h"
#include "ising/sweeper.h"

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
  char names[256], options[512];
  snprintf(options, sizeof options, "--dim 2|3, --L N (even), --T T, --H H, --sweeps N, "
           "--repeat N, --algorithm metropolis|heatbath|swendsen-wang|wolff, --kernel %s, "
           "--couplings uniform|bimodal|gaussian, --dilution P, --fields none|bimodal|gaussian, "
           "--field-strength h, --rng philox|ars",
           ising_sweeper_names(names, sizeof names, 1));
  static const char *const known[] = {"--dim", "--L", "--T", "--H", "--sweeps", "--repeat",
                                      "--algorithm", "--kernel", "--couplings", "--dilution",
                                      "--fields", "--field-strength", "--rng"};
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
    else if (!strcmp(a, "--algorithm") && !strcmp(v, "swendsen-wang"))
      cfg.algorithm = ISING_ALG_SWENDSEN_WANG;
    else if (!strcmp(a, "--algorithm") && !strcmp(v, "wolff"))
      cfg.algorithm = ISING_ALG_WOLFF;
    else if (!strcmp(a, "--couplings") && (!strcmp(v, "uniform") || !strcmp(v, "bimodal") || !strcmp(v, "gaussian"))) {
      cfg.disorder = 1;
      cfg.dis_couplings = !strcmp(v, "uniform") ? ISING_DIS_UNIFORM : !strcmp(v, "bimodal") ? ISING_DIS_BIMODAL : ISING_DIS_GAUSSIAN;
    } else if (!strcmp(a, "--fields") && (!strcmp(v, "none") || !strcmp(v, "bimodal") || !strcmp(v, "gaussian"))) {
      cfg.disorder = 1;
      cfg.dis_fields = !strcmp(v, "none") ? ISING_FIELDS_NONE : !strcmp(v, "bimodal") ? ISING_FIELDS_BIMODAL : ISING_FIELDS_GAUSSIAN;
    } else if (!strcmp(a, "--dilution")) {
      ISING_CALL(parse_double(a, v, &cfg.bond_dilution));
      ISING_CHECK(cfg.bond_dilution >= 0 && cfg.bond_dilution <= 1, ISING_ERR_INPUT,
                  "ising bench: --dilution %s: expected a number between 0 and 1", v);
      cfg.disorder = 1;
    } else if (!strcmp(a, "--field-strength")) {
      ISING_CALL(parse_double(a, v, &cfg.field_strength));
      ISING_CHECK(cfg.field_strength >= 0, ISING_ERR_INPUT,
                  "ising bench: --field-strength %s: expected a number >= 0", v);
    } else if (!strcmp(a, "--rng") && (!strcmp(v, "philox") || !strcmp(v, "ars"))) {
      cfg.rng = !strcmp(v, "ars") ? ISING_RNG_ARS : ISING_RNG_PHILOX;
      ISING_CHECK(cfg.rng != ISING_RNG_ARS || ising_rng_ars_available(), ISING_ERR_INPUT,
                  "ising bench: --rng ars needs a CPU with AES-NI, which this one lacks");
    } else if (!strcmp(a, "--kernel") && ising_sweeper_find(v) && ising_sweeper_find(v)->deck != 2)
      snprintf(cfg.kernel, sizeof cfg.kernel, "%s", v);
    else
      return ISING_ERR(ISING_ERR_INPUT, "ising bench: %s %s: expected %s", a, v,
                       !strcmp(a, "--algorithm") ? "metropolis, heatbath, swendsen-wang or wolff"
                       : !strcmp(a, "--couplings") ? "uniform, bimodal or gaussian"
                       : !strcmp(a, "--fields") ? "none, bimodal or gaussian"
                       : !strcmp(a, "--rng") ? "philox or ars"
                                                 : ising_sweeper_names(names, sizeof names, 1));
  }
  ISING_CHECK(L % 2 == 0, ISING_ERR_INPUT, "ising bench: --L %ld: L must be even", L);
  ISING_CHECK((cfg.dis_fields != ISING_FIELDS_NONE) == (cfg.field_strength > 0), ISING_ERR_INPUT,
              "ising bench: --fields bimodal|gaussian and --field-strength h > 0 go together");
  char scale_why[512];
  ISING_CHECK(ising_config_check_scales((int)dim, cfg.J, cfg.H, cfg.temps[0], scale_why,
                                        sizeof scale_why) == ISING_OK,
              ISING_ERR_INPUT, "ising bench: --T %s --H %s: %s", T_text, H_text, scale_why);
  cfg.dim = (int)dim;
  for (int k = 0; k < 3; k++) cfg.L[k] = k < dim ? L : 1;
  ISING_CALL(ising_sweeper_isa_check());
  const char *backend = ising_config_backend(&cfg);
  const ising_sweeper_ops *ops = ising_sweeper_find(backend);
  char why[512] = "";
  ISING_CHECK(ops->check(&cfg, why, sizeof why), ISING_ERR_INPUT, "ising bench: --%s %s: %s",
              ising_algorithm_is_cluster(cfg.algorithm) ? "algorithm" : "kernel", backend, why);
  if (ops->bench) {
    /* one process's benchmark; every rank would run its own copy */
    int rank = 0;
    ISING_MPI(MPI_Comm_rank(comm, &rank));
    return rank == 0 ? ops->bench(&cfg, sweeps, repeat) : ISING_OK;
  }
  ising_sweeper_needs needs;
  ops->needs(&cfg, &needs);
  int nranks = 1;
  ISING_MPI(MPI_Comm_size(comm, &nranks));
  /* the bench spreads one lattice over every rank (run.c refuses the same
   * for a deck, naming ranks_per_replica, which the bench does not have) */
  ISING_CHECK(!needs.whole_replica || nranks == 1, ISING_ERR_INPUT,
              "ising bench: --%s %s keeps a lattice whole on one rank and the bench spreads one "
              "lattice over all %d ranks: run it on one rank",
              ising_algorithm_is_cluster(cfg.algorithm) ? "algorithm" : "kernel", backend, nranks);

  ising_layout *lay = NULL;
  ising_lattice *lat = NULL;
  ising_sweeper *sw = NULL;
  ising_timer tm = {{0}};
  double *rate = calloc((size_t)repeat, sizeof *rate);
  ISING_CHECK(rate, ISING_ERR_MEM, "out of memory");
  int rc = ising_layout_create_rows(comm, &cfg, 0, needs.whole_x, &lay);
  if (!rc) rc = ising_lattice_create(lay, &lat);
  ising_model m;
  if (!rc) rc = ising_model_init(&m, cfg.dim, cfg.J, cfg.H, cfg.temps[0], cfg.algorithm);
  ising_rng_key key = ising_rng_key_from_seed(cfg.seed);
  key.alg = (uint32_t)cfg.rng;
  if (!rc) rc = ising_lattice_fill_hot(lat, key, 0);
  const int id = 0, temp_of = 0;
  ising_disorder *dis = NULL; /* one sample: the deck's couplings (uniform without options) */
  if (!rc) rc = ising_disorder_create(&cfg, &dis);
  ising_sweeper_init in = {&cfg, lay, 1, 1, &id, &lat, key, &tm, dis ? ising_disorder_couplings(dis) : NULL, 1};
  if (!rc) rc = ising_sweeper_create(&in, &sw);
  if (!rc) rc = sw->ops->set_temperatures(sw->state, &m, &temp_of);
  if (!rc) rc = sw->ops->load(sw->state);
  double N = (double)ising_config_sites(&cfg);
  uint64_t t = 0;
  for (int w = 0; w < 3 && !rc; w++, t++) rc = sw->ops->sweep(sw->state, t);
  if (!rc && ops->bench_report) rc = ops->bench_report(sw->state, NULL, 0, 0, 0);
  memset(&tm, 0, sizeof tm);
  double t_sweeps = 0;
  for (long r = 0; r < repeat && !rc; r++) {
    rc = ising_mpi_check(MPI_Barrier(lay->world), "MPI_Barrier", __FILE__, __LINE__);
    double t0 = ising_timer_now();
    for (long s = 0; s < sweeps && !rc; s++, t++) rc = sw->ops->sweep(sw->state, t);
    double dt = ising_timer_now() - t0;
    if (!rc) rc = ising_world_max_double(lay, &dt);
    rate[r] = N * (double)sweeps / dt * 1e-9;
    t_sweeps += dt;
  }
  double halo = tm.total[ISING_PHASE_HALO];
  if (!rc) rc = ising_world_max_double(lay, &halo);
  if (!rc && lay->world_rank == 0) {
    double *sorted = malloc((size_t)repeat * sizeof *sorted);
    if (sorted) {
      memcpy(sorted, rate, (size_t)repeat * sizeof *sorted);
      qsort(sorted, (size_t)repeat, sizeof *sorted, cmp_double);
      double med = repeat % 2 ? sorted[repeat / 2] : 0.5 * (sorted[repeat / 2 - 1] + sorted[repeat / 2]);
      int64_t n[3];
      ising_lattice_extent(lat, n, NULL);
      static const char *const ck[] = {"uniform", "bimodal", "gaussian"}, *const fk[] = {"none", "bimodal", "gaussian"};
      printf("bench: %ldD L=%ld T=%g H=%g %s, kernel %s, rng %s, couplings %s%s", dim, L,
             cfg.temps[0], cfg.H, ising_algorithm_name(cfg.algorithm), ops->path(),
             ising_rng_alg_name(cfg.rng), ck[cfg.dis_couplings], cfg.bond_dilution > 0 ? " diluted" : "");
      if (cfg.dis_fields != ISING_FIELDS_NONE) printf(", %s fields %g", fk[cfg.dis_fields], cfg.field_strength);
      printf(", %d rank%s (grid", lay->world_size, lay->world_size > 1 ? "s" : "");
      for (int k = 0; k < cfg.dim; k++) printf("%s%d", k ? "x" : " ", lay->procs[k]);
      printf("), %ld sweeps x %ld repeats\n", sweeps, repeat);
      printf("bench: spin flips per ns: median %.3f per rank, %.3f in total; each repeat (total):",
             med / lay->world_size, med);
      for (long r = 0; r < repeat; r++) printf(" %.3f", rate[r]);
      double bytes = (double)ising_lattice_bytes(lat) + (ops->bytes ? (double)ops->bytes(sw->state) : 0);
      printf("\nbench: memory %.4f bytes/site including halos on rank 0\n",
             bytes / (double)(n[0] * n[1] * n[2]));
      printf("bench: time by phase (slowest rank): %s %.4g s, %s %.4g s\n",
             ising_timer_name(ISING_PHASE_SWEEP), t_sweeps - halo, ising_timer_name(ISING_PHASE_HALO),
             halo);
      free(sorted);
    }
  }
  fflush(stdout);
  /* the backend's own lines (collective) */
  if (!rc && ops->bench_report)
    rc = ops->bench_report(sw->state, stdout, t_sweeps, sweeps,
                           N * (double)sweeps * (double)repeat / lay->world_size);
  free(rate);
  ising_sweeper_destroy(&sw);
  ising_disorder_destroy(&dis);
  ising_lattice_destroy(&lat);
  int rc2 = ising_layout_destroy(&lay);
  return rc ? rc : rc2;
}
