/*
 * mpi_corr.c -- the correlation module (corr.h) and ising_lattice_export on
 * 1, 2 and 4 ranks (any rank count works; 3 gives uneven blocks).
 *
 * Every rank fills its block from a global pseudo-random pattern of
 * (configuration, global site), so every rank also knows the whole small
 * test lattice and computes the exact answers itself, directly from the
 * definitions in corr.h: S(k) by an O(N^2) DFT over the full k grid, G(r) as
 * the O(N^2) real-space average of s_r' s_r'+r minus <m>^2, their axis and
 * radial bins, xi.  The module must agree to 1e-12 (relative to max(1, |v|))
 * on every decomposition (the default grid, and a hand-made grid with all
 * ranks along x, whose blocks cut across every FFTW slab); its exact
 * observables (S(0), S(k_min), <m>, xi) must be bit-identical to a
 * single-rank module on MPI_COMM_SELF.  With several replica groups
 * (ranks_per_replica 1 and 2) each group measures its own configurations
 * and ising_corr_finish must return the average over all of them.
 * Checkpoint state: the accumulators moved through their layout-independent
 * form onto another layout and group count continue as if never moved.
 * Infinite temperature: for independent random spins S(k) has mean 1 and
 * variance at most 2 (exponential, chi^2_1 where k = -k) and G(r) (r != 0)
 * mean 0, variance at most 2 / N per configuration; over M configurations
 * every k and r must lie within 6 standard errors (an ensemble whose spins
 * are paired along x, G(e_x) = 1/2, must fail the same test: power).
 */
#include <check.h>
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "ising/corr.h"
#include "ising/error.h"
#include "ising/lattice.h"
#include "ising/layout.h"
#include "testutil.h"

#define TPI 3.14159265358979323846264338327950288

static uint64_t mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
/* Spin of global site g in configuration `conf` (bias: P(+1) = 1/2 + b/2). */
static int pattern(uint64_t conf, int64_t g, double bias) {
  double u = (double)(mix(mix(conf * 1000003u + 17u) ^ (uint64_t)g) >> 11) * 0x1p-53;
  return u < 0.5 + 0.5 * bias ? 1 : -1;
}

typedef struct geom {
  int dim;
  int64_t L[3], N;
} geom;

static geom make_geom(int dim, int64_t Lx, int64_t Ly, int64_t Lz) {
  geom g = {dim, {Lx, Ly, dim == 3 ? Lz : 1}, 0};
  g.N = g.L[0] * g.L[1] * g.L[2];
  return g;
}

/* A layout whose grid puts every rank of `comm` along x (blocks normal to
 * x, uneven when P does not divide Lx): the opposite of FFTW's slabs along
 * the slowest axis, so every block meets every slab.  Built by hand as
 * layout.c would (the grid of ising_layout_create never splits x alone). */
static ising_layout *layout_xsplit(MPI_Comm comm, const geom *g) {
  ising_layout *lay = calloc(1, sizeof *lay);
  ck_assert(lay != NULL);
  MPI_Comm_dup(comm, &lay->world);
  MPI_Comm_rank(lay->world, &lay->world_rank);
  MPI_Comm_size(lay->world, &lay->world_size);
  int P = lay->world_size, d = g->dim;
  ck_assert(P <= g->L[0]);
  int dims[3] = {1, 1, 1}, periods[3] = {1, 1, 1}, coords[3] = {0, 0, 0};
  dims[d - 1] = P; /* MPI order: slowest first, so x is last */
  MPI_Cart_create(lay->world, d, dims, periods, 0, &lay->group);
  MPI_Comm_set_errhandler(lay->group, MPI_ERRORS_RETURN);
  MPI_Comm_rank(lay->group, &lay->group_rank);
  MPI_Comm_size(lay->group, &lay->group_size);
  MPI_Cart_coords(lay->group, lay->group_rank, d, coords);
  lay->n_groups = 1;
  lay->dim = d;
  for (int k = 0; k < 3; k++) {
    lay->L[k] = g->L[k];
    lay->procs[k] = k < d ? dims[d - 1 - k] : 1;
    lay->coord[k] = k < d ? coords[d - 1 - k] : 0;
    if (k < d)
      MPI_Cart_shift(lay->group, d - 1 - k, 1, &lay->nbr[k][0], &lay->nbr[k][1]);
    else
      lay->nbr[k][0] = lay->nbr[k][1] = lay->group_rank;
    ising_layout_split(lay->L[k], lay->procs[k], lay->coord[k], &lay->start[k], &lay->n[k]);
  }
  return lay;
}

static ising_layout *layout_groups(MPI_Comm comm, const geom *g, int ranks_per_replica) {
  ising_config cfg;
  ising_config_defaults(&cfg);
  cfg.dim = g->dim;
  for (int k = 0; k < 3; k++) cfg.L[k] = g->L[k];
  ising_layout *lay = NULL;
  ck_assert_msg(ising_layout_create(comm, &cfg, ranks_per_replica, &lay) == ISING_OK, "%s",
                ising_err_message());
  return lay;
}
static ising_layout *layout_on(MPI_Comm comm, const geom *g) { return layout_groups(comm, g, 0); }

