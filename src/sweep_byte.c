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
 *
 * Couplings: a replica whose sample is uniform sweeps with the tables
 * (ising_update_half); the others with the couplings cache of their sample
 * (ising_update_half_disorder), one cache per sample present in the group,
 * shared by its replicas.  field_sums gives F = sum f_i s_i of each block
 * (0 for a replica without a field source).
 */
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/sweeper.h"
#include "ising/update.h"

typedef struct byte_state {
  ising_byte_kernel kind;
  ising_sweeper_replicas r;
  ising_update_cache **cache; /* [n] the sample's cache; NULL: uniform couplings */
  ising_update_cache **owned; /* [n_owned] one per sample with a cache */
  int n_owned;
  int64_t *field;             /* [n] F after the last sweep */
} byte_state;

static void byte_destroy(void *p) {
  byte_state *s = p;
  if (!s) return;
  for (int i = 0; i < s->n_owned; i++) ising_update_cache_free(&s->owned[i]);
  free(s->owned);
  free(s->cache);
  free(s->field);
  ising_sweeper_replicas_free(&s->r);
  free(s);
}

/* The caches of the local replicas' samples (none when all are uniform). */
static int byte_caches(byte_state *s, const ising_sweeper_init *in) {
  for (int k = 0; in->couplings && k < in->n_local; k++) {
    const ising_couplings *c = ising_sweeper_couplings(in, in->ids[k]);
    if (ising_couplings_is_uniform(c)) continue;
    const int sample = in->ids[k] / in->per_sample;
    for (int j = 0; j < k && !s->cache[k]; j++)
      if (s->cache[j] && in->ids[j] / in->per_sample == sample) s->cache[k] = s->cache[j];
    if (s->cache[k]) continue;
    ISING_CALL(ising_update_cache_create(c, in->lats[k], &s->owned[s->n_owned]));
    s->cache[k] = s->owned[s->n_owned++];
  }
  return ISING_OK;
}

static int byte_create(const ising_sweeper_init *in, ising_byte_kernel kind, void **out) {
  *out = NULL;
  byte_state *s = calloc(1, sizeof *s);
  ISING_CHECK(s, ISING_ERR_MEM, "out of memory");
  s->kind = kind;
  int rc = ising_sweeper_replicas_init(&s->r, in);
  if (rc) {
    free(s);
    return rc;
  }
  const size_t n = (size_t)(in->n_local > 0 ? in->n_local : 1);
  s->cache = calloc(n, sizeof *s->cache);
  s->owned = calloc(n, sizeof *s->owned);
  s->field = calloc(n, sizeof *s->field);
  rc = s->cache && s->owned && s->field ? byte_caches(s, in) : ISING_ERR(ISING_ERR_MEM, "out of memory");
  if (rc) {
    byte_destroy(s);
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
    int64_t f[2] = {0, 0};
    for (int c = 0; c < 2; c++) {
      if (s->cache[k])
        ISING_CALL(ising_update_half_disorder(r->lats[k], r->model[k], s->cache[k], s->kind, st, t,
                                              c, &h[c], &f[c]));
      else
        ISING_CALL(ising_update_half(r->lats[k], r->model[k], s->kind, st, t, c, &h[c]));
      double t0 = ising_timer_now();
      ISING_CALL(ising_lattice_halo(r->lats[k], c));
      ising_timer_add(r->timer, ISING_PHASE_HALO, t0);
    }
    r->bonds[k] = h[0].bonds + h[1].bonds;
    r->mag[k] = h[0].mag + h[1].mag;
    s->field[k] = f[0] + f[1];
  }
  return ISING_OK;
}

static int byte_sums(void *p, int64_t *bonds, int64_t *mag) {
  ising_sweeper_replicas_sums(&((byte_state *)p)->r, bonds, mag);
  return ISING_OK;
}

static int byte_field_sums(void *p, int64_t *F) {
  const byte_state *s = p;
  memcpy(F, s->field, (size_t)s->r.n * sizeof *F);
  return ISING_OK;
}

static int64_t byte_bytes(const void *p) {
  const byte_state *s = p;
  int64_t b = 0;
  for (int i = 0; i < s->n_owned; i++) b += ising_update_cache_bytes(s->owned[i]);
  return b;
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
      .sums = byte_sums, .field_sums = byte_field_sums, .sync = byte_nothing,       \
      .load = byte_nothing, .bytes = byte_bytes};

BYTE_OPS(ising_sweep_fast, "fast", 1, fast_create, fast_path)
BYTE_OPS(ising_sweep_reference, "reference", 1, reference_create, reference_path)
BYTE_OPS(ising_sweep_portable, "portable", 0, portable_create, portable_path)
