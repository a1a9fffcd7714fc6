/*
 * model.c -- acceptance tables of the Ising ferromagnet/antiferromagnet in a
 * field (see model.h for the exact rule), and the local field of the
 * couplings provider.  Uniform couplings use the tables (thresholds by
 * index); per-bond or per-site couplings give each site its local field,
 * and the same rule turns it into a probability.
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

uint32_t ising_model_cluster_threshold(const ising_model *m, int64_t mag) {
  return ising_model_threshold(1.0 / (1.0 + exp(-2.0 * m->beta * m->H * (double)mag)));
}

double ising_model_probability_local(const ising_model *m, int s, double local) {
  if (m->algorithm == ISING_ALG_HEATBATH) return 1.0 / (1.0 + exp(-2.0 * m->beta * local));
  double dE = 2.0 * s * local;
  return dE <= 0 ? 1.0 : exp(-m->beta * dE);
}

double ising_model_probability(const ising_model *m, int s, int nb) {
  return ising_model_probability_local(m, s, m->J * nb + m->H);
}

double ising_couplings_local_field(const ising_couplings *c, int dim, const int64_t L[3],
                                   const int64_t g[3], const int nbr[6]) {
  const int64_t site = g[0] + L[0] * (g[1] + L[1] * (dim == 3 ? g[2] : 0));
  int64_t nw = 0;
  for (int a = 0; a < dim; a++) {
    /* the bond to -e_a belongs to the neighbour there */
    int64_t h[3] = {g[0], g[1], dim == 3 ? g[2] : 0};
    h[a] = (h[a] + L[a] - 1) % L[a];
    const int64_t below = h[0] + L[0] * (h[1] + L[1] * h[2]);
    nw += (int64_t)ising_couplings_w(c, below, a) * nbr[2 * a] +
          (int64_t)ising_couplings_w(c, site, a) * nbr[2 * a + 1];
  }
  return ising_couplings_local(c, nw, ising_couplings_f(c, site));
}

int ising_model_init(ising_model *m, int dim, double J, double H, double T,
                     ising_algorithm algorithm) {
  ISING_CHECK(dim == 2 || dim == 3, ISING_ERR_INPUT, "dimension must be 2 or 3, got %d", dim);
  ISING_CHECK(isfinite(J) && isfinite(H), ISING_ERR_INPUT, "J and H must be finite");
  ISING_CHECK(isfinite(T) && T > 0 && isfinite(1.0 / T), ISING_ERR_INPUT,
              "T must be a finite number > 0 with a finite beta = 1/T, got %g", T);
  ISING_CHECK(algorithm == ISING_ALG_METROPOLIS || algorithm == ISING_ALG_HEATBATH ||
                  ising_algorithm_is_cluster(algorithm),
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
  m->bond_thr = ising_model_threshold(-expm1(-2.0 * m->beta * fabs(J)));
  return ISING_OK;
}
