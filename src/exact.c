/*
 * exact.c -- the exact results the Monte Carlo is judged against.
 *
 * This module owns three independent routes to exact equilibrium numbers of
 * the Ising model in the conventions of DESIGN.md section 2, so that tests and
 * the baseline table never copy a number from a paper:
 *
 *  - brute-force enumeration of all 2^N states of a small periodic lattice
 *    (dim 1..3, any J and H).  A Gray-code walk flips one spin per step and
 *    fills an integer density of states g(bond sum, number of up spins); the
 *    thermodynamics is then a short, exactly shifted long-double sum over that
 *    histogram, so 2^24 states take a fraction of a second and the results
 *    carry no accumulated rounding;
 *  - Kaufman's (1949) partition function of the Lx x Ly torus at H = 0, with
 *    the energy and specific heat from ANALYTIC K-derivatives.  Every factor
 *    of the four Kaufman products is written as lambda_+^(m/2) +- lambda_-^(m/2)
 *    (the transfer-matrix eigenvalues, the (2 sinh 2K)^(N/2) prefactor folded
 *    in), and ln lambda_+ is evaluated through the duality y -> 1/y of
 *    y = sinh 2K, so nothing overflows or cancels catastrophically from
 *    T -> 0 to T -> infinity, and the k = 0 mode (whose gamma_0 changes sign
 *    at T_c) is a pair of closed-form exponentials, exact at T_c itself;
 *  - Onsager's infinite square lattice: f from its one-dimensional integral
 *    (Gauss-Legendre on panels graded towards the logarithmic singularity),
 *    e and c from complete elliptic integrals computed by the AGM from the
 *    COMPLEMENTARY modulus, which stays accurate arbitrarily close to T_c.
 *  - one quenched-disorder sample (any couplings provider, N <= 20): the
 *    Boltzmann weights of all 2^N states, and the distribution of the
 *    difference pattern d = a XOR b of two independent replicas as the XOR
 *    autocorrelation of those weights (fast Walsh-Hadamard transform), from
 *    which q, q_l and S_q follow.
 *
 * No GSL: its error handler aborts by default on a domain error, which a
 * library must not do; the two special functions needed are a few lines.
 * Nothing here prints; bad arguments return ISING_ERR_INPUT with a message.
 */
#include "ising/exact.h"

#include "ising/error.h"
#include "ising/model.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define EXACT_PI 3.14159265358979323846264338327950288
#define EXACT_LN2 0.693147180559945309417232121458176568

/* Below this K = |J|/T the high-temperature expansion to O(K^2) is exact to
 * double precision (the first loop correction is O(K^4) ~ 1e-400), and the
 * Kaufman and Onsager formulas would need csch^2(2K) > DBL_MAX. */
#define EXACT_K_TINY 1e-100

/* Fill the fields that have no value with NaN. */
static void obs_nan(ising_exact_obs *o) {
  o->lnZ = o->f = o->e = o->s = o->c = NAN;
  o->m = o->m_abs = o->m2 = o->m4 = o->U4 = o->chi = o->chi_p = NAN;
}

/* ---------------------------------------------------------------- popcount */

static inline int bits_popcount(uint32_t x) {
#if defined(__GNUC__)
  return __builtin_popcount(x);
#else
  int n = 0;
  for (; x; x &= x - 1) n++;
  return n;
#endif
}

static inline int bits_ctz(uint32_t x) { /* x != 0 */
#if defined(__GNUC__)
  return __builtin_ctz(x);
#else
  int n = 0;
  while (!(x & 1u)) {
    x >>= 1;
    n++;
  }
  return n;
#endif
}

/* ------------------------------------------------------------- enumeration */

#define ENUM_NMAX 24
#define ENUM_HIST ((3 * ENUM_NMAX + 1) * (ENUM_NMAX + 1))

/* g[b * (N+1) + u] = number of states with bond sum B = 2b - dim N and
 * u up spins (M = 2u - N).  Bit i of the state is 1 when spin i is down. */
static void enum_histogram(int dim, const int64_t *L, int N, uint32_t *g) {
  /* mask1[i]: the distinct neighbours of site i; mask2[i]: those that are
   * the neighbour twice (both x+e_k and x-e_k, an axis of length 2). */
  uint32_t mask1[ENUM_NMAX], mask2[ENUM_NMAX];
  for (int i = 0; i < N; i++) {
    int x[3] = {0, 0, 0}, r = i;
    for (int k = 0; k < dim; k++) {
      x[k] = r % (int)L[k];
      r /= (int)L[k];
    }
    mask1[i] = mask2[i] = 0;
    for (int k = 0; k < dim; k++) {
      for (int step = -1; step <= 1; step += 2) {
        int y[3] = {x[0], x[1], x[2]};
        y[k] = (int)((x[k] + step + L[k]) % L[k]);
        int j = 0;
        for (int a = dim - 1; a >= 0; a--) j = j * (int)L[a] + y[a];
        uint32_t bit = 1u << j;
        if (mask1[i] & bit) mask2[i] |= bit;
        mask1[i] |= bit;
      }
    }
  }
  const int stride = N + 1, twod = 2 * dim;
  for (int i = 0; i < (dim * N + 1) * stride; i++) g[i] = 0;
  uint32_t state = 0;                     /* all spins up */
  int idx = dim * N * stride + N;         /* b = dim N, u = N */
  g[idx]++;
  const uint32_t total = (uint32_t)1 << N; /* N <= 24 */
  for (uint32_t t = 1; t < total; t++) {
    const int j = bits_ctz(t);
    const int down = (int)((state >> j) & 1u);
    const int ndown = bits_popcount(state & mask1[j]) + bits_popcount(state & mask2[j]);
    const int h = twod - 2 * ndown;     /* sum of the neighbours' spins */
    const int s = 1 - 2 * down;         /* the spin before the flip */
    /* Delta B = -2 s h, so Delta b = -s h; Delta u = +1 if it was down. */
    idx += -s * h * stride + (down ? 1 : -1);
    state ^= (uint32_t)1 << j;
    g[idx]++;
  }
}

