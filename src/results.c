/*
 * results.c -- what the engine concludes at the end of a run (engine.h):
 * the summaries per temperature from the time series, the reference values
 * at the final ladder (Kaufman, Onsager, enumeration, the analytic
 * baselines, the free energy by thermodynamic integration), each computed
 * once per temperature, and the output's result tables made from them.
 * The references are pure functions of the deck and the broadcast
 * summaries, so every rank makes the same table.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "h5util.h"
#include "ising/disorder.h"
#include "ising/error.h"
#include "ising/stats.h"

int engine_summaries(engine *E, ising_run_result *res) {
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
    s->chi_p_improved = s->chi_p_improved_err = s->cluster_mean_size = NAN;
    s->cluster_mean_size_err = s->cluster_largest = s->cluster_largest_err = NAN;
    for (int q = 0; !rc && E->cstats && q < 3; q++) {
      /* the copies' cluster columns pooled, binned like the summary */
      for (int c = 0; c < E->copies; c++)
        memcpy(col[0] + c * n, E->all[t * E->copies + c].col[COL_CLUSTER + q], (size_t)n * sizeof(double));
      ising_binning b;
      rc = ising_binning_analyze(col[0], pooled, &b);
      const double f = q == 0 ? (double)ising_config_sites(cfg) / E->temper->T[t] : 1.0;
      double *val = q == 0 ? &s->chi_p_improved : q == 1 ? &s->cluster_mean_size : &s->cluster_largest;
      if (!rc && (q > 0 || cfg->H == 0)) {
        val[0] = f * b.mean;
        val[1] = f * b.err;
      }
    }
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

/* Exact values and baselines at temperature T (failures leave the flag 0). */
static void references(const ising_config *cfg, double T, engine_ref *x) {
  memset(x, 0, sizeof *x);
  if (cfg->dim == 2 && cfg->H == 0.0) {
    x->have_kaufman = ising_exact_kaufman(cfg->L[0], cfg->L[1], cfg->J, T, &x->kaufman) == ISING_OK;
    x->have_onsager = ising_exact_onsager(cfg->J, T, &x->onsager) == ISING_OK;
  }
  if (ising_config_sites(cfg) <= 20)
    x->have_enum = ising_exact_enumerate(cfg->dim, cfg->L, cfg->J, cfg->H, T, &x->enumeration) == ISING_OK;
  x->have_baseline = ising_baseline_compute(2 * cfg->dim, cfg->J, cfg->H, T, &x->baseline) == ISING_OK;
}

/* Free energy by thermodynamic integration over the final ladder (H = 0);
 * ref->why says why not when it cannot be computed. */
static int free_energy(const engine *E, const ising_run_result *r, engine_refs *ref) {
  const ising_config *cfg = E->cfg;
  ref->have_ti = 0;
  if (E->n_T < 2 || cfg->H != 0.0 || !ising_disorder_is_uniform(E->dis)) {
    snprintf(ref->why, sizeof ref->why, "needs a ladder, H = 0 and uniform couplings");
    return ISING_OK;
  }
  for (int k = 0; k < cfg->dim; k++)
    if (cfg->L[k] < 6) {
      snprintf(ref->why, sizeof ref->why, "the high-temperature series needs L >= 6 along every axis");
      return ISING_OK;
    }
  double *v = malloc((size_t)(4 * E->n_T) * sizeof *v);
  ISING_CHECK(v, ISING_ERR_MEM, "out of memory (free energy)");
  for (int t = 0; t < E->n_T; t++) {
    v[t] = r->summaries[t].e;
    v[E->n_T + t] = r->summaries[t].e_err;
    v[2 * E->n_T + t] = r->summaries[t].c;
    v[3 * E->n_T + t] = r->summaries[t].c_err;
  }
  int rc = ising_ti_free_energy(cfg->dim, cfg->J, E->n_T, E->temper->T, v, v + E->n_T,
                                v + 2 * E->n_T, v + 3 * E->n_T, ref->ti);
  if (rc) snprintf(ref->why, sizeof ref->why, "%s", ising_err_message());
  ising_err_clear();
  free(v);
  ref->have_ti = rc == ISING_OK;
  return ISING_OK;
}

