/*
 * disorder.c -- the couplings of the samples (disorder.h): drawn from the
 * disorder seed on the fly, or read from a file into weight arrays.
 */
#include "ising/disorder.h"

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h5util.h"
#include "ising/error.h"
#include "ising/rng.h"

#define QUANT 0x1p24 /* gaussian weights: units of 2^-24 */
#define TWO_PI 6.283185307179586476925286766559

typedef struct sample_ctx {
  const struct ising_disorder *d;
  int s;
} sample_ctx;

struct ising_disorder {
  int samples, dim;
  int64_t N, L[3];
  ising_rng_key key;
  ising_dis_couplings kind;
  ising_dis_fields fields;
  double dilution;
  int32_t *w, *f;       /* file: [samples][dim][N], [samples][N] (f NULL: no fields) */
  sample_ctx *ctx;      /* [samples] */
  ising_couplings *cpl; /* [samples] */
  int uniform;
  uint64_t checksum;    /* file: ising_disorder_checksum; drawn: 0 */
};

static double gauss(uint32_t o0, uint32_t o1) {
  const double u1 = ((double)o0 + 0.5) * 0x1p-32, u2 = (double)o1 * 0x1p-32;
  return sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2);
}

static int32_t quantise(double g) { return (int32_t)lround(g * QUANT); } /* |g| < 7 */

static int32_t drawn_bond(const void *p, int64_t site, int axis) {
  const sample_ctx *c = p;
  const struct ising_disorder *d = c->d;
  uint32_t o[4];
  ising_rng_block(d->key, (uint64_t)site, (uint32_t)c->s,
                  ising_rng_c3((uint32_t)axis, ISING_RNG_DISORDER_BOND, 0), o);
  if (d->dilution > 0 && (double)o[2] * 0x1p-32 < d->dilution) return 0;
  switch (d->kind) {
    case ISING_DIS_BIMODAL: return o[0] < 0x80000000u ? 1 : -1;
    case ISING_DIS_GAUSSIAN: return quantise(gauss(o[0], o[1]));
    default: return 1;
  }
}

static int32_t drawn_field(const void *p, int64_t site) {
  const sample_ctx *c = p;
  uint32_t o[4];
  ising_rng_block(c->d->key, (uint64_t)site, (uint32_t)c->s,
                  ising_rng_c3(0, ISING_RNG_DISORDER_FIELD, 0), o);
  if (c->d->fields == ISING_FIELDS_BIMODAL) return o[0] < 0x80000000u ? 1 : -1;
  return quantise(gauss(o[0], o[1]));
}

static int32_t file_bond(const void *p, int64_t site, int axis) {
  const sample_ctx *c = p;
  const struct ising_disorder *d = c->d;
  return d->w[((int64_t)c->s * d->dim + axis) * d->N + site];
}

static int32_t file_field(const void *p, int64_t site) {
  const sample_ctx *c = p;
  return c->d->f[(int64_t)c->s * c->d->N + site];
}

/* ------------------------------------------------------------ file */

/* Read dataset `name` of `path` into a new double array, checking its
 * shape: (at least `samples`, rest...) with rank 1 + nrest; only the first
 * `samples` are read. */
static int read_set(hid_t file, const char *path, const char *name, int samples, int nrest,
                    const hsize_t *rest, double **out, int *present) {
  *out = NULL;
  *present = 0;
  htri_t ex = H5Lexists(file, name, H5P_DEFAULT);
  if (ex <= 0) return ISING_OK;
  *present = 1;
  hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
  ISING_CHECK(ds >= 0, ISING_ERR_INPUT, "%s: cannot open %s", path, name);
  hid_t sp = H5Dget_space(ds);
  int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  hsize_t dims[8] = {0};
  if (rank >= 1 && rank <= 8) H5Sget_simple_extent_dims(sp, dims, NULL);
  char want[128];
  int n = snprintf(want, sizeof want, "(samples >= %d", samples);
  for (int i = 0; i < nrest; i++) n += snprintf(want + n, sizeof want - (size_t)n, ", %llu", (unsigned long long)rest[i]);
  snprintf(want + n, sizeof want - (size_t)n, ")");
  int ok = rank == 1 + nrest && dims[0] >= (hsize_t)samples;
  for (int i = 0; ok && i < nrest; i++) ok = dims[1 + i] == rest[i];
  int rc = ISING_OK;
  if (!ok) {
    char got[128] = "";
    int m = 0;
    for (int i = 0; i < rank && i < 8; i++)
      m += snprintf(got + m, sizeof got - (size_t)m, "%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
    rc = ISING_ERR(ISING_ERR_INPUT, "%s: %s has shape (%s); [disorder] needs %s", path, name, got,
                   want);
  }
  size_t count = (size_t)samples;
  for (int i = 0; i < nrest; i++) count *= (size_t)rest[i];
  double *v = NULL;
  if (!rc) {
    v = malloc(count * sizeof *v);
    if (!v) rc = ISING_ERR(ISING_ERR_MEM, "out of memory reading %s", path);
  }
  if (!rc) {
    hsize_t start[8] = {0}, cnt[8];
    cnt[0] = (hsize_t)samples;
    for (int i = 0; i < nrest; i++) cnt[1 + i] = rest[i];
    hid_t mem = H5Screate_simple(1 + nrest, cnt, NULL);
    if (mem < 0 || H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, cnt, NULL) < 0 ||
        H5Dread(ds, H5T_NATIVE_DOUBLE, mem, sp, H5P_DEFAULT, v) < 0)
      rc = ISING_ERR(ISING_ERR_INPUT, "%s: cannot read %s as float64", path, name);
    if (mem >= 0) H5Sclose(mem);
  }
  if (sp >= 0) H5Sclose(sp);
  H5Dclose(ds);
  if (rc) free(v);
  else *out = v;
  return rc;
}

