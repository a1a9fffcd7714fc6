/*
 * run.c -- the engine (see run.h): set-up, the sweep loop, wrap-up.
 *
 * R = n_T x copies replicas are spread over the replica groups of the layout
 * (replica r lives in group r mod G); a group sweeps each of its replicas in
 * turn.  A sweep of a replica is two half sweeps, each followed by the halo
 * refresh of the colour just updated, with the acceptance tables of the
 * temperature the replica holds now.  The sweep number t (0-based, counting
 * thermalisation) and the replica id key the random numbers, so the run is
 * a pure function of the deck whatever the rank layout.
 *
 * At a measurement or an exchange step the bond sums and magnetisations of
 * all replicas (exact integers) are summed over the world in one call, so
 * every rank holds every replica's energy: the exchange decisions
 * (tempering.c) are computed identically everywhere and only energies cross
 * groups.  Rows are filed by temperature, buffered, and appended to the
 * output in chunks of a fixed count (a deterministic schedule, so the
 * collective HDF5 calls line up).  With adapt = feedback, the first half of
 * the thermalisation is split into rounds of doubling length after each of
 * which the ladder is re-optimised; the ladder is frozen for the second
 * half and the measurements.  Summaries are computed on world rank 0 from
 * the full series and broadcast.
 */
#include "ising/run.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ising/baseline.h"
#include "ising/checkpoint.h"
#include "ising/corr.h"
#include "ising/error.h"
#include "ising/freeenergy.h"
#include "ising/h5io.h"
#include "ising/lattice.h"
#include "ising/layout.h"
#include "ising/model.h"
#include "ising/observe.h"
#include "ising/tempering.h"
#include "ising/sweeper.h"
#include "ising/timer.h"

#define FLUSH_ROWS 4096

#define NCOL 7 /* e, m, m_abs, m2, m4, S0, Skmin (the last two with correlation) */

typedef struct series {
  int64_t n, cap;
  int64_t *sweep;
  double *col[NCOL];
} series;

static int series_push(series *s, int64_t sweep, const double v[NCOL]) {
  if (s->n == s->cap) {
    int64_t cap = s->cap ? 2 * s->cap : 1024;
    int64_t *sw = realloc(s->sweep, (size_t)cap * sizeof *sw);
    ISING_CHECK(sw, ISING_ERR_MEM, "out of memory (time series)");
    s->sweep = sw;
    for (int i = 0; i < NCOL; i++) {
      double *c = realloc(s->col[i], (size_t)cap * sizeof *c);
      ISING_CHECK(c, ISING_ERR_MEM, "out of memory (time series)");
      s->col[i] = c;
    }
    s->cap = cap;
  }
  s->sweep[s->n] = sweep;
  for (int i = 0; i < NCOL; i++) s->col[i][s->n] = v[i];
  s->n++;
  return ISING_OK;
}

static void series_free(series *s) {
  free(s->sweep);
  for (int i = 0; i < NCOL; i++) free(s->col[i]);
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

/* Exact references at the first temperature (the single-T summary table). */
static void references(const ising_config *cfg, ising_run_result *r) {
  r->have_kaufman = r->have_onsager = r->have_enum = 0;
  double T = r->T[0];
  if (cfg->dim == 2 && cfg->H == 0.0) {
    r->have_kaufman = ising_exact_kaufman(cfg->L[0], cfg->L[1], cfg->J, T, &r->kaufman) == ISING_OK;
    r->have_onsager = ising_exact_onsager(cfg->J, T, &r->onsager) == ISING_OK;
  }
  if (ising_config_sites(cfg) <= 20)
    r->have_enum = ising_exact_enumerate(cfg->dim, cfg->L, cfg->J, cfg->H, T, &r->enumeration) == ISING_OK;
  ising_err_clear();
}

/* /summary and /reference, one entry per temperature of the final ladder. */
static int write_results(ising_output *out, const ising_config *cfg, int n_T, const double *T,
                         const ising_summary *sum) {
  enum { NS = 26, NK = 5, NO = 5, NE = 12 };
  const char *names[NS] = {"T", "e", "e_err", "m_abs", "m_abs_err", "m2", "m2_err", "m4", "m4_err",
                           "U4", "U4_err", "chi", "chi_err", "chi_p", "chi_p_err", "c", "c_err",
                           "tau_e", "tau_m_abs", "bin_size", "n_measurements", "converged",
                           "xi", "xi_err", "xi_over_L", "xi_over_L_err"};
  const char *kn[NK] = {"lnZ", "f", "e", "s", "c"};
  const char *on[NO] = {"f", "e", "s", "c", "m_spontaneous"};
  const char *en[NE] = {"lnZ", "f", "e", "s", "c", "m", "m_abs", "m2", "m4", "U4", "chi", "chi_p"};
  double *v = malloc((size_t)(NS + NK + NO + NE) * (size_t)n_T * sizeof *v);
  ISING_CHECK(v, ISING_ERR_MEM, "out of memory (results)");
  double *kv = v + NS * n_T, *ov = kv + NK * n_T, *ev = ov + NO * n_T;
  int kauf = cfg->dim == 2 && cfg->H == 0.0, enumerate = ising_config_sites(cfg) <= 20;
  for (int t = 0; t < n_T; t++) {
    const ising_summary *s = &sum[t];
    double row[NS] = {T[t], s->e, s->e_err, s->m_abs, s->m_abs_err, s->m2, s->m2_err, s->m4,
                      s->m4_err, s->U4, s->U4_err, s->chi, s->chi_err, s->chi_p, s->chi_p_err, s->c,
                      s->c_err, s->tau_e, s->tau_m_abs, (double)s->bin_size, (double)s->n,
                      (double)s->converged, s->xi, s->xi_err, s->xi / (double)cfg->L[0],
                      s->xi_err / (double)cfg->L[0]};
    for (int q = 0; q < NS; q++) v[q * n_T + t] = row[q];
    ising_exact_obs k, o, x;
    if (kauf && ising_exact_kaufman(cfg->L[0], cfg->L[1], cfg->J, T[t], &k) == ISING_OK) {
      double kr[NK] = {k.lnZ, k.f, k.e, k.s, k.c};
      for (int q = 0; q < NK; q++) kv[q * n_T + t] = kr[q];
    } else {
      kauf = 0;
    }
    if (kauf && ising_exact_onsager(cfg->J, T[t], &o) == ISING_OK) {
      double orow[NO] = {o.f, o.e, o.s, o.c, o.m_abs};
      for (int q = 0; q < NO; q++) ov[q * n_T + t] = orow[q];
    }
    if (enumerate && ising_exact_enumerate(cfg->dim, cfg->L, cfg->J, cfg->H, T[t], &x) == ISING_OK) {
      double er[NE] = {x.lnZ, x.f, x.e, x.s, x.c, x.m, x.m_abs, x.m2, x.m4, x.U4, x.chi, x.chi_p};
      for (int q = 0; q < NE; q++) ev[q * n_T + t] = er[q];
    } else {
      enumerate = 0;
    }
  }
  ising_err_clear();
  /* the analytic baselines at the same temperatures (baseline.h) */
  enum { NB = 11 };
  const char *bn[NB] = {"m_mf", "f_mf", "e_mf", "s_mf", "f_gbf", "lambda_gbf", "m_bethe", "f_bethe",
                        "e_bethe", "s_bethe", "h_cavity_bethe"};
  double *bv = malloc((size_t)NB * (size_t)n_T * sizeof *bv);
  int have_b = bv != NULL;
  for (int t = 0; t < n_T && have_b; t++) {
    ising_baseline_point b;
    have_b = ising_baseline_compute(2 * cfg->dim, cfg->J, cfg->H, T[t], &b) == ISING_OK;
    double row[NB] = {b.mf.m, b.mf.f, b.mf.e, b.mf.s, b.gbf.f, b.gbf.lambda, b.bethe.m, b.bethe.f,
                      b.bethe.e, b.bethe.s, b.bethe.h_cavity};
    for (int q = 0; q < NB; q++) bv[q * n_T + t] = row[q];
  }
  ising_err_clear();
  int rc = ising_output_write_values(out, "summary", NS, names, n_T, v);
  if (!rc && have_b) rc = ising_output_write_values(out, "baseline", NB, bn, n_T, bv);
  free(bv);
  if (!rc && kauf) rc = ising_output_write_values(out, "reference/kaufman", NK, kn, n_T, kv);
  if (!rc && kauf) rc = ising_output_write_values(out, "reference/onsager", NO, on, n_T, ov);
  if (!rc && enumerate) rc = ising_output_write_values(out, "reference/enumeration", NE, en, n_T, ev);
  free(v);
  return rc;
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
         r->T[0], cfg->J, cfg->H, (long long)s->n, (long long)s->bin_size, s->tau_e, s->tau_m_abs);
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
  if (isfinite(s->xi)) {
    print_row("xi", s->xi, s->xi_err, NULL, NAN, NULL, NAN);
    print_row("xi/L", s->xi / (double)cfg->L[0], s->xi_err / (double)cfg->L[0], NULL, NAN, NULL, NAN);
  }
  if (!s->converged)
    printf("  warning: the binning analysis did not reach a plateau: the run is too short for "
           "its autocorrelation time, error bars are underestimated\n");
  printf("  %.3f flips/ns in total over %.1f s\n", r->flips_per_ns, r->wall_seconds);
  fflush(stdout);
}

