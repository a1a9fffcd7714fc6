/*
 * sweep_msc_async.c -- the multi-replica multi-spin-coding kernel
 * (msc_async.h) as an update backend (sweeper.h): `kernel = msc-async`.
 *
 * Replica set s holds replicas 64 s .. 64 s + 63 (lane = id - 64 s); the
 * engine deals replicas to groups in blocks of 64 (needs.block), so a
 * group's replicas are whole sets, its j-th set at local index 64 j (only
 * the group's last set can be partial).  Lanes past the last replica are
 * frozen: they never move and take no random bytes (msc_async.h), so a
 * partial set runs the same trajectories as a full one.  Each lattice is
 * whole on one rank (ranks_per_replica = 1).  Every sweep gives each lane
 * its replica's temperature (set only when it changed).  The engine's int8
 * lattices are refreshed from the packed words only when read (sync), and
 * loaded into the sets at the start and after a resume (load).
 *
 * Couplings: uniform ones take the plain kernel.  Otherwise every sample's
 * must be bimodal without dilution or a field source (w = +-1, one J_unit
 * > 0 and H for all): each lane gets its replica's provider
 * (ising_msc_async_set_couplings: sign bits per lane, so the lanes of a set
 * may be replicas of up to 64 samples), idle lanes the set's first
 * replica's; sums then give B = sum w_ij s_i s_j.
 */
#include <stdlib.h>
#include <string.h>

#include "ising/disorder.h"
#include "ising/error.h"
#include "ising/msc.h"
#include "ising/msc_async.h"
#include "ising/cpu.h"
#include "ising/sweeper.h"
#include "msc_impl.h"

#define LANES ISING_MSC_ASYNC_LANES

typedef struct async_state {
  const ising_config *cfg;
  int n; /* local replicas */
  ising_lattice **lats;
  int n_sets;
  ising_msc_async **sets;       /* [n_sets] */
  int *set_id;                  /* [n_sets] global set index */
  int *lanes;                   /* [n_sets] replicas the set carries */
  double (*set_T)[LANES];       /* lane temperatures last given to each set */
  double (*want_T)[LANES];      /* lane temperatures for the next sweep */
  int ahead;                    /* the sets have sweeps the int8 lattices lack */
  ising_rng_key key;
  int sign; /* bimodal couplings: the sets hold bond sign bits */
} async_state;

static void async_destroy(void *p) {
  async_state *s = p;
  if (!s) return;
  for (int j = 0; j < s->n_sets; j++) ising_msc_async_destroy(&s->sets[j]);
  free(s->sets);
  free(s->set_id);
  free(s->lanes);
  free(s->set_T);
  free(s->want_T);
  free(s->lats);
  free(s);
}

#define ASYNC_TAKES "[montecarlo] kernel = msc-async takes bimodal couplings without dilution or random fields"

/* Whether the replicas' couplings are not all uniform, and then the J_unit
 * and H every set runs with (the checks of the file comment). */
static int couplings_scan(const ising_sweeper_init *in, int *sign, double *J, double *H) {
  *sign = 0;
  *J = in->cfg->J;
  *H = in->cfg->H;
  for (int k = 0; in->couplings && k < in->n_local; k++)
    *sign |= !ising_couplings_is_uniform(ising_sweeper_couplings(in, in->ids[k]));
  if (!*sign) return ISING_OK;
  const ising_couplings *c0 = ising_sweeper_couplings(in, in->ids[0]);
  *J = c0->J_unit;
  *H = c0->H;
  for (int k = 0; k < in->n_local; k++) {
    const ising_couplings *c = ising_sweeper_couplings(in, in->ids[k]);
    ISING_CHECK(!c->field && c->bimodal, ISING_ERR_INPUT, ASYNC_TAKES " (sample %d has %s)",
                in->ids[k] / in->per_sample, c->field ? "a random field" : "weights other than +-1");
    ISING_CHECK(c->J_unit == *J && c->H == *H && *J > 0, ISING_ERR_INPUT,
                ASYNC_TAKES ", with one coupling unit J_unit > 0 for all samples (sample %d has %g)",
                in->ids[k] / in->per_sample, c->J_unit);
  }
  return ISING_OK;
}

