/*
 * sweep_msc.c -- the multi-spin-coding kernel (msc.h) as an update backend
 * (sweeper.h): `kernel = msc`.
 *
 * Each replica's block has a packed copy (ising_msc, 64 sites of one colour
 * per word) that the sweeps update; a half sweep is followed by the packed
 * halo refresh of its colour.  The engine's int8 lattice is brought up to
 * date from the packed copy only when read (sync), and the packed copy is
 * loaded from it at the start and after a resume (load).  The x rows stay
 * whole on one rank (needs.whole_x), so that a word's random bits, keyed by
 * (global row, word), do not depend on the rank count.  Metropolis, J > 0.
 */
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/msc.h"
#include "ising/cpu.h"
#include "ising/sweeper.h"

typedef struct msc_state {
  ising_sweeper_replicas r;
  ising_msc **packed; /* [n] */
  int ahead;          /* the packed copies have sweeps the int8 lattices lack */
  int64_t mark[4];    /* counters at the start of a timed bench */
} msc_state;

static void msc_destroy(void *p) {
  msc_state *s = p;
  if (!s) return;
  for (int k = 0; k < s->r.n && s->packed; k++) ising_msc_destroy(&s->packed[k]);
  free(s->packed);
  ising_sweeper_replicas_free(&s->r);
  free(s);
}

static int msc_create(const ising_sweeper_init *in, void **out) {
  *out = NULL;
  ISING_CALL(ising_sweeper_uniform_only(in));
  msc_state *s = calloc(1, sizeof *s);
  ISING_CHECK(s, ISING_ERR_MEM, "out of memory");
  int rc = ising_sweeper_replicas_init(&s->r, in);
  if (!rc) {
    s->packed = calloc((size_t)(s->r.n > 0 ? s->r.n : 1), sizeof *s->packed);
    if (!s->packed) rc = ISING_ERR(ISING_ERR_MEM, "out of memory");
  }
  for (int k = 0; k < s->r.n && !rc; k++) rc = ising_msc_create(s->r.lats[k], &s->packed[k]);
  if (rc) {
    msc_destroy(s);
    return rc;
  }
  *out = s;
  return ISING_OK;
}

static int msc_set_temperatures(void *p, const ising_model *models, const int *temp_of) {
  ising_sweeper_replicas_set_temperatures(&((msc_state *)p)->r, models, temp_of);
  return ISING_OK;
}

static int msc_sweep(void *p, uint64_t t) {
  msc_state *s = p;
  ising_sweeper_replicas *r = &s->r;
  for (int k = 0; k < r->n; k++) {
    ising_stream st = {r->key, (uint32_t)r->ids[k]};
    ising_half_sums h[2];
    for (int c = 0; c < 2; c++) {
      ISING_CALL(ising_msc_half(s->packed[k], r->model[k], st, t, c, &h[c]));
      double t0 = ising_timer_now();
      ISING_CALL(ising_msc_halo(s->packed[k], c));
      ising_timer_add(r->timer, ISING_PHASE_HALO, t0);
    }
    r->bonds[k] = h[0].bonds + h[1].bonds;
    r->mag[k] = h[0].mag + h[1].mag;
  }
  s->ahead = 1;
  return ISING_OK;
}

static int msc_sums(void *p, int64_t *bonds, int64_t *mag) {
  ising_sweeper_replicas_sums(&((msc_state *)p)->r, bonds, mag);
  return ISING_OK;
}

static int msc_sync(void *p) {
  msc_state *s = p;
  if (!s->ahead) return ISING_OK;
  for (int k = 0; k < s->r.n; k++) ISING_CALL(ising_msc_store(s->packed[k], s->r.lats[k]));
  s->ahead = 0;
  return ISING_OK;
}

static int msc_load(void *p) {
  msc_state *s = p;
  for (int k = 0; k < s->r.n; k++) ISING_CALL(ising_msc_load(s->packed[k], s->r.lats[k]));
  s->ahead = 0;
  return ISING_OK;
}

static int64_t msc_bytes(const void *p) {
  const msc_state *s = p;
  int64_t b = 0;
  for (int k = 0; k < s->r.n; k++) b += ising_msc_bytes(s->packed[k]);
  return b;
}

static int msc_check(const ising_config *cfg, char *why, size_t size) {
  return ising_msc_deck_check(cfg, (int64_t)1 << 20, why, size);
}

static void msc_needs(const ising_config *cfg, ising_sweeper_needs *needs) {
  (void)cfg;
  needs->whole_x = 1;
  needs->whole_replica = 0;
  needs->block = 1;
}

/* Named by the instruction set it was compiled for (sweeper.h): avx512 uses
 * the VBMI2 spin-word shuffles of msc.c, avx2 the BMI2 bit gathers. */
static const char *msc_path(void) {
#if defined(__AVX512VBMI2__) && defined(__AVX512BW__)
  return "msc/avx512";
#elif defined(__BMI2__)
  return ising_cpu_pdep_emulated() ? "msc/avx2-softpdep" : "msc/avx2";
#else
  return "msc/portable";
#endif
}

/* The random-bit economy of the timed sweeps, and the time the same
 * generator fills alone take (first call, out == NULL: mark the start). */
static int msc_bench_report(void *p, FILE *out, double timed, long sweeps, double sites) {
  msc_state *s = p;
  if (s->r.n < 1) return ISING_OK;
  int64_t now[4];
  ising_msc_stats(s->packed[0], now);
  if (!out) {
    memcpy(s->mark, now, sizeof now);
    return ISING_OK;
  }
  for (int i = 0; i < 4; i++) now[i] -= s->mark[i];
  ising_stream st = {s->r.key, (uint32_t)s->r.ids[0]};
  double t0 = ising_timer_now();
  ising_msc_rng_only(s->packed[0], st, now[3], now[0]);
  double t_rng = ising_timer_now() - t0;
  ISING_CALL(ising_world_max_double(s->r.lay, &t_rng));
  (void)sweeps;
  if (s->r.lay->world_rank != 0 || now[1] <= 0) return ISING_OK;
  fprintf(out, "bench: msc on rank 0: %.4f decisions needing random bits per site, %.4f random "
          "bits per such decision, %.3f random bits per site (%.3f drawn from the generator)\n",
          (double)now[1] / sites, (double)now[2] / (double)now[1], (double)now[2] / sites,
          128.0 * (double)now[3] / sites);
  fprintf(out, "bench: msc: drawing those %s blocks alone takes %.1f%% of the sweep time\n",
          s->r.key.alg == ISING_RNG_ARS ? "ARS" : "Philox", 100.0 * t_rng / timed);
  return ISING_OK;
}

const ising_sweeper_ops ising_sweep_msc = {
    .name = "msc", .deck = 1, .check = msc_check, .needs = msc_needs, .path = msc_path,
    .create = msc_create, .destroy = msc_destroy, .set_temperatures = msc_set_temperatures,
    .sweep = msc_sweep, .sums = msc_sums, .sync = msc_sync, .load = msc_load,
    .bytes = msc_bytes, .bench_report = msc_bench_report};