typedef struct replica {
  int id;
  ising_lattice *lat; /* the int8 spins; the backend keeps them up to date when asked (sync) */
} replica;

typedef struct engine {
  const ising_config *cfg;
  ising_layout *lay;
  int n_T, copies, R;
  int n_local;
  replica *local;        /* this group's replicas */
  ising_model *models;   /* [n_T], tables of the current ladder */
  ising_tempering *temper;
  ising_rng_key key;
  ising_output *out;
  int64_t *sums;         /* [2 R]: bond sum and magnetisation per replica */
  double *energy;        /* [R] */
  series *all;           /* [n_T copies] series by (temperature, copy), world rank 0 */
  int32_t *tindex;       /* [R x cap] temperature index history, world rank 0 */
  int32_t *rep_hist;     /* [n_T copies x cap] replica of each row, world rank 0 */
  int64_t rows, flushed, hist_cap;
  double *ladder_hist;   /* [(rounds + 1) n_T] */
  int n_hist;
  int next_round;        /* feedback round to come */
  int64_t generation;    /* checkpoints written so far (over restarts) */
  double ckpt_seconds;   /* the longest checkpoint so far */
  double ckpt_total;     /* seconds spent writing checkpoints in this process's run */
  ising_corr *corr;      /* correlation measurements ([measurement] correlation) */
  double *corr_vals;     /* [2 R]: S(0), S(k_min) per replica at the last measurement */
  int64_t ckpt_count;    /* checkpoints written in this process's run */
  ising_sweeper *sw;      /* the update backend of this group's replicas (sweeper.h) */
  ising_sweeper_needs needs;
  int64_t *lsums;         /* [2 n_local]: bond sums, then magnetisations, of the backend */
  ising_timer timer;      /* phases of this process's run (timer.h) */
  ising_couplings couplings; /* uniform [model] J and H (model.h) */
  int n_bstate;           /* the backend's checkpoint state (sweeper.h) */
  int64_t *bstate;        /* [n_bstate] */
  int lock_fd;            /* OUTPUT.lock held by world rank 0 (h5io.h); -1: none */
} engine;

/* Set by the signal handler; read at the agreement points of the loop. */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

static const int stop_signals[] = {SIGTERM, SIGINT, SIGUSR1, SIGXCPU};
#define N_STOP_SIGNALS 4

static void install_handlers(struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  /* a signal that arrived before (ising_signals_install) is kept */
  for (int i = 0; i < N_STOP_SIGNALS; i++) sigaction(stop_signals[i], &sa, &old[i]);
}

void ising_signals_install(void) {
  struct sigaction old[N_STOP_SIGNALS];
  install_handlers(old);
}

static void restore_handlers(const struct sigaction *old) {
  for (int i = 0; i < N_STOP_SIGNALS; i++) sigaction(stop_signals[i], &old[i], NULL);
}

static double wall_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int models_init(engine *E, const double *T) {
  for (int i = 0; i < E->n_T; i++)
    ISING_CALL(ising_model_init(&E->models[i], E->cfg->dim, E->cfg->J, E->cfg->H, T[i],
                                E->cfg->algorithm));
  return ISING_OK;
}

/* ------------------------------------------------------------ engine */

/* Bond sums and magnetisations of all replicas on every rank: the kernels'
 * block sums of the last sweep, added over the world. */
static int gather_sums(engine *E) {
  const int n = E->n_local;
  ISING_CALL(E->sw->ops->sums(E->sw->state, E->lsums, E->lsums + n));
  memset(E->sums, 0, (size_t)(2 * E->R) * sizeof *E->sums);
  for (int k = 0; k < n; k++) {
    int r = E->local[k].id;
    E->sums[2 * r] = E->lsums[k];
    E->sums[2 * r + 1] = E->lsums[n + k];
  }
  ISING_CALL(ising_world_sum_i64(E->lay, E->sums, 2 * E->R));
  const ising_model *m = &E->models[0]; /* J and H are the same at every T */
  for (int r = 0; r < E->R; r++) E->energy[r] = ising_model_energy(m, E->sums[2 * r], E->sums[2 * r + 1]);
  return ISING_OK;
}

static int grow_history(engine *E) {
  if (E->rows < E->hist_cap) return ISING_OK;
  int64_t cap = E->hist_cap ? 2 * E->hist_cap : 1024;
  int32_t *t = realloc(E->tindex, (size_t)(cap * E->R) * sizeof *t);
  ISING_CHECK(t, ISING_ERR_MEM, "out of memory (temperature history)");
  E->tindex = t;
  int32_t *h = realloc(E->rep_hist, (size_t)(cap * E->R) * sizeof *h);
  ISING_CHECK(h, ISING_ERR_MEM, "out of memory (replica history)");
  E->rep_hist = h;
  E->hist_cap = cap;
  return ISING_OK;
}

/* S(0) and S(k_min) of every replica on every rank (collective): each group
 * measures its replicas (the full S(k) every sk_every-th measurement), group
 * rank 0 contributes the values, one sum over the world spreads them. */
static int measure_correlations(engine *E) {
  memset(E->corr_vals, 0, (size_t)(2 * E->R) * sizeof *E->corr_vals);
  ISING_CALL(E->sw->ops->sync(E->sw->state));
  int full = E->cfg->sk_every > 0 && E->rows % E->cfg->sk_every == 0;
  for (int k = 0; k < E->n_local; k++) {
    const replica *rp = &E->local[k];
    int t = E->temper->temp_of[rp->id];
    double s0, sk;
    if (full)
      ISING_CALL(ising_corr_measure(E->corr, rp->lat, t, &s0, &sk));
    else
      ISING_CALL(ising_corr_measure_kmin(E->corr, rp->lat, t, &s0, &sk));
    if (E->lay->group_rank == 0) {
      E->corr_vals[2 * rp->id] = s0;
      E->corr_vals[2 * rp->id + 1] = sk;
    }
  }
  return ising_world_sum_double(E->lay, E->corr_vals, 2 * E->R);
}

/* File one measurement row per (temperature, copy); world rank 0 keeps them. */
static int measure(engine *E, int64_t sweep) {
  if (E->lay->world_rank == 0) {
    double N = (double)ising_config_sites(E->cfg);
    ISING_CALL(grow_history(E));
    for (int c = 0; c < E->copies; c++)
      for (int t = 0; t < E->n_T; t++) {
        int r = E->temper->rep_at[c * E->n_T + t];
        double m = (double)E->sums[2 * r + 1] / N, m2 = m * m;
        double row[NCOL] = {E->energy[r] / N, m, fabs(m), m2, m2 * m2, E->corr_vals[2 * r],
                            E->corr_vals[2 * r + 1]};
        ISING_CALL(series_push(&E->all[t * E->copies + c], sweep, row));
        E->rep_hist[E->rows * E->R + t * E->copies + c] = r;
      }
    for (int r = 0; r < E->R; r++) E->tindex[E->rows * E->R + r] = E->temper->temp_of[r];
  }
  E->rows++;
  return ISING_OK;
}