int ising_exact_enumerate(int dim, const int64_t *L, double J, double H,
                          double T, ising_exact_obs *out) {
  ISING_CHECK(out != NULL && L != NULL, ISING_ERR_INPUT,
              "exact enumeration: NULL argument");
  obs_nan(out);
  ISING_CHECK(dim >= 1 && dim <= 3, ISING_ERR_INPUT,
              "exact enumeration: dim = %d, allowed 1..3", dim);
  int64_t N64 = 1;
  for (int k = 0; k < dim; k++) {
    ISING_CHECK(L[k] >= 2, ISING_ERR_INPUT,
                "exact enumeration: L[%d] = %lld, must be >= 2", k, (long long)L[k]);
    ISING_CHECK(L[k] <= ENUM_NMAX && N64 * L[k] <= ENUM_NMAX, ISING_ERR_INPUT,
                "exact enumeration: more than %d sites (2^N states)", ENUM_NMAX);
    N64 *= L[k];
  }
  ISING_CHECK(isfinite(T) && T > 0 && isfinite(1.0 / T), ISING_ERR_INPUT,
              "exact enumeration: T = %g, must be finite and > 0", T);
  ISING_CHECK(isfinite(J) && isfinite(H), ISING_ERR_INPUT,
              "exact enumeration: J = %g, H = %g must be finite", J, H);
  const int N = (int)N64;

  uint32_t g[ENUM_HIST];
  enum_histogram(dim, L, N, g);

  /* Energies of the occupied cells, exact in long double (a double times a
   * small integer), and the ground-state shift E0 = min E. */
  const int stride = N + 1, nb = dim * N + 1;
  const long double beta = 1.0L / (long double)T;
  long double E0 = INFINITY;
  for (int b = 0; b < nb; b++)
    for (int u = 0; u <= N; u++)
      if (g[b * stride + u]) {
        long double E = -(long double)J * (2 * b - dim * N) - (long double)H * (2 * u - N);
        if (E < E0) E0 = E;
      }
  /* Pass 1: Z / exp(-beta E0), <E - E0>, <M>, <|M|>, <M^2>, <M^4>. */
  long double S = 0, sE = 0, sM = 0, sA = 0, sM2 = 0, sM4 = 0;
  for (int b = 0; b < nb; b++)
    for (int u = 0; u <= N; u++) {
      uint32_t n = g[b * stride + u];
      if (!n) continue;
      long double M = 2 * u - N;
      long double dE = -(long double)J * (2 * b - dim * N) - (long double)H * M - E0;
      long double w = (long double)n * expl(-beta * dE);
      S += w;
      sE += w * dE;
      sM += w * M;
      sA += w * fabsl(M);
      sM2 += w * M * M;
      sM4 += w * M * M * M * M;
    }
  const long double dEm = sE / S, Am = sA / S;
  /* Pass 2: centred second moments (no cancellation). */
  long double vE = 0, vA = 0;
  for (int b = 0; b < nb; b++)
    for (int u = 0; u <= N; u++) {
      uint32_t n = g[b * stride + u];
      if (!n) continue;
      long double M = 2 * u - N;
      long double dE = -(long double)J * (2 * b - dim * N) - (long double)H * M - E0;
      long double w = (long double)n * expl(-beta * dE);
      vE += w * (dE - dEm) * (dE - dEm);
      vA += w * (fabsl(M) - Am) * (fabsl(M) - Am);
    }
  vE /= S;
  vA /= S;
  const long double lnS = logl(S), Nl = N;
  const long double lnZ = lnS - beta * E0;
  ISING_CHECK(isfinite((double)lnZ), ISING_ERR_INPUT,
              "exact enumeration: ln Z overflows at T = %g, J = %g, H = %g", T, J, H);
  out->lnZ = (double)lnZ;
  out->e = (double)((E0 + dEm) / Nl);
  out->f = (double)((E0 - (long double)T * lnS) / Nl);  /* -T lnZ / N */
  out->s = (double)((lnS + beta * dEm) / Nl);           /* beta (e - f) */
  out->c = (double)(beta * beta * vE / Nl);
  out->m = (double)(sM / S / Nl);
  out->m_abs = (double)(Am / Nl);
  const long double m2 = sM2 / S / (Nl * Nl), m4 = sM4 / S / (Nl * Nl * Nl * Nl);
  out->m2 = (double)m2;
  out->m4 = (double)m4;
  out->U4 = (double)(1.0L - m4 / (3.0L * m2 * m2));
  out->chi = (double)(beta * vA / Nl);
  out->chi_p = (double)(beta * Nl * m2);
  return ISING_OK;
}

