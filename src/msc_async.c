/*
 * msc_async.c -- asynchronous multi-spin coding (msc_async.h): 64 replicas
 * of one lattice in one word per site, each lane with its own temperature;
 * the packed Metropolis half sweep, its site-by-site lane-by-lane reference,
 * the per-lane sums, and the benchmark.
 *
 * The kernel, per row of one colour, in passes over row scratch:
 *   (a) eight sites' words at a time in AVX-512 registers (one word per
 *       64-bit element): the aligned masks ~(s ^ n) of the 2d neighbour
 *       words through bitwise adders (msc_count_aligned of msc_impl.h) give the
 *       count v of every lane as bit planes b0 b1 b2; a lane's class is
 *       x = v + 8 s (s its spin bit).  The classes with dE > 0 -- the same
 *       for every lane, since J > 0 and H are common -- need random bytes;
 *       the others flip.  Stored: per word the lanes that need bytes and
 *       the lane masks of each threshold group (below).
 *   (b) round 0, word by word: lanes differ only in temperature, so byte q
 *       of lane l's threshold for class x is tb[q][x][l]; a word's round-0
 *       threshold vector is the table row of one needing class, overwritten
 *       by masked byte moves with the rows of the others under the masks of
 *       their lanes (classes with equal thresholds in every lane, e.g. both
 *       spins at H = 0, form one group: one move fewer).  One VBMI2 expand
 *       puts the stream's next bytes into the undecided lanes in lane order,
 *       one compare decides all but the tied lanes (1/256 each).
 *   (c) eight words at a time: the flips, and the words with tied lanes
 *       packed onto a list (a fifth of the words at T_c in 2D: a branch per
 *       word would be mispredicted).
 *   (d) the tied lanes: rounds 1..3, words in order, lane by lane.
 * The row's random bytes are msc_impl.h's byte sequence (the same Philox
 * groups and planar 16-block chunks), made up to eight chunks per refill in
 * one fill, written in place, because at T_c in 2D 80% of the lanes need a
 * byte and the generator is the largest single cost.  The AVX2 path
 * (x86-64-v3 builds) does (a) four words per register, (b) with the
 * stream's bytes put into the undecided lanes by pdep eight lanes at a
 * time and one compare per group (its class masks select the outcomes),
 * (c) in the same loop, and (d) lane by lane.  The portable build does
 * (a) word by word and (b) with the bytes moved into the undecided lanes by
 * msc_bexp (masked shifts, eight lanes per 64-bit word) and one compare per
 * group (SSE2, or eight bytes per word elsewhere).  The lane-by-lane code
 * (decide_portable; the tests' second oracle, via ising_msc_async_use_simd)
 * makes the same decisions word by word and lane by lane.
 * With bimodal couplings (sign bits per lane and bond) every row's
 * neighbour words are first XORed with the signs of the bonds to them
 * (signed_row), and the passes above run unchanged on those words: an
 * "aligned" lane is then a satisfied bond, so the classes, tables and
 * stream are the uniform kernel's at nb = the weighted sum.
 */
#include "ising/msc_async.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ising/error.h"
#include "ising/model.h"
#include "ising/cpu.h"
#include "msc_impl.h"
#if defined(__AVX512BW__)
#include <immintrin.h>
#endif

#define LANES ISING_MSC_ASYNC_LANES
#ifdef MSC_SIMD
#define SIMD_NAME "AVX-512 VBMI2"
#define PATH_NAME "avx512"
#elif defined(MSC_AVX2)
#define SIMD_NAME "AVX2 BMI2"
#define PATH_NAME "avx2"
#else
#define SIMD_NAME "expand-and-compare"
#define PATH_NAME "portable"
#endif
#define AS_MAX_CHUNKS 8 /* chunks per refill of the row stream (2 KiB) */

/* ------------------------------------------------------------ stream */

/* A row's byte stream (msc_impl.h), unread bytes b[pos .. end) of w.  A
 * refill moves the (< 64) unread bytes to just below byte 64 and writes
 * the new chunks from byte 64 on; a row's refills grow 1, 2, 4, 8 chunks,
 * and the caller's estimate of what the rest of the row will read caps
 * them, so that rows do not end with kilobytes made and never read (11% of
 * the Philox blocks in 3D at L = 256 before the cap). */
typedef struct as_stream {
  uint32_t w[(64 + AS_MAX_CHUNKS * MSC_CHUNK_BYTES) / 4];
  int pos, end, grow;
  uint64_t base, next; /* group of the row's block 0; next chunk */
  ising_rng_key key;
  uint32_t c2, c3;
  int64_t blocks;
} as_stream;

static void as_start(as_stream *s, ising_rng_key key, uint64_t row, uint32_t c2, uint32_t c3) {
  s->pos = s->end = 64;
  s->grow = 1;
  s->base = row * MSC_ROW_BLOCKS;
  s->next = 0;
  s->key = key;
  s->c2 = c2;
  s->c3 = c3;
}

static void as_refill(as_stream *s, int64_t want) {
  uint8_t *b = (uint8_t *)s->w;
  int r = s->end - s->pos;
  memmove(b + 64 - r, b + s->pos, (size_t)r);
  int n = s->grow;
  const int64_t chunks = (want - r + MSC_CHUNK_BYTES - 1) / MSC_CHUNK_BYTES;
  if (chunks < n) n = chunks < 1 ? 1 : (int)chunks;
  /* one fill for all the chunks, in their own planar layout (two runs of
   * sixteen blocks at a time: Philox's ten rounds are a dependency chain) */
  const int nb = n * MSC_CHUNK_BLOCKS;
  ising_rng_fill_chunks16(s->key, s->base + s->next * MSC_CHUNK_BLOCKS, n, s->c2, s->c3, s->w + 16);
  s->next += (uint64_t)n;
  s->blocks += nb;
  s->pos = 64 - r;
  s->end = 64 + n * MSC_CHUNK_BYTES;
  if (s->grow < AS_MAX_CHUNKS) s->grow *= 2;
}

/* At least 64 unread bytes (one word's worth, and the SIMD read); `want`:
 * about how many bytes the row will still read. */
static inline void as_ensure(as_stream *s, int64_t want) {
  if (s->end - s->pos < 64) as_refill(s, want);
}

static inline const uint8_t *as_bytes(const as_stream *s) { return (const uint8_t *)s->w; }

/* as_ensure before word j of a row of nh words whose read position the
 * caller keeps in a register (pos; returned, moved by a refill): the rest
 * of the row is estimated at the row's rate so far. */
static inline int as_ensure_row(as_stream *s, int pos, int64_t j, int64_t nh) {
  if (s->end - pos >= 64) return pos;
  const int64_t done = (int64_t)s->next * MSC_CHUNK_BYTES - (s->end - pos);
  s->pos = pos;
  as_refill(s, j > 0 ? (nh - j) * (done / j + 1) + 64 : INT64_MAX / 2);
  return s->pos;
}

/* ------------------------------------------------------------ object */

/* A group of lanes' classes that share one threshold row: lanes whose count
 * planes and spin match (b_i ^ k_i all ones, (s ^ ks) | ko all ones). */
typedef struct as_group {
  uint64_t k0, k1, k2, ks, ko;
  int x; /* the table row */
} as_group;

struct ising_msc_async {
  uint8_t tb[4][16][LANES];   /* byte q (most significant first) of class x's threshold, lane l */
  uint32_t thr[16][LANES];    /* the thresholds themselves */
  int dim, z, simd;
  int64_t L[3], nh, rows, N; /* nh = Lx / 2 words per row, rows = Ly Lz */
  double J, H, T[LANES];
  uint16_t need; /* bit x: class x needs random bytes (dE > 0) */
  uint64_t active; /* lanes that move (the others never flip nor take bytes) */
  int ng;
  as_group g[16];
  uint64_t *s[2];
  uint64_t *ox;  /* nh + 2: the other colour's row with its periodic ends */
  /* the row's words with lanes still tied after round 0: word tj[i], lanes
   * tE[i] (their spins are still the old ones and their neighbours have not
   * moved, so their classes are recomputed when the rare later rounds need
   * them); nh + 8 entries, the SIMD path stores eight at a time */
  int64_t *tj;
  uint64_t *tE;
  /* SIMD row scratch, nh + 8 words each: the lanes needing bytes, the class
   * masks of the groups (16 rows), round 0's moves and ties */
  uint64_t *rU, *rcm, *rlt, *req;
  /* bimodal couplings (ising_msc_async_set_couplings): sg[c][dir][h] has bit
   * l set where lane l's bond from colour-c word h to its neighbour in
   * direction dir (-x, +x, -y, +y, -z, +z) has w = -1; NULL when every lane
   * is uniform.  eff: a row's neighbour words XOR their bond signs (2d rows
   * of nh + 8 words). */
  uint64_t *sg[2][6], *eff;
  const ising_couplings *cp[LANES];
  as_stream st;
  int64_t stat[4];
#ifdef MSC_AVX2
  uint64_t bytemask[256]; /* byte i 0xFF where bit i of the index is set */
  /* pdep emulated (ising_cpu_pdep_emulated): the byte shuffles of
   * msc_bytepat_init; soft = 0: pdep */
  uint64_t bytepat[256];
  int soft;
#endif
#ifdef MSC_PORTABLE
  uint64_t bexp[256][3]; /* msc_bexp_init */
#endif
};

/* The class split, the definition both the kernel and the reference use:
 * a move with dE = 2 s (J nb + H) > 0 (the expression of model.c) needs
 * random bytes; dE <= 0 has p = 1 at every temperature. */
static int class_needs(double J, double H, int s, int nb) { return 2.0 * s * (J * nb + H) > 0; }

/* Class x = v + 8 sb: spin s = sb ? -1 : +1, neighbour sum nb = s (2 v - z). */
static void class_of(int x, int z, int *s, int *nb) {
  int v = x & 7, sb = x >> 3;
  *s = sb ? -1 : 1;
  *nb = *s * (2 * v - z);
}

static void groups_build(ising_msc_async *a) {
  a->ng = 0;
  for (int v = 0; v <= a->z; v++) {
    int n0 = a->need >> v & 1, n1 = a->need >> (v + 8) & 1, same = 1;
    for (int l = 0; l < LANES; l++) same &= a->thr[v][l] == a->thr[v + 8][l];
    for (int sb = 0; sb < 2; sb++) {
      if (!(sb ? n1 : n0)) continue;
      if (sb == 1 && n0 && same) continue; /* merged into the sb = 0 group */
      as_group *g = &a->g[a->ng++];
      g->k0 = (v & 1) ? 0 : ~(uint64_t)0;
      g->k1 = (v & 2) ? 0 : ~(uint64_t)0;
      g->k2 = (v & 4) ? 0 : ~(uint64_t)0;
      g->ks = sb ? 0 : ~(uint64_t)0;
      g->ko = (n0 && n1 && same) ? ~(uint64_t)0 : 0;
      g->x = v + 8 * sb;
    }
  }
}

