/*
 * corr.c -- S(k), G(r) and xi on FFTW-MPI (see corr.h for the definitions
 * and the memory note).
 *
 * A measurement: ising_lattice_export writes the block into `buf` (natural
 * order, x fastest); MPI_Alltoallw moves the pieces that belong to other
 * ranks' slabs (the datatypes, built once here, cut the block into the slab
 * rows of each peer on the send side and place each peer's piece into the
 * padded real rows of the slab on the receive side); one pass over `buf`
 * then computes the plane profiles (spin sums per x, per y, per z) and
 * copies this rank's own piece; the profiles are summed over the group by
 * a nonblocking allreduce while the in-place r2c transform runs and
 * |F|^2 / N is added to the accumulator; S(0), S(k_min) come from the
 * exact profiles.  When every rank's block is its slab ("direct") the
 * export and the all-to-all are skipped: one pass over the block's int8
 * rows (ising_lattice_pack_rows, in chunks) fills the slab and the
 * profiles.  S(0), S(k_min)-only measurements always take that int8 pass
 * for the profiles alone.
 * FFTW splits the slowest axis (z in 3D, y in 2D; FFTW's dims are the
 * reversed x-first extents), the Cartesian grid may split every axis, so
 * the exchange is a general all-to-all; only ranks whose blocks and slabs
 * overlap exchange data.  These MPI calls live here rather than in
 * layout.c because the slab layout is FFTW's, known only to this module;
 * every one is checked.
 */
#include "ising/corr.h"

#include <fftw3-mpi.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"

#define CORR_PI 3.14159265358979323846264338327950288
#define ROWS8_BYTES (64 << 10) /* int8 rows per chunk of a profile pass */

struct ising_corr {
  MPI_Comm comm;   /* the layout's group (not owned) */
  MPI_Comm across; /* the ranks of equal group rank in all groups (owned;
                    * MPI_COMM_NULL with one group): pools the sums */
  int size, rank;
  int group_index; /* of the layout: group 0 holds restored sums */
  int dim;
  int64_t L[3], N;
  int64_t n[3], start[3]; /* this rank's block, x first */
  int64_t nblock;         /* n0 n1 n2 */
  /* real slab (FFT input, G(r) output): rows [s0, s0 + ns) of the slowest
   * axis, each plane mid rows (Ly in 3D, 1 in 2D) of pad doubles */
  ptrdiff_t ns, s0;
  int64_t mid, nxh, pad; /* nxh = Lx/2 + 1 complex per row, pad = 2 nxh */
  /* half spectrum in FFTW's transposed order (FFTW_MPI_TRANSPOSED_OUT):
   * 2D [tn][Ly] with kx = ts + i0, ky = i1; 3D [tn][Lz][nxh] with
   * ky = ts + i0, kz = i1, kx = i2 */
  ptrdiff_t tn, ts;
  int64_t nspec; /* local half-spectrum entries */
  /* The accumulators keep S(k) folded over the reflection of the local
   * middle index i1 (2D ky, 3D kz): entry i1 and e1 - i1 share one slot,
   * whose sum holds both (the lattice is reflection symmetric, so the two
   * have the same average; every written profile is invariant under it).
   * e1 = extent of i1, e1h = e1/2 + 1 slots, e2 = the fastest extent. */
  int64_t e1, e1h, e2, nsym;
  size_t nfft;   /* doubles in fft */
  double *fft;   /* in place: padded real slab in, half spectrum out */
  double *buf;   /* the exported block (send buffer); NULL when direct */
  int direct;    /* every block is its slab: no export, no all-to-all */
  fftw_plan fwd, bwd, tr; /* r2c (transposed out), c2r (transposed in), spectrum -> natural order */
  /* all-to-all for the pieces of other ranks; this rank's own piece
   * (block rows [self_lo, self_hi) of the slowest axis) is copied in the
   * same pass that computes the profiles */
  int *scount, *rcount, *sdispl, *rdispl;
  MPI_Datatype *stype, *rtype;
  int64_t self_lo, self_hi;
  /* profiles: x, y, z concatenated (Lx + Ly + Lz), and phase tables
   * cos/sin(2 pi g / L_a) for g = 0 .. L_a - 1 */
  double *prof, *cs[3], *sn[3];
  /* S(0), S(k_min)-only measurements read the spins as int8 rows (no
   * export to doubles): a chunk of packed rows and the column sums */
  int8_t *rows8;
  int64_t nrows8;  /* rows per chunk */
  int64_t *colsum; /* n0 */
  int64_t nprof;
  /* accumulators */
  int n_acc;
  double *acc; /* n_acc x nsym: sum of |F(k)|^2 / N, folded */
  int64_t *count_full, *count; /* FFT measurements; all measurements */
  double *sum_m, *sum_S0, *sum_Sk; /* over all measurements; sum_Sk: 3 per acc */
  int64_t bytes;
};

static int fftw_inited;

void ising_corr_global_init(void) {
  if (fftw_inited) return;
  fftw_mpi_init();
  fftw_inited = 1;
}

void ising_corr_global_finalize(void) {
  if (!fftw_inited) return;
  fftw_mpi_cleanup();
  fftw_inited = 0;
}

int64_t ising_corr_bytes(const ising_corr *c) { return c ? c->bytes : 0; }

int64_t ising_corr_count(const ising_corr *c, int acc, int64_t *n_full) {
  int ok = c && acc >= 0 && acc < c->n_acc;
  if (n_full) *n_full = ok ? c->count_full[acc] : 0;
  return ok ? c->count[acc] : 0;
}