/* ------------------------------------------------------- shared K helpers */

/* Functions of K >= EXACT_K_TINY that both 2D solutions need, evaluated so
 * that none overflows for large K: y = sinh 2K (possibly +inf, never used
 * then), v = min(y, 1/y), big = (y > 1), ln y, cosh 2K (only when !big),
 * coth 2K, csch^2 2K, sech^2 2K. */
typedef struct {
  double K, y, v, lny, C, cth, csch2, sech2;
  int big;
} kvars;

static kvars kvars_make(double K) {
  kvars q;
  q.K = K;
  if (2 * K <= 20) {
    q.y = sinh(2 * K);
    q.C = cosh(2 * K);
    q.lny = log(q.y);
    q.cth = q.C / q.y;
    q.csch2 = 1 / (q.y * q.y);
    q.sech2 = 1 / (q.C * q.C);
    q.big = q.y > 1;
    q.v = q.big ? 1 / q.y : q.y;
  } else {
    double u = exp(-2 * K), u2 = u * u; /* u may underflow to 0: fine */
    q.v = 2 * u / (1 - u2);             /* 1 / sinh 2K */
    q.y = 1 / q.v;
    q.C = INFINITY;
    q.lny = 2 * K - EXACT_LN2 + log1p(-u2);
    q.cth = (1 + u2) / (1 - u2);
    q.csch2 = q.v * q.v;
    q.sech2 = 4 * u2 / ((1 + u2) * (1 + u2));
    q.big = 1;
  }
  return q;
}

/* ------------------------------------------------------------------ Kaufman */

/* A log term with its first two K-derivatives. */
typedef struct {
  long double v, d1, d2;
} lterm;

/* ln lambda_+(v) for one mode and its v-derivatives, where v <= 1 plays the
 * role of y = sinh 2K and d = 1 - cos(pi k / n) > 0.  With
 * w = 1 + v^2 - (1 - d) v and P = w^2 - v^2 = [(1-v)^2 + d v][1 + v^2 + d v]:
 * lambda_+ = 2 (w + sqrt P) = 2 v e^gamma, and sinh gamma = sqrt(P) / v. */
typedef struct {
  double l, lv, lvv, sq;
} mode_poly;

static mode_poly mode_eval(double v, double d) {
  mode_poly r;
  const double om = 1 - v;
  const double w = om * om + v * (1 + d);
  const double P = (om * om + d * v) * (1 + v * v + d * v);
  const double sq = sqrt(P);
  const double Pv2 = (v - 1) * (2 * v * v - v + 1) + d * (3 * v * v - 2 * v + 1) + d * d * v;
  const double Pvv2 = 6 * v * v - 6 * v + 2 + d * (6 * v - 2) + d * d;
  const double wv = 2 * v - 1 + d;
  const double sv = Pv2 / sq;
  const double svv = (Pvv2 - sv * sv) / sq;
  const double ws = w + sq;
  r.l = EXACT_LN2 + log(ws);
  r.lv = (wv + sv) / ws;
  r.lvv = (2 + svv) / ws - r.lv * r.lv;
  r.sq = sq;
  return r;
}

/* For the mode k >= 1 with d = 1 - cos(pi k/n), add `mult` times the log of
 * (2 sinh 2K)^(m/2) 2 cosh(m gamma_k/2) = lambda_+^(m/2) + lambda_-^(m/2) to
 * *acc_cosh and of the same with sinh (a minus sign) to *acc_sinh, with
 * their first two K-derivatives.  With x = m gamma/2 and q = e^{-2x}:
 * ln F = (m/2) l + ln(1 +- q), (ln F)' = (m/2)(l' + gamma' h),
 * (ln F)'' = (m/2)(l'' + gamma'' h) + (m/2)^2 gamma'^2 g', where h = tanh x - 1
 * or coth x - 1 and g' = sech^2 x or -csch^2 x: all small at high T, where
 * l = ln lambda_+ carries everything. */
