/*
 * baseline.c -- mean field, the GBF bound and Bethe-Peierls (see baseline.h).
 *
 * This file owns the analytic approximations the Monte Carlo is read against
 * and the `ising baseline` table.  Everything is per spin, k_B = 1,
 * beta = 1/T, K = beta J, h = beta H, z neighbours and z/2 bonds per site.
 *
 * Mean field / GBF.  With x = beta lambda the trial field in units of T and
 * m = tanh x, the GBF bound is
 *   f_GBF(x) = -T ln(2 cosh x) + T x m - (z J / 2) m^2 - H m,
 * and since s0(tanh x) = ln(2 cosh x) - x tanh x it is the mean-field
 * f(m) = -(zJ/2) m^2 - H m - T s0(m).  Its stationary points solve
 *   phi(x) = x - h - beta z J tanh x = 0,   i.e. m = tanh(beta (H + z J m)).
 * phi' = 1 - beta z J sech^2 x is even and increasing in |x|, so phi is
 * monotone on at most three pieces (split at cosh^2 x* = beta z J when that
 * exceeds 1), and every root lies in |x - h| <= beta z |J|: each piece is
 * bracketed and bisected to the last bit.  The minimum over m in [-1, 1] is
 * interior (f'(m) -> -inf at m = -1 and +inf at m = +1), so it is the root of
 * lowest f.  Solving for x rather than m keeps m = tanh x accurate to full
 * precision as m -> +-1, and s0 is evaluated as
 *   s0 = log1p(e^{-2|x|}) + 2 |x| e^{-2|x|} / (1 + e^{-2|x|})
 * (no cancellation at any x).
 *
 * Bethe-Peierls.  A spin with one neighbour removed feels the cavity field
 * h_c; through one bond it passes on
 *   beta u(h_c) = atanh(tanh K tanh y) = [ln cosh(K + y) - ln cosh(K - y)] / 2,
 * y = beta h_c (the second form never rounds to atanh(1)), and the fixed point
 * is y = h + (z - 1) beta u(y): the same shape as phi, monotone on at most
 * three pieces, roots in |y - h| <= (z - 1) |K|.  The full field on a site is
 * H + z u and m = tanh(h + z beta u).
 *
 * Bethe free energy.  For a pairwise model on a graph,
 *   -beta F = sum_i ln Z_i - sum_<ij> ln Z_ij
 * (Mezard & Montanari 2009, eq. 14.27, factor graph with the bonds as
 * factors), with messages nu_{k->i}(s) = e^{y s} / (2 cosh y):
 *   Z_i  = sum_s e^{h s} prod_{k in di} sum_{s'} e^{K s s'} nu_{k->i}(s')
 *        = [cosh K / cosh(beta u)]^z  2 cosh(h + z beta u),
 *     using sum_{s'} e^{K s s' + y s'} / (2 cosh y) = cosh K e^{beta u s} / cosh(beta u);
 *   Z_ij = sum_{s,s'} nu_{i->j}(s) e^{K s s'} nu_{j->i}(s')
 *        = cosh K cosh(y + beta u) / [cosh y cosh(beta u)].
 * On a regular graph (N sites, z N / 2 bonds) with the uniform fixed point,
 *   f = -T [ ln Z_i - (z/2) ln Z_ij ]
 *     = -T [ ln 2 + (z/2) ln cosh K - (z/2) ln cosh(beta u) + ln cosh(h + z beta u)
 *            - (z/2) ln cosh(y + beta u) + (z/2) ln cosh y ].
 * Check: K = 0 or T -> inf gives -T ln 2; z = 2 gives the chain's -T ln lambda_+
 * (tests); z = 1 gives the dimer.  Independently, the same number is the
 * variational Bethe functional of the beliefs b_i(s) ~ e^{(h + z beta u) s},
 * b_ij(s,s') ~ e^{y s + y s' + K s s'}:
 *   e = -(z/2) J <s s'>_ij - H m,   s = (z/2) S(b_ij) - (z - 1) S(b_i),
 * and f = e - T s at every fixed point; we report e and s from the beliefs
 * and f from the cavity form, so the tests' check f = e - T s compares two
 * derivations.  (Equivalently f = (z/2) f_edge - (z-1) f_site with the belief
 * free energies f_edge = <E_edge> - T S(b_ij), f_site = -H m - T S(b_i) when
 * the field is put on the sites.)
 *
 * Choice of branch.  Below T_c (and in weak fields) there are three roots;
 * the middle one is unstable (phi' < 0: it repels the iteration and is a
 * maximum of the mean-field f).  Among the roots with phi' > 0 the one of
 * lowest f is reported; ties within rounding go to the sign of H (to + at
 * H = 0).  For J < 0 phi' >= 1: one root, the uniform (paramagnetic at H = 0)
 * solution.
 *
 * No GSL: its default error handler aborts on a domain error, and turning it
 * off is process-wide state a library must not touch; bisection on a
 * monotone bracketed piece needs a dozen lines and cannot fail.
 */
