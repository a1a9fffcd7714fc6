/*
 * mpi_varmf.c -- inhomogeneous variational mean field on 1, 2 and 4 ranks:
 * the uniform ferromagnet reproduces the homogeneous mean-field / GBF
 * solution (baseline.h) to 1e-10, 2D and 3D, with and without field; the
 * antiferromagnet from a staggered start finds the staggered solution, whose
 * bound lies below the uniform trial's (what site fields buy); the bound
 * stays above Kaufman's exact f; above T_c^MF a random start decays to m = 0.
 */
#include <check.h>
#include <math.h>
#include <mpi.h>

#include "ising/baseline.h"
#include "ising/error.h"
#include "ising/exact.h"
#include "ising/layout.h"
#include "ising/varmf.h"
#include "testutil.h"

static ising_layout *make(int dim, int64_t L) {
  ising_config cfg;
  ising_config_defaults(&cfg);
  cfg.dim = dim;
  for (int k = 0; k < 3; k++) cfg.L[k] = k < dim ? L : 1;
  ising_layout *lay = NULL;
  ck_assert_int_eq(ising_layout_create(MPI_COMM_WORLD, &cfg, 0, &lay), ISING_OK);
  return lay;
}

static void uniform_case(int dim, int64_t L, double J, double H, double T) {
  ising_layout *lay = make(dim, L);
  ising_varmf_result r;
  ck_assert_msg(ising_varmf_solve(lay, J, H, T, ISING_VARMF_UNIFORM, 1, 1.0, 1e-13, 20000, &r, NULL) == ISING_OK,
                "%s", ising_err_message());
  ising_baseline_point b;
  ck_assert_int_eq(ising_baseline_compute(2 * dim, J, H, T, &b), ISING_OK);
  ck_assert_msg(r.converged, "not converged after %d iterations", r.iterations);
  ck_assert_double_eq_tol(r.m, b.mf.m, 1e-10);
  ck_assert_double_eq_tol(r.f, b.gbf.f, 1e-10);
  ck_assert_double_eq_tol(r.e, b.mf.e, 1e-10);
  ck_assert_double_eq_tol(r.s, b.mf.s, 1e-10);
  ising_layout_destroy(&lay);
}

START_TEST(uniform_ferromagnet) {
  uniform_case(2, 16, 1.0, 0.0, 3.0);  /* below T_c^MF = 4: m != 0 */
  uniform_case(2, 12, 1.0, 0.3, 2.0);
  uniform_case(2, 16, 1.0, 0.0, 5.0);  /* above: m = 0 */
  uniform_case(3, 8, 1.0, 0.2, 5.0);
  uniform_case(3, 6, 0.5, -0.1, 2.0);
}
END_TEST

START_TEST(antiferromagnet_staggered) {
  ising_layout *lay = make(2, 16);
  ising_varmf_result r;
  ck_assert_int_eq(ising_varmf_solve(lay, -1.0, 0.0, 2.0, ISING_VARMF_STAGGERED, 1, 1.0, 1e-13, 20000, &r, NULL), ISING_OK);
  ising_baseline_point ferro, uni;
  ising_baseline_compute(4, 1.0, 0.0, 2.0, &ferro); /* the staggered state maps onto it */
  ising_baseline_compute(4, -1.0, 0.0, 2.0, &uni);  /* uniform trial for J < 0: m = 0 */
  ck_assert_double_eq_tol(fabs(r.m_stag), ferro.mf.m, 1e-10);
  ck_assert_double_eq_tol(r.m, 0.0, 1e-12);
  ck_assert_double_eq_tol(r.f, ferro.gbf.f, 1e-10);
  ck_assert_double_lt(r.f, uni.gbf.f - 0.1); /* site fields give a much better bound */
  /* still a bound: above the exact f (Kaufman is the same for J = -1) */
  ising_exact_obs k;
  ising_exact_kaufman(16, 16, -1.0, 2.0, &k);
  ck_assert_double_ge(r.f, k.f);
  ising_layout_destroy(&lay);
}
END_TEST

START_TEST(bound_and_random_start) {
  ising_layout *lay = make(2, 16);
  for (double T = 1.0; T <= 6.0; T += 0.5) {
    ising_varmf_result r;
    ck_assert_int_eq(ising_varmf_solve(lay, 1.0, 0.0, T, ISING_VARMF_UNIFORM, 1, 1.0, 1e-12, 20000, &r, NULL), ISING_OK);
    ising_exact_obs k;
    ising_exact_kaufman(16, 16, 1.0, T, &k);
    ck_assert_msg(r.f >= k.f, "bound violated at T=%g: %g < %g", T, r.f, k.f);
  }
  ising_varmf_result r;
  ck_assert_int_eq(ising_varmf_solve(lay, 1.0, 0.0, 5.0, ISING_VARMF_RANDOM, 7, 0.5, 1e-12, 20000, &r, NULL), ISING_OK);
  ck_assert(r.converged);
  ck_assert_double_eq_tol(r.m, 0.0, 1e-10);
  ck_assert_double_eq_tol(r.f, -5.0 * log(2.0), 1e-10);
  ck_assert_int_eq(ising_varmf_solve(lay, 1.0, 0.0, 0.0, ISING_VARMF_UNIFORM, 1, 1.0, 1e-12, 10, &r, NULL), ISING_ERR_INPUT);
  ising_err_clear();
  ising_layout_destroy(&lay);
}
END_TEST

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  Suite *s = suite_create("varmf");
  TCase *tc = tcase_create("varmf");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, uniform_ferromagnet);
  tcase_add_test(tc, antiferromagnet_staggered);
  tcase_add_test(tc, bound_and_random_start);
  suite_add_tcase(s, tc);
  int rc = ising_test_run_suite(s);
  MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return rc;
}
