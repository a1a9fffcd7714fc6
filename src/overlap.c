/*
 * overlap.c -- overlaps between the copies of a disorder sample (engine.h):
 * at a measurement, for every sample, temperature and pair of copies (a, b)
 * with d_i = s_i^a s_i^b,
 *   q = (1/N) sum_i d_i,   q_l = (1/(dim N)) sum over bonds d_i d_j,
 *   S_q(k_min) = mean over the axes of (1/N) |sum_i d_i e^{2 pi i x_a / L_a}|^2.
 * Each group sums its block into exact integers (the sum of d and of the
 * bond products, and per axis the profile P_a[x] = sum of d over the plane
 * x_a = x); one world sum of integers gathers them, and every rank turns
 * them into q, q_l and S_q in the same order: the same bits on any
 * decomposition.  Both copies of a pair live in one group (run.c deals
 * whole samples).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ising/error.h"

#define TWO_PI 6.283185307179586476925286766559

/* integers per pair: sum d, sum of bond products, the profiles */
static int64_t per_pair(const engine *E) {
  int64_t k = 2;
  for (int a = 0; a < E->cfg->dim; a++) k += E->cfg->L[a];
  return k;
}

int engine_overlap_create(engine *E) {
  if (!E->n_pairs_all) return ISING_OK;
  const size_t n = (size_t)E->n_T * (size_t)E->n_pairs_all;
  E->ovl = calloc(n * (size_t)per_pair(E), sizeof *E->ovl);
  E->pairvals = calloc(3 * n, sizeof *E->pairvals);
  int64_t nb[3];
  ising_lattice_extent(E->local[0].lat, nb, (int64_t[3]){0});
  E->dbuf = malloc((size_t)(2 * nb[0] * nb[1] * nb[2]) * sizeof *E->dbuf);
  ISING_CHECK(E->ovl && E->pairvals && E->dbuf, ISING_ERR_MEM, "out of memory (overlaps)");
  return ISING_OK;
}

void engine_overlap_free(engine *E) {
  free(E->ovl);
  free(E->pairvals);
  free(E->dbuf);
  E->ovl = NULL;
  E->pairvals = NULL;
  E->dbuf = NULL;
}

/* The block's integers of one pair into v[per_pair]. */
static int pair_sums(engine *E, ising_lattice *la, ising_lattice *lb, int64_t *v) {
  const int dim = E->cfg->dim;
  int64_t n[3], s0[3];
  ising_lattice_extent(la, n, s0);
  const int64_t plane = n[0] * n[1], vol = plane * n[2];
  int8_t *A = E->dbuf, *B = E->dbuf + vol;
  for (int64_t z = 0; z < n[2]; z++) {
    ising_lattice_pack_rows(la, z, 0, n[1], A + z * plane);
    ising_lattice_pack_rows(lb, z, 0, n[1], B + z * plane);
  }
  for (int64_t i = 0; i < vol; i++) A[i] = (int8_t)(A[i] * B[i]); /* d */
  int64_t *prof[3];
  prof[0] = v + 2;
  for (int a = 1; a < dim; a++) prof[a] = prof[a - 1] + E->cfg->L[a - 1];
  const int64_t stride[3] = {1, n[0], plane};
  const int whole[3] = {E->lay->procs[0] == 1, E->lay->procs[1] == 1,
                        dim == 3 ? E->lay->procs[2] == 1 : 1};
  int64_t q = 0, ql = 0;
  for (int64_t z = 0; z < n[2]; z++)
    for (int64_t y = 0; y < n[1]; y++)
      for (int64_t x = 0; x < n[0]; x++) {
        const int64_t i = x + n[0] * y + plane * z, c[3] = {x, y, z};
        const int d = A[i];
        q += d;
        for (int a = 0; a < dim; a++) {
          prof[a][s0[a] + c[a]] += d;
          int dn;
          if (c[a] + 1 < n[a])
            dn = A[i + stride[a]];
          else if (whole[a])
            dn = A[i - (n[a] - 1) * stride[a]];
          else /* the neighbour block's site, from the halos */
            dn = ising_lattice_get(la, x + (a == 0), y + (a == 1), z + (a == 2)) *
                 ising_lattice_get(lb, x + (a == 0), y + (a == 1), z + (a == 2));
          ql += d * dn;
        }
      }
  v[0] += q;
  v[1] += ql;
  return ISING_OK;
}

int engine_measure_overlaps(engine *E) {
  const int64_t K = per_pair(E);
  const int nT = E->n_T, PA = E->n_pairs_all, cps = E->cps;
  memset(E->ovl, 0, (size_t)nT * (size_t)PA * (size_t)K * sizeof *E->ovl);
  ISING_CALL(E->sw->ops->sync(E->sw->state));
  const int halos = E->lay->group_size > 1;
  for (int k = 0; k < E->n_local; k++) /* lattices whose halos the cross-block bonds read */
    if (halos) {
      ISING_CALL(ising_lattice_halo(E->local[k].lat, 0));
      ISING_CALL(ising_lattice_halo(E->local[k].lat, 1));
    }
  for (int s = 0; s < E->samples; s++)
    for (int t = 0; t < nT; t++) {
      int p = 0;
      for (int a = 0; a < cps; a++)
        for (int b = a + 1; b < cps; b++, p++) {
          int ra = E->temper->rep_at[(s * cps + a) * nT + t], rb = E->temper->rep_at[(s * cps + b) * nT + t];
          int ka = E->local_of[ra], kb = E->local_of[rb];
          if (ka < 0 || kb < 0) continue; /* another group's sample */
          int64_t *v = E->ovl + ((int64_t)t * PA + (int64_t)s * E->pairs + p) * K;
          ISING_CALL(pair_sums(E, E->local[ka].lat, E->local[kb].lat, v));
        }
    }
  ISING_CALL(ising_world_sum_i64(E->lay, E->ovl, (int)((int64_t)nT * PA * K)));
  const double N = (double)ising_config_sites(E->cfg);
  const int dim = E->cfg->dim;
  for (int64_t j = 0; j < (int64_t)nT * PA; j++) {
    const int64_t *v = E->ovl + j * K, *prof = v + 2;
    double sk = 0;
    for (int a = 0; a < dim; a++) {
      const int64_t L = E->cfg->L[a];
      double re = 0, im = 0;
      for (int64_t x = 0; x < L; x++) {
        re += (double)prof[x] * cos(TWO_PI * (double)x / (double)L);
        im += (double)prof[x] * sin(TWO_PI * (double)x / (double)L);
      }
      sk += (re * re + im * im) / N;
      prof += L;
    }
    E->pairvals[3 * j] = (double)v[0] / N;
    E->pairvals[3 * j + 1] = (double)v[1] / (dim * N);
    E->pairvals[3 * j + 2] = sk / dim;
  }
  return ISING_OK;
}
