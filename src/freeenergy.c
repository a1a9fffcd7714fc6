/*
 * freeenergy.c -- thermodynamic integration (see freeenergy.h).
 */
#include "ising/freeenergy.h"

#include <math.h>
#include <stdlib.h>

#include "ising/error.h"

/* Hermite (endpoint-corrected trapezoid) integral of e over [ba, bb]. */
static double hermite(double ba, double bb, double ea, double eb, double sa, double sb) {
  double h = bb - ba;
  return 0.5 * h * (ea + eb) + h * h / 12.0 * (sa - sb);
}

int ising_ti_free_energy(int d, double J, int n, const double *T, const double *e,
                         const double *e_err, const double *c, const double *c_err,
                         ising_ti_point *out) {
  ISING_CHECK(n >= 2, ISING_ERR_INPUT, "free energy: thermodynamic integration needs >= 2 temperatures");
  for (int i = 1; i < n; i++)
    ISING_CHECK(T[i] > T[i - 1], ISING_ERR_INPUT, "free energy: temperatures must increase");
  double Kmin = fabs(J) / T[n - 1], Kmax = d == 3 ? 0.15 : 0.3;
  ISING_CHECK(Kmin <= Kmax, ISING_ERR_INPUT,
              "free energy: the hottest temperature T = %g is too cold for the high-temperature "
              "series (|J| / T_max = %.3g > %g); extend the ladder to T_max >= %g",
              T[n - 1], Kmin, Kmax, fabs(J) / Kmax);
  /* weights of e_i and of the slopes e'_i = -c_i T_i^2 in ln Z / N at each
   * point, accumulated from the hottest point down */
  double *w = calloc((size_t)n, sizeof *w), *v = calloc((size_t)n, sizeof *v);
  ISING_CHECK(w && v, ISING_ERR_MEM, "out of memory");
  /* closed polygons per site of length 4 and 6 (square: 1, 2; simple
   * cubic: 3, 22); the next order (length 8: 4.5 and about 190) doubled is
   * the error budget */
  double tk = tanh(Kmin);
  double p4 = d == 3 ? 3.0 : 1.0, p6 = d == 3 ? 22.0 : 2.0, p8 = d == 3 ? 400.0 : 10.0;
  double lnZ = log(2.0) + d * log(cosh(Kmin)) + p4 * pow(tk, 4) + p6 * pow(tk, 6);
  double series = p8 * pow(tk, 8);
  /* quadrature error of each interval: half the size of the Hermite slope
   * correction h^2/12 (e'_a - e'_b) that the rule applies over it (the
   * corrected rule's own error is usually far smaller; step doubling,
   * |I_h - I_2h| / 15, missed the error near T_c on coarse ladders) */
  double *q = calloc((size_t)n, sizeof *q);
  ISING_CHECK(q, ISING_ERR_MEM, "out of memory");
  for (int j = 0; j + 1 < n; j++) { /* interval j: [1/T[j+1], 1/T[j]] */
    double h = 1.0 / T[j] - 1.0 / T[j + 1];
    double sa = -c[j + 1] * T[j + 1] * T[j + 1], sb = -c[j] * T[j] * T[j];
    q[j] = 0.5 * fabs(h * h / 12.0 * (sa - sb));
  }
  double quad = 0;
  for (int k = n - 1; k >= 0; k--) {
    if (k < n - 1) {
      /* interval [beta_a, beta_b] = [1/T[k+1], 1/T[k]] */
      int a = k + 1, b = k;
      double h = 1.0 / T[b] - 1.0 / T[a];
      double sa = -c[a] * T[a] * T[a], sb = -c[b] * T[b] * T[b];
      lnZ -= hermite(1.0 / T[a], 1.0 / T[b], e[a], e[b], sa, sb);
      quad += q[k];
      (void)h;
      w[a] += 0.5 * h;
      w[b] += 0.5 * h;
      v[a] += h * h / 12.0;
      v[b] -= h * h / 12.0;
    }
    double var = 0;
    for (int i = k; i < n; i++) {
      double se = e_err[i], sc = c_err[i] * T[i] * T[i];
      var += w[i] * w[i] * se * se + v[i] * v[i] * sc * sc;
    }
    ising_ti_point *p = &out[k];
    p->lnZ = lnZ;
    p->f = -T[k] * lnZ;
    p->series = T[k] * series;
    p->quadrature = T[k] * quad;
    p->f_err = T[k] * sqrt(var) + p->series + p->quadrature;
    p->s = (e[k] - p->f) / T[k];
    p->s_err = sqrt(e_err[k] * e_err[k] + p->f_err * p->f_err) / T[k];
  }
  free(w);
  free(v);
  free(q);
  return ISING_OK;
}
