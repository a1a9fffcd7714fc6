/*
 * tempering.h -- parallel tempering (replica exchange): labels, decisions,
 * statistics and the feedback-optimised ladder.  No MPI and no spins: the
 * engine hands in the energies of all replicas, this module moves the
 * temperature labels.
 *
 * There are R = n_T x copies replicas with fixed ids r = c n_T + t0 (copy c,
 * starting temperature t0).  Each copy is its own ladder: exchanges pair
 * replicas of the same copy at neighbouring temperatures i, i+1, with even
 * pairs (i even) and odd pairs alternating from one exchange step to the
 * next.  The swap of the replicas a (at T_i) and b (at T_i+1) is accepted
 * with probability min(1, exp((beta_i - beta_i+1)(E_a - E_b))), decided by
 * the 32-bit Philox number of group c n_T + i, sweep s, purpose TEMPER,
 * against the exact threshold rule of model.h.  Every rank computes the same
 * decisions from the same energies: the trajectory does not depend on the
 * rank layout.
 *
 * Round trips: a replica's direction becomes "up" when it visits the lowest
 * temperature and "down" when it visits the highest; a round trip is
 * counted when a replica whose direction is down reaches the lowest again.
 * The fraction f(T_i) of up-moving replicas at each temperature drives the
 * feedback ladder (Katzgraber, Trebst, Huse & Troyer, J. Stat. Mech. P03018,
 * 2006): the new ladder puts a share of temperatures proportional to
 * sqrt(f(T_i) - f(T_i+1)) into each interval [T_i, T_i+1].
 */
#ifndef ISING_TEMPERING_H
#define ISING_TEMPERING_H

#include <stdint.h>

#include "ising/config.h"
#include "ising/rng.h"

#define ISING_MAX_TEMPS_FEEDBACK ISING_MAX_TEMPS

typedef struct ising_tempering {
  int n_T, copies, R;
  double *T, *beta;     /* [n_T], increasing T */
  int *rep_at;          /* [c n_T + t]: replica at temperature t of copy c */
  int *temp_of;         /* [r]: temperature index of replica r */
  int *direction;       /* [r]: +1 up, -1 down, 0 not yet at an end */
  int64_t *round_trips; /* [r] */
  int64_t *attempts, *accepts; /* [n_T - 1] pairs, summed over copies */
  int64_t *n_up, *n_down;      /* [n_T] label histogram for the feedback */
  int64_t steps;               /* exchange steps done (sets the parity) */
} ising_tempering;

int ising_tempering_create(int n_T, int copies, const double *T, ising_tempering **out);
void ising_tempering_destroy(ising_tempering **t);

/* Whether a state read from outside (a checkpoint) can be used: T finite,
 * > 0 and strictly increasing with beta = 1/T; within each copy c, rep_at
 * maps the temperatures onto the replicas c n_T .. c n_T + n_T - 1 and
 * temp_of is its inverse; directions in {-1, 0, +1}; round trips, attempts,
 * label counts and steps >= 0 and accepts <= attempts.  ISING_ERR_INPUT
 * naming `source` and the first violation otherwise; the state is never
 * used before this check passes. */
int ising_tempering_check(const ising_tempering *t, const char *source);

/* One exchange step at sweep `sweep` with E[r] the total energy of replica
 * r; updates labels, directions, round trips, acceptance counts and the
 * label histogram. */
void ising_tempering_exchange(ising_tempering *t, ising_rng_key key, uint64_t sweep,
                              const double *E);

/* Zero the acceptance counts, round trips and label histogram (directions
 * and labels are kept). */
void ising_tempering_reset_stats(ising_tempering *t);

/* Feedback step: a new ladder with the same end points from the label
 * histogram, written into T and beta (and reset the histogram).  Returns
 * ISING_ERR_INPUT, leaving the ladder unchanged, when some temperature has
 * no labelled visit yet (the round was too short). */
int ising_tempering_adapt(ising_tempering *t);

/* The pure rule behind ising_tempering_adapt: new[0..n-1] from T[] and the
 * up-fractions f[] (f[0] = 1, f[n-1] = 0, non-increasing after clamping). */
void ising_tempering_feedback_ladder(int n, const double *T, const double *f, double *out);

#endif
