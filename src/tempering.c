/*
 * tempering.c -- replica-exchange decisions and statistics (see tempering.h).
 */
#include "ising/tempering.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/model.h"

int ising_tempering_create(int n_T, int copies, const double *T, ising_tempering **out) {
  *out = NULL;
  ISING_CHECK(n_T >= 1 && copies >= 1, ISING_ERR_INPUT, "tempering needs >= 1 temperature and copy");
  for (int i = 0; i < n_T; i++)
    ISING_CHECK(isfinite(T[i]) && T[i] > 0 && (i == 0 || T[i] > T[i - 1]), ISING_ERR_INPUT,
                "temperatures must be finite, > 0 and strictly increasing");
  ising_tempering *t = calloc(1, sizeof *t);
  ISING_CHECK(t, ISING_ERR_MEM, "out of memory (tempering)");
  int R = n_T * copies;
  t->n_T = n_T;
  t->copies = copies;
  t->R = R;
  t->T = malloc((size_t)n_T * sizeof *t->T);
  t->beta = malloc((size_t)n_T * sizeof *t->beta);
  t->rep_at = malloc((size_t)R * sizeof *t->rep_at);
  t->temp_of = malloc((size_t)R * sizeof *t->temp_of);
  t->direction = calloc((size_t)R, sizeof *t->direction);
  t->round_trips = calloc((size_t)R, sizeof *t->round_trips);
  t->attempts = calloc((size_t)n_T, sizeof *t->attempts);
  t->accepts = calloc((size_t)n_T, sizeof *t->accepts);
  t->n_up = calloc((size_t)n_T, sizeof *t->n_up);
  t->n_down = calloc((size_t)n_T, sizeof *t->n_down);
  if (!t->T || !t->beta || !t->rep_at || !t->temp_of || !t->direction || !t->round_trips ||
      !t->attempts || !t->accepts || !t->n_up || !t->n_down) {
    ising_tempering_destroy(&t);
    return ISING_ERR(ISING_ERR_MEM, "out of memory (tempering)");
  }
  for (int i = 0; i < n_T; i++) {
    t->T[i] = T[i];
    t->beta[i] = 1.0 / T[i];
  }
  for (int r = 0; r < R; r++) {
    t->rep_at[r] = r;
    t->temp_of[r] = r % n_T;
  }
  *out = t;
  return ISING_OK;
}

int ising_tempering_check(const ising_tempering *t, const char *source) {
  const int n = t->n_T, R = t->R;
  ISING_CHECK(n >= 1 && t->copies >= 1 && R == n * t->copies, ISING_ERR_INPUT,
              "%s: tempering state of %d replicas for %d temperatures x %d copies", source, R, n,
              t->copies);
  for (int i = 0; i < n; i++) {
    ISING_CHECK(isfinite(t->T[i]) && t->T[i] > 0 && (i == 0 || t->T[i] > t->T[i - 1]),
                ISING_ERR_INPUT, "%s: tempering T[%d] = %.17g: the ladder must be finite, > 0 "
                "and strictly increasing", source, i, t->T[i]);
    ISING_CHECK(t->beta[i] == 1.0 / t->T[i], ISING_ERR_INPUT,
                "%s: tempering beta[%d] is not 1/T[%d]", source, i, i);
    ISING_CHECK(t->attempts[i] >= 0 && t->accepts[i] >= 0 && t->accepts[i] <= t->attempts[i] &&
                t->n_up[i] >= 0 && t->n_down[i] >= 0, ISING_ERR_INPUT,
                "%s: tempering counts of temperature %d are negative or inconsistent", source, i);
  }
  ISING_CHECK(t->steps >= 0, ISING_ERR_INPUT, "%s: tempering steps = %lld < 0", source,
              (long long)t->steps);
  for (int k = 0; k < R; k++) {
    int c = k / n, r = t->rep_at[k];
    ISING_CHECK(r >= c * n && r < (c + 1) * n, ISING_ERR_INPUT,
                "%s: tempering rep_at[%d] = %d is not a replica of copy %d", source, k, r, c);
    ISING_CHECK(t->temp_of[r] == k % n, ISING_ERR_INPUT,
                "%s: tempering temp_of[%d] = %d, but rep_at says %d", source, r, t->temp_of[r], k % n);
    ISING_CHECK(t->direction[k] >= -1 && t->direction[k] <= 1 && t->round_trips[k] >= 0,
                ISING_ERR_INPUT, "%s: tempering direction or round trips of replica %d out of range",
                source, k);
  }
  return ISING_OK;
}