/* Lane l's column of the tables from its own model (exact thresholds). */
static int lane_build(ising_msc_async *a, int l) {
  ising_model m;
  ISING_CALL(ising_model_init(&m, a->dim, a->J, a->H, a->T[l], ISING_ALG_METROPOLIS));
  for (int x = 0; x < 16; x++) {
    uint32_t t = 0;
    if ((x & 7) <= a->z) {
      int s, nb;
      class_of(x, a->z, &s, &nb);
      t = m.thr[ising_model_index(&m, s, nb)];
    }
    a->thr[x][l] = t;
    for (int q = 0; q < 4; q++) a->tb[q][x][l] = (uint8_t)(t >> (24 - 8 * q));
  }
  return ISING_OK;
}

static int check_lane(int lane) {
  ISING_CHECK(lane >= 0 && lane < LANES, ISING_ERR_INPUT, "msc-async: lane %d is not in 0..63", lane);
  return ISING_OK;
}

static int check_T(double T, int lane) {
  ISING_CHECK(isfinite(T) && T > 0, ISING_ERR_INPUT,
              "msc-async: lane %d: T must be a finite number > 0, got %g", lane, T);
  return ISING_OK;
}

void ising_msc_async_destroy(ising_msc_async **pa) {
  if (!pa || !*pa) return;
  ising_msc_async *a = *pa;
  free(a->s[0]);
  free(a->s[1]);
  free(a->ox);
  free(a->tj);
  free(a->tE);
  free(a->rU);
  free(a->sg[0][0]);
  free(a->eff);
  free(a);
  *pa = NULL;
}

int ising_msc_async_create(int dim, const int64_t L[3], double J, double H, const double T[64],
                           ising_msc_async **out) {
  ISING_CHECK(out, ISING_ERR_INPUT, "msc-async: no output pointer");
  *out = NULL;
  ISING_CHECK(dim == 2 || dim == 3, ISING_ERR_INPUT, "msc-async: dimension must be 2 or 3, got %d", dim);
  ISING_CHECK(L && T, ISING_ERR_INPUT, "msc-async: no extents or temperatures");
  for (int k = 0; k < dim; k++)
    ISING_CHECK(L[k] >= 2 && L[k] % 2 == 0 && L[k] <= ((int64_t)1 << 24), ISING_ERR_INPUT,
                "msc-async: L[%d] = %lld: every extent must be even, >= 2 and <= 2^24 "
                "(checkerboard colours by global coordinates)", k, (long long)L[k]);
  /* a row may read 4 bytes per lane: 16 blocks per word must fit its groups */
  ISING_CHECK(L[0] / 2 * MSC_CHUNK_BLOCKS <= (int64_t)MSC_ROW_BLOCKS, ISING_ERR_INPUT,
              "msc-async: Lx = %lld: rows longer than 2^19 sites exceed a row's random stream",
              (long long)L[0]);
  ISING_CHECK(isfinite(J) && J > 0, ISING_ERR_INPUT,
              "msc-async: J = %g: the kernel needs a ferromagnet, J > 0", J);
  ISING_CHECK(isfinite(H), ISING_ERR_INPUT, "msc-async: H must be finite, got %g", H);
  for (int l = 0; l < LANES; l++) ISING_CALL(check_T(T[l], l));
  size_t bytes = (sizeof(ising_msc_async) + 63) / 64 * 64;
  ising_msc_async *a = aligned_alloc(64, bytes);
  ISING_CHECK(a, ISING_ERR_MEM, "msc-async: out of memory");
  memset(a, 0, sizeof *a);
  a->dim = dim;
  a->z = 2 * dim;
  a->L[0] = L[0];
  a->L[1] = L[1];
  a->L[2] = dim == 3 ? L[2] : 1;
  a->nh = L[0] / 2;
  a->rows = a->L[1] * a->L[2];
  a->N = a->L[0] * a->rows;
  a->J = J;
  a->H = H;
  a->active = ~(uint64_t)0;
#ifdef MSC_AVX2
  for (int m = 0; m < 256; m++)
    for (int i = 0; i < 8; i++) a->bytemask[m] |= (uint64_t)(m >> i & 1) * (0xFFULL << (8 * i));
  msc_bytepat_init(a->bytepat);
  a->soft = ising_cpu_pdep_emulated();
#endif
#ifdef MSC_PORTABLE
  msc_bexp_init(a->bexp);
#endif
  a->simd = 1;
  size_t words = (size_t)(a->rows * a->nh);
  a->s[0] = calloc(words, sizeof(uint64_t));
  a->s[1] = calloc(words, sizeof(uint64_t));
  a->ox = malloc((size_t)(a->nh + 2) * sizeof(uint64_t));
  a->tj = malloc((size_t)(a->nh + 8) * sizeof *a->tj);
  a->tE = malloc((size_t)(a->nh + 8) * sizeof *a->tE);
  a->rU = malloc((size_t)(19 * (a->nh + 8)) * sizeof *a->rU);
  if (!a->s[0] || !a->s[1] || !a->ox || !a->tj || !a->tE || !a->rU) {
    ising_msc_async_destroy(&a);
    return ISING_ERR(ISING_ERR_MEM, "msc-async: out of memory for %lld site words",
                     (long long)(2 * words));
  }
  a->rcm = a->rU + (a->nh + 8);
  a->rlt = a->rcm + 16 * (a->nh + 8);
  a->req = a->rlt + (a->nh + 8);
  for (int x = 0; x < 16; x++) {
    if ((x & 7) > a->z) continue;
    int s, nb;
    class_of(x, a->z, &s, &nb);
    if (class_needs(J, H, s, nb)) a->need |= (uint16_t)(1u << x);
  }
  int rc = ising_msc_async_set_temperatures(a, T);
  if (rc) {
    ising_msc_async_destroy(&a);
    return rc;
  }
  *out = a;
  return ISING_OK;
}

int ising_msc_async_set_temperatures(ising_msc_async *a, const double T[64]) {
  ISING_CHECK(a && T, ISING_ERR_INPUT, "msc-async: no object or temperatures");
  for (int l = 0; l < LANES; l++) ISING_CALL(check_T(T[l], l));
  for (int l = 0; l < LANES; l++) {
    a->T[l] = T[l];
    ISING_CALL(lane_build(a, l));
  }
  groups_build(a);
  return ISING_OK;
}

int ising_msc_async_set_temperature(ising_msc_async *a, int lane, double T) {
  ISING_CHECK(a, ISING_ERR_INPUT, "msc-async: no object");
  ISING_CALL(check_lane(lane));
  ISING_CALL(check_T(T, lane));
  a->T[lane] = T;
  ISING_CALL(lane_build(a, lane));
  groups_build(a); /* whether classes can share a row may have changed */
  return ISING_OK;
}

int ising_msc_async_temperature(const ising_msc_async *a, int lane, double *T) {
  ISING_CHECK(a && T, ISING_ERR_INPUT, "msc-async: no object or output");
  ISING_CALL(check_lane(lane));
  *T = a->T[lane];
  return ISING_OK;
}

/* The tempering move: the columns of the two lanes trade places (the
 * groups depend on whether rows agree in every lane, which a permutation
 * of lanes keeps). */
int ising_msc_async_swap_temperatures(ising_msc_async *a, int l1, int l2) {
  ISING_CHECK(a, ISING_ERR_INPUT, "msc-async: no object");
  ISING_CALL(check_lane(l1));
  ISING_CALL(check_lane(l2));
  double t = a->T[l1];
  a->T[l1] = a->T[l2];
  a->T[l2] = t;
  for (int x = 0; x < 16; x++) {
    uint32_t u = a->thr[x][l1];
    a->thr[x][l1] = a->thr[x][l2];
    a->thr[x][l2] = u;
    for (int q = 0; q < 4; q++) {
      uint8_t b = a->tb[q][x][l1];
      a->tb[q][x][l1] = a->tb[q][x][l2];
      a->tb[q][x][l2] = b;
    }
  }
  return ISING_OK;
}

int ising_msc_async_set_active(ising_msc_async *a, uint64_t lanes) {
  ISING_CHECK(a, ISING_ERR_INPUT, "msc-async: no object");
  a->active = lanes;
  return ISING_OK;
}

static inline int64_t wrap(int64_t x, int64_t L) {
  x %= L;
  return x < 0 ? x + L : x;
}

/* Lane l's w on the bond from global site (x, y, z) to its neighbour in
 * direction dir (-x, +x, -y, +y, -z, +z): the bond (site, axis) of the
 * lower site of the two. */
static int32_t lane_w(const ising_msc_async *a, const ising_couplings *c, int64_t x, int64_t y,
                      int64_t z, int dir) {
  if (!c) return 1;
  const int axis = dir / 2;
  if (!(dir & 1)) {
    if (axis == 0) x--;
    else if (axis == 1) y--;
    else z--;
  }
  x = wrap(x, a->L[0]);
  y = wrap(y, a->L[1]);
  z = a->dim == 3 ? wrap(z, a->L[2]) : 0;
  return ising_couplings_w(c, x + a->L[0] * (y + a->L[1] * z), axis);
}

int ising_msc_async_set_couplings(ising_msc_async *a, const ising_couplings *const c[64]) {
  ISING_CHECK(a, ISING_ERR_INPUT, "msc-async: no object");
  int any = 0;
  for (int l = 0; l < LANES; l++) {
    const ising_couplings *p = c ? c[l] : NULL;
    if (p && ising_couplings_is_uniform(p)) p = NULL;
    if (p) {
      ISING_CHECK(!p->field && p->bimodal, ISING_ERR_INPUT,
                  "msc-async: lane %d: the kernel takes bimodal couplings without dilution or "
                  "random fields", l);
      ISING_CHECK(p->J_unit == a->J && p->H == a->H, ISING_ERR_INPUT,
                  "msc-async: lane %d: couplings with J_unit %g and H %g, the object has J %g and H %g",
                  l, p->J_unit, p->H, a->J, a->H);
    }
    a->cp[l] = p;
    any |= p != NULL;
  }
  free(a->sg[0][0]);
  free(a->eff);
  memset(a->sg, 0, sizeof a->sg);
  a->eff = NULL;
  if (!any) return ISING_OK;
  const int64_t words = a->rows * a->nh;
  uint64_t *g = calloc((size_t)(2 * a->z * words), sizeof *g);
  a->eff = malloc((size_t)(6 * (a->nh + 8)) * sizeof *a->eff);
  if (!g || !a->eff) {
    free(g);
    free(a->eff);
    a->eff = NULL;
    return ISING_ERR(ISING_ERR_MEM, "msc-async: out of memory for the bond signs");
  }
  for (int cc = 0; cc < 2; cc++)
    for (int d = 0; d < a->z; d++) a->sg[cc][d] = g + (cc * a->z + d) * words;
  /* one pass per distinct provider, its lanes' bits at once */
  uint64_t done = 0;
  for (int l = 0; l < LANES; l++) {
    if (!a->cp[l] || (done >> l & 1)) continue;
    uint64_t mask = 0;
    for (int k = l; k < LANES; k++) mask |= (uint64_t)(a->cp[k] == a->cp[l]) << k;
    done |= mask;
    for (int64_t z = 0; z < a->L[2]; z++)
      for (int64_t y = 0; y < a->L[1]; y++)
        for (int64_t x = 0; x < a->L[0]; x++) {
          const int cc = (int)((x + y + z) & 1);
          const int64_t h = (y + a->L[1] * z) * a->nh + x / 2;
          for (int d = 0; d < a->z; d++) {
            const int32_t w = lane_w(a, a->cp[l], x, y, z, d);
            if (w != 1 && w != -1) {
              ising_msc_async_set_couplings(a, NULL);
              return ISING_ERR(ISING_ERR_INPUT,
                               "msc-async: lane %d: bond weight %d at (%lld, %lld, %lld): the kernel "
                               "takes bimodal couplings without dilution or random fields",
                               l, (int)w, (long long)x, (long long)y, (long long)z);
            }
            if (w < 0) a->sg[cc][d][h] |= mask;
          }
        }
  }
  return ISING_OK;
}

