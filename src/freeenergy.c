/*
 * freeenergy.c -- thermodynamic integration (see freeenergy.h).
 */
#include "ising/freeenergy.h"

#include <math.h>
#include <stdlib.h>

#include "ising/error.h"

int ising_ti_free_energy(int d, double J, int n, const double *T, const double *e,
                         const double *e_err, const double *c, const double *c_err,
                         ising_ti_point *out) {
  ISING_CHECK(n >= 2, ISING_ERR_INPUT, "free energy: thermodynamic integration needs >= 2 temperatures");
  for (int i = 1; i < n; i++)
    ISING_CHECK(T[i] > T[i - 1], ISING_ERR_INPUT, "free energy: temperatures must increase");
  double Kmin = fabs(J) / T[n - 1];
  ISING_CHECK(Kmin <= 0.3, ISING_ERR_INPUT,
              "free energy: the hottest temperature T = %g is too cold for the high-temperature "
              "series (|J| / T_max = %.3g > 0.3); extend the ladder to T_max >= %g",
              T[n - 1], Kmin, fabs(J) / 0.3);
  /* weights of e_i and of the slopes e'_i = -c_i T_i^2 in ln Z / N at each
   * point, accumulated from the hottest point down */
  double *w = calloc((size_t)n, sizeof *w), *v = calloc((size_t)n, sizeof *v);
  ISING_CHECK(w && v, ISING_ERR_MEM, "out of memory");
  double tk = tanh(Kmin), plaq = 0.5 * d * (d - 1);
  double lnZ = log(2.0) + d * log(cosh(Kmin)) + plaq * pow(tk, 4);
  double series = (double)d * d * pow(tk, 6); /* next order, generous */
  for (int k = n - 1; k >= 0; k--) {
    if (k < n - 1) {
      /* interval [beta_a, beta_b] = [1/T[k+1], 1/T[k]] */
      int a = k + 1, b = k;
      double h = 1.0 / T[b] - 1.0 / T[a];
      double sa = -c[a] * T[a] * T[a], sb = -c[b] * T[b] * T[b];
      lnZ -= 0.5 * h * (e[a] + e[b]) + h * h / 12.0 * (sa - sb);
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
    p->f_err = T[k] * sqrt(var) + p->series;
    p->s = (e[k] - p->f) / T[k];
    p->s_err = sqrt(e_err[k] * e_err[k] + p->f_err * p->f_err) / T[k];
  }
  free(w);
  free(v);
  return ISING_OK;
}
