/*
 * test_exact.c -- unit suite for src/exact.c (enumeration, Kaufman, Onsager).
 *
 * Every comparison is with something derived independently in this file or
 * by a different algorithm in the module, never with a number copied from a
 * table:
 *  - the 1D ring with field against its 2x2 transfer matrix (closed form),
 *    derivatives by Richardson-extrapolated central differences;
 *  - the Gray-code/histogram enumeration against a naive one written here
 *    (energy summed bond by bond from coordinates) in dim 1, 2, 3;
 *  - Kaufman's finite torus against enumeration (2x2 .. 4x6, L = 2 axes
 *    included: the double bond), and at L = 1024 against Onsager;
 *  - Onsager's e and c against numerical derivatives of its own f;
 *  - one disorder sample (ising_exact_disorder, Walsh-Hadamard pair
 *    distribution) against a brute-force double loop over all replica pairs,
 *    against the enumeration at uniform couplings, against independent
 *    spins in a field (closed form), and under a gauge transformation;
 *  - limits derived analytically (high-T expansion, ground state, self-duality
 *    sinh(2 K_c) = 1, e(T_c) = -sqrt 2, the Ferdinand-Fisher ln L amplitude).
 * Each comparison also checks that it has power: the same comparison at a
 * temperature 1% off fails by far more than its tolerance.
 */
#include "ising/error.h"
#include "ising/exact.h"
#include "ising/model.h"
#include "testutil.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define TEST_LN2 0.693147180559945309417232121458176568
#define TEST_PI 3.14159265358979323846264338327950288

static double rel_diff(double a, double b) {
  return fabs(a - b) / fmax(fabs(b), 1e-300);
}

