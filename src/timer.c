/*
 * timer.c -- phase timing (timer.h): a monotonic clock and named totals.
 */
#include "ising/timer.h"

#include <time.h>

double ising_timer_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double ising_timer_add(ising_timer *tm, ising_phase phase, double since) {
  double now = ising_timer_now();
  if (tm && phase >= 0 && phase < ISING_PHASES) tm->total[phase] += now - since;
  return now;
}

const char *ising_timer_name(ising_phase phase) {
  static const char *const names[ISING_PHASES] = {"sweep",    "halo",   "measure",
                                                  "exchange", "output", "checkpoint"};
  return phase >= 0 && phase < ISING_PHASES ? names[phase] : "?";
}
