/*
 * glass.c -- the results of a run with [disorder] (engine.h): per sample
 * and temperature the thermal averages with binning errors (copies pooled
 * for e, |m|, m^2; copy pairs pooled for the overlaps), their averages over
 * the samples with jackknife errors over samples, the log-binned
 * equilibration check and, for gaussian couplings, the identity
 * e = -dim beta J^2 (1 - [<q_l>]) (Katzgraber, Palassini and Young).
 * World rank 0 computes from the series it holds; the tables are written
 * collectively; rank 0 prints.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "h5util.h"
#include "ising/error.h"
#include "ising/stats.h"

#define FP ISING_SERIES_FIRST_PAIR
#define LEVELS_MAX 8
#define M_PI_VALUE 3.14159265358979323846264338327950288

/* per-sample quantities (sample, temperature) */
enum { S_E, S_MABS, S_M2, S_Q2, S_Q4, S_QABS, S_QL, S_NVAL };
static const char *const sample_names[S_NVAL] = {"e", "m_abs", "m2", "q2", "q4", "q_abs", "ql"};
/* disorder averages per temperature */
enum { D_Q2, D_Q4, D_G, D_CHI, D_XI, D_XIL, D_QL, D_E, D_C, D_EID, D_EDIFF, D_NVAL };
static const char *const dis_names[D_NVAL] = {"q2", "q4", "g", "chi_sg", "xi_sg", "xi_sg_over_L",
                                             "ql", "e", "c", "e_identity", "e_identity_diff"};

typedef struct glass {
  int S, n_T, levels, identity;
  double *val, *err;        /* [S_NVAL][S][n_T] */
  double *c, *sq0, *sqk;    /* [S][n_T] */
  double dv[D_NVAL][ISING_MAX_TEMPS], de[D_NVAL][ISING_MAX_TEMPS];
  double frac[LEVELS_MAX];
  double *lq2, *lq2e, *le, *lee; /* [levels][n_T] */
} glass;

static double mean_of(const double *x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += x[i];
  return s / (double)n;
}

/* Sample s at temperature t: the thermal averages. */
static int sample_stats(engine *E, glass *G, int s, int t, double *buf) {
  const int64_t n = E->all[0].n, cps = E->cps, N = ising_config_sites(E->cfg);
  const double beta = 1.0 / E->temper->T[t];
  const size_t at = (size_t)s * (size_t)G->n_T + (size_t)t, plane = (size_t)G->S * (size_t)G->n_T;
  double *col[4];
  for (int q = 0; q < 4; q++) col[q] = buf + (size_t)q * (size_t)(n * cps);
  static const int use[4] = {0, 2, 3, 4};
  for (int c = 0; c < cps; c++)
    for (int q = 0; q < 4; q++)
      memcpy(col[q] + c * n, E->all[t * E->copies + s * cps + c].col[use[q]], (size_t)n * sizeof(double));
  ising_summary sum;
  ISING_CALL(ising_summary_compute(col[0], col[1], col[2], col[3], n * cps, beta, N, &sum));
  G->val[S_E * plane + at] = sum.e;
  G->err[S_E * plane + at] = sum.e_err;
  G->val[S_MABS * plane + at] = sum.m_abs;
  G->err[S_MABS * plane + at] = sum.m_abs_err;
  G->val[S_M2 * plane + at] = sum.m2;
  G->err[S_M2 * plane + at] = sum.m2_err;
  G->c[at] = sum.c;
  if (!E->pairs) {
    for (int k = S_Q2; k <= S_QL; k++) G->val[k * plane + at] = G->err[k * plane + at] = NAN;
    G->sq0[at] = G->sqk[at] = NAN;
    return ISING_OK;
  }
  const int64_t P = E->pairs, m = n * P;
  double *x = buf, *sk = buf + m;
  for (int k = S_Q2; k <= S_QL; k++) {
    for (int p = 0; p < P; p++) {
      const series *ps = &E->pall[t * E->n_pairs_all + s * P + p];
      for (int64_t i = 0; i < n; i++) {
        double q = ps->col[FP][i];
        x[p * n + i] = k == S_Q2 ? q * q : k == S_Q4 ? q * q * q * q : k == S_QABS ? fabs(q) : ps->col[FP + 1][i];
        if (k == S_Q2) sk[p * n + i] = ps->col[FP + 2][i];
      }
    }
    ising_binning b;
    ISING_CALL(ising_binning_analyze(x, m, &b));
    G->val[k * plane + at] = b.mean;
    G->err[k * plane + at] = b.err;
    if (k == S_Q2) {
      G->sq0[at] = (double)N * b.mean;
      G->sqk[at] = mean_of(sk, m);
    }
  }
  return ISING_OK;
}

