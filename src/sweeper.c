/*
 * sweeper.c -- the registry of update backends (sweeper.h).
 *
 * A backend is registered by one line in ISING_BACKENDS below (its
 * operations table, defined in its own file); tests may add more at run
 * time with ising_sweeper_register.
 *
 * Run-time dispatch (x86-64 builds without ISING_NATIVE, where CMake defines
 * ISING_DISPATCH): the backend files and the ISA-dependent kernels they call
 * are compiled once more per instruction set, their exported names suffixed
 * _avx2 and _avx512 (CMakeLists.txt), so that every backend has one table
 * per path.  A name resolves to the table of the path ISING_ISA forces, or
 * else of the best path this CPU runs.
 */
#include "ising/sweeper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ising/cpu.h"
#include "ising/error.h"

/* The backends of this build, in the order their names are listed. */
#define ISING_BACKENDS(X)  \
  X(ising_sweep_fast)      \
  X(ising_sweep_reference) \
  X(ising_sweep_msc)       \
  X(ising_sweep_msc_async) \
  X(ising_sweep_swendsen_wang) \
  X(ising_sweep_wolff)     \
  X(ising_sweep_portable)

#define DECLARE(ops) extern const ising_sweeper_ops ops;
ISING_BACKENDS(DECLARE)
#undef DECLARE

/* The instruction-set paths, slowest first (ISING_ISA's values). */
enum { ISA_PORTABLE, ISA_AVX2, ISA_AVX512, N_ISA };
static const char *const isa_names[N_ISA] = {"portable", "avx2", "avx512"};

#define COUNT(ops) +1
#define N_BUILTIN (0 ISING_BACKENDS(COUNT))
#define ADDRESS(ops) &ops,
#ifdef ISING_DISPATCH
#define DECLARE_ISA(ops) extern const ising_sweeper_ops ops##_avx2, ops##_avx512;
ISING_BACKENDS(DECLARE_ISA)
#undef DECLARE_ISA
#define ADDRESS_AVX2(ops) &ops##_avx2,
#define ADDRESS_AVX512(ops) &ops##_avx512,
static const ising_sweeper_ops *const per_isa[N_ISA][N_BUILTIN] = {
    {ISING_BACKENDS(ADDRESS)}, {ISING_BACKENDS(ADDRESS_AVX2)}, {ISING_BACKENDS(ADDRESS_AVX512)}};
#undef ADDRESS_AVX2
#undef ADDRESS_AVX512

/* Whether this CPU (and OS) runs the path: the features its -march level
 * lets the compiler use and its #if conditions test (CMakeLists.txt).  The
 * avx2 path is built for x86-64-v3, whose other features (F16C, LZCNT,
 * MOVBE) every CPU with AVX2, BMI2 and FMA has. */
static int cpu_runs(int isa) {
  __builtin_cpu_init();
  if (isa == ISA_PORTABLE) return 1;
  int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
           __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("fma");
  if (isa == ISA_AVX2) return v3;
  return v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512vbmi") &&
         __builtin_cpu_supports("avx512vbmi2") &&
         __builtin_cpu_supports("avx512vpopcntdq");
}
#else
static const ising_sweeper_ops *const per_isa[1][N_BUILTIN] = {{ISING_BACKENDS(ADDRESS)}};
#endif
#undef ADDRESS

/* The path in use: ISING_ISA's when it names one this build and CPU run,
 * else the best (ising_sweeper_isa_check reports a refused ISING_ISA). */
static int isa_forced(void) {
  const char *v = getenv("ISING_ISA");
  if (!v || !*v) return -1;
  for (int k = 0; k < N_ISA; k++)
    if (strcmp(v, isa_names[k]) == 0) return k;
  return -2;
}

static int isa_in_use(void) {
#ifdef ISING_DISPATCH
  const int f = isa_forced();
  if (f >= 0 && cpu_runs(f)) return f;
  int best = ISA_PORTABLE;
  for (int k = 1; k < N_ISA; k++)
    if (cpu_runs(k)) best = k;
  return best;
#else
  return 0;
#endif
}