/* Weights of values v[0..n) in the unit `unit` (attribute `attr` of
 * /disorder when present, else inferred); *bimodal when all in {-1,0,1}. */
static int to_weights(hid_t grp, const char *path, const char *name, const char *attr,
                      const double *v, size_t n, int32_t *w, double *unit, int *bimodal) {
  double a = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(v[i]))
      return ISING_ERR(ISING_ERR_INPUT, "%s: %s holds a non-finite value (%g at flat index %zu)",
                       path, name, v[i], i);
    if (fabs(v[i]) > a) a = fabs(v[i]);
  }
  int given = H5Aexists(grp, attr) > 0;
  if (given) {
    ISING_CALL(ising_h5_attr_read(grp, attr, H5T_NATIVE_DOUBLE, 1, unit, path));
    ISING_CHECK(isfinite(*unit) && *unit != 0, ISING_ERR_INPUT,
                "%s: /disorder attribute %s = %g must be finite and not 0", path, attr, *unit);
  } else {
    int two = 1;
    for (size_t i = 0; i < n && two; i++) two = v[i] == 0 || fabs(v[i]) == a;
    *unit = a == 0 ? 1.0 : two ? a : a * 0x1p-24;
  }
  *bimodal = 1;
  for (size_t i = 0; i < n; i++) {
    double x = v[i] / *unit, r = nearbyint(x);
    if (given && !(fabs(x - r) <= 1e-6)) /* unit * w rounded, divided back: within 1e-6 */
      return ISING_ERR(ISING_ERR_INPUT, "%s: %s[flat index %zu] = %.17g is not a multiple of the "
                       "/disorder attribute %s = %.17g", path, name, i, v[i], attr, *unit);
    ISING_CHECK(fabs(r) < 2147483647.0, ISING_ERR_INPUT, "%s: %s[flat index %zu] = %g is more "
                "than 2^31 times the unit %g", path, name, i, v[i], *unit);
    w[i] = (int32_t)r;
    *bimodal &= w[i] >= -1 && w[i] <= 1;
  }
  return ISING_OK;
}

static int read_file(struct ising_disorder *d, const ising_config *cfg, double *J_unit,
                     double *h_unit, int *bimodal) {
  const char *path = cfg->dis_file;
  hid_t file = -1;
  H5E_BEGIN_TRY { file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); } H5E_END_TRY;
  ISING_CHECK(file >= 0, ISING_ERR_INPUT, "[disorder] file = %s: cannot open it as an HDF5 file",
              path);
  hsize_t rest[4];
  int nr = 0;
  rest[nr++] = (hsize_t)d->dim;
  for (int a = d->dim - 1; a >= 0; a--) rest[nr++] = (hsize_t)d->L[a];
  double *J = NULL, *h = NULL;
  int hasJ = 0, hash = 0, rc = ISING_OK;
  H5E_BEGIN_TRY {
    rc = read_set(file, path, "/disorder/J", d->samples, nr, rest, &J, &hasJ);
    if (!rc) rc = read_set(file, path, "/disorder/h", d->samples, nr - 1, rest + 1, &h, &hash);
  } H5E_END_TRY;
  if (!rc && !hasJ)
    rc = ISING_ERR(ISING_ERR_INPUT, "[disorder] file = %s: no dataset /disorder/J (sample, axis, "
                   "[Lz,] Ly, Lx)", path);
  hid_t grp = rc ? -1 : H5Gopen2(file, "/disorder", H5P_DEFAULT);
  const size_t nJ = (size_t)d->samples * (size_t)d->dim * (size_t)d->N;
  if (!rc) {
    d->w = malloc(nJ * sizeof *d->w);
    if (hash) d->f = malloc((size_t)d->samples * (size_t)d->N * sizeof *d->f);
    if (!d->w || (hash && !d->f)) rc = ISING_ERR(ISING_ERR_MEM, "out of memory (couplings)");
  }
  if (!rc) rc = to_weights(grp, path, "/disorder/J", "J_unit", J, nJ, d->w, J_unit, bimodal);
  if (!rc && hash) {
    int b;
    rc = to_weights(grp, path, "/disorder/h", "h_unit", h, (size_t)d->samples * (size_t)d->N,
                    d->f, h_unit, &b);
  }
  free(J);
  free(h);
  if (grp >= 0) H5Gclose(grp);
  H5Fclose(file);
  return rc;
}

/* One step of the checksum: value v at position i, mixed (splitmix64's
 * finaliser) so that a change of any one value changes the sum. */