int ising_msc_async_use_simd(ising_msc_async *a, int on) {
  ISING_CHECK(a, ISING_ERR_INPUT, "msc-async: no object");
  a->simd = on != 0;
  return ISING_OK;
}

void ising_msc_async_stats(const ising_msc_async *a, int64_t out[4]) {
  for (int i = 0; i < 4; i++) out[i] = a->stat[i];
}

/* ------------------------------------------------------------ spins */

/* Row (y, z) of colour 1 - c as seen from colour c: ox[0 .. nh + 1] is the
 * row with its periodic ends (ox[0] = its last word, ox[nh + 1] its first),
 * nb its neighbours in y and (3D) z; returns the row itself. */
static const uint64_t *other_row(const ising_msc_async *a, int c, int64_t y, int64_t z, uint64_t *ox,
                                 const uint64_t *nb[4]) {
  const int64_t nh = a->nh, Ly = a->L[1], Lz = a->L[2];
  const int d3 = a->dim == 3;
  const uint64_t *o = a->s[1 - c] + (y + Ly * z) * nh;
  ox[0] = o[nh - 1];
  memcpy(ox + 1, o, (size_t)nh * sizeof *o);
  ox[nh + 1] = o[0];
  nb[0] = a->s[1 - c] + (wrap(y - 1, Ly) + Ly * z) * nh;
  nb[1] = a->s[1 - c] + (wrap(y + 1, Ly) + Ly * z) * nh;
  nb[2] = d3 ? a->s[1 - c] + (y + Ly * wrap(z - 1, Lz)) * nh : NULL;
  nb[3] = d3 ? a->s[1 - c] + (y + Ly * wrap(z + 1, Lz)) * nh : NULL;
  return o;
}

/* The word of site (x, y, z) (periodic) and its colour. */
static inline uint64_t *site_word(const ising_msc_async *a, int64_t x, int64_t y, int64_t z) {
  x = wrap(x, a->L[0]);
  y = wrap(y, a->L[1]);
  z = a->dim == 3 ? wrap(z, a->L[2]) : 0;
  return a->s[(x + y + z) & 1] + (y + a->L[1] * z) * a->nh + x / 2;
}

static inline int lane_spin(const ising_msc_async *a, int64_t x, int64_t y, int64_t z, int l) {
  return (*site_word(a, x, y, z) >> l & 1) ? -1 : 1;
}

int ising_msc_async_get(const ising_msc_async *a, int lane, int64_t x, int64_t y, int64_t z,
                        int *spin) {
  ISING_CHECK(a && spin, ISING_ERR_INPUT, "msc-async: no object or output");
  ISING_CALL(check_lane(lane));
  *spin = lane_spin(a, x, y, z, lane);
  return ISING_OK;
}

int ising_msc_async_set(ising_msc_async *a, int lane, int64_t x, int64_t y, int64_t z, int spin) {
  ISING_CHECK(a, ISING_ERR_INPUT, "msc-async: no object");
  ISING_CALL(check_lane(lane));
  ISING_CHECK(spin == 1 || spin == -1, ISING_ERR_INPUT, "msc-async: a spin is +1 or -1, got %d", spin);
  uint64_t *w = site_word(a, x, y, z), bit = (uint64_t)1 << lane;
  *w = spin < 0 ? *w | bit : *w & ~bit;
  return ISING_OK;
}

/* The checks of a row transfer: the row exists, 1 <= nlanes <= 64. */
static int check_row(const ising_msc_async *a, int64_t y, int64_t z, int nlanes, const void *p) {
  ISING_CHECK(a && p, ISING_ERR_INPUT, "msc-async: no object or row buffers");
  ISING_CHECK(nlanes >= 1 && nlanes <= LANES, ISING_ERR_INPUT,
              "msc-async: %d lanes asked for, 1 .. 64 exist", nlanes);
  ISING_CHECK(y >= 0 && y < a->L[1] && (a->dim == 2 || (z >= 0 && z < a->L[2])), ISING_ERR_INPUT,
              "msc-async: row (y %lld, z %lld) is outside the lattice", (long long)y, (long long)z);
  return ISING_OK;
}

int ising_msc_async_get_row(const ising_msc_async *a, int64_t y, int64_t z, int nlanes,
                            int8_t *const *out) {
  ISING_CALL(check_row(a, y, z, nlanes, out));
  if (a->dim == 2) z = 0;
  const int64_t R = (y + a->L[1] * z) * a->nh;
  for (int64_t x = 0; x < a->L[0]; x++) {
    const uint64_t w = a->s[(x + y + z) & 1][R + x / 2];
    for (int l = 0; l < nlanes; l++) out[l][x] = (int8_t)(1 - 2 * (int)(w >> l & 1));
  }
  return ISING_OK;
}

int ising_msc_async_set_row(ising_msc_async *a, int64_t y, int64_t z, int nlanes,
                            const int8_t *const *in) {
  ISING_CALL(check_row(a, y, z, nlanes, in));
  if (a->dim == 2) z = 0;
  const int64_t R = (y + a->L[1] * z) * a->nh;
  const uint64_t keep = nlanes == LANES ? 0 : ~(uint64_t)0 << nlanes;
  for (int64_t x = 0; x < a->L[0]; x++) {
    uint64_t w = 0;
    for (int l = 0; l < nlanes; l++) {
      ISING_CHECK(in[l][x] == 1 || in[l][x] == -1, ISING_ERR_INPUT,
                  "msc-async: lane %d's spin at x = %lld is %d, not +1 or -1", l, (long long)x, in[l][x]);
      w |= (uint64_t)(in[l][x] < 0) << l;
    }
    uint64_t *p = &a->s[(x + y + z) & 1][R + x / 2];
    *p = (*p & keep) | w;
  }
  return ISING_OK;
}

int ising_msc_async_fill_cold(ising_msc_async *a, int spin) {
  ISING_CHECK(a, ISING_ERR_INPUT, "msc-async: no object");
  ISING_CHECK(spin == 1 || spin == -1, ISING_ERR_INPUT, "msc-async: a spin is +1 or -1, got %d", spin);
  size_t words = (size_t)(a->rows * a->nh);
  for (int c = 0; c < 2; c++)
    for (size_t i = 0; i < words; i++) a->s[c][i] = spin < 0 ? ~(uint64_t)0 : 0;
  return ISING_OK;
}

int ising_msc_async_fill_hot(ising_msc_async *a, ising_rng_key key, uint32_t replica_set) {
  ISING_CHECK(a, ISING_ERR_INPUT, "msc-async: no object");
  ISING_CHECK(replica_set < (1u << 24), ISING_ERR_INPUT, "msc-async: replica set %u >= 2^24",
              replica_set);
  const int64_t words = a->rows * a->nh;
  uint32_t buf[4 * 64];
  for (int c = 0; c < 2; c++) {
    const uint32_t c3 = ising_rng_c3(replica_set, ISING_RNG_INIT, c);
    for (int64_t h0 = 0; h0 < words; h0 += 128) { /* 64 blocks, two sites each */
      ising_rng_fill_blocks(key, (uint64_t)(h0 / 2), 64, 1, c3, buf, 64);
      for (int64_t h = h0; h < h0 + 128 && h < words; h++) {
        int64_t i = (h - h0) / 2, o = 2 * (h % 2);
        a->s[c][h] = (uint64_t)buf[o * 64 + i] | (uint64_t)buf[(o + 1) * 64 + i] << 32;
      }
    }
  }
  return ISING_OK;
}

/* ------------------------------------------------------------ kernel */

static inline int lane_class(uint64_t b0, uint64_t b1, uint64_t b2, uint64_t s, int l) {
  return (int)((b0 >> l & 1) | (b1 >> l & 1) << 1 | (b2 >> l & 1) << 2 | (s >> l & 1) << 3);
}

static inline uint64_t sel(uint64_t x, int bit) { return bit ? x : ~x; }

/* Round 0 of one word, lane by lane (the portable path).  Returns the flips
 * decided; *E gets the tied lanes. */
static inline uint64_t decide_portable(ising_msc_async *a, const uint64_t b[3], uint64_t s,
                                       uint64_t *E) {
  uint64_t U = 0;
  for (int x = 0; x < 16; x++)
    if (a->need >> x & 1) U |= sel(b[0], x & 1) & sel(b[1], x & 2) & sel(b[2], x & 4) & sel(s, x & 8);
  U &= a->active;
  as_stream *st = &a->st;
  as_ensure(st, INT64_MAX / 2);
  const uint8_t *r = as_bytes(st) + st->pos;
  st->pos += msc_popcount(U);
  uint64_t A = ~U & a->active, T = 0;
  for (uint64_t m = U; m; m &= m - 1) { /* no branch on the random outcome */
    const int l = __builtin_ctzll(m);
    const unsigned ub = *r++, tb = a->tb[0][lane_class(b[0], b[1], b[2], s, l)][l];
    A |= (uint64_t)(ub < tb) << l;
    T |= (uint64_t)(ub == tb) << l;
  }
  a->stat[1] += msc_popcount(U);
  *E = T;
  return A;
}

/* Word j's tied lanes E (if any: the slot is written every word and kept
 * only when E != 0, which saves a branch that a fifth of the words take). */
static inline void tie_push(ising_msc_async *a, int64_t *nt, int64_t j, uint64_t E) {
  a->tj[*nt] = j;
  a->tE[*nt] = E;
  *nt += E != 0;
}

/* Rounds 1..3 for the tied lanes of the row (words in order, lanes in
 * order), then the lanes equal in all four bytes move (u == t).  xa, xb
 * and nb as in row_kernel. */
