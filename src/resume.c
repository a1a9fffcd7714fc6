/*
 * resume.c -- `ising resume` (run.h): continue a run from the newest valid
 * checkpoint of its output.  The deck stored in the checkpoint is parsed
 * again with its overrides and the new ones; a change of the physics is
 * refused with the list of differences, run control may change.  The
 * engine is then set up as for a fresh run (run.c) and loaded from the
 * checkpoint, the output cut back to the checkpoint's rows and those rows
 * read back for the summaries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ising/disorder.h"
#include "ising/error.h"

/* Everything that makes the trajectory, compared between the checkpoint's
 * deck and the resumed one; run control (sweeps, wall time, checkpoint
 * intervals, progress, kernel, rank layout) may differ. */
static int physics_differences(const ising_config *a, const ising_config *b, char *buf, size_t size) {
  size_t n = 0;
  int count = 0;
#define DIFF(cond, ...)                                                        \
  do {                                                                         \
    if (cond) {                                                                \
      count++;                                                                 \
      if (n < size) n += (size_t)snprintf(buf + n, size - n, "%s", count > 1 ? "; " : ""); \
      if (n < size) n += (size_t)snprintf(buf + n, size - n, __VA_ARGS__);    \
    }                                                                          \
  } while (0)
  DIFF(a->dim != b->dim, "[lattice] dim %d -> %d", a->dim, b->dim);
  for (int k = 0; k < ISING_MAX_DIM; k++)
    DIFF(a->L[k] != b->L[k], "[lattice] L (axis %d) %lld -> %lld", k, (long long)a->L[k], (long long)b->L[k]);
  DIFF(a->J != b->J, "[model] J %g -> %g", a->J, b->J);
  DIFF(a->H != b->H, "[model] H %g -> %g", a->H, b->H);
  DIFF(a->n_temps != b->n_temps, "number of temperatures %d -> %d", a->n_temps, b->n_temps);
  for (int i = 0; i < a->n_temps && i < b->n_temps; i++)
    DIFF(a->temps[i] != b->temps[i], "temperature %d: %.17g -> %.17g", i, a->temps[i], b->temps[i]);
  DIFF(a->copies != b->copies, "[montecarlo] copies %d -> %d", a->copies, b->copies);
  DIFF(a->rng != b->rng, "[montecarlo] rng %s -> %s", ising_rng_alg_name(a->rng), ising_rng_alg_name(b->rng));
  DIFF(a->seed != b->seed, "[montecarlo] seed %llu -> %llu", (unsigned long long)a->seed, (unsigned long long)b->seed);
  DIFF(a->algorithm != b->algorithm, "[montecarlo] algorithm changed");
  DIFF(a->start != b->start, "[montecarlo] start changed");
  DIFF(a->clusters_per_sweep != b->clusters_per_sweep, "[montecarlo] clusters_per_sweep %lld -> %lld",
       (long long)a->clusters_per_sweep, (long long)b->clusters_per_sweep);
  DIFF(a->thermalization != b->thermalization, "[montecarlo] thermalization %lld -> %lld",
       (long long)a->thermalization, (long long)b->thermalization);
  DIFF(a->interval != b->interval, "[measurement] interval %lld -> %lld", (long long)a->interval, (long long)b->interval);
  /* what is measured: the time series' columns and the accumulators */
  DIFF(a->correlation != b->correlation, "[measurement] correlation %s -> %s", a->correlation ? "yes" : "no",
       b->correlation ? "yes" : "no");
  DIFF(a->correlation && a->sk_every != b->sk_every, "[measurement] sk_every %lld -> %lld",
       (long long)a->sk_every, (long long)b->sk_every);
  DIFF(a->exchange_interval != b->exchange_interval, "[tempering] interval %lld -> %lld",
       (long long)a->exchange_interval, (long long)b->exchange_interval);
  DIFF(a->adapt != b->adapt, "[tempering] adapt changed");
  DIFF(a->adapt_rounds != b->adapt_rounds, "[tempering] adapt_rounds %d -> %d", a->adapt_rounds, b->adapt_rounds);
  DIFF(ising_config_overlap(a) != ising_config_overlap(b), "[measurement] overlap changed");
  DIFF(a->disorder != b->disorder, "[disorder] section %s", a->disorder ? "removed" : "added");
  DIFF(a->dis_couplings != b->dis_couplings, "[disorder] couplings changed");
  DIFF(a->bond_dilution != b->bond_dilution, "[disorder] bond_dilution %g -> %g", a->bond_dilution, b->bond_dilution);
  DIFF(a->dis_fields != b->dis_fields, "[disorder] fields changed");
  DIFF(a->field_strength != b->field_strength, "[disorder] field_strength %g -> %g", a->field_strength, b->field_strength);
  DIFF(a->samples != b->samples, "[disorder] samples %d -> %d", a->samples, b->samples);
  DIFF(a->dis_seed != b->dis_seed, "[disorder] seed %llu -> %llu", (unsigned long long)a->dis_seed, (unsigned long long)b->dis_seed);
  DIFF(strcmp(a->dis_file, b->dis_file) != 0, "[disorder] file changed");
#undef DIFF
  return count;
}

/* The key of an override "section.key=value". */
static size_t set_key_len(const char *s) {
  const char *eq = strchr(s, '=');
  size_t n = eq ? (size_t)(eq - s) : strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  return n;
}

