/*
 * test_tempering.c -- replica-exchange decisions and bookkeeping: the swap
 * frequency equals min(1, exp((b_i - b_j)(E_a - E_b))) within its binomial
 * error (and a wrong rule is rejected by the same check), labels stay a
 * permutation per copy, round trips match an independent count, and the
 * feedback ladder keeps a balanced ladder fixed and moves temperatures
 * towards a bottleneck.
 */
#include <check.h>
#include <math.h>

#include "ising/error.h"
#include "ising/tempering.h"
#include "testutil.h"

START_TEST(swap_probability) {
  const double T[2] = {1.0, 2.0};
  ising_tempering *t = NULL;
  ck_assert_int_eq(ising_tempering_create(2, 1, T, &t), ISING_OK);
  ising_rng_key key = ising_rng_key_from_seed(3);
  /* replica 0 (at T=1) has the higher energy: swap probability is
   * exp((1 - 0.5)(E0 - E1)) with E0 - E1 = -1.2 after we keep energies tied
   * to the replica at each temperature */
  int64_t tried = 0, swapped = 0;
  ising_test_tally odd = {0};
  for (uint64_t s = 0; s < 200000; s++) {
    double E[2];
    E[t->rep_at[0]] = -3.0; /* energy of whoever is at T = 1 */
    E[t->rep_at[1]] = -1.8; /* energy of whoever is at T = 2 */
    int before = t->rep_at[0];
    ising_tempering_exchange(t, key, s, E);
    if (s % 2 == 0) {
      tried++;
      swapped += t->rep_at[0] != before;
    } else { /* odd step: no pair for n_T = 2 */
      ising_test_check(&odd, t->rep_at[0] == before, "step %llu swapped", (unsigned long long)s);
    }
  }
  ising_test_tally_assert(&odd);
  double p = exp((1.0 - 0.5) * (-3.0 - -1.8)), rate = (double)swapped / (double)tried;
  double sigma = sqrt(p * (1 - p) / (double)tried);
  ck_assert_msg(fabs(rate - p) < 5 * sigma, "swap rate %g, exact %g +- %g", rate, p, sigma);
  /* power: the rule with the opposite sign of delta would give 1 */
  ck_assert(fabs(rate - 1.0) > 50 * sigma);
  ck_assert_int_eq(t->attempts[0], tried);
  ck_assert_int_eq(t->accepts[0], swapped);
  ising_tempering_destroy(&t);
}
END_TEST

START_TEST(labels_and_round_trips) {
  enum { N = 5, C = 2 };
  double T[N] = {1.0, 1.3, 1.7, 2.2, 3.0};
  ising_tempering *t = NULL;
  ck_assert_int_eq(ising_tempering_create(N, C, T, &t), ISING_OK);
  ising_rng_key key = ising_rng_key_from_seed(9);
  int dir[N * C] = {0};
  int64_t trips[N * C] = {0};
  ising_test_tally tally = {0};
  for (uint64_t s = 0; s < 4000; s++) {
    double E[N * C];
    for (int r = 0; r < N * C; r++) E[r] = -(double)((r * 7 + (int)s) % 11); /* arbitrary */
    ising_tempering_exchange(t, key, s, E);
    for (int c = 0; c < C; c++) {
      int seen[N * C] = {0};
      for (int i = 0; i < N; i++) {
        int r = t->rep_at[c * N + i];
        /* replicas never leave their copy */
        const int own = r >= c * N && r < (c + 1) * N;
        ising_test_check(&tally, own, "step %llu: copy %d holds replica %d",
                         (unsigned long long)s, c, r);
        if (!own) continue;
        ising_test_check(&tally, t->temp_of[r] == i, "step %llu: temp_of[%d] = %d, rep_at says %d",
                         (unsigned long long)s, r, t->temp_of[r], i);
        seen[r]++;
      }
      for (int i = 0; i < N; i++)
        ising_test_check(&tally, seen[c * N + i] == 1, "step %llu: replica %d seen %d times",
                         (unsigned long long)s, c * N + i, seen[c * N + i]);
    }
    /* independent round-trip count from the labels */
    for (int r = 0; r < N * C; r++) {
      int i = t->temp_of[r];
      if (i == 0 && dir[r] == -1) trips[r]++;
      if (i == 0) dir[r] = 1;
      if (i == N - 1) dir[r] = -1;
    }
  }
  ising_test_tally_assert(&tally);
  int64_t total = 0;
  for (int r = 0; r < N * C; r++) {
    ck_assert_int_eq(t->round_trips[r], trips[r]);
    total += trips[r];
  }
  ck_assert_int_gt(total, 10);
  ising_tempering_reset_stats(t);
  ck_assert_int_eq(t->round_trips[0] + t->attempts[0] + t->n_up[0], 0);
  ising_tempering_destroy(&t);
}
END_TEST

START_TEST(feedback_ladder) {
  enum { N = 6 };
  double T[N] = {1.0, 1.2, 1.5, 1.9, 2.4, 3.0}, out[N], f[N];
  /* balanced flow (f linear in the index): the ladder is a fixed point */
  for (int i = 0; i < N; i++) f[i] = 1.0 - (double)i / (N - 1);
  ising_tempering_feedback_ladder(N, T, f, out);
  for (int i = 0; i < N; i++) ck_assert_double_eq_tol(out[i], T[i], 1e-12);
  /* a bottleneck in [1.5, 1.9] (f drops by 0.8 there): temperatures move in */
  double g[N] = {1.0, 0.95, 0.9, 0.1, 0.05, 0.0};
  ising_tempering_feedback_ladder(N, T, g, out);
  ck_assert_double_eq(out[0], 1.0);
  ck_assert_double_eq(out[N - 1], 3.0);
  for (int i = 1; i < N; i++) ck_assert_double_gt(out[i], out[i - 1]);
  /* interval weights sqrt(df) = .224 .224 .894 .224 .224: the bottleneck
   * holds half of the 5 gaps, so the gap around T = 1.7 shrinks from 0.4 to
   * 0.4 / 2.5 = 0.16 */
  for (int i = 0; i + 1 < N; i++)
    if (out[i] <= 1.7 && out[i + 1] > 1.7) ck_assert_double_eq_tol(out[i + 1] - out[i], 0.16, 1e-9);
}
END_TEST

START_TEST(bad_ladders) {
  ising_tempering *t = NULL;
  double down[2] = {2.0, 1.0}, neg[2] = {-1.0, 1.0};
  ck_assert_int_eq(ising_tempering_create(2, 1, down, &t), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_tempering_create(2, 1, neg, &t), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_tempering_create(2, 0, down, &t), ISING_ERR_INPUT);
  ck_assert_ptr_null(t);
  ising_err_clear();
}
END_TEST

int main(void) {
  Suite *s = suite_create("tempering");
  TCase *tc = tcase_create("tempering");
  tcase_add_test(tc, swap_probability);
  tcase_add_test(tc, labels_and_round_trips);
  tcase_add_test(tc, feedback_ladder);
  tcase_add_test(tc, bad_ladders);
  suite_add_tcase(s, tc);
  return ising_test_run_suite(s);
}