static void kaufman_mode(const kvars *q, int split, double m, double d,
                         long double mult, lterm *acc_cosh, lterm *acc_sinh) {
  const mode_poly p = mode_eval(q->v, d);
  double l, l1, l2, gam, l1acc;
  if (!q->big) {
    l = p.l;
    l1 = 2 * q->C * p.lv;
    l2 = 4 * q->y * p.lv + 4 * q->C * q->C * p.lvv;
    l1acc = l1;
    if (split) {
      /* High T: l' = 2C (l_v + c) - 2C c, where l_v -> -c as v -> 0 and the
       * sums of -2C c over the modes are known exactly (the caller adds
       * them), so accumulate only 2C (l_v + c) = O(K), written without the
       * cancellation:  l_v + c = v [a + (w a - 1 - c v)/sqrt P] / (w + sqrt P),
       * a = 2 - c^2 + c v. */
      const double v = q->v, c = 1 - d, om = 1 - v;
      const double w = om * om + v * (1 + d);
      const double a = 2 - c * c + c * v;
      const double lpc = v * (a + (w * a - 1 - c * v) / p.sq) / (w + p.sq);
      l1acc = 2 * q->C * lpc;
      l1 = l1acc - 2 * q->C * c;
    }
  } else {
    /* duality: ln lambda_+(y) = 2 ln y + ln lambda_+(1/y) */
    const double a = 2 - q->v * p.lv;
    l = 2 * q->lny + p.l;
    l1 = 2 * q->cth * a;
    /* l'' = 4a + 4 coth^2 2K (-2 + 2 v l_v + v^2 l_vv) with coth^2 = 1 + v^2,
     * expanded so that the O(1) parts cancel exactly: every term is O(v). */
    const double v = q->v, v2 = v * v;
    l2 = 4 * v * p.lv * (1 + 2 * v2) + 4 * v2 * p.lvv * (1 + v2) - 8 * v2;
    l1acc = l1;
  }
  if (q->v >= 1e-150)
    gam = asinh(p.sq / q->v); /* accurate also when gamma is small */
  else
    gam = q->lny + p.l - EXACT_LN2;
  const double g1 = l1 - 2 * q->cth;       /* gamma' */
  const double g2 = l2 + 4 * q->csch2;     /* gamma'' */
  const double hm = 0.5 * m;
  const double qq = exp(-m * gam);         /* e^{-2x}, x = m gamma / 2 > 0 */
  const double omq = -expm1(-m * gam);     /* 1 - e^{-2x} */
  /* cosh: ln F = (m/2) l + ln(1 + q); (ln F)' = (m/2)(l' + gamma' h), ... */
  {
    const double h = -2 * qq / (1 + qq), gp = 4 * qq / ((1 + qq) * (1 + qq));
    acc_cosh->v += mult * (hm * l + log1p(qq));
    acc_cosh->d1 += mult * (hm * (l1acc + g1 * h));
    acc_cosh->d2 += mult * (hm * (l2 + g2 * h) + hm * hm * g1 * g1 * gp);
  }
  {
    const double h = 2 * qq / omq, gp = -4 * qq / (omq * omq);
    acc_sinh->v += mult * (hm * l + log(omq));
    acc_sinh->d1 += mult * (hm * (l1acc + g1 * h));
    acc_sinh->d2 += mult * (hm * (l2 + g2 * h) + hm * hm * g1 * g1 * gp);
  }
}

/* Kaufman at K < EXACT_K_TINY: ln Z = N ln 2 + sum over axes of N ln cosh K,
 * or (N/2) ln cosh 2K for an axis of length 2 (its bonds come in pairs). */
static void kaufman_tiny(int64_t Lx, int64_t Ly, double K, lterm *lz) {
  const long double N = (long double)Lx * (long double)Ly;
  const long double w = (Lx == 2 ? 2 : 1) + (Ly == 2 ? 2 : 1);
  lz->v = N * EXACT_LN2 + N * w * K * K / 2;
  lz->d1 = N * w * K;
  lz->d2 = N * w;
}

