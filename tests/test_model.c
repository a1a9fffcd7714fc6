/*
 * test_model.c -- Delta-E and acceptance tables: every entry against the
 * Boltzmann factor computed here from dE = 2 s (J nb + H), the threshold
 * rule P(u <= t) = p to 2^-32, and bad parameters rejected.
 */
#include <check.h>
#include <math.h>

#include "ising/error.h"
#include "ising/model.h"
#include "testutil.h"

START_TEST(threshold_rule) {
  ck_assert_uint_eq(ising_model_threshold(1.0), UINT32_MAX);
  ck_assert_uint_eq(ising_model_threshold(0.5), 2147483647u); /* u in [0, 2^31): half of them */
  ck_assert_uint_eq(ising_model_threshold(0.25), 1073741823u);
  ck_assert_uint_eq(ising_model_threshold(1e-12), 0u);
  ck_assert_uint_eq(ising_model_threshold(0.0), 0u);
  for (double p = 1e-6; p < 1; p *= 1.37) {
    double t = ising_model_threshold(p);
    /* (t + 1) / 2^32 is the probability of u <= t */
    ck_assert_double_le(fabs((t + 1) / 4294967296.0 - p), 1.0 / 4294967296.0);
  }
}
END_TEST

static void check_tables(int dim, double J, double H, double T, ising_algorithm alg) {
  ising_model m;
  ck_assert_int_eq(ising_model_init(&m, dim, J, H, T, alg), ISING_OK);
  ck_assert_int_eq(m.z, 2 * dim);
  ck_assert_int_eq(m.entries, 2 * (2 * dim + 1));
  int seen[ISING_MODEL_TABLE] = {0};
  for (int s = -1; s <= 1; s += 2)
    for (int nb = -2 * dim; nb <= 2 * dim; nb += 2) {
      int i = ising_model_index(&m, s, nb);
      ck_assert_int_ge(i, 0);
      ck_assert_int_lt(i, m.entries);
      seen[i]++;
      double dE = 2.0 * s * (J * nb + H);
      double p = alg == ISING_ALG_METROPOLIS ? (dE <= 0 ? 1.0 : exp(-dE / T))
                                             : exp((J * nb + H) / T) / (exp((J * nb + H) / T) + exp(-(J * nb + H) / T));
      double t = m.thr[i];
      ck_assert_double_le(fabs((t + 1) / 4294967296.0 - p), 1.5 / 4294967296.0);
      ck_assert_uint_eq(m.thr_hi[i], m.thr[i] >> 16);
      ck_assert_uint_eq(m.thr_lo[i], m.thr[i] & 0xFFFF);
    }
  for (int i = 0; i < m.entries; i++) ck_assert_int_eq(seen[i], 1);
}

START_TEST(tables) {
  check_tables(2, 1.0, 0.0, 2.269, ISING_ALG_METROPOLIS);
  check_tables(2, -1.0, 0.3, 1.5, ISING_ALG_METROPOLIS);
  check_tables(3, 1.0, -0.7, 4.5, ISING_ALG_METROPOLIS);
  check_tables(2, 1.0, 0.0, 2.269, ISING_ALG_HEATBATH);
  check_tables(3, 0.5, 0.2, 3.0, ISING_ALG_HEATBATH);
  /* 2D Metropolis at H = 0: the two uphill moves are exp(-4 beta), exp(-8 beta) */
  ising_model m;
  ising_model_init(&m, 2, 1.0, 0.0, 2.0, ISING_ALG_METROPOLIS);
  ck_assert_double_eq_tol(ising_model_probability(&m, 1, 2), exp(-4.0 / 2.0), 1e-15);
  ck_assert_double_eq_tol(ising_model_probability(&m, -1, -4), exp(-8.0 / 2.0), 1e-15);
  ck_assert_double_eq(ising_model_probability(&m, 1, -2), 1.0);
  /* the energy convention E = -J B - H M */
  ising_model_init(&m, 2, 0.5, 0.25, 2.0, ISING_ALG_METROPOLIS);
  ck_assert_double_eq(ising_model_energy(&m, 10, 4), -0.5 * 10 - 0.25 * 4);
}
END_TEST

START_TEST(bad_parameters) {
  ising_model m;
  ck_assert_int_eq(ising_model_init(&m, 2, 1.0, 0.0, 0.0, ISING_ALG_METROPOLIS), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_model_init(&m, 2, 1.0, 0.0, -1.0, ISING_ALG_METROPOLIS), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_model_init(&m, 2, NAN, 0.0, 1.0, ISING_ALG_METROPOLIS), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_model_init(&m, 4, 1.0, 0.0, 1.0, ISING_ALG_METROPOLIS), ISING_ERR_INPUT);
  ck_assert_int_eq(ising_model_init(&m, 2, 1.0, INFINITY, 1.0, ISING_ALG_HEATBATH), ISING_ERR_INPUT);
  ising_err_clear();
}
END_TEST