static int async_create(const ising_sweeper_init *in, void **out) {
  *out = NULL;
  int sign;
  double J, H;
  ISING_CALL(couplings_scan(in, &sign, &J, &H));
  const ising_config *cfg = in->cfg;
  async_state *s = calloc(1, sizeof *s);
  ISING_CHECK(s, ISING_ERR_MEM, "out of memory");
  s->cfg = cfg;
  s->n = in->n_local;
  s->key = in->key;
  s->sign = sign;
  s->n_sets = (in->n_local + LANES - 1) / LANES;
  const size_t ns = (size_t)(s->n_sets ? s->n_sets : 1);
  s->lats = malloc((size_t)(s->n ? s->n : 1) * sizeof *s->lats);
  s->sets = calloc(ns, sizeof *s->sets);
  s->set_id = calloc(ns, sizeof *s->set_id);
  s->lanes = calloc(ns, sizeof *s->lanes);
  s->set_T = calloc(ns, sizeof *s->set_T);
  s->want_T = calloc(ns, sizeof *s->want_T);
  int rc = s->lats && s->sets && s->set_id && s->lanes && s->set_T && s->want_T
               ? ISING_OK
               : ISING_ERR(ISING_ERR_MEM, "out of memory");
  if (!rc) memcpy(s->lats, in->lats, (size_t)s->n * sizeof *s->lats);
  double T[LANES];
  for (int l = 0; l < LANES; l++) T[l] = cfg->temps[0];
  for (int j = 0; j < s->n_sets && !rc; j++) {
    const int first = in->ids[LANES * j], n = in->n_local - LANES * j < LANES ? in->n_local - LANES * j : LANES;
    rc = first % LANES == 0 && in->ids[LANES * j + n - 1] == first + n - 1
             ? ISING_OK
             : ISING_ERR(ISING_ERR_INTERNAL, "msc-async: replicas not dealt in whole sets of 64");
    s->set_id[j] = first / LANES;
    s->lanes[j] = n;
    memcpy(s->set_T[j], T, sizeof T);
    if (!rc) rc = ising_msc_async_create(cfg->dim, cfg->L, J, H, T, &s->sets[j]);
    if (!rc && sign) {
      const ising_couplings *cp[LANES];
      for (int l = 0; l < LANES; l++) cp[l] = ising_sweeper_couplings(in, in->ids[LANES * j + (l < n ? l : 0)]);
      rc = ising_msc_async_set_couplings(s->sets[j], cp);
      if (rc == ISING_ERR_INPUT) { /* a weight 0 (dilution) */
        ising_err_clear();
        rc = ISING_ERR(ISING_ERR_INPUT, ASYNC_TAKES " (a sample of replicas %d..%d has a bond weight 0)",
                       first, first + n - 1);
      }
    }
    /* idle lanes stay frozen (msc_async.h) */
    if (!rc)
      rc = ising_msc_async_set_active(s->sets[j], n < LANES ? ((uint64_t)1 << n) - 1 : ~(uint64_t)0);
  }
  if (rc) {
    async_destroy(s);
    return rc;
  }
  *out = s;
  return ISING_OK;
}

/* Each lane at its replica's temperature; idle lanes (frozen) at the
 * set's first replica's. */
static int async_set_temperatures(void *p, const ising_model *models, const int *temp_of) {
  async_state *s = p;
  for (int j = 0; j < s->n_sets; j++)
    for (int l = 0; l < LANES; l++)
      s->want_T[j][l] = models[temp_of[LANES * s->set_id[j] + (l < s->lanes[j] ? l : 0)]].T;
  return ISING_OK;
}

static int async_sweep(void *p, uint64_t t) {
  async_state *s = p;
  for (int j = 0; j < s->n_sets; j++) {
    if (memcmp(s->want_T[j], s->set_T[j], sizeof s->set_T[j]) != 0) {
      ISING_CALL(ising_msc_async_set_temperatures(s->sets[j], s->want_T[j]));
      memcpy(s->set_T[j], s->want_T[j], sizeof s->set_T[j]);
    }
    for (int c = 0; c < 2; c++)
      ISING_CALL(ising_msc_async_half(s->sets[j], c, t, s->key, (uint32_t)s->set_id[j]));
  }
  s->ahead = 1;
  return ISING_OK;
}

/* Popcount sums of the packed words (only when a measurement or an
 * exchange needs them). */
static int async_sums(void *p, int64_t *bonds, int64_t *mag) {
  async_state *s = p;
  for (int j = 0; j < s->n_sets; j++) {
    int64_t B[LANES], M[LANES];
    ISING_CALL(ising_msc_async_sums(s->sets[j], B, M));
    memcpy(bonds + LANES * j, B, (size_t)s->lanes[j] * sizeof *B);
    memcpy(mag + LANES * j, M, (size_t)s->lanes[j] * sizeof *M);
  }
  return ISING_OK;
}

/* Copy set j's replicas between the packed words and their int8 lattices,
 * row by row (to_set = 1: into the words).  Each lattice is whole on this
 * rank, so its local coordinates are the global ones. */