void ising_corr_destroy(ising_corr **cp) {
  if (!cp || !*cp) return;
  ising_corr *c = *cp;
  if (c->across != MPI_COMM_NULL) MPI_Comm_free(&c->across);
  if (c->fwd) fftw_destroy_plan(c->fwd);
  if (c->bwd) fftw_destroy_plan(c->bwd);
  if (c->tr) fftw_destroy_plan(c->tr);
  fftw_free(c->fft);
  fftw_free(c->buf);
  for (int p = 0; p < c->size; p++) {
    if (c->stype && c->stype[p] != MPI_DATATYPE_NULL && c->stype[p] != MPI_DOUBLE) MPI_Type_free(&c->stype[p]);
    if (c->rtype && c->rtype[p] != MPI_DATATYPE_NULL && c->rtype[p] != MPI_DOUBLE) MPI_Type_free(&c->rtype[p]);
  }
  free(c->stype);
  free(c->rtype);
  free(c->scount);
  free(c->rcount);
  free(c->sdispl);
  free(c->rdispl);
  free(c->prof);
  free(c->rows8);
  free(c->colsum);
  for (int a = 0; a < 3; a++) {
    free(c->cs[a]);
    free(c->sn[a]);
  }
  free(c->acc);
  free(c->count_full);
  free(c->count);
  free(c->sum_m);
  free(c->sum_S0);
  free(c->sum_Sk);
  free(c);
  *cp = NULL;
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* A subarray type of a C-order array of `rank` dims (slowest first), or
 * count 0 when the box is empty. */
static int make_type(int rank, const int64_t *dims, const int64_t *sub, const int64_t *st,
                     MPI_Datatype *t, int *count) {
  int d[3], s[3], o[3];
  for (int k = 0; k < rank; k++) {
    if (sub[k] <= 0) {
      *t = MPI_DOUBLE;
      *count = 0;
      return ISING_OK;
    }
    d[k] = (int)dims[k];
    s[k] = (int)sub[k];
    o[k] = (int)st[k];
  }
  ISING_MPI(MPI_Type_create_subarray(rank, d, s, o, MPI_ORDER_C, MPI_DOUBLE, t));
  ISING_MPI(MPI_Type_commit(t));
  *count = 1;
  return ISING_OK;
}

/* The exchange pattern: what this rank sends to and receives from each
 * other rank (one allgather of every block and slab).  The slowest axis s
 * is the only one FFTW splits, so the piece for rank p is the block's rows
 * (along s) inside p's slab: contiguous in the block, a box in p's padded
 * slab. */
static int setup_exchange(ising_corr *c) {
  const int P = c->size, d = c->dim, s = d - 1;
  int64_t mine[8] = {c->start[0], c->start[1], c->start[2], c->n[0], c->n[1], c->n[2],
                     (int64_t)c->s0, (int64_t)c->ns};
  int64_t *all = malloc((size_t)P * 8 * sizeof *all);
  ISING_CHECK(all, ISING_ERR_MEM, "out of memory (correlation exchange)");
  int rc = ising_mpi_check(MPI_Allgather(mine, 8, MPI_INT64_T, all, 8, MPI_INT64_T, c->comm),
                           "MPI_Allgather", __FILE__, __LINE__);
  c->scount = calloc((size_t)P, sizeof *c->scount);
  c->rcount = calloc((size_t)P, sizeof *c->rcount);
  c->sdispl = calloc((size_t)P, sizeof *c->sdispl);
  c->rdispl = calloc((size_t)P, sizeof *c->rdispl);
  c->stype = malloc((size_t)P * sizeof *c->stype);
  c->rtype = malloc((size_t)P * sizeof *c->rtype);
  for (int p = 0; p < P; p++) {
    if (c->stype) c->stype[p] = MPI_DATATYPE_NULL;
    if (c->rtype) c->rtype[p] = MPI_DATATYPE_NULL;
  }
  if (!rc && !(c->scount && c->rcount && c->sdispl && c->rdispl && c->stype && c->rtype))
    rc = ISING_ERR(ISING_ERR_MEM, "out of memory (correlation exchange)");
  c->self_lo = max64(c->start[s], (int64_t)c->s0);
  c->self_hi = min64(c->start[s] + c->n[s], (int64_t)(c->s0 + c->ns));
  for (int p = 0; p < P && !rc; p++) {
    if (p == c->rank) {
      c->stype[p] = c->rtype[p] = MPI_DOUBLE; /* count 0: copied by hand */
      continue;
    }
    const int64_t *q = all + 8 * p;
    /* send: my block's rows inside p's slab */
    int64_t lo = max64(c->start[s], q[6]), hi = min64(c->start[s] + c->n[s], q[6] + q[7]);
    int64_t sd[3] = {c->n[d - 1], c->n[d - 2], d == 3 ? c->n[0] : 0};
    int64_t ss[3] = {hi - lo, c->n[d - 2], d == 3 ? c->n[0] : 0};
    int64_t so[3] = {lo - c->start[s], 0, 0};
    rc = make_type(d, sd, ss, so, &c->stype[p], &c->scount[p]);
    if (rc) break;
    /* receive: p's block's rows inside my slab, into the padded rows */
    lo = max64(q[s], (int64_t)c->s0);
    hi = min64(q[s] + q[3 + s], (int64_t)(c->s0 + c->ns));
    int64_t rd[3], rs[3], ro[3];
    if (d == 3) {
      int64_t dd[3] = {(int64_t)c->ns, c->L[1], c->pad}, sub[3] = {hi - lo, q[4], q[3]},
              off[3] = {lo - (int64_t)c->s0, q[1], q[0]};
      memcpy(rd, dd, sizeof rd), memcpy(rs, sub, sizeof rs), memcpy(ro, off, sizeof ro);
    } else {
      int64_t dd[2] = {(int64_t)c->ns, c->pad}, sub[2] = {hi - lo, q[3]}, off[2] = {lo - (int64_t)c->s0, q[0]};
      memcpy(rd, dd, sizeof dd), memcpy(rs, sub, sizeof sub), memcpy(ro, off, sizeof off);
    }
    rc = make_type(d, rd, rs, ro, &c->rtype[p], &c->rcount[p]);
  }
  free(all);
  return rc;
}

int ising_corr_create(const ising_layout *lay, int n_acc, int estimate, ising_corr **out) {
  *out = NULL;
  ISING_CHECK(n_acc >= 1, ISING_ERR_INPUT,
              "correlation functions: %d accumulators requested; need at least 1", n_acc);
  ISING_CHECK(lay->dim == 2 || lay->dim == 3, ISING_ERR_INPUT,
              "correlation functions: dimension %d; need 2 or 3", lay->dim);
  ising_corr_global_init();
  ising_corr *c = calloc(1, sizeof *c);
  ISING_CHECK(c, ISING_ERR_MEM, "out of memory (correlation functions)");
  int rc = ISING_OK;
  c->across = MPI_COMM_NULL;
  c->comm = lay->group;
  c->size = lay->group_size;
  c->rank = lay->group_rank;
  c->group_index = lay->group_index;
  c->dim = lay->dim;
  const int d = c->dim;
  c->N = 1;
  for (int k = 0; k < 3; k++) {
    c->L[k] = k < d ? lay->L[k] : 1;
    c->n[k] = k < d ? lay->n[k] : 1;
    c->start[k] = k < d ? lay->start[k] : 0;
    c->N *= c->L[k];
  }
  c->nblock = c->n[0] * c->n[1] * c->n[2];
  c->nxh = c->L[0] / 2 + 1;
  c->pad = 2 * c->nxh;
  c->mid = d == 3 ? c->L[1] : 1;
  c->n_acc = n_acc;

  /* FFTW's dims are the extents reversed (slowest first); the half
   * spectrum comes out transposed (saves one global transpose per
   * measurement); the real input is padded to 2 (Lx/2 + 1) per row. */
  ptrdiff_t nreal[3], ncplx[3];
  for (int k = 0; k < d; k++) nreal[k] = ncplx[k] = (ptrdiff_t)c->L[d - 1 - k];
  ncplx[d - 1] = (ptrdiff_t)c->nxh;
  ptrdiff_t alloc = fftw_mpi_local_size_transposed(d, ncplx, c->comm, &c->ns, &c->s0, &c->tn, &c->ts);
  c->nspec = (int64_t)c->tn * (d == 3 ? c->L[2] * c->nxh : c->L[1]);
  c->e1 = d == 3 ? c->L[2] : c->L[1];
  c->e1h = c->e1 / 2 + 1;
  c->e2 = d == 3 ? c->nxh : 1;
  c->nsym = (int64_t)c->tn * c->e1h * c->e2;
  /* the natural-order spectrum (for the result) by a transpose of the real
   * S(k): 2D (nxh, Ly) -> (Ly, nxh); 3D (Ly, Lz, nxh) -> (Lz, Ly, nxh) */
  ptrdiff_t tdims[2] = {d == 3 ? (ptrdiff_t)c->L[1] : (ptrdiff_t)c->nxh, (ptrdiff_t)c->L[d - 1]};
  ptrdiff_t how = d == 3 ? (ptrdiff_t)c->nxh : 1, a0, a1, a2, a3;
  ptrdiff_t talloc = fftw_mpi_local_size_many_transposed(2, tdims, how, FFTW_MPI_DEFAULT_BLOCK,
                                                          FFTW_MPI_DEFAULT_BLOCK, c->comm, &a0, &a1, &a2, &a3);
  c->nfft = (size_t)max64(max64(2 * (int64_t)alloc, (int64_t)talloc), 2);
  c->fft = fftw_alloc_real(c->nfft);
  /* When every rank's block is exactly its slab (the grid splits only the
   * slowest axis, as FFTW does, and the same way), nothing moves between
   * ranks: the spins go straight from int8 rows into the slab, and the
   * export buffer and the all-to-all are not needed. */
  int same = c->n[0] == c->L[0] && (d == 2 || c->n[1] == c->L[1]) && c->start[d - 1] == (int64_t)c->s0 &&
             c->n[d - 1] == (int64_t)c->ns;
  rc = ising_mpi_check(MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_MIN, c->comm),
                       "MPI_Allreduce", __FILE__, __LINE__);
  if (rc) goto fail;
  c->direct = same;
  c->buf = c->direct ? NULL : fftw_alloc_real((size_t)max64(c->nblock, 1));
  c->nprof = c->L[0] + c->L[1] + c->L[2];
  c->prof = calloc((size_t)c->nprof, sizeof *c->prof);
  c->nrows8 = min64(max64(ROWS8_BYTES / max64(c->n[0], 1), 1), max64(c->n[1], 1));
  c->rows8 = malloc((size_t)(c->nrows8 * max64(c->n[0], 1)));
  c->colsum = malloc((size_t)max64(c->n[0], 1) * sizeof *c->colsum);
  int ok = c->fft && (c->buf || c->direct) && c->prof && c->rows8 && c->colsum;
  for (int a = 0; a < 3 && ok; a++) {
    c->cs[a] = malloc((size_t)c->L[a] * sizeof(double));
    c->sn[a] = malloc((size_t)c->L[a] * sizeof(double));
    ok = c->cs[a] && c->sn[a];
    for (int64_t g = 0; ok && g < c->L[a]; g++) {
      double ph = 2.0 * CORR_PI * (double)g / (double)c->L[a];
      c->cs[a][g] = cos(ph);
      c->sn[a][g] = sin(ph);
    }
  }
  c->acc = calloc((size_t)n_acc * (size_t)max64(c->nsym, 1), sizeof *c->acc);
  c->count_full = calloc((size_t)n_acc, sizeof *c->count_full);
  c->count = calloc((size_t)n_acc, sizeof *c->count);
  c->sum_m = calloc((size_t)n_acc, sizeof *c->sum_m);
  c->sum_S0 = calloc((size_t)n_acc, sizeof *c->sum_S0);
  c->sum_Sk = calloc((size_t)n_acc * 3, sizeof *c->sum_Sk);
  ok = ok && c->acc && c->count_full && c->count && c->sum_m && c->sum_S0 && c->sum_Sk;
  if (!ok) {
    rc = ISING_ERR(ISING_ERR_MEM,
                   "out of memory for the correlation functions (%lld sites per rank, %d accumulators)",
                   (long long)c->nblock, n_acc);
    goto fail;
  }
  c->bytes = (int64_t)c->nfft * 8 + (c->direct ? 0 : c->nblock * 8) + (int64_t)n_acc * c->nsym * 8 + c->nprof * 8 * 3 +
             c->nrows8 * c->n[0] + c->n[0] * 8;

  /* Plans (FFTW_MEASURE overwrites the array: nothing is in it yet).  A
   * plan that fails on one rank fails everywhere: agree before using. */
  unsigned flags = estimate ? FFTW_ESTIMATE : FFTW_MEASURE;
  c->fwd = fftw_mpi_plan_dft_r2c(d, nreal, c->fft, (fftw_complex *)c->fft, c->comm,
                                 flags | FFTW_MPI_TRANSPOSED_OUT);
  c->bwd = fftw_mpi_plan_dft_c2r(d, nreal, (fftw_complex *)c->fft, c->fft, c->comm,
                                 flags | FFTW_MPI_TRANSPOSED_IN);
  c->tr = fftw_mpi_plan_many_transpose(tdims[0], tdims[1], how, FFTW_MPI_DEFAULT_BLOCK,
                                       FFTW_MPI_DEFAULT_BLOCK, c->fft, c->fft, c->comm, FFTW_ESTIMATE);
  int bad = !c->fwd || !c->bwd || !c->tr;
  rc = ising_mpi_check(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, c->comm),
                       "MPI_Allreduce", __FILE__, __LINE__);
  if (!rc && bad)
    rc = ISING_ERR(ISING_ERR_FFTW,
                   "FFTW could not plan the %dD real transforms of the %lld x %lld x %lld lattice on %d ranks",
                   d, (long long)c->L[0], (long long)c->L[1], (long long)c->L[2], c->size);
  if (!rc) rc = setup_exchange(c);
  /* every group has the same grid, so equal group ranks hold equal slabs */
  if (!rc && lay->n_groups > 1)
    rc = ising_mpi_check(MPI_Comm_split(lay->world, lay->group_rank, lay->group_index, &c->across),
                         "MPI_Comm_split", __FILE__, __LINE__);
  if (rc) goto fail;
  *out = c;
  return ISING_OK;