static void ties_finish(ising_msc_async *a, int d3, uint64_t *sc, const uint64_t *xa,
                        const uint64_t *xb, const uint64_t *const *nb, int64_t nt) {
  as_stream *st = &a->st;
  for (int q = 1; q < 4; q++) {
    uint64_t any = 0;
    int pos = st->pos; /* in a register: the lanes' reads form a chain through it */
    for (int64_t i = 0; i < nt; i++) {
      if (!a->tE[i]) continue;
      const int64_t j = a->tj[i];
      const uint64_t s = sc[j]; /* the tied lanes' bits are their old spins */
      const uint64_t n[6] = {xa[j], xb[j], nb[0][j], nb[1][j], d3 ? nb[2][j] : 0, d3 ? nb[3][j] : 0};
      uint64_t b[3];
      msc_count_aligned(d3, s, n, b);
      if (st->end - pos < 64) {
        st->pos = pos;
        as_refill(st, (nt - i) + 64); /* about a byte per tied word */
        pos = st->pos;
      }
      const uint8_t *r = as_bytes(st);
      uint64_t E2 = 0, A = 0;
      for (uint64_t m = a->tE[i]; m; m &= m - 1) { /* branch-free: the outcomes are coin flips */
        const int l = __builtin_ctzll(m);
        const uint64_t bit = (uint64_t)1 << l;
        const uint8_t ub = r[pos++], tb = a->tb[q][lane_class(b[0], b[1], b[2], s, l)][l];
        A |= bit & -(uint64_t)(ub < tb);
        E2 |= bit & -(uint64_t)(ub == tb);
      }
      sc[j] = s ^ A;
      a->tE[i] = E2;
      any |= E2;
    }
    st->pos = pos;
    if (!any) break;
  }
  for (int64_t i = 0; i < nt; i++) sc[a->tj[i]] ^= a->tE[i];
}

#ifdef MSC_SIMD
/* ties_finish with the round-q decisions of a word made at once (as round
 * 0: threshold row by masked moves, one expand, one compare); the same
 * bytes in the same order, without the lane loop's unpredictable exits. */
static void ties_finish_simd(ising_msc_async *a, int d3, uint64_t *sc, const uint64_t *xa,
                             const uint64_t *xb, const uint64_t *const *nb, int64_t nt) {
  as_stream *st = &a->st;
  const int ng = a->ng;
  for (int q = 1; q < 4; q++) {
    __m512i trow[16];
    for (int i = 0; i < ng; i++) trow[i] = _mm512_loadu_si512(a->tb[q][a->g[i].x]);
    const __m512i tlast = ng ? trow[ng - 1] : _mm512_setzero_si512();
    uint64_t any = 0;
    int pos = st->pos;
    for (int64_t i = 0; i < nt; i++) {
      const uint64_t E = a->tE[i];
      if (!E) continue;
      const int64_t j = a->tj[i];
      const uint64_t s = sc[j]; /* the tied lanes' bits are their old spins */
      const uint64_t n[6] = {xa[j], xb[j], nb[0][j], nb[1][j], d3 ? nb[2][j] : 0, d3 ? nb[3][j] : 0};
      uint64_t b[3];
      msc_count_aligned(d3, s, n, b);
      __m512i th = tlast;
      for (int g = 0; g < ng - 1; g++) {
        const as_group *G = &a->g[g];
        const uint64_t m = MSC_MATCH(b[0], b[1], b[2], s, G);
        th = _mm512_mask_mov_epi8(th, m, trow[g]);
      }
      if (st->end - pos < 64) {
        st->pos = pos;
        as_refill(st, (nt - i) + 64); /* about a byte per tied word */
        pos = st->pos;
      }
      const __m512i u = _mm512_maskz_expand_epi8(E, _mm512_loadu_si512(as_bytes(st) + pos));
      pos += msc_popcount(E);
      const uint64_t E2 = _mm512_mask_cmpeq_epu8_mask(E, u, th);
      sc[j] = s ^ _mm512_mask_cmplt_epu8_mask(E, u, th);
      a->tE[i] = E2;
      any |= E2;
    }
    st->pos = pos;
    if (!any) break;
  }
  for (int64_t i = 0; i < nt; i++) sc[a->tj[i]] ^= a->tE[i];
}
#endif

#ifdef MSC_AVX2
/* Round 0 of word j on the AVX2 path with ng groups: the lanes needing
 * bytes U, the groups' class masks cm (stride nh + 8); *E gets the ties. */
static inline __attribute__((always_inline)) uint64_t round0_avx2(int ng, const uint64_t *bytemask,
                                                                  const uint64_t *bytepat,
                                                                  const uint8_t *r, uint64_t U,
                                                                  const uint64_t *cm, int64_t stride,
                                                                  const __m256i (*trow)[2], uint64_t *E) {
  __m256i ulo, uhi;
  msc_expand64(bytemask, bytepat, r, U, &ulo, &uhi);
  const __m256i flip = _mm256_set1_epi8((char)0x80);
  ulo = _mm256_xor_si256(ulo, flip);
  uhi = _mm256_xor_si256(uhi, flip);
  uint64_t lt = 0, eq = 0;
  for (int g = 0; g < ng; g++) {
    const uint64_t m = cm[g * stride];
    lt |= m & msc_lt64(ulo, uhi, trow[g][0], trow[g][1]);
    eq |= m & msc_eq64(ulo, uhi, trow[g][0], trow[g][1]);
  }
  *E = eq & U; /* the class masks hold frozen lanes too */
  return lt & U;
}
#endif

#ifdef MSC_AVX2
/* The neighbour counts of four words on AVX2: the neighbours xa, xb, nb[0..1]
 * (and nb[2..3] in 3D) of words j0 .. j0+3, each XORed with X, added as bits:
 * the count's bit planes b[0..2] (X = ~spins: aligned neighbours, as
 * msc_count_aligned; X = spins: anti-aligned ones). */
static inline void avx2_count4(int d3, __m256i X, const uint64_t *xa, const uint64_t *xb,
                               const uint64_t *const *nb, int64_t j0, __m256i b[3]) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i a[6] = {_mm256_xor_si256(X, _mm256_loadu_si256((const __m256i *)(xa + j0))),
                        _mm256_xor_si256(X, _mm256_loadu_si256((const __m256i *)(xb + j0))),
                        _mm256_xor_si256(X, _mm256_loadu_si256((const __m256i *)(nb[0] + j0))),
                        _mm256_xor_si256(X, _mm256_loadu_si256((const __m256i *)(nb[1] + j0))),
                        d3 ? _mm256_xor_si256(X, _mm256_loadu_si256((const __m256i *)(nb[2] + j0))) : zero,
                        d3 ? _mm256_xor_si256(X, _mm256_loadu_si256((const __m256i *)(nb[3] + j0))) : zero};
  msc_count4(d3, a, b);
}
#endif

/* One row of colour c: its words sc, the other colour's row with periodic
 * ends in a->ox (site j's x neighbours are ox[j + p] and ox[j + p + 1]),
 * the other colour's words of the rows beside it in nb[0..2d-3]. */
static inline __attribute__((always_inline)) void row_kernel(ising_msc_async *a, int d3,
                                                             uint64_t *sc, const uint64_t *xa,
                                                             const uint64_t *xb,
                                                             const uint64_t *const *nb) {
  const int64_t nh = a->nh;
  int64_t nt = 0;
#ifdef MSC_SIMD
  if (a->simd) {
    const int ng = a->ng;
    __m512i K[16][5], trow[16];
    for (int i = 0; i < ng; i++) {
      K[i][0] = _mm512_set1_epi64((long long)a->g[i].k0);
      K[i][1] = _mm512_set1_epi64((long long)a->g[i].k1);
      K[i][2] = _mm512_set1_epi64((long long)a->g[i].k2);
      K[i][3] = _mm512_set1_epi64((long long)a->g[i].ks);
      K[i][4] = _mm512_set1_epi64((long long)a->g[i].ko);
      trow[i] = _mm512_loadu_si512(a->tb[0][a->g[i].x]);
    }
    const __m512i tlast = ng ? trow[ng - 1] : _mm512_setzero_si512();
    const __m512i act = _mm512_set1_epi64((long long)a->active);
    as_stream *st = &a->st;
    __m512i Dv = _mm512_setzero_si512(); /* decisions per element */
    /* (a) counts and the class masks of the lanes that need bytes, eight
     * words per register, into the row's scratch: a word's masks are read
     * back long after they were stored (stored as a 512-bit vector and read
     * as one element right away, they stalled the loop) */
    for (int64_t j0 = 0; j0 < nh; j0 += 8) {
      const int cnt = nh - j0 < 8 ? (int)(nh - j0) : 8;
      const __mmask8 lm = (__mmask8)((1u << cnt) - 1);
      const __m512i S = _mm512_maskz_loadu_epi64(lm, sc + j0);
      /* aligned masks ~(s ^ n): ternary logic 0xC3 = ~(a ^ b) */
      __m512i a0 = _mm512_ternarylogic_epi64(S, _mm512_maskz_loadu_epi64(lm, xa + j0), S, 0xC3);
      __m512i a1 = _mm512_ternarylogic_epi64(S, _mm512_maskz_loadu_epi64(lm, xb + j0), S, 0xC3);
      __m512i a2 = _mm512_ternarylogic_epi64(S, _mm512_maskz_loadu_epi64(lm, nb[0] + j0), S, 0xC3);
      __m512i a3 = _mm512_ternarylogic_epi64(S, _mm512_maskz_loadu_epi64(lm, nb[1] + j0), S, 0xC3);
      __m512i s1, c1, s2, c2;
      if (!d3) {
        s1 = _mm512_xor_si512(a0, a1), c1 = _mm512_and_si512(a0, a1);
        s2 = _mm512_xor_si512(a2, a3), c2 = _mm512_and_si512(a2, a3);
      } else {
        __m512i a4 = _mm512_ternarylogic_epi64(S, _mm512_maskz_loadu_epi64(lm, nb[2] + j0), S, 0xC3);
        __m512i a5 = _mm512_ternarylogic_epi64(S, _mm512_maskz_loadu_epi64(lm, nb[3] + j0), S, 0xC3);
        /* full adders: sum 0x96 (a ^ b ^ c), carry 0xE8 (majority) */
        s1 = _mm512_ternarylogic_epi64(a0, a1, a2, 0x96), c1 = _mm512_ternarylogic_epi64(a0, a1, a2, 0xE8);
        s2 = _mm512_ternarylogic_epi64(a3, a4, a5, 0x96), c2 = _mm512_ternarylogic_epi64(a3, a4, a5, 0xE8);
      }
      const __m512i k = _mm512_and_si512(s1, s2);
      const __m512i B0 = _mm512_xor_si512(s1, s2);
      const __m512i B1 = _mm512_ternarylogic_epi64(c1, c2, k, 0x96);
      const __m512i B2 = _mm512_ternarylogic_epi64(c1, c2, k, 0xE8);
      __m512i Uv = _mm512_setzero_si512();
      for (int i = 0; i < ng; i++) {
        __m512i m = _mm512_and_si512(_mm512_xor_si512(B0, K[i][0]), _mm512_xor_si512(B1, K[i][1]));
        m = _mm512_and_si512(m, _mm512_xor_si512(B2, K[i][2]));
        m = _mm512_and_si512(m, _mm512_or_si512(_mm512_xor_si512(S, K[i][3]), K[i][4]));
        _mm512_storeu_si512(a->rcm + i * (nh + 8) + j0, m);
        Uv = _mm512_or_si512(Uv, m);
      }
      _mm512_storeu_si512(a->rU + j0, _mm512_and_si512(Uv, act));
    }
    /* (b) round 0, word by word; the stream position in a register (the
     * struct sees it at refills) */
    int pos = st->pos;
    const uint64_t *cm = a->rcm;
    for (int64_t j = 0; j < nh; j++) {
      const uint64_t U = a->rU[j];
      __m512i th = tlast;
      for (int i = 0; i < ng - 1; i++) th = _mm512_mask_mov_epi8(th, cm[i * (nh + 8) + j], trow[i]);
      pos = as_ensure_row(st, pos, j, nh);
      const __m512i u = _mm512_maskz_expand_epi8(U, _mm512_loadu_si512(as_bytes(st) + pos));
      pos += msc_popcount(U);
      a->rlt[j] = _mm512_mask_cmplt_epu8_mask(U, u, th);
      a->req[j] = _mm512_mask_cmpeq_epu8_mask(U, u, th);
    }
    st->pos = pos;
    /* (c) flips (the p = 1 lanes and the accepted ones) and the tied words,
     * eight words at once: a fifth of the words have a tie, so a branch per
     * word would be mispredicted */
    for (int64_t j0 = 0; j0 < nh; j0 += 8) {
      const int cnt = nh - j0 < 8 ? (int)(nh - j0) : 8;
      const __mmask8 lm = (__mmask8)((1u << cnt) - 1);
      const __m512i Uv = _mm512_maskz_loadu_epi64(lm, a->rU + j0);
      const __m512i Ev = _mm512_maskz_loadu_epi64(lm, a->req + j0);
      const __mmask8 te = _mm512_test_epi64_mask(Ev, Ev);
      _mm512_storeu_si512(a->tE + nt, _mm512_maskz_compress_epi64(te, Ev));
      _mm512_storeu_si512(a->tj + nt, _mm512_maskz_compress_epi64(
          te, _mm512_add_epi64(_mm512_set1_epi64(j0), _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7))));
      nt += msc_popcount(te);
      /* the active lanes without random bytes (p = 1) and the accepted ones */
      const __m512i F = _mm512_or_si512(_mm512_andnot_si512(Uv, act),
                                        _mm512_maskz_loadu_epi64(lm, a->rlt + j0));
      _mm512_mask_storeu_epi64(sc + j0, lm, _mm512_xor_si512(_mm512_maskz_loadu_epi64(lm, sc + j0), F));
      Dv = _mm512_mask_add_epi64(Dv, lm, Dv, _mm512_popcnt_epi64(Uv)); /* tail elements are not lanes */
    }
    a->stat[1] += _mm512_reduce_add_epi64(Dv);
  } else