int ising_exact_kaufman(int64_t Lx, int64_t Ly, double J, double T,
                        ising_exact_obs *out) {
  ISING_CHECK(out != NULL, ISING_ERR_INPUT, "Kaufman: NULL output");
  obs_nan(out);
  ISING_CHECK(Lx >= 2 && Ly >= 2 && Lx % 2 == 0 && Ly % 2 == 0, ISING_ERR_INPUT,
              "Kaufman: Lx = %lld, Ly = %lld, both must be even and >= 2",
              (long long)Lx, (long long)Ly);
  ISING_CHECK(Lx <= (1 << 24) && Ly <= (1 << 24), ISING_ERR_INPUT,
              "Kaufman: Lx = %lld, Ly = %lld, at most 2^24 each",
              (long long)Lx, (long long)Ly);
  ISING_CHECK(isfinite(T) && T > 0, ISING_ERR_INPUT,
              "Kaufman: T = %g, must be finite and > 0", T);
  ISING_CHECK(isfinite(J), ISING_ERR_INPUT, "Kaufman: J = %g must be finite", J);
  const double K = fabs(J) / T; /* bipartite: Z(J) = Z(-J) at H = 0 */
  ISING_CHECK(isfinite(K), ISING_ERR_INPUT,
              "Kaufman: |J|/T = %g/%g is not representable", J, T);

  const long double N = (long double)Lx * (long double)Ly;
  lterm lz; /* ln Z and its K-derivatives */
  if (K < EXACT_K_TINY) {
    kaufman_tiny(Lx, Ly, K, &lz);
  } else {
    /* Z = 1/2 (Z1 + Z2 + Z3 + Z4) (Kaufman 1949; Ferdinand & Fisher 1969;
     * Beale 1996), with the prefactor (2 sinh 2K)^(N/2)
     * shared out as (2 sinh 2K)^(m/2) into each of the n factors:
     *   Z1 = prod_{k odd} 2cosh(m gamma_k/2),  Z2 = prod_{k odd} 2sinh(..),
     *   Z3 = prod_{k even} 2cosh(..),          Z4 = prod_{k even} 2sinh(..),
     * k = 0 .. 2n-1, cosh gamma_k = cosh 2K coth 2K - cos(pi k/n), and
     * gamma_0 = 2K + ln tanh K, signed.  n = Lx, m = Ly. */
    const kvars q = kvars_make(K);
    const int64_t n = Lx;
    const double m = (double)Ly;
    lterm r1 = {0, 0, 0}, r2 = {0, 0, 0}, r3 = {0, 0, 0}, r4 = {0, 0, 0};
    /* split: at high T the modes' first derivatives leave out their O(1)
     * parts -m C cos(pi k/n), whose sums are exact: 0 over odd k and
     * +m C over even k != 0 (sum_{r=1}^{n-1} cos(2 pi r/n) = -1); the latter
     * is added to the k = 0 terms below, where it cancels against B'. */
    const int split = !q.big && q.v < 0.5;
    /* Modes k and 2n-k are equal: visit k = 1..n, double all but k = n. */
    for (int64_t k = 1; k <= n; k++) {
      const double s = sin(EXACT_PI * (double)k / (double)(2 * n));
      const double d = 2 * s * s; /* 1 - cos(pi k / n), no cancellation */
      const long double mult = (k == n) ? 1 : 2;
      if (k & 1)
        kaufman_mode(&q, split, m, d, mult, &r1, &r2);
      else
        kaufman_mode(&q, split, m, d, mult, &r3, &r4);
    }
    /* k = 0: (2 sinh 2K)^(m/2) 2 cosh|sinh(m gamma_0/2) = e^A +- e^B with
     * e^A = (e^{2K} - 1)^m, e^B = (1 + e^{-2K})^m (A - B = m gamma_0). */
    const double u = exp(-2 * K), em = -expm1(-2 * K); /* em = 1 - u */
    lterm A, B;
    A.v = m * (2 * K <= 20 ? log(expm1(2 * K)) : 2 * K + log1p(-u));
    A.d1 = 2 * m / em;
    A.d2 = -4 * m * u / (em * em);
    B.v = m * log1p(u);
    B.d1 = -2 * m * u / (1 + u);
    B.d2 = 4 * m * u / ((1 + u) * (1 + u));
    if (split) {
      /* m C + A' (no cancellation); m C + B' = m (2 sinh^2 K + tanh K) */
      const double sk = sinh(K);
      A.d1 += m * q.C;
      B.d1 = m * (2 * sk * sk + tanh(K));
    }
    /* Six signed exponential terms: Z1, Z2, Z3 = R3 (e^A + e^B),
     * Z4 = R4 (e^A - e^B). */
    lterm t[6] = {r1, r2, {r3.v + A.v, r3.d1 + A.d1, r3.d2 + A.d2},
                  {r3.v + B.v, r3.d1 + B.d1, r3.d2 + B.d2},
                  {r4.v + A.v, r4.d1 + A.d1, r4.d2 + A.d2},
                  {r4.v + B.v, r4.d1 + B.d1, r4.d2 + B.d2}};
    const int sgn[6] = {1, 1, 1, 1, 1, -1};
    long double amax = t[0].v;
    for (int i = 1; i < 6; i++)
      if (t[i].v > amax) amax = t[i].v;
    long double W = 0, W1 = 0, wt[6];
    for (int i = 0; i < 6; i++) {
      wt[i] = sgn[i] * expl(t[i].v - amax);
      W += wt[i];
      W1 += wt[i] * t[i].d1;
    }
    const long double mu = W1 / W;
    long double W2 = 0;
    for (int i = 0; i < 6; i++) {
      const long double dm = t[i].d1 - mu;
      W2 += wt[i] * (t[i].d2 + dm * dm);
    }
    lz.v = -EXACT_LN2 + amax + logl(W);
    lz.d1 = mu;
    lz.d2 = W2 / W;
  }
  /* e = -(d lnZ/d beta)/N = -|J| (lnZ)'/N, c = K^2 (lnZ)''/N, s = beta (e - f) */
  const long double Kl = K, Jl = fabs(J);
  ising_exact_obs r;
  obs_nan(&r);
  r.lnZ = (double)lz.v;
  r.f = (double)(-(long double)T * lz.v / N);
  r.e = (double)(-Jl * lz.d1 / N);
  r.s = (double)((lz.v - Kl * lz.d1) / N);
  r.c = (double)(Kl * Kl * lz.d2 / N);
  ISING_CHECK(isfinite(r.lnZ) && isfinite(r.f) && isfinite(r.e) && isfinite(r.s) &&
                  isfinite(r.c),
              ISING_ERR_INPUT, "Kaufman: T = %g, J = %g beyond double range", T, J);
  *out = r;
  return ISING_OK;
}

/* ------------------------------------------------------------------ Onsager */