static uint64_t mix(uint64_t i, uint64_t v) {
  uint64_t x = v + 0x9E3779B97F4A7C15ull * (i + 1);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/* The checksum of the couplings read from a file: shape, units and every
 * weight; never 0. */
static uint64_t file_checksum(const struct ising_disorder *d, double J_unit, double h_unit) {
  uint64_t bits[2], acc = 0, i = 0;
  memcpy(&bits[0], &J_unit, sizeof bits[0]);
  memcpy(&bits[1], &h_unit, sizeof bits[1]);
  const uint64_t head[] = {(uint64_t)d->samples, (uint64_t)d->dim, (uint64_t)d->N, bits[0], bits[1],
                           d->f != NULL};
  for (size_t k = 0; k < sizeof head / sizeof head[0]; k++, i++) acc += mix(i, head[k]);
  const size_t nJ = (size_t)d->samples * (size_t)d->dim * (size_t)d->N;
  for (size_t k = 0; k < nJ; k++, i++) acc += mix(i, (uint64_t)(uint32_t)d->w[k]);
  for (size_t k = 0; d->f && k < (size_t)d->samples * (size_t)d->N; k++, i++)
    acc += mix(i, (uint64_t)(uint32_t)d->f[k]);
  return acc ? acc : 1;
}

/* ------------------------------------------------------------ public */

int ising_disorder_create(const ising_config *cfg, ising_disorder **out) {
  *out = NULL;
  struct ising_disorder *d = calloc(1, sizeof *d);
  ISING_CHECK(d, ISING_ERR_MEM, "out of memory");
  d->samples = cfg->samples > 0 ? cfg->samples : 1;
  d->dim = cfg->dim;
  d->N = ising_config_sites(cfg);
  for (int a = 0; a < 3; a++) d->L[a] = a < cfg->dim ? cfg->L[a] : 1;
  d->key = ising_rng_key_from_seed(cfg->dis_seed);
  d->kind = cfg->dis_couplings;
  d->fields = cfg->dis_fields;
  d->dilution = cfg->bond_dilution;
  d->ctx = calloc((size_t)d->samples, sizeof *d->ctx);
  d->cpl = calloc((size_t)d->samples, sizeof *d->cpl);
  int rc = d->ctx && d->cpl ? ISING_OK : ISING_ERR(ISING_ERR_MEM, "out of memory");
  double J_unit = cfg->J, h_unit = 0;
  int bimodal = 1, file = cfg->disorder && cfg->dis_file[0];
  d->uniform = !cfg->disorder || (!file && d->kind == ISING_DIS_UNIFORM && d->dilution == 0 &&
                                  d->fields == ISING_FIELDS_NONE);
  if (!rc && file) rc = read_file(d, cfg, &J_unit, &h_unit, &bimodal);
  if (!rc && !file) {
    if (d->kind == ISING_DIS_GAUSSIAN) {
      J_unit = fabs(cfg->J) / QUANT;
      bimodal = 0;
    }
    if (d->fields != ISING_FIELDS_NONE)
      h_unit = d->fields == ISING_FIELDS_BIMODAL ? cfg->field_strength : cfg->field_strength / QUANT;
  }
  for (int s = 0; !rc && s < d->samples; s++) {
    ising_couplings *c = &d->cpl[s];
    *c = ising_couplings_uniform(cfg->J, cfg->H);
    if (d->uniform) continue;
    d->ctx[s] = (sample_ctx){d, s};
    c->ctx = &d->ctx[s];
    c->J_unit = J_unit;
    c->h_unit = h_unit;
    c->bimodal = bimodal;
    c->bond = file ? file_bond : drawn_bond;
    if (file ? d->f != NULL : d->fields != ISING_FIELDS_NONE) c->field = file ? file_field : drawn_field;
  }
  if (!rc && file) d->checksum = file_checksum(d, J_unit, h_unit);
  if (rc) {
    ising_disorder_destroy(&d);
    return rc;
  }
  *out = d;
  return ISING_OK;
}

void ising_disorder_destroy(ising_disorder **dp) {
  if (!dp || !*dp) return;
  struct ising_disorder *d = *dp;
  free(d->w);
  free(d->f);
  free(d->ctx);
  free(d->cpl);
  free(d);
  *dp = NULL;
}

int ising_disorder_samples(const ising_disorder *d) { return d->samples; }
const ising_couplings *ising_disorder_couplings(const ising_disorder *d) { return d->cpl; }
int ising_disorder_is_uniform(const ising_disorder *d) { return d->uniform; }
uint64_t ising_disorder_checksum(const ising_disorder *d) { return d->checksum; }

void ising_disorder_arrays(const ising_disorder *d, int s, double *J, double *h) {
  const ising_couplings *c = &d->cpl[s];
  for (int a = 0; a < d->dim; a++)
    for (int64_t i = 0; i < d->N; i++) J[a * d->N + i] = ising_couplings_J(c, i, a);
  if (h)
    for (int64_t i = 0; i < d->N; i++) h[i] = c->field ? c->h_unit * (double)c->field(c->ctx, i) : 0.0;
}