/* The disorder averages at temperature t from the sample means a[S][NA]
 * (columns: q2, q4, sq0, sqk, ql, e, c). */
enum { A_Q2, A_Q4, A_SQ0, A_SQK, A_QL, A_E, A_C, NA };
static void derived(const engine *E, const double *A, int t, double *f) {
  const double N = (double)ising_config_sites(E->cfg), L = (double)E->cfg->L[0];
  const double beta = 1.0 / E->temper->T[t];
  f[D_Q2] = A[A_Q2];
  f[D_Q4] = A[A_Q4];
  f[D_G] = 0.5 * (3.0 - A[A_Q4] / (A[A_Q2] * A[A_Q2]));
  f[D_CHI] = N * A[A_Q2];
  double r = A[A_SQ0] / A[A_SQK] - 1.0;
  f[D_XI] = r >= 0 ? sqrt(r) / (2.0 * sin(M_PI_VALUE / L)) : NAN;
  f[D_XIL] = f[D_XI] / L;
  f[D_QL] = A[A_QL];
  f[D_E] = A[A_E];
  f[D_C] = A[A_C];
  f[D_EID] = -(double)E->cfg->dim * beta * E->cfg->J * E->cfg->J * (1.0 - A[A_QL]);
  f[D_EDIFF] = f[D_E] - f[D_EID];
}

static int averages(engine *E, glass *G) {
  const int S = G->S, nT = G->n_T;
  const size_t plane = (size_t)S * (size_t)nT;
  double *a = malloc((size_t)S * NA * sizeof *a);
  ISING_CHECK(a, ISING_ERR_MEM, "out of memory (disorder averages)");
  for (int t = 0; t < nT; t++) {
    double sumA[NA] = {0}, A[NA], f[D_NVAL], fj[D_NVAL], jm[D_NVAL] = {0}, jv[D_NVAL] = {0};
    for (int s = 0; s < S; s++) {
      size_t at = (size_t)s * (size_t)nT + (size_t)t;
      double *x = a + (size_t)s * NA;
      x[A_Q2] = G->val[S_Q2 * plane + at];
      x[A_Q4] = G->val[S_Q4 * plane + at];
      x[A_SQ0] = G->sq0[at];
      x[A_SQK] = G->sqk[at];
      x[A_QL] = G->val[S_QL * plane + at];
      x[A_E] = G->val[S_E * plane + at];
      x[A_C] = G->c[at];
      for (int k = 0; k < NA; k++) sumA[k] += x[k];
    }
    for (int k = 0; k < NA; k++) A[k] = sumA[k] / S;
    derived(E, A, t, f);
    for (int s = 0; s < S && S > 1; s++) {
      double Aj[NA];
      for (int k = 0; k < NA; k++) Aj[k] = (sumA[k] - a[(size_t)s * NA + k]) / (S - 1);
      derived(E, Aj, t, fj);
      for (int k = 0; k < D_NVAL; k++) {
        jm[k] += fj[k];
        jv[k] += fj[k] * fj[k];
      }
    }
    for (int k = 0; k < D_NVAL; k++) {
      G->dv[k][t] = f[k];
      if (S > 1) {
        double mu = jm[k] / S, var = jv[k] / S - mu * mu;
        G->de[k][t] = sqrt((S - 1) * (var > 0 ? var : 0));
      } else { /* one sample: its thermal errors where they exist */
        size_t at = (size_t)t;
        G->de[k][t] = k == D_Q2 ? G->err[S_Q2 * plane + at] : k == D_Q4 ? G->err[S_Q4 * plane + at]
                      : k == D_QL ? G->err[S_QL * plane + at] : k == D_E ? G->err[S_E * plane + at]
                      : k == D_CHI ? (double)ising_config_sites(E->cfg) * G->err[S_Q2 * plane + at]
                                   : NAN;
      }
    }
  }
  free(a);
  return ISING_OK;
}