static int parse_resumed(MPI_Comm comm, const char *output, int nset, char *const *set,
                         int64_t sweeps, ising_config *now) {
  char *text = NULL, **stored = NULL;
  int nstored = 0, which = 0;
  ISING_CALL(ising_ckpt_read_deck(comm, output, &text, &nstored, &stored, &which));
  char name[ISING_PATH_MAX + 64];
  snprintf(name, sizeof name, "%s (deck stored in the checkpoint)", output);
  ising_config then;
  ising_config_defaults(&then);
  int rc = ising_config_parse_string(text, name, nstored, stored, &then);
  /* the stored overrides, less those given again now, then the new ones */
  char **all = calloc((size_t)(nstored + nset + 2), sizeof *all);
  int nall = 0;
  if (!rc && !all) rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
  for (int i = 0; i < nstored && !rc; i++) {
    int again = 0;
    for (int j = 0; j < nset; j++)
      again |= set_key_len(stored[i]) == set_key_len(set[j]) &&
               strncmp(stored[i], set[j], set_key_len(set[j])) == 0;
    if (!again) all[nall++] = stored[i];
  }
  for (int j = 0; j < nset && !rc; j++) all[nall++] = set[j];
  if (!rc) rc = ising_config_parse_string(text, name, nall, all, now);
  if (!rc) {
    char diff[2048];
    if (physics_differences(&then, now, diff, sizeof diff))
      rc = ISING_ERR(ISING_ERR_INPUT, "resume refused: the physics differs from the checkpoint's: %s", diff);
  }
  if (!rc && sweeps > 0) {
    char opt[64];
    snprintf(opt, sizeof opt, "--sweeps %lld", (long long)sweeps);
    rc = ising_config_set_sweeps(now, sweeps, opt);
  }
  if (!rc) snprintf(now->file, sizeof now->file, "%s", output);
  free(all);
  ising_config_free(&then);
  ising_ckpt_free_deck(text, nstored, stored);
  return rc;
}

int resume_state(engine *E, int64_t *from) {
  const ising_config *cfg = E->cfg;
  ising_ckpt_replica *loc;
  ISING_CALL(engine_ckpt_replicas(E, &loc));
  ising_ckpt_state st = {0, 0, 0, 1, 1, E->ladder_hist, E->temper, E->corr, ising_config_backend(cfg),
                         E->n_bstate, E->bstate, 0};
  int rc = ising_ckpt_load(E->lay, cfg, &st, E->n_local, loc);
  free(loc);
  ISING_CALL(rc);
  /* couplings from a file: the file must still hold what the run started
   * with (a checkpoint without the checksum cannot tell) */
  const uint64_t sum = ising_disorder_checksum(E->dis);
  if (sum && st.disorder_sum && sum != st.disorder_sum) {
    char w[256];
    return ISING_ERR(ISING_ERR_INPUT, "resume refused: %s: the couplings read from '%s' differ from "
                     "those the run started with (checksum %016llx, checkpoint %016llx): the file "
                     "changed", ising_config_where(cfg, "disorder", "file", w, sizeof w), cfg->dis_file,
                     (unsigned long long)sum, (unsigned long long)st.disorder_sum);
  }
  ISING_CALL(E->sw->ops->load(E->sw->state));
  if (E->n_bstate > 0) ISING_CALL(E->sw->ops->state_set(E->sw->state, E->bstate));
  E->n_hist = st.n_hist;
  E->next_round = st.next_round;
  E->generation = st.generation;
  ISING_CALL(models_init(E, E->temper->T));
  int64_t total = cfg->thermalization + cfg->sweeps;
  if (st.sweeps_done > total) {
    char w[256];
    return ISING_ERR(ISING_ERR_INPUT, "%s: the checkpoint is at sweep %lld, past thermalization + "
                     "sweeps = %lld; ask for more with --sweeps N (measured sweeps in all)",
                     ising_config_where(cfg, "montecarlo", "sweeps", w, sizeof w),
                     (long long)st.sweeps_done, (long long)total);
  }
  ISING_CALL(ising_output_reopen(E->lay->world, cfg, st.rows, &E->out));
  /* world rank 0 takes the rows back for the summary at the end */
  ISING_CALL(engine_series_reload(E, st.rows));
  *from = st.sweeps_done;
  return ISING_OK;
}

int ising_resume(MPI_Comm comm, const char *path, int nset, char *const *set, int64_t sweeps,
                 const ising_run_options *opt, ising_run_result *res) {
  ising_run_options none = {0};
  ising_run_result local;
  if (!opt) opt = &none;
  if (!res) res = &local;
  memset(res, 0, sizeof *res);
  /* the output's name, also when a checkpoint was named */
  char output[ISING_PATH_MAX];
  snprintf(output, sizeof output, "%s", path);
  size_t len = strlen(output);
  if (len > 9 && strcmp(output + len - 9, ".ckpt.old") == 0)
    output[len - 9] = '\0';
  else if (len > 5 && strcmp(output + len - 5, ".ckpt") == 0)
    output[len - 5] = '\0';
  ising_config cfg;
  ising_config_defaults(&cfg);
  int rc = parse_resumed(comm, output, nset, set, sweeps, &cfg);
  if (!rc) rc = engine_run(comm, &cfg, opt, res, 1);
  ising_config_free(&cfg);
  if (res == &local) free(local.summaries);
  return rc;
}