/* Append the rows not yet in the file (collective). */
static int flush_rows(engine *E) {
  int64_t n = E->rows - E->flushed, o = E->flushed;
  if (n <= 0) return ISING_OK;
  int rc = ISING_OK;
  double *buf[NCOL] = {NULL};
  int32_t *rep = NULL, *tix = NULL;
  const int64_t *sweep = NULL;
  if (E->lay->world_rank == 0) {
    const int TC = E->n_T * E->copies;
    for (int q = 0; q < NCOL && !rc; q++) {
      buf[q] = malloc((size_t)(TC * n) * sizeof *buf[q]);
      if (!buf[q]) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (output buffer)");
      for (int tc = 0; tc < TC && !rc; tc++) memcpy(buf[q] + tc * n, E->all[tc].col[q] + o, (size_t)n * sizeof(double));
    }
    rep = malloc((size_t)(TC * n) * sizeof *rep);
    tix = malloc((size_t)(E->R * n) * sizeof *tix);
    if (!rc && (!rep || !tix)) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (output buffer)");
    for (int64_t k = 0; k < n && !rc; k++) {
      for (int tc = 0; tc < TC; tc++) rep[tc * n + k] = E->rep_hist[(o + k) * E->R + tc];
      for (int r = 0; r < E->R; r++) tix[r * n + k] = E->tindex[(o + k) * E->R + r];
    }
    sweep = E->all[0].sweep + o;
  }
  /* every rank must enter the collective calls: share rank 0's verdict */
  int bad = rc;
  if (ising_world_max_int(E->lay, &bad) != ISING_OK && !rc) rc = ISING_ERR_MPI;
  if (!rc && bad) rc = ISING_ERR(ISING_ERR_MEM, "out of memory on rank 0 (output buffer)");
  if (!rc)
    rc = ising_output_append(E->out, n, sweep, (const double *const *)buf, rep, tix);
  for (int q = 0; q < NCOL; q++) free(buf[q]);
  free(rep);
  free(tix);
  if (!rc) E->flushed = E->rows;
  return rc;
}

/* One sweep of every replica of this group, each at the temperature it
 * holds now (tempering and ladder feedback change them between sweeps). */
static int sweep_all(engine *E, uint64_t t) {
  double t0 = ising_timer_now(), halo = E->timer.total[ISING_PHASE_HALO];
  ISING_CALL(E->sw->ops->set_temperatures(E->sw->state, E->models, E->temper->temp_of));
  ISING_CALL(E->sw->ops->sweep(E->sw->state, t));
  /* the backend charged its halo refreshes; the rest is the sweep's */
  ising_timer_add(&E->timer, ISING_PHASE_SWEEP, t0 + (E->timer.total[ISING_PHASE_HALO] - halo));
  return ISING_OK;
}

static int record_ladder(engine *E) {
  memcpy(E->ladder_hist + (size_t)E->n_hist * (size_t)E->n_T, E->temper->T, (size_t)E->n_T * sizeof(double));
  E->n_hist++;
  return ISING_OK;
}

/* Sweep index after which feedback round k (1..rounds) ends. */
static int64_t round_end(const ising_config *cfg, int k) {
  int64_t half = cfg->thermalization / 2;
  return (int64_t)((double)half * (double)((1LL << k) - 1) / (double)((1LL << cfg->adapt_rounds) - 1)) - 1;
}

/* Write a checkpoint generation after `done` sweeps (collective): the
 * output's rows first, flushed and synced, then the state. */
static int checkpoint(engine *E, int64_t done) {
  double t0 = MPI_Wtime(), tc = ising_timer_now();
  ISING_CALL(flush_rows(E));
  ISING_CALL(ising_output_sync(E->out));
  ISING_CALL(E->sw->ops->sync(E->sw->state));
  ising_ckpt_replica *loc = calloc((size_t)(E->n_local ? E->n_local : 1), sizeof *loc);
  ISING_CHECK(loc, ISING_ERR_MEM, "out of memory");
  for (int k = 0; k < E->n_local; k++) {
    loc[k].id = E->local[k].id;
    loc[k].lat = E->local[k].lat;
  }
  if (E->n_bstate > 0) ISING_CALL(E->sw->ops->state_get(E->sw->state, E->bstate));
  ising_ckpt_state st = {done, E->rows, E->generation + 1, E->next_round, E->n_hist,
                         E->ladder_hist, E->temper, E->corr, E->cfg->kernel, E->n_bstate,
                         E->bstate};
  int rc = ising_ckpt_write(E->lay, E->cfg, &st, E->n_local, loc);
  free(loc);
  ISING_CALL(rc);
  E->generation++;
  ising_timer_add(&E->timer, ISING_PHASE_CHECKPOINT, tc);
  double dt = MPI_Wtime() - t0;
  ISING_CALL(ising_world_max_double(E->lay, &dt));
  if (dt > E->ckpt_seconds) E->ckpt_seconds = dt;
  E->ckpt_total += dt;
  E->ckpt_count++;
  return ISING_OK;
}

/* Phase and checkpoint timings of this invocation (/timing and root
 * attributes), for the benchmark and the user. */
static int note_checkpoints(engine *E) {
  double v[ISING_PHASES];
  const char *names[ISING_PHASES];
  for (int p = 0; p < ISING_PHASES; p++) {
    v[p] = E->timer.total[p];
    names[p] = ising_timer_name((ising_phase)p);
  }
  for (int p = 0; p < ISING_PHASES; p++) ISING_CALL(ising_world_max_double(E->lay, &v[p]));
  ISING_CALL(ising_output_timing(E->out, ISING_PHASES, names, v));
  ISING_CALL(ising_output_note(E->out, "checkpoints_written", (double)E->ckpt_count));
  ISING_CALL(ising_output_note(E->out, "checkpoint_seconds_total", E->ckpt_total));
  return ising_output_note(E->out, "checkpoint_seconds_max", E->ckpt_seconds);
}

/* Sweeps between agreement points (signals, wall time, timed checkpoints):
 * about 4 ms of sweeping per rank, from the work per sweep (the same number
 * on every rank), so that the small collective costs nothing measurable. */
static int64_t agreement_interval(const engine *E) {
  double work = (double)ising_config_sites(E->cfg) * E->R / E->lay->world_size; /* site updates */
  double k = ceil(4e6 / (work > 1 ? work : 1));
  return k < 1 ? 1 : (int64_t)k;
}