int engine_refs_make(const engine *E, ising_run_result *res, engine_refs *ref) {
  memset(ref, 0, sizeof *ref);
  ref->n_T = E->n_T;
  ref->at = calloc((size_t)E->n_T, sizeof *ref->at);
  ref->ti = calloc((size_t)E->n_T, sizeof *ref->ti);
  ISING_CHECK(ref->at && ref->ti, ISING_ERR_MEM, "out of memory (references)");
  for (int t = 0; t < E->n_T; t++) /* the uniform model's: none for quenched disorder */
    if (ising_disorder_is_uniform(E->dis)) references(E->cfg, E->temper->T[t], &ref->at[t]);
  ising_err_clear();
  /* the single-temperature table's references, at the first temperature */
  const engine_ref *x = &ref->at[0];
  res->have_kaufman = x->have_kaufman;
  res->have_onsager = x->have_onsager;
  res->have_enum = x->have_enum;
  res->kaufman = x->kaufman;
  res->onsager = x->onsager;
  res->enumeration = x->enumeration;
  return free_energy(E, res, ref);
}

void engine_refs_free(engine_refs *ref) {
  free(ref->at);
  free(ref->ti);
  ref->at = NULL;
  ref->ti = NULL;
}

/* /summary, /baseline and /reference, one entry per temperature of the
 * final ladder; a reference group only when it exists at every one. */
