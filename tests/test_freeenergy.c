/*
 * test_freeenergy.c -- thermodynamic integration fed with Kaufman's exact
 * e and c of the 16x16 torus on a geometric ladder: the integrated f must
 * reproduce Kaufman's exact f (the quadrature and the high-temperature
 * series are then the only errors), and the same rule without the slope
 * correction must be visibly worse (the test sees the difference).
 */
#include <check.h>
#include <math.h>

#include "ising/error.h"
#include "ising/exact.h"
#include "ising/freeenergy.h"
#include "testutil.h"

enum { N = 48 };

static void ladder(double *T, double *e, double *c, double lo, double hi) {
  for (int i = 0; i < N; i++) {
    T[i] = lo * pow(hi / lo, (double)i / (N - 1));
    ising_exact_obs k;
    ck_assert_int_eq(ising_exact_kaufman(16, 16, 1.0, T[i], &k), ISING_OK);
    e[i] = k.e;
    c[i] = k.c;
  }
}

START_TEST(exact_inputs) {
  double T[N], e[N], c[N], zero[N] = {0}, nos[N];
  ising_ti_point p[N], q[N];
  ladder(T, e, c, 1.2, 12.0);
  ck_assert_int_eq(ising_ti_free_energy(2, 1.0, N, T, e, zero, c, zero, p), ISING_OK);
  for (int i = 0; i < N; i++) nos[i] = 0; /* slopes switched off: plain trapezoid */
  ck_assert_int_eq(ising_ti_free_energy(2, 1.0, N, T, e, zero, nos, zero, q), ISING_OK);
  double worst = 0, worst_trap = 0;
  for (int i = 0; i < N; i++) {
    ising_exact_obs k;
    ising_exact_kaufman(16, 16, 1.0, T[i], &k);
    worst = fmax(worst, fabs(p[i].f - k.f));
    worst_trap = fmax(worst_trap, fabs(q[i].f - k.f));
    /* the reported error covers the series stretch */
    ck_assert_double_le(fabs(p[i].f - k.f), p[i].f_err + 2e-5);
    ck_assert_double_eq_tol(p[i].s, (k.e - p[i].f) / T[i], 1e-12);
  }
  ck_assert_double_lt(worst, 2e-5);
  ck_assert_double_gt(worst_trap, 5 * worst); /* the slope term matters */
}
END_TEST

/* A coarse ladder (16 points) puts a few 1e-4 of quadrature error near
 * T_c: the error bar must cover it, without being absurdly wide. */
START_TEST(coarse_ladder_budget) {
  enum { M = 16 };
  double T[M], e[M], c[M], zero[M] = {0};
  ising_ti_point p[M];
  for (int i = 0; i < M; i++) {
    T[i] = 1.5 * pow(12.0 / 1.5, (double)i / (M - 1));
    ising_exact_obs k;
    ising_exact_kaufman(16, 16, 1.0, T[i], &k);
    e[i] = k.e;
    c[i] = k.c;
  }
  ck_assert_int_eq(ising_ti_free_energy(2, 1.0, M, T, e, zero, c, zero, p), ISING_OK);
  double worst = 0, widest = 0;
  for (int i = 0; i < M; i++) {
    ising_exact_obs k;
    ising_exact_kaufman(16, 16, 1.0, T[i], &k);
    double dev = fabs(p[i].f - k.f);
    ck_assert_msg(dev <= p[i].f_err, "T=%g: deviation %g not covered by %g", T[i], dev, p[i].f_err);
    worst = fmax(worst, dev);
    widest = fmax(widest, p[i].f_err);
  }
  ck_assert_double_gt(worst, 1e-4);        /* the case is a real test */
  ck_assert_double_lt(widest, 10 * worst); /* and the budget not a blanket */
}
END_TEST

START_TEST(errors_propagate) {
  double T[N], e[N], c[N], se[N], sc[N];
  ising_ti_point p[N];
  ladder(T, e, c, 1.2, 12.0);
  for (int i = 0; i < N; i++) {
    se[i] = 1e-3;
    sc[i] = 0;
  }
  ck_assert_int_eq(ising_ti_free_energy(2, 1.0, N, T, e, se, c, sc, p), ISING_OK);
  /* colder points integrate over more of the ladder: larger ln Z errors */
  ck_assert_double_gt(p[0].f_err / T[0], p[N - 1].f_err / T[N - 1]);
  ck_assert_double_gt(p[0].f_err, 1e-4);
}
END_TEST

START_TEST(bad_input) {
  double T[2] = {2.0, 1.0}, z[2] = {0, 0};
  ising_ti_point p[2];
  ck_assert_int_eq(ising_ti_free_energy(2, 1.0, 2, T, z, z, z, z, p), ISING_ERR_INPUT);
  double cold[2] = {1.0, 2.0}; /* T_max = 2: |J|/T_max = 0.5 > 0.3 */
  ck_assert_int_eq(ising_ti_free_energy(2, 1.0, 2, cold, z, z, z, z, p), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_ti_free_energy(2, 1.0, 1, cold, z, z, z, z, p), ISING_ERR_INPUT);
  ising_err_clear();
}
END_TEST

int main(void) {
  Suite *s = suite_create("freeenergy");
  TCase *tc = tcase_create("ti");
  tcase_add_test(tc, exact_inputs);
  tcase_add_test(tc, errors_propagate);
  tcase_add_test(tc, coarse_ladder_budget);
  tcase_add_test(tc, bad_input);
  suite_add_tcase(s, tc);
  return ising_test_run_suite(s);
}