#define ASSERT_REL(a, b, tol)                                                   \
  do {                                                                         \
    double a_ = (a), b_ = (b), d_ = rel_diff(a_, b_);                          \
    ck_assert_msg(d_ <= (tol), "%s = %.17g vs %s = %.17g: rel diff %.3g > %.3g", \
                  #a, a_, #b, b_, d_, (double)(tol));                          \
  } while (0)

#define ASSERT_ABS(a, b, tol)                                                   \
  do {                                                                         \
    double a_ = (a), b_ = (b), d_ = fabs(a_ - b_);                             \
    ck_assert_msg(d_ <= (tol), "%s = %.17g vs %s = %.17g: diff %.3g > %.3g",     \
                  #a, a_, #b, b_, d_, (double)(tol));                          \
  } while (0)

/* The comparison has power: a and b differ by more than `factor` times tol. */
#define ASSERT_REL_FAR(a, b, tol, factor)                                       \
  do {                                                                         \
    double a_ = (a), b_ = (b), d_ = rel_diff(a_, b_);                          \
    ck_assert_msg(d_ > (factor) * (tol),                                       \
                  "no power: %s = %.17g vs %s = %.17g differ by only %.3g",     \
                  #a, a_, #b, b_, d_);                                         \
  } while (0)

static int obs_all_finite(const ising_exact_obs *o) {
  return isfinite(o->lnZ) && isfinite(o->f) && isfinite(o->e) && isfinite(o->s) &&
         isfinite(o->c);
}

/* ------------------------------------------------ 1D ring: transfer matrix */

/* ln Z of the ring of L spins (L bonds, a double bond for L = 2) from the
 * transfer matrix: lambda_pm = e^K cosh h +- sqrt(e^{2K} sinh^2 h + e^{-2K}),
 * Z = lambda_+^L + lambda_-^L, K = beta J, h = beta H. */
static double ring_lnZ(int L, double J, double H, double beta) {
  const double K = beta * J, h = beta * H;
  const double a = exp(K) * cosh(h);
  const double r = sqrt(exp(2 * K) * sinh(h) * sinh(h) + exp(-2 * K));
  const double lp = a + r, lm = a - r;
  return L * log(lp) + log1p(pow(lm / lp, L));
}

/* d/dx g(x) by central differences with one Richardson step (error O(dx^4)). */
typedef double (*fun1)(double x, const void *ctx);
static double deriv(fun1 g, double x, double dx, const void *ctx) {
  const double d1 = (g(x + dx, ctx) - g(x - dx, ctx)) / (2 * dx);
  const double d2 = (g(x + 2 * dx, ctx) - g(x - 2 * dx, ctx)) / (4 * dx);
  return (4 * d1 - d2) / 3;
}
static double deriv2(fun1 g, double x, double dx, const void *ctx) {
  const double g0 = g(x, ctx);
  const double d1 = (g(x + dx, ctx) - 2 * g0 + g(x - dx, ctx)) / (dx * dx);
  const double d2 = (g(x + 2 * dx, ctx) - 2 * g0 + g(x - 2 * dx, ctx)) / (4 * dx * dx);
  return (4 * d1 - d2) / 3;
}

typedef struct {
  int L;
  double J, H, beta;
} ring_ctx;
static double ring_of_beta(double beta, const void *p) {
  const ring_ctx *c = p;
  return ring_lnZ(c->L, c->J, c->H, beta);
}
static double ring_of_h(double h, const void *p) { /* h = beta H */
  const ring_ctx *c = p;
  return ring_lnZ(c->L, c->J, h / c->beta, c->beta);
}

START_TEST(test_ring_transfer_matrix) {
  const int Ls[] = {2, 3, 7, 12};
  const double par[][3] = {/* J, H, T */
                           {1.0, 0.0, 1.5}, {1.0, 0.3, 0.7}, {-1.0, 0.5, 1.2},
                           {0.7, -0.2, 3.0}, {-0.5, 0.0, 0.4}};
  for (size_t i = 0; i < sizeof Ls / sizeof *Ls; i++)
    for (size_t p = 0; p < sizeof par / sizeof *par; p++) {
      const int L = Ls[i];
      const double J = par[p][0], H = par[p][1], T = par[p][2], beta = 1 / T;
      ising_exact_obs o;
      int64_t ext[1] = {L};
      ck_assert_int_eq(ising_exact_enumerate(1, ext, J, H, T, &o), ISING_OK);
      ring_ctx c = {L, J, H, beta};
      const double lnZ = ring_lnZ(L, J, H, beta);
      const double e = -deriv(ring_of_beta, beta, 1e-3 * beta, &c) / L;
      const double dh = deriv(ring_of_h, beta * H, 1e-3, &c);
      const double m = dh / L;
      /* <M^2> = d^2 lnZ/dh^2 + (d lnZ/dh)^2 */
      const double m2 = (deriv2(ring_of_h, beta * H, 1e-3, &c) + dh * dh) / (L * L);
      ASSERT_REL(o.lnZ, lnZ, 1e-12);
      ASSERT_REL(o.f, -T * lnZ / L, 1e-12);
      ASSERT_ABS(o.e, e, 1e-9);
      ASSERT_ABS(o.m, m, 1e-9);
      ASSERT_ABS(o.m2, m2, 1e-7);
      ASSERT_REL(o.s, beta * (o.e - o.f), 1e-12);
      /* power: the closed form 1% off in T is far outside these tolerances */
      const double lnZ_off = ring_lnZ(L, J, H, beta / 1.01);
      ASSERT_REL_FAR(o.lnZ, lnZ_off, 1e-12, 100);
      ring_ctx coff = {L, J, H, beta / 1.01};
      ASSERT_REL_FAR(o.e, -deriv(ring_of_beta, beta / 1.01, 1e-3 * beta, &coff) / L,
                     1e-9, 100);
    }
}
END_TEST

/* ------------------------------------------ enumeration against naive sums */

/* All observables by the textbook sum: for each state, E from every bond
 * (site, site + e_k) found through coordinates; weights shifted by the
 * lower bound E_low = -(|J| dim + |H|) N. */
static void naive_enumerate(int dim, const int64_t *L, double J, double H, double T,
                            ising_exact_obs *o) {
  int N = 1;
  for (int k = 0; k < dim; k++) N *= (int)L[k];
  int nb[24][3];
  for (int i = 0; i < N; i++) {
    int x[3] = {0, 0, 0};
    int r = i;
    for (int k = 0; k < dim; k++) {
      x[k] = r % (int)L[k];
      r /= (int)L[k];
    }
    for (int k = 0; k < dim; k++) {
      int y[3] = {x[0], x[1], x[2]};
      y[k] = (y[k] + 1) % (int)L[k];
      nb[i][k] = y[0] + (int)L[0] * (dim > 1 ? y[1] + (int)L[1] * (dim > 2 ? y[2] : 0) : 0);
    }
  }
  const long double beta = 1.0L / T, Elow = -(fabs(J) * dim + fabs(H)) * N;
  long double Z = 0, sE = 0, sE2 = 0, sM = 0, sA = 0, sM2 = 0, sM4 = 0;
  int s[24];
  for (uint32_t t = 0; t < (1u << N); t++) {
    long double E = 0;
    int M = 0;
    for (int i = 0; i < N; i++) s[i] = (t >> i & 1u) ? -1 : 1;
    for (int i = 0; i < N; i++) {
      for (int k = 0; k < dim; k++) E -= (long double)J * s[i] * s[nb[i][k]];
      M += s[i];
    }
    E -= (long double)H * M;
    long double w = expl(-beta * (E - Elow));
    Z += w;
    sE += w * E;
    sE2 += w * E * E;
    sM += w * M;
    sA += w * abs(M);
    sM2 += w * (long double)M * M;
    sM4 += w * (long double)M * M * M * M;
  }
  const long double n = N;
  o->lnZ = (double)(logl(Z) - beta * Elow);
  o->f = -T * o->lnZ / N;
  o->e = (double)(sE / Z / n);
  o->s = (double)(beta * (sE / Z / n) + (logl(Z) - beta * Elow) / n);
  o->c = (double)(beta * beta * (sE2 / Z - (sE / Z) * (sE / Z)) / n);
  o->m = (double)(sM / Z / n);
  o->m_abs = (double)(sA / Z / n);
  o->m2 = (double)(sM2 / Z / (n * n));
  o->m4 = (double)(sM4 / Z / (n * n * n * n));
  o->U4 = 1 - o->m4 / (3 * o->m2 * o->m2);
  o->chi = (double)(beta * n * (sM2 / Z / (n * n) - (sA / Z / n) * (sA / Z / n)));
  o->chi_p = (double)(beta * sM2 / Z / n);
}

START_TEST(test_enumerate_vs_naive) {
  const int dims[] = {1, 2, 2, 3, 3, 3};
  const int64_t shapes[][3] = {{9, 1, 1}, {3, 4, 1}, {2, 6, 1},
                               {2, 2, 2}, {3, 2, 2}, {2, 2, 3}};
  const double par[][3] = {{1.0, 0.2, 2.5}, {-0.8, 0.5, 1.3}, {1.0, 0.0, 4.5}};
  for (size_t i = 0; i < sizeof dims / sizeof *dims; i++)
    for (size_t p = 0; p < sizeof par / sizeof *par; p++) {
      ising_exact_obs a, b;
      ck_assert_int_eq(ising_exact_enumerate(dims[i], shapes[i], par[p][0], par[p][1],
                                             par[p][2], &a),
                       ISING_OK);
      naive_enumerate(dims[i], shapes[i], par[p][0], par[p][1], par[p][2], &b);
      ASSERT_REL(a.lnZ, b.lnZ, 1e-13);
      ASSERT_REL(a.f, b.f, 1e-13);
      ASSERT_REL(a.e, b.e, 1e-12);
      ASSERT_REL(a.s, b.s, 1e-12);
      ASSERT_REL(a.c, b.c, 1e-10);
      ASSERT_ABS(a.m, b.m, 1e-13);
      ASSERT_REL(a.m_abs, b.m_abs, 1e-12);
      ASSERT_REL(a.m2, b.m2, 1e-12);
      ASSERT_REL(a.m4, b.m4, 1e-12);
      ASSERT_REL(a.U4, b.U4, 1e-10);
      ASSERT_REL(a.chi, b.chi, 1e-9);
      ASSERT_REL(a.chi_p, b.chi_p, 1e-12);
      /* power */
      naive_enumerate(dims[i], shapes[i], par[p][0], par[p][1], 1.01 * par[p][2], &b);
      ASSERT_REL_FAR(a.e, b.e, 1e-12, 1000);
      ASSERT_REL_FAR(a.c, b.c, 1e-10, 1000);
    }
}
END_TEST

START_TEST(test_enumerate_limits) {
  ising_exact_obs o, p;
  const int64_t L44[2] = {4, 4};
  /* T -> infinity: every state has the same weight, ln Z = N ln 2 (the
   * leading correction is N K^2 = 1.6e-11 here). */
  ck_assert_int_eq(ising_exact_enumerate(2, L44, 1.0, 0.0, 1e6, &o), ISING_OK);
  ASSERT_REL(o.lnZ, 16 * TEST_LN2, 1e-10);
  ASSERT_REL(o.s, TEST_LN2, 1e-10);
  /* T -> 0: the two ground states, e = -dim |J| (dim N bonds, double bonds
   * of L = 2 axes included), s = ln 2 / N, |m| = 1, U4 = 2/3. */
  const int64_t shapes[][3] = {{4, 4, 1}, {2, 2, 1}, {2, 2, 2}, {2, 3, 4}};
  const int dims[] = {2, 2, 3, 3};
  for (int i = 0; i < 4; i++) {
    int N = 1;
    for (int k = 0; k < dims[i]; k++) N *= (int)shapes[i][k];
    ck_assert_int_eq(ising_exact_enumerate(dims[i], shapes[i], 1.0, 0.0, 0.05, &o), ISING_OK);
    ASSERT_REL(o.e, -dims[i], 1e-12);
    ASSERT_REL(o.s, TEST_LN2 / N, 1e-9);
    ASSERT_REL(o.m_abs, 1.0, 1e-12);
    ASSERT_REL(o.U4, 2.0 / 3.0, 1e-12);
    ASSERT_ABS(o.m, 0.0, 1e-15);
  }
  /* Bipartite lattice at H = 0: flipping one sublattice maps J to -J. */
  const double Ts[] = {0.8, 2.3, 7.0};
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(ising_exact_enumerate(2, L44, 1.0, 0.0, Ts[i], &o), ISING_OK);
    ck_assert_int_eq(ising_exact_enumerate(2, L44, -1.0, 0.0, Ts[i], &p), ISING_OK);
    ASSERT_REL(p.lnZ, o.lnZ, 1e-14);
    ASSERT_REL(p.e, o.e, 1e-13);
    ASSERT_REL(p.c, o.c, 1e-12);
  }
  /* H -> -H reverses m and leaves everything else. */
  const int64_t L3[3] = {2, 3, 2};
  ck_assert_int_eq(ising_exact_enumerate(3, L3, 0.6, 0.4, 2.0, &o), ISING_OK);
  ck_assert_int_eq(ising_exact_enumerate(3, L3, 0.6, -0.4, 2.0, &p), ISING_OK);
  ASSERT_REL(p.m, -o.m, 1e-13);
  ASSERT_REL(p.lnZ, o.lnZ, 1e-14);
  ck_assert(o.m > 0.1);
}
END_TEST

START_TEST(test_enumerate_bad_input) {
  ising_exact_obs o;
  const int64_t L44[2] = {4, 4}, L1[2] = {1, 4}, L0[2] = {0, 4}, L55[2] = {5, 5},
                Lbig[3] = {2, 2, 1LL << 40};
  struct {
    int dim;
    const int64_t *L;
    double J, H, T;
  } bad[] = {{0, L44, 1, 0, 1},        {4, L44, 1, 0, 1},     {2, L1, 1, 0, 1},
             {2, L0, 1, 0, 1},         {2, L55, 1, 0, 1},     {3, Lbig, 1, 0, 1},
             {2, L44, 1, 0, 0},        {2, L44, 1, 0, -1},    {2, L44, 1, 0, NAN},
             {2, L44, 1, 0, INFINITY}, {2, L44, NAN, 0, 1},   {2, L44, 1, INFINITY, 1},
             {2, L44, 1, 0, 1e-320},   {2, NULL, 1, 0, 1}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ising_err_clear();
    ck_assert_int_eq(ising_exact_enumerate(bad[i].dim, bad[i].L, bad[i].J, bad[i].H,
                                           bad[i].T, &o),
                     ISING_ERR_INPUT);
    ck_assert(ising_err_message()[0] != '\0');
  }
  ising_err_clear();
  ck_assert_int_eq(ising_exact_enumerate(2, L44, 1, 0, 1, NULL), ISING_ERR_INPUT);
  ising_err_clear();
}
END_TEST

/* ------------------------------------------------ Kaufman vs enumeration */

static void kaufman_vs_enum(int64_t Lx, int64_t Ly, double J, double T) {
  ising_exact_obs a, b, off;
  const int64_t L[2] = {Lx, Ly};
  ck_assert_int_eq(ising_exact_enumerate(2, L, J, 0.0, T, &a), ISING_OK);
  ck_assert_int_eq(ising_exact_kaufman(Lx, Ly, J, T, &b), ISING_OK);
  ASSERT_REL(b.lnZ, a.lnZ, 1e-10);
  ASSERT_REL(b.f, a.f, 1e-10);
  ASSERT_REL(b.e, a.e, 1e-10);
  ASSERT_REL(b.s, a.s, 1e-10);
  ASSERT_REL(b.c, a.c, 1e-8);
  ck_assert(isnan(b.m) && isnan(b.m_abs) && isnan(b.U4) && isnan(b.chi));
  /* power: Kaufman 1% off in T is far outside the tolerances */
  ck_assert_int_eq(ising_exact_kaufman(Lx, Ly, J, 1.01 * T, &off), ISING_OK);
  ASSERT_REL_FAR(off.lnZ, a.lnZ, 1e-10, 100);
  ASSERT_REL_FAR(off.e, a.e, 1e-10, 100);
  ASSERT_REL_FAR(off.c, a.c, 1e-8, 100);
}

START_TEST(test_kaufman_vs_enumeration) {
  /* L = 2 axes carry double bonds in both the enumeration (one bond to
   * x + e_k per site and axis) and Kaufman's transfer matrix. */
  const int64_t sizes[][2] = {{2, 2}, {4, 2}, {2, 4}, {4, 4}};
  const double Ts[] = {0.5, 2.269185, 10.0, 1e3};
  const double Js[] = {1.0, -1.0};
  for (int i = 0; i < 4; i++)
    for (int t = 0; t < 4; t++)
      for (int j = 0; j < 2; j++) kaufman_vs_enum(sizes[i][0], sizes[i][1], Js[j], Ts[t]);
  /* 4 x 6: 2^24 states, so fewer temperatures */
  kaufman_vs_enum(4, 6, 1.0, 0.5);
  kaufman_vs_enum(4, 6, 1.0, 2.269185);
  kaufman_vs_enum(4, 6, 1.0, 10.0);
  kaufman_vs_enum(4, 6, -1.0, 2.269185);
}
END_TEST

/* Kaufman's products run over one axis only, so Lx <-> Ly symmetry and the
 * J -> -J symmetry are real checks of the evaluation. */
START_TEST(test_kaufman_symmetries) {
  const int64_t sizes[][2] = {{8, 16}, {64, 4}, {2, 30}, {6, 2}};
  const double Tc = ising_exact_onsager_tc(1.0);
  const double Ts[] = {0.9, 1.7, Tc, 2.5, 4.0, 50.0};
  for (int i = 0; i < 4; i++)
    for (int t = 0; t < 6; t++) {
      ising_exact_obs a, b, c;
      ck_assert_int_eq(ising_exact_kaufman(sizes[i][0], sizes[i][1], 1.0, Ts[t], &a), ISING_OK);
      ck_assert_int_eq(ising_exact_kaufman(sizes[i][1], sizes[i][0], 1.0, Ts[t], &b), ISING_OK);
      ck_assert_int_eq(ising_exact_kaufman(sizes[i][0], sizes[i][1], -1.0, Ts[t], &c), ISING_OK);
      ASSERT_REL(b.lnZ, a.lnZ, 1e-13);
      ASSERT_REL(b.e, a.e, 1e-12);
      ASSERT_REL(b.c, a.c, 1e-10);
      ASSERT_REL(c.lnZ, a.lnZ, 0);
      ASSERT_REL(c.e, a.e, 0);
    }
}
END_TEST

START_TEST(test_kaufman_vs_onsager) {
  const int64_t L = 1024;
  const double N = (double)L * (double)L;
  const double Ts[] = {2.0, 3.0};
  for (int i = 0; i < 2; i++) {
    const double T = Ts[i];
    ising_exact_obs k, o, off;
    ck_assert_int_eq(ising_exact_kaufman(L, L, 1.0, T, &k), ISING_OK);
    ck_assert_int_eq(ising_exact_onsager(1.0, T, &o), ISING_OK);
    /* Away from T_c the finite-size corrections are O(exp(-L/xi)), except
     * that below T_c the torus keeps both ordered states: Z_L ~ 2 Z_ordered,
     * so f_L = f - T ln 2 / N and s_L = s + ln 2 / N. */
    const double fshift = T < ising_exact_onsager_tc(1.0) ? -T * TEST_LN2 / N : 0;
    ASSERT_ABS(k.f, o.f + fshift, 1e-10);
    ASSERT_ABS(k.s, o.s - fshift / T, 1e-10);
    ASSERT_ABS(k.f, o.f, 1e-6 + fabs(fshift));
    ASSERT_ABS(k.e, o.e, 1e-10);
    ASSERT_ABS(k.c, o.c, 1e-9);
    /* power */
    ck_assert_int_eq(ising_exact_onsager(1.0, 1.01 * T, &off), ISING_OK);
    ck_assert(fabs(off.e - k.e) > 1e-3 && fabs(off.f - k.f) > 1e-3 &&
              fabs(off.c - k.c) > 1e-3);
  }
}
END_TEST

START_TEST(test_kaufman_large_lattice) {
  const double Tc = ising_exact_onsager_tc(1.0);
  const double Ts[] = {Tc, 0.1, 100.0, 1e-3, 1e6, 1e120};
  for (int i = 0; i < 6; i++) {
    ising_exact_obs o;
    ck_assert_int_eq(ising_exact_kaufman(4096, 4096, 1.0, Ts[i], &o), ISING_OK);
    ck_assert_msg(obs_all_finite(&o), "non-finite Kaufman result at T = %g", Ts[i]);
    ck_assert(o.e >= -2.0 && o.e <= 0.0);
    ck_assert(o.s >= -1e-12 && o.s <= TEST_LN2 + 1e-12);
    ck_assert(o.c >= -1e-12);
    ck_assert(o.f <= o.e + 1e-12); /* f = e - T s, s >= 0 */
  }
  /* At T_c: e_L -> -sqrt 2 with O(1/L) corrections, and c_L grows as
   * (8/pi) K_c^2 ln L (Ferdinand & Fisher 1969), so c_4096 - c_1024 =
   * (8/pi) K_c^2 ln 4 up to O(ln L / L). */
  ising_exact_obs a, b;
  ck_assert_int_eq(ising_exact_kaufman(4096, 4096, 1.0, Tc, &a), ISING_OK);
  ck_assert_int_eq(ising_exact_kaufman(1024, 1024, 1.0, Tc, &b), ISING_OK);
  ASSERT_ABS(a.e, -sqrt(2.0), 1e-3);
  /* f_L(T_c) - f(T_c) = O(T_c / N) (Ferdinand & Fisher): also exercises
   * Onsager's T_c branch (the modulus exactly 1). */
  ising_exact_obs ons;
  ck_assert_int_eq(ising_exact_onsager(1.0, Tc, &ons), ISING_OK);
  ASSERT_ABS(a.f, ons.f, 1e-6);
  ASSERT_ABS(b.f, ons.f, 1e-5);
  const double Kc = 1 / Tc;
  ASSERT_ABS(a.c - b.c, 8 / TEST_PI * Kc * Kc * log(4.0), 2e-3);
  /* Elongated tori, and the high-T expansion: e T -> -(w_x + w_y) J^2 with
   * w = 2 for an axis of length 2 (its bonds pair up, coupling 2K), else 1. */
  ising_exact_obs o;
  ck_assert_int_eq(ising_exact_kaufman(4096, 2, 1.0, Tc, &o), ISING_OK);
  ck_assert(obs_all_finite(&o));
  const int64_t sh[][2] = {{2, 4}, {8, 4}, {2, 2}};
  const double want[] = {-3, -2, -4};
  const double Thigh[] = {1e4, 1e99, 1e101};
  for (int i = 0; i < 3; i++)
    for (int t = 0; t < 3; t++) {
      ck_assert_int_eq(ising_exact_kaufman(sh[i][0], sh[i][1], 1.0, Thigh[t], &o), ISING_OK);
      ASSERT_REL(o.e * Thigh[t], want[i], 1e-7);
      ASSERT_REL(o.c * Thigh[t] * Thigh[t], -want[i], 1e-7);
    }
  ck_assert_int_eq(ising_exact_kaufman(4, 8, 0.0, 1.0, &o), ISING_OK);
  ASSERT_REL(o.lnZ, 32 * TEST_LN2, 1e-15);
  ck_assert(o.e == 0 && o.c == 0);
}
END_TEST

/* The evaluation switches formulas at sinh 2K = 1 (T_c), sinh 2K = 0.5,
 * 2K = 20 and K = 1e-100; each switch must be invisible. */
START_TEST(test_kaufman_branch_continuity) {
  const double Tsw[] = {ising_exact_onsager_tc(1.0), 2 / asinh(0.5), 0.1, 1e100};
  for (int i = 0; i < 4; i++)
    for (int n = 0; n < 2; n++) {
      const int64_t L = n ? 6 : 256;
      ising_exact_obs lo, hi;
      ck_assert_int_eq(ising_exact_kaufman(L, L, 1.0, Tsw[i] * (1 - 1e-11), &lo), ISING_OK);
      ck_assert_int_eq(ising_exact_kaufman(L, L, 1.0, Tsw[i] * (1 + 1e-11), &hi), ISING_OK);
      ASSERT_REL(hi.lnZ, lo.lnZ, 1e-9);
      ASSERT_REL(hi.e, lo.e, 1e-9);
      ASSERT_ABS(hi.c, lo.c, 1e-9 * fmax(1.0, fabs(lo.c)));
    }
}
END_TEST

START_TEST(test_kaufman_bad_input) {
  ising_exact_obs o;
  const int64_t bad[][2] = {{3, 4}, {4, 5}, {0, 4}, {4, -2}, {1, 1}, {1LL << 26, 4}};
  for (int i = 0; i < 6; i++) {
    ising_err_clear();
    ck_assert_int_eq(ising_exact_kaufman(bad[i][0], bad[i][1], 1, 2, &o), ISING_ERR_INPUT);
  }
  const double badT[] = {0, -1, NAN, INFINITY, -INFINITY};
  for (int i = 0; i < 5; i++) {
    ising_err_clear();
    ck_assert_int_eq(ising_exact_kaufman(4, 4, 1, badT[i], &o), ISING_ERR_INPUT);
  }
  ising_err_clear();
  ck_assert_int_eq(ising_exact_kaufman(4, 4, NAN, 1, &o), ISING_ERR_INPUT);
  ising_err_clear();
  ck_assert_int_eq(ising_exact_kaufman(4, 4, 1, 1, NULL), ISING_ERR_INPUT);
  ising_err_clear();
}
END_TEST

/* ----------------------------------------------------------------- Onsager */

static double ons_beta_f(double beta, const void *ctx) {
  (void)ctx;
  ising_exact_obs o;
  ck_assert_int_eq(ising_exact_onsager(1.0, 1 / beta, &o), ISING_OK);
  return o.f * beta;
}
static double ons_e(double beta, const void *ctx) {
  (void)ctx;
  ising_exact_obs o;
  ck_assert_int_eq(ising_exact_onsager(1.0, 1 / beta, &o), ISING_OK);
  return o.e;
}

/* e = d(beta f)/d beta and c = -beta^2 de/dbeta, by finite differences of
 * Onsager's own f and e: checks the elliptic-integral e and c against the
 * integral for f, independently of Kaufman. */
START_TEST(test_onsager_thermodynamic_consistency) {
  const double Ts[] = {1.2, 2.0, 2.6, 5.0};
  for (int i = 0; i < 4; i++) {
    const double beta = 1 / Ts[i];
    ising_exact_obs o;
    ck_assert_int_eq(ising_exact_onsager(1.0, Ts[i], &o), ISING_OK);
    ASSERT_ABS(o.e, deriv(ons_beta_f, beta, 1e-3 * beta, NULL), 1e-9);
    ASSERT_ABS(o.c, -beta * beta * deriv(ons_e, beta, 1e-4 * beta, NULL), 1e-7);
    ASSERT_REL(o.s, beta * (o.e - o.f), 1e-13);
    ck_assert(isnan(o.lnZ) && isnan(o.m2) && isnan(o.U4) && isnan(o.chi));
    /* power: the derivatives taken 1% off in T are far outside */
    const double boff = beta / 1.01;
    ASSERT_REL_FAR(o.e, deriv(ons_beta_f, boff, 1e-3 * boff, NULL), 1e-9, 100);
    ASSERT_REL_FAR(o.c, -boff * boff * deriv(ons_e, boff, 1e-4 * boff, NULL), 1e-7, 100);
  }
}
END_TEST

START_TEST(test_onsager_limits) {
  ising_exact_obs o, p;
  const double Tc = ising_exact_onsager_tc(1.0);
  /* Self-duality: sinh(2 K_c) = 1. */
  ASSERT_REL(sinh(2 / Tc), 1.0, 1e-15);
  ASSERT_REL(ising_exact_onsager_tc(-2.0), 2 * Tc, 1e-15);
  /* High T: ln Z/N = ln 2 + 2 ln cosh K + O(K^4): f -> -T ln 2,
   * e = -2 J tanh K (1 + O(K^2)), c = 2 K^2 (1 + O(K^2)), s -> ln 2. */
  const double Th = 1e4, K = 1 / Th;
  ck_assert_int_eq(ising_exact_onsager(1.0, Th, &o), ISING_OK);
  ASSERT_REL(o.f, -Th * TEST_LN2, 1e-7);
  ASSERT_REL(o.f, -Th * (TEST_LN2 + 2 * log(cosh(K))), 1e-14);
  ASSERT_REL(o.e, -2 * tanh(K), 1e-7);
  ASSERT_REL(o.c, 2 * K * K, 1e-7);
  ASSERT_REL(o.s, TEST_LN2, 1e-7);
  ck_assert(o.m_abs == 0);
  /* Low T: the ground state e = -2 J; |m| -> 1. */
  ck_assert_int_eq(ising_exact_onsager(1.0, 1.0, &o), ISING_OK);
  ASSERT_ABS(o.e, -2.0, 0.01);
  ck_assert(o.e > -2.0);
  ck_assert_int_eq(ising_exact_onsager(1.0, 0.5, &o), ISING_OK);
  ASSERT_ABS(o.m_abs, 1.0, 1e-6);
  ASSERT_ABS(o.f, -2.0, 1e-6);
  /* m decreases to 0 at T_c and stays 0 above. */
  double mprev = 1.0;
  for (double T = 1.0; T < 2.26; T += 0.1) {
    ck_assert_int_eq(ising_exact_onsager(1.0, T, &o), ISING_OK);
    ck_assert(o.m_abs < mprev && o.m_abs > 0);
    mprev = o.m_abs;
  }
  ck_assert_int_eq(ising_exact_onsager(1.0, Tc * (1 + 1e-9), &o), ISING_OK);
  ck_assert(o.m_abs == 0);
  /* Known value e(T_c) = -sqrt 2, derived: at T_c 2 tanh^2 2K_c - 1 = 0, so
   * the elliptic term of e = -J coth 2K [1 + (2/pi)(2 tanh^2 2K - 1) K(k)]
   * drops out and e = -J coth 2K_c = -sqrt 2 J (sinh 2K_c = 1). */
  ck_assert_int_eq(ising_exact_onsager(1.0, Tc, &o), ISING_OK);
  ASSERT_REL(o.e, -sqrt(2.0), 1e-15);
  ck_assert(isinf(o.c) && o.c > 0);
  ck_assert(isfinite(o.f) && isfinite(o.s));
  /* ... and the general formula approaches it from both sides, while c
   * diverges as -(8/pi) K_c^2 ln|1 - T/T_c| (Onsager's amplitude, the same
   * on both sides): compare the growth between |t| = 1e-6 and 1e-10. */
  const double Kc = 1 / Tc;
  for (int sgn = -1; sgn <= 1; sgn += 2) {
    ck_assert_int_eq(ising_exact_onsager(1.0, Tc * (1 + sgn * 1e-8), &p), ISING_OK);
    ASSERT_ABS(p.e, -sqrt(2.0), 1e-6);
    ASSERT_ABS(p.f, o.f, 1e-7);
    ising_exact_obs q6, q10;
    ck_assert_int_eq(ising_exact_onsager(1.0, Tc * (1 + sgn * 1e-6), &q6), ISING_OK);
    ck_assert_int_eq(ising_exact_onsager(1.0, Tc * (1 + sgn * 1e-10), &q10), ISING_OK);
    ck_assert(isfinite(q10.c) && q10.c > p.c && p.c > q6.c);
    ASSERT_ABS(q10.c - q6.c, 8 / TEST_PI * Kc * Kc * log(1e4), 1e-4);
  }
  /* J < 0: same f, e, c (bipartite); the uniform magnetisation is 0. */
  ck_assert_int_eq(ising_exact_onsager(1.0, 1.5, &o), ISING_OK);
  ck_assert_int_eq(ising_exact_onsager(-1.0, 1.5, &p), ISING_OK);
  ASSERT_REL(p.f, o.f, 0);
  ASSERT_REL(p.e, o.e, 0);
  ASSERT_REL(p.c, o.c, 0);
  ck_assert(p.m_abs == 0 && o.m_abs > 0.9);
  /* J = 0: free spins. */
  ck_assert_int_eq(ising_exact_onsager(0.0, 3.0, &o), ISING_OK);
  ASSERT_REL(o.f, -3 * TEST_LN2, 1e-15);
  ck_assert(o.e == 0 && o.c == 0);
  /* extreme temperatures stay finite */
  const double Tx[] = {1e-300, 1e-3, 1e300};
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(ising_exact_onsager(1.0, Tx[i], &o), ISING_OK);
    ck_assert(isfinite(o.f) && isfinite(o.e) && isfinite(o.c) && isfinite(o.s));
  }
}
END_TEST

START_TEST(test_onsager_bad_input) {
  ising_exact_obs o;
  const double badT[] = {0, -2, NAN, INFINITY};
  for (int i = 0; i < 4; i++) {
    ising_err_clear();
    ck_assert_int_eq(ising_exact_onsager(1, badT[i], &o), ISING_ERR_INPUT);
  }
  ising_err_clear();
  ck_assert_int_eq(ising_exact_onsager(INFINITY, 1, &o), ISING_ERR_INPUT);
  ising_err_clear();
  ck_assert_int_eq(ising_exact_onsager(1, 1, NULL), ISING_ERR_INPUT);
  ising_err_clear();
}
END_TEST


/* ------------------------------------------------- one disorder sample */

/* A couplings provider from tables: w[site * 3 + axis], f[site]. */
typedef struct tab_ctx {
  int32_t w[3 * 20], f[20];
} tab_ctx;
static int32_t tab_bond(const void *ctx, int64_t site, int axis) {
  return ((const tab_ctx *)ctx)->w[site * 3 + axis];
}
static int32_t tab_field(const void *ctx, int64_t site) {
  return ((const tab_ctx *)ctx)->f[site];
}
static ising_couplings tab_couplings(const tab_ctx *t, double J_unit, double H,
                                     double h_unit, int fields) {
  ising_couplings c = ising_couplings_uniform(J_unit, H);
  c.bond = tab_bond;
  c.field = fields ? tab_field : NULL;
  c.h_unit = fields ? h_unit : 0;
  c.ctx = t;
  c.bimodal = 0;
  return c;
}

/* Site coordinates and the +e_axis neighbour (x fastest). */
static void site_coords(int dim, const int64_t *L, int i, int *x) {
  for (int k = 0; k < 3; k++) x[k] = 0;
  for (int k = 0; k < dim; k++) {
    x[k] = i % (int)L[k];
    i /= (int)L[k];
  }
}
static int site_plus(int dim, const int64_t *L, int i, int axis) {
  int x[3];
  site_coords(dim, L, i, x);
  x[axis] = (x[axis] + 1) % (int)L[axis];
  int j = 0;
  for (int a = dim - 1; a >= 0; a--) j = j * (int)L[a] + x[a];
  return j;
}

/* Brute force: E bond by bond from ising_couplings_J/h, then the double loop
 * over every pair (a, b) of states for the overlaps. */
static void brute_disorder(int dim, const int64_t *L, const ising_couplings *c, double T,
                           ising_exact_disorder_obs *o) {
  int N = 1;
  for (int k = 0; k < dim; k++) N *= (int)L[k];
  const int n = 1 << N;
  static double E[1 << 8], w[1 << 8];
  ck_assert(N <= 8);
  double E0 = INFINITY;
  for (int st = 0; st < n; st++) {
    double e = 0;
    for (int i = 0; i < N; i++) {
      const int si = (st >> i) & 1 ? -1 : 1;
      e -= ising_couplings_h(c, i) * si;
      for (int k = 0; k < dim; k++) {
        const int j = site_plus(dim, L, i, k);
        const int sj = (st >> j) & 1 ? -1 : 1;
        e -= ising_couplings_J(c, i, k) * si * sj;
      }
    }
    E[st] = e;
    if (e < E0) E0 = e;
  }
  long double Z = 0, sE = 0, sE2 = 0, sA = 0, sM2 = 0, sM4 = 0;
  for (int st = 0; st < n; st++) {
    w[st] = exp(-(E[st] - E0) / T);
    long double M = 0;
    for (int i = 0; i < N; i++) M += (st >> i) & 1 ? -1 : 1;
    Z += w[st];
    sE += w[st] * (long double)E[st];
    sE2 += w[st] * (long double)E[st] * E[st];
    sA += w[st] * fabsl(M);
    sM2 += w[st] * M * M;
    sM4 += w[st] * M * M * M * M;
  }
  o->lnZ = (double)(logl(Z) - E0 / T);
  o->e = (double)(sE / Z / N);
  o->c = (double)((sE2 / Z - (sE / Z) * (sE / Z)) / ((long double)T * T) / N);
  o->m_abs = (double)(sA / Z / N);
  o->m2 = (double)(sM2 / Z / ((long double)N * N));
  o->m4 = (double)(sM4 / Z / ((long double)N * N * N * N));
  long double qa = 0, q2 = 0, q4 = 0, ql = 0, sk = 0;
  for (int a = 0; a < n; a++)
    for (int b = 0; b < n; b++) {
      const long double pw = (long double)w[a] * w[b] / (Z * Z);
      int qi[8];
      long double q = 0, l = 0, s = 0;
      for (int i = 0; i < N; i++) {
        qi[i] = ((a >> i) & 1 ? -1 : 1) * ((b >> i) & 1 ? -1 : 1);
        q += qi[i];
      }
      for (int i = 0; i < N; i++)
        for (int k = 0; k < dim; k++) l += qi[i] * qi[site_plus(dim, L, i, k)];
      for (int k = 0; k < dim; k++) {
        double re = 0, im = 0;
        for (int i = 0; i < N; i++) {
          int x[3];
          site_coords(dim, L, i, x);
          re += qi[i] * cos(2 * TEST_PI * x[k] / (double)L[k]);
          im += qi[i] * sin(2 * TEST_PI * x[k] / (double)L[k]);
        }
        s += (re * re + im * im) / N;
      }
      q /= N;
      qa += pw * fabsl(q);
      q2 += pw * q * q;
      q4 += pw * q * q * q * q;
      ql += pw * l / (dim * N);
      sk += pw * s / dim;
    }
  o->q_abs = (double)qa;
  o->q2 = (double)q2;
  o->q4 = (double)q4;
  o->ql = (double)ql;
  o->sq0 = (double)(N * q2);
  o->sq_kmin = (double)sk;
}

/* Relative tol, or absolute 1e-15 for values that are nearly 0. */
#define ASSERT_CLOSE(a, b, tol)                                                 \
  do {                                                                         \
    double a_ = (a), b_ = (b), d_ = fabs(a_ - b_);                             \
    ck_assert_msg(d_ <= (tol) * fabs(b_) || d_ <= 1e-15,                       \
                  "%s = %.17g vs %s = %.17g: diff %.3g", #a, a_, #b, b_, d_);  \
  } while (0)

static void assert_dis_close(const ising_exact_disorder_obs *a,
                             const ising_exact_disorder_obs *b, double tol, int with_m) {
  ASSERT_CLOSE(a->e, b->e, tol);
  ASSERT_CLOSE(a->c, b->c, 100 * tol); /* a difference of moments in the brute force */
  if (with_m) {
    ASSERT_CLOSE(a->lnZ, b->lnZ, tol);
    ASSERT_CLOSE(a->m_abs, b->m_abs, tol);
    ASSERT_CLOSE(a->m2, b->m2, tol);
    ASSERT_CLOSE(a->m4, b->m4, tol);
  }
  ASSERT_CLOSE(a->q_abs, b->q_abs, tol);
  ASSERT_CLOSE(a->q2, b->q2, tol);
  ASSERT_CLOSE(a->q4, b->q4, tol);
  ASSERT_CLOSE(a->ql, b->ql, tol);
  ASSERT_CLOSE(a->sq0, b->sq0, tol);
  ASSERT_CLOSE(a->sq_kmin, b->sq_kmin, tol);
}

/* A small deterministic generator for the samples. */
static uint32_t lcg(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

START_TEST(test_disorder_vs_brute) {
  /* Mixed signs, a 0 weight, |w| > 1, fields; the L = 2 axes have two
   * distinct bonds between the same sites, with different weights here. */
  const int64_t shapes[][3] = {{2, 2, 2}, {4, 2, 1}};
  const int dims[] = {3, 2};
  const int32_t wpat[] = {1, -1, 2, 0, -3, 1, 1, -2, -1, 3, 0, 1};
  const int32_t fpat[] = {1, -2, 0, 3, -1, 2, 1, -1};
  tab_ctx t;
  for (int i = 0; i < 60; i++) t.w[i] = wpat[i % 12];
  for (int i = 0; i < 20; i++) t.f[i] = fpat[i % 8];
  const double Ts[] = {0.8, 2.5};
  for (int s = 0; s < 2; s++)
    for (int fields = 0; fields <= 1; fields++)
      for (int it = 0; it < 2; it++) {
        const ising_couplings c = tab_couplings(&t, 0.7, 0.1, 0.3, fields);
        ising_exact_disorder_obs a, b;
        ck_assert_int_eq(ising_exact_disorder(dims[s], shapes[s], &c, Ts[it], &a), ISING_OK);
        brute_disorder(dims[s], shapes[s], &c, Ts[it], &b);
        assert_dis_close(&a, &b, 1e-12, 1);
        /* power: 1% off in T */
        brute_disorder(dims[s], shapes[s], &c, 1.01 * Ts[it], &b);
        ASSERT_REL_FAR(a.q2, b.q2, 1e-12, 1000);
        ASSERT_REL_FAR(a.ql, b.ql, 1e-12, 1000);
        ASSERT_REL_FAR(a.sq_kmin, b.sq_kmin, 1e-12, 1000);
        ASSERT_REL_FAR(a.e, b.e, 1e-12, 1000);
      }
}
END_TEST

START_TEST(test_disorder_uniform_vs_enumerate) {
  const int64_t L44[3] = {4, 4, 1}, L223[3] = {2, 2, 3};
  const double Ts[] = {1.5, 2.269185, 4.0};
  const double Hs[] = {0.0, 0.2};
  for (int h = 0; h < 2; h++)
    for (int it = 0; it < 3; it++) {
      const ising_couplings c = ising_couplings_uniform(1.0, Hs[h]);
      ising_exact_disorder_obs a;
      ising_exact_obs b;
      ck_assert_int_eq(ising_exact_disorder(2, L44, &c, Ts[it], &a), ISING_OK);
      ck_assert_int_eq(ising_exact_enumerate(2, L44, 1.0, Hs[h], Ts[it], &b), ISING_OK);
      ASSERT_REL(a.lnZ, b.lnZ, 1e-13);
      ASSERT_REL(a.e, b.e, 1e-12);
      ASSERT_REL(a.c, b.c, 1e-12);
      ASSERT_REL(a.m_abs, b.m_abs, 1e-12);
      ASSERT_REL(a.m2, b.m2, 1e-12);
      ASSERT_REL(a.m4, b.m4, 1e-12);
      /* the same through a table provider with every w = 1 */
      tab_ctx t;
      for (int i = 0; i < 60; i++) t.w[i] = 1;
      for (int i = 0; i < 20; i++) t.f[i] = 0;
      const ising_couplings ct = tab_couplings(&t, 1.0, Hs[h], 0.5, 1);
      ising_exact_disorder_obs d;
      ck_assert_int_eq(ising_exact_disorder(2, L44, &ct, Ts[it], &d), ISING_OK);
      ASSERT_REL(d.e, b.e, 1e-12);
      ASSERT_REL(d.q2, a.q2, 1e-12);
      ASSERT_REL(d.ql, a.ql, 1e-12);
    }
  /* 3D with L = 2 axes (double bonds) */
  const ising_couplings c = ising_couplings_uniform(-0.7, 0.3);
  ising_exact_disorder_obs a;
  ising_exact_obs b;
  ck_assert_int_eq(ising_exact_disorder(3, L223, &c, 1.7, &a), ISING_OK);
  ck_assert_int_eq(ising_exact_enumerate(3, L223, -0.7, 0.3, 1.7, &b), ISING_OK);
  ASSERT_REL(a.e, b.e, 1e-12);
  ASSERT_REL(a.c, b.c, 1e-12);
  ASSERT_REL(a.m_abs, b.m_abs, 1e-12);
  ASSERT_REL(a.m2, b.m2, 1e-12);
}
END_TEST

START_TEST(test_disorder_limits) {
  const int64_t L44[3] = {4, 4, 1};
  const int N = 16;
  tab_ctx t;
  uint32_t seed = 12345u;
  for (int i = 0; i < 60; i++) t.w[i] = (lcg(&seed) & 1) ? 1 : -1;
  for (int i = 0; i < 20; i++) t.f[i] = (int32_t)(lcg(&seed) % 5) - 2;
  const ising_couplings c = tab_couplings(&t, 1.0, 0.0, 0.0, 0);
  ising_exact_disorder_obs o;
  /* T -> infinity: independent spins, <q^2> = 1/N, <q_l> = 0,
   * <S_q(k)> = 1 for every k, <q^4> = (3N - 2)/N^3; corrections O(K^2). */
  ck_assert_int_eq(ising_exact_disorder(2, L44, &c, 1e3, &o), ISING_OK);
  ASSERT_ABS(o.q2, 1.0 / N, 1e-3);
  ASSERT_ABS(o.ql, 0.0, 1e-3);
  ASSERT_ABS(o.sq0, 1.0, 1e-3);
  ASSERT_ABS(o.sq_kmin, 1.0, 1e-3);
  ASSERT_ABS(o.q4, (3.0 * N - 2) / ((double)N * N * N), 1e-4);
  ASSERT_ABS(o.e, 0.0, 1e-2);
  /* power: at T = 1 the sample is correlated */
  ck_assert_int_eq(ising_exact_disorder(2, L44, &c, 1.0, &o), ISING_OK);
  ck_assert(o.q2 - 1.0 / N > 0.05);
  ck_assert(o.ql > 0.05);
  ck_assert(fabs(o.sq_kmin - 1.0) > 0.05);
  ASSERT_REL(o.sq0, N * o.q2, 1e-15);

  /* T -> 0, uniform ferromagnet at H = 0: the two ground states, so
   * |q| = q^2 = q^4 = q_l = 1 and S_q(k_min) = 0 (corrections e^-40). */
  const ising_couplings cu = ising_couplings_uniform(1.0, 0.0);
  ck_assert_int_eq(ising_exact_disorder(2, L44, &cu, 0.2, &o), ISING_OK);
  ASSERT_REL(o.q_abs, 1.0, 1e-12);
  ASSERT_REL(o.q2, 1.0, 1e-12);
  ASSERT_REL(o.q4, 1.0, 1e-12);
  ASSERT_REL(o.ql, 1.0, 1e-12);
  ASSERT_ABS(o.sq_kmin, 0.0, 1e-12);
  ASSERT_REL(o.e, -2.0, 1e-12);

  /* Independent spins in random fields (every w = 0): with t_i =
   * tanh(beta h_i), <q_i q_j> = t_i^2 t_j^2 (i != j), so
   *   <q^2> = (N + sum_{i!=j} t_i^2 t_j^2) / N^2,
   *   <q_l> = (1/N_b) sum_bonds t_i^2 t_j^2,
   *   <S_q(k)> = (N + sum_{i!=j} t_i^2 t_j^2 cos k(x_i - x_j)) / N,
   *   m2 = (N + sum_{i!=j} t_i t_j) / N^2, e = -(1/N) sum h_i t_i,
   *   c = (1/N) sum (beta h_i)^2 (1 - t_i^2). */
  const int64_t L[3][3] = {{4, 4, 1}, {2, 3, 2}, {5, 3, 1}};
  const int dims[] = {2, 3, 2};
  for (int s = 0; s < 3; s++) {
    int n = 1;
    for (int k = 0; k < dims[s]; k++) n *= (int)L[s][k];
    tab_ctx z;
    for (int i = 0; i < 60; i++) z.w[i] = 0;
    for (int i = 0; i < 20; i++) z.f[i] = (int32_t)(lcg(&seed) % 7) - 3;
    const double T = 0.6;
    const ising_couplings cz = tab_couplings(&z, 0.9, 0.15, 0.4, 1);
    ck_assert_int_eq(ising_exact_disorder(dims[s], L[s], &cz, T, &o), ISING_OK);
    double tt[20], h[20];
    long double q2 = n, m2 = n, ql = 0, e = 0, cv = 0, sk = 0;
    for (int i = 0; i < n; i++) {
      h[i] = ising_couplings_h(&cz, i);
      tt[i] = tanh(h[i] / T);
      e -= h[i] * tt[i];
      cv += (h[i] / T) * (h[i] / T) * (1 - tt[i] * tt[i]);
    }
    for (int k = 0; k < dims[s]; k++) sk += n;
    for (int i = 0; i < n; i++) {
      int xi[3], xj[3];
      site_coords(dims[s], L[s], i, xi);
      for (int k = 0; k < dims[s]; k++) {
        const int j = site_plus(dims[s], L[s], i, k);
        ql += (long double)tt[i] * tt[i] * tt[j] * tt[j];
      }
      for (int j = 0; j < n; j++) {
        if (j == i) continue;
        site_coords(dims[s], L[s], j, xj);
        const long double r = (long double)tt[i] * tt[i] * tt[j] * tt[j];
        q2 += r;
        m2 += (long double)tt[i] * tt[j];
        for (int k = 0; k < dims[s]; k++)
          sk += r * cosl(2 * TEST_PI * (xi[k] - xj[k]) / (long double)L[s][k]);
      }
    }
    ASSERT_REL(o.q2, (double)(q2 / ((long double)n * n)), 1e-12);
    ASSERT_REL(o.sq0, (double)(q2 / n), 1e-12);
    ASSERT_REL(o.ql, (double)(ql / (dims[s] * n)), 1e-12);
    ASSERT_REL(o.sq_kmin, (double)(sk / ((long double)n * dims[s])), 1e-12);
    ASSERT_REL(o.m2, (double)(m2 / ((long double)n * n)), 1e-12);
    ASSERT_REL(o.e, (double)(e / n), 1e-12);
    ASSERT_REL(o.c, (double)(cv / n), 1e-12);
    ck_assert_msg(o.ql > 0.1 && o.q2 > 2.0 / n, "no power: ql %g q2 %g", o.ql, o.q2);
  }
}
END_TEST

/* Gauge transformation at `site`: every bond that touches it and its field
 * change sign; s_site -> -s_site maps the states one to one with the same
 * energy, so only the magnetisation-type averages may change. */
static void gauge_flip(tab_ctx *t, int dim, const int64_t *L, int N, int site) {
  for (int i = 0; i < N; i++)
    for (int k = 0; k < dim; k++)
      if (i == site || site_plus(dim, L, i, k) == site) t->w[i * 3 + k] = -t->w[i * 3 + k];
  t->f[site] = -t->f[site];
}

START_TEST(test_disorder_gauge) {
  const int64_t L44[3] = {4, 4, 1}, L24[3] = {2, 4, 1};
  uint32_t seed = 777u;
  for (int lat = 0; lat < 2; lat++)
    for (int fields = 0; fields <= 1; fields++) {
      const int64_t *L = lat ? L24 : L44;
      const int N = (int)(L[0] * L[1]);
      tab_ctx t, g;
      for (int i = 0; i < 60; i++) t.w[i] = (lcg(&seed) & 1) ? 1 : -1;
      for (int i = 0; i < 20; i++) t.f[i] = (int32_t)(lcg(&seed) % 3) - 1;
      g = t;
      gauge_flip(&g, 2, L, N, 5);
      gauge_flip(&g, 2, L, N, 2);
      const ising_couplings ct = tab_couplings(&t, 1.0, 0.0, 0.5, fields);
      const ising_couplings cg = tab_couplings(&g, 1.0, 0.0, 0.5, fields);
      const double Ts[] = {0.7, 1.8};
      for (int it = 0; it < 2; it++) {
        ising_exact_disorder_obs a, b;
        ck_assert_int_eq(ising_exact_disorder(2, L, &ct, Ts[it], &a), ISING_OK);
        ck_assert_int_eq(ising_exact_disorder(2, L, &cg, Ts[it], &b), ISING_OK);
        ASSERT_REL(b.lnZ, a.lnZ, 1e-13);
        ASSERT_REL(b.e, a.e, 1e-12);
        ASSERT_REL(b.c, a.c, 1e-12);
        ASSERT_REL(b.q_abs, a.q_abs, 1e-12);
        ASSERT_REL(b.q2, a.q2, 1e-12);
        ASSERT_REL(b.q4, a.q4, 1e-12);
        ASSERT_REL(b.ql, a.ql, 1e-12);
        ASSERT_REL(b.sq0, a.sq0, 1e-12);
        ASSERT_REL(b.sq_kmin, a.sq_kmin, 1e-12);
        /* power: the magnetisation is not gauge invariant */
        ASSERT_REL_FAR(b.m2, a.m2, 1e-12, 1e6);
      }
    }
}
END_TEST

START_TEST(test_disorder_bad_input) {
  ising_exact_disorder_obs o;
  const ising_couplings c = ising_couplings_uniform(1.0, 0.0);
  ising_couplings cbad = c;
  cbad.J_unit = NAN;
  const int64_t L44[3] = {4, 4, 1}, L37[3] = {3, 7, 1}, L1[3] = {1, 4, 1},
                L55[3] = {5, 5, 1}, L225[3] = {2, 2, 6};
  struct {
    int dim;
    const int64_t *L;
    const ising_couplings *c;
    double T;
  } bad[] = {{0, L44, &c, 1},   {4, L44, &c, 1},   {2, L37, &c, 1},    {2, L1, &c, 1},
             {2, L55, &c, 1},   {3, L225, &c, 1},  {2, L44, &c, 0},    {2, L44, &c, -1},
             {2, L44, &c, NAN}, {2, L44, &c, INFINITY}, {2, L44, &cbad, 1},
             {2, L44, NULL, 1}, {2, NULL, &c, 1}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ising_err_clear();
    ck_assert_int_eq(ising_exact_disorder(bad[i].dim, bad[i].L, bad[i].c, bad[i].T, &o),
                     ISING_ERR_INPUT);
    ck_assert(ising_err_message()[0] != '\0');
    ck_assert(isnan(o.e) || bad[i].c == NULL || bad[i].L == NULL);
  }
  ising_err_clear();
  ck_assert_int_eq(ising_exact_disorder(2, L44, &c, 1, NULL), ISING_ERR_INPUT);
  ising_err_clear();
  /* N = 20 is allowed */
  const int64_t L45[3] = {4, 5, 1};
  ck_assert_int_eq(ising_exact_disorder(2, L45, &c, 2.0, &o), ISING_OK);
  ck_assert(isfinite(o.q2) && isfinite(o.sq_kmin));
}
END_TEST

static Suite *exact_suite(void) {
  Suite *s = suite_create("exact");
  TCase *tc = tcase_create("enumerate");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_ring_transfer_matrix);
  tcase_add_test(tc, test_enumerate_vs_naive);
  tcase_add_test(tc, test_enumerate_limits);
  tcase_add_test(tc, test_enumerate_bad_input);
  suite_add_tcase(s, tc);
  tc = tcase_create("kaufman");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_kaufman_vs_enumeration);
  tcase_add_test(tc, test_kaufman_symmetries);
  tcase_add_test(tc, test_kaufman_vs_onsager);
  tcase_add_test(tc, test_kaufman_large_lattice);
  tcase_add_test(tc, test_kaufman_branch_continuity);
  tcase_add_test(tc, test_kaufman_bad_input);
  suite_add_tcase(s, tc);
  tc = tcase_create("disorder");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_disorder_vs_brute);
  tcase_add_test(tc, test_disorder_uniform_vs_enumerate);
  tcase_add_test(tc, test_disorder_limits);
  tcase_add_test(tc, test_disorder_gauge);
  tcase_add_test(tc, test_disorder_bad_input);
  suite_add_tcase(s, tc);
  tc = tcase_create("onsager");
  tcase_add_test(tc, test_onsager_thermodynamic_consistency);
  tcase_add_test(tc, test_onsager_limits);
  tcase_add_test(tc, test_onsager_bad_input);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return ising_test_run_suite(exact_suite()); }