/* Whole configuration (every rank) and the block filled from it. */
static void fill(ising_lattice *lat, const geom *g, uint64_t conf, double bias, int *s, int blocky) {
  for (int64_t i = 0; i < g->N; i++) {
    int64_t x = i % g->L[0];
    int64_t src = blocky ? (i - (x & 1)) : i; /* blocky: pairs along x share a spin */
    s[i] = pattern(conf, src, bias);
  }
  int64_t n[3];
  ising_lattice_extent(lat, n, NULL);
  for (int64_t z = 0; z < n[2]; z++)
    for (int64_t y = 0; y < n[1]; y++)
      for (int64_t x = 0; x < n[0]; x++)
        ising_lattice_set(lat, x, y, z, s[ising_lattice_global_index(lat, x, y, z)]);
}

static void coords(const geom *g, int64_t i, int64_t c[3]) {
  c[0] = i % g->L[0];
  c[1] = (i / g->L[0]) % g->L[1];
  c[2] = i / (g->L[0] * g->L[1]);
}
static int64_t mimage(int64_t v, int64_t L) { return v <= L / 2 ? v : L - v; }

/* Direct O(N^2) S(k) over the full grid, k index i = nx + Lx (ny + Ly nz). */
static void direct_S(const geom *g, const int *s, double *S) {
  for (int64_t i = 0; i < g->N; i++) {
    int64_t kn[3];
    coords(g, i, kn);
    double re = 0, im = 0;
    for (int64_t j = 0; j < g->N; j++) {
      int64_t r[3];
      coords(g, j, r);
      double ph = 0;
      for (int k = 0; k < 3; k++) ph += 2.0 * TPI * (double)((kn[k] * r[k]) % g->L[k]) / (double)g->L[k];
      re += s[j] * cos(ph);
      im -= s[j] * sin(ph);
    }
    S[i] = (re * re + im * im) / (double)g->N;
  }
}

/* Direct <s_r' s_r'+r> (translation average), r index like the sites. */
static void direct_C(const geom *g, const int *s, double *C) {
  for (int64_t i = 0; i < g->N; i++) {
    int64_t r[3];
    coords(g, i, r);
    long sum = 0;
    for (int64_t j = 0; j < g->N; j++) {
      int64_t p[3];
      coords(g, j, p);
      int64_t q = (p[0] + r[0]) % g->L[0] + g->L[0] * ((p[1] + r[1]) % g->L[1] + g->L[1] * ((p[2] + r[2]) % g->L[2]));
      sum += s[j] * s[q];
    }
    C[i] = (double)sum / (double)g->N;
  }
}

static void close_to(double got, double want, const char *what, long i) {
  double tol = 1e-12 * (fabs(want) > 1 ? fabs(want) : 1);
  ck_assert_msg(fabs(got - want) <= tol || (isnan(got) && isnan(want)),
                "%s[%ld]: module %.17g, direct %.17g", what, i, got, want);
}

/* ------------------------------------------------------------ export */

static void check_export(const geom *g, int xsplit) {
  ising_layout *lay = xsplit ? layout_xsplit(MPI_COMM_WORLD, g) : layout_on(MPI_COMM_WORLD, g);
  ising_lattice *lat = NULL;
  ck_assert_int_eq(ising_lattice_create(lay, &lat), ISING_OK);
  int *s = malloc((size_t)g->N * sizeof *s);
  fill(lat, g, 99, 0.0, s, 0);
  int64_t n[3];
  ising_lattice_extent(lat, n, NULL);
  double *out = malloc((size_t)(n[0] * n[1] * n[2]) * sizeof *out);
  ising_lattice_export(lat, out);
  for (int64_t z = 0; z < n[2]; z++)
    for (int64_t y = 0; y < n[1]; y++)
      for (int64_t x = 0; x < n[0]; x++)
        ck_assert_msg(out[x + n[0] * (y + n[1] * z)] == (double)ising_lattice_get(lat, x, y, z),
                      "export %dD %lldx%lldx%lld at local (%lld,%lld,%lld)", g->dim, (long long)g->L[0],
                      (long long)g->L[1], (long long)g->L[2], (long long)x, (long long)y, (long long)z);
  free(out);
  free(s);
  ising_lattice_destroy(&lat);
  ising_layout_destroy(&lay);
}

START_TEST(export_natural_order) {
  geom gs[] = {make_geom(2, 8, 8, 1), make_geom(2, 10, 6, 1), make_geom(2, 2, 8, 1),
               make_geom(3, 4, 4, 4), make_geom(3, 6, 10, 6), make_geom(3, 6, 4, 8)};
  for (size_t i = 0; i < sizeof gs / sizeof gs[0]; i++) {
    check_export(&gs[i], 0);
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size <= gs[i].L[0]) check_export(&gs[i], 1);
  }
}
END_TEST

/* ---------------------------------------------------- direct comparison */

/* Measure configurations conf0 .. conf0 + nconf - 1 into accumulator `acc`
 * of the world module and of a single-rank module (MPI_COMM_SELF), the
 * first nfull with ising_corr_measure, the rest with
 * ising_corr_measure_kmin; check the per-measurement values against the
 * direct ones (and bitwise against the single-rank module); return the
 * direct averages: S (full grid) and C over the first nfull, m, S(0),
 * S(k_min,a) over all. */
typedef struct direct_avg {
  double *S, *C, m, S0, Sk[3];
} direct_avg;

