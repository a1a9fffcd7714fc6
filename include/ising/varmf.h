/*
 * varmf.h -- inhomogeneous variational inference on the actual lattice: the
 * GBF bound with a trial energy of independent spins in site fields
 * lambda_i, maximised over all lambda_i (mean-field equations iterated to a
 * fixed point).
 *
 * With m_i = tanh(beta lambda_i) the bound is
 *   F <= F_var = sum_i [ -T ln(2 cosh(beta lambda_i)) + lambda_i m_i ]
 *                - J sum_<ij> m_i m_j - H sum_i m_i
 * (ln Z >= -beta F_var: the ELBO), stationary where
 *   m_i = tanh(beta (H + J sum_{j nn i} m_j)).
 * The equations are iterated colour by colour on the domain-decomposed
 * lattice (update one checkerboard colour with damping, exchange its halo,
 * then the other), like a sweep, until the largest change is below the
 * tolerance.  For the uniform ferromagnet the fixed point is the
 * homogeneous mean-field solution (baseline.h); for the antiferromagnet it
 * finds the staggered solution that a uniform trial cannot.  The field is
 * stored in doubles, natural order with one-site halos, and exchanged with
 * the face neighbours of the layout's Cartesian communicator.
 */
#ifndef ISING_VARMF_H
#define ISING_VARMF_H

#include <stdint.h>

#include "ising/layout.h"

typedef enum { ISING_VARMF_UNIFORM = 0, ISING_VARMF_STAGGERED = 1, ISING_VARMF_RANDOM = 2 } ising_varmf_start;

typedef struct ising_varmf_result {
  double f;          /* F_var / N: an upper bound on the free energy per spin */
  double e, s;       /* energy and entropy parts per spin, f = e - T s */
  double m;          /* mean magnetisation */
  double m_stag;     /* staggered magnetisation (checkerboard sign) */
  int iterations;
  int converged;
  double max_change; /* of the last iteration */
} ising_varmf_result;

/* Solve on the group of `lay` (collective over lay->group).  `m_out`, if
 * not NULL, receives the block's m_i in natural order (n0 n1 n2 values).
 * start: uniform m = 0.5 with the sign of H (+ at H = 0), staggered +-0.5,
 * or random from `seed`; the iteration finds the fixed point reached from
 * there (a local optimum of the bound; the uniform start along H reaches the
 * homogeneous solution of lowest f for the ferromagnet).
 * damping in (0, 1]: m <- (1 - damping) m + damping tanh(...). */
int ising_varmf_solve(const ising_layout *lay, double J, double H, double T,
                      ising_varmf_start start, uint64_t seed, double damping, double tol,
                      int max_iter, ising_varmf_result *res, double *m_out);

#endif