#elif defined(MSC_AVX2)
  if (a->simd) {
    const int ng = a->ng;
    const int64_t stride = nh + 8;
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    __m256i trow[16][2];
    for (int i = 0; i < ng; i++)
      for (int h = 0; h < 2; h++)
        trow[i][h] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(a->tb[0][a->g[i].x] + 32 * h)), flip);
    as_stream *st = &a->st;
    /* (a) counts and class masks, four words per register (a scalar tail) */
    int64_t j0 = 0;
    for (; j0 + 4 <= nh; j0 += 4) {
      const __m256i S = _mm256_loadu_si256((const __m256i *)(sc + j0));
      const __m256i nS = _mm256_xor_si256(S, _mm256_set1_epi64x(-1));
      __m256i B[3];
      avx2_count4(d3, nS, xa, xb, nb, j0, B);
      const __m256i B0 = B[0], B1 = B[1], B2 = B[2];
      __m256i Uv = _mm256_setzero_si256();
      for (int i = 0; i < ng; i++) {
        const as_group *G = &a->g[i];
        const __m256i m = msc_match4(B0, B1, B2, S, G->k0, G->k1, G->k2, G->ks, G->ko);
        _mm256_storeu_si256((__m256i *)(a->rcm + i * stride + j0), m);
        Uv = _mm256_or_si256(Uv, m);
      }
      _mm256_storeu_si256((__m256i *)(a->rU + j0),
                          _mm256_and_si256(Uv, _mm256_set1_epi64x((long long)a->active)));
    }
    for (; j0 < nh; j0++) {
      const uint64_t s = sc[j0];
      const uint64_t n[6] = {xa[j0], xb[j0], nb[0][j0], nb[1][j0], d3 ? nb[2][j0] : 0, d3 ? nb[3][j0] : 0};
      uint64_t b[3], Us = 0;
      msc_count_aligned(d3, s, n, b);
      for (int i = 0; i < ng; i++) {
        const as_group *G = &a->g[i];
        const uint64_t m = MSC_MATCH(b[0], b[1], b[2], s, G);
        a->rcm[i * stride + j0] = m;
        Us |= m;
      }
      a->rU[j0] = Us & a->active;
    }
    /* (b) round 0 word by word, (c) the flips and the tied words */
    int pos = st->pos;
    int64_t dec = 0;
    const uint64_t *const bp = a->soft ? a->bytepat : NULL;
    for (int64_t j = 0; j < nh; j++) {
      const uint64_t U = a->rU[j];
      pos = as_ensure_row(st, pos, j, nh);
      uint64_t E, A;
      const uint8_t *r = as_bytes(st) + pos;
      if (ng == 2) A = round0_avx2(2, a->bytemask, bp, r, U, a->rcm + j, stride, (const __m256i(*)[2])trow, &E);
      else if (ng == 3) A = round0_avx2(3, a->bytemask, bp, r, U, a->rcm + j, stride, (const __m256i(*)[2])trow, &E);
      else A = round0_avx2(ng, a->bytemask, bp, r, U, a->rcm + j, stride, (const __m256i(*)[2])trow, &E);
      const int n = msc_popcount(U);
      pos += n;
      dec += n;
      sc[j] ^= (~U & a->active) | A;
      tie_push(a, &nt, j, E);
    }
    st->pos = pos;
    a->stat[1] += dec;
  } else
#else
  if (a->simd) { /* portable: a word's bytes expanded into its lanes, one compare per group */
    const int ng = a->ng;
    as_stream *st = &a->st;
    int pos = st->pos;
    int64_t dec = 0;
    for (int64_t j = 0; j < nh; j++) {
      const uint64_t s = sc[j];
      const uint64_t n[6] = {xa[j], xb[j], nb[0][j], nb[1][j], d3 ? nb[2][j] : 0, d3 ? nb[3][j] : 0};
      uint64_t b[3], cm[16], U = 0;
      msc_count_aligned(d3, s, n, b);
      for (int i = 0; i < ng; i++) {
        const as_group *G = &a->g[i];
        U |= cm[i] = MSC_MATCH(b[0], b[1], b[2], s, G);
      }
      U &= a->active;
      pos = as_ensure_row(st, pos, j, nh);
      uint64_t u[8], A = 0, E = 0;
      msc_bexp(a->bexp, as_bytes(st) + pos, U, u);
      for (int i = 0; i < ng; i++) {
        uint64_t lt, eq;
        msc_cmp_lanes(u, a->tb[0][a->g[i].x], &lt, &eq);
        A |= cm[i] & lt;
        E |= cm[i] & eq;
      }
      const int k = msc_popcount(U);
      pos += k;
      dec += k;
      sc[j] = s ^ ((~U & a->active) | (A & U));
      tie_push(a, &nt, j, E & U);
    }
    st->pos = pos;
    a->stat[1] += dec;
  } else
#endif
  {
    for (int64_t j = 0; j < nh; j++) {
      const uint64_t s = sc[j];
      const uint64_t n[6] = {xa[j], xb[j], nb[0][j], nb[1][j], d3 ? nb[2][j] : 0, d3 ? nb[3][j] : 0};
      uint64_t b[3], E;
      msc_count_aligned(d3, s, n, b);
      sc[j] = s ^ decide_portable(a, b, s, &E);
      tie_push(a, &nt, j, E);
    }
  }
#ifdef MSC_SIMD
  if (nt && a->simd) {
    ties_finish_simd(a, d3, sc, xa, xb, nb, nt);
    return;
  }
#endif
  if (nt) ties_finish(a, d3, sc, xa, xb, nb, nt);
}

static void row_kernel_2d(ising_msc_async *a, uint64_t *sc, const uint64_t *xa, const uint64_t *xb,
                          const uint64_t *const *nb) {
  row_kernel(a, 0, sc, xa, xb, nb);
}
static void row_kernel_3d(ising_msc_async *a, uint64_t *sc, const uint64_t *xa, const uint64_t *xb,
                          const uint64_t *const *nb) {
  row_kernel(a, 1, sc, xa, xb, nb);
}

/* The neighbour words of row R of colour c as the kernel reads them: xa,
 * xb its x neighbours (ox + p, ox + p + 1), nb[] as other_row gives them.
 * With bond signs, each is replaced by a row of eff holding the neighbour
 * words XOR the signs of the bonds to them, so that the counts of aligned
 * lanes count the satisfied bonds (s_i w_ij s_j = +1). */
static void signed_row(const ising_msc_async *a, uint64_t *eff, int c, int64_t R, const uint64_t **xa,
                       const uint64_t **xb, const uint64_t **nb) {
  if (!a->sg[0][0]) return;
  const int64_t nh = a->nh, st = nh + 8;
  const int z = a->z;
  const uint64_t *src[6] = {*xa, *xb, nb[0], nb[1], z == 6 ? nb[2] : NULL, z == 6 ? nb[3] : NULL};
  for (int d = 0; d < z; d++) {
    const uint64_t *g = a->sg[c][d] + R * nh;
    uint64_t *e = eff + d * st;
    for (int64_t j = 0; j < nh; j++) e[j] = src[d][j] ^ g[j];
  }
  *xa = eff;
  *xb = eff + st;
  for (int d = 2; d < z; d++) nb[d - 2] = eff + d * st;
}

static int check_half(const ising_msc_async *a, int c, uint32_t replica_set) {
  ISING_CHECK(a, ISING_ERR_INPUT, "msc-async: no object");
  ISING_CHECK(c == 0 || c == 1, ISING_ERR_INPUT, "msc-async: colour %d is not 0 or 1", c);
  ISING_CHECK(replica_set < (1u << 24), ISING_ERR_INPUT, "msc-async: replica set %u >= 2^24",
              replica_set);
  return ISING_OK;
}

