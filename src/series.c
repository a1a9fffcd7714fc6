/*
 * series.c -- the engine's time series (engine.h): one row per measurement
 * and (temperature, copy), with the replica that supplied it and every
 * replica's temperature index, buffered on world rank 0 for the summaries
 * at the end and appended to the output in chunks (the rows past
 * E->flushed are not in the file yet).  After a resume the rows up to the
 * checkpoint are read back from the output, so the summaries cover the
 * whole run.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "h5util.h"
#include "ising/error.h"

/* Whether the deck has column q (h5io.h): only those are kept. */
static int col_present(const engine *E, int q) {
  return q < 5 || (q < 7 ? E->cfg->correlation : q < ISING_SERIES_FIRST_PAIR ? E->cstats != NULL
                                                                               : E->n_pairs_all > 0);
}

/* Columns [lo, hi) of a row (those the deck has): the replica columns, or
 * the pair columns. */
static int series_push_cols(const engine *E, series *s, int64_t sweep, const double v[NCOL],
                            int lo, int hi) {
  if (s->n == s->cap) {
    int64_t cap = s->cap ? 2 * s->cap : 1024;
    int64_t *sw = realloc(s->sweep, (size_t)cap * sizeof *sw);
    ISING_CHECK(sw, ISING_ERR_MEM, "out of memory (time series)");
    s->sweep = sw;
    for (int i = lo; i < hi; i++) {
      if (!col_present(E, i)) continue;
      double *c = realloc(s->col[i], (size_t)cap * sizeof *c);
      ISING_CHECK(c, ISING_ERR_MEM, "out of memory (time series)");
      s->col[i] = c;
    }
    s->cap = cap;
  }
  s->sweep[s->n] = sweep;
  for (int i = lo; i < hi; i++)
    if (col_present(E, i)) s->col[i][s->n] = v[i];
  s->n++;
  return ISING_OK;
}
#define FP ISING_SERIES_FIRST_PAIR
static int series_push(const engine *E, series *s, int64_t sweep, const double v[NCOL]) {
  return series_push_cols(E, s, sweep, v, 0, FP);
}
static int pair_push(const engine *E, series *s, int64_t sweep, const double v[NCOL]) {
  return series_push_cols(E, s, sweep, v, FP, NCOL);
}

static void series_free(series *s) {
  free(s->sweep);
  for (int i = 0; i < NCOL; i++) free(s->col[i]);
  memset(s, 0, sizeof *s);
}

int engine_series_create(engine *E) {
  if (E->lay->world_rank != 0) return ISING_OK;
  E->all = calloc((size_t)E->R, sizeof *E->all);
  E->pall = calloc((size_t)E->n_T * (size_t)(E->n_pairs_all ? E->n_pairs_all : 1), sizeof *E->pall);
  ISING_CHECK(E->all && E->pall, ISING_ERR_MEM, "out of memory");
  return ISING_OK;
}