fail:
  ising_corr_destroy(&c);
  return rc;
}

/* |sum_g P[g] exp(-2 pi i g / L_a)|^2 for the profile P of axis a. */
static double profile_power(const ising_corr *c, int a, const double *P) {
  double re = 0, im = 0;
  for (int64_t g = 0; g < c->L[a]; g++) {
    re += P[g] * c->cs[a][g];
    im -= P[g] * c->sn[a][g];
  }
  return re * re + im * im;
}

/* One pass over the exported block: its plane sums into the global
 * profiles (exact: integers in doubles), and, when `slab` is set, this
 * rank's own piece copied into its padded slab rows. */
static void block_pass(ising_corr *c, int slab) {
  double *px = c->prof, *py = px + c->L[0], *pz = py + c->L[1];
  memset(c->prof, 0, (size_t)c->nprof * sizeof *c->prof);
  const int64_t n0 = c->n[0], s = c->dim - 1;
  double *restrict qx = px + c->start[0];
  for (int64_t z = 0; z < c->n[2]; z++)
    for (int64_t y = 0; y < c->n[1]; y++) {
      const double *restrict row = c->buf + n0 * (y + c->n[1] * z);
      double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
      int64_t x = 0;
      for (; x + 8 <= n0; x += 8) {
        qx[x] += row[x], a0 += row[x];
        qx[x + 1] += row[x + 1], a1 += row[x + 1];
        qx[x + 2] += row[x + 2], a2 += row[x + 2];
        qx[x + 3] += row[x + 3], a3 += row[x + 3];
        qx[x + 4] += row[x + 4], a4 += row[x + 4];
        qx[x + 5] += row[x + 5], a5 += row[x + 5];
        qx[x + 6] += row[x + 6], a6 += row[x + 6];
        qx[x + 7] += row[x + 7], a7 += row[x + 7];
      }
      for (; x < n0; x++) qx[x] += row[x], a0 += row[x];
      double rs = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
      py[c->start[1] + y] += rs;
      pz[c->start[2] + z] += rs;
      int64_t g = (s == 2 ? z : y) + c->start[s];
      if (slab && g >= c->self_lo && g < c->self_hi) {
        int64_t r = s == 2 ? (g - c->s0) * c->L[1] + c->start[1] + y : g - c->s0;
        memcpy(c->fft + r * c->pad + c->start[0], row, (size_t)n0 * sizeof *row);
      }
    }
}