static void measure_set(const geom *g, ising_corr *cw, ising_lattice *lw, ising_corr *cs,
                        ising_lattice *ls, int acc, uint64_t conf0, int nconf, int nfull,
                        direct_avg *dav) {
  int *s = malloc((size_t)g->N * sizeof *s);
  double *S = malloc((size_t)g->N * sizeof *S), *C = malloc((size_t)g->N * sizeof *C);
  dav->S = calloc((size_t)g->N, sizeof *dav->S);
  dav->C = calloc((size_t)g->N, sizeof *dav->C);
  dav->m = dav->S0 = 0;
  for (int k = 0; k < 3; k++) dav->Sk[k] = 0;
  for (int t = 0; t < nconf; t++) {
    double bias = 0.6 * (double)t / (double)nconf - 0.2; /* nonzero <m> */
    fill(lw, g, conf0 + (uint64_t)t, bias, s, 0);
    fill(ls, g, conf0 + (uint64_t)t, bias, s, 0);
    double S0w, Skw, S0s, Sks;
    int (*meas)(ising_corr *, const ising_lattice *, int, double *, double *) =
        t < nfull ? ising_corr_measure : ising_corr_measure_kmin;
    ck_assert_msg(meas(cw, lw, acc, &S0w, &Skw) == ISING_OK, "%s", ising_err_message());
    ck_assert_msg(meas(cs, ls, acc, &S0s, &Sks) == ISING_OK, "%s", ising_err_message());
    direct_S(g, s, S);
    direct_C(g, s, C);
    long M = 0;
    for (int64_t i = 0; i < g->N; i++) M += s[i];
    double sk = 0;
    int64_t ax[3] = {1, g->L[0], g->L[0] * g->L[1]};
    for (int k = 0; k < g->dim; k++) {
      dav->Sk[k] += S[ax[k]];
      sk += S[ax[k]] / g->dim;
    }
    close_to(S0w, S[0], "S0 per measurement", t);
    close_to(Skw, sk, "S(k_min) per measurement", t);
    ck_assert_msg(S0w == S0s && Skw == Sks, "S(0), S(k_min) differ from the single-rank module's bits");
    for (int64_t i = 0; i < g->N && t < nfull; i++) {
      dav->S[i] += S[i];
      dav->C[i] += C[i];
    }
    dav->m += (double)M / (double)g->N;
    dav->S0 += S[0];
  }
  for (int64_t i = 0; i < g->N && nfull > 0; i++) {
    dav->S[i] /= nfull;
    dav->C[i] /= nfull;
  }
  dav->m /= nconf;
  dav->S0 /= nconf;
  for (int k = 0; k < g->dim; k++) dav->Sk[k] /= nconf;
  free(s);
  free(S);
  free(C);
}

/* Check a finished result against the direct averages (and, for the exact
 * observables, bitwise against the single-rank result rs). */