/* Complete elliptic integrals by the AGM, from the modulus k AND its
 * complement kp = sqrt(1 - k^2) given separately (kp > 0), so that nothing is
 * lost as k -> 1.  With a_0 = 1, b_0 = kp, c_0 = k, c_{n+1} = c_n^2 / (4
 * a_{n+1}) (no cancellation): K(k) = pi / (2 a_inf),
 * K - E = K sum_{n>=0} 2^{n-1} c_n^2.  Returns a_inf; *S1 = sum_{n>=1}
 * 2^{n-1} c_n^2 and *C1 = sum_{n>=1} c_n = 1 - a_inf. */
static double agm_ellip(double k, double kp, double *S1, double *C1) {
  double a = 1, b = kp, c = k, s1 = 0, c1 = 0, p = 0.5;
  for (int it = 0; it < 64; it++) {
    const double an = 0.5 * (a + b);
    const double bn = sqrt(a * b);
    c = c * c / (4 * an);
    p *= 2;
    s1 += p * c * c;
    c1 += c;
    a = an;
    b = bn;
    if (c <= 1e-18 * a) break;
  }
  *S1 = s1;
  *C1 = c1;
  return a;
}

/* Gauss-Legendre nodes and weights on [-1, 1] by Newton's method. */
#define GL_N 20
static void gauss_legendre(double *x, double *w) {
  for (int i = 0; i < (GL_N + 1) / 2; i++) {
    long double z = cosl(EXACT_PI * (i + 0.75L) / (GL_N + 0.5L)), dp = 1;
    for (int it = 0; it < 100; it++) {
      long double p0 = 1, p1 = z;
      for (int j = 2; j <= GL_N; j++) {
        long double p2 = ((2 * j - 1) * z * p1 - (j - 1) * p0) / j;
        p0 = p1;
        p1 = p2;
      }
      dp = GL_N * (z * p1 - p0) / (z * z - 1);
      long double dz = p1 / dp;
      z -= dz;
      if (fabsl(dz) < 1e-19L) break;
    }
    x[i] = (double)-z;
    x[GL_N - 1 - i] = (double)z;
    w[i] = w[GL_N - 1 - i] = (double)(2 / ((1 - z * z) * dp * dp));
  }
}

/* I = int_0^{pi/2} ln[(1 + sqrt(kp^2 + k^2 sin^2 psi)) / 2] dpsi, the
 * integrand written as log1p(-k^2 cos^2 psi / (2 (1 + r))) so that it is
 * accurate when k is small.  Its near-singularity sits at psi = +-i kp/k, so
 * the panels halve towards psi = 0 (64 of them, 20 nodes each). */
static double onsager_integral(double k, double kp) {
  double x[GL_N], w[GL_N];
  gauss_legendre(x, w);
  long double I = 0;
  double hi = 0.5 * EXACT_PI;
  for (int panel = 0; panel <= 64; panel++) {
    const double lo = panel == 64 ? 0 : 0.5 * hi;
    const double c = 0.5 * (hi + lo), h = 0.5 * (hi - lo);
    long double s = 0;
    for (int i = 0; i < GL_N; i++) {
      const double psi = c + h * x[i];
      const double sn = sin(psi), cs = cos(psi);
      const double r = sqrt(kp * kp + k * k * sn * sn);
      s += w[i] * log1p(-k * k * cs * cs / (2 * (1 + r)));
    }
    I += h * s;
    hi = lo;
  }
  return (double)I;
}

double ising_exact_onsager_tc(double J) { return 2 * fabs(J) / log1p(sqrt(2.0)); }

int ising_exact_onsager(double J, double T, ising_exact_obs *out) {
  ISING_CHECK(out != NULL, ISING_ERR_INPUT, "Onsager: NULL output");
  obs_nan(out);
  ISING_CHECK(isfinite(T) && T > 0, ISING_ERR_INPUT,
              "Onsager: T = %g, must be finite and > 0", T);
  ISING_CHECK(isfinite(J), ISING_ERR_INPUT, "Onsager: J = %g must be finite", J);
  const double K = fabs(J) / T, aJ = fabs(J);
  ISING_CHECK(isfinite(K), ISING_ERR_INPUT,
              "Onsager: |J|/T = %g/%g is not representable", J, T);

  double mbf, eps, deps; /* -beta f, e/|J|, d(e/|J|)/dK */
  double mabs = 0;
  if (K < EXACT_K_TINY) {
    /* -beta f = ln 2 + 2 ln cosh K + O(K^4) */
    mbf = EXACT_LN2 + K * K;
    eps = -2 * K;
    deps = -2;
  } else {
    const kvars q = kvars_make(K);
    const double Kc = 0.5 * log1p(sqrt(2.0));
    const double v2 = q.v * q.v;
    /* kappa = 2 sinh 2K / cosh^2 2K = 2v / (1 + v^2), its complement
     * kp = |1 - y^2| / (1 + y^2), and qq = 2 tanh^2 2K - 1 = (y^2-1)/(y^2+1):
     * all symmetric (up to the sign of qq) under y -> 1/y. */
    const double kap = 2 * q.v / (1 + v2);
    const double kp = (1 - q.v) * (1 + q.v) / (1 + v2);
    const double qq = q.big ? kp : -kp;
    const double lcosh = 2 * K + log1p(exp(-4 * K)); /* ln(2 cosh 2K) */
    if (fabs(K - Kc) <= 4 * DBL_EPSILON * Kc || kp == 0) {
      /* T_c within rounding: the elliptic term of e vanishes (2 tanh^2 2K_c
       * = 1) and c diverges logarithmically. */
      mbf = lcosh + onsager_integral(1, 0) / EXACT_PI;
      eps = -sqrt(2.0);
      deps = -INFINITY;
    } else {
      double S1, C1;
      const double a = agm_ellip(kap, kp, &S1, &C1); /* (2/pi) K(kap) = 1/a */
      mbf = lcosh + onsager_integral(kap, kp) / EXACT_PI;
      /* e/|J| = -coth 2K [1 + (2/pi) qq K(kap)] = -coth 2K * Bk */
      const double Bk = q.big ? 1 + qq / a : (2 * q.y * q.y / (1 + q.y * q.y) - C1) / a;
      eps = -q.cth * Bk;
      /* d(e/|J|)/dK, from dK/dk = E/(k kp^2) - K/k, dkappa/dK = -4 sech 2K qq:
       *   2 csch^2 2K * Bk - (16/pi) sech^2 2K K + (4/pi) coth^2 2K (E - qq^2 K)
       * with E - qq^2 K = K (kap^2 - sum) = K (kap^2/2 - S1). */
      deps = 2 * q.csch2 * Bk - 8 * q.sech2 / a +
             2 * q.cth * q.cth * (0.5 * kap * kap - S1) / a;
      if (q.big && J > 0) mabs = pow((1 - q.v) * (1 + q.v) * (1 + v2), 0.125);
    }
  }
  out->f = -T * mbf;
  out->e = aJ * eps;
  out->s = K * eps + mbf;
  out->c = -K * (K * deps) + 0.0; /* no K^2 overflow; + 0.0 turns -0 into 0 */
  out->m_abs = mabs;
  return ISING_OK;
}