/* The same plane sums as block_pass, from the spins as int8 rows in
 * chunks (integer sums: the same exact values, an eighth of the memory
 * traffic of an export to doubles); with `to_slab` (direct layouts: block
 * = slab) the rows also go straight into the padded slab rows as doubles,
 * in the same pass. */
static void block_pass_rows(ising_corr *c, const ising_lattice *lat, int to_slab) {
  double *px = c->prof, *py = px + c->L[0], *pz = py + c->L[1];
  memset(c->prof, 0, (size_t)c->nprof * sizeof *c->prof);
  const int64_t n0 = c->n[0];
  int64_t *restrict col = c->colsum;
  for (int64_t x = 0; x < n0; x++) col[x] = 0;
  for (int64_t z = 0; z < c->n[2]; z++)
    for (int64_t y0 = 0; y0 < c->n[1]; y0 += c->nrows8) {
      const int64_t ny = min64(c->nrows8, c->n[1] - y0);
      ising_lattice_pack_rows(lat, z, y0, ny, c->rows8);
      for (int64_t j = 0; j < ny; j++) {
        const int8_t *restrict row = c->rows8 + j * n0;
        if (to_slab) {
          /* slab row: 2D the row y itself, 3D plane z row y */
          int64_t r = c->dim == 3 ? z * c->L[1] + y0 + j : y0 + j;
          double *restrict dst = c->fft + r * c->pad;
          for (int64_t x = 0; x < n0; x++) dst[x] = (double)row[x];
        }
        int64_t rs = 0;
        for (int64_t x = 0; x < n0; x++) {
          col[x] += row[x];
          rs += row[x];
        }
        py[c->start[1] + y0 + j] += (double)rs;
        pz[c->start[2] + z] += (double)rs;
      }
    }
  for (int64_t x = 0; x < n0; x++) px[c->start[0] + x] = (double)col[x];
}

