/*
 * varmf.c -- the inhomogeneous mean-field fixed point and its GBF bound
 * (see varmf.h).  The field lives in natural order with one-site halos
 * (doubles: the spin lattice's int8 colour-split storage does not fit); its
 * faces are exchanged through the halo module (halo.h), one colour after
 * its update, like the spins after a half sweep.
 */
#include "ising/varmf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"
#include "ising/halo.h"

typedef struct field {
  const ising_layout *lay;
  int64_t n[3], s[3]; /* block extent and global start (n[2] = 1 in 2D) */
  int64_t X, Y, Z;    /* storage extents with halos (Z = 1 in 2D) */
  int zh;
  double *m;
  ising_halo *halo;
} field;

static inline int64_t at(const field *f, int64_t x, int64_t y, int64_t z) {
  return (x + 1) + f->X * ((y + 1) + f->Y * (z + f->zh));
}

static int colour_of(const field *f, int64_t x, int64_t y, int64_t z) {
  return (int)((f->s[0] + x + f->s[1] + y + (f->zh ? f->s[2] + z : 0)) & 1);
}

/* The faces (halo.h), in element offsets from f->m: layer p[k] = l of axis
 * k (interior 0 or n - 1, halo -1 or n), interior sites of the other axes;
 * the colour alternates along every axis, so each line of the layer is one
 * run of stride 2 (along x, or along y for the x faces). */
static int halo_faces(field *f) {
  const ising_layout *lay = f->lay;
  ising_halo_geom g = ising_halo_geom_of(lay);
  ISING_CALL(ising_halo_create(&g, sizeof(double), (1u << lay->dim) - 1, &f->halo));
  for (int k = 0; k < lay->dim; k++)
    for (int w = 0; w < 2; w++)
      for (int side = 0; side < 2; side++) {
        const int64_t l = w == ISING_HALO_SEND ? (side ? f->n[k] - 1 : 0) : (side ? f->n[k] : -1);
        const int a = k == 0 ? 1 : 0;          /* the axis of a run */
        const int b = k == 2 ? 1 : 2;          /* the other axis of the layer */
        const int64_t step = k == 0 ? f->X : 1; /* storage step along a */
        for (int c = 0; c < 2; c++)
          for (int64_t o = 0; o < f->n[b]; o++) {
            int64_t p[3] = {0, 0, 0};
            p[k] = l;
            p[b] = o;
            if (colour_of(f, p[0], p[1], p[2]) != c) p[a] = 1;
            int64_t cnt = p[a] < f->n[a] ? (f->n[a] - p[a] + 1) / 2 : 0;
            ISING_CALL(ising_halo_add(f->halo, k, side, c, w, at(f, p[0], p[1], p[2]), cnt, 2 * step));
          }
      }
  return ising_halo_setup(f->halo);
}

static double nbsum(const field *f, int dim, int64_t x, int64_t y, int64_t z) {
  const double *m = f->m;
  double s = m[at(f, x - 1, y, z)] + m[at(f, x + 1, y, z)] + m[at(f, x, y - 1, z)] + m[at(f, x, y + 1, z)];
  if (dim == 3) s += m[at(f, x, y, z - 1)] + m[at(f, x, y, z + 1)];
  return s;
}

/* -T ln(2 cosh(beta lambda)) + lambda m with lambda = T atanh(m): the
 * single-site part, equal to -T s0(m) (entropy of an independent spin). */
static double site_entropy(double m) {
  double a = fabs(m);
  if (a >= 1) return 0;
  double p = 0.5 * (1 + a), q = 0.5 * (1 - a);
  return -(p * log(p) + (q > 0 ? q * log(q) : 0));
}

