/*
 * timer.h -- wall-clock time by named phase of a run.
 *
 * Phases are exclusive: time charged to `halo` inside a backend's sweep is
 * not also charged to `sweep` (the engine charges a sweep's wall time minus
 * the halo time its backend reported).  The totals of one process; take the
 * slowest rank's over the world where that matters (layout.h).  `ising
 * bench` prints them and the output file stores them as /timing attributes.
 */
#ifndef ISING_TIMER_H
#define ISING_TIMER_H

typedef enum {
  ISING_PHASE_SWEEP = 0,
  ISING_PHASE_HALO,
  ISING_PHASE_MEASURE,
  ISING_PHASE_EXCHANGE,
  ISING_PHASE_OUTPUT,
  ISING_PHASE_CHECKPOINT,
  ISING_PHASES
} ising_phase;

typedef struct ising_timer {
  double total[ISING_PHASES]; /* seconds */
} ising_timer;

/* Seconds since an arbitrary fixed point (monotonic). */
double ising_timer_now(void);
/* Charge the time since `since` (ising_timer_now) to `phase`; returns now.
 * A NULL timer is allowed and charges nothing. */
double ising_timer_add(ising_timer *tm, ising_phase phase, double since);
/* "sweep", "halo", "measure", "exchange", "output", "checkpoint". */
const char *ising_timer_name(ising_phase phase);

#endif