/* After block_pass and the profile reduction: the exact S(0), S(k_min)
 * (identical arithmetic on every rank, any decomposition) into the sums. */
static void exact_sums(ising_corr *c, int acc, double *S0, double *Skmin) {
  const double invN = 1.0 / (double)c->N;
  double M = 0;
  for (int64_t g = 0; g < c->L[0]; g++) M += c->prof[g];
  double s0 = M * M * invN, sk = 0;
  const double *P = c->prof;
  for (int k = 0; k < c->dim; k++) {
    double v = profile_power(c, k, P) * invN;
    c->sum_Sk[3 * acc + k] += v;
    sk += v;
    P += c->L[k];
  }
  sk /= c->dim;
  c->sum_S0[acc] += s0;
  c->sum_m[acc] += M * invN;
  c->count[acc]++;
  if (S0) *S0 = s0;
  if (Skmin) *Skmin = sk;
}

static int check_args(const ising_corr *c, const ising_lattice *lat, int acc) {
  ISING_CHECK(acc >= 0 && acc < c->n_acc, ISING_ERR_INPUT,
              "correlation functions: accumulator %d out of range [0, %d)", acc, c->n_acc);
  int64_t ln[3], ls[3];
  ising_lattice_extent(lat, ln, ls);
  ISING_CHECK(ising_lattice_dim(lat) == c->dim, ISING_ERR_INPUT,
              "correlation functions: a %dD lattice for a %dD layout", ising_lattice_dim(lat), c->dim);
  for (int k = 0; k < c->dim; k++)
    ISING_CHECK(ln[k] == c->n[k] && ls[k] == c->start[k], ISING_ERR_INPUT,
                "correlation functions: the lattice block does not match the layout");
  return ISING_OK;
}

int ising_corr_measure(ising_corr *c, const ising_lattice *lat, int acc, double *S0,
                       double *Skmin) {
  ISING_CALL(check_args(c, lat, acc));
  if (c->direct) {
    block_pass_rows(c, lat, 1);
  } else {
    ising_lattice_export(lat, c->buf);
    /* Blocking: MPI_Ialltoallw with derived datatypes crashes in Open MPI
     * 4.1 (open-mpi/ompi#8763), and without asynchronous progress it would
     * not overlap anyway. */
    ISING_MPI(MPI_Alltoallw(c->buf, c->scount, c->sdispl, c->stype, c->fft, c->rcount, c->rdispl,
                            c->rtype, c->comm));
    block_pass(c, 1);
  }
  MPI_Request req;
  ISING_MPI(MPI_Iallreduce(MPI_IN_PLACE, c->prof, (int)c->nprof, MPI_DOUBLE, MPI_SUM, c->comm, &req));
  fftw_execute(c->fwd);
  const double invN = 1.0 / (double)c->N;
  /* |F|^2 / N into the folded accumulator: row i0, index i1 and e1 - i1
   * into slot min(i1, e1 - i1) */
  double *restrict a = c->acc + (size_t)acc * (size_t)c->nsym;
  const double *restrict f = c->fft;
  const int64_t e1 = c->e1, e1h = c->e1h, e2 = c->e2;
  for (int64_t i0 = 0; i0 < c->tn; i0++) {
    double *restrict arow = a + i0 * e1h * e2;
    const double *restrict frow = f + 2 * i0 * e1 * e2;
    for (int64_t i1 = 0; i1 < e1; i1++) {
      double *restrict dst = arow + (i1 < e1h ? i1 : e1 - i1) * e2;
      const double *restrict src = frow + 2 * i1 * e2;
      for (int64_t i2 = 0; i2 < e2; i2++)
        dst[i2] += (src[2 * i2] * src[2 * i2] + src[2 * i2 + 1] * src[2 * i2 + 1]) * invN;
    }
  }
  ISING_MPI(MPI_Wait(&req, MPI_STATUS_IGNORE));
  c->count_full[acc]++;
  exact_sums(c, acc, S0, Skmin);
  return ISING_OK;
}

int ising_corr_measure_kmin(ising_corr *c, const ising_lattice *lat, int acc, double *S0,
                            double *Skmin) {
  ISING_CALL(check_args(c, lat, acc));
  block_pass_rows(c, lat, 0);
  ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, c->prof, (int)c->nprof, MPI_DOUBLE, MPI_SUM, c->comm));
  exact_sums(c, acc, S0, Skmin);
  return ISING_OK;
}

static int sum_over(const double *in, double *out, int64_t n, MPI_Comm comm);

/* Exact, order-independent sums for the radial bins: every term is
 * rounded once to a multiple of 2^-60 (|S| <= N <= 2^40, |G| <= 2, |k| and
 * |r| small: no overflow of 127 bits over at most 2^40 terms) and added as
 * an integer, so the bins come out with the same bits on any number of
 * ranks. */
__extension__ typedef __int128 fix128;
#define FIX_SCALE 0x1p60
static inline fix128 to_fix(double v) { return (fix128)(v * FIX_SCALE); }
static void fix_sum(void *in, void *inout, int *len, MPI_Datatype *type) {
  (void)type;
  for (int i = 0; i < *len; i++) {
    fix128 a, b;
    memcpy(&a, (const char *)in + (size_t)i * sizeof a, sizeof a);
    memcpy(&b, (char *)inout + (size_t)i * sizeof b, sizeof b);
    b += a;
    memcpy((char *)inout + (size_t)i * sizeof b, &b, sizeof b);
  }
}