int ising_varmf_solve(const ising_layout *lay, double J, double H, double T,
                      ising_varmf_start start, uint64_t seed, double damping, double tol,
                      int max_iter, ising_varmf_result *res, double *m_out) {
  ISING_CHECK(isfinite(J) && isfinite(H) && isfinite(T) && T > 0, ISING_ERR_INPUT,
              "varmf: J, H must be finite and T > 0");
  ISING_CHECK(damping > 0 && damping <= 1 && tol > 0 && max_iter > 0, ISING_ERR_INPUT,
              "varmf: damping in (0, 1], tol > 0, max_iter > 0");
  field f = {0};
  f.lay = lay;
  for (int k = 0; k < 3; k++) {
    f.n[k] = lay->n[k];
    f.s[k] = lay->start[k];
  }
  f.zh = lay->dim == 3;
  f.X = f.n[0] + 2;
  f.Y = f.n[1] + 2;
  f.Z = f.zh ? f.n[2] + 2 : 1;
  f.m = calloc((size_t)(f.X * f.Y * f.Z), sizeof *f.m);
  int rc = f.m ? halo_faces(&f) : ISING_ERR(ISING_ERR_MEM, "out of memory (varmf)");
  const double beta = 1.0 / T;
  for (int64_t z = 0; z < f.n[2] && !rc; z++)
    for (int64_t y = 0; y < f.n[1]; y++)
      for (int64_t x = 0; x < f.n[0]; x++) {
        double v = H < 0 ? -0.5 : 0.5; /* uniform: along the field */
        if (start == ISING_VARMF_STAGGERED) v = colour_of(&f, x, y, z) ? -0.5 : 0.5;
        if (start == ISING_VARMF_RANDOM) {
          uint64_t g = (uint64_t)((f.s[0] + x) + lay->L[0] * ((f.s[1] + y) + lay->L[1] * (f.zh ? f.s[2] + z : 0)));
          uint64_t h = (g + seed * 0x9E3779B97F4A7C15ULL) * 0xBF58476D1CE4E5B9ULL;
          h ^= h >> 31;
          v = ((double)(h >> 11) * 0x1p-53) - 0.5;
        }
        f.m[at(&f, x, y, z)] = v;
      }
  for (int c = 0; c < 2 && !rc; c++) rc = ising_halo_exchange(f.halo, f.m, c);
  int it = 0;
  double change = INFINITY;
  while (!rc && it < max_iter && !(change < tol)) {
    change = 0;
    for (int c = 0; c < 2 && !rc; c++) {
      for (int64_t z = 0; z < f.n[2]; z++)
        for (int64_t y = 0; y < f.n[1]; y++)
          for (int64_t x = 0; x < f.n[0]; x++) {
            if (colour_of(&f, x, y, z) != c) continue;
            double *m = &f.m[at(&f, x, y, z)];
            double target = tanh(beta * (H + J * nbsum(&f, lay->dim, x, y, z)));
            double next = (1 - damping) * *m + damping * target;
            change = fmax(change, fabs(next - *m));
            *m = next;
          }
      rc = ising_halo_exchange(f.halo, f.m, c);
    }
    if (!rc) rc = ising_mpi_check(MPI_Allreduce(MPI_IN_PLACE, &change, 1, MPI_DOUBLE, MPI_MAX, lay->group),
                                  "MPI_Allreduce", __FILE__, __LINE__);
    it++;
  }
  /* the bound: e = -J sum_<ij> m_i m_j / N - H m, s = sum s0(m_i) / N */
  double sums[4] = {0, 0, 0, 0}; /* bonds, m, m_stag, entropy */
  for (int64_t z = 0; z < f.n[2] && !rc; z++)
    for (int64_t y = 0; y < f.n[1]; y++)
      for (int64_t x = 0; x < f.n[0]; x++) {
        double m = f.m[at(&f, x, y, z)];
        double b = f.m[at(&f, x + 1, y, z)] + f.m[at(&f, x, y + 1, z)];
        if (lay->dim == 3) b += f.m[at(&f, x, y, z + 1)];
        sums[0] += m * b;
        sums[1] += m;
        sums[2] += colour_of(&f, x, y, z) ? -m : m;
        sums[3] += site_entropy(m);
        if (m_out) m_out[x + f.n[0] * (y + f.n[1] * z)] = m;
      }
  if (!rc) rc = ising_mpi_check(MPI_Allreduce(MPI_IN_PLACE, sums, 4, MPI_DOUBLE, MPI_SUM, lay->group),
                                "MPI_Allreduce", __FILE__, __LINE__);
  if (!rc) {
    double N = (double)(lay->L[0] * lay->L[1] * lay->L[2]);
    res->e = (-J * sums[0] - H * sums[1]) / N;
    res->s = sums[3] / N;
    res->f = res->e - T * res->s;
    res->m = sums[1] / N;
    res->m_stag = sums[2] / N;
    res->iterations = it;
    res->converged = change < tol;
    res->max_change = change;
  }
  ising_halo_destroy(&f.halo);
  free(f.m);
  return rc;
}
