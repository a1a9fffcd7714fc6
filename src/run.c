/*
 * run.c -- the engine (see run.h): set-up, the sweep loop, wrap-up.
 *
 * A sweep is two half sweeps, each followed by the halo refresh of the
 * colour just updated.  The sweep number t (0-based, counting
 * thermalisation) keys the random numbers, so the run is a pure function of
 * the deck.  Measurements are exact integers summed over the group, turned
 * into per-spin values in the same order on every rank count; rows are
 * buffered and appended to the output file in chunks of a fixed count (a
 * deterministic schedule, so the collective HDF5 calls line up on all
 * ranks).  The summary is computed on group rank 0 from the full series and
 * broadcast.
 */
#include "ising/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/h5io.h"
#include "ising/lattice.h"
#include "ising/layout.h"
#include "ising/model.h"
#include "ising/observe.h"
#include "ising/update.h"

#define FLUSH_ROWS 4096

typedef struct series {
  int64_t n, cap;
  int64_t *sweep;
  double *col[5]; /* e, m, m_abs, m2, m4 */
} series;

static int series_push(series *s, int64_t sweep, const double v[5]) {
  if (s->n == s->cap) {
    int64_t cap = s->cap ? 2 * s->cap : 1024;
    int64_t *sw = realloc(s->sweep, (size_t)cap * sizeof *sw);
    ISING_CHECK(sw, ISING_ERR_MEM, "out of memory (time series)");
    s->sweep = sw;
    for (int i = 0; i < 5; i++) {
      double *c = realloc(s->col[i], (size_t)cap * sizeof *c);
      ISING_CHECK(c, ISING_ERR_MEM, "out of memory (time series)");
      s->col[i] = c;
    }
    s->cap = cap;
  }
  s->sweep[s->n] = sweep;
  for (int i = 0; i < 5; i++) s->col[i][s->n] = v[i];
  s->n++;
  return ISING_OK;
}

static void series_free(series *s) {
  free(s->sweep);
  for (int i = 0; i < 5; i++) free(s->col[i]);
  memset(s, 0, sizeof *s);
}