static void check_result(const geom *g, const ising_corr_result *r, const ising_corr_result *rs,
                         const direct_avg *dav, int nconf, int nfull, int ngroups) {
  const int d = g->dim;
  ck_assert_int_eq(r->n_meas, nfull);
  ck_assert_int_eq(r->n_kmin, nconf);
  close_to(r->m_mean, dav->m, "m_mean", 0);
  close_to(r->S0, dav->S0, "S0", 0);
  double skm = 0;
  for (int k = 0; k < d; k++) {
    close_to(r->Skmin_axis[k], dav->Sk[k], "Skmin_axis", k);
    skm += dav->Sk[k] / d;
  }
  close_to(r->Skmin, skm, "Skmin", 0);
  int equal = 1;
  double xs = 0;
  for (int k = 0; k < d; k++) {
    double xa = sqrt(dav->S0 / dav->Sk[k] - 1) / (2 * sin(TPI / g->L[k]));
    close_to(r->xi_axis[k], xa, "xi_axis", k);
    xs += xa / d;
    equal = equal && g->L[k] == g->L[0];
  }
  close_to(r->xi, equal ? sqrt(dav->S0 / skm - 1) / (2 * sin(TPI / g->L[0])) : xs, "xi", 0);
  /* bitwise: exact observables on any decomposition (one group) */
  if (rs) {
    ck_assert(r->m_mean == rs->m_mean && r->S0 == rs->S0 && r->Skmin == rs->Skmin);
    ck_assert((r->xi == rs->xi) || (isnan(r->xi) && isnan(rs->xi)));
  }

  /* the S(k) slab */
  ck_assert_int_eq(r->sk_rank, d);
  ck_assert_int_eq(r->sk_dims[d - 1], g->L[0] / 2 + 1);
  ck_assert_int_eq(r->sk_dims[0], g->L[d - 1]);
  int64_t total = r->sk_count[0];
  MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  ck_assert_int_eq(total, ngroups * g->L[d - 1]); /* each group holds all of S(k) */
  int64_t j = 0;
  for (int64_t i0 = 0; i0 < r->sk_count[0]; i0++)
    for (int64_t i1 = 0; i1 < (d == 3 ? r->sk_count[1] : 1); i1++)
      for (int64_t i2 = 0; i2 < r->sk_count[d - 1]; i2++, j++) {
        /* the module returns S(k) averaged with its reflection along the
         * slowest axis (corr.h): compare with the direct mean of the two */
        int64_t slow = r->sk_start[0] + i0, Ls = g->L[d - 1], flip = (Ls - slow) % Ls;
        int64_t idx = d == 3 ? i2 + g->L[0] * (i1 + g->L[1] * slow) : i2 + g->L[0] * slow;
        int64_t ref = d == 3 ? i2 + g->L[0] * (i1 + g->L[1] * flip) : i2 + g->L[0] * flip;
        close_to(r->sk[j], 0.5 * (dav->S[idx] + dav->S[ref]), "S(k) slab", (long)idx);
      }

  /* axes */
  double G0 = dav->C[0] - dav->m * dav->m;
  int64_t ax[3] = {1, g->L[0], g->L[0] * g->L[1]};
  for (int k = 0; k < d; k++) {
    ck_assert_int_eq(r->n_axis[k], g->L[k] / 2 + 1);
    for (int64_t n = 0; n < r->n_axis[k]; n++) {
      close_to(r->S_axis[k][n], dav->S[n * ax[k]], "S_axis", (long)(100 * k + n));
      close_to(r->G_axis[k][n], dav->C[n * ax[k]] - dav->m * dav->m, "G_axis", (long)(100 * k + n));
    }
  }
  close_to(r->G_axis[0][0], G0, "G(0)", 0);
  int64_t Lmin = g->L[0], Lmax = g->L[0];
  for (int k = 1; k < d; k++) {
    if (g->L[k] < Lmin) Lmin = g->L[k];
    if (g->L[k] > Lmax) Lmax = g->L[k];
  }
  ck_assert_int_eq(r->n_axis_avg, Lmin / 2 + 1);
  for (int64_t n = 0; n < r->n_axis_avg; n++) {
    double sa = 0, ga = 0;
    for (int k = 0; k < d; k++) sa += dav->S[n * ax[k]] / d, ga += (dav->C[n * ax[k]] - dav->m * dav->m) / d;
    close_to(r->S_axis_avg[n], sa, "S_axis_avg", (long)n);
    close_to(r->G_axis_avg[n], ga, "G_axis_avg", (long)n);
  }

  /* radial bins over the full grids, as corr.h defines them */
  double dk = 2 * TPI / (double)Lmax;
  int64_t nkb = (int64_t)floor(TPI * sqrt((double)d) / dk + 0.5) + 1, nrb = Lmin / 2 + 1;
  ck_assert_int_eq(r->n_kbins, nkb);
  ck_assert_int_eq(r->n_rbins, nrb);
  double *kb = calloc((size_t)(3 * nkb), sizeof *kb), *rb = calloc((size_t)(3 * nrb), sizeof *rb);
  for (int64_t i = 0; i < g->N; i++) {
    int64_t c[3];
    coords(g, i, c);
    double k2 = 0, r2 = 0;
    for (int k = 0; k < d; k++) {
      double kk = 2 * TPI * (double)mimage(c[k], g->L[k]) / (double)g->L[k];
      k2 += kk * kk;
      r2 += (double)(mimage(c[k], g->L[k]) * mimage(c[k], g->L[k]));
    }
    int64_t b = (int64_t)floor(sqrt(k2) / dk + 0.5);
    ck_assert(b < nkb);
    kb[3 * b] += sqrt(k2), kb[3 * b + 1] += dav->S[i], kb[3 * b + 2] += 1;
    b = (int64_t)floor(sqrt(r2) + 0.5);
    if (b < nrb) rb[3 * b] += sqrt(r2), rb[3 * b + 1] += dav->C[i] - dav->m * dav->m, rb[3 * b + 2] += 1;
  }
  for (int64_t b = 0; b < nkb; b++) {
    ck_assert_int_eq(r->k_count[b], (int64_t)kb[3 * b + 2]);
    if (kb[3 * b + 2] == 0) {
      ck_assert(isnan(r->S_radial[b]) && isnan(r->k_radial[b]));
      continue;
    }
    close_to(r->k_radial[b], kb[3 * b] / kb[3 * b + 2], "k_radial", (long)b);
    close_to(r->S_radial[b], kb[3 * b + 1] / kb[3 * b + 2], "S_radial", (long)b);
  }
  for (int64_t b = 0; b < nrb; b++) {
    ck_assert_int_eq(r->r_count[b], (int64_t)rb[3 * b + 2]);
    if (rb[3 * b + 2] == 0) continue;
    close_to(r->r_radial[b], rb[3 * b] / rb[3 * b + 2], "r_radial", (long)b);
    close_to(r->G_radial[b], rb[3 * b + 1] / rb[3 * b + 2], "G_radial", (long)b);
  }
  free(kb);
  free(rb);
}