/* Sum n fix128 over comm (in place). */
static int fix_allreduce(fix128 *q, int64_t n, MPI_Comm comm) {
  MPI_Datatype t;
  MPI_Op op;
  ISING_MPI(MPI_Type_contiguous((int)sizeof(fix128), MPI_BYTE, &t));
  int rc = ising_mpi_check(MPI_Type_commit(&t), "MPI_Type_commit", __FILE__, __LINE__);
  if (!rc) rc = ising_mpi_check(MPI_Op_create(fix_sum, 1, &op), "MPI_Op_create", __FILE__, __LINE__);
  if (!rc) {
    rc = ising_mpi_check(MPI_Allreduce(MPI_IN_PLACE, q, (int)n, t, op, comm), "MPI_Allreduce", __FILE__, __LINE__);
    int rf = ising_mpi_check(MPI_Op_free(&op), "MPI_Op_free", __FILE__, __LINE__);
    if (!rc) rc = rf;
  }
  int rt = ising_mpi_check(MPI_Type_free(&t), "MPI_Type_free", __FILE__, __LINE__);
  return rc ? rc : rt;
}

void ising_corr_state_layout(const ising_corr *c, ising_corr_layout *l) {
  const int d = c->dim;
  l->n_acc = c->n_acc;
  l->rank = d;
  l->dims[0] = d == 3 ? c->L[1] : c->nxh;
  l->dims[1] = c->e1h;
  l->dims[2] = c->e2;
  l->row0 = (int64_t)c->ts;
  l->nrows = (int64_t)c->tn;
  l->local = c->nsym;
  l->writer = c->group_index == 0;
}

int ising_corr_state_get(ising_corr *c, int acc, double *exact, double *spec) {
  ISING_CHECK(acc >= 0 && acc < c->n_acc, ISING_ERR_INPUT,
              "correlation functions: accumulator %d out of range [0, %d)", acc, c->n_acc);
  double v[ISING_CORR_NEXACT] = {(double)c->count[acc], (double)c->count_full[acc], c->sum_m[acc],
                                 c->sum_S0[acc], c->sum_Sk[3 * acc], c->sum_Sk[3 * acc + 1],
                                 c->sum_Sk[3 * acc + 2]};
  if (c->across != MPI_COMM_NULL)
    ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, v, ISING_CORR_NEXACT, MPI_DOUBLE, MPI_SUM, c->across));
  memcpy(exact, v, sizeof v);
  if (!spec) return ISING_OK;
  const double *mine = c->acc + (size_t)acc * (size_t)c->nsym;
  if (c->across != MPI_COMM_NULL) return sum_over(mine, spec, c->nsym, c->across);
  if (c->nsym > 0) memcpy(spec, mine, (size_t)c->nsym * sizeof *spec);
  return ISING_OK;
}

int ising_corr_state_set(ising_corr *c, int acc, const double *exact, const double *spec) {
  ISING_CHECK(acc >= 0 && acc < c->n_acc, ISING_ERR_INPUT,
              "correlation functions: accumulator %d out of range [0, %d)", acc, c->n_acc);
  const double n = exact[0], nf = exact[1];
  ISING_CHECK(n >= 0 && nf >= 0 && nf <= n && n < 9007199254740992.0 && n == floor(n) && nf == floor(nf),
              ISING_ERR_INPUT, "correlation functions: a stored state with %g measurements of "
              "which %g FFT ones", n, nf);
  double *a = c->acc + (size_t)acc * (size_t)c->nsym;
  const int mine = c->group_index == 0;
  c->count[acc] = mine ? (int64_t)n : 0;
  c->count_full[acc] = mine ? (int64_t)nf : 0;
  c->sum_m[acc] = mine ? exact[2] : 0.0;
  c->sum_S0[acc] = mine ? exact[3] : 0.0;
  for (int k = 0; k < 3; k++) c->sum_Sk[3 * acc + k] = mine ? exact[4 + k] : 0.0;
  if (mine && spec) {
    if (c->nsym > 0) memcpy(a, spec, (size_t)c->nsym * sizeof *a);
  } else {
    for (int64_t j = 0; j < c->nsym; j++) a[j] = 0.0;
  }
  return ISING_OK;
}

void ising_corr_result_free(ising_corr_result *r) {
  if (!r) return;
  free(r->sk);
  for (int a = 0; a < 3; a++) {
    free(r->S_axis[a]);
    free(r->G_axis[a]);
  }
  free(r->S_axis_avg);
  free(r->G_axis_avg);
  free(r->k_radial);
  free(r->S_radial);
  free(r->k_count);
  free(r->r_radial);
  free(r->G_radial);
  free(r->r_count);
  memset(r, 0, sizeof *r);
}

/* |minimum image| of index g on an axis of length L. */
static int64_t mi(int64_t g, int64_t L) { return g <= L / 2 ? g : L - g; }

/* Fill the result's arrays; false when out of memory. */
static int result_alloc(ising_corr_result *r, int64_t nspec) {
  r->sk = malloc((size_t)max64(nspec, 1) * sizeof *r->sk);
  int ok = r->sk != NULL;
  for (int k = 0; k < r->dim && ok; k++) {
    r->S_axis[k] = malloc((size_t)r->n_axis[k] * sizeof(double));
    r->G_axis[k] = malloc((size_t)r->n_axis[k] * sizeof(double));
    ok = r->S_axis[k] && r->G_axis[k];
  }
  r->S_axis_avg = malloc((size_t)r->n_axis_avg * sizeof(double));
  r->G_axis_avg = malloc((size_t)r->n_axis_avg * sizeof(double));
  r->k_radial = malloc((size_t)r->n_kbins * sizeof(double));
  r->S_radial = malloc((size_t)r->n_kbins * sizeof(double));
  r->k_count = malloc((size_t)r->n_kbins * sizeof(int64_t));
  r->r_radial = malloc((size_t)r->n_rbins * sizeof(double));
  r->G_radial = malloc((size_t)r->n_rbins * sizeof(double));
  r->r_count = malloc((size_t)r->n_rbins * sizeof(int64_t));
  return ok && r->S_axis_avg && r->G_axis_avg && r->k_radial && r->S_radial && r->k_count &&
         r->r_radial && r->G_radial && r->r_count;
}