/* ------------------------------------------------ one disorder sample */

#define DIS_NMAX 20

static void dis_nan(ising_exact_disorder_obs *o) {
  o->lnZ = o->e = o->c = o->m_abs = o->m2 = o->m4 = NAN;
  o->q_abs = o->q2 = o->q4 = o->ql = o->sq0 = o->sq_kmin = NAN;
}

/* In-place unnormalised Walsh-Hadamard transform of a[0 .. n-1], n = 2^k. */
static void dis_wht(long double *a, uint32_t n) {
  for (uint32_t len = 1; len < n; len <<= 1)
    for (uint32_t i = 0; i < n; i += len << 1)
      for (uint32_t j = i; j < i + len; j++) {
        const long double u = a[j], v = a[j + len];
        a[j] = u + v;
        a[j + len] = u - v;
      }
}

int ising_exact_disorder(int dim, const int64_t L[3], const struct ising_couplings *c,
                         double T, ising_exact_disorder_obs *out) {
  ISING_CHECK(out != NULL && L != NULL && c != NULL, ISING_ERR_INPUT,
              "exact disorder enumeration: NULL argument");
  dis_nan(out);
  ISING_CHECK(dim >= 1 && dim <= 3, ISING_ERR_INPUT,
              "exact disorder enumeration: dim = %d, allowed 1..3", dim);
  int64_t N64 = 1;
  for (int k = 0; k < dim; k++) {
    ISING_CHECK(L[k] >= 2, ISING_ERR_INPUT,
                "exact disorder enumeration: L[%d] = %lld, must be >= 2", k,
                (long long)L[k]);
    ISING_CHECK(L[k] <= DIS_NMAX && N64 * L[k] <= DIS_NMAX, ISING_ERR_INPUT,
                "exact disorder enumeration: more than %d sites (2^N states)", DIS_NMAX);
    N64 *= L[k];
  }
  ISING_CHECK(isfinite(T) && T > 0 && isfinite(1.0 / T), ISING_ERR_INPUT,
              "exact disorder enumeration: T = %g, must be finite and > 0", T);
  ISING_CHECK(isfinite(c->J_unit) && isfinite(c->H) && (!c->field || isfinite(c->h_unit)),
              ISING_ERR_INPUT,
              "exact disorder enumeration: J_unit = %g, H = %g, h_unit = %g must be finite",
              c->J_unit, c->H, c->h_unit);
  const int N = (int)N64, nbonds = dim * N;

  /* Bonds: endpoints, weight; sites: field weight and phases of k_min. */
  int bi[3 * DIS_NMAX], bj[3 * DIS_NMAX];
  int32_t bw[3 * DIS_NMAX], f[DIS_NMAX];
  long double cs[3][DIS_NMAX], sn[3][DIS_NMAX];
  for (int i = 0; i < N; i++) {
    int x[3] = {0, 0, 0}, r = i;
    for (int k = 0; k < dim; k++) {
      x[k] = r % (int)L[k];
      r /= (int)L[k];
    }
    f[i] = ising_couplings_f(c, i);
    for (int k = 0; k < dim; k++) {
      int y[3] = {x[0], x[1], x[2]};
      y[k] = (x[k] + 1) % (int)L[k];
      int j = 0;
      for (int a = dim - 1; a >= 0; a--) j = j * (int)L[a] + y[a];
      bi[i * dim + k] = i;
      bj[i * dim + k] = j;
      bw[i * dim + k] = ising_couplings_w(c, i, k);
      /* e^{i 2 pi x_k / L_k}; exact zeros at multiples of a quarter turn */
      const int q4 = 4 * x[k];
      if (q4 % (int)L[k] == 0) {
        const int quarter = (q4 / (int)L[k]) % 4;
        cs[k][i] = quarter == 0 ? 1 : quarter == 2 ? -1 : 0;
        sn[k][i] = quarter == 1 ? 1 : quarter == 3 ? -1 : 0;
      } else {
        const long double ph = 2 * (long double)EXACT_PI * x[k] / (long double)L[k];
        cs[k][i] = cosl(ph);
        sn[k][i] = sinl(ph);
      }
    }
  }

  const uint32_t nst = (uint32_t)1 << N;
  long double *p = malloc(sizeof *p * nst);
  long double *P = malloc(sizeof *P * nst);
  if (!p || !P) {
    free(p);
    free(P);
    return ISING_ERR(ISING_ERR_MEM, "exact disorder enumeration: no memory for 2^%d states",
                     N);
  }
  /* Energies (bit i of the state set: spin i down), then the shift. */
  const long double Ju = c->J_unit, Hl = c->H, hu = c->field ? c->h_unit : 0;
  long double E0 = INFINITY;
  for (uint32_t st = 0; st < nst; st++) {
    int64_t B = 0, F = 0;
    for (int b = 0; b < nbonds; b++)
      B += ((st >> bi[b] ^ st >> bj[b]) & 1u) ? -bw[b] : bw[b];
    for (int i = 0; i < N; i++) F += ((st >> i) & 1u) ? -f[i] : f[i];
    const int64_t M = N - 2 * bits_popcount(st);
    const long double E = -Ju * (long double)B - Hl * (long double)M - hu * (long double)F;
    p[st] = E;
    if (E < E0) E0 = E;
  }
  const long double beta = 1.0L / (long double)T, Nl = N;
  long double S = 0, sE = 0, sA = 0, sM2 = 0, sM4 = 0;
  for (uint32_t st = 0; st < nst; st++) {
    const long double dE = p[st] - E0;
    const long double w = expl(-beta * dE);
    const long double M = N - 2 * bits_popcount(st);
    P[st] = dE;
    p[st] = w;
    S += w;
    sE += w * dE;
    sA += w * fabsl(M);
    sM2 += w * M * M;
    sM4 += w * M * M * M * M;
  }
  const long double dEm = sE / S;
  long double vE = 0;
  for (uint32_t st = 0; st < nst; st++) {
    const long double x = P[st] - dEm;
    vE += p[st] * x * x;
  }
  vE /= S;
  const long double lnZ = logl(S) - beta * E0;
  if (!isfinite((double)lnZ)) {
    free(p);
    free(P);
    return ISING_ERR(ISING_ERR_INPUT,
                     "exact disorder enumeration: ln Z overflows at T = %g", T);
  }

  /* P(d) = sum_a p(a) p(a ^ d) / S^2 = H^-1 ((H p)^2) / S^2, H^-1 = H / 2^N. */
  for (uint32_t st = 0; st < nst; st++) P[st] = p[st] / S;
  free(p);
  dis_wht(P, nst);
  for (uint32_t st = 0; st < nst; st++) P[st] *= P[st];
  dis_wht(P, nst);
  const long double inv = 1.0L / (long double)nst;
  long double qa = 0, q2 = 0, q4 = 0, ql = 0, sk = 0;
  for (uint32_t d = 0; d < nst; d++) {
    const long double w = P[d] * inv;
    const long double q = (long double)(N - 2 * bits_popcount(d)) / Nl;
    int unsat = 0;
    for (int b = 0; b < nbonds; b++) unsat += (int)((d >> bi[b] ^ d >> bj[b]) & 1u);
    long double s = 0;
    for (int k = 0; k < dim; k++) {
      long double re = 0, im = 0;
      for (int i = 0; i < N; i++) {
        if ((d >> i) & 1u) {
          re -= cs[k][i];
          im -= sn[k][i];
        } else {
          re += cs[k][i];
          im += sn[k][i];
        }
      }
      s += re * re + im * im;
    }
    qa += w * fabsl(q);
    q2 += w * q * q;
    q4 += w * q * q * q * q;
    ql += w * (long double)(nbonds - 2 * unsat) / (long double)nbonds;
    sk += w * s / (Nl * dim);
  }
  free(P);

  out->lnZ = (double)lnZ;
  out->e = (double)((E0 + dEm) / Nl);
  out->c = (double)(beta * beta * vE / Nl);
  out->m_abs = (double)(sA / S / Nl);
  out->m2 = (double)(sM2 / S / (Nl * Nl));
  out->m4 = (double)(sM4 / S / (Nl * Nl * Nl * Nl));
  out->q_abs = (double)qa;
  out->q2 = (double)q2;
  out->q4 = (double)q4;
  out->ql = (double)ql;
  out->sq0 = (double)(Nl * q2);
  out->sq_kmin = (double)sk;
  return ISING_OK;
}
