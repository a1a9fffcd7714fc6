/*
 * sweep_byte.c -- the checkerboard byte kernels of update.c as update
 * backends (sweeper.h): `fast`, `reference` and `portable` (the fast
 * kernel's plain C path; `ising bench` only).
 *
 * A sweep of a replica is two half sweeps, each followed by the halo refresh
 * of the colour just updated, with the tables of the replica's temperature.
 * The kernels sweep the engine's int8 lattices themselves, so sync and load
 * have nothing to do; the bond sums and magnetisations come from the half
 * sweeps (update.h).  Any algorithm, any sign of J and H.
 */
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/sweeper.h"
#include "ising/update.h"

typedef struct byte_state {
  ising_byte_kernel kind;
  int n;
  int *ids;
  ising_lattice **lats;
  const ising_model **model; /* [n] the tables each replica sweeps with */
  int64_t *bonds, *mag;      /* [n] after the last sweep */
  ising_rng_key key;
  ising_timer *timer;
} byte_state;

static void byte_destroy(void *p) {
  byte_state *s = p;
  if (!s) return;
  free(s->ids);
  free(s->lats);
  free(s->model);
  free(s->bonds);
  free(s->mag);
  free(s);
}

static int byte_create(const ising_sweeper_init *in, ising_byte_kernel kind, void **out) {
  *out = NULL;
  ISING_CHECK(!in->couplings || ising_couplings_is_uniform(in->couplings), ISING_ERR_INPUT,
              "kernel %s takes uniform couplings only", in->cfg->kernel);
  byte_state *s = calloc(1, sizeof *s);
  ISING_CHECK(s, ISING_ERR_MEM, "out of memory");
  const size_t n = (size_t)(in->n_local ? in->n_local : 1);
  s->kind = kind;
  s->n = in->n_local;
  s->key = in->key;
  s->timer = in->timer;
  s->ids = malloc(n * sizeof *s->ids);
  s->lats = malloc(n * sizeof *s->lats);
  s->model = calloc(n, sizeof *s->model);
  s->bonds = calloc(n, sizeof *s->bonds);
  s->mag = calloc(n, sizeof *s->mag);
  if (!s->ids || !s->lats || !s->model || !s->bonds || !s->mag) {
    byte_destroy(s);
    return ISING_ERR(ISING_ERR_MEM, "out of memory");
  }
  memcpy(s->ids, in->ids, (size_t)s->n * sizeof *s->ids);
  memcpy(s->lats, in->lats, (size_t)s->n * sizeof *s->lats);
  *out = s;
  return ISING_OK;
}

static int fast_create(const ising_sweeper_init *in, void **out) {
  return byte_create(in, ISING_BYTE_FAST, out);
}
static int reference_create(const ising_sweeper_init *in, void **out) {
  return byte_create(in, ISING_BYTE_REFERENCE, out);
}
static int portable_create(const ising_sweeper_init *in, void **out) {
  return byte_create(in, ISING_BYTE_PORTABLE, out);
}

static int byte_set_temperatures(void *p, const ising_model *models, const int *temp_of) {
  byte_state *s = p;
  for (int k = 0; k < s->n; k++) s->model[k] = &models[temp_of[s->ids[k]]];
  return ISING_OK;
}

static int byte_sweep(void *p, uint64_t t) {
  byte_state *s = p;
  for (int k = 0; k < s->n; k++) {
    ising_stream st = {s->key, (uint32_t)s->ids[k]};
    ising_half_sums h[2];
    for (int c = 0; c < 2; c++) {
      ISING_CALL(ising_update_half(s->lats[k], s->model[k], s->kind, st, t, c, &h[c]));
      double t0 = s->timer ? ising_timer_now() : 0;
      ISING_CALL(ising_lattice_halo(s->lats[k], c));
      if (s->timer) ising_timer_add(s->timer, ISING_PHASE_HALO, t0);
    }
    s->bonds[k] = h[0].bonds + h[1].bonds;
    s->mag[k] = h[0].mag + h[1].mag;
  }
  return ISING_OK;
}

static int byte_sums(void *p, int64_t *bonds, int64_t *mag) {
  byte_state *s = p;
  memcpy(bonds, s->bonds, (size_t)s->n * sizeof *bonds);
  memcpy(mag, s->mag, (size_t)s->n * sizeof *mag);
  return ISING_OK;
}

static int byte_nothing(void *p) {
  (void)p;
  return ISING_OK;
}

static int byte_check(const ising_config *cfg, char *why, size_t size) {
  (void)cfg;
  (void)why;
  (void)size;
  return 1;
}

static void byte_needs(const ising_config *cfg, ising_sweeper_needs *needs) {
  (void)cfg;
  needs->whole_x = needs->whole_replica = 0;
  needs->block = 1;
}

static const char *fast_path(void) { return ising_update_kernel_name(ISING_BYTE_FAST); }
static const char *reference_path(void) { return ising_update_kernel_name(ISING_BYTE_REFERENCE); }
static const char *portable_path(void) { return ising_update_kernel_name(ISING_BYTE_PORTABLE); }

#define BYTE_OPS(sym, nm, in_deck, create_fn, path_fn)                               \
  const ising_sweeper_ops sym = {                                                    \
      .name = nm, .deck = in_deck, .check = byte_check, .needs = byte_needs,         \
      .path = path_fn, .create = create_fn, .destroy = byte_destroy,                 \
      .set_temperatures = byte_set_temperatures, .sweep = byte_sweep,                \
      .sums = byte_sums, .sync = byte_nothing, .load = byte_nothing};

BYTE_OPS(ising_sweep_fast, "fast", 1, fast_create, fast_path)
BYTE_OPS(ising_sweep_reference, "reference", 1, reference_create, reference_path)
BYTE_OPS(ising_sweep_portable, "portable", 0, portable_create, portable_path)