static void check_direct(const geom *g, int estimate, int xsplit) {
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (xsplit && size > g->L[0]) return; /* more ranks than x planes */
  ising_layout *lw = xsplit ? layout_xsplit(MPI_COMM_WORLD, g) : layout_on(MPI_COMM_WORLD, g);
  ising_layout *ls = layout_on(MPI_COMM_SELF, g);
  ising_lattice *latw = NULL, *lats = NULL;
  ck_assert_int_eq(ising_lattice_create(lw, &latw), ISING_OK);
  ck_assert_int_eq(ising_lattice_create(ls, &lats), ISING_OK);
  ising_corr *cw = NULL, *cs = NULL;
  ck_assert_msg(ising_corr_create(lw, 2, estimate, &cw) == ISING_OK, "%s", ising_err_message());
  ck_assert_msg(ising_corr_create(ls, 2, estimate, &cs) == ISING_OK, "%s", ising_err_message());
  ck_assert(ising_corr_bytes(cw) > 0);
  /* two accumulators: they must not mix; acc 0 also has two
   * measurements of S(0), S(k_min) only */
  direct_avg d0, d1;
  measure_set(g, cw, latw, cs, lats, 1, 1000, 2, 2, &d1);
  measure_set(g, cw, latw, cs, lats, 0, 2000, 5, 3, &d0);
  int64_t nf;
  ck_assert_int_eq(ising_corr_count(cw, 0, &nf), 5);
  ck_assert_int_eq(nf, 3);
  ck_assert_int_eq(ising_corr_count(cw, 1, &nf), 2);
  ck_assert_int_eq(nf, 2);
  for (int acc = 0; acc < 2; acc++) {
    ising_corr_result rw, rs;
    ck_assert_msg(ising_corr_finish(cw, acc, &rw) == ISING_OK, "%s", ising_err_message());
    ck_assert_msg(ising_corr_finish(cs, acc, &rs) == ISING_OK, "%s", ising_err_message());
    check_result(g, &rw, &rs, acc ? &d1 : &d0, acc ? 2 : 5, acc ? 2 : 3, 1);
    ising_corr_result_free(&rw);
    ising_corr_result_free(&rs);
  }
  /* finishing leaves the accumulator usable: one more measurement */
  direct_avg d2;
  measure_set(g, cw, latw, cs, lats, 1, 1002, 1, 1, &d2);
  ck_assert_int_eq(ising_corr_count(cw, 1, NULL), 3);
  free(d0.S), free(d0.C), free(d1.S), free(d1.C), free(d2.S), free(d2.C);
  ising_corr_destroy(&cw);
  ising_corr_destroy(&cs);
  ck_assert(cw == NULL);
  ising_lattice_destroy(&latw);
  ising_lattice_destroy(&lats);
  ising_layout_destroy(&lw);
  ising_layout_destroy(&ls);
}

/* The default grid (MPI_Dims_create, slowest axis first), and all ranks
 * along x (uneven blocks of 2 and 1 sites for 6 sites on 4 ranks). */
START_TEST(direct_2d_8x8) {
  check_direct((geom[]){make_geom(2, 8, 8, 1)}, 0, 0);
  check_direct((geom[]){make_geom(2, 8, 8, 1)}, 1, 1);
}
END_TEST
START_TEST(direct_2d_8x6) {
  check_direct((geom[]){make_geom(2, 8, 6, 1)}, 1, 0);
  check_direct((geom[]){make_geom(2, 8, 6, 1)}, 1, 1);
}
END_TEST
START_TEST(direct_2d_odd_blocks) {
  check_direct((geom[]){make_geom(2, 10, 6, 1)}, 1, 0);
  check_direct((geom[]){make_geom(2, 6, 10, 1)}, 1, 1);
  check_direct((geom[]){make_geom(2, 2, 8, 1)}, 1, 0);
}
END_TEST
START_TEST(direct_3d_4x4x4) {
  check_direct((geom[]){make_geom(3, 4, 4, 4)}, 0, 0);
  check_direct((geom[]){make_geom(3, 4, 4, 4)}, 1, 1);
}
END_TEST
START_TEST(direct_3d_6x4x8) {
  check_direct((geom[]){make_geom(3, 6, 4, 8)}, 1, 0);
  check_direct((geom[]){make_geom(3, 6, 4, 8)}, 1, 1);
}
END_TEST
START_TEST(direct_3d_odd_blocks) {
  check_direct((geom[]){make_geom(3, 6, 10, 6)}, 1, 0);
  check_direct((geom[]){make_geom(3, 6, 10, 6)}, 1, 1);
}
END_TEST

/* ------------------------------------------------ several replica groups */

/* Groups of `rpr` ranks each measure their own configurations into one
 * accumulator (two FFT measurements and one S(0), S(k_min) measurement per
 * group); ising_corr_finish (collective over the world) must return the
 * average over all groups' configurations on every rank. */