#include "ising/baseline.h"

#include "ising/config.h"
#include "ising/error.h"
#include "ising/exact.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define BL_LN2 0.693147180559945309417232121458176568

/* ------------------------------------------------------------ helpers */

/* ln cosh x = |x| - ln 2 + l1(x), l1(x) = ln(1 + e^{-2|x|}) in [0, ln 2]:
 * the large linear part and the small bounded part are kept apart so that
 * differences of ln cosh of large arguments can be formed exactly. */
static double l1(double x) { return log1p(exp(-2 * fabs(x))); }

static double lcosh(double x) { return fabs(x) - BL_LN2 + l1(x); }

/* |y + d| - |y| without cancellation when |y| >> |d|. */
static double abs_step(double y, double d) {
  double yd = y + d;
  if (y >= 0 && yd >= 0) return d;
  if (y <= 0 && yd <= 0) return -d;
  return fabs(yd) - fabs(y); /* a sign change: |y| <= |d| */
}

/* Entropy s0(tanh x) of one independent spin in the field x (units of T). */
static double spin_entropy(double x) {
  double a = fabs(x), q = exp(-2 * a);
  return log1p(q) + 2 * a * q / (1 + q);
}

static void point_nan(ising_baseline_point *p) {
  p->mf.m = p->mf.f = p->mf.e = p->mf.s = NAN;
  p->gbf.f = p->gbf.e = p->gbf.s = p->gbf.lambda = p->gbf.m = NAN;
  p->bethe.m = p->bethe.f = p->bethe.e = p->bethe.s = p->bethe.h_cavity = NAN;
}

/* The fixed-point equations in one form: F(x) = x - h - a G(x) with G odd,
 * G' even and decreasing in |x| (for a > 0), so F' is even and increasing in
 * |x|.  MF: G = tanh, a = beta z J.  Bethe: G = beta u, a = z - 1. */
typedef struct {
  int bethe; /* 0: mean field, 1: Bethe */
  double h;  /* beta H */
  double a;  /* beta z J (MF) or z - 1 (Bethe) */
  double K;  /* beta J (Bethe) */
} fp_eq;

static double fp_G(const fp_eq *q, double x) {
  if (!q->bethe) return tanh(x);
  /* beta u = [ln cosh(K + y) - ln cosh(K - y)] / 2, with
   * |K + y| - |K - y| = 2 sgn(K y) min(|K|, |y|) taken exactly */
  double lin = fmin(fabs(q->K), fabs(x));
  if ((q->K < 0) != (x < 0)) lin = -lin;
  if (q->K == 0 || x == 0) lin = 0;
  return lin + 0.5 * (l1(q->K + x) - l1(q->K - x));
}

static double fp_dG(const fp_eq *q, double x) {
  if (!q->bethe) {
    double c = cosh(x); /* inf for large x: sech^2 = 0 */
    return 1.0 / (c * c);
  }
  return 0.5 * (tanh(q->K + x) + tanh(q->K - x));
}

