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

#include "ising/error.h"
#include "ising/sweeper.h"
#include "ising/update.h"

typedef struct byte_state {
  ising_byte_kernel kind;
  ising_sweeper_replicas r;
} byte_state;

static void byte_destroy(void *p) {
  byte_state *s = p;
  if (!s) return;
  ising_sweeper_replicas_free(&s->r);
  free(s);
}

static int byte_create(const ising_sweeper_init *in, ising_byte_kernel kind, void **out) {
  *out = NULL;
  ISING_CALL(ising_sweeper_uniform_only(in));
  byte_state *s = calloc(1, sizeof *s);
  ISING_CHECK(s, ISING_ERR_MEM, "out of memory");
  s->kind = kind;
  int rc = ising_sweeper_replicas_init(&s->r, in);
  if (rc) {
    free(s);
    return rc;
  }
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
  ising_sweeper_replicas_set_temperatures(&((byte_state *)p)->r, models, temp_of);
  return ISING_OK;
}

static int byte_sweep(void *p, uint64_t t) {
  byte_state *s = p;
  ising_sweeper_replicas *r = &s->r;
  for (int k = 0; k < r->n; k++) {
    ising_stream st = {r->key, (uint32_t)r->ids[k]};
    ising_half_sums h[2];
    for (int c = 0; c < 2; c++) {
      ISING_CALL(ising_update_half(r->lats[k], r->model[k], s->kind, st, t, c, &h[c]));
      double t0 = ising_timer_now();
      ISING_CALL(ising_lattice_halo(r->lats[k], c));
      ising_timer_add(r->timer, ISING_PHASE_HALO, t0);
    }
    r->bonds[k] = h[0].bonds + h[1].bonds;
    r->mag[k] = h[0].mag + h[1].mag;
  }
  return ISING_OK;
}

static int byte_sums(void *p, int64_t *bonds, int64_t *mag) {
  ising_sweeper_replicas_sums(&((byte_state *)p)->r, bonds, mag);
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