static int engine_loop(engine *E, const ising_run_options *opt, ising_run_result *res,
                       int64_t from) {
  const ising_config *cfg = E->cfg;
  const int64_t total = cfg->thermalization + cfg->sweeps;
  const double N = (double)ising_config_sites(cfg);
  const int talk = E->lay->world_rank == 0 && !opt->quiet;
  const int tempering = E->n_T >= 2;
  const int adapting = tempering && cfg->adapt == ISING_ADAPT_FEEDBACK && E->n_T >= 3;
  const int64_t agree_every = agreement_interval(E);
  double deadline = 0; /* wall-clock time (epoch seconds) by which to have stopped */
  if (opt->walltime > 0) deadline = opt->start_time + opt->walltime;
  const char *slurm_end = getenv("SLURM_JOB_END_TIME");
  if (slurm_end && *slurm_end) {
    double end = atof(slurm_end);
    if (end > 0 && (deadline == 0 || end < deadline)) deadline = end;
  }
  double t0 = MPI_Wtime(), last = t0, last_ckpt = t0;
  res->stopped = 0;
  for (int64_t t = from; t < total; t++) {
    ISING_CALL(sweep_all(E, (uint64_t)t));
    int64_t done = t + 1 - cfg->thermalization;
    int measure_now = done > 0 && done % cfg->interval == 0;
    int exchange_now = tempering && (t + 1) % cfg->exchange_interval == 0;
    double tm = ising_timer_now();
    if (measure_now || exchange_now) ISING_CALL(gather_sums(E));
    if (measure_now) {
      if (E->corr) ISING_CALL(measure_correlations(E));
      ISING_CALL(measure(E, t));
      tm = ising_timer_add(&E->timer, ISING_PHASE_MEASURE, tm);
      if (E->rows - E->flushed >= FLUSH_ROWS) ISING_CALL(flush_rows(E));
      tm = ising_timer_add(&E->timer, ISING_PHASE_OUTPUT, tm);
    }
    if (exchange_now) {
      ising_tempering_exchange(E->temper, E->key, (uint64_t)t, E->energy);
      ising_timer_add(&E->timer, ISING_PHASE_EXCHANGE, tm);
    }
    if (adapting && E->next_round <= cfg->adapt_rounds && t == round_end(cfg, E->next_round)) {
      int rc = ising_tempering_adapt(E->temper);
      if (rc) return rc;
      ISING_CALL(models_init(E, E->temper->T));
      ISING_CALL(record_ladder(E));
      E->next_round++;
    }
    if (tempering && t + 1 == cfg->thermalization) ising_tempering_reset_stats(E->temper);
    /* checkpoints and stops, decided alike on every rank */
    int do_ckpt = cfg->ckpt_sweeps > 0 && (t + 1) % cfg->ckpt_sweeps == 0, stop = 0;
    if ((t + 1 - from) % agree_every == 0) {
      double now = MPI_Wtime();
      int flags[2] = {stop_signal != 0, cfg->ckpt_minutes > 0 && now - last_ckpt >= 60.0 * cfg->ckpt_minutes};
      /* stop in time for one more checkpoint and some slack */
      double margin = ISING_WALLTIME_SLACK + 3.0 * E->ckpt_seconds;
      if (deadline > 0 && wall_clock() + margin >= deadline) flags[0] = 1;
      ISING_CALL(ising_world_max_ints(E->lay, flags, 2));
      stop = flags[0];
      do_ckpt |= flags[1] | stop;
    }
    if (t + 1 == total) do_ckpt = stop = 0; /* the final checkpoint follows the loop */
    if (do_ckpt) {
      ISING_CALL(checkpoint(E, t + 1));
      last_ckpt = MPI_Wtime();
    }
    if (stop) {
      res->stopped = 1;
      res->sweeps_done = t + 1;
      if (talk)
        printf("ising: stopping at sweep %lld of %lld (%s); checkpoint written, continue with: "
               "ising resume %s\n", (long long)(t + 1), (long long)total,
               stop_signal ? "signal received" : "wall-time budget", cfg->file);
      break;
    }
    if (talk && cfg->progress > 0) {
      double now = MPI_Wtime();
      if (now - last >= cfg->progress) {
        double rate = (double)(t + 1 - from) * N * E->R / (now - t0) * 1e-9;
        char el[32], eta[32];
        format_duration(now - t0, el, sizeof el);
        format_duration((now - t0) / (double)(t + 1 - from) * (double)(total - t - 1), eta, sizeof eta);
        printf("ising: sweep %lld/%lld (%.1f%%)%s, %.3f flips/ns, elapsed %s, ETA %s\n",
               (long long)(t + 1), (long long)total, 100.0 * (double)(t + 1) / (double)total,
               done <= 0 ? " thermalising" : "", rate, el, eta);
        fflush(stdout);
        last = now;
      }
    }
  }
  if (!res->stopped) {
    double tf = ising_timer_now();
    ISING_CALL(flush_rows(E));
    ising_timer_add(&E->timer, ISING_PHASE_OUTPUT, tf);
    res->sweeps_done = total;
  }
  double wall = MPI_Wtime() - t0;
  ISING_CALL(ising_world_max_double(E->lay, &wall));
  res->wall_seconds = wall;
  res->flips_per_ns = (double)(res->sweeps_done - from) * N * E->R / (wall > 0 ? wall : 1) * 1e-9;
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

/* Summaries per temperature (copies pooled) on world rank 0. */
static int summaries(engine *E, ising_run_result *res) {
  const ising_config *cfg = E->cfg;
  int64_t n = E->all[0].n, pooled = n * E->copies;
  double *col[4];
  for (int q = 0; q < 4; q++) {
    col[q] = malloc((size_t)pooled * sizeof(double));
    if (!col[q]) {
      for (int j = 0; j < q; j++) free(col[j]);
      return ISING_ERR(ISING_ERR_MEM, "out of memory (summary)");
    }
  }
  static const int use[4] = {0, 2, 3, 4}; /* e, m_abs, m2, m4 */
  int rc = ISING_OK;
  for (int t = 0; t < E->n_T && !rc; t++) {
    for (int c = 0; c < E->copies; c++)
      for (int q = 0; q < 4; q++)
        memcpy(col[q] + c * n, E->all[t * E->copies + c].col[use[q]], (size_t)n * sizeof(double));
    rc = ising_summary_compute(col[0], col[1], col[2], col[3], pooled, 1.0 / E->temper->T[t],
                               ising_config_sites(cfg), &res->summaries[t]);
    ising_summary *s = &res->summaries[t];
    s->xi = s->xi_err = NAN;
    if (!rc && cfg->correlation) {
      /* the copies' S(0), S(k_min) pooled, binned like the summary */
      for (int c = 0; c < E->copies; c++) {
        memcpy(col[0] + c * n, E->all[t * E->copies + c].col[5], (size_t)n * sizeof(double));
        memcpy(col[1] + c * n, E->all[t * E->copies + c].col[6], (size_t)n * sizeof(double));
      }
      rc = ising_xi_jackknife(col[0], col[1], pooled, s->bin_size, (double)cfg->L[0], &s->xi, &s->xi_err);
    }
  }
  for (int q = 0; q < 4; q++) free(col[q]);
  return rc;
}

static int write_tempering(engine *E) {
  const int n = E->n_T, R = E->R;
  ising_tempering *tp = E->temper;
  double *v = malloc((size_t)(3 * n + R + 1) * sizeof *v);
  ISING_CHECK(v, ISING_ERR_MEM, "out of memory");
  int64_t trips = 0;
  for (int i = 0; i + 1 < n; i++) {
    v[i] = tp->attempts[i] ? (double)tp->accepts[i] / (double)tp->attempts[i] : NAN;
    v[n - 1 + i] = (double)tp->attempts[i];
    v[2 * (n - 1) + i] = (double)tp->accepts[i];
  }
  const char *names[] = {"acceptance", "attempts", "accepted"};
  int rc = ising_output_write_values(E->out, "tempering", 3, names, n - 1, v);
  for (int r = 0; r < R; r++) {
    v[r] = (double)tp->round_trips[r];
    trips += tp->round_trips[r];
  }
  const char *rt[] = {"round_trips"};
  if (!rc) rc = ising_output_write_values(E->out, "tempering", 1, rt, R, v);
  /* round trips per replica per sweep of the production phase */
  v[0] = (double)trips / (double)R / (double)E->cfg->sweeps;
  const char *rate[] = {"round_trip_rate"};
  if (!rc) rc = ising_output_write_values(E->out, "tempering", 1, rate, 1, v);
  const char *lad[] = {"ladder"};
  if (!rc) rc = ising_output_write_values(E->out, "tempering", 1, lad, n, tp->T);
  if (!rc) rc = ising_output_write_matrix(E->out, "tempering", "ladder_history", E->n_hist, n, E->ladder_hist);
  free(v);
  return rc;
}

/* Free energy by thermodynamic integration over the final ladder (H = 0);
 * *why says why not when it cannot be computed.  Result on every rank. */
static int free_energy(const engine *E, const ising_run_result *r, ising_ti_point *p, char *why,
                       size_t size) {
  const ising_config *cfg = E->cfg;
  if (E->n_T < 2 || cfg->H != 0.0) {
    snprintf(why, size, "needs a ladder and H = 0");
    return 0;
  }
  for (int k = 0; k < cfg->dim; k++)
    if (cfg->L[k] < 6) {
      snprintf(why, size, "the high-temperature series needs L >= 6 along every axis");
      return 0;
    }
  double *v = malloc((size_t)(4 * E->n_T) * sizeof *v);
  if (!v) return 0;
  for (int t = 0; t < E->n_T; t++) {
    v[t] = r->summaries[t].e;
    v[E->n_T + t] = r->summaries[t].e_err;
    v[2 * E->n_T + t] = r->summaries[t].c;
    v[3 * E->n_T + t] = r->summaries[t].c_err;
  }
  int rc = ising_ti_free_energy(cfg->dim, cfg->J, E->n_T, E->temper->T, v, v + E->n_T,
                                v + 2 * E->n_T, v + 3 * E->n_T, p);
  if (rc) snprintf(why, size, "%s", ising_err_message());
  ising_err_clear();
  free(v);
  return rc == ISING_OK;
}

/* /correlation: the accumulated S(k) and G(r) profiles per temperature
 * (collective over the world; corr.h has the definitions). */
static int write_correlation(engine *E) {
  const int n = E->n_T;
  /* profiles need FFT measurements at every temperature (sk_every > 0;
   * the accumulators travel through checkpoints since format 2, so after a
   * resume they cover the whole run) */
  int64_t *cnt = calloc((size_t)n, sizeof *cnt);
  ISING_CHECK(cnt, ISING_ERR_MEM, "out of memory");
  for (int t = 0; t < n; t++) {
    int64_t full = 0;
    ising_corr_count(E->corr, t, &full);
    cnt[t] = E->lay->group_rank == 0 ? full : 0;
  }
  int rc0 = ising_world_sum_i64(E->lay, cnt, n), missing = 0;
  for (int t = 0; t < n; t++) missing |= cnt[t] == 0;
  free(cnt);
  ISING_CALL(rc0);
  if (missing) return ISING_OK;
  ising_corr_result *res = calloc((size_t)n, sizeof *res);
  ISING_CHECK(res, ISING_ERR_MEM, "out of memory");
  int rc = ISING_OK, done = 0;
  for (int t = 0; t < n && !rc; t++, done++) rc = ising_corr_finish(E->corr, t, &res[t]);
  if (!rc) {
    /* G(r) for r = 0 .. [measurement] correlation_rmax (0: L/2 of the
     * smallest axis, all there is; the deck check keeps it <= L/2) */
    int64_t rlen = E->cfg->corr_rmax > 0 ? E->cfg->corr_rmax + 1 : res[0].n_axis_avg;
    if (rlen > res[0].n_axis_avg) rlen = res[0].n_axis_avg;
    int64_t rbins = rlen < res[0].n_rbins ? rlen : res[0].n_rbins;
    struct { const char *name; int64_t len; } prof[6] = {
        {"S_axis_avg", res[0].n_axis_avg}, {"G_axis_avg", rlen},
        {"k_radial", res[0].n_kbins},      {"S_radial", res[0].n_kbins},
        {"r_radial", rbins},               {"G_radial", rbins}};
    for (int p = 0; p < 6 && !rc; p++) {
      double *m = malloc((size_t)(n * prof[p].len) * sizeof *m);
      if (!m) rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
      for (int t = 0; t < n && !rc; t++) {
        double *src = p == 0 ? res[t].S_axis_avg : p == 1 ? res[t].G_axis_avg : p == 2 ? res[t].k_radial
                      : p == 3 ? res[t].S_radial : p == 4 ? res[t].r_radial : res[t].G_radial;
        memcpy(m + (size_t)t * (size_t)prof[p].len, src, (size_t)prof[p].len * sizeof *m);
      }
      if (!rc) rc = ising_output_write_matrix(E->out, "correlation", prof[p].name, n, (int)prof[p].len, m);
      free(m);
    }
    double *v = malloc((size_t)(4 * n) * sizeof *v);
    if (!rc && !v) rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
    for (int t = 0; t < n && !rc; t++) {
      v[t] = res[t].xi;
      v[n + t] = (double)res[t].n_meas;
      v[2 * n + t] = (double)res[t].n_kmin;
      v[3 * n + t] = res[t].m_mean;
    }
    const char *names[4] = {"xi", "n_fft", "n_measurements", "m_mean"};
    if (!rc) rc = ising_output_write_values(E->out, "correlation", 4, names, n, v);
    free(v);
  }
  for (int t = 0; t < done; t++) ising_corr_result_free(&res[t]);
  free(res);
  return rc;
}

static int write_free_energy(engine *E, const ising_run_result *r) {
  ising_ti_point *p = calloc((size_t)E->n_T, sizeof *p);
  ISING_CHECK(p, ISING_ERR_MEM, "out of memory");
  char why[512];
  int rc = ISING_OK;
  if (free_energy(E, r, p, why, sizeof why)) {
    enum { NF = 8 };
    const char *names[NF] = {"T", "f", "f_err", "s", "s_err", "lnZ_per_spin", "series_err", "quadrature_err"};
    double *v = malloc((size_t)(NF * E->n_T) * sizeof *v);
    if (!v) rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
    for (int t = 0; t < E->n_T && !rc; t++) {
      double row[NF] = {E->temper->T[t], p[t].f, p[t].f_err, p[t].s, p[t].s_err, p[t].lnZ, p[t].series,
                        p[t].quadrature};
      for (int q = 0; q < NF; q++) v[q * E->n_T + t] = row[q];
    }
    if (!rc) rc = ising_output_write_values(E->out, "free_energy", NF, names, E->n_T, v);
    free(v);
  }
  free(p);
  return rc;
}

static void print_ladder_table(const ising_config *cfg, const engine *E, const ising_run_result *r) {
  printf("\nsummary: %dD", cfg->dim);
  for (int k = 0; k < cfg->dim; k++) printf("%s%lld", k ? "x" : " L=", (long long)cfg->L[k]);
  printf(", J=%g, H=%g, %d temperatures x %d cop%s, %lld measurements each\n", cfg->J, cfg->H,
         E->n_T, E->copies, E->copies > 1 ? "ies" : "y", (long long)r->summaries[0].n);
  int kauf = cfg->dim == 2 && cfg->H == 0.0;
  printf("  %-9s %-24s %-22s %-22s %-22s %-20s%s\n", "T", "e", "|m|", "c", "chi", "U4",
         kauf ? "  exact e, c (L)" : "");
  for (int t = 0; t < E->n_T; t++) {
    const ising_summary *s = &r->summaries[t];
    printf("  %-9.5f %11.7f +- %-9.7f %9.6f +- %-9.6f %9.5f +- %-9.5f %9.4f +- %-9.4f %8.5f +- %-8.5f",
           E->temper->T[t], s->e, s->e_err, s->m_abs, s->m_abs_err, s->c, s->c_err, s->chi,
           s->chi_err, s->U4, s->U4_err);
    ising_exact_obs k;
    if (kauf && ising_exact_kaufman(cfg->L[0], cfg->L[1], cfg->J, E->temper->T[t], &k) == ISING_OK)
      printf("  %.7f (%+.1f sigma) %.5f (%+.1f sigma)", k.e, (s->e - k.e) / s->e_err, k.c,
             (s->c - k.c) / s->c_err);
    if (isfinite(s->xi)) printf("  xi/L %.4f +- %.4f", s->xi / (double)cfg->L[0], s->xi_err / (double)cfg->L[0]);
    printf("%s\n", s->converged ? "" : "  [no plateau]");
  }
  ising_err_clear();
  if (E->n_T >= 2) {
    printf("  exchange acceptance of pairs (T_i, T_i+1):");
    for (int i = 0; i + 1 < E->n_T; i++)
      printf(" %.3f", E->temper->attempts[i] ? (double)E->temper->accepts[i] / (double)E->temper->attempts[i] : 0.0);
    int64_t trips = 0;
    for (int q = 0; q < E->R; q++) trips += E->temper->round_trips[q];
    printf("\n  round trips: %lld in all, %.3g per replica per 1000 sweeps\n", (long long)trips,
           1000.0 * (double)trips / E->R / (double)cfg->sweeps);
  }
  ising_ti_point *p = calloc((size_t)E->n_T, sizeof *p);
  char why[512];
  if (p && free_energy(E, r, p, why, sizeof why)) {
    printf("  free energy by thermodynamic integration (f_exact: Kaufman, f_Bethe, f_GBF: baselines):\n");
    for (int t = 0; t < E->n_T; t++) {
      ising_exact_obs k;
      ising_baseline_point b;
      printf("    T %-9.5f f %.6f +- %.6f  s %.6f +- %.6f", E->temper->T[t], p[t].f, p[t].f_err, p[t].s, p[t].s_err);
      if (cfg->dim == 2 && ising_exact_kaufman(cfg->L[0], cfg->L[1], cfg->J, E->temper->T[t], &k) == ISING_OK)
        printf("  f_exact %.6f (%+.1f sigma)", k.f, (p[t].f - k.f) / p[t].f_err);
      if (ising_baseline_compute(2 * cfg->dim, cfg->J, cfg->H, E->temper->T[t], &b) == ISING_OK)
        printf("  f_Bethe %.6f  f_GBF %.6f", b.bethe.f, b.gbf.f);
      printf("\n");
    }
    ising_err_clear();
  } else if (p && E->n_T >= 2) {
    printf("  free energy: not computed (%s)\n", why);
  }
  free(p);
  printf("  %.3f flips/ns in total over %.1f s\n", r->flips_per_ns, r->wall_seconds);
  fflush(stdout);
}

/* What the backend needs of the layout (sweeper.h), checked before anything
 * is written. */
static int check_backend_layout(const engine *E) {
  const ising_config *cfg = E->cfg;
  char w[256];
  const int B = E->needs.block, blocks = (E->R + B - 1) / B;
  if (E->needs.whole_replica && E->lay->group_size != 1)
    return ISING_ERR(ISING_ERR_INPUT, "%s: kernel = %s keeps each lattice whole on one rank; "
                     "set ranks_per_replica = 1 (%d ranks now share one)",
                     ising_config_where(cfg, "parallel", "ranks_per_replica", w, sizeof w),
                     cfg->kernel, E->lay->group_size);
  if (B > 1 && E->lay->n_groups > blocks)
    return ISING_ERR(ISING_ERR_INPUT, "%s: kernel = %s packs the %d replicas (temperatures x "
                     "copies) into %d set%s of %d and never splits a set, so at most %d rank%s can "
                     "work; use that many ranks or more copies",
                     ising_config_where(cfg, "parallel", "ranks_per_replica", w, sizeof w),
                     cfg->kernel, E->R, blocks, blocks > 1 ? "s" : "", B, blocks,
                     blocks > 1 ? "s" : "");
  return ISING_OK;
}

/* The backend for this group's replicas (after their lattices exist). */
static int create_backend(engine *E) {
  const int n = E->n_local;
  int *ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
  ising_lattice **lats = malloc((size_t)(n ? n : 1) * sizeof *lats);
  E->lsums = calloc((size_t)(2 * (n ? n : 1)), sizeof *E->lsums);
  int rc = ids && lats && E->lsums ? ISING_OK : ISING_ERR(ISING_ERR_MEM, "out of memory");
  for (int k = 0; k < n && !rc; k++) {
    ids[k] = E->local[k].id;
    lats[k] = E->local[k].lat;
  }
  ising_sweeper_init in = {E->cfg, E->lay, E->R, n, ids, lats, E->key, &E->timer, &E->couplings};
  if (!rc) rc = ising_sweeper_create(&in, &E->sw);
  free(ids);
  free(lats);
  ISING_CALL(rc);
  const ising_sweeper_ops *ops = E->sw->ops;
  E->n_bstate = ops->state_len ? ops->state_len(E->cfg) : 0;
  ISING_CHECK(E->n_bstate <= 0 || (ops->state_get && ops->state_set), ISING_ERR_INTERNAL,
              "backend %s: checkpoint state without state_get/state_set", ops->name);
  E->bstate = calloc((size_t)(E->n_bstate > 0 ? E->n_bstate : 1), sizeof *E->bstate);
  ISING_CHECK(E->bstate, ISING_ERR_MEM, "out of memory");
  return ISING_OK;
}

/* Layout, replicas, tables, output check (fresh runs).  `resuming`: no
 * output check and no initial spins (they come from the checkpoint). */
static int setup(engine *E, MPI_Comm comm, const ising_run_options *opt, ising_run_result *res,
                 int resuming) {
  const ising_config *cfg = E->cfg;
  ISING_CALL(ising_sweeper_validate(cfg));
  ISING_CALL(check_measurements(cfg));
  E->n_T = cfg->n_temps;
  E->copies = cfg->copies;
  E->R = E->n_T * E->copies;
  ising_sweeper_find(cfg->kernel)->needs(cfg, &E->needs);
  E->couplings = ising_couplings_uniform(cfg->J, cfg->H);
  ISING_CALL(ising_layout_create_rows(comm, cfg, cfg->ranks_per_replica, E->needs.whole_x, &E->lay));
  ISING_CALL(check_backend_layout(E));
  if (E->lay->n_groups > E->R) {
    char w[256];
    int size = E->lay->world_size, fit = size;
    for (int d = 1; d <= size; d++)
      if (size % d == 0 && size / d <= E->R) {
        fit = d;
        break;
      }
    return ISING_ERR(ISING_ERR_INPUT,
                     "%s: %d ranks make %d replica groups but there are only %d replicas "
                     "(temperatures x copies): groups would idle; use ranks_per_replica = %d "
                     "(or a larger divisor of %d)",
                     ising_config_where(cfg, "parallel", "ranks_per_replica", w, sizeof w), size,
                     E->lay->n_groups, E->R, fit, size);
  }
  if (!resuming) ISING_CALL(ising_output_check(E->lay->world, cfg, opt->force));
  ISING_CALL(ising_output_lock(E->lay->world, cfg->file, &E->lock_fd));
  E->models = calloc((size_t)E->n_T, sizeof *E->models);
  E->sums = calloc((size_t)(2 * E->R), sizeof *E->sums);
  E->energy = calloc((size_t)E->R, sizeof *E->energy);
  E->local = calloc((size_t)E->R, sizeof *E->local);
  E->ladder_hist = calloc((size_t)(cfg->adapt_rounds + 1) * (size_t)E->n_T, sizeof *E->ladder_hist);
  res->summaries = calloc((size_t)E->n_T, sizeof *res->summaries);
  ISING_CHECK(E->models && E->sums && E->energy && E->local && E->ladder_hist && res->summaries,
              ISING_ERR_MEM, "out of memory");
  if (E->lay->world_rank == 0) {
    E->all = calloc((size_t)E->R, sizeof *E->all);
    ISING_CHECK(E->all, ISING_ERR_MEM, "out of memory");
  }
  ISING_CALL(ising_tempering_create(E->n_T, E->copies, cfg->temps, &E->temper));
  ISING_CALL(models_init(E, cfg->temps));
  E->corr_vals = calloc((size_t)(2 * E->R), sizeof *E->corr_vals);
  ISING_CHECK(E->corr_vals, ISING_ERR_MEM, "out of memory");
  if (cfg->correlation) ISING_CALL(ising_corr_create(E->lay, E->n_T, 1, &E->corr));
  ISING_CALL(record_ladder(E));
  E->next_round = 1;
  E->key = ising_rng_key_from_seed(cfg->seed);
  for (int r = 0; r < E->R; r++) {
    /* replicas round robin over the groups in blocks of the backend's
     * (needs.block), in increasing order either way */
    if ((r / E->needs.block) % E->lay->n_groups != E->lay->group_index) continue;
    replica *rp = &E->local[E->n_local++];
    rp->id = r;
    ISING_CALL(ising_lattice_create(E->lay, &rp->lat));
    if (resuming) continue;
    if (cfg->start == ISING_START_HOT)
      ISING_CALL(ising_lattice_fill_hot(rp->lat, E->key, (uint32_t)r));
    else
      ISING_CALL(ising_lattice_fill_cold(rp->lat, 1));
  }
  ISING_CALL(create_backend(E));
  if (!resuming) ISING_CALL(E->sw->ops->load(E->sw->state)); /* the start */
  const char *kname = E->sw->ops->path();
  if (E->lay->world_rank == 0 && !opt->quiet) {
    int64_t n[3];
    ising_lattice_extent(E->local[0].lat, n, NULL);
    printf("ising: %s%dD lattice", resuming ? "resuming " : "", cfg->dim);
    for (int k = 0; k < cfg->dim; k++) printf("%s%lld", k ? "x" : " ", (long long)cfg->L[k]);
    printf(", %d replica%s (%d temperature%s x %d cop%s) on %d rank%s: %d group%s of %d, grid",
           E->R, E->R > 1 ? "s" : "", E->n_T, E->n_T > 1 ? "s" : "", E->copies,
           E->copies > 1 ? "ies" : "y", E->lay->world_size, E->lay->world_size > 1 ? "s" : "",
           E->lay->n_groups, E->lay->n_groups > 1 ? "s" : "", E->lay->group_size);
    for (int k = 0; k < cfg->dim; k++) printf("%s%d", k ? "x" : " ", E->lay->procs[k]);
    printf(" (x first), block");
    for (int k = 0; k < cfg->dim; k++) printf("%s%lld", k ? "x" : " ", (long long)n[k]);
    printf(", %.3f bytes/site with halos; %s, kernel %s, T", (double)ising_lattice_bytes(E->local[0].lat) / (double)(n[0] * n[1] * n[2]),
           cfg->algorithm == ISING_ALG_HEATBATH ? "heat bath" : "Metropolis", kname);
    if (E->n_T == 1)
      printf("=%g", cfg->temps[0]);
    else
      printf(" %g..%g (%s%s)", cfg->temps[0], cfg->temps[E->n_T - 1],
             cfg->adapt == ISING_ADAPT_FEEDBACK ? "feedback-adapted, " : "",
             cfg->ladder == ISING_LADDER_GEOMETRIC ? "geometric" : cfg->ladder == ISING_LADDER_LINEAR ? "linear" : "list");
    printf(", %lld+%lld sweeps -> %s\n", (long long)cfg->thermalization, (long long)cfg->sweeps, cfg->file);
    const int B = E->needs.block, sets = (E->R + B - 1) / B;
    if (B > 1 && E->R < sets * B)
      printf("ising: note: kernel %s sweeps %d lanes in %d set%s of %d; %d carry replicas, "
             "%d are idle at about the same cost (raise [montecarlo] copies to use them)\n",
             cfg->kernel, sets * B, sets, sets > 1 ? "s" : "", B, E->R, sets * B - E->R);
    fflush(stdout);
  }
  if (!resuming) {
    /* checkpoints of an earlier run under this name are not this run's */
    if (E->lay->world_rank == 0) {
      char cur[ISING_PATH_MAX + 16], old[ISING_PATH_MAX + 16];
      ising_ckpt_paths(cfg->file, cur, old, sizeof cur);
      unlink(cur);
      unlink(old);
    }
    ISING_CALL(ising_output_create(E->lay->world, cfg, opt->force, E->lay->procs,
                                   E->lay->n_groups, kname, &E->out));
  }
  return ISING_OK;
}

/* Summaries, results, final checkpoint, closing the output. */
static int finish(engine *E, const ising_run_options *opt, ising_run_result *res) {
  const ising_config *cfg = E->cfg;
  if (res->stopped) {
    ISING_CALL(note_checkpoints(E));
    ISING_CALL(ising_output_finish(E->out, "stopped", res->sweeps_done, res->wall_seconds,
                                   res->flips_per_ns));
    return ising_output_close(&E->out);
  }
  int rc = E->lay->world_rank == 0 ? summaries(E, res) : ISING_OK;
  int bad = rc;
  ISING_CALL(ising_world_max_int(E->lay, &bad));
  if (bad) return rc ? rc : ISING_ERR(bad, "summary failed on rank 0");
  ISING_CALL(ising_world_bcast(E->lay, res->summaries, (int)((size_t)E->n_T * sizeof *res->summaries), 0));
  res->n_temps = E->n_T;
  res->summary = res->summaries[0];
  for (int t = 0; t < E->n_T; t++) res->T[t] = E->temper->T[t];
  references(cfg, res);
  ISING_CALL(write_results(E->out, cfg, E->n_T, E->temper->T, res->summaries));
  if (E->n_T >= 2) ISING_CALL(write_tempering(E));
  ISING_CALL(write_free_energy(E, res));
  if (E->corr) ISING_CALL(write_correlation(E));
  /* the final state, so that --sweeps can extend the run */
  ISING_CALL(checkpoint(E, res->sweeps_done));
  ISING_CALL(note_checkpoints(E));
  ISING_CALL(ising_output_finish(E->out, "finished", res->sweeps_done, res->wall_seconds,
                                 res->flips_per_ns));
  ISING_CALL(ising_output_close(&E->out));
  if (E->lay->world_rank == 0 && !opt->quiet) {
    if (E->n_T == 1)
      print_summary(cfg, res);
    else
      print_ladder_table(cfg, E, res);
  }
  return ISING_OK;
}

static void engine_free(engine *E, int *rc2, int *rc3) {
  *rc2 = ising_output_close(&E->out);
  ising_output_unlock(&E->lock_fd);
  for (int k = 0; k < E->n_local; k++) ising_lattice_destroy(&E->local[k].lat);
  ising_sweeper_destroy(&E->sw);
  free(E->lsums);
  free(E->bstate);
  *rc3 = ising_layout_destroy(&E->lay);
  if (E->all)
    for (int r = 0; r < E->R; r++) series_free(&E->all[r]);
  free(E->all);
  free(E->local);
  free(E->models);
  free(E->sums);
  free(E->energy);
  free(E->tindex);
  free(E->rep_hist);
  free(E->ladder_hist);
  free(E->corr_vals);
  ising_corr_destroy(&E->corr);
  ising_tempering_destroy(&E->temper);
}

int ising_run(MPI_Comm comm, const ising_config *cfg, const ising_run_options *opt,
              ising_run_result *res) {
  ising_run_options none = {0};
  ising_run_result local;
  if (!opt) opt = &none;
  if (!res) res = &local;
  memset(res, 0, sizeof *res);
  engine E = {0};
  E.cfg = cfg;
  E.lock_fd = -1;
  struct sigaction old[N_STOP_SIGNALS];
  install_handlers(old);
  int rc = setup(&E, comm, opt, res, 0);
  if (!rc) rc = engine_loop(&E, opt, res, 0);
  if (!rc) rc = finish(&E, opt, res);
  restore_handlers(old);
  /* Clean-up errors must not mask the first one. */
  int rc2, rc3;
  engine_free(&E, &rc2, &rc3);
  if (res == &local) free(local.summaries);
  if (rc) return rc;
  if (rc2 || rc3) return rc2 ? rc2 : rc3;
  return res->stopped ? ISING_STOPPED : ISING_OK;
}

/* ------------------------------------------------------------ resume */

/* Everything that makes the trajectory, compared between the checkpoint's
 * deck and the resumed one; run control (sweeps, wall time, checkpoint
 * intervals, progress, kernel, rank layout) may differ. */
static int physics_differences(const ising_config *a, const ising_config *b, char *buf, size_t size) {
  size_t n = 0;
  int count = 0;
#define DIFF(cond, ...)                                                        \
  do {                                                                         \
    if (cond) {                                                                \
      count++;                                                                 \
      if (n < size) n += (size_t)snprintf(buf + n, size - n, "%s", count > 1 ? "; " : ""); \
      if (n < size) n += (size_t)snprintf(buf + n, size - n, __VA_ARGS__);    \
    }                                                                          \
  } while (0)
  DIFF(a->dim != b->dim, "[lattice] dim %d -> %d", a->dim, b->dim);
  for (int k = 0; k < ISING_MAX_DIM; k++)
    DIFF(a->L[k] != b->L[k], "[lattice] L (axis %d) %lld -> %lld", k, (long long)a->L[k], (long long)b->L[k]);
  DIFF(a->J != b->J, "[model] J %g -> %g", a->J, b->J);
  DIFF(a->H != b->H, "[model] H %g -> %g", a->H, b->H);
  DIFF(a->n_temps != b->n_temps, "number of temperatures %d -> %d", a->n_temps, b->n_temps);
  for (int i = 0; i < a->n_temps && i < b->n_temps; i++)
    DIFF(a->temps[i] != b->temps[i], "temperature %d: %.17g -> %.17g", i, a->temps[i], b->temps[i]);
  DIFF(a->copies != b->copies, "[montecarlo] copies %d -> %d", a->copies, b->copies);
  DIFF(a->seed != b->seed, "[montecarlo] seed %llu -> %llu", (unsigned long long)a->seed, (unsigned long long)b->seed);
  DIFF(a->algorithm != b->algorithm, "[montecarlo] algorithm changed");
  DIFF(a->start != b->start, "[montecarlo] start changed");
  DIFF(a->thermalization != b->thermalization, "[montecarlo] thermalization %lld -> %lld",
       (long long)a->thermalization, (long long)b->thermalization);
  DIFF(a->interval != b->interval, "[measurement] interval %lld -> %lld", (long long)a->interval, (long long)b->interval);
  /* what is measured: the time series' columns and the accumulators */
  DIFF(a->correlation != b->correlation, "[measurement] correlation %s -> %s", a->correlation ? "yes" : "no",
       b->correlation ? "yes" : "no");
  DIFF(a->correlation && a->sk_every != b->sk_every, "[measurement] sk_every %lld -> %lld",
       (long long)a->sk_every, (long long)b->sk_every);
  DIFF(a->exchange_interval != b->exchange_interval, "[tempering] interval %lld -> %lld",
       (long long)a->exchange_interval, (long long)b->exchange_interval);
  DIFF(a->adapt != b->adapt, "[tempering] adapt changed");
  DIFF(a->adapt_rounds != b->adapt_rounds, "[tempering] adapt_rounds %d -> %d", a->adapt_rounds, b->adapt_rounds);
#undef DIFF
  return count;
}

/* The key of an override "section.key=value". */
static size_t set_key_len(const char *s) {
  const char *eq = strchr(s, '=');
  size_t n = eq ? (size_t)(eq - s) : strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  return n;
}

static int parse_resumed(MPI_Comm comm, const char *output, int nset, char *const *set,
                         int64_t sweeps, ising_config *now) {
  char *text = NULL, **stored = NULL;
  int nstored = 0, which = 0;
  ISING_CALL(ising_ckpt_read_deck(comm, output, &text, &nstored, &stored, &which));
  char name[ISING_PATH_MAX + 64];
  snprintf(name, sizeof name, "%s (deck stored in the checkpoint)", output);
  ising_config then;
  ising_config_defaults(&then);
  int rc = ising_config_parse_string(text, name, nstored, stored, &then);
  /* the stored overrides, less those given again now, then the new ones */
  char **all = calloc((size_t)(nstored + nset + 2), sizeof *all);
  int nall = 0;
  if (!rc && !all) rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
  for (int i = 0; i < nstored && !rc; i++) {
    int again = 0;
    for (int j = 0; j < nset; j++)
      again |= set_key_len(stored[i]) == set_key_len(set[j]) &&
               strncmp(stored[i], set[j], set_key_len(set[j])) == 0;
    if (!again) all[nall++] = stored[i];
  }
  for (int j = 0; j < nset && !rc; j++) all[nall++] = set[j];
  if (!rc) rc = ising_config_parse_string(text, name, nall, all, now);
  if (!rc) {
    char diff[2048];
    if (physics_differences(&then, now, diff, sizeof diff))
      rc = ISING_ERR(ISING_ERR_INPUT, "resume refused: the physics differs from the checkpoint's: %s", diff);
  }
  if (!rc && sweeps > 0) now->sweeps = sweeps;
  if (!rc) snprintf(now->file, sizeof now->file, "%s", output);
  free(all);
  ising_config_free(&then);
  ising_ckpt_free_deck(text, nstored, stored);
  return rc;
}

/* Load the checkpoint and the output's rows into a set-up engine. */
static int resume_state(engine *E, int64_t *from) {
  const ising_config *cfg = E->cfg;
  ising_ckpt_replica *loc = calloc((size_t)(E->n_local ? E->n_local : 1), sizeof *loc);
  ISING_CHECK(loc, ISING_ERR_MEM, "out of memory");
  for (int k = 0; k < E->n_local; k++) {
    loc[k].id = E->local[k].id;
    loc[k].lat = E->local[k].lat;
  }
  ising_ckpt_state st = {0, 0, 0, 1, 1, E->ladder_hist, E->temper, E->corr, cfg->kernel,
                         E->n_bstate, E->bstate};
  int rc = ising_ckpt_load(E->lay, cfg, &st, E->n_local, loc);
  free(loc);
  ISING_CALL(rc);
  ISING_CALL(E->sw->ops->load(E->sw->state));
  if (E->n_bstate > 0) ISING_CALL(E->sw->ops->state_set(E->sw->state, E->bstate));
  E->n_hist = st.n_hist;
  E->next_round = st.next_round;
  E->generation = st.generation;
  ISING_CALL(models_init(E, E->temper->T));
  int64_t total = cfg->thermalization + cfg->sweeps;
  if (st.sweeps_done > total) {
    char w[256];
    return ISING_ERR(ISING_ERR_INPUT, "%s: the checkpoint is at sweep %lld, past thermalization + "
                     "sweeps = %lld; ask for more with --sweeps N (measured sweeps in all)",
                     ising_config_where(cfg, "montecarlo", "sweeps", w, sizeof w),
                     (long long)st.sweeps_done, (long long)total);
  }
  ISING_CALL(ising_output_reopen(E->lay->world, cfg, st.rows, &E->out));
  /* world rank 0 takes the rows back for the summary at the end */
  rc = ISING_OK;
  if (E->lay->world_rank == 0 && st.rows > 0) {
    const int TC = E->n_T * E->copies;
    int64_t n = st.rows;
    double *cols[NCOL] = {0};
    int64_t *sweep = malloc((size_t)n * sizeof *sweep);
    int32_t *rep = malloc((size_t)(TC * n) * sizeof *rep), *tix = malloc((size_t)(E->R * n) * sizeof *tix);
    int ok = sweep && rep && tix;
    for (int q = 0; q < NCOL; q++) ok = ok && (cols[q] = calloc((size_t)(TC * n), sizeof(double)));
    rc = ok ? ISING_OK : ISING_ERR(ISING_ERR_MEM, "out of memory (reading the series back)");
    if (!rc) rc = ising_output_read_rows(E->out, n, sweep, cols, rep, E->n_T > 1 ? tix : NULL);
    E->rows = 0;
    for (int64_t k = 0; k < n && !rc; k++) {
      rc = grow_history(E);
      for (int tc = 0; tc < TC && !rc; tc++) {
        double row[NCOL];
        for (int q = 0; q < NCOL; q++) row[q] = cols[q][tc * n + k];
        rc = series_push(&E->all[tc], sweep[k], row);
        E->rep_hist[k * E->R + tc] = rep[tc * n + k];
      }
      for (int r = 0; r < E->R && !rc; r++) E->tindex[k * E->R + r] = E->n_T > 1 ? tix[r * n + k] : 0;
      E->rows++;
    }
    free(sweep);
    free(rep);
    free(tix);
    for (int q = 0; q < NCOL; q++) free(cols[q]);
  }
  int bad = rc;
  ISING_CALL(ising_world_max_int(E->lay, &bad));
  if (bad) return rc ? rc : ISING_ERR(bad, "reading the series back failed on rank 0");
  E->rows = E->flushed = st.rows;
  *from = st.sweeps_done;
  return ISING_OK;
}

int ising_resume(MPI_Comm comm, const char *path, int nset, char *const *set, int64_t sweeps,
                 const ising_run_options *opt, ising_run_result *res) {
  ising_run_options none = {0};
  ising_run_result local;
  if (!opt) opt = &none;
  if (!res) res = &local;
  memset(res, 0, sizeof *res);
  /* the output's name, also when a checkpoint was named */
  char output[ISING_PATH_MAX];
  snprintf(output, sizeof output, "%s", path);
  size_t len = strlen(output);
  if (len > 9 && strcmp(output + len - 9, ".ckpt.old") == 0)
    output[len - 9] = '\0';
  else if (len > 5 && strcmp(output + len - 5, ".ckpt") == 0)
    output[len - 5] = '\0';
  ising_config cfg;
  ising_config_defaults(&cfg);
  int rc = parse_resumed(comm, output, nset, set, sweeps, &cfg);
  engine E = {0};
  E.cfg = &cfg;
  E.lock_fd = -1;
  struct sigaction old[N_STOP_SIGNALS];
  install_handlers(old);
  int64_t from = 0;
  if (!rc) rc = setup(&E, comm, opt, res, 1);
  if (!rc) rc = resume_state(&E, &from);
  if (!rc) rc = engine_loop(&E, opt, res, from);
  if (!rc) rc = finish(&E, opt, res);
  restore_handlers(old);
  int rc2, rc3;
  engine_free(&E, &rc2, &rc3);
  ising_config_free(&cfg);
  if (res == &local) free(local.summaries);
  if (rc) return rc;
  if (rc2 || rc3) return rc2 ? rc2 : rc3;
  return res->stopped ? ISING_STOPPED : ISING_OK;
}