void ising_tempering_destroy(ising_tempering **tp) {
  if (!tp || !*tp) return;
  ising_tempering *t = *tp;
  free(t->T);
  free(t->beta);
  free(t->rep_at);
  free(t->temp_of);
  free(t->direction);
  free(t->round_trips);
  free(t->attempts);
  free(t->accepts);
  free(t->n_up);
  free(t->n_down);
  free(t);
  *tp = NULL;
}

/* Directions, round trips and the label histogram after the labels moved. */
static void update_labels(ising_tempering *t) {
  for (int r = 0; r < t->R; r++) {
    int i = t->temp_of[r];
    if (i == 0) {
      if (t->direction[r] == -1) t->round_trips[r]++;
      t->direction[r] = +1;
    } else if (i == t->n_T - 1) {
      t->direction[r] = -1;
    }
    if (t->direction[r] == +1) t->n_up[i]++;
    if (t->direction[r] == -1) t->n_down[i]++;
  }
}

void ising_tempering_exchange(ising_tempering *t, ising_rng_key key, uint64_t sweep,
                              const double *E) {
  const int n = t->n_T;
  const uint32_t c3 = ising_rng_c3(0, ISING_RNG_TEMPER, 0);
  for (int c = 0; c < t->copies; c++)
    for (int i = (int)(t->steps & 1); i + 1 < n; i += 2) {
      int *at = t->rep_at + c * n;
      int a = at[i], b = at[i + 1];
      double delta = (t->beta[i] - t->beta[i + 1]) * (E[a] - E[b]);
      double p = delta >= 0 ? 1.0 : exp(delta);
      uint32_t u[4];
      ising_rng_block(key, (uint64_t)(c * n + i), (uint32_t)sweep, c3, u);
      t->attempts[i]++;
      if (u[0] <= ising_model_threshold(p)) {
        at[i] = b;
        at[i + 1] = a;
        t->temp_of[b] = i;
        t->temp_of[a] = i + 1;
        t->accepts[i]++;
      }
    }
  t->steps++;
  update_labels(t);
}

void ising_tempering_reset_stats(ising_tempering *t) {
  memset(t->round_trips, 0, (size_t)t->R * sizeof *t->round_trips);
  memset(t->attempts, 0, (size_t)t->n_T * sizeof *t->attempts);
  memset(t->accepts, 0, (size_t)t->n_T * sizeof *t->accepts);
  memset(t->n_up, 0, (size_t)t->n_T * sizeof *t->n_up);
  memset(t->n_down, 0, (size_t)t->n_T * sizeof *t->n_down);
}

void ising_tempering_feedback_ladder(int n, const double *T, const double *f, double *out) {
  /* weight of interval i: sqrt(f_i - f_i+1), floored so that a noisy or
   * flat stretch keeps some temperatures */
  double w[ISING_MAX_TEMPS_FEEDBACK], total = 0;
  for (int i = 0; i + 1 < n; i++) {
    double df = f[i] - f[i + 1];
    if (!(df > 1e-3 / n)) df = 1e-3 / n;
    w[i] = sqrt(df);
    total += w[i];
  }
  out[0] = T[0];
  out[n - 1] = T[n - 1];
  double acc = 0;
  int i = 0;
  for (int k = 1; k + 1 < n; k++) {
    double target = total * k / (n - 1);
    while (i + 1 < n - 1 && acc + w[i] < target) acc += w[i++];
    double frac = (target - acc) / w[i];
    if (frac > 1) frac = 1;
    out[k] = T[i] + frac * (T[i + 1] - T[i]);
  }
}

int ising_tempering_adapt(ising_tempering *t) {
  const int n = t->n_T;
  if (n < 3) return ISING_OK;
  double f[ISING_MAX_TEMPS_FEEDBACK], T[ISING_MAX_TEMPS_FEEDBACK];
  for (int i = 0; i < n; i++) {
    int64_t tot = t->n_up[i] + t->n_down[i];
    ISING_CHECK(tot > 0, ISING_ERR_INPUT,
                "ladder feedback: no labelled replica visited T = %g yet; lengthen "
                "[montecarlo] thermalization or lower [tempering] adapt_rounds", t->T[i]);
    f[i] = (double)t->n_up[i] / (double)tot;
    T[i] = t->T[i];
  }
  ising_tempering_feedback_ladder(n, T, f, t->T);
  for (int i = 0; i < n; i++) t->beta[i] = 1.0 / t->T[i];
  memset(t->n_up, 0, (size_t)n * sizeof *t->n_up);
  memset(t->n_down, 0, (size_t)n * sizeof *t->n_down);
  return ISING_OK;
}