int ising_msc_async_half(ising_msc_async *a, int c, uint64_t sweep, ising_rng_key key,
                         uint32_t replica_set) {
  ISING_CALL(check_half(a, c, replica_set));
  const uint32_t c2 = (uint32_t)sweep, c3 = ising_rng_c3(replica_set, ISING_RNG_MSC_ASYNC, c);
  const int64_t nh = a->nh, Ly = a->L[1], Lz = a->L[2];
  const int d3 = a->dim == 3;
  a->st.blocks = 0;
  for (int64_t z = 0; z < Lz; z++)
    for (int64_t y = 0; y < Ly; y++) {
      const int64_t R = y + Ly * z;
      const int p = (int)((c + y + z) & 1); /* colour-c sites of the row: x = 2 j + p */
      const uint64_t *nb[4], *xa = a->ox + p, *xb = a->ox + p + 1;
      other_row(a, c, y, z, a->ox, nb);
      signed_row(a, a->eff, c, R, &xa, &xb, nb);
      as_start(&a->st, key, (uint64_t)R, c2, c3);
      if (d3) row_kernel_3d(a, a->s[c] + R * nh, xa, xb, nb);
      else row_kernel_2d(a, a->s[c] + R * nh, xa, xb, nb);
      /* bytes read: the row's chunks minus the unread tail */
      a->stat[2] += (int64_t)a->st.next * MSC_CHUNK_BYTES - (a->st.end - a->st.pos);
    }
  a->stat[0] += a->rows * nh;
  a->stat[3] += a->st.blocks;
  return ISING_OK;
}

/* ------------------------------------------------------------ reference */

/* A row's stream one byte at a time (msc_impl.h written out, through
 * Random123 itself): byte n is in chunk n / 256, output word o = (n % 256) /
 * 64 of its block i = (n % 64) / 4, byte n % 4 of that word from the least
 * significant.  The chunk's 16 blocks are kept. */
typedef struct byte_stream {
  ising_rng_key key;
  uint64_t row;
  uint32_t c2, c3;
  int64_t n, chunk;
  uint32_t x[MSC_CHUNK_BLOCKS][4];
} byte_stream;

static unsigned next_byte(byte_stream *b) {
  const int64_t nb = MSC_CHUNK_BLOCKS, chunk = b->n / (16 * nb), o = (b->n % (16 * nb)) / (4 * nb),
                i = (b->n % (4 * nb)) / 4, byte = b->n % 4;
  if (chunk != b->chunk) {
    for (int64_t k = 0; k < nb; k++)
      ising_rng_block(b->key, b->row * MSC_ROW_BLOCKS + (uint64_t)(chunk * nb + k), b->c2, b->c3,
                      b->x[k]);
    b->chunk = chunk;
  }
  b->n++;
  return b->x[i][o] >> (8 * byte) & 0xFF;
}

int ising_msc_async_half_reference(ising_msc_async *a, int c, uint64_t sweep, ising_rng_key key,
                                   uint32_t replica_set) {
  ISING_CALL(check_half(a, c, replica_set));
  const int64_t nh = a->nh, n = nh * LANES;
  ising_model *m = malloc(LANES * sizeof *m);
  int *spin = malloc((size_t)n * sizeof *spin), *open = malloc((size_t)n * sizeof *open);
  int *move = malloc((size_t)n * sizeof *move);
  uint32_t *thr = malloc((size_t)n * sizeof *thr);
  byte_stream *bs = malloc(sizeof *bs);
  int rc = ISING_OK;
  if (!m || !spin || !open || !move || !thr || !bs)
    rc = ISING_ERR(ISING_ERR_MEM, "msc-async: out of memory (reference)");
  for (int l = 0; l < LANES && !rc; l++)
    rc = ising_model_init(&m[l], a->dim, a->J, a->H, a->T[l], ISING_ALG_METROPOLIS);
  for (int64_t z = 0; z < a->L[2] && !rc; z++)
    for (int64_t y = 0; y < a->L[1]; y++) {
      const int p = (int)((c + y + z) & 1); /* colour-c sites of the row: x = 2 j + p */
      for (int64_t j = 0; j < nh; j++)
        for (int l = 0; l < LANES; l++) {
          const int64_t x = 2 * j + p, i = j * LANES + l;
          int s = lane_spin(a, x, y, z, l);
          const int on = (int)(a->active >> l & 1); /* an inactive lane never moves */
          spin[i] = s;
          if (!a->cp[l]) {
            int nbs = lane_spin(a, x - 1, y, z, l) + lane_spin(a, x + 1, y, z, l) +
                      lane_spin(a, x, y - 1, z, l) + lane_spin(a, x, y + 1, z, l);
            if (a->dim == 3) nbs += lane_spin(a, x, y, z - 1, l) + lane_spin(a, x, y, z + 1, l);
            thr[i] = m[l].thr[ising_model_index(&m[l], s, nbs)];
            open[i] = on && class_needs(a->J, a->H, s, nbs);
          } else { /* model.h's rule at the weighted neighbour sum */
            static const int dx[6] = {-1, 1, 0, 0, 0, 0}, dy[6] = {0, 0, -1, 1, 0, 0},
                             dz[6] = {0, 0, 0, 0, -1, 1};
            int64_t nw = 0;
            for (int d = 0; d < a->z; d++)
              nw += (int64_t)lane_w(a, a->cp[l], x, y, z, d) *
                    lane_spin(a, x + dx[d], y + dy[d], z + dz[d], l);
            const double local = ising_couplings_local(a->cp[l], nw, 0);
            thr[i] = ising_model_threshold(ising_model_probability_local(&m[l], s, local));
            open[i] = on && 2.0 * s * local > 0; /* dE > 0 */
          }
          move[i] = on && !open[i]; /* dE <= 0: p = 1 */
        }
      /* byte q of u (most significant first) for every open lane of the
       * row, sites in order and lanes in order within a site, q = 0..3; the
       * first byte that differs from t's decides */
      *bs = (byte_stream){.key = key, .row = (uint64_t)(y + a->L[1] * z), .c2 = (uint32_t)sweep,
                          .c3 = ising_rng_c3(replica_set, ISING_RNG_MSC_ASYNC, c), .n = 0, .chunk = -1};
      for (int q = 0; q < 4; q++)
        for (int64_t i = 0; i < n; i++) {
          if (!open[i]) continue;
          unsigned ub = next_byte(bs), tb = thr[i] >> (24 - 8 * q) & 0xFF;
          if (ub != tb) {
            open[i] = 0;
            move[i] = ub < tb;
          }
        }
      for (int64_t j = 0; j < nh; j++)
        for (int l = 0; l < LANES; l++) {
          const int64_t i = j * LANES + l;
          if (open[i]) move[i] = 1; /* u == t */
          if (move[i]) ising_msc_async_set(a, l, 2 * j + p, y, z, -spin[i]);
        }
    }
  free(m);
  free(spin);
  free(open);
  free(move);
  free(thr);
  free(bs);
  return rc;
}

/* ------------------------------------------------------------ sums */

/* Per-lane weighted counts of set bits (a positional population count):
 * add(w, k) adds k to the count of every lane whose bit is set in w.  On
 * AVX-512 the lanes' counts are bytes of one register (one masked add per
 * word), carried into 16-bit and then 64-bit counts before they can
 * overflow; portably a loop over the lanes. */
typedef struct lane_count {
#if defined(__AVX512BW__)
  __m512i c8, c16[2];
  int n8, n16;
#endif
  int64_t tot[LANES];
} lane_count;

static void lc_init(lane_count *c) {
#if defined(__AVX512BW__)
  c->c8 = c->c16[0] = c->c16[1] = _mm512_setzero_si512();
  c->n8 = c->n16 = 0;
#endif
  memset(c->tot, 0, sizeof c->tot);
}

#if defined(__AVX512BW__)
static void lc_flush16(lane_count *c) {
  uint16_t t[LANES];
  _mm512_storeu_si512(t, c->c16[0]);
  _mm512_storeu_si512(t + 32, c->c16[1]);
  for (int l = 0; l < LANES; l++) c->tot[l] += t[l];
  c->c16[0] = c->c16[1] = _mm512_setzero_si512();
  c->n16 = 0;
}
static void lc_flush8(lane_count *c) {
  c->c16[0] = _mm512_add_epi16(c->c16[0], _mm512_cvtepu8_epi16(_mm512_castsi512_si256(c->c8)));
  c->c16[1] = _mm512_add_epi16(c->c16[1], _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(c->c8, 1)));
  c->c8 = _mm512_setzero_si512();
  c->n8 = 0;
  if (++c->n16 == 256) lc_flush16(c); /* 256 x 255 < 2^16 */
}
#endif

/* Add bits of w with weight k; lc_unit after adds of at most 7 in all, so
 * that the byte counts, flushed every 36 units, stay below 256. */
static inline void lc_add(lane_count *c, uint64_t w, int k) {
#if defined(__AVX512BW__)
  c->c8 = _mm512_mask_add_epi8(c->c8, w, c->c8, _mm512_set1_epi8((char)k));
#else
  for (int l = 0; l < LANES; l++) c->tot[l] += (int64_t)(w >> l & 1) * k;
#endif
}
static inline void lc_unit(lane_count *c) {
#if defined(__AVX512BW__)
  if (++c->n8 == 36) lc_flush8(c); /* 36 x 7 = 252 */
#else
  (void)c;
#endif
}
static void lc_done(lane_count *c) {
#if defined(__AVX512BW__)
  lc_flush8(c);
  lc_flush16(c);
#else
  (void)c;
#endif
}

/* Count planes of the anti-aligned neighbours (s ^ n) of words j0 .. j0 +
 * cnt - 1 of a colour-0 row (neighbours as in row_kernel) into b[0..2][w]:
 * msc_count_aligned of ~s, eight words per register where AVX-512 is built. */
