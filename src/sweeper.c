/*
 * sweeper.c -- the registry of update backends (sweeper.h).
 *
 * A backend is registered by one line in ISING_BACKENDS below (its
 * operations table, defined in its own file); tests may add more at run
 * time with ising_sweeper_register.
 */
#include "ising/sweeper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"

/* The backends of this build, in the order their names are listed. */
#define ISING_BACKENDS(X)  \
  X(ising_sweep_fast)      \
  X(ising_sweep_reference) \
  X(ising_sweep_msc)       \
  X(ising_sweep_msc_async) \
  X(ising_sweep_portable)

#define DECLARE(ops) extern const ising_sweeper_ops ops;
ISING_BACKENDS(DECLARE)
#undef DECLARE

#define MAX_ADDED 8
static const ising_sweeper_ops *added[MAX_ADDED];
static int n_added;

static const ising_sweeper_ops *nth(int i) {
#define ADDRESS(ops) &ops,
  static const ising_sweeper_ops *const builtin[] = {ISING_BACKENDS(ADDRESS)};
#undef ADDRESS
  const int nb = (int)(sizeof builtin / sizeof *builtin);
  if (i < nb) return builtin[i];
  return i - nb < n_added ? added[i - nb] : NULL;
}

const ising_sweeper_ops *ising_sweeper_find(const char *name) {
  if (!name) return NULL;
  for (int i = 0; nth(i); i++)
    if (strcmp(nth(i)->name, name) == 0) return nth(i);
  return NULL;
}

const char *ising_sweeper_names(char *buf, size_t size, int all) {
  int n = 0, k = 0;
  for (int i = 0; nth(i); i++) n += all || nth(i)->deck;
  size_t used = 0;
  if (size) buf[0] = '\0';
  for (int i = 0; nth(i) && used < size; i++) {
    if (!all && !nth(i)->deck) continue;
    const char *sep = k == 0 ? "" : k == n - 1 ? " or " : ", ";
    used += (size_t)snprintf(buf + used, size - used, "%s%s", sep, nth(i)->name);
    k++;
  }
  return buf;
}

int ising_sweeper_register(const ising_sweeper_ops *ops) {
  ISING_CHECK(ops && ops->name && ops->create && ops->sweep && ops->sums && ops->sync &&
                  ops->load && ops->set_temperatures && ops->destroy && ops->check && ops->needs &&
                  ops->path,
              ISING_ERR_INTERNAL, "sweeper registration: incomplete operations table");
  ISING_CHECK(!ising_sweeper_find(ops->name), ISING_ERR_INPUT,
              "sweeper registration: the name '%s' is taken", ops->name);
  ISING_CHECK(n_added < MAX_ADDED, ISING_ERR_INTERNAL, "sweeper registration: registry full");
  added[n_added++] = ops;
  return ISING_OK;
}

/* The kernel key as the parser names a faulty value: "deck.ini:7: [montecarlo]
 * kernel = msc", "--set montecarlo.kernel=msc: [montecarlo] kernel = msc". */
static const char *kernel_where(const ising_config *cfg, char *buf, size_t size) {
  char w[256];
  ising_config_where(cfg, "montecarlo", "kernel", w, sizeof w);
  if (strncmp(w, "--set ", 6) == 0)
    snprintf(buf, size, "%s: [montecarlo] kernel = %s", w, cfg->kernel);
  else
    snprintf(buf, size, "%s", w);
  return buf;
}

int ising_sweeper_validate(const ising_config *cfg) {
  char where[320], why[512], names[256];
  const ising_sweeper_ops *ops = ising_sweeper_find(cfg->kernel);
  if (!ops || !ops->deck)
    return ISING_ERR(ISING_ERR_INPUT, "%s: kernel must be %s",
                     kernel_where(cfg, where, sizeof where),
                     ising_sweeper_names(names, sizeof names, 0));
  why[0] = '\0';
  if (!ops->check(cfg, why, sizeof why))
    return ISING_ERR(ISING_ERR_INPUT, "%s: %s", kernel_where(cfg, where, sizeof where), why);
  return ISING_OK;
}

int ising_sweeper_create(const ising_sweeper_init *in, ising_sweeper **out) {
  *out = NULL;
  const ising_sweeper_ops *ops = ising_sweeper_find(in->cfg->kernel);
  ISING_CHECK(ops, ISING_ERR_INPUT, "no update backend named '%s'", in->cfg->kernel);
  ising_sweeper *sw = calloc(1, sizeof *sw);
  ISING_CHECK(sw, ISING_ERR_MEM, "out of memory");
  sw->ops = ops;
  sw->n_local = in->n_local;
  int rc = ops->create(in, &sw->state);
  if (rc) {
    free(sw);
    return rc;
  }
  *out = sw;
  return ISING_OK;
}

void ising_sweeper_destroy(ising_sweeper **sw) {
  if (!sw || !*sw) return;
  if ((*sw)->state) (*sw)->ops->destroy((*sw)->state);
  free(*sw);
  *sw = NULL;
}

/* ------------------------------------------------ per-replica building blocks */

int ising_sweeper_replicas_init(ising_sweeper_replicas *r, const ising_sweeper_init *in) {
  memset(r, 0, sizeof *r);
  const size_t n = (size_t)(in->n_local > 0 ? in->n_local : 1);
  r->n = in->n_local;
  r->key = in->key;
  r->timer = in->timer;
  r->lay = in->lay;
  r->ids = malloc(n * sizeof *r->ids);
  r->lats = malloc(n * sizeof *r->lats);
  r->model = calloc(n, sizeof *r->model);
  r->bonds = calloc(n, sizeof *r->bonds);
  r->mag = calloc(n, sizeof *r->mag);
  if (!r->ids || !r->lats || !r->model || !r->bonds || !r->mag) {
    ising_sweeper_replicas_free(r);
    return ISING_ERR(ISING_ERR_MEM, "out of memory");
  }
  memcpy(r->ids, in->ids, (size_t)r->n * sizeof *r->ids);
  memcpy(r->lats, in->lats, (size_t)r->n * sizeof *r->lats);
  return ISING_OK;
}

void ising_sweeper_replicas_free(ising_sweeper_replicas *r) {
  free(r->ids);
  free(r->lats);
  free(r->model);
  free(r->bonds);
  free(r->mag);
  memset(r, 0, sizeof *r);
}

void ising_sweeper_replicas_set_temperatures(ising_sweeper_replicas *r, const ising_model *models,
                                             const int *temp_of) {
  for (int k = 0; k < r->n; k++) r->model[k] = &models[temp_of[r->ids[k]]];
}

void ising_sweeper_replicas_sums(const ising_sweeper_replicas *r, int64_t *bonds, int64_t *mag) {
  memcpy(bonds, r->bonds, (size_t)r->n * sizeof *bonds);
  memcpy(mag, r->mag, (size_t)r->n * sizeof *mag);
}

int ising_sweeper_uniform_only(const ising_sweeper_init *in) {
  ISING_CHECK(!in->couplings || ising_couplings_is_uniform(in->couplings), ISING_ERR_INPUT,
              "kernel %s takes uniform couplings only", in->cfg->kernel);
  return ISING_OK;
}