static double fp_F(const fp_eq *q, double x) { return x - q->h - q->a * fp_G(q, x); }
static double fp_dF(const fp_eq *q, double x) { return 1.0 - q->a * fp_dG(q, x); }

/* Bisection of a function that is monotone on [lo, hi]: lo <= x <= hi
 * where g changes sign (or a zero).  lo, hi finite. */
static double bisect(double (*g)(const fp_eq *, double), const fp_eq *q,
                     double lo, double hi, double glo) {
  for (int it = 0; it < 4000; it++) {
    double mid = lo + 0.5 * (hi - lo);
    if (!(mid > lo && mid < hi)) break; /* adjacent doubles */
    double gm = g(q, mid);
    if (gm == 0) return mid;
    if ((gm < 0) == (glo < 0)) {
      lo = mid;
      glo = gm;
    } else {
      hi = mid;
    }
  }
  double ghi = g(q, hi);
  return fabs(glo) <= fabs(ghi) ? lo : hi;
}

/* All roots of F in [lo, hi] (at most 3), ascending; returns their number. */
static int fp_roots(const fp_eq *q, double lo, double hi, double roots[3]) {
  double cut[4] = {lo, hi, hi, hi};
  int npieces = 1;
  if (fp_dF(q, 0.0) < 0) {
    /* F decreases around 0: find x* > 0 with F'(x*) = 0 (F' increasing). */
    double R = fmax(fabs(lo), fabs(hi)), xs = R;
    if (fp_dF(q, R) > 0) xs = bisect(fp_dF, q, 0.0, R, fp_dF(q, 0.0));
    double c1 = fmax(lo, -xs), c2 = fmin(hi, xs);
    cut[0] = lo;
    cut[1] = c1;
    cut[2] = c2;
    cut[3] = hi;
    npieces = 3;
  }
  int n = 0;
  for (int k = 0; k < npieces; k++) {
    double a = cut[k], b = cut[k + 1];
    if (!(b >= a)) continue;
    double Fa = fp_F(q, a), Fb = fp_F(q, b), r;
    if (Fa == 0)
      r = a;
    else if (Fb == 0)
      r = b;
    else if ((Fa < 0) != (Fb < 0))
      r = bisect(fp_F, q, a, b, Fa);
    else
      continue;
    if (n > 0 && r <= roots[n - 1]) continue; /* a root on a cut, seen twice */
    roots[n++] = r;
  }
  return n;
}

/* Order in which candidate roots are visited: the preferred sign on a tie
 * (that of H, + at H = 0) first. */
static int visit_index(int k, int n, double H) { return H < 0 ? k : n - 1 - k; }

/* Replace `best` only when clearly lower (ties within rounding keep the
 * first visited). */
static int clearly_lower(double f, double best) {
  if (isinf(best)) return f < best;
  return f < best - 8 * DBL_EPSILON * (fabs(best) + fabs(f));
}

/* ------------------------------------------------------- the baselines */

static int check_args(int z, double J, double H, double T) {
  ISING_CHECK(z >= 1, ISING_ERR_INPUT,
              "baseline: coordination number z = %d, must be >= 1", z);
  ISING_CHECK(isfinite(J) && isfinite(H), ISING_ERR_INPUT,
              "baseline: J = %g, H = %g must be finite", J, H);
  ISING_CHECK(isfinite(T) && T > 0, ISING_ERR_INPUT,
              "baseline: T = %g, must be finite and > 0", T);
  ISING_CHECK(isfinite(J / T) && isfinite(H / T) &&
                  isfinite(2.0 * ((double)z * fabs(J) + fabs(H)) / T),
              ISING_ERR_INPUT,
              "baseline: T = %g is too small for J = %g, H = %g (J/T or H/T overflows)",
              T, J, H);
  return ISING_OK;
}