static inline void anti_planes8(int d3, const uint64_t *sc, const uint64_t *xa, const uint64_t *xb,
                                const uint64_t *const *nb, int64_t j0, int cnt, uint64_t b[3][8]) {
#if defined(__AVX512F__)
  const __mmask8 lm = (__mmask8)((1u << cnt) - 1);
  const __m512i S = _mm512_maskz_loadu_epi64(lm, sc + j0);
  const __m512i a0 = _mm512_xor_si512(S, _mm512_maskz_loadu_epi64(lm, xa + j0));
  const __m512i a1 = _mm512_xor_si512(S, _mm512_maskz_loadu_epi64(lm, xb + j0));
  const __m512i a2 = _mm512_xor_si512(S, _mm512_maskz_loadu_epi64(lm, nb[0] + j0));
  const __m512i a3 = _mm512_xor_si512(S, _mm512_maskz_loadu_epi64(lm, nb[1] + j0));
  __m512i s1, c1, s2, c2;
  if (!d3) {
    s1 = _mm512_xor_si512(a0, a1), c1 = _mm512_and_si512(a0, a1);
    s2 = _mm512_xor_si512(a2, a3), c2 = _mm512_and_si512(a2, a3);
  } else {
    const __m512i a4 = _mm512_xor_si512(S, _mm512_maskz_loadu_epi64(lm, nb[2] + j0));
    const __m512i a5 = _mm512_xor_si512(S, _mm512_maskz_loadu_epi64(lm, nb[3] + j0));
    s1 = _mm512_ternarylogic_epi64(a0, a1, a2, 0x96), c1 = _mm512_ternarylogic_epi64(a0, a1, a2, 0xE8);
    s2 = _mm512_ternarylogic_epi64(a3, a4, a5, 0x96), c2 = _mm512_ternarylogic_epi64(a3, a4, a5, 0xE8);
  }
  const __m512i k = _mm512_and_si512(s1, s2);
  _mm512_storeu_si512(b[0], _mm512_xor_si512(s1, s2));
  _mm512_storeu_si512(b[1], _mm512_ternarylogic_epi64(c1, c2, k, 0x96));
  _mm512_storeu_si512(b[2], _mm512_ternarylogic_epi64(c1, c2, k, 0xE8));
#elif defined(MSC_AVX2)
  if (cnt == 4) { /* (the compiler's vector version of the loop below loads the
                   * 2D lattice's absent z rows with masked loads from NULL:
                   * a microcode assist per load on AMD, 15x slower) */
    __m256i B[3];
    avx2_count4(d3, _mm256_loadu_si256((const __m256i *)(sc + j0)), xa, xb, nb, j0, B);
    for (int q = 0; q < 3; q++) _mm256_storeu_si256((__m256i *)b[q], B[q]);
    return;
  }
  for (int w = 0; w < cnt; w++) {
    const int64_t j = j0 + w;
    const uint64_t n[6] = {xa[j], xb[j], nb[0][j], nb[1][j], d3 ? nb[2][j] : 0, d3 ? nb[3][j] : 0};
    uint64_t t[3];
    msc_count_aligned(d3, ~sc[j], n, t);
    b[0][w] = t[0], b[1][w] = t[1], b[2][w] = t[2];
  }
#else
  for (int w = 0; w < cnt; w++) {
    const int64_t j = j0 + w;
    const uint64_t n[6] = {xa[j], xb[j], nb[0][j], nb[1][j], d3 ? nb[2][j] : 0, d3 ? nb[3][j] : 0};
    uint64_t t[3];
    msc_count_aligned(d3, ~sc[j], n, t); /* aligned with ~s: the lanes where s ^ n = 1 */
    b[0][w] = t[0], b[1][w] = t[1], b[2][w] = t[2];
  }
#endif
}

#if defined(__AVX512BW__) || defined(MSC_AVX2)
/* The vectors of the carry-save counts below: eight words (AVX-512) or
 * four (AVX2) per register. */
#if defined(__AVX512BW__)
typedef __m512i hs_vec;
#define HS_W 8
static inline hs_vec hs_zero(void) { return _mm512_setzero_si512(); }
static inline hs_vec hs_xor(hs_vec a, hs_vec b) { return _mm512_xor_si512(a, b); }
static inline hs_vec hs_and(hs_vec a, hs_vec b) { return _mm512_and_si512(a, b); }
#else
typedef __m256i hs_vec;
#define HS_W 4
static inline hs_vec hs_zero(void) { return _mm256_setzero_si256(); }
static inline hs_vec hs_xor(hs_vec a, hs_vec b) { return _mm256_xor_si256(a, b); }
static inline hs_vec hs_and(hs_vec a, hs_vec b) { return _mm256_and_si256(a, b); }
static inline hs_vec hs_load(const uint64_t *p, int cnt) {
  if (cnt == HS_W) return _mm256_loadu_si256((const __m256i *)p);
  return _mm256_maskload_epi64((const long long *)p,
                               _mm256_cmpgt_epi64(_mm256_set1_epi64x(cnt), _mm256_setr_epi64x(0, 1, 2, 3)));
}
#endif
/* Large lattices: the per-lane counts by Harley-Seal carry-save adders on
 * HS_W words per register.  Each stream of count planes (weight w) goes
 * sixteen vectors at a time through a tree of carry-save adders into the
 * running ones/twos/fours/eights and one vector of sixteens, which is
 * added with carries into a bit-sliced counter V (plane k: 16 * 2^k); a
 * count is read out lane by lane only at the end.  About 2 bitwise
 * operations per word and stream instead of a masked add per word and
 * plane: 1.0 instead of 1.7 ms at 2D L = 1024 here; at L = 4096 reading
 * the 256 MiB of spins bounds it (36 instead of 45 ms). */
#define HS_PLANES 44
typedef struct hs_acc {
  hs_vec in[16];
  hs_vec ones, twos, fours, eights;
  hs_vec V[HS_PLANES];
  int n;       /* buffered inputs */
  int64_t g;   /* groups of sixteen added to V: V <= g in every position */
} hs_acc;

static void hs_init(hs_acc *h) {
  h->ones = h->twos = h->fours = h->eights = hs_zero();
  for (int k = 0; k < HS_PLANES; k++) h->V[k] = hs_zero();
  h->n = 0;
  h->g = 0;
}

/* carry-save adder: *hi, *lo = majority and parity of a, b, c */
static inline void hs_csa(hs_vec *hi, hs_vec *lo, hs_vec a, hs_vec b, hs_vec c) {
#if defined(__AVX512BW__)
  *hi = _mm512_ternarylogic_epi64(a, b, c, 0xE8);
  *lo = _mm512_ternarylogic_epi64(a, b, c, 0x96);
#else
  const hs_vec t = hs_xor(a, b);
  *hi = _mm256_or_si256(hs_and(a, b), hs_and(t, c));
  *lo = hs_xor(t, c);
#endif
}

static void hs_group(hs_acc *h) {
  const hs_vec *d = h->in;
  hs_vec twosA, twosB, foursA, foursB, eightsA, eightsB, sixteens;
  hs_csa(&twosA, &h->ones, h->ones, d[0], d[1]);
  hs_csa(&twosB, &h->ones, h->ones, d[2], d[3]);
  hs_csa(&foursA, &h->twos, h->twos, twosA, twosB);
  hs_csa(&twosA, &h->ones, h->ones, d[4], d[5]);
  hs_csa(&twosB, &h->ones, h->ones, d[6], d[7]);
  hs_csa(&foursB, &h->twos, h->twos, twosA, twosB);
  hs_csa(&eightsA, &h->fours, h->fours, foursA, foursB);
  hs_csa(&twosA, &h->ones, h->ones, d[8], d[9]);
  hs_csa(&twosB, &h->ones, h->ones, d[10], d[11]);
  hs_csa(&foursA, &h->twos, h->twos, twosA, twosB);
  hs_csa(&twosA, &h->ones, h->ones, d[12], d[13]);
  hs_csa(&twosB, &h->ones, h->ones, d[14], d[15]);
  hs_csa(&foursB, &h->twos, h->twos, twosA, twosB);
  hs_csa(&eightsB, &h->fours, h->fours, foursA, foursB);
  hs_csa(&sixteens, &h->eights, h->eights, eightsA, eightsB);
  h->g++;
  /* ripple through the planes that can be non-zero (V <= g) */
  const int used = 64 - __builtin_clzll((uint64_t)h->g);
  hs_vec carry = sixteens;
  for (int k = 0; k < used; k++) {
    const hs_vec t = hs_and(h->V[k], carry);
    h->V[k] = hs_xor(h->V[k], carry);
    carry = t;
  }
  h->n = 0;
}

static inline void hs_push(hs_acc *h, hs_vec x) {
  h->in[h->n++] = x;
  if (h->n == 16) hs_group(h);
}

/* tot[l] += w * (lane l's count over the HS_W elements and all planes) */
static void hs_read(const hs_acc *h, int64_t w, int64_t tot[LANES]) {
  const int used = h->g ? 64 - __builtin_clzll((uint64_t)h->g) : 0;
  for (int k = -5 - h->n; k < used; k++) {
    /* k >= 0: V[k], weight 16 * 2^k; -1..-4: eights..ones; below: inputs */
    hs_vec P;
    int64_t pw;
    if (k >= 0) P = h->V[k], pw = (int64_t)16 << k;
    else if (k == -1) P = h->eights, pw = 8;
    else if (k == -2) P = h->fours, pw = 4;
    else if (k == -3) P = h->twos, pw = 2;
    else if (k == -4) P = h->ones, pw = 1;
    else if (k == -5) continue;
    else P = h->in[-6 - k], pw = 1;
#if defined(__AVX512BW__)
    uint64_t e[8];
    uint8_t c[LANES];
    _mm512_storeu_si512(e, P);
    __m512i c8 = _mm512_setzero_si512();
    for (int i = 0; i < 8; i++) c8 = _mm512_mask_add_epi8(c8, e[i], c8, _mm512_set1_epi8(1));
    _mm512_storeu_si512(c, c8);
    for (int l = 0; l < LANES; l++) tot[l] += w * pw * c[l];
#else
    uint64_t e[HS_W];
    _mm256_storeu_si256((__m256i *)e, P);
    for (int l = 0; l < LANES; l++) {
      int64_t c = 0;
      for (int i = 0; i < HS_W; i++) c += (int64_t)(e[i] >> l & 1);
      tot[l] += w * pw * c;
    }
#endif
  }
}

static void sums_hs(const ising_msc_async *a, uint64_t *x, uint64_t *eff, int64_t anti[LANES],
                    int64_t down[LANES]) {
  const int64_t nh = a->nh, Ly = a->L[1], Lz = a->L[2];
  const int d3 = a->dim == 3;
  hs_acc acc[4]; /* anti planes of weight 1, 2, 4; down spins */
  for (int i = 0; i < 4; i++) hs_init(&acc[i]);
  for (int64_t z = 0; z < Lz; z++)
    for (int64_t y = 0; y < Ly; y++) {
      const int64_t R = y + Ly * z;
      const int p = (int)((y + z) & 1);
      const uint64_t *nb[4], *sc = a->s[0] + R * nh, *o = other_row(a, 0, y, z, x, nb);
      const uint64_t *xa = x + p, *xb = x + p + 1;
      signed_row(a, eff, 0, R, &xa, &xb, nb);
      for (int64_t j0 = 0; j0 < nh; j0 += HS_W) {
        /* a tail's unused elements load as zero words: no spin down, no
         * anti-aligned neighbour */
#if defined(__AVX512BW__)
        const __mmask8 lm = (__mmask8)(nh - j0 < 8 ? (1u << (nh - j0)) - 1 : 0xFF);
        const hs_vec S = _mm512_maskz_loadu_epi64(lm, sc + j0);
        uint64_t b[3][8];
        anti_planes8(d3, sc, xa, xb, nb, j0, (int)(nh - j0 < 8 ? nh - j0 : 8), b);
        for (int i = 0; i < 3; i++) hs_push(&acc[i], _mm512_maskz_loadu_epi64(lm, b[i]));
        hs_push(&acc[3], S);
        hs_push(&acc[3], _mm512_maskz_loadu_epi64(lm, o + j0));
#else
        const int cnt = nh - j0 < HS_W ? (int)(nh - j0) : HS_W;
        uint64_t b[3][8];
        anti_planes8(d3, sc, xa, xb, nb, j0, cnt, b);
        for (int i = 0; i < 3; i++) hs_push(&acc[i], hs_load(b[i], cnt));
        hs_push(&acc[3], hs_load(sc + j0, cnt));
        hs_push(&acc[3], hs_load(o + j0, cnt));
#endif
      }
    }
  memset(anti, 0, LANES * sizeof *anti);
  memset(down, 0, LANES * sizeof *down);
  hs_read(&acc[0], 1, anti);
  hs_read(&acc[1], 2, anti);
  hs_read(&acc[2], 4, anti);
  hs_read(&acc[3], 1, down);
}
#endif