static void check_groups(const geom *g, int rpr) {
  ising_layout *lay = layout_groups(MPI_COMM_WORLD, g, rpr);
  ising_lattice *lat = NULL;
  ck_assert_int_eq(ising_lattice_create(lay, &lat), ISING_OK);
  ising_corr *c = NULL;
  ck_assert_msg(ising_corr_create(lay, 2, 1, &c) == ISING_OK, "%s", ising_err_message());
  const int G = lay->n_groups, nper = 3, nfull = 2;
  int *s = malloc((size_t)g->N * sizeof *s);
  double *S = malloc((size_t)g->N * sizeof *S), *C = malloc((size_t)g->N * sizeof *C);
  direct_avg dav = {calloc((size_t)g->N, sizeof(double)), calloc((size_t)g->N, sizeof(double)), 0, 0, {0, 0, 0}};
  int64_t ax[3] = {1, g->L[0], g->L[0] * g->L[1]};
  for (int t = 0; t < nper; t++)
    for (int grp = 0; grp < G; grp++) {
      uint64_t conf = 5000 + (uint64_t)(t * G + grp);
      fill(lat, g, conf, 0.3, s, 0); /* every rank knows every configuration */
      direct_S(g, s, S);
      direct_C(g, s, C);
      long M = 0;
      for (int64_t i = 0; i < g->N; i++) M += s[i];
      for (int64_t i = 0; i < g->N && t < nfull; i++) dav.S[i] += S[i] / (G * nfull), dav.C[i] += C[i] / (G * nfull);
      dav.m += (double)M / (double)g->N / (G * nper);
      dav.S0 += S[0] / (G * nper);
      for (int k = 0; k < g->dim; k++) dav.Sk[k] += S[ax[k]] / (G * nper);
      if (grp != lay->group_index) continue;
      double S0, Sk;
      int rc = t < nfull ? ising_corr_measure(c, lat, 1, &S0, &Sk) : ising_corr_measure_kmin(c, lat, 1, &S0, &Sk);
      ck_assert_msg(rc == ISING_OK, "%s", ising_err_message());
      close_to(S0, S[0], "S0 per measurement (groups)", t);
    }
  ck_assert_int_eq(ising_corr_count(c, 1, NULL), nper);
  ising_corr_result r;
  ck_assert_msg(ising_corr_finish(c, 1, &r) == ISING_OK, "%s", ising_err_message());
  check_result(g, &r, NULL, &dav, G * nper, G * nfull, G);
  ising_corr_result_free(&r);
  /* accumulator 0 was never measured by any group */
  ck_assert_int_eq(ising_corr_finish(c, 0, &r), ISING_ERR_INPUT);
  ising_corr_result_free(&r);
  ising_err_clear();
  free(dav.S), free(dav.C), free(s), free(S), free(C);
  ising_corr_destroy(&c);
  ising_lattice_destroy(&lat);
  ising_layout_destroy(&lay);
}

START_TEST(replica_groups_pooled) {
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  check_groups((geom[]){make_geom(2, 8, 6, 1)}, 1); /* one rank per group */
  check_groups((geom[]){make_geom(3, 4, 6, 4)}, 1);
  if (size % 2 == 0) check_groups((geom[]){make_geom(2, 8, 6, 1)}, 2);
}
END_TEST

/* ------------------------------------------------- checkpoint state */

/* The whole global spectrum-sum array of accumulator `acc` on every rank
 * (test only: gathered from the ranks of group 0, which hold the pooled
 * rows after ising_corr_state_get). */
static double *gather_state(ising_corr *c, const ising_layout *lay, int acc, double *exact) {
  ising_corr_layout l;
  ising_corr_state_layout(c, &l);
  const int64_t row = l.dims[1] * l.dims[2], total = l.dims[0] * row;
  double *mine = malloc((size_t)(l.local > 0 ? l.local : 1) * sizeof *mine);
  double *all = calloc((size_t)total, sizeof *all);
  ck_assert(mine && all);
  ck_assert_msg(ising_corr_state_get(c, acc, exact, mine) == ISING_OK, "%s", ising_err_message());
  if (l.writer)
    for (int64_t j = 0; j < l.local; j++) all[l.row0 * row + j] = mine[j];
  MPI_Allreduce(MPI_IN_PLACE, all, (int)total, MPI_DOUBLE, MPI_SUM, lay->world);
  free(mine);
  return all;
}

/* Measure configurations 0 .. n1-1 on one layout, move the state through
 * the layout-independent arrays (as a checkpoint does) onto a layout with
 * another slab split and `rpr` ranks per replica group, measure n1 .. n-1
 * there (group 0): the result must equal measuring all n on the first
 * layout, the exact observables bit for bit. */