/* A per-bond and per-site source for the couplings provider: distinct
 * values for every bond and site. */
static int32_t test_bond(const void *ctx, int64_t site, int axis) {
  (void)ctx;
  return (int32_t)(5 + 37 * site - 21 * axis + ((site * 7 + axis) % 3 == 0 ? -130 : 0));
}
static int32_t test_field(const void *ctx, int64_t site) {
  (void)ctx;
  return (int32_t)(5 * (site % 5) - 10);
}

/* E = -sum_bonds J_b s_i s_j - sum_i h_i s_i of a small periodic lattice,
 * bond by bond (each site's bonds to +e_axis). */
static double energy(const ising_couplings *c, int dim, const int64_t L[3], const int *spin) {
  const int64_t N = L[0] * L[1] * (dim == 3 ? L[2] : 1);
  double E = 0;
  for (int64_t i = 0; i < N; i++) {
    int64_t g[3] = {i % L[0], (i / L[0]) % L[1], dim == 3 ? i / (L[0] * L[1]) : 0};
    for (int a = 0; a < dim; a++) {
      int64_t h[3] = {g[0], g[1], g[2]};
      h[a] = (h[a] + 1) % L[a];
      int64_t j = h[0] + L[0] * (h[1] + L[1] * h[2]);
      E -= ising_couplings_J(c, i, a) * spin[i] * spin[j];
    }
    E -= ising_couplings_h(c, i) * spin[i];
  }
  return E;
}

/* The local field of the provider against brute-force energy differences
 * (uniform and per-bond/per-site, 2D and 3D), and uniform couplings against
 * the tables' J nb + H. */
START_TEST(couplings_local_field) {
  ising_couplings uni = ising_couplings_uniform(0.7, -0.3), var = uni;
  var.bond = test_bond;
  var.field = test_field;
  var.J_unit = 0.01;
  var.h_unit = 0.01;
  var.bimodal = 0;
  ck_assert(ising_couplings_is_uniform(&uni));
  ck_assert(!ising_couplings_is_uniform(&var));
  for (int dim = 2; dim <= 3; dim++) {
    const int64_t L[3] = {4, 6, dim == 3 ? 4 : 1}, N = L[0] * L[1] * L[2];
    int spin[96];
    uint64_t x = 12345;
    for (int64_t i = 0; i < N; i++) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      spin[i] = (x >> 62) & 1 ? 1 : -1;
    }
    for (int pass = 0; pass < 2; pass++) {
      const ising_couplings *c = pass ? &var : &uni;
      for (int64_t i = 0; i < N; i++) {
        int64_t g[3] = {i % L[0], (i / L[0]) % L[1], dim == 3 ? i / (L[0] * L[1]) : 0};
        int nbr[6] = {0}, nb = 0;
        for (int a = 0; a < dim; a++)
          for (int side = 0; side < 2; side++) {
            int64_t h[3] = {g[0], g[1], g[2]};
            h[a] = (h[a] + (side ? 1 : L[a] - 1)) % L[a];
            nbr[2 * a + side] = spin[h[0] + L[0] * (h[1] + L[1] * h[2])];
            nb += nbr[2 * a + side];
          }
        double local = ising_couplings_local_field(c, dim, L, g, nbr);
        double before = energy(c, dim, L, spin);
        spin[i] = -spin[i];
        double after = energy(c, dim, L, spin);
        spin[i] = -spin[i];
        ck_assert_double_eq_tol(after - before, 2.0 * spin[i] * local, 1e-9);
        if (!pass) ck_assert_double_eq_tol(local, 0.7 * nb - 0.3, 1e-12);
      }
    }
  }
  /* the tables are the rule at local = J nb + H */
  ising_model m;
  ck_assert_int_eq(ising_model_init(&m, 3, 0.7, -0.3, 1.9, ISING_ALG_METROPOLIS), ISING_OK);
  for (int s = -1; s <= 1; s += 2)
    for (int nb = -6; nb <= 6; nb += 2)
      ck_assert_uint_eq(m.thr[ising_model_index(&m, s, nb)],
                        ising_model_threshold(ising_model_probability_local(&m, s, 0.7 * nb - 0.3)));
}
END_TEST

int main(void) {
  Suite *s = suite_create("model");
  TCase *tc = tcase_create("tables");
  tcase_add_test(tc, threshold_rule);
  tcase_add_test(tc, tables);
  tcase_add_test(tc, bad_parameters);
  tcase_add_test(tc, couplings_local_field);
  suite_add_tcase(s, tc);
  return ising_test_run_suite(s);
}