/* M: the down spins of both colours.  B: every bond joins a colour-0 site
 * to a colour-1 site, so the colour-0 sites' 2d neighbours are all d N
 * bonds once (an axis of length 2: twice, the double bond); a colour-0
 * word's anti-aligned lanes are counted by the same adders as the kernel's
 * aligned ones (applied to s ^ n). */
int ising_msc_async_sums(const ising_msc_async *a, int64_t B[64], int64_t M[64]) {
  ISING_CHECK(a && B && M, ISING_ERR_INPUT, "msc-async: no object or output");
  const int64_t nh = a->nh, Ly = a->L[1], Lz = a->L[2];
  const int d3 = a->dim == 3;
  uint64_t *ox = malloc((size_t)(nh + 2 + 6 * (nh + 8)) * sizeof *ox), *eff = ox + nh + 2;
  ISING_CHECK(ox, ISING_ERR_MEM, "msc-async: out of memory (sums)");
#if defined(__AVX512BW__) || defined(MSC_AVX2)
  if (a->rows * nh >= 2048) { /* below, reading the counters out costs more than it saves */
    int64_t anti[LANES], down[LANES];
    sums_hs(a, ox, eff, anti, down);
    for (int l = 0; l < LANES; l++) {
      M[l] = a->N - 2 * down[l];
      B[l] = a->dim * a->N - 2 * anti[l];
    }
    free(ox);
    return ISING_OK;
  }
#endif
  lane_count counts[2]; /* on the stack: registers inside need 64-byte alignment */
  lane_count *down = &counts[0], *anti = &counts[1];
  lc_init(down);
  lc_init(anti);
  for (int64_t z = 0; z < Lz; z++)
    for (int64_t y = 0; y < Ly; y++) {
      const int64_t R = y + Ly * z;
      const int p = (int)((y + z) & 1);
      const uint64_t *nb[4], *sc = a->s[0] + R * nh, *o = other_row(a, 0, y, z, ox, nb);
      const uint64_t *xa = ox + p, *xb = ox + p + 1;
      signed_row(a, eff, 0, R, &xa, &xb, nb);
      for (int64_t j0 = 0; j0 < nh; j0 += 8) {
        const int cnt = nh - j0 < 8 ? (int)(nh - j0) : 8;
        uint64_t b[3][8];
        anti_planes8(d3, sc, xa, xb, nb, j0, cnt, b);
        for (int w = 0; w < cnt; w++) {
          lc_add(anti, b[0][w], 1);
          lc_add(anti, b[1][w], 2);
          lc_add(anti, b[2][w], 4);
          lc_add(down, sc[j0 + w], 1);
          lc_add(down, o[j0 + w], 1);
          lc_unit(anti);
          lc_unit(down);
        }
      }
    }
  lc_done(down);
  lc_done(anti);
  for (int l = 0; l < LANES; l++) {
    M[l] = a->N - 2 * down->tot[l];
    B[l] = a->dim * a->N - 2 * anti->tot[l];
  }
  free(ox);
  return ISING_OK;
}

/* ------------------------------------------------------------ bench */

static double clock_s(clockid_t id) {
  struct timespec t;
  clock_gettime(id, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }
/* This thread's CPU time: on a shared machine it leaves out the time the
 * thread waited for a core (not what an SMT sibling takes from it). */
static double cpu_s(void) { return clock_s(CLOCK_THREAD_CPUTIME_ID); }

static int cmp_double(const void *x, const void *y) {
  double u = *(const double *)x, v = *(const double *)y;
  return (u > v) - (u < v);
}

static double median(double *v, long n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int ising_msc_async_bench(int dim, int64_t L, double T, const ising_couplings *const cpl[64],
                          const char *what, int rng, long sweeps, long repeat) {
  ISING_CHECK(sweeps >= 1 && repeat >= 1, ISING_ERR_INPUT,
              "ising bench: --sweeps and --repeat must be >= 1");
  double Ts[LANES];
  for (int l = 0; l < LANES; l++) Ts[l] = T;
  const int64_t Ls[3] = {L, L, dim == 3 ? L : 1};
  ising_msc_async *a = NULL;
  ISING_CALL(ising_msc_async_create(dim, Ls, 1.0, 0.0, Ts, &a));
  double *rate = calloc((size_t)repeat, sizeof *rate), *ts = calloc((size_t)repeat, sizeof *ts);
  double *crate = calloc((size_t)repeat, sizeof *crate);
  uint32_t *junk = malloc(4 * MSC_CHUNK_BLOCKS * AS_MAX_CHUNKS * sizeof *junk);
  int rc = rate && ts && crate && junk ? ISING_OK : ISING_ERR(ISING_ERR_MEM, "out of memory");
  if (!rc && cpl) rc = ising_msc_async_set_couplings(a, cpl);
  ising_rng_key key = ising_rng_key_from_seed(12345);
  key.alg = (uint32_t)rng;
  if (!rc) rc = ising_msc_async_fill_hot(a, key, 0);
  uint64_t t = 0;
  for (int w = 0; w < 3 && !rc; w++, t++)
    for (int c = 0; c < 2 && !rc; c++) rc = ising_msc_async_half(a, c, t, key, 0);
  int64_t st0[4], st1[4];
  ising_msc_async_stats(a, st0);
  const double sites = (double)a->N * LANES;
  double t_sweeps = 0, c_sweeps = 0;
  for (long r = 0; r < repeat && !rc; r++) {
    double t0 = now_s(), c0 = cpu_s();
    for (long s = 0; s < sweeps && !rc; s++, t++)
      for (int c = 0; c < 2 && !rc; c++) rc = ising_msc_async_half(a, c, t, key, 0);
    double dt = now_s() - t0, dc = cpu_s() - c0;
    t_sweeps += dt;
    c_sweeps += dc;
    rate[r] = sites * (double)sweeps / dt * 1e-9;
    crate[r] = sites * (double)sweeps / dc * 1e-9;
  }
  ising_msc_async_stats(a, st1);
  for (int i = 0; i < 4; i++) st1[i] -= st0[i];
  /* the generator alone: the same number of blocks in the refills' size
   * (AS_MAX_CHUNKS chunks; a row's first refills are smaller) */
  double t_rng = 0, c_rng = 0;
  if (!rc) {
    const int64_t nb = MSC_CHUNK_BLOCKS * AS_MAX_CHUNKS;
    double t0 = now_s(), c0 = cpu_s();
    for (int64_t b = 0; b < st1[3]; b += nb)
      ising_rng_fill_chunks16(key, (uint64_t)b, AS_MAX_CHUNKS, 7, 9, junk); /* as as_refill */
    t_rng = now_s() - t0;
    c_rng = cpu_s() - c0;
  }
  /* the per-lane sums */
  int64_t B[LANES], M[LANES];
  for (long r = 0; r < repeat && !rc; r++) {
    double t0 = now_s();
    rc = ising_msc_async_sums(a, B, M);
    ts[r] = now_s() - t0;
  }
  if (!rc) {
    const int simd = a->simd;
#ifdef MSC_AVX2
    const char *soft = a->soft ? "-softpdep" : "", *sname = a->soft ? "AVX2, pdep emulated" : SIMD_NAME;
#else
    const char *soft = "", *sname = SIMD_NAME;
#endif
    printf("bench: %dD L=%lld T=%g H=0 Metropolis, kernel msc-async/" PATH_NAME "%s (64 replicas x %lld "
           "sites, %s decisions), couplings %s, rng %s, 1 core, %ld sweeps x %ld repeats\n",
           dim, (long long)L, T, soft, (long long)a->N, !simd ? "portable" : sname, what,
           ising_rng_alg_name(rng), sweeps, repeat);
    printf("bench: spin flips per ns (64 x N per sweep): each repeat:");
    for (long r = 0; r < repeat; r++) printf(" %.3f", rate[r]);
    printf("\nbench: spin flips per ns: median %.3f per core (per CPU-second of this thread: "
           "median %.3f)\n", median(rate, repeat), median(crate, repeat));
    /* the spin words (one bit per replica-site) and, with couplings, the
     * sign words of the 2d bonds of every site */
    const double words = a->sg[0][0] ? 1 + 2 * dim : 1;
    printf("bench: memory %.3f bytes per replica-site (spin bits%s; %.3f MB for the 64 lanes)\n",
           words / 8.0, a->sg[0][0] ? " and 2d bond-sign bits" : "", words * 8.0 * (double)a->N / 1e6);
    const double ls = sites * (double)sweeps * (double)repeat;
    if (st1[1] > 0)
      printf("bench: msc-async: %.4f decisions needing random bits per lane-site, %.4f random bits "
             "per such decision, %.3f random bits per lane-site (%.3f drawn from the generator)\n",
             (double)st1[1] / ls, 8.0 * (double)st1[2] / (double)st1[1], 8.0 * (double)st1[2] / ls,
             128.0 * (double)st1[3] / ls);
    printf("bench: msc-async: drawing those %s blocks alone takes %.1f%% of the sweep time "
           "(%.1f%% of its CPU time)\n", rng == ISING_RNG_ARS ? "ARS" : "Philox",
           100.0 * t_rng / t_sweeps, 100.0 * c_rng / c_sweeps);
    const double sweep_s = t_sweeps / (double)(sweeps * repeat);
    const double med_sums = median(ts, repeat);
    printf("bench: msc-async: per-lane sums B_r, M_r: median %.3f ms, %.1f%% of a sweep\n",
           1e3 * med_sums, 100.0 * med_sums / sweep_s);
  }
  free(rate);
  free(ts);
  free(crate);
  free(junk);
  ising_msc_async_destroy(&a);
  return rc;
}