static void check_state(const geom *g, int rpr) {
  ising_layout *la = layout_on(MPI_COMM_WORLD, g), *lb = layout_groups(MPI_COMM_WORLD, g, rpr);
  ising_lattice *lta = NULL, *ltb = NULL;
  ck_assert_int_eq(ising_lattice_create(la, &lta), ISING_OK);
  ck_assert_int_eq(ising_lattice_create(lb, &ltb), ISING_OK);
  ising_corr *ca = NULL, *cb = NULL, *cr = NULL;
  ck_assert_int_eq(ising_corr_create(la, 2, 1, &ca), ISING_OK);
  ck_assert_int_eq(ising_corr_create(lb, 2, 1, &cb), ISING_OK);
  ck_assert_int_eq(ising_corr_create(la, 2, 1, &cr), ISING_OK);
  const int n1 = 3, n = 6;
  int *s = malloc((size_t)g->N * sizeof *s);
  for (int t = 0; t < n; t++) {
    fill(lta, g, 7000 + (uint64_t)t, 0.2, s, 0);
    int full = t != 1; /* one S(0), S(k_min)-only measurement in the first part */
    ck_assert_int_eq((full ? ising_corr_measure : ising_corr_measure_kmin)(cr, lta, 1, NULL, NULL), ISING_OK);
    if (t < n1) ck_assert_int_eq((full ? ising_corr_measure : ising_corr_measure_kmin)(ca, lta, 1, NULL, NULL), ISING_OK);
    if (t == n1 - 1) { /* the "checkpoint": a -> global arrays -> b */
      ising_corr_layout l;
      ising_corr_state_layout(cb, &l);
      for (int acc = 0; acc < 2; acc++) {
        double exact[ISING_CORR_NEXACT];
        double *all = gather_state(ca, la, acc, exact);
        ck_assert_int_eq(exact[0], acc == 1 ? n1 : 0);
        ck_assert_int_eq(exact[1], acc == 1 ? n1 - 1 : 0);
        const int64_t row = l.dims[1] * l.dims[2];
        ck_assert_int_eq(ising_corr_state_set(cb, acc, exact, all + l.row0 * row), ISING_OK);
        free(all);
      }
    }
    if (t >= n1) {
      fill(ltb, g, 7000 + (uint64_t)t, 0.2, s, 0);
      if (lb->group_index == 0) ck_assert_int_eq(ising_corr_measure(cb, ltb, 1, NULL, NULL), ISING_OK);
    }
  }
  ising_corr_result rb, rr;
  ck_assert_msg(ising_corr_finish(cb, 1, &rb) == ISING_OK, "%s", ising_err_message());
  ck_assert_msg(ising_corr_finish(cr, 1, &rr) == ISING_OK, "%s", ising_err_message());
  ck_assert_int_eq(rb.n_meas, n - 1);
  ck_assert_int_eq(rb.n_kmin, n);
  ck_assert_msg(rb.m_mean == rr.m_mean && rb.S0 == rr.S0 && rb.Skmin == rr.Skmin &&
                    (rb.xi == rr.xi || (isnan(rb.xi) && isnan(rr.xi))),
                "exact observables differ after moving the state: m %.17g %.17g S0 %.17g %.17g Skmin "
                "%.17g %.17g xi %.17g %.17g", rb.m_mean, rr.m_mean, rb.S0, rr.S0, rb.Skmin, rr.Skmin, rb.xi, rr.xi);
  for (int64_t i = 0; i < rr.n_axis_avg; i++) {
    close_to(rb.S_axis_avg[i], rr.S_axis_avg[i], "S_axis_avg after the move", (long)i);
    close_to(rb.G_axis_avg[i], rr.G_axis_avg[i], "G_axis_avg after the move", (long)i);
  }
  for (int64_t b = 0; b < rr.n_kbins; b++)
    if (rr.k_count[b]) close_to(rb.S_radial[b], rr.S_radial[b], "S_radial after the move", (long)b);
  for (int64_t b = 0; b < rr.n_rbins; b++)
    if (rr.r_count[b]) close_to(rb.G_radial[b], rr.G_radial[b], "G_radial after the move", (long)b);
  /* accumulator 0 stayed empty */
  ck_assert_int_eq(ising_corr_count(cb, 0, NULL), 0);
  /* a stored state with impossible counts is refused */
  double badx[ISING_CORR_NEXACT] = {2, 3, 0, 0, 0, 0, 0};
  ck_assert_int_eq(ising_corr_state_set(cb, 0, badx, NULL), ISING_ERR_INPUT);
  ising_err_clear();
  ising_corr_result_free(&rb);
  ising_corr_result_free(&rr);
  free(s);
  ising_corr_destroy(&ca), ising_corr_destroy(&cb), ising_corr_destroy(&cr);
  ising_lattice_destroy(&lta), ising_lattice_destroy(&ltb);
  ising_layout_destroy(&la), ising_layout_destroy(&lb);
}

START_TEST(state_moves_between_layouts) {
  int size;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  check_state((geom[]){make_geom(2, 8, 6, 1)}, 1); /* P groups of one rank */
  check_state((geom[]){make_geom(3, 4, 6, 4)}, 1);
  if (size % 2 == 0) check_state((geom[]){make_geom(2, 8, 6, 1)}, 2);
}
END_TEST

/* ------------------------------------------------- infinite temperature */

/* Number of k points (of the half spectrum slab) and r points outside 6
 * standard errors for M configurations of ensemble `blocky`. */
