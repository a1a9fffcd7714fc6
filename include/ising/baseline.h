/*
 * baseline.h -- analytic baselines: mean field, the GBF bound, Bethe-Peierls.
 *
 * This module owns the cheap, Monte-Carlo-free approximations that measured
 * numbers are read against (DESIGN.md section 1) and the `ising baseline`
 * table, for z neighbours per site (z/2 bonds; z = 2 dim on the periodic
 * hypercubic lattice, axes of length 2 included), any J, H and T > 0, per
 * spin, k_B = 1.  Naive mean field solves m = tanh(beta (H + z J m)) and
 * keeps the root of lowest f(m) = -(zJ/2) m^2 - H m - T s0(m) (s0 the
 * entropy of independent spins), T_c^MF = z J.  The Gibbs-Bogoliubov-Feynman
 * bound with independent spins in a trial field lambda (E_0 = -lambda
 * sum_i s_i), f_GBF(lambda) = f_0 + <E - E_0>_0 / N >= f_exact for EVERY
 * lambda, equals f(m = tanh(beta lambda)): its optimum IS the mean-field
 * solution (lambda = H + z J m), i.e. variational inference with a
 * factorised distribution, ln Z >= -beta N f_GBF being the ELBO.
 * Bethe-Peierls (cavity) solves h_c = H + (z - 1) u(h_c),
 * u(h) = T atanh(tanh(beta J) tanh(beta h)), m = tanh(beta (H + z u(h_c))),
 * f = -T [ln Z_site - (z/2) ln Z_edge] (derived in src/baseline.c); exact
 * for the chain (z = 2) and dimers (z = 1), T_c^Bethe = 2 J / ln(z/(z-2)).
 * f_exact <= f_GBF for any J, H on any lattice with z N / 2 bonds (finite
 * tori included); f_exact <= f_Bethe for ferromagnets in any field (Ruozzi
 * 2012: log-supermodular models) and for bipartite antiferromagnets at
 * H = 0 (gauge); f_Bethe <= f_GBF for the reported branch in every test
 * (the Bethe functional on factorised beliefs is the mean-field f).  At
 * H = 0 below T_c the degenerate branches +-m are reported as +m.
 * Antiferromagnet (J < 0): the ansatz is UNIFORM, so it has no Neel order;
 * at H = 0 it is the paramagnetic branch m = 0 at every T (f_MF = -T ln 2),
 * still an upper bound on f but a description above T_N only (the uniform
 * Bethe entropy even turns negative below T ~ 0.97 |J| for z = 4, towards
 * (1 - z/2) ln 2); in a field m follows H with one root.  Pure computation
 * (no MPI, HDF5, allocation or GSL).
 */
#ifndef ISING_BASELINE_H
#define ISING_BASELINE_H

#include <stdio.h>

#include "ising/config.h"

/* The three baselines at one (z, J, H, T); every quantity per spin. */
typedef struct ising_baseline_point {
  struct {
    double m; /* root of m = tanh(beta (H + z J m)) of lowest f */
    double f; /* e - T s: an upper bound on the exact free energy */
    double e; /* -(z J / 2) m^2 - H m: energy part */
    double s; /* s0(m), entropy of independent spins */
  } mf;
  struct {
    double f;      /* min over lambda of f_0 + <E - E_0>_0 / N (== mf.f) */
    double e;      /* <E>_0 / N at the optimum (== mf.e) */
    double s;      /* entropy of the optimal trial distribution (== mf.s) */
    double lambda; /* optimal trial field, H + z J m */
    double m;      /* tanh(lambda / T) (== mf.m) */
  } gbf;
  struct {
    double m;        /* tanh(beta (H + z u(h_cavity))) */
    double f;        /* Bethe free energy (cavity form) */
    double e;        /* -(z/2) J <s_i s_j> - H m from the pair belief */
    double s;        /* Bethe entropy (z/2) S_pair - (z - 1) S_site; f = e - T s */
    double h_cavity; /* cavity field h_c (energy units) */
  } bethe;
} ising_baseline_point;

/* The baselines at (z, J, H, T).  ISING_ERR_INPUT (all fields NaN) for
 * z < 1, T <= 0, non-finite J, H or T, or a T so small that J/T or H/T
 * overflows. */
int ising_baseline_compute(int z, double J, double H, double T,
                           ising_baseline_point *out);

/* The GBF bound f_0 + <E - E_0>_0 / N for the trial field `lambda` (any
 * value with lambda / T finite), written in that Jensen form (absolute
 * rounding ~ eps |lambda|): an upper bound on the exact f for every lambda,
 * minimal at out->gbf.lambda.  NaN for the bad input of
 * ising_baseline_compute or a non-finite lambda / T. */
double ising_baseline_gbf_bound(int z, double J, double H, double T, double lambda);

/* Mean-field critical temperature z |J| (the ferromagnet's T_c for J > 0;
 * for J < 0 the Neel temperature of two-sublattice mean field on a
 * bipartite lattice, which the uniform ansatz above does not show); 0 for
 * J = 0, NaN for z < 1 or non-finite J. */
double ising_baseline_tc_mf(int z, double J);

/* Bethe critical temperature 2 |J| / ln(z / (z - 2)) for z > 2 (the same
 * reading of J < 0 as ising_baseline_tc_mf); 0 for z <= 2 (no transition at
 * T > 0 on a chain or dimers) or J = 0, NaN for z < 1 or non-finite J. */
double ising_baseline_tc_bethe(int z, double J);

/* `ising baseline DECK`: a text table, one row per temperature
 * cfg->temps[0 .. n_temps-1], with z = 2 cfg->dim and cfg->J, cfg->H:
 * T, m, f (= f_GBF), e, s of mean field, m, f, e of Bethe, and for dim == 2,
 * H == 0 the exact f and e of Kaufman's cfg->L[0] x cfg->L[1] torus and of
 * Onsager's infinite lattice.  '#' header lines name the lattice, the model,
 * T_c^MF, T_c^Bethe and (2D) T_c^Onsager and explain the columns (the file
 * loads with numpy.loadtxt).  Returns ISING_ERR_INPUT for a bad config and
 * ISING_ERR_IO when writing to f fails. */
int ising_baseline_print_table(FILE *f, const ising_config *cfg);

#endif