/* [<q^2>] and [e] over the last n / 2^k measurements, k = 1 .. levels. */
static void levels(engine *E, glass *G) {
  const int64_t n = E->all[0].n;
  const int S = G->S, nT = G->n_T;
  G->levels = 0;
  for (int k = 1; k <= LEVELS_MAX && (n >> k) >= 1; k++) G->levels = k;
  for (int k = 1; k <= G->levels; k++) {
    const int64_t m = n >> k, from = n - m;
    G->frac[k - 1] = 1.0 / (double)(1 << k);
    for (int t = 0; t < nT; t++) {
      double sq = 0, sq2 = 0, se = 0, se2 = 0;
      for (int s = 0; s < S; s++) {
        double e = 0, q2 = 0;
        for (int c = 0; c < E->cps; c++) {
          const double *x = E->all[t * E->copies + s * E->cps + c].col[0];
          for (int64_t i = from; i < n; i++) e += x[i];
        }
        e /= (double)(m * E->cps);
        for (int p = 0; p < E->pairs; p++) {
          const double *x = E->pall[t * E->n_pairs_all + s * E->pairs + p].col[FP];
          for (int64_t i = from; i < n; i++) q2 += x[i] * x[i];
        }
        q2 = E->pairs ? q2 / (double)(m * E->pairs) : NAN;
        sq += q2;
        sq2 += q2 * q2;
        se += e;
        se2 += e * e;
      }
      const size_t at = (size_t)(k - 1) * (size_t)nT + (size_t)t;
      G->lq2[at] = sq / S;
      G->le[at] = se / S;
      double vq = sq2 / S - (sq / S) * (sq / S), ve = se2 / S - (se / S) * (se / S);
      G->lq2e[at] = S > 1 ? sqrt((vq > 0 ? vq : 0) / (S - 1)) : NAN;
      G->lee[at] = S > 1 ? sqrt((ve > 0 ? ve : 0) / (S - 1)) : NAN;
    }
  }
}

static void glass_free(glass *G) {
  if (!G) return;
  free(G->val);
  free(G->err);
  free(G->c);
  free(G->sq0);
  free(G->sqk);
  free(G->lq2);
  free(G->lq2e);
  free(G->le);
  free(G->lee);
  free(G);
}

/* World rank 0: everything above; the summaries' e and c become the
 * disorder averages with their jackknife errors. */
static int compute(engine *E, ising_run_result *res, glass *G) {
  const size_t plane = (size_t)G->S * (size_t)G->n_T;
  const int64_t n = E->all[0].n, w = n * (E->cps > E->pairs ? E->cps : E->pairs) * 4 + 1;
  double *buf = malloc((size_t)w * sizeof *buf);
  ISING_CHECK(buf, ISING_ERR_MEM, "out of memory (disorder results)");
  int rc = ISING_OK;
  for (int s = 0; s < G->S && !rc; s++)
    for (int t = 0; t < G->n_T && !rc; t++) rc = sample_stats(E, G, s, t, buf);
  free(buf);
  (void)plane;
  ISING_CALL(rc);
  ISING_CALL(averages(E, G));
  levels(E, G);
  for (int t = 0; t < G->n_T && G->S > 1; t++) {
    ising_summary *su = &res->summaries[t];
    su->e = G->dv[D_E][t];
    su->e_err = G->de[D_E][t];
    su->c = G->dv[D_C][t];
    su->c_err = G->de[D_C][t];
  }
  return ISING_OK;
}

int engine_glass_results(engine *E, ising_run_result *res) {
  const ising_config *cfg = E->cfg;
  glass *G = calloc(1, sizeof *G);
  ISING_CHECK(G, ISING_ERR_MEM, "out of memory");
  G->S = E->samples;
  G->n_T = E->n_T;
  G->identity = cfg->dis_couplings == ISING_DIS_GAUSSIAN && !cfg->dis_file[0] &&
                cfg->bond_dilution == 0 && cfg->dis_fields == ISING_FIELDS_NONE && cfg->H == 0 &&
                E->pairs > 0;
  const size_t plane = (size_t)G->S * (size_t)G->n_T, lv = (size_t)LEVELS_MAX * (size_t)G->n_T;
  G->val = calloc(S_NVAL * plane, sizeof *G->val);
  G->err = calloc(S_NVAL * plane, sizeof *G->err);
  G->c = calloc(plane, sizeof *G->c);
  G->sq0 = calloc(plane, sizeof *G->sq0);
  G->sqk = calloc(plane, sizeof *G->sqk);
  G->lq2 = calloc(lv, sizeof(double));
  G->lq2e = calloc(lv, sizeof(double));
  G->le = calloc(lv, sizeof(double));
  G->lee = calloc(lv, sizeof(double));
  int rc = G->val && G->err && G->c && G->sq0 && G->sqk && G->lq2 && G->lq2e && G->le && G->lee
               ? ISING_OK : ISING_ERR(ISING_ERR_MEM, "out of memory (disorder results)");
  if (!rc && E->lay->world_rank == 0) rc = compute(E, res, G);
  rc = ising_h5_agree(E->lay->world, rc);
  if (!rc) rc = ising_world_bcast(E->lay, &G->levels, (int)sizeof G->levels, 0);
  if (!rc)
    rc = ising_world_bcast(E->lay, res->summaries, (int)((size_t)E->n_T * sizeof *res->summaries), 0);
  E->glass = G;
  return rc;
}