static int write_results(engine *E, const engine_refs *ref, const ising_summary *sum) {
  const ising_config *cfg = E->cfg;
  const int n_T = E->n_T;
  const double *T = E->temper->T;
  enum { NS = 26, NK = 5, NO = 5, NE = 12, NB = 11 };
  const char *names[NS] = {"T", "e", "e_err", "m_abs", "m_abs_err", "m2", "m2_err", "m4", "m4_err",
                           "U4", "U4_err", "chi", "chi_err", "chi_p", "chi_p_err", "c", "c_err",
                           "tau_e", "tau_m_abs", "bin_size", "n_measurements", "converged",
                           "xi", "xi_err", "xi_over_L", "xi_over_L_err"};
  const char *kn[NK] = {"lnZ", "f", "e", "s", "c"};
  const char *on[NO] = {"f", "e", "s", "c", "m_spontaneous"};
  const char *en[NE] = {"lnZ", "f", "e", "s", "c", "m", "m_abs", "m2", "m4", "U4", "chi", "chi_p"};
  /* the analytic baselines at the same temperatures (baseline.h) */
  const char *bn[NB] = {"m_mf", "f_mf", "e_mf", "s_mf", "f_gbf", "lambda_gbf", "m_bethe", "f_bethe",
                        "e_bethe", "s_bethe", "h_cavity_bethe"};
  double *v = malloc((size_t)(NS + NK + NO + NE + NB) * (size_t)n_T * sizeof *v);
  ISING_CHECK(v, ISING_ERR_MEM, "out of memory (results)");
  double *kv = v + NS * n_T, *ov = kv + NK * n_T, *ev = ov + NO * n_T, *bv = ev + NE * n_T;
  int kauf = 1, enumerate = 1, have_b = 1;
  for (int t = 0; t < n_T; t++) {
    const ising_summary *s = &sum[t];
    const engine_ref *x = &ref->at[t];
    double row[NS] = {T[t], s->e, s->e_err, s->m_abs, s->m_abs_err, s->m2, s->m2_err, s->m4,
                      s->m4_err, s->U4, s->U4_err, s->chi, s->chi_err, s->chi_p, s->chi_p_err, s->c,
                      s->c_err, s->tau_e, s->tau_m_abs, (double)s->bin_size, (double)s->n,
                      (double)s->converged, s->xi, s->xi_err, s->xi / (double)cfg->L[0],
                      s->xi_err / (double)cfg->L[0]};
    for (int q = 0; q < NS; q++) v[q * n_T + t] = row[q];
    const ising_exact_obs *k = &x->kaufman, *o = &x->onsager, *e = &x->enumeration;
    double kr[NK] = {k->lnZ, k->f, k->e, k->s, k->c};
    for (int q = 0; q < NK; q++) kv[q * n_T + t] = kr[q];
    double orow[NO] = {o->f, o->e, o->s, o->c, o->m_abs};
    for (int q = 0; q < NO; q++) ov[q * n_T + t] = orow[q];
    double er[NE] = {e->lnZ, e->f, e->e, e->s, e->c, e->m, e->m_abs, e->m2, e->m4, e->U4, e->chi, e->chi_p};
    for (int q = 0; q < NE; q++) ev[q * n_T + t] = er[q];
    const ising_baseline_point *b = &x->baseline;
    double br[NB] = {b->mf.m, b->mf.f, b->mf.e, b->mf.s, b->gbf.f, b->gbf.lambda, b->bethe.m, b->bethe.f,
                     b->bethe.e, b->bethe.s, b->bethe.h_cavity};
    for (int q = 0; q < NB; q++) bv[q * n_T + t] = br[q];
    kauf &= x->have_kaufman;
    enumerate &= x->have_enum;
    have_b &= x->have_baseline;
  }
  int rc = ising_output_write_values(E->out, "summary", NS, names, n_T, v);
  if (!rc && E->cstats) {
    /* chi' from the clusters where it estimates it (H = 0) */
    const int zero = cfg->H == 0, nc = zero ? 6 : 4;
    const char *cn[6] = {"cluster_mean_size", "cluster_mean_size_err", "cluster_largest_fraction",
                         "cluster_largest_fraction_err", "chi_p_improved", "chi_p_improved_err"};
    for (int t = 0; t < n_T; t++) {
      const ising_summary *s = &sum[t];
      double row[6] = {s->cluster_mean_size, s->cluster_mean_size_err, s->cluster_largest,
                       s->cluster_largest_err, s->chi_p_improved, s->chi_p_improved_err};
      for (int q = 0; q < nc; q++) v[q * n_T + t] = row[q];
    }
    rc = ising_output_write_values(E->out, "summary", nc, cn, n_T, v);
  }
  if (!rc && have_b) rc = ising_output_write_values(E->out, "baseline", NB, bn, n_T, bv);
  if (!rc && kauf) rc = ising_output_write_values(E->out, "reference/kaufman", NK, kn, n_T, kv);
  if (!rc && kauf) rc = ising_output_write_values(E->out, "reference/onsager", NO, on, n_T, ov);
  if (!rc && enumerate) rc = ising_output_write_values(E->out, "reference/enumeration", NE, en, n_T, ev);
  free(v);
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

static int write_free_energy(engine *E, const engine_refs *ref) {
  if (!ref->have_ti) return ISING_OK;
  const ising_ti_point *p = ref->ti;
  enum { NF = 8 };
  const char *names[NF] = {"T", "f", "f_err", "s", "s_err", "lnZ_per_spin", "series_err", "quadrature_err"};
  double *v = malloc((size_t)(NF * E->n_T) * sizeof *v);
  ISING_CHECK(v, ISING_ERR_MEM, "out of memory");
  for (int t = 0; t < E->n_T; t++) {
    double row[NF] = {E->temper->T[t], p[t].f, p[t].f_err, p[t].s, p[t].s_err, p[t].lnZ, p[t].series,
                      p[t].quadrature};
    for (int q = 0; q < NF; q++) v[q * E->n_T + t] = row[q];
  }
  int rc = ising_output_write_values(E->out, "free_energy", NF, names, E->n_T, v);
  free(v);
  return rc;
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

int engine_write_tables(engine *E, const engine_refs *ref, const ising_run_result *res) {
  /* room for the tables (about 80 small datasets, the correlation
   * profiles, round trips per replica), agreed before any is written */
  int64_t N = ising_config_sites(E->cfg);
  uint64_t need = (uint64_t)(80 * (1024 + 8 * E->n_T) + 16 * E->R + 8 * E->n_hist * E->n_T +
                             (E->corr ? 6 * 8 * E->n_T * (N < 4096 ? N : 4096) : 0));
  ISING_CALL(ising_h5_space_check(E->lay->world, E->cfg->file, need, "the result tables"));
  ISING_CALL(write_results(E, ref, res->summaries));
  if (E->n_T >= 2) ISING_CALL(write_tempering(E));
  ISING_CALL(write_free_energy(E, ref));
  if (E->corr) ISING_CALL(write_correlation(E));
  return ISING_OK;
}