int ising_sweeper_isa_check(void) {
  const int rc = ising_cpu_pdep_check();
  if (rc != ISING_OK) return rc;
  const int f = isa_forced();
  if (f == -1) return ISING_OK;
  ISING_CHECK(f >= 0, ISING_ERR_INPUT, "ISING_ISA=%s: must be portable, avx2 or avx512",
              getenv("ISING_ISA"));
#ifdef ISING_DISPATCH
  char runs[64] = "portable";
  for (int k = 1; k < N_ISA; k++)
    if (cpu_runs(k)) snprintf(runs + strlen(runs), sizeof runs - strlen(runs), ", %s", isa_names[k]);
  ISING_CHECK(cpu_runs(f), ISING_ERR_INPUT, "ISING_ISA=%s: this CPU lacks the %s path (it runs %s)",
              isa_names[f], isa_names[f], runs);
  return ISING_OK;
#else
  return ISING_ERR(ISING_ERR_INPUT,
                   "ISING_ISA=%s: this build has one path per kernel (ISING_NATIVE=ON or not "
                   "x86-64); unset ISING_ISA",
                   isa_names[f]);
#endif
}

const char *ising_sweeper_isa(void) { return isa_names[isa_in_use()]; }

#define MAX_ADDED 8
static const ising_sweeper_ops *added[MAX_ADDED];
static int n_added;

/* The i-th backend (its portable table for a built-in one). */
static const ising_sweeper_ops *nth(int i) {
  if (i < N_BUILTIN) return per_isa[0][i];
  return i - N_BUILTIN < n_added ? added[i - N_BUILTIN] : NULL;
}

const ising_sweeper_ops *ising_sweeper_find(const char *name) {
  if (!name) return NULL;
  for (int i = 0; nth(i); i++)
    if (strcmp(nth(i)->name, name) == 0) return i < N_BUILTIN ? per_isa[isa_in_use()][i] : nth(i);
  return NULL;
}

const char *ising_sweeper_names(char *buf, size_t size, int all) {
  int n = 0, k = 0;
  for (int i = 0; nth(i); i++) n += nth(i)->deck == 1 || (all && nth(i)->deck == 0);
  size_t used = 0;
  if (size) buf[0] = '\0';
  for (int i = 0; nth(i) && used < size; i++) {
    if (!(nth(i)->deck == 1 || (all && nth(i)->deck == 0))) continue;
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
  ISING_CALL(ising_sweeper_isa_check());
  if (ising_algorithm_is_cluster(cfg->algorithm)) {
    ISING_CHECK(!ising_config_given(cfg, "montecarlo", "kernel"), ISING_ERR_INPUT,
                "%s: kernel chooses a local-update kernel (metropolis, heatbath); algorithm = %s "
                "has a backend of its own: remove the kernel key",
                kernel_where(cfg, where, sizeof where), ising_algorithm_name(cfg->algorithm));
    const ising_sweeper_ops *ops = ising_sweeper_find(ising_config_backend(cfg));
    ISING_CHECK(ops, ISING_ERR_INTERNAL, "no backend for algorithm %s",
                ising_algorithm_name(cfg->algorithm));
    char aw[320];
    ising_config_where(cfg, "montecarlo", "algorithm", aw, sizeof aw);
    why[0] = '\0';
    if (!ops->check(cfg, why, sizeof why)) return ISING_ERR(ISING_ERR_INPUT, "%s: %s", aw, why);
    return ISING_OK;
  }
  const ising_sweeper_ops *ops = ising_sweeper_find(cfg->kernel);
  if (!ops || ops->deck != 1)
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
  const char *name = ising_config_backend(in->cfg);
  const ising_sweeper_ops *ops = ising_sweeper_find(name);
  ISING_CHECK(ops, ISING_ERR_INPUT, "no update backend named '%s'", name);
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
  for (int k = 0; in->couplings && k < in->n_local; k++)
    ISING_CHECK(ising_couplings_is_uniform(ising_sweeper_couplings(in, in->ids[k])),
                ISING_ERR_INPUT, "%s %s takes uniform couplings only (no [disorder])",
                ising_algorithm_is_cluster(in->cfg->algorithm) ? "algorithm" : "kernel",
                ising_config_backend(in->cfg));
  return ISING_OK;
}
