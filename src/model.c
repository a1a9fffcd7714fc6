/*
 * model.c -- acceptance tables of the Ising ferromagnet/antiferromagnet in a
 * field (see model.h for the exact rule).  A new model (random field, spin
 * glass) brings its own tables and local fields; the kernels only look up
 * thresholds by index.
 */
#include "ising/model.h"

#include <math.h>

#include "ising/error.h"

uint32_t ising_model_threshold(double p) {
  if (!(p > 0)) return 0; /* p underflowed: the 2^-32 resolution floor */
  if (p >= 1) return UINT32_MAX;
  double x = ceil(p * 4294967296.0) - 1.0;
  if (x < 0) x = 0;
  return (uint32_t)x;
}

double ising_model_probability(const ising_model *m, int s, int nb) {
  double local = m->J * nb + m->H;
  if (m->algorithm == ISING_ALG_HEATBATH) return 1.0 / (1.0 + exp(-2.0 * m->beta * local));
  double dE = 2.0 * s * local;
  return dE <= 0 ? 1.0 : exp(-m->beta * dE);
}

int ising_model_init(ising_model *m, int dim, double J, double H, double T,
                     ising_algorithm algorithm) {
  ISING_CHECK(dim == 2 || dim == 3, ISING_ERR_INPUT, "dimension must be 2 or 3, got %d", dim);
  ISING_CHECK(isfinite(J) && isfinite(H), ISING_ERR_INPUT, "J and H must be finite");
  ISING_CHECK(isfinite(T) && T > 0 && isfinite(1.0 / T), ISING_ERR_INPUT,
              "T must be a finite number > 0 with a finite beta = 1/T, got %g", T);
  ISING_CHECK(algorithm == ISING_ALG_METROPOLIS || algorithm == ISING_ALG_HEATBATH,
              ISING_ERR_INPUT, "unknown algorithm %d", (int)algorithm);
  *m = (ising_model){0};
  m->dim = dim;
  m->J = J;
  m->H = H;
  m->T = T;
  m->beta = 1.0 / T;
  m->algorithm = algorithm;
  m->z = 2 * dim;
  m->entries = 2 * (m->z + 1);
  for (int s = -1; s <= 1; s += 2)
    for (int nb = -m->z; nb <= m->z; nb += 2) {
      int i = ising_model_index(m, s, nb);
      uint32_t t = ising_model_threshold(ising_model_probability(m, s, nb));
      m->thr[i] = t;
      m->thr_hi[i] = (uint16_t)(t >> 16);
      m->thr_lo[i] = (uint16_t)t;
    }
  return ISING_OK;
}