int engine_glass_write(engine *E) {
  glass *G = E->glass;
  const int nT = G->n_T, S = G->S;
  const size_t plane = (size_t)S * (size_t)nT;
  for (int k = 0; k < S_NVAL; k++) {
    if (k >= S_Q2 && !E->pairs) break;
    char name[64];
    ISING_CALL(ising_output_write_matrix(E->out, "samples", sample_names[k], S, nT, G->val + k * plane));
    snprintf(name, sizeof name, "%s_err", sample_names[k]);
    ISING_CALL(ising_output_write_matrix(E->out, "samples", name, S, nT, G->err + k * plane));
  }
  const char *names[2 * D_NVAL];
  char nbuf[D_NVAL][48];
  double *v = malloc((size_t)(2 * D_NVAL * nT) * sizeof *v);
  ISING_CHECK(v, ISING_ERR_MEM, "out of memory");
  int m = 0;
  for (int k = 0; k < D_NVAL; k++) {
    if (k == D_E || k == D_C) continue; /* in /summary already (the disorder averages) */
    if ((k == D_EID || k == D_EDIFF) && !G->identity) continue;
    if (k != D_EID && k != D_EDIFF && !E->pairs) continue;
    snprintf(nbuf[k], sizeof nbuf[k], "%s_err", dis_names[k]);
    names[m] = dis_names[k];
    memcpy(v + (size_t)m * nT, G->dv[k], (size_t)nT * sizeof *v);
    m++;
    names[m] = nbuf[k];
    memcpy(v + (size_t)m * nT, G->de[k], (size_t)nT * sizeof *v);
    m++;
  }
  int rc = m ? ising_output_write_values(E->out, "summary", m, names, nT, v) : ISING_OK;
  free(v);
  ISING_CALL(rc);
  if (G->levels > 0 && E->pairs) {
    ISING_CALL(ising_output_write_matrix(E->out, "equilibration", "fraction", 1, G->levels, G->frac));
    ISING_CALL(ising_output_write_matrix(E->out, "equilibration", "q2", G->levels, nT, G->lq2));
    ISING_CALL(ising_output_write_matrix(E->out, "equilibration", "q2_err", G->levels, nT, G->lq2e));
    ISING_CALL(ising_output_write_matrix(E->out, "equilibration", "e", G->levels, nT, G->le));
    ISING_CALL(ising_output_write_matrix(E->out, "equilibration", "e_err", G->levels, nT, G->lee));
  }
  return ISING_OK;
}

void engine_glass_print(const engine *E) {
  const glass *G = E->glass;
  if (!G || !E->pairs) return;
  printf("disorder averages over %d sample%s (errors: %s)\n", G->S, G->S > 1 ? "s" : "",
         G->S > 1 ? "jackknife over samples" : "thermal, one sample");
  printf("  %10s %21s %21s %21s %21s\n", "T", "[<q^2>]", "g", "xi_SG/L", "[<q_l>]");
  for (int t = 0; t < G->n_T; t++)
    printf("  %10.6f %10.6f +- %-8.2g %10.6f +- %-8.2g %10.6f +- %-8.2g %10.6f +- %-8.2g\n",
           E->temper->T[t], G->dv[D_Q2][t], G->de[D_Q2][t], G->dv[D_G][t], G->de[D_G][t],
           G->dv[D_XIL][t], G->de[D_XIL][t], G->dv[D_QL][t], G->de[D_QL][t]);
  if (G->identity) {
    printf("gaussian-coupling identity e = -dim beta J^2 (1 - [<q_l>]) (holds in equilibrium):\n");
    for (int t = 0; t < G->n_T; t++)
      printf("  T = %.6f: e = %.6f +- %.2g, identity %.6f +- %.2g, difference %+.2g +- %.2g (%+.1f "
             "sigma)\n", E->temper->T[t], G->dv[D_E][t], G->de[D_E][t], G->dv[D_EID][t],
             G->de[D_EID][t], G->dv[D_EDIFF][t], G->de[D_EDIFF][t],
             G->dv[D_EDIFF][t] / G->de[D_EDIFF][t]);
  }
  printf("equilibration at T = %.6f: [<q^2>] over the last", E->temper->T[0]);
  for (int k = 0; k < G->levels; k++)
    printf(" 1/%d: %.5f+-%.2g", 1 << (k + 1), G->lq2[(size_t)k * G->n_T], G->lq2e[(size_t)k * G->n_T]);
  printf(" (equilibrated when they agree)\n");
}

void engine_glass_free(engine *E) {
  glass_free(E->glass);
  E->glass = NULL;
}