double ising_baseline_gbf_bound(int z, double J, double H, double T, double lambda) {
  if (!(z >= 1 && isfinite(J) && isfinite(H) && isfinite(T) && T > 0 &&
        isfinite(lambda) && isfinite(J / T) && isfinite(H / T) && isfinite(z * J / T) &&
        isfinite(lambda / T)))
    return NAN;
  double x = lambda / T, m = tanh(x);
  /* f_0 = -T ln(2 cosh x); <E - E_0>_0 / N = -(zJ/2) m^2 - H m + lambda m. */
  double f0 = -T * (BL_LN2 + lcosh(x));
  return f0 + lambda * m - 0.5 * z * J * m * m - H * m;
}

/* Mean field and GBF from the roots of phi. */
static int mean_field(int z, double J, double H, double T, ising_baseline_point *out) {
  const double beta = 1.0 / T;
  fp_eq q = {0, H * beta, z * J * beta, J * beta};
  const double w = fabs(q.a), pad = 1e-9 * (w + fabs(q.h)) + 1e-300;
  double roots[3];
  int n = fp_roots(&q, q.h - w - pad, q.h + w + pad, roots);
  /* n >= 1: phi(lo) <= 0 <= phi(hi) on this bracket. */
  ISING_CHECK(n >= 1, ISING_ERR_INTERNAL,
              "baseline: no mean-field root for z = %d, J = %g, H = %g, T = %g", z, J, H, T);
  double best = INFINITY, xb = roots[0];
  for (int k = 0; k < n; k++) {
    double x = roots[visit_index(k, n, H)];
    if (fp_dF(&q, x) < 0 && n > 1) continue; /* the unstable middle root */
    double m = tanh(x), f = -0.5 * z * J * m * m - H * m - T * spin_entropy(x);
    if (clearly_lower(f, best)) {
      best = f;
      xb = x;
    }
  }
  const double m = tanh(xb);
  out->mf.m = m;
  out->mf.e = -0.5 * z * J * m * m - H * m + 0.0; /* + 0.0: no -0 in the table */
  out->mf.s = spin_entropy(xb);
  out->mf.f = out->mf.e - T * out->mf.s;
  out->gbf.lambda = T * xb; /* == H + z J m at the root */
  out->gbf.m = m;
  out->gbf.f = ising_baseline_gbf_bound(z, J, H, T, out->gbf.lambda);
  out->gbf.e = out->mf.e;
  out->gbf.s = out->mf.s;
  return ISING_OK;
}

/* Bethe free energy (cavity form, see the top of the file) at the fixed
 * point y = beta h_c; bu = beta u(y):
 *   -beta f = ln 2 + (z/2) [lc(K) - lc(bu) - (lc(y + bu) - lc(y))] + lc(h + z bu),
 * lc = ln cosh.  Written with lc = |.| - ln 2 + l1 the ln 2 cancel and
 * |y + bu| - |y| is formed exactly: y ~ (z - 1) K is large at low T, and a
 * naive difference would lose eps z^2 K. */
static double bethe_f(int z, double K, double h, double T, double y, double bu) {
  const double hz = 0.5 * z, x = h + z * bu;
  const double lin = hz * (fabs(K) - fabs(bu) - abs_step(y, bu)) + fabs(x);
  const double small = hz * (l1(K) - l1(bu) - l1(y + bu) + l1(y)) + l1(x);
  return -T * (lin + small);
}

/* Entropy -sum b ln b of the distribution b_k ~ exp(a_k), k < n, computed
 * from the log-weights relative to the largest (no cancellation); also the
 * probabilities b[]. */
static double belief_entropy(const double *a, int n, double *b) {
  double amax = a[0];
  for (int k = 1; k < n; k++) amax = fmax(amax, a[k]);
  double r = 0; /* sum of exp(a_k - amax) over k != argmax, as log1p argument */
  int kmax = 0;
  for (int k = 0; k < n; k++)
    if (a[k] == amax) {
      kmax = k;
      break;
    }
  for (int k = 0; k < n; k++)
    if (k != kmax) r += exp(a[k] - amax);
  const double lz = log1p(r); /* ln Z - amax */
  double S = 0;
  for (int k = 0; k < n; k++) {
    double lb = (a[k] - amax) - lz;
    b[k] = exp(lb);
    S -= b[k] * lb;
  }
  return S;
}