/* Sum n doubles over `comm` into out (chunks: MPI counts are int). */
static int sum_over(const double *in, double *out, int64_t n, MPI_Comm comm) {
  const int64_t chunk = (int64_t)1 << 30;
  for (int64_t o = 0; o < n; o += chunk) {
    int cnt = (int)min64(chunk, n - o);
    ISING_MPI(MPI_Allreduce(in + o, out + o, cnt, MPI_DOUBLE, MPI_SUM, comm));
  }
  return ISING_OK;
}

int ising_corr_finish(ising_corr *c, int acc, ising_corr_result *r) {
  memset(r, 0, sizeof *r);
  ISING_CHECK(acc >= 0 && acc < c->n_acc, ISING_ERR_INPUT,
              "correlation functions: accumulator %d out of range [0, %d)", acc, c->n_acc);
  /* pool the exact sums of all groups (counts are exact in doubles) */
  double pool[7] = {(double)c->count[acc], (double)c->count_full[acc], c->sum_m[acc], c->sum_S0[acc],
                    c->sum_Sk[3 * acc], c->sum_Sk[3 * acc + 1], c->sum_Sk[3 * acc + 2]};
  if (c->across != MPI_COMM_NULL)
    ISING_MPI(MPI_Allreduce(MPI_IN_PLACE, pool, 7, MPI_DOUBLE, MPI_SUM, c->across));
  const int64_t na = (int64_t)pool[0], nf = (int64_t)pool[1];
  ISING_CHECK(nf > 0, ISING_ERR_INPUT,
              "correlation functions: accumulator %d has no measurements to average "
              "(ising_corr_measure was never called for it)", acc);
  const int d = c->dim;
  const double invN = 1.0 / (double)c->N;
  r->dim = d;
  for (int k = 0; k < 3; k++) r->L[k] = c->L[k];
  r->n_meas = nf;
  r->n_kmin = na;
  r->m_mean = pool[2] / (double)na;
  r->S0 = pool[3] / (double)na;
  int equal = 1;
  double xsum = 0;
  for (int k = 0; k < d; k++) {
    r->Skmin_axis[k] = pool[4 + k] / (double)na;
    r->Skmin += r->Skmin_axis[k] / d;
    r->xi_axis[k] = sqrt(r->S0 / r->Skmin_axis[k] - 1.0) / (2.0 * sin(CORR_PI / (double)c->L[k]));
    xsum += r->xi_axis[k];
    if (c->L[k] != c->L[0]) equal = 0;
  }
  r->xi = equal ? sqrt(r->S0 / r->Skmin - 1.0) / (2.0 * sin(CORR_PI / (double)c->L[0])) : xsum / d;

  int64_t Lmin = c->L[0], Lmax = c->L[0];
  for (int k = 1; k < d; k++) Lmin = min64(Lmin, c->L[k]), Lmax = max64(Lmax, c->L[k]);
  const double dk = 2.0 * CORR_PI / (double)Lmax;
  r->n_kbins = (int64_t)floor(CORR_PI * sqrt((double)d) / dk + 0.5) + 1;
  r->n_rbins = Lmin / 2 + 1;
  r->n_axis_avg = Lmin / 2 + 1;
  /* one reduction buffer: S_axis then G_axis of each axis (every entry set
   * by one rank), the k bins (sum |k|, sum S, count), the r bins */
  int64_t off_ax[3] = {0, 0, 0}, nred = 0;
  for (int k = 0; k < d; k++) {
    r->n_axis[k] = c->L[k] / 2 + 1;
    off_ax[k] = nred;
    nred += 2 * r->n_axis[k];
  }
  const int64_t off_k = nred, off_r = off_k + 3 * r->n_kbins;
  nred = off_r + 3 * r->n_rbins;
  r->sk_rank = d;
  for (int k = 0; k < d; k++) r->sk_dims[k] = r->sk_count[k] = c->L[d - 1 - k];
  r->sk_dims[d - 1] = r->sk_count[d - 1] = c->nxh;
  r->sk_start[0] = c->s0;
  r->sk_count[0] = c->ns;
  const int64_t nnat = (int64_t)c->ns * c->mid * c->nxh;
  double *red = calloc((size_t)nred, sizeof *red);
  double *fold = malloc((size_t)max64(c->nsym, 1) * sizeof *fold);
  /* the value sums of the bins, exact: (sum |k|, sum S) per k bin, then
   * (sum |r|, sum G) per r bin; red keeps the counts */
  const int64_t nq = 2 * (r->n_kbins + r->n_rbins);
  fix128 *q = calloc((size_t)nq, sizeof *q), *qk = q, *qr = q ? q + 2 * r->n_kbins : NULL;
  if (!red || !fold || !q || !result_alloc(r, max64(nnat, c->nspec))) {
    free(red);
    free(fold);
    free(q);
    return ISING_ERR(ISING_ERR_MEM, "out of memory (correlation results)");
  }

  /* <S(k)>, pooled over the groups, in FFTW's transposed order (held in
   * r->sk until the end): the bins, then the c2r input */
  const double inv = 1.0 / (double)nf;
  double *a = r->sk;
  const double *mine = c->acc + (size_t)acc * (size_t)c->nsym;
  int rc = ISING_OK;
  if (c->across != MPI_COMM_NULL)
    rc = sum_over(mine, fold, c->nsym, c->across);
  else if (c->nsym > 0)
    memcpy(fold, mine, (size_t)c->nsym * sizeof *fold);
  if (rc) {
    free(red);
    free(fold);
    free(q);
    return rc;
  }
  /* unfold: i1 and e1 - i1 each get the slot's mean (a slot holds one
   * index where i1 = e1 - i1 mod e1, i.e. i1 = 0 and e1/2, else two) */
  for (int64_t i0 = 0, j = 0; i0 < c->tn; i0++)
    for (int64_t i1 = 0; i1 < c->e1; i1++) {
      int64_t slot = i1 < c->e1h ? i1 : c->e1 - i1;
      double w = (slot == 0 || 2 * slot == c->e1) ? inv : 0.5 * inv;
      const double *src = fold + (i0 * c->e1h + slot) * c->e2;
      for (int64_t i2 = 0; i2 < c->e2; i2++, j++) a[j] = src[i2] * w;
    }
  free(fold);
  double *f = c->fft;
  const int64_t e1 = d == 3 ? c->L[2] : c->L[1], e2 = d == 3 ? c->nxh : 1;
  int64_t j = 0;
  for (int64_t i0 = 0; i0 < c->tn; i0++)
    for (int64_t i1 = 0; i1 < e1; i1++)
      for (int64_t i2 = 0; i2 < e2; i2++, j++) {
        double S = a[j];
        int64_t g[3];
        if (d == 3)
          g[0] = i2, g[1] = c->ts + i0, g[2] = i1;
        else
          g[0] = c->ts + i0, g[1] = i1, g[2] = 0;
        double k2 = 0;
        int naxis = 0, axis = 0;
        for (int k = 0; k < d; k++) {
          double kk = 2.0 * CORR_PI * (double)mi(g[k], c->L[k]) / (double)c->L[k];
          k2 += kk * kk;
          if (g[k] != 0) naxis++, axis = k;
        }
        if (naxis == 0)
          for (int k = 0; k < d; k++) red[off_ax[k]] = S;
        else if (naxis == 1 && g[axis] <= c->L[axis] / 2)
          red[off_ax[axis] + g[axis]] = S;
        double w = (g[0] == 0 || g[0] == c->L[0] / 2) ? 1.0 : 2.0, kabs = sqrt(k2);
        int64_t b = (int64_t)floor(kabs / dk + 0.5);
        if (b < r->n_kbins) {
          const int iw = (int)w;
          qk[2 * b] += iw * to_fix(kabs);
          qk[2 * b + 1] += iw * to_fix(S);
          red[off_k + 3 * b + 2] += w;
        }
        f[2 * j] = S;
        f[2 * j + 1] = 0.0;
      }

  /* G(r) = c2r(<S>) / N - m_mean^2, natural padded slab */
  fftw_execute(c->bwd);
  const double m2 = r->m_mean * r->m_mean;
  for (int64_t i0 = 0; i0 < c->ns; i0++)
    for (int64_t i1 = 0; i1 < c->mid; i1++) {
      const double *row = f + (i0 * c->mid + i1) * c->pad;
      int64_t gy = d == 3 ? i1 : c->s0 + i0, gz = d == 3 ? c->s0 + i0 : 0;
      int64_t my = mi(gy, c->L[1]), mz = mi(gz, c->L[2]);
      for (int64_t x = 0; x < c->L[0]; x++) {
        double G = row[x] * invN - m2;
        int64_t mx = mi(x, c->L[0]);
        int64_t g[3] = {x, gy, gz};
        int naxis = 0, axis = 0;
        for (int k = 0; k < d; k++)
          if (g[k] != 0) naxis++, axis = k;
        if (naxis == 0)
          for (int k = 0; k < d; k++) red[off_ax[k] + r->n_axis[k]] = G;
        else if (naxis == 1 && g[axis] <= c->L[axis] / 2)
          red[off_ax[axis] + r->n_axis[axis] + g[axis]] = G;
        double rabs = sqrt((double)(mx * mx + my * my + mz * mz));
        int64_t b = (int64_t)floor(rabs + 0.5);
        if (b < r->n_rbins) {
          qr[2 * b] += to_fix(rabs);
          qr[2 * b + 1] += to_fix(G);
          red[off_r + 3 * b + 2] += 1.0;
        }
      }
    }

  /* <S(k)> in natural order for the result: transpose the real values */
  memcpy(f, a, (size_t)c->nspec * sizeof *f);
  fftw_execute(c->tr);
  memcpy(r->sk, f, (size_t)nnat * sizeof *f);

  rc = ising_mpi_check(MPI_Allreduce(MPI_IN_PLACE, red, (int)nred, MPI_DOUBLE, MPI_SUM, c->comm),
                       "MPI_Allreduce", __FILE__, __LINE__);
  if (!rc) rc = fix_allreduce(q, nq, c->comm);
  if (rc) {
    free(red);
    free(q);
    return rc;
  }
  for (int64_t b = 0; b < r->n_kbins; b++) {
    red[off_k + 3 * b] = (double)qk[2 * b] / FIX_SCALE;
    red[off_k + 3 * b + 1] = (double)qk[2 * b + 1] / FIX_SCALE;
  }
  for (int64_t b = 0; b < r->n_rbins; b++) {
    red[off_r + 3 * b] = (double)qr[2 * b] / FIX_SCALE;
    red[off_r + 3 * b + 1] = (double)qr[2 * b + 1] / FIX_SCALE;
  }
  free(q);
  for (int k = 0; k < d; k++)
    for (int64_t n = 0; n < r->n_axis[k]; n++) {
      r->S_axis[k][n] = red[off_ax[k] + n];
      r->G_axis[k][n] = red[off_ax[k] + r->n_axis[k] + n];
    }
  for (int64_t n = 0; n < r->n_axis_avg; n++) {
    double s = 0, g = 0;
    for (int k = 0; k < d; k++) s += r->S_axis[k][n], g += r->G_axis[k][n];
    r->S_axis_avg[n] = s / d;
    r->G_axis_avg[n] = g / d;
  }
  for (int64_t b = 0; b < r->n_kbins; b++) {
    double w = red[off_k + 3 * b + 2];
    r->k_count[b] = (int64_t)w;
    r->k_radial[b] = w > 0 ? red[off_k + 3 * b] / w : NAN;
    r->S_radial[b] = w > 0 ? red[off_k + 3 * b + 1] / w : NAN;
  }
  for (int64_t b = 0; b < r->n_rbins; b++) {
    double w = red[off_r + 3 * b + 2];
    r->r_count[b] = (int64_t)w;
    r->r_radial[b] = w > 0 ? red[off_r + 3 * b] / w : NAN;
    r->G_radial[b] = w > 0 ? red[off_r + 3 * b + 1] / w : NAN;
  }
  free(red);
  return ISING_OK;
}