static int transfer(async_state *s, int j, int to_set) {
  const ising_config *cfg = s->cfg;
  const int64_t Lx = cfg->L[0], Ly = cfg->L[1], Lz = cfg->dim == 3 ? cfg->L[2] : 1;
  const int n = s->lanes[j];
  ising_lattice *const *lat = s->lats + LANES * j;
  int8_t *buf = malloc((size_t)(n * Lx)), *rows[LANES];
  ISING_CHECK(buf, ISING_ERR_MEM, "out of memory (msc-async row buffer)");
  for (int l = 0; l < n; l++) rows[l] = buf + l * Lx;
  int rc = ISING_OK;
  for (int64_t z = 0; z < Lz && !rc; z++)
    for (int64_t y = 0; y < Ly && !rc; y++)
      if (to_set) {
        for (int l = 0; l < n; l++) ising_lattice_pack_rows(lat[l], z, y, 1, rows[l]);
        rc = ising_msc_async_set_row(s->sets[j], y, z, n, (const int8_t *const *)rows);
      } else {
        rc = ising_msc_async_get_row(s->sets[j], y, z, n, rows);
        for (int l = 0; l < n && !rc; l++) ising_lattice_unpack_rows(lat[l], z, y, 1, rows[l]);
      }
  free(buf);
  for (int l = 0; l < n && !rc && !to_set; l++) {
    rc = ising_lattice_halo(lat[l], 0);
    if (!rc) rc = ising_lattice_halo(lat[l], 1);
  }
  return rc;
}

static int async_sync(void *p) {
  async_state *s = p;
  if (!s->ahead) return ISING_OK;
  for (int j = 0; j < s->n_sets; j++) ISING_CALL(transfer(s, j, 0));
  s->ahead = 0;
  return ISING_OK;
}

static int async_load(void *p) {
  async_state *s = p;
  for (int j = 0; j < s->n_sets; j++) ISING_CALL(transfer(s, j, 1));
  s->ahead = 0;
  return ISING_OK;
}

static int64_t async_bytes(const void *p) {
  const async_state *s = p;
  /* one word per site and lane group: 8 bytes per site of a set, and 2d
   * words of bond signs per site with bimodal couplings */
  return (int64_t)s->n_sets * 8 * (s->sign ? 1 + 2 * s->cfg->dim : 1) * s->cfg->L[0] * s->cfg->L[1] *
         (s->cfg->dim == 3 ? s->cfg->L[2] : 1);
}

static int async_check(const ising_config *cfg, char *why, size_t size) {
  return ising_msc_deck_check(cfg, (int64_t)1 << 19, why, size);
}

static void async_needs(const ising_config *cfg, ising_sweeper_needs *needs) {
  (void)cfg;
  needs->whole_x = 0;
  needs->whole_replica = 1;
  needs->block = LANES;
}

static const char *async_path(void) {
#ifdef MSC_SIMD /* the decision paths of msc_async.c */
  return "msc-async/avx512";
#elif defined(MSC_AVX2)
  return ising_cpu_pdep_emulated() ? "msc-async/avx2-softpdep" : "msc-async/avx2";
#else
  return "msc-async/portable";
#endif
}

/* One process's words at one temperature (msc_async.h has its own).  With
 * --couplings bimodal the 64 lanes are 32 samples of the bench's disorder
 * seed, two replicas each (the shape of a spin-glass run with two real
 * replicas). */
static int async_bench(const ising_config *cfg, long sweeps, long repeat) {
  if (cfg->algorithm != ISING_ALG_METROPOLIS || cfg->H != 0)
    return ISING_ERR(ISING_ERR_INPUT, "ising bench: --kernel msc-async runs Metropolis at H = 0");
  if (cfg->dis_couplings == ISING_DIS_UNIFORM && cfg->bond_dilution == 0 &&
      cfg->dis_fields == ISING_FIELDS_NONE)
    return ising_msc_async_bench(cfg->dim, cfg->L[0], cfg->temps[0], NULL, "uniform", cfg->rng,
                                 sweeps, repeat);
  if (cfg->dis_couplings != ISING_DIS_BIMODAL || cfg->bond_dilution != 0 ||
      cfg->dis_fields != ISING_FIELDS_NONE)
    return ISING_ERR(ISING_ERR_INPUT, "ising bench: --kernel msc-async takes --couplings bimodal "
                     "without --dilution and --fields (or uniform couplings)");
  ising_config c2 = *cfg;
  c2.samples = LANES / 2;
  ising_disorder *dis = NULL;
  ISING_CALL(ising_disorder_create(&c2, &dis));
  const ising_couplings *c[LANES];
  for (int l = 0; l < LANES; l++) c[l] = &ising_disorder_couplings(dis)[l / 2];
  int rc = ising_msc_async_bench(cfg->dim, cfg->L[0], cfg->temps[0], c,
                                 "bimodal (32 samples x 2 replicas)", cfg->rng, sweeps, repeat);
  ising_disorder_destroy(&dis);
  return rc;
}

const ising_sweeper_ops ising_sweep_msc_async = {
    .name = "msc-async", .deck = 1, .check = async_check, .needs = async_needs,
    .path = async_path, .create = async_create, .destroy = async_destroy,
    .set_temperatures = async_set_temperatures, .sweep = async_sweep, .sums = async_sums,
    .sync = async_sync, .load = async_load, .bytes = async_bytes, .bench = async_bench};