static int bethe(int z, double J, double H, double T, ising_baseline_point *out) {
  const double beta = 1.0 / T, K = J * beta, h = H * beta;
  fp_eq q = {1, h, (double)(z - 1), K};
  const double w = (z - 1) * fabs(K), pad = 1e-9 * (w + fabs(h)) + 1e-300;
  double roots[3];
  int n = fp_roots(&q, h - w - pad, h + w + pad, roots);
  ISING_CHECK(n >= 1, ISING_ERR_INTERNAL,
              "baseline: no Bethe fixed point for z = %d, J = %g, H = %g, T = %g", z, J, H, T);
  double best = INFINITY, yb = roots[0];
  for (int k = 0; k < n; k++) {
    double y = roots[visit_index(k, n, H)];
    if (fp_dF(&q, y) < 0 && n > 1) continue; /* unstable against uniform change */
    double f = bethe_f(z, K, h, T, y, fp_G(&q, y));
    if (clearly_lower(f, best)) {
      best = f;
      yb = y;
    }
  }
  const double bu = fp_G(&q, yb), xs = h + z * bu;
  out->bethe.h_cavity = T * yb;
  out->bethe.m = tanh(xs);
  out->bethe.f = bethe_f(z, K, h, T, yb, bu);
  /* Pair belief b(s, s') ~ exp(y s + y s' + K s s'): ++, --, +-, -+. */
  const double a[4] = {2 * yb + K, -2 * yb + K, -K, -K};
  double b[4];
  const double Spair = belief_entropy(a, 4, b);
  const double ss = (b[0] + b[1]) - (b[2] + b[3]);
  out->bethe.e = -0.5 * z * J * ss - H * out->bethe.m + 0.0;
  out->bethe.s = 0.5 * z * Spair - (z - 1) * spin_entropy(xs);
  return ISING_OK;
}

int ising_baseline_compute(int z, double J, double H, double T,
                           ising_baseline_point *out) {
  ISING_CHECK(out != NULL, ISING_ERR_INPUT, "baseline: NULL output");
  point_nan(out);
  ISING_CALL(check_args(z, J, H, T));
  int rc = mean_field(z, J, H, T, out);
  if (rc == ISING_OK) rc = bethe(z, J, H, T, out);
  if (rc != ISING_OK) point_nan(out);
  return rc;
}

double ising_baseline_tc_mf(int z, double J) {
  if (z < 1 || !isfinite(J)) return NAN;
  return z * fabs(J);
}

double ising_baseline_tc_bethe(int z, double J) {
  if (z < 1 || !isfinite(J)) return NAN;
  if (z <= 2 || J == 0) return 0.0;
  return 2 * fabs(J) / log((double)z / (z - 2));
}

/* -------------------------------------------------------------- the table */