static void infinite_T(const geom *g, int M, int blocky, int64_t *kout, int64_t *rout) {
  ising_layout *lay = layout_on(MPI_COMM_WORLD, g);
  ising_lattice *lat = NULL;
  ck_assert_int_eq(ising_lattice_create(lay, &lat), ISING_OK);
  ising_corr *c = NULL;
  ck_assert_int_eq(ising_corr_create(lay, 1, 1, &c), ISING_OK);
  int *s = malloc((size_t)g->N * sizeof *s);
  for (int t = 0; t < M; t++) {
    fill(lat, g, 77000 + (uint64_t)t, 0.0, s, blocky);
    ck_assert_int_eq(ising_corr_measure(c, lat, 0, NULL, NULL), ISING_OK);
  }
  ising_corr_result r;
  ck_assert_msg(ising_corr_finish(c, 0, &r) == ISING_OK, "%s", ising_err_message());
  double ek = 6 * sqrt(2.0 / M), er = 6 * sqrt(2.0 / ((double)g->N * M));
  int64_t nk = 0, nr = 0;
  for (int64_t j = 0; j < r.sk_count[0] * (g->dim == 3 ? r.sk_count[1] : 1) * r.sk_count[g->dim - 1]; j++)
    nk += fabs(r.sk[j] - 1.0) > ek;
  /* G on the axes and in the radial bins: delta(r) */
  close_to(r.G_axis[0][0], 1.0 - r.m_mean * r.m_mean, "G(0) at T = inf", 0);
  for (int k = 0; k < g->dim; k++)
    for (int64_t n = 1; n < r.n_axis[k]; n++) nr += fabs(r.G_axis[k][n]) > er;
  for (int64_t b = 1; b < r.n_rbins; b++) nr += fabs(r.G_radial[b]) > er;
  for (int64_t b = 0; b < r.n_kbins; b++)
    if (r.k_count[b] > 0) nk += fabs(r.S_radial[b] - 1.0) > ek;
  MPI_Allreduce(MPI_IN_PLACE, &nk, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  *kout = nk;
  *rout = nr;
  ising_corr_result_free(&r);
  free(s);
  ising_corr_destroy(&c);
  ising_lattice_destroy(&lat);
  ising_layout_destroy(&lay);
}

START_TEST(infinite_temperature) {
  geom gs[] = {make_geom(2, 16, 16, 1), make_geom(3, 6, 6, 8)};
  for (int i = 0; i < 2; i++) {
    int64_t nk, nr;
    infinite_T(&gs[i], 400, 0, &nk, &nr);
    ck_assert_msg(nk == 0 && nr == 0, "%dD: %lld S(k) and %lld G(r) values beyond 6 sigma", gs[i].dim,
                  (long long)nk, (long long)nr);
    /* power: spins paired along x are correlated, G(e_x) = 1/2 */
    infinite_T(&gs[i], 400, 1, &nk, &nr);
    ck_assert_msg(nk > 0 && nr > 0, "%dD: the correlated ensemble passed the T = inf test", gs[i].dim);
  }
}
END_TEST

/* ------------------------------------------------------------ bad input */

START_TEST(bad_input) {
  geom g = make_geom(2, 8, 8, 1);
  ising_layout *lay = layout_on(MPI_COMM_WORLD, &g);
  ising_corr *c = (ising_corr *)&g; /* must be nulled */
  ck_assert_int_eq(ising_corr_create(lay, 0, 1, &c), ISING_ERR_INPUT);
  ck_assert(c == NULL);
  ising_err_clear();
  ck_assert_int_eq(ising_corr_create(lay, -3, 1, &c), ISING_ERR_INPUT);
  ising_err_clear();
  ck_assert_int_eq(ising_corr_create(lay, 3, 1, &c), ISING_OK);
  ising_lattice *lat = NULL;
  ck_assert_int_eq(ising_lattice_create(lay, &lat), ISING_OK);
  ising_lattice_fill_cold(lat, 1);
  ck_assert_int_eq(ising_corr_measure(c, lat, 3, NULL, NULL), ISING_ERR_INPUT);
  ising_err_clear();
  ck_assert_int_eq(ising_corr_measure(c, lat, -1, NULL, NULL), ISING_ERR_INPUT);
  ising_err_clear();
  ising_corr_result r;
  ck_assert_int_eq(ising_corr_finish(c, 3, &r), ISING_ERR_INPUT);
  ising_corr_result_free(&r);
  ising_err_clear();
  ck_assert_int_eq(ising_corr_measure_kmin(c, lat, 3, NULL, NULL), ISING_ERR_INPUT);
  ising_err_clear();
  ck_assert_int_eq(ising_corr_finish(c, 0, &r), ISING_ERR_INPUT); /* no measurement yet */
  ck_assert(strstr(ising_err_message(), "no measurements") != NULL);
  ising_corr_result_free(&r);
  ising_err_clear();
  ck_assert_int_eq(ising_corr_measure_kmin(c, lat, 1, NULL, NULL), ISING_OK);
  ck_assert_int_eq(ising_corr_finish(c, 1, &r), ISING_ERR_INPUT); /* no FFT measurement */
  ising_corr_result_free(&r);
  ising_err_clear();
  /* a cold configuration: S(0) = N, S(k != 0) = 0, G = 0 (connected) */
  double S0, Sk;
  ck_assert_int_eq(ising_corr_measure(c, lat, 2, &S0, &Sk), ISING_OK);
  ck_assert(S0 == 64.0 && fabs(Sk) < 1e-12);
  ck_assert_int_eq(ising_corr_finish(c, 2, &r), ISING_OK);
  ck_assert(r.m_mean == 1.0 && fabs(r.G_axis[0][1]) < 1e-12 && r.xi > 1e6);
  ising_corr_result_free(&r);
  ising_corr_destroy(&c);
  ising_corr_destroy(&c); /* NULL is fine */
  ising_corr_destroy(NULL);
  ising_lattice_destroy(&lat);
  ising_layout_destroy(&lay);
}
END_TEST

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  ising_corr_global_init();
  Suite *s = suite_create("corr");
  TCase *tc = tcase_create("corr");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, export_natural_order);
  tcase_add_test(tc, direct_2d_8x8);
  tcase_add_test(tc, direct_2d_8x6);
  tcase_add_test(tc, direct_2d_odd_blocks);
  tcase_add_test(tc, direct_3d_4x4x4);
  tcase_add_test(tc, direct_3d_6x4x8);
  tcase_add_test(tc, direct_3d_odd_blocks);
  tcase_add_test(tc, replica_groups_pooled);
  tcase_add_test(tc, state_moves_between_layouts);
  tcase_add_test(tc, infinite_temperature);
  tcase_add_test(tc, bad_input);
  suite_add_tcase(s, tc);
  int rc = ising_test_run_suite(s);
  MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  ising_corr_global_finalize();
  MPI_Finalize();
  return rc;
}