static void format_duration(double s, char *buf, size_t size) {
  if (!(s >= 0) || s > 1e8) {
    snprintf(buf, size, "?");
    return;
  }
  long t = (long)(s + 0.5);
  snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

/* Exact references that exist for this deck (summary and output file). */
static void references(const ising_config *cfg, ising_run_result *r) {
  r->have_kaufman = r->have_onsager = r->have_enum = 0;
  if (cfg->dim == 2 && cfg->H == 0.0) {
    r->have_kaufman = ising_exact_kaufman(cfg->L[0], cfg->L[1], cfg->J, cfg->T, &r->kaufman) == ISING_OK;
    r->have_onsager = ising_exact_onsager(cfg->J, cfg->T, &r->onsager) == ISING_OK;
  }
  if (ising_config_sites(cfg) <= 20)
    r->have_enum = ising_exact_enumerate(cfg->dim, cfg->L, cfg->J, cfg->H, cfg->T, &r->enumeration) == ISING_OK;
  ising_err_clear();
}

static int write_results(ising_output *out, const ising_config *cfg, const ising_run_result *r) {
  const ising_summary *s = &r->summary;
  const char *names[] = {"T", "e", "e_err", "m_abs", "m_abs_err", "m2", "m2_err", "m4", "m4_err",
                         "U4", "U4_err", "chi", "chi_err", "chi_p", "chi_p_err", "c", "c_err",
                         "tau_e", "tau_m_abs", "bin_size", "n_measurements", "converged"};
  double v[] = {cfg->T, s->e, s->e_err, s->m_abs, s->m_abs_err, s->m2, s->m2_err, s->m4,
                s->m4_err, s->U4, s->U4_err, s->chi, s->chi_err, s->chi_p, s->chi_p_err, s->c,
                s->c_err, s->tau_e, s->tau_m_abs, (double)s->bin_size, (double)s->n,
                (double)s->converged};
  ISING_CALL(ising_output_write_values(out, "summary", (int)(sizeof v / sizeof v[0]), names, 1, v));
  if (r->have_kaufman) {
    const char *kn[] = {"lnZ", "f", "e", "s", "c"};
    const ising_exact_obs *k = &r->kaufman;
    double kv[] = {k->lnZ, k->f, k->e, k->s, k->c};
    ISING_CALL(ising_output_write_values(out, "reference/kaufman", 5, kn, 1, kv));
  }
  if (r->have_onsager) {
    const char *on[] = {"f", "e", "s", "c", "m_spontaneous"};
    const ising_exact_obs *k = &r->onsager;
    double ov[] = {k->f, k->e, k->s, k->c, k->m_abs};
    ISING_CALL(ising_output_write_values(out, "reference/onsager", 5, on, 1, ov));
  }
  if (r->have_enum) {
    const char *en[] = {"lnZ", "f", "e", "s", "c", "m", "m_abs", "m2", "m4", "U4", "chi", "chi_p"};
    const ising_exact_obs *k = &r->enumeration;
    double ev[] = {k->lnZ, k->f, k->e, k->s, k->c, k->m, k->m_abs, k->m2, k->m4, k->U4, k->chi, k->chi_p};
    ISING_CALL(ising_output_write_values(out, "reference/enumeration", 12, en, 1, ev));
  }
  return ISING_OK;
}

static void print_row(const char *name, double v, double err, const char *ref1, double r1,
                      const char *ref2, double r2) {
  printf("  %-6s %14.8f +- %-12.8f", name, v, err);
  if (ref1 && isfinite(r1)) printf("  %s %.8f (%+.1f sigma)", ref1, r1, err > 0 ? (v - r1) / err : 0.0);
  if (ref2 && isfinite(r2)) printf("  %s %.8f", ref2, r2);
  printf("\n");
}

static void print_summary(const ising_config *cfg, const ising_run_result *r) {
  const ising_summary *s = &r->summary;
  printf("\nsummary: %dD", cfg->dim);
  for (int k = 0; k < cfg->dim; k++) printf("%s%lld", k ? "x" : " L=", (long long)cfg->L[k]);
  printf(", T=%g, J=%g, H=%g, %lld measurements, bins of %lld, tau_int(e)=%.1f tau_int(|m|)=%.1f"
         " (in measurements)\n",
         cfg->T, cfg->J, cfg->H, (long long)s->n, (long long)s->bin_size, s->tau_e, s->tau_m_abs);
  const ising_exact_obs *fin = r->have_enum ? &r->enumeration : r->have_kaufman ? &r->kaufman : NULL;
  const char *fn = r->have_enum ? "exact(enum)" : "exact(L)";
  const ising_exact_obs *inf = r->have_onsager ? &r->onsager : NULL;
  print_row("e", s->e, s->e_err, fin ? fn : NULL, fin ? fin->e : NAN, inf ? "L=inf" : NULL, inf ? inf->e : NAN);
  print_row("|m|", s->m_abs, s->m_abs_err, r->have_enum ? fn : NULL, r->have_enum ? fin->m_abs : NAN,
            inf ? "L=inf" : NULL, inf ? inf->m_abs : NAN);
  print_row("m^2", s->m2, s->m2_err, r->have_enum ? fn : NULL, r->have_enum ? fin->m2 : NAN, NULL, NAN);
  print_row("c", s->c, s->c_err, fin ? fn : NULL, fin ? fin->c : NAN, inf ? "L=inf" : NULL, inf ? inf->c : NAN);
  print_row("chi", s->chi, s->chi_err, r->have_enum ? fn : NULL, r->have_enum ? fin->chi : NAN, NULL, NAN);
  print_row("chi'", s->chi_p, s->chi_p_err, r->have_enum ? fn : NULL, r->have_enum ? fin->chi_p : NAN, NULL, NAN);
  print_row("U4", s->U4, s->U4_err, r->have_enum ? fn : NULL, r->have_enum ? fin->U4 : NAN, NULL, NAN);
  if (!s->converged)
    printf("  warning: the binning analysis did not reach a plateau: the run is too short for "
           "its autocorrelation time, error bars are underestimated\n");
  printf("  %.3f flips/ns in total over %.1f s\n", r->flips_per_ns, r->wall_seconds);
  fflush(stdout);
}

typedef struct engine {
  const ising_config *cfg;
  ising_layout *lay;
  ising_lattice *lat;
  ising_model model;
  ising_stream stream;
  ising_output *out;
  series all;     /* the full series (group rank 0 keeps it for the summary) */
  int64_t flushed; /* rows of `all` already in the file */
} engine;

static int measure(engine *E, int64_t sweep) {
  int64_t v[2];
  ising_observe_block(E->lat, &v[0], &v[1]);
  ISING_CALL(ising_group_sum_i64(E->lay, v, 2));
  double N = (double)ising_config_sites(E->cfg);
  double m = (double)v[1] / N, m2 = m * m;
  double row[5] = {ising_model_energy(&E->model, v[0], v[1]) / N, m, fabs(m), m2, m2 * m2};
  return series_push(&E->all, sweep, row);
}

static int flush_rows(engine *E) {
  int64_t n = E->all.n - E->flushed, o = E->flushed;
  const series *s = &E->all;
  ISING_CALL(ising_output_append(E->out, n, s->sweep + o, s->col[0] + o, s->col[1] + o,
                                 s->col[2] + o, s->col[3] + o, s->col[4] + o));
  E->flushed = E->all.n;
  return ISING_OK;
}

static int sweep_once(engine *E, uint64_t t) {
  for (int c = 0; c < 2; c++) {
    ising_update_half(E->lat, &E->model, E->cfg->kernel, E->stream, t, c);
    ISING_CALL(ising_lattice_halo(E->lat, c));
  }
  return ISING_OK;
}

static int engine_loop(engine *E, const ising_run_options *opt, ising_run_result *res) {
  const ising_config *cfg = E->cfg;
  const int64_t total = cfg->thermalization + cfg->sweeps;
  const double N = (double)ising_config_sites(cfg);
  const int talk = E->lay->world_rank == 0 && !opt->quiet;
  double t0 = MPI_Wtime(), last = t0;
  for (int64_t t = 0; t < total; t++) {
    ISING_CALL(sweep_once(E, (uint64_t)t));
    int64_t done = t + 1 - cfg->thermalization;
    if (done > 0 && done % cfg->interval == 0) {
      ISING_CALL(measure(E, t));
      if (E->all.n - E->flushed >= FLUSH_ROWS) ISING_CALL(flush_rows(E));
    }
    if (talk && cfg->progress > 0) {
      double now = MPI_Wtime();
      if (now - last >= cfg->progress) {
        double rate = (double)(t + 1) * N / (now - t0) * 1e-9;
        char el[32], eta[32];
        format_duration(now - t0, el, sizeof el);
        format_duration((now - t0) / (double)(t + 1) * (double)(total - t - 1), eta, sizeof eta);
        printf("ising: sweep %lld/%lld (%.1f%%)%s, %.3f flips/ns, elapsed %s, ETA %s\n",
               (long long)(t + 1), (long long)total, 100.0 * (double)(t + 1) / (double)total,
               done <= 0 ? " thermalising" : "", rate, el, eta);
        fflush(stdout);
        last = now;
      }
    }
  }
  ISING_CALL(flush_rows(E));
  double wall = MPI_Wtime() - t0;
  ISING_CALL(ising_world_max_double(E->lay, &wall));
  res->wall_seconds = wall;
  res->sweeps_done = total;
  res->flips_per_ns = (double)total * N / wall * 1e-9;
  return ISING_OK;
}

static int check_measurements(const ising_config *cfg) {
  int64_t n = cfg->sweeps / cfg->interval;
  char w1[256], w2[256];
  /* the sweep number is 32 bits of the random-number counter (rng.h) */
  if (cfg->thermalization + cfg->sweeps > (int64_t)UINT32_MAX)
    return ISING_ERR(ISING_ERR_INPUT,
                     "%s and %s: at most %lld sweeps in all (the sweep is a 32-bit counter of "
                     "the random numbers)",
                     ising_config_where(cfg, "montecarlo", "thermalization", w1, sizeof w1),
                     ising_config_where(cfg, "montecarlo", "sweeps", w2, sizeof w2),
                     (long long)UINT32_MAX);
  if (n >= ISING_STATS_MIN_BINS) return ISING_OK;
  return ISING_ERR(ISING_ERR_INPUT,
                   "%s and %s: only %lld measurements; error bars by binning need at least %d "
                   "(sweeps / interval >= %d)",
                   ising_config_where(cfg, "montecarlo", "sweeps", w1, sizeof w1),
                   ising_config_where(cfg, "measurement", "interval", w2, sizeof w2),
                   (long long)n, ISING_STATS_MIN_BINS, ISING_STATS_MIN_BINS);
}

static int run_body(engine *E, MPI_Comm comm, const ising_run_options *opt, ising_run_result *res) {
  const ising_config *cfg = E->cfg;
  ISING_CALL(check_measurements(cfg));
  ISING_CALL(ising_layout_create(comm, cfg, 0, &E->lay));
  ISING_CALL(ising_output_check(E->lay->group, cfg, opt->force));
  ISING_CALL(ising_model_init(&E->model, cfg->dim, cfg->J, cfg->H, cfg->T, cfg->algorithm));
  ISING_CALL(ising_lattice_create(E->lay, &E->lat));
  E->stream.key = ising_rng_key_from_seed(cfg->seed);
  E->stream.replica = 0;
  if (cfg->start == ISING_START_HOT)
    ISING_CALL(ising_lattice_fill_hot(E->lat, E->stream.key, E->stream.replica));
  else
    ISING_CALL(ising_lattice_fill_cold(E->lat, 1));
  const char *kname = ising_update_kernel_name(cfg->kernel);
  if (E->lay->world_rank == 0 && !opt->quiet) {
    int64_t n[3];
    ising_lattice_extent(E->lat, n, NULL);
    printf("ising: %dD lattice", cfg->dim);
    for (int k = 0; k < cfg->dim; k++) printf("%s%lld", k ? "x" : " ", (long long)cfg->L[k]);
    printf(" on %d rank%s, process grid", E->lay->world_size, E->lay->world_size > 1 ? "s" : "");
    for (int k = 0; k < cfg->dim; k++) printf("%s%d", k ? "x" : " ", E->lay->procs[k]);
    printf(" (x first), block");
    for (int k = 0; k < cfg->dim; k++) printf("%s%lld", k ? "x" : " ", (long long)n[k]);
    printf(" on rank 0, %.3f bytes/site with halos; %s, kernel %s, T=%g, %lld+%lld sweeps -> %s\n",
           (double)ising_lattice_bytes(E->lat) / (double)(n[0] * n[1] * n[2]),
           cfg->algorithm == ISING_ALG_HEATBATH ? "heat bath" : "Metropolis", kname, cfg->T,
           (long long)cfg->thermalization, (long long)cfg->sweeps, cfg->file);
    fflush(stdout);
  }
  ISING_CALL(ising_output_create(E->lay->group, cfg, opt->force, E->lay->procs, kname, &E->out));
  ISING_CALL(engine_loop(E, opt, res));
  if (E->lay->group_rank == 0) {
    double beta = 1.0 / cfg->T;
    ISING_CALL(ising_summary_compute(E->all.col[0], E->all.col[2], E->all.col[3], E->all.col[4],
                                     E->all.n, beta, ising_config_sites(cfg), &res->summary));
  }
  ISING_CALL(ising_group_bcast(E->lay, &res->summary, (int)sizeof res->summary, 0));
  references(cfg, res);
  ISING_CALL(write_results(E->out, cfg, res));
  ISING_CALL(ising_output_finish(E->out, "finished", res->sweeps_done, res->wall_seconds,
                                 res->flips_per_ns));
  ISING_CALL(ising_output_close(&E->out));
  if (E->lay->world_rank == 0 && !opt->quiet) print_summary(cfg, res);
  return ISING_OK;
}

int ising_run(MPI_Comm comm, const ising_config *cfg, const ising_run_options *opt,
              ising_run_result *res) {
  ising_run_options none = {0, 0};
  ising_run_result local;
  if (!opt) opt = &none;
  if (!res) res = &local;
  memset(res, 0, sizeof *res);
  engine E = {0};
  E.cfg = cfg;
  int rc = run_body(&E, comm, opt, res);
  /* Clean-up errors must not mask the first one. */
  int rc2 = ising_output_close(&E.out);
  ising_lattice_destroy(&E.lat);
  int rc3 = ising_layout_destroy(&E.lay);
  series_free(&E.all);
  if (rc) return rc;
  return rc2 ? rc2 : rc3;
}