void engine_series_destroy(engine *E) {
  if (E->all)
    for (int r = 0; r < E->R; r++) series_free(&E->all[r]);
  if (E->pall)
    for (int j = 0; j < E->n_T * E->n_pairs_all; j++) series_free(&E->pall[j]);
  free(E->all);
  free(E->pall);
  E->pall = NULL;
  free(E->tindex);
  free(E->rep_hist);
  E->all = NULL;
  E->tindex = E->rep_hist = NULL;
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

int engine_measure(engine *E, int64_t sweep) {
  if (E->lay->world_rank == 0) {
    double N = (double)ising_config_sites(E->cfg);
    ISING_CALL(grow_history(E));
    for (int c = 0; c < E->copies; c++)
      for (int t = 0; t < E->n_T; t++) {
        int r = E->temper->rep_at[c * E->n_T + t];
        double m = (double)E->sums[2 * r + 1] / N, m2 = m * m;
        double row[NCOL] = {E->energy[r] / N, m, fabs(m), m2, m2 * m2, E->corr_vals[2 * r],
                            E->corr_vals[2 * r + 1]};
        for (int q = 0; E->cstats && q < ISING_CLUSTER_NSTATS; q++)
          row[COL_CLUSTER + q] = E->cstats[ISING_CLUSTER_NSTATS * r + q];
        if (E->cstats) row[COL_CLUSTER + ISING_CLUSTER_M2] /= N; /* N <m^2> -> m^2 */
        ISING_CALL(series_push(E, &E->all[t * E->copies + c], sweep, row));
        E->rep_hist[E->rows * E->R + t * E->copies + c] = r;
      }
    for (int r = 0; r < E->R; r++) E->tindex[E->rows * E->R + r] = E->temper->temp_of[r];
    for (int j = 0; E->pairvals && j < E->n_T * E->n_pairs_all; j++) {
      double row[NCOL];
      for (int q = 0; q < 3; q++) row[FP + q] = E->pairvals[3 * j + q];
      ISING_CALL(pair_push(E, &E->pall[j], sweep, row));
    }
  }
  E->rows++;
  return ISING_OK;
}

int engine_flush_rows(engine *E) {
  int64_t n = E->rows - E->flushed, o = E->flushed;
  if (n <= 0) return ISING_OK;
  int rc = ISING_OK;
  double *buf[NCOL] = {NULL};
  int32_t *rep = NULL, *tix = NULL;
  const int64_t *sweep = NULL;
  if (E->lay->world_rank == 0) {
    const int TC = E->n_T * E->copies, TP = E->n_T * E->n_pairs_all;
    for (int q = 0; q < NCOL && !rc; q++) {
      const int pc = q >= FP, W = pc ? TP : TC;
      if (!col_present(E, q)) continue;
      buf[q] = malloc((size_t)(W * n) * sizeof *buf[q]);
      if (!buf[q]) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (output buffer)");
      for (int tc = 0; tc < W && !rc; tc++)
        memcpy(buf[q] + tc * n, (pc ? E->pall : E->all)[tc].col[q] + o, (size_t)n * sizeof(double));
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
  rc = ising_h5_agree(E->lay->world, rc);
  if (!rc)
    rc = ising_output_append(E->out, n, sweep, (const double *const *)buf, rep, tix);
  for (int q = 0; q < NCOL; q++) free(buf[q]);
  free(rep);
  free(tix);
  if (!rc) E->flushed = E->rows;
  return rc;
}

/* World rank 0: the first n rows of the reopened output into the series. */
static int read_rows(engine *E, int64_t n) {
  const int TC = E->n_T * E->copies, TP = E->n_T * E->n_pairs_all;
  double *cols[NCOL] = {0};
  int64_t *sweep = malloc((size_t)n * sizeof *sweep);
  int32_t *rep = malloc((size_t)(TC * n) * sizeof *rep), *tix = malloc((size_t)(E->R * n) * sizeof *tix);
  int ok = sweep && rep && tix;
  for (int q = 0; q < NCOL; q++)
    ok = ok && (cols[q] = calloc((size_t)((q >= FP ? (TP ? TP : 1) : TC) * n), sizeof(double)));
  int rc = ok ? ISING_OK : ISING_ERR(ISING_ERR_MEM, "out of memory (reading the series back)");
  if (!rc) rc = ising_output_read_rows(E->out, n, sweep, cols, rep, E->n_T > 1 ? tix : NULL);
  E->rows = 0;
  for (int64_t k = 0; k < n && !rc; k++) {
    rc = grow_history(E);
    for (int tc = 0; tc < TC && !rc; tc++) {
      double row[NCOL];
      for (int q = 0; q < FP; q++) row[q] = cols[q][tc * n + k];
      rc = series_push(E, &E->all[tc], sweep[k], row);
      E->rep_hist[k * E->R + tc] = rep[tc * n + k];
    }
    for (int r = 0; r < E->R && !rc; r++) E->tindex[k * E->R + r] = E->n_T > 1 ? tix[r * n + k] : 0;
    for (int j = 0; j < TP && !rc; j++) {
      double row[NCOL];
      for (int q = FP; q < NCOL; q++) row[q] = cols[q][j * n + k];
      rc = pair_push(E, &E->pall[j], sweep[k], row);
    }
    E->rows++;
  }
  free(sweep);
  free(rep);
  free(tix);
  for (int q = 0; q < NCOL; q++) free(cols[q]);
  return rc;
}

int engine_series_reload(engine *E, int64_t rows) {
  int rc = E->lay->world_rank == 0 && rows > 0 ? read_rows(E, rows) : ISING_OK;
  ISING_CALL(ising_h5_agree(E->lay->world, rc));
  E->rows = E->flushed = rows;
  return ISING_OK;
}
