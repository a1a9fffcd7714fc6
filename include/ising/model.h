/*
 * model.h -- couplings, field, temperature and the acceptance tables.
 *
 * For a site with spin s and neighbour sum nb (2d neighbours, nb in
 * -2d, -2d+2, ..., 2d) the local energy change of a flip is
 *     dE = 2 s (J nb + H).
 * A table entry is indexed by idx = (s > 0 ? 2d+1 : 0) + (nb + 2d) / 2 and
 * holds a 32-bit threshold t: the move (Metropolis: flip; heat bath: set the
 * spin to +1) happens iff the site's 32-bit uniform u satisfies u <= t, with
 *     t = ceil(p 2^32) - 1   (p = 1 gives t = 2^32 - 1, always)
 * so that P(u <= t) = p exactly to the 2^-32 resolution of u.  For
 * Metropolis p = min(1, exp(-beta dE)); for heat bath p = P(s -> +1) =
 * 1 / (1 + exp(-2 beta (J nb + H))), the same for both s.  The cluster
 * algorithms (swendsen-wang, wolff) keep Metropolis tables (unused) and
 * use bond_thr: a bond between two satisfied neighbours (J s_i s_j > 0) is
 * activated iff its 32-bit uniform is <= bond_thr, P = 1 - exp(-2 beta |J|);
 * a Swendsen-Wang cluster with magnetisation M keeps its spins iff its
 * uniform is <= ising_model_cluster_threshold(M), P = 1 / (1 + exp(-2 beta
 * H M)) (heat bath between the cluster and its flip; 1/2 at H = 0).
 */
#ifndef ISING_MODEL_H
#define ISING_MODEL_H

#include <stdint.h>

#include "ising/config.h"

#define ISING_MODEL_TABLE 32 /* padded for a 32-lane SIMD permute */

/* The couplings provider: the J of every bond and the h of every site, as
 * pure functions of global positions, so that a sample is the same on any
 * layout.  Couplings are integer multiples of a unit, so that energies are
 * exact integer sums on any decomposition:
 *     J_ij = J_unit w_ij,   h_i = H + h_unit f_i     (w, f int32)
 * Uniform (bond and field NULL): every w = 1 with J_unit = J, no f.  A
 * per-bond source (quenched disorder, disorder.h) sets `bond` (w of the
 * bond), a per-site one `field` (f of the site); `bimodal` says every w is
 * -1, 0 or +1 (kernels with sign bits or tables may rely on it).
 * Bond (site, axis) joins the global site `site` (natural index
 * gx + Lx (gy + Ly gz)) to its +e_axis neighbour on the periodic lattice. */
typedef struct ising_couplings {
  double J, H;           /* [model] J and H */
  double J_unit, h_unit; /* the units of w and f (J_unit = J when uniform) */
  int32_t (*bond)(const void *ctx, int64_t site, int axis); /* NULL: w = 1 */
  int32_t (*field)(const void *ctx, int64_t site);           /* NULL: f = 0 */
  const void *ctx;
  int bimodal; /* every w in {-1, 0, +1} (true when uniform) */
} ising_couplings;

static inline ising_couplings ising_couplings_uniform(double J, double H) {
  ising_couplings c = {J, H, J, 0, 0, 0, 0, 1};
  return c;
}
static inline int ising_couplings_is_uniform(const ising_couplings *c) {
  return !c->bond && !c->field;
}
static inline int32_t ising_couplings_w(const ising_couplings *c, int64_t site, int axis) {
  return c->bond ? c->bond(c->ctx, site, axis) : 1;
}
static inline int32_t ising_couplings_f(const ising_couplings *c, int64_t site) {
  return c->field ? c->field(c->ctx, site) : 0;
}
static inline double ising_couplings_J(const ising_couplings *c, int64_t site, int axis) {
  return c->J_unit * (double)ising_couplings_w(c, site, axis);
}
/* h_i = H + h_unit f_i (H alone without a field source). */
static inline double ising_couplings_h(const ising_couplings *c, int64_t site) {
  return c->field ? c->H + c->h_unit * (double)c->field(c->ctx, site) : c->H;
}
/* The local field of a site from its weighted neighbour sum
 * nw = sum_j w_ij s_j and its f: J_unit nw + h (this order and rounding in
 * every kernel, so that they decide alike; uniform: J nb + H, the tables'). */
static inline double ising_couplings_local(const ising_couplings *c, int64_t nw, int32_t f) {
  return c->J_unit * (double)nw + (c->field ? c->H + c->h_unit * (double)f : c->H);
}
/* The local field sum_j J_ij s_j + h_i of the site at global coordinates
 * g[0..dim-1] of the periodic lattice L[], with neighbour spins
 * nbr[2 axis + side] (side 0: at -e_axis, 1: at +e_axis).  Flipping s costs
 * dE = 2 s local.  Equals ising_couplings_local of the site's nw and f. */
double ising_couplings_local_field(const ising_couplings *c, int dim, const int64_t L[3],
                                   const int64_t g[3], const int nbr[6]);
/* The energy of a replica from its exact sums (sweeper.h): the weighted bond
 * sum B = sum w_ij s_i s_j, the magnetisation M and the field sum
 * F = sum f_i s_i: E = -J_unit B - H M - h_unit F (uniform: -J B - H M,
 * ising_model_energy). */
static inline double ising_couplings_energy(const ising_couplings *c, int64_t B, int64_t M,
                                            int64_t F) {
  double e = -c->J_unit * (double)B - c->H * (double)M;
  return c->field ? e - c->h_unit * (double)F : e;
}

typedef struct ising_model {
  int dim;
  double J, H, T, beta;
  ising_algorithm algorithm;
  int z;       /* coordination number 2d */
  int entries; /* 2 (2d + 1) */
  uint32_t thr[ISING_MODEL_TABLE];
  uint16_t thr_hi[ISING_MODEL_TABLE], thr_lo[ISING_MODEL_TABLE];
  uint32_t bond_thr; /* cluster bond activation (above) */
} ising_model;

/* Tables for dimension `dim` (2 or 3), J, H, T > 0 and the algorithm. */
int ising_model_init(ising_model *m, int dim, double J, double H, double T,
                     ising_algorithm algorithm);

/* Table index of a spin s (+-1) with neighbour sum nb. */
static inline int ising_model_index(const ising_model *m, int s, int nb) {
  return (s > 0 ? m->z + 1 : 0) + (nb + m->z) / 2;
}

/* Probability p behind an entry, and the threshold of a probability. */
double ising_model_probability(const ising_model *m, int s, int nb);
/* The same rule for any local field (couplings provider): the probability
 * of the move of spin s, and its threshold; the tables are these at
 * local = J nb + H. */
double ising_model_probability_local(const ising_model *m, int s, double local);
uint32_t ising_model_threshold(double p);
/* The keep threshold of a cluster with magnetisation mag (above). */
uint32_t ising_model_cluster_threshold(const ising_model *m, int64_t mag);

/* Energy of a configuration from its bond sum B = sum_<ij> s_i s_j and
 * magnetisation M: E = -J B - H M. */
static inline double ising_model_energy(const ising_model *m, int64_t B, int64_t M) {
  return -m->J * (double)B - m->H * (double)M;
}

#endif