int ising_baseline_print_table(FILE *f, const ising_config *cfg) {
  ISING_CHECK(f != NULL && cfg != NULL, ISING_ERR_INPUT, "baseline table: NULL argument");
  ISING_CHECK(cfg->dim >= 1 && cfg->dim <= ISING_MAX_DIM, ISING_ERR_INPUT,
              "baseline table: dim = %d, allowed 1..%d", cfg->dim, ISING_MAX_DIM);
  ISING_CHECK(cfg->n_temps >= 1 && cfg->n_temps <= ISING_MAX_TEMPS, ISING_ERR_INPUT,
              "baseline table: %d temperatures, allowed 1..%d", cfg->n_temps,
              ISING_MAX_TEMPS);
  const int z = 2 * cfg->dim;
  const double J = cfg->J, H = cfg->H;
  ISING_CALL(check_args(z, J, H, cfg->temps[0])); /* J, H; each T below */
  const int exact2d = cfg->dim == 2 && H == 0;

  char lat[128];
  int pos = 0;
  long double N = 1;
  for (int k = 0; k < cfg->dim; k++) {
    if (pos < (int)sizeof lat)
      pos += snprintf(lat + pos, sizeof lat - (size_t)pos, "%s%lld", k ? " x " : "",
                      (long long)cfg->L[k]);
    N *= (long double)cfg->L[k];
  }
  fprintf(f, "# ising baseline: mean field = GBF bound, Bethe-Peierls%s (no Monte Carlo)\n",
          exact2d ? ", exact 2D" : "");
  if (cfg->deck_name[0]) fprintf(f, "# deck: %s\n", cfg->deck_name);
  fprintf(f, "# lattice: %dD periodic %s (N = %.0Lf), z = %d neighbours, %d bonds per site;"
             " J = %.10g, H = %.10g, k_B = 1\n",
          cfg->dim, lat, N, z, cfg->dim, J, H);
  fprintf(f, "# T_c: mean field z|J| = %.8g, Bethe 2|J|/ln(z/(z-2)) = %.8g",
          ising_baseline_tc_mf(z, J), ising_baseline_tc_bethe(z, J));
  if (cfg->dim == 2) fprintf(f, ", Onsager 2|J|/ln(1+sqrt 2) = %.8g", ising_exact_onsager_tc(J));
  fprintf(f, "%s%s\n", J < 0 ? " (Neel temperatures: J < 0)" : "",
          H != 0 ? " (values at H = 0)" : "");
  fprintf(f, "# per spin: m magnetisation, f free energy, e energy, s entropy, f = e - T s\n");
  fprintf(f, "# f_MF is the Gibbs-Bogoliubov-Feynman bound with independent spins at its\n"
             "# optimum (the mean-field solution): a rigorous upper bound on f.  Expect\n"
             "# f_exact <= f_Bethe <= f_MF%s.\n",
          J < 0 && H != 0 ? " (the Bethe inequality is proven only for J > 0, or H = 0)" : "");
  if (J < 0)
    fprintf(f, "# J < 0: the uniform ansatz has no Neel order; m is the uniform magnetisation\n");
  if (cfg->dim == 2 && H != 0)
    fprintf(f, "# no exact columns: Kaufman and Onsager need H = 0\n");
  if (cfg->dim == 3) fprintf(f, "# no exact columns: the 3D Ising model has no exact solution\n");
  if (exact2d)
    fprintf(f, "# Kaufman: exact %s torus; Onsager: infinite lattice\n", lat);

  fprintf(f, "#%13s %12s %12s %12s %12s %12s %12s %12s", "T", "m_MF", "f_MF=f_GBF",
          "e_MF", "s_MF", "m_Bethe", "f_Bethe", "e_Bethe");
  if (exact2d)
    fprintf(f, " %12s %12s %12s %12s", "f_Kaufman", "e_Kaufman", "f_Onsager", "e_Onsager");
  fprintf(f, "\n");

  for (int t = 0; t < cfg->n_temps; t++) {
    const double T = cfg->temps[t];
    ising_baseline_point p;
    ISING_CALL(ising_baseline_compute(z, J, H, T, &p));
    fprintf(f, " %13.8g %12.8f %12.8f %12.8f %12.8f %12.8f %12.8f %12.8f", T, p.mf.m,
            p.mf.f, p.mf.e, p.mf.s, p.bethe.m, p.bethe.f, p.bethe.e);
    if (exact2d) {
      ising_exact_obs k, o;
      ISING_CALL(ising_exact_kaufman(cfg->L[0], cfg->L[1], J, T, &k));
      ISING_CALL(ising_exact_onsager(J, T, &o));
      fprintf(f, " %12.8f %12.8f %12.8f %12.8f", k.f, k.e, o.f, o.e);
    }
    fprintf(f, "\n");
  }
  ISING_CHECK(fflush(f) == 0 && !ferror(f), ISING_ERR_IO,
              "baseline table: writing the table failed");
  return ISING_OK;
}
