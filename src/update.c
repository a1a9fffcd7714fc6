/*
 * update.c -- the checkerboard Metropolis / heat-bath half sweep, twice:
 * a reference kernel written for reading, and a fast kernel written for the
 * hardware, tested to make identical decisions (tests/test_update.c).
 *
 * The fast kernel walks the colour-split rows of lattice_impl.h: for each
 * row it draws the 16-bit high halves of the row's numbers in chunks
 * (ising_rng_fill16), then decides 32 sites per step: neighbour sum, table
 * index, threshold by a register permute, compare.  Where a number's high
 * half equals the threshold's, the low half is drawn (purpose SWEEP_LO) for
 * that site alone: the decision is exactly u <= t with 32-bit u.
 * The row comes in three versions: AVX-512 (a 32-entry 16-bit permute for
 * the thresholds), AVX2 (byte shuffles of the two byte planes of the
 * table), and portable C (blocks of 64 sites, the fallback and the kernel
 * that ISING_BYTE_PORTABLE selects); the build's target picks the fast
 * one, and all three are tested against the reference.
 */
#include "ising/update.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ising/error.h"

#include "lattice_impl.h"
#if defined(__AVX512BW__) || defined(__AVX2__)
#include <immintrin.h>
#endif

/* ------------------------------------------------------------ reference */

static uint32_t site_uniform(const ising_lattice *l, ising_stream st, uint64_t sweep, int c,
                             int64_t gx, int64_t gy, int64_t gz) {
  int64_t G = ising_rng_site_index(l->L, gx, gy, gz);
  uint64_t chunk = (uint64_t)(G / ISING_RNG_CHUNK);
  int k = (int)(G % ISING_RNG_CHUNK);
  uint32_t hi = ising_rng_number16(st.key, chunk, k, (uint32_t)sweep,
                                   ising_rng_c3(st.replica, ISING_RNG_SWEEP, c));
  uint32_t lo = ising_rng_number16(st.key, chunk, k, (uint32_t)sweep,
                                   ising_rng_c3(st.replica, ISING_RNG_SWEEP_LO, c));
  return hi << 16 | lo;
}

static void reference_half(ising_lattice *l, const ising_model *m, ising_stream st,
                           uint64_t sweep, int c, ising_half_sums *sums) {
  int64_t n[3], s0[3], bonds = 0, mag = 0;
  ising_lattice_extent(l, n, s0);
  for (int64_t z = 0; z < n[2]; z++)
    for (int64_t y = 0; y < n[1]; y++)
      for (int64_t x = 0; x < n[0]; x++) {
        if (ising_lattice_colour(l, x, y, z) != c) continue;
        int s = ising_lattice_get(l, x, y, z);
        int nb = ising_lattice_get(l, x - 1, y, z) + ising_lattice_get(l, x + 1, y, z) +
                 ising_lattice_get(l, x, y - 1, z) + ising_lattice_get(l, x, y + 1, z);
        if (l->dim == 3) nb += ising_lattice_get(l, x, y, z - 1) + ising_lattice_get(l, x, y, z + 1);
        int64_t gz = l->dim == 3 ? s0[2] + z : 0;
        uint32_t u = site_uniform(l, st, sweep, c, s0[0] + x, s0[1] + y, gz);
        int move = u <= m->thr[ising_model_index(m, s, nb)];
        int ns = m->algorithm == ISING_ALG_METROPOLIS ? (move ? -s : s) : (move ? 1 : -1);
        ising_lattice_set(l, x, y, z, ns);
        bonds += (c == 0 ? ns : ns - s) * nb;
        mag += ns;
      }
  sums->bonds = bonds;
  sums->mag = mag;
}

/* ------------------------------------------------------------ fast */

typedef struct row_ctx {
  int8_t *sc;                 /* the colour being updated */
  const int8_t *so, *su, *sd, *sf, *sb; /* other colour: this row, y-1, y+1, z-1, z+1 */
  const uint16_t *rnd;        /* rnd[h + roff] is site h's high half */
  int64_t roff;
  int64_t base;               /* half-lattice index G = h + base */
  int dl;
  int colour;                 /* of sc: 0 sums s_new nb, 1 sums (s_new - s_old) nb */
} row_ctx;

/* What a row adds to the half sweep's sums (update.h). */
typedef struct row_sums {
  int64_t bonds, mag;
} row_sums;

#if defined(__AVX512BW__) || defined(__AVX2__)
/* Neighbour sum of site h, for the tie paths of the SIMD rows. */
static inline int row_nb(const row_ctx *r, int dim, int64_t h) {
  int nb = r->so[h + r->dl] + r->so[h + r->dl + 1] + r->su[h] + r->sd[h];
  if (dim == 3) nb += r->sf[h] + r->sb[h];
  return nb;
}
#endif

/* The low half of the number of half-lattice index g, for a tie of the
 * high halves. */
static inline uint16_t rng_lo_at(ising_stream st, uint32_t c2, uint32_t c3lo, int64_t g) {
  return ising_rng_number16(st.key, (uint64_t)(g / ISING_RNG_CHUNK), (int)(g % ISING_RNG_CHUNK),
                            c2, c3lo);
}

/* The low half of site h's number. */
static inline uint16_t row_lo(const row_ctx *r, ising_stream st, uint32_t c2, uint32_t c3lo,
                              int64_t h) {
  return rng_lo_at(st, c2, c3lo, h + r->base);
}

/* Whether site h moves: u <= thr[idx] with its 32-bit uniform u, the low
 * halves drawn only when the high halves tie. */
static inline int decide(const row_ctx *r, const ising_model *m, ising_stream st, uint32_t c2,
                         uint32_t c3lo, int64_t h, int idx) {
  uint16_t u = r->rnd[h + r->roff], t = m->thr_hi[idx];
  if (u != t) return u < t;
  return row_lo(r, st, c2, c3lo, h) <= m->thr_lo[idx];
}

#define ROW_BLOCK 64 /* sites per block of row_portable */

/* The fast row in plain C.  Sites go in blocks of ROW_BLOCK, three passes
 * over each: table indices from the spins, decisions (one table lookup per
 * site), new spins.  The first and last passes are plain int8 arithmetic
 * that compilers vectorise; in one site-by-site loop the table lookup and
 * the rare tie branch would keep them from it. */
static void row_portable(const row_ctx *r, const ising_model *m, ising_stream st, uint32_t c2,
                         uint32_t c3lo, int64_t h0, int64_t h1, row_sums *out) {
  const int heat = m->algorithm == ISING_ALG_HEATBATH, d3 = m->dim == 3, z = m->z;
  const int w = r->colour; /* bonds += (s_new - w s_old) nb */
  int64_t bonds = 0, mag = 0;
  for (int64_t b = h0; b <= h1; b += ROW_BLOCK) {
    const int n = h1 - b + 1 < ROW_BLOCK ? (int)(h1 - b + 1) : ROW_BLOCK;
    int8_t *s = r->sc + b;
    const int8_t *xn = r->so + r->dl + b; /* x neighbours of site i: xn[i], xn[i + 1] */
    const int8_t *yu = r->su + b, *yd = r->sd + b;
    const int8_t *zf = d3 ? r->sf + b : NULL, *zb = d3 ? r->sb + b : NULL;
    uint8_t idx[ROW_BLOCK];
    int8_t move[ROW_BLOCK], nbs[ROW_BLOCK];
    for (int i = 0; i < n; i++) { /* ising_model_index, with nb + z >= 0 */
      int nb = xn[i] + xn[i + 1] + yu[i] + yd[i] + (d3 ? zf[i] + zb[i] : 0);
      nbs[i] = (int8_t)nb;
      idx[i] = (uint8_t)(((nb + z) >> 1) + (s[i] > 0 ? z + 1 : 0));
    }
    for (int i = 0; i < n; i++) move[i] = (int8_t)decide(r, m, st, c2, c3lo, b + i, idx[i]);
    int bb = 0, mm = 0;
    for (int i = 0; i < n; i++) {
      int ns = heat ? (move[i] ? 1 : -1) : (move[i] ? -s[i] : s[i]);
      bb += (ns - w * s[i]) * nbs[i];
      mm += ns;
      s[i] = (int8_t)ns;
    }
    bonds += bb;
    mag += mm;
  }
  out->bonds += bonds;
  out->mag += mag;
}

#ifdef __AVX512BW__
static inline __m512i load16(const int8_t *p, __mmask32 k) {
  return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(k, p));
}

static void row_avx512(const row_ctx *r, const ising_model *m, ising_stream st, uint32_t c2,
                       uint32_t c3lo, int64_t h0, int64_t h1, row_sums *out) {
  __m512i acc_b = _mm512_setzero_si512(), acc_m = _mm512_setzero_si512();
  const __m512i ones = _mm512_set1_epi16(1);
  const __m512i tbl = _mm512_loadu_si512((const void *)m->thr_hi);
  const __m512i zc = _mm512_set1_epi16((short)m->z), up = _mm512_set1_epi16((short)(m->z + 1));
  const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi16(1),
                mone = _mm512_set1_epi16(-1);
  const int heat = m->algorithm == ISING_ALG_HEATBATH, d3 = m->dim == 3;
  for (int64_t h = h0; h <= h1; h += 32) {
    int64_t cnt = h1 - h + 1;
    __mmask32 km = cnt >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << cnt) - 1);
    __m512i s = load16(r->sc + h, km);
    __m512i nb = _mm512_add_epi16(load16(r->so + h + r->dl, km), load16(r->so + h + r->dl + 1, km));
    nb = _mm512_add_epi16(nb, _mm512_add_epi16(load16(r->su + h, km), load16(r->sd + h, km)));
    if (d3) nb = _mm512_add_epi16(nb, _mm512_add_epi16(load16(r->sf + h, km), load16(r->sb + h, km)));
    __m512i idx = _mm512_srai_epi16(_mm512_add_epi16(nb, zc), 1);
    idx = _mm512_mask_add_epi16(idx, _mm512_cmpgt_epi16_mask(s, zero), idx, up);
    __m512i t = _mm512_permutexvar_epi16(idx, tbl);
    __m512i u = _mm512_maskz_loadu_epi16(km, r->rnd + h + r->roff);
    __mmask32 move = _mm512_mask_cmplt_epu16_mask(km, u, t);
    __mmask32 tie = _mm512_mask_cmpeq_epu16_mask(km, u, t);
    while (tie) {
      int b = __builtin_ctz(tie);
      tie &= tie - 1;
      int64_t hh = h + b;
      int ib = ising_model_index(m, r->sc[hh], row_nb(r, m->dim, hh));
      if (row_lo(r, st, c2, c3lo, hh) <= m->thr_lo[ib]) move |= (__mmask32)(1u << b);
    }
    __m512i ns = heat ? _mm512_mask_blend_epi16(move, mone, one) : _mm512_mask_sub_epi16(s, move, zero, s);
    ns = _mm512_maskz_mov_epi16(km, ns);
    _mm512_mask_cvtepi16_storeu_epi8(r->sc + h, km, ns);
    /* sums: (s_new - w s_old) nb, |.| <= 12, and s_new, paired into int32 */
    __m512i d = r->colour ? _mm512_sub_epi16(ns, s) : ns;
    acc_b = _mm512_add_epi32(acc_b, _mm512_madd_epi16(_mm512_mullo_epi16(d, nb), ones));
    acc_m = _mm512_add_epi32(acc_m, _mm512_madd_epi16(ns, ones));
  }
  out->bonds += _mm512_reduce_add_epi32(acc_b);
  out->mag += _mm512_reduce_add_epi32(acc_m);
}
#define ROW_FAST row_avx512
#define FAST_NAME "fast/avx512"
#elif defined(__AVX2__)
/* What a row's AVX2 steps share, computed once per row. */
typedef struct avx2_row {
  __m256i plane_lo, plane_hi; /* byte planes of thr_hi[0..15], see avx2_row_init */
  __m256i z, z1;              /* z and z + 1 in every byte */
  int d3, heat;
} avx2_row;

/* The constants of a row: the two byte planes of the first 16 high-half
 * thresholds thr_hi[0..15] (2D uses 10 entries, 3D 14), each repeated in
 * both 128-bit lanes as the tables of _mm256_shuffle_epi8; the high plane is
 * biased by 0x80 so that a signed 16-bit compare orders the thresholds as
 * unsigned numbers. */
static inline void avx2_row_init(avx2_row *k, const ising_model *m) {
  const __m256i split = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
                                         0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  __m256i t = _mm256_loadu_si256((const __m256i *)(const void *)m->thr_hi);
  /* 64-bit quarters: low bytes of entries 0-7, 8-15, then high bytes */
  t = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(t, split), 0xD8);
  k->plane_lo = _mm256_permute2x128_si256(t, t, 0x00);
  k->plane_hi = _mm256_xor_si256(_mm256_permute2x128_si256(t, t, 0x11), _mm256_set1_epi8(-128));
  k->z = _mm256_set1_epi8((char)m->z);
  k->z1 = _mm256_set1_epi8((char)(m->z + 1));
  k->d3 = m->dim == 3;
  k->heat = m->algorithm == ISING_ALG_HEATBATH;
}

/* Metropolis/heat-bath step on the 32 sites h .. h+31 of a row: 8-bit lanes
 * for the spins, neighbour sums and table indices, 16-bit lanes for the
 * thresholds and the numbers (two registers of 16).  Only lanes first ..
 * last change or count: those below `first` are left as they are (the
 * row's last step overlaps the one before), those above `last` (a row
 * shorter than 32 sites) are bytes past the row, written back as read. */
static inline void step_avx2(const row_ctx *r, const avx2_row *k, const ising_model *m,
                             ising_stream st, uint32_t c2, uint32_t c3lo, int64_t h, int first,
                             int last, __m256i *acc_b, __m256i *acc_m) {
  const __m256i zero = _mm256_setzero_si256(), bias = _mm256_set1_epi16(-32768);
  const __m256i lane = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
  const __m256i keep = _mm256_andnot_si256(_mm256_cmpgt_epi8(lane, _mm256_set1_epi8((char)last)),
                                           _mm256_cmpgt_epi8(lane, _mm256_set1_epi8((char)(first - 1))));
#define LOAD32(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
  __m256i s = LOAD32(r->sc + h);
  __m256i nb = _mm256_add_epi8(LOAD32(r->so + h + r->dl), LOAD32(r->so + h + r->dl + 1));
  nb = _mm256_add_epi8(nb, _mm256_add_epi8(LOAD32(r->su + h), LOAD32(r->sd + h)));
  if (k->d3) nb = _mm256_add_epi8(nb, _mm256_add_epi8(LOAD32(r->sf + h), LOAD32(r->sb + h)));
  /* idx = (nb + z) / 2 + (s > 0 ? z + 1 : 0) (model.h); nb + z is even and
   * >= 0 in every byte of the row, so the 16-bit shift moves no bit across
   * bytes; past a short row's end the bytes are anything, and the bit they
   * would move into a lane of the row is cleared */
  __m256i pos = _mm256_cmpgt_epi8(s, zero);
  __m256i idx = _mm256_srli_epi16(_mm256_add_epi8(nb, k->z), 1);
  if (last < 31) idx = _mm256_and_si256(idx, _mm256_set1_epi8(0x7F));
  idx = _mm256_add_epi8(idx, _mm256_and_si256(pos, k->z1));
  /* thresholds of sites 0-15 and 16-31 in 16-bit lanes: the in-lane
   * unpacks take 64-bit quarters 0 and 2 of idx, so order them 0 2 1 3 */
  idx = _mm256_permute4x64_epi64(idx, 0xD8);
  __m256i tlo = _mm256_shuffle_epi8(k->plane_lo, idx), thi = _mm256_shuffle_epi8(k->plane_hi, idx);
  __m256i t0 = _mm256_unpacklo_epi8(tlo, thi), t1 = _mm256_unpackhi_epi8(tlo, thi);
  const uint16_t *rnd = r->rnd + h + r->roff;
  __m256i u0 = _mm256_xor_si256(LOAD32(rnd), bias), u1 = _mm256_xor_si256(LOAD32(rnd + 16), bias);
#undef LOAD32
  /* move where u < t (unsigned, through the bias); ties take the low half */
  __m256i lt = _mm256_packs_epi16(_mm256_cmpgt_epi16(t0, u0), _mm256_cmpgt_epi16(t1, u1));
  __m256i move = _mm256_permute4x64_epi64(lt, 0xD8);
  __m256i eq0 = _mm256_cmpeq_epi16(t0, u0), eq1 = _mm256_cmpeq_epi16(t1, u1);
  __m256i any = _mm256_or_si256(eq0, eq1);
  if (!_mm256_testz_si256(any, any)) {
    __m256i eq = _mm256_and_si256(_mm256_permute4x64_epi64(_mm256_packs_epi16(eq0, eq1), 0xD8), keep);
    uint32_t tie = (uint32_t)_mm256_movemask_epi8(eq);
    int8_t mv[32];
    _mm256_storeu_si256((__m256i *)(void *)mv, move);
    while (tie) {
      int b = __builtin_ctz(tie);
      tie &= tie - 1;
      int64_t hh = h + b;
      int ib = ising_model_index(m, r->sc[hh], row_nb(r, m->dim, hh));
      if (row_lo(r, st, c2, c3lo, hh) <= m->thr_lo[ib]) mv[b] = -1;
    }
    move = _mm256_loadu_si256((const __m256i *)(const void *)mv);
  }
  /* Metropolis flips where it moves; heat bath sets +1 where it moves and
   * -1 elsewhere, i.e. flips where move differs from s > 0 */
  __m256i flip = k->heat ? _mm256_xor_si256(move, pos) : move;
  flip = _mm256_and_si256(flip, keep);
  __m256i ns = _mm256_sub_epi8(_mm256_xor_si256(s, flip), flip); /* -s where flip */
  _mm256_storeu_si256((__m256i *)(void *)(r->sc + h), ns);
  /* sums over the kept lanes: colour 0 adds s_new nb, colour 1 adds
   * (s_new - s_old) nb = 2 sign(s_new - s_old) nb (doubled in row_avx2) */
  const __m256i u8one = _mm256_set1_epi8(1), i16one = _mm256_set1_epi16(1);
  __m256i p = _mm256_sign_epi8(nb, r->colour ? _mm256_sub_epi8(ns, s) : ns);
  p = _mm256_and_si256(p, keep);
  *acc_b = _mm256_add_epi32(*acc_b, _mm256_madd_epi16(_mm256_maddubs_epi16(u8one, p), i16one));
  __m256i q = _mm256_and_si256(ns, keep);
  *acc_m = _mm256_add_epi32(*acc_m, _mm256_madd_epi16(_mm256_maddubs_epi16(u8one, q), i16one));
}

/* Sum of the eight int32 lanes. */
static inline int64_t hsum8(__m256i v) {
  __m128i x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4E));
  x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xB1));
  return _mm_cvtsi128_si32(x);
}

/* The fast row for AVX2 (no AVX-512): steps of 32 sites; a row's remainder
 * of fewer than 32 is one more step ending at h1 that leaves the sites done
 * before alone.  A row shorter than 32 sites is one step from h0 that reads
 * and writes back the bytes after the row as they were (the row's x halo,
 * the other colour's half row and the rows after it, which no kernel
 * changes before this row is done, or the arrays' slack; the halo
 * exchange unpacks its messages only after the half sweep), and the
 * numbers after the row's (the scratch has slack).  The row context is
 * copied to a local so that the stores (which may alias anything) do not
 * force its reload. */
static void row_avx2(const row_ctx *r, const ising_model *m, ising_stream st, uint32_t c2,
                     uint32_t c3lo, int64_t h0, int64_t h1, row_sums *out) {
  const row_ctx rr = *r;
  avx2_row k;
  avx2_row_init(&k, m);
  __m256i acc_b = _mm256_setzero_si256(), acc_m = _mm256_setzero_si256();
  int64_t h = h0;
  if (h1 - h0 + 1 < 32) { /* one step from h0, lanes past h1 as read */
    step_avx2(&rr, &k, m, st, c2, c3lo, h0, 0, (int)(h1 - h0), &acc_b, &acc_m);
    h = h1 + 1;
  }
  for (; h + 31 <= h1; h += 32) step_avx2(&rr, &k, m, st, c2, c3lo, h, 0, 31, &acc_b, &acc_m);
  if (h <= h1)
    step_avx2(&rr, &k, m, st, c2, c3lo, h1 - 31, (int)(h - (h1 - 31)), 31, &acc_b, &acc_m);
  out->bonds += (r->colour ? 2 : 1) * hsum8(acc_b);
  out->mag += hsum8(acc_m);
}
#define ROW_FAST row_avx2
#define FAST_NAME "fast/avx2"
#else
#define ROW_FAST row_portable
#define FAST_NAME "fast/portable"
#endif

typedef void (*row_fn)(const row_ctx *, const ising_model *, ising_stream, uint32_t, uint32_t,
                       int64_t, int64_t, row_sums *);

static void fast_half(ising_lattice *l, const ising_model *m, ising_stream st, uint64_t sweep,
                      int c, row_fn row, ising_half_sums *sums) {
  row_sums acc = {0, 0};
  const uint32_t c2 = (uint32_t)sweep;
  const uint32_t c3hi = ising_rng_c3(st.replica, ISING_RNG_SWEEP, c);
  const uint32_t c3lo = ising_rng_c3(st.replica, ISING_RNG_SWEEP_LO, c);
  const int64_t hx = l->L[0] / 2;
  lat_window w = {0, 0};
  for (int64_t z = lat_z0(l); z <= lat_z1(l); z++) {
    uint64_t cap_end = (uint64_t)((lat_global_row(l, l->n[1], z) + 1) * hx - 1) / ISING_RNG_CHUNK;
    for (int64_t y = 1; y <= l->n[1]; y++) {
      int q = lat_row_parity(l, y, z);
      row_ctx r;
      int64_t h0, h1;
      lat_row_range(l, q, c, &h0, &h1, &r.dl);
      if (h1 < h0) continue;
      r.base = lat_global_row(l, y, z) * hx + lat_global_half_offset(l, q, c);
      lat_window_need(l, &w, st.key, c2, c3hi, (uint64_t)(r.base + h0) / ISING_RNG_CHUNK,
                      (uint64_t)(r.base + h1) / ISING_RNG_CHUNK, cap_end);
      r.rnd = l->rnd;
      r.roff = r.base - (int64_t)w.first * ISING_RNG_CHUNK;
      r.sc = lat_half(l, y, z, c);
      r.so = lat_half(l, y, z, 1 - c);
      r.su = lat_half(l, y - 1, z, 1 - c);
      r.sd = lat_half(l, y + 1, z, 1 - c);
      r.sf = l->dim == 3 ? lat_half(l, y, z - 1, 1 - c) : NULL;
      r.sb = l->dim == 3 ? lat_half(l, y, z + 1, 1 - c) : NULL;
      r.colour = c;
      row(&r, m, st, c2, c3lo, h0, h1, &acc);
    }
  }
  sums->bonds = acc.bonds;
  sums->mag = acc.mag;
}

/* ------------------------------------------------------------ disorder */

/* A half sweep with the couplings of a cache (update.h).  The cache stores
 * every stored site's + bonds (w of (site, axis)) in the spins' colour-split
 * layout, so a site's 2 dim weights are its own dim at its position and its
 * - neighbours' at theirs: the x one at h + dl of the other colour, the y
 * and z ones at h in the rows below.  With bimodal weights and no field
 * source the rule depends on (s, nw) alone, nw in -z..z: a table of
 * 2 (2z + 1) thresholds by idx = (s > 0 ? 2z + 1 : 0) + nw + z, computed
 * from the rule itself (hence the same decisions as the reference), drives
 * rows like the uniform ones with nw = sum of sign(w) s products in place
 * of nb.  Bimodal weights with field weights f in {-1, 0, +1} use a plain C
 * table row with 3 x 2 (2z + 1) thresholds by (f, s, nw).  Otherwise every
 * site evaluates the rule: drow_approx (a float exp approximation, the
 * exact rule where it cannot decide; on the AVX-512 and AVX2 paths a
 * lattice takes dis_regs_half, the same arithmetic in
 * registers), or drow_exact (libm exp per site)
 * for int32 weights whose nw may not fit 32 bits. */

#define DIS_SLOTS 64 /* thresholds tables memoised per cache (temperatures) */

typedef struct dis_table {
  double beta; /* key: the model's beta and algorithm */
  int algorithm, used;
  uint16_t hi[ISING_MODEL_TABLE], lo[ISING_MODEL_TABLE]; /* by idx above */
  uint16_t half[2][16]; /* hi by nw + z for s = -1 ([0]) and s = +1 ([1]) */
  /* with field weights in {-1, 0, +1}: by (f + 1) (4z + 2) + idx */
  uint16_t hi3[3 * ISING_MODEL_TABLE], lo3[3 * ISING_MODEL_TABLE];
} dis_table;

struct ising_update_cache {
  const ising_couplings *c;
  int dim, bimodal, field;
  int f3;            /* field weights all in {-1, 0, +1} (with bimodal: the f table row) */
  int64_t L[3], start[3], n[3], W, ny2, nz2;
  int64_t len;       /* entries of each array: 2 W ny2 nz2 (+ SIMD slack) */
  int8_t *w8[3];     /* bimodal: w of (site, axis) at the site's position */
  int32_t *w32[3];   /* otherwise */
  int32_t *f;        /* field source: f of the site */
  int nw32;          /* int32 weights with 2 z max|w| < 2^31: nw fits int32 (drow_approx) */
  int64_t maxw, maxf; /* the largest |w| and |f| stored (dis_band_all) */
  dis_table tab[DIS_SLOTS];
  int next;          /* the slot a new table takes */
};

void ising_update_cache_free(ising_update_cache **cache) {
  if (!cache || !*cache) return;
  ising_update_cache *k = *cache;
  for (int a = 0; a < 3; a++) {
    free(k->w8[a]);
    free(k->w32[a]);
  }
  free(k->f);
  free(k);
  *cache = NULL;
}

int64_t ising_update_cache_bytes(const ising_update_cache *k) {
  if (!k) return 0;
  int64_t per = k->bimodal ? 1 : 4;
  return (int64_t)sizeof *k + k->len * (k->dim * per + (k->field ? 4 : 0));
}

static int64_t wrap_coord(int64_t g, int64_t L) { return ((g % L) + L) % L; }

int ising_update_cache_create(const ising_couplings *c, const ising_lattice *l,
                              ising_update_cache **out) {
  *out = NULL;
  ising_update_cache *k = calloc(1, sizeof *k);
  ISING_CHECK(k, ISING_ERR_MEM, "out of memory");
  k->c = c;
  k->dim = l->dim;
  k->bimodal = c->bimodal;
  k->field = c->field != NULL;
  k->f3 = k->field;
  for (int a = 0; a < 3; a++) {
    k->L[a] = l->L[a];
    k->start[a] = l->start[a];
    k->n[a] = l->n[a];
  }
  k->W = l->W;
  k->ny2 = l->ny2;
  k->nz2 = l->nz2;
  k->len = 2 * l->W * l->ny2 * l->nz2 + 64;
  int ok = 1;
  int64_t maxw = 0; /* largest |w| stored */
  for (int a = 0; a < k->dim; a++) {
    if (k->bimodal)
      ok &= (k->w8[a] = calloc((size_t)k->len, 1)) != NULL;
    else
      ok &= (k->w32[a] = calloc((size_t)k->len, sizeof(int32_t))) != NULL;
  }
  if (k->field) ok &= (k->f = calloc((size_t)k->len, sizeof(int32_t))) != NULL;
  if (!ok) {
    ising_update_cache_free(&k);
    return ISING_ERR(ISING_ERR_MEM, "out of memory");
  }
  /* every stored position: row (y, z), colour cc, half index h is the site
   * i = 2h + (cc ^ q) of the row (lattice_impl.h), local x = i - 1 */
  for (int64_t z = 0; z < l->nz2; z++)
    for (int64_t y = 0; y < l->ny2; y++) {
      const int q = lat_row_parity(l, y, z);
      const int64_t gy = wrap_coord(l->start[1] + y - 1, l->L[1]);
      const int64_t gz = l->dim == 3 ? wrap_coord(l->start[2] + z - l->zh, l->L[2]) : 0;
      for (int cc = 0; cc < 2; cc++)
        for (int64_t h = 0; h < l->W; h++) {
          const int64_t i = 2 * h + ((cc ^ q) & 1);
          if (i > l->n[0] + 1) continue;
          const int64_t gx = wrap_coord(l->start[0] + i - 1, l->L[0]);
          const int64_t site = gx + l->L[0] * (gy + l->L[1] * gz);
          const int64_t at = (2 * lat_row(l, y, z) + cc) * l->W + h;
          for (int a = 0; a < k->dim; a++) {
            int32_t w = ising_couplings_w(c, site, a);
            if (k->bimodal && (w < -1 || w > 1)) {
              ising_update_cache_free(&k);
              return ISING_ERR(ISING_ERR_INTERNAL,
                               "bimodal couplings with weight %ld (site %lld, axis %d)", (long)w,
                               (long long)site, a);
            }
            if (k->bimodal)
              k->w8[a][at] = (int8_t)w;
            else
              k->w32[a][at] = w;
            if (llabs((long long)w) > maxw) maxw = llabs((long long)w);
          }
          if (k->field) {
            k->f[at] = ising_couplings_f(c, site);
            k->f3 &= k->f[at] >= -1 && k->f[at] <= 1;
            if (llabs((long long)k->f[at]) > k->maxf) k->maxf = llabs((long long)k->f[at]);
          }
        }
    }
  k->nw32 = !k->bimodal && 4 * k->dim * maxw < ((int64_t)1 << 31);
  k->maxw = maxw;
  *out = k;
  return ISING_OK;
}

/* The tables of model m's temperature and algorithm (bimodal weights). */
static const dis_table *dis_table_for(ising_update_cache *k, const ising_model *m) {
  for (int i = 0; i < DIS_SLOTS; i++)
    if (k->tab[i].used && k->tab[i].beta == m->beta && k->tab[i].algorithm == (int)m->algorithm)
      return &k->tab[i];
  dis_table *t = &k->tab[k->next];
  k->next = (k->next + 1) % DIS_SLOTS;
  memset(t, 0, sizeof *t);
  const int z = 2 * k->dim;
  for (int s = -1; s <= 1; s += 2)
    for (int nw = -z; nw <= z; nw++) {
      uint32_t thr = ising_model_threshold(
          ising_model_probability_local(m, s, ising_couplings_local(k->c, nw, 0)));
      int idx = (s > 0 ? 2 * z + 1 : 0) + nw + z;
      t->hi[idx] = (uint16_t)(thr >> 16);
      t->lo[idx] = (uint16_t)thr;
      t->half[s > 0][nw + z] = (uint16_t)(thr >> 16);
      for (int f = -1; k->f3 && f <= 1; f++) {
        uint32_t t3 = ising_model_threshold(
            ising_model_probability_local(m, s, ising_couplings_local(k->c, nw, f)));
        t->hi3[(f + 1) * (4 * z + 2) + idx] = (uint16_t)(t3 >> 16);
        t->lo3[(f + 1) * (4 * z + 2) + idx] = (uint16_t)t3;
      }
    }
  t->beta = m->beta;
  t->algorithm = (int)m->algorithm;
  t->used = 1;
  return t;
}

static void reference_half_disorder(ising_lattice *l, const ising_model *m,
                                    const ising_couplings *cp, ising_stream st, uint64_t sweep,
                                    int c, ising_half_sums *sums, int64_t *fsum) {
  int64_t n[3], s0[3], bonds = 0, mag = 0, F = 0;
  ising_lattice_extent(l, n, s0);
  const int dim = l->dim;
  for (int64_t z = 0; z < n[2]; z++)
    for (int64_t y = 0; y < n[1]; y++)
      for (int64_t x = 0; x < n[0]; x++) {
        if (ising_lattice_colour(l, x, y, z) != c) continue;
        int s = ising_lattice_get(l, x, y, z);
        const int64_t g[3] = {s0[0] + x, s0[1] + y, dim == 3 ? s0[2] + z : 0};
        const int64_t loc[3] = {x, y, z};
        const int64_t site = g[0] + l->L[0] * (g[1] + l->L[1] * g[2]);
        int64_t nw = 0;
        for (int a = 0; a < dim; a++) {
          int64_t gb[3] = {g[0], g[1], g[2]}, lm[3] = {loc[0], loc[1], loc[2]},
                  lp[3] = {loc[0], loc[1], loc[2]};
          gb[a] = wrap_coord(gb[a] - 1, l->L[a]);
          lm[a]--;
          lp[a]++;
          const int64_t below = gb[0] + l->L[0] * (gb[1] + l->L[1] * gb[2]);
          nw += (int64_t)ising_couplings_w(cp, below, a) * ising_lattice_get(l, lm[0], lm[1], lm[2]) +
                (int64_t)ising_couplings_w(cp, site, a) * ising_lattice_get(l, lp[0], lp[1], lp[2]);
        }
        int32_t f = ising_couplings_f(cp, site);
        uint32_t t = ising_model_threshold(
            ising_model_probability_local(m, s, ising_couplings_local(cp, nw, f)));
        uint32_t u = site_uniform(l, st, sweep, c, g[0], g[1], g[2]);
        int move = u <= t;
        int ns = m->algorithm == ISING_ALG_METROPOLIS ? (move ? -s : s) : (move ? 1 : -1);
        ising_lattice_set(l, x, y, z, ns);
        bonds += (c == 0 ? ns : ns - s) * nw;
        mag += ns;
        F += (int64_t)f * ns;
      }
  sums->bonds = bonds;
  sums->mag = mag;
  *fsum = F;
}

/* A row of the fast kernel with couplings: for j = 0 .. 2 dim - 1 the
 * neighbour nb[j][h] of site h and the weight of that bond, w8[j][h]
 * (bimodal) or w32[j][h]; j = 0, 1: -x, +x; 2, 3: -y, +y; 4, 5: -z, +z. */
typedef struct dis_row {
  row_ctx r;
  const int8_t *nb[6];
  const int8_t *w8[6];
  const int32_t *w32[6];
  const int32_t *f; /* NULL: no field source */
  const int64_t *g; /* NULL: site h's half-lattice index is h + r.base; else g[h] (dis_gather) */
  int nd;
} dis_row;

typedef struct dis_sums {
  int64_t bonds, mag, field;
} dis_sums;

/* nw of site h (bimodal weights). */
static inline int dis_nw8(const dis_row *d, int64_t h) {
  int nw = 0;
  for (int j = 0; j < d->nd; j++) nw += d->w8[j][h] * d->nb[j][h];
  return nw;
}

static inline int dis_index(int z, int s, int nw) { return (s > 0 ? 2 * z + 1 : 0) + nw + z; }

/* Whether site h of a row with weighted neighbour sum nw moves, by the
 * exact rule (libm exp): threshold t of the site's local field, u <= t
 * with the low half of u drawn only when the high halves tie. */
static inline int dis_exact_move(const dis_row *d, const ising_couplings *cp,
                                 const ising_model *m, ising_stream st, uint32_t c2,
                                 uint32_t c3lo, int64_t h, int64_t nw) {
  const row_ctx *r = &d->r;
  const uint32_t t = ising_model_threshold(ising_model_probability_local(
      m, r->sc[h], ising_couplings_local(cp, nw, d->f ? d->f[h] : 0)));
  const uint16_t u = r->rnd[h + r->roff], th = (uint16_t)(t >> 16);
  if (u != th) return u < th;
  return rng_lo_at(st, c2, c3lo, d->g ? d->g[h] : h + r->base) <= (uint16_t)t;
}

/* Every site evaluates the rule by libm: int32 weights with
 * 2 z max|w| >= 2^31 (drow_approx takes the other per-site cases). */
static void drow_exact(const dis_row *d, const ising_couplings *cp, const ising_model *m,
                       ising_stream st, uint32_t c2, uint32_t c3lo, int64_t h0, int64_t h1,
                       dis_sums *out) {
  const row_ctx *r = &d->r;
  const int heat = m->algorithm == ISING_ALG_HEATBATH, wc = r->colour;
  int64_t bonds = 0, mag = 0, F = 0;
  for (int64_t h = h0; h <= h1; h++) {
    const int s = r->sc[h];
    int64_t nw = 0;
    if (d->w8[0])
      nw = dis_nw8(d, h);
    else
      for (int j = 0; j < d->nd; j++) nw += (int64_t)d->w32[j][h] * d->nb[j][h];
    const int32_t f = d->f ? d->f[h] : 0;
    const int move = dis_exact_move(d, cp, m, st, c2, c3lo, h, nw);
    const int ns = heat ? (move ? 1 : -1) : (move ? -s : s);
    r->sc[h] = (int8_t)ns;
    bonds += (ns - wc * s) * nw;
    mag += ns;
    F += (int64_t)f * ns;
  }
  out->bonds += bonds;
  out->mag += mag;
  out->field += F;
}

/* The approximate rule of the per-site rows (drow_approx): the decisions of
 * drow_exact without libm exp for all but about one site in 10^4.
 *
 * With p the rule's probability (libm), t = ceil(p 2^32) - 1 its threshold
 * (model.c; t = UINT32_MAX for p >= 1, t = 0 for p = 0), t_hi = t >> 16,
 * x = p 2^16 and u_hi the site's high half, for 0 < p <= 1:
 *   u_hi < t_hi <=> (u_hi + 1) 2^16 <= t <=> (u_hi + 1) 2^16 < ceil(p 2^32)
 *               <=> (u_hi + 1) 2^16 < p 2^32 <=> u_hi + 1 < x,
 *   u_hi > t_hi <=> u_hi 2^16 > t <=> u_hi 2^16 >= ceil(p 2^32)
 *               <=> u_hi >= x,
 * (n < ceil(a) <=> n < a and n >= ceil(a) <=> n >= a for integers n), and
 * the site moves iff u_hi < t_hi, stays iff u_hi > t_hi, the low half
 * deciding a tie.  For p = 0 (t = 0) the first still holds and stays iff
 * u_hi >= 1.  So with any x~, lo <= x and hi >= x:
 *   move if u_hi + 1 < lo; stay if u_hi > hi (strict: right for p = 0);
 * else (fallback) the site takes drow_exact's rule.  The band between has
 * about 2 + 2 d x values of u_hi: the fallback takes a fraction
 * <= 2^-15 + 2 d of the sites.  Also valid: any lo <= 1 and hi >= 0 where
 * x < 1 (no u_hi moves; every u_hi >= 1 stays).
 *
 * x~: the rule's argument y = -beta dE (Metropolis, p = exp(y), y >= 0
 * taken as 0 for dE <= 0) or y = -2 beta local (heat bath,
 * p = 1 / (1 + exp(y))), with local = J_unit nw + H + h_unit f, is
 * computed in float: v = (a nw + b f) + c with a, b, c the floats of
 * -2 beta J_unit, -2 beta h_unit, -2 beta H; Metropolis takes y = s v.
 * With A, B, C the exact terms and S = |A| + |B| + |C|, the conversions of
 * nw, f and the constants and the four operations give (u = 2^-24)
 *   |v - y| <= ((1 + u)^5 - 1) (|A| + |B|) + ((1 + u)^2 - 1) |C|
 *           <= 5.0001 u S,
 * and the reference's double y differs from the exact one by < 2^-49 S.
 * The site's bound err = 8 u S~ (S~ = |a| |nw| + |b| |f| + |c| in float,
 * >= S (1 - 4u)) covers both; the register rows (dis_regs_half) take
 * one err for every site of the lattice, 8 u (|a| z max|w| + |b| max|f|
 * + |c|) rounded up (dis_band_all), at least every site's.  y is then clamped to [-30, 30] (and
 * Metropolis to <= 0), which moves no two arguments further apart;
 * E = dis_exp(y_f), x~ = 2^16 E or 2^16 / (1 + E) in float.  Clamping
 * changes only sites with x < 2^16 e^-30 (x~ < 1 as well, valid as above)
 * or heat-bath sites with exp(y) < e^-30 (x within 1e-13 of
 * x~ = 2^16 / (1 + E(-30))).
 * Error budget of E against exp(y~) for |y~| <= 30, relative:
 *   r = y - k ln2 (ln2 in two parts, k ln2hi exact for |k| <= 44,
 *     |k| <= 44): |dr| <= 2^-25 + 2^-26 + 44 * 2^-45    <= 4.6e-8
 *   degree-6 Taylor on |r| <= 0.3466: e^|r| r^7/7! / e^r <= 2.4e-7
 *   Horner in float, 12 roundings and float coefficients:
 *     (12 + 1) 2^-24 e^|r| / e^r (gamma_13 bound)      <= 1.6e-6
 *   2^k from exponent bits: exact (2^-44 .. 2^44, normal)
 * total <= 1.9e-6; 1 + E and the heat-bath division add 2^-23, libm's exp
 * 2^-52: <= 2.1e-6 < 2^-18 (tests/test_update.c checks 2^-18 over the
 * whole range for the double argument of ising_update_approx_x, where
 * the float rounding of y adds 2^-20).  The argument's error adds
 * e^err - 1 <= 1.008 err to E (err <= 2^-6; a site with a larger err, or
 * a NaN, takes the exact rule), and at most 1.025 err to the heat bath's
 * 1 / (1 + E): |x~/x - 1| <= eps = 2^-18 + 1.0625 err.
 * lo = x~ (1 - D), hi = x~ (1 + D) with D = 2^-16 + 1.0625 err (each a
 * float rounding or two more) then satisfy lo <= x <= hi:
 * (1 + eps)(1 - D)(1 + 2^-22) < 1. */
#define DIS_D 0x1p-16f
#define DIS_YMAX 30.0f
#define DIS_ERRMAX 0x1p-6f

/* e^y for float y in [-30, 30], within 2.9e-6 relative (above). */
static inline float dis_exp(float y) {
  const float magic = 0x1.8p23f; /* adding it rounds to an integer */
  const float kf = (y * 0x1.715476p0f + magic) - magic; /* round(y log2 e) */
  const float r = (y - kf * 0x1.62e4p-1f) - kf * 0x1.7f7d1cp-20f;
  float p = 0x1.6c16c2p-10f;
  p = p * r + 0x1.111112p-7f;
  p = p * r + 0x1.555556p-5f;
  p = p * r + 0x1.555556p-3f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const uint32_t bits = (uint32_t)((int32_t)kf + 127) << 23;
  float two_k;
  memcpy(&two_k, &bits, sizeof two_k);
  return p * two_k;
}

/* The clamped argument y of the rule (above) in float; Metropolis takes
 * y = s q with q = -2 beta local and the spin s (y = -beta (2 s local)). */
static inline float dis_clamp_metropolis(float y) {
  float v = y > 0 ? 0 : y;
  return v >= -DIS_YMAX ? v : -DIS_YMAX;
}
static inline float dis_clamp_heatbath(float v) {
  v = v <= DIS_YMAX ? v : DIS_YMAX;
  return v >= -DIS_YMAX ? v : -DIS_YMAX;
}

/* x~ from the clamped argument. */
static inline float dis_xt(float y, int heat) {
  const float e = dis_exp(y);
  return heat ? 65536.0f / (1.0f + e) : 65536.0f * e;
}

float ising_update_approx_x(const ising_model *m, int s, double local) {
  if (m->algorithm == ISING_ALG_HEATBATH)
    return dis_xt(dis_clamp_heatbath((float)(-2.0 * m->beta * local)), 1);
  return dis_xt(dis_clamp_metropolis((float)(-2.0 * m->beta * local) * (float)s), 0);
}

/* The per-site rule by the approximation above on the sites b .. b + n - 1
 * of a row, deciding those from b + first on: nw (int32: bimodal weights,
 * or int32 weights the cache found small enough), y, x~ and the cheap
 * decisions as plain loops that the compiler vectorises for the build's
 * ISA, then the fallback sites by drow_exact's rule, then the spins and
 * sums.  Sites before b + first are only read (their spins are of this
 * colour, which no site here reads). */
#define DIS_BLOCK 128

/* The floats of the rule's argument v = (a nw + b f) + c (above): a, b, c
 * = -2 beta J_unit, -2 beta h_unit, -2 beta H. */
typedef struct dis_abc {
  float a, b, c;
} dis_abc;

static inline dis_abc dis_constants(const ising_model *m, const ising_couplings *cp) {
  const double nb2 = -2.0 * m->beta;
  return (dis_abc){(float)(nb2 * cp->J_unit), (float)(nb2 * cp->h_unit), (float)(nb2 * cp->H)};
}

/* The band half-width of dis_block, 2^-16 + 1.0625 err, with one err for
 * every site of cache k: 8 u (|a| z max|w| + |b| max|f| + |c|), computed
 * in double and rounded up to float; inf (every site takes the exact
 * rule) where that err exceeds DIS_ERRMAX or is NaN. */
static inline float dis_band_all(const ising_update_cache *k, dis_abc f) {
  const double e = ((double)fabsf(f.a) * (double)(2 * k->dim) * (double)k->maxw +
                    (double)fabsf(f.b) * (double)k->maxf + (double)fabsf(f.c)) *
                   0x1p-21;
  if (!(e <= DIS_ERRMAX)) return INFINITY;
  return DIS_D + 1.0625f * nextafterf((float)e, INFINITY);
}

/* The register rows' constants: a, b, c and the band's factors 1 - D,
 * 1 + D (dis_band_all), times 2^16 for Metropolis (they multiply E there,
 * x~ / 2^16, and x~ itself in the heat bath). */
typedef struct dis_regc {
  float a, b, c, lo, hi;
} dis_regc;

static inline dis_regc dis_reg_constants(const ising_model *m, const ising_couplings *cp,
                                         const ising_update_cache *uc, int heat) {
  const dis_abc f = dis_constants(m, cp);
  const float D = dis_band_all(uc, f), s = heat ? 1.0f : 65536.0f;
  return (dis_regc){f.a, f.b, f.c, s * (1.0f - D), s * (1.0f + D)};
}
#ifdef ISING_DIS_STATS /* debug builds: sites decided, fallbacks (stderr at exit) */
#include <stdio.h>
static long long dis_stats[2];
__attribute__((destructor)) static void dis_stats_print(void) {
  if (dis_stats[0])
    fprintf(stderr, "drow_approx: %lld sites, %lld fallbacks (%.3g)\n", dis_stats[0], dis_stats[1],
            (double)dis_stats[1] / (double)dis_stats[0]);
}
#endif

static inline __attribute__((always_inline)) void dis_block(const dis_row *d, const ising_couplings *cp, const ising_model *m,
                             ising_stream st, uint32_t c2, uint32_t c3lo, int64_t b, int n,
                             int first, int heat, dis_sums *out) {
  const row_ctx *r = &d->r;
  const int d3 = m->dim == 3, wc = r->colour;
  int8_t *s = r->sc + b;
  const uint16_t *u = r->rnd + b + r->roff;
  const int32_t *f = d->f ? d->f + b : NULL;
  const int8_t *n0 = d->nb[0] + b, *n1 = d->nb[1] + b, *n2 = d->nb[2] + b, *n3 = d->nb[3] + b;
  const int8_t *n4 = d3 ? d->nb[4] + b : NULL, *n5 = d3 ? d->nb[5] + b : NULL;
  int32_t nw[DIS_BLOCK];
  float y[DIS_BLOCK], D[DIS_BLOCK];
  int8_t code[DIS_BLOCK]; /* 1 move, 0 stay, 2 fallback */
  if (d->w8[0]) {
    const int8_t *w0 = d->w8[0] + b, *w1 = d->w8[1] + b, *w2 = d->w8[2] + b, *w3 = d->w8[3] + b;
    const int8_t *w4 = d3 ? d->w8[4] + b : NULL, *w5 = d3 ? d->w8[5] + b : NULL;
    for (int i = 0; i < n; i++)
      nw[i] = w0[i] * n0[i] + w1[i] * n1[i] + w2[i] * n2[i] + w3[i] * n3[i] +
              (d3 ? w4[i] * n4[i] + w5[i] * n5[i] : 0);
  } else {
    const int32_t *w0 = d->w32[0] + b, *w1 = d->w32[1] + b, *w2 = d->w32[2] + b,
                  *w3 = d->w32[3] + b;
    const int32_t *w4 = d3 ? d->w32[4] + b : NULL, *w5 = d3 ? d->w32[5] + b : NULL;
    for (int i = 0; i < n; i++)
      nw[i] = w0[i] * n0[i] + w1[i] * n1[i] + w2[i] * n2[i] + w3[i] * n3[i] +
              (d3 ? w4[i] * n4[i] + w5[i] * n5[i] : 0);
  }
  /* y and the band half-width D in float (above); four plain loops, so
   * that each vectorises on every path */
  const dis_abc k = dis_constants(m, cp);
  const float a = k.a, bf = k.b, c = k.c;
  const float aa = fabsf(a), ab = fabsf(bf), ac = fabsf(c);
  /* D[] holds err, or inf where err > DIS_ERRMAX or NaN (a plain select,
   * which gcc vectorises on every path); the band is made below */
#define DIS_BAND(err) ((err) <= DIS_ERRMAX ? (err) : INFINITY)
  if (f && heat)
    for (int i = 0; i < n; i++) {
      const float w = (float)nw[i], ff = (float)f[i];
      const float err = (aa * fabsf(w) + ab * fabsf(ff) + ac) * 0x1p-21f;
      y[i] = dis_clamp_heatbath(a * w + bf * ff + c);
      D[i] = DIS_BAND(err);
    }
  else if (f)
    for (int i = 0; i < n; i++) {
      const float w = (float)nw[i], ff = (float)f[i];
      const float err = (aa * fabsf(w) + ab * fabsf(ff) + ac) * 0x1p-21f;
      y[i] = dis_clamp_metropolis((a * w + bf * ff + c) * (float)s[i]);
      D[i] = DIS_BAND(err);
    }
  else if (heat)
    for (int i = 0; i < n; i++) {
      const float w = (float)nw[i];
      const float err = (aa * fabsf(w) + ac) * 0x1p-21f;
      y[i] = dis_clamp_heatbath(a * w + c);
      D[i] = DIS_BAND(err);
    }
  else
    for (int i = 0; i < n; i++) {
      const float w = (float)nw[i];
      const float err = (aa * fabsf(w) + ac) * 0x1p-21f;
      y[i] = dis_clamp_metropolis((a * w + c) * (float)s[i]);
      D[i] = DIS_BAND(err);
    }
#undef DIS_BAND
  int fallback = 0;
  for (int i = 0; i < n; i++) {
    const float x = dis_xt(y[i], heat), ui = (float)u[i], Di = DIS_D + 1.0625f * D[i];
    /* Di = inf: no cheap decision (x~ > 0, so x~ Di is inf) */
    const int mv = ui + 1.0f < x * (1.0f - Di), stay = ui > x * (1.0f + Di);
    const int fb = !mv & !stay;
    code[i] = (int8_t)(mv | fb << 1);
    fallback |= fb;
  }
#ifdef ISING_DIS_STATS
  dis_stats[0] += n - first;
#endif
  if (fallback)
    for (int i = first; i < n; i++) {
      if (code[i] != 2) continue;
#ifdef ISING_DIS_STATS
      dis_stats[1]++;
#endif
      code[i] = (int8_t)dis_exact_move(d, cp, m, st, c2, c3lo, b + i, nw[i]);
    }
  /* colour 0 adds s_new nw, colour 1 (s_new - s_old) nw = 2 s_new nw where
   * the spin changed */
  int64_t bb = 0, ff = 0;
  int mm = 0;
  for (int i = 0; i < n; i++) { /* every lane, sites before first kept */
    const int keep = i >= first, si = s[i];
    /* heat bath: flip where the move differs from s > 0; Metropolis:
     * where it moves (arithmetic, no selects: gcc vectorises it) */
    const int flip = ((code[i] != 0) ^ (heat & (si > 0))) & keep;
    const int ns = si * (1 - 2 * flip);
    const int take = wc ? flip : keep;
    bb += take * ns * nw[i]; /* |nw| < 2^31: no overflow */
    mm += keep * ns;
    s[i] = (int8_t)ns;
  }
  if (f)
    for (int i = 0; i < n; i++) ff += i >= first ? (int64_t)f[i] * s[i] : 0;
  out->bonds += wc ? 2 * bb : bb; /* colour 1: (s_new - s_old) nw = 2 s_new nw */
  out->mag += mm;
  out->field += ff;
}

/* The sites h0 .. h1 (at least B) in blocks of B, the last one ending at
 * h1 and deciding only the sites not done before. */
static inline __attribute__((always_inline)) void dis_blocks(
    const dis_row *d, const ising_couplings *cp, const ising_model *m, ising_stream st,
    uint32_t c2, uint32_t c3lo, int64_t h0, int64_t h1, int B, int heat, dis_sums *acc) {
  int64_t b = h0;
  for (; b + B - 1 <= h1; b += B) dis_block(d, cp, m, st, c2, c3lo, b, B, 0, heat, acc);
  if (b <= h1)
    dis_block(d, cp, m, st, c2, c3lo, h1 - B + 1, B, (int)(b - (h1 - B + 1)), heat, acc);
}

/* The rows of the approximate rule: blocks of DIS_BLOCK or DIS_BLOCK / 4
 * sites (constant trip counts for the compiler; the larger blocks cost
 * less per site); rows shorter than that in one block of their length. */
static inline __attribute__((always_inline)) void dis_row_blocks(
    const dis_row *d, const ising_couplings *cp, const ising_model *m, ising_stream st,
    uint32_t c2, uint32_t c3lo, int64_t h0, int64_t h1, int heat, dis_sums *acc) {
  const int64_t len = h1 - h0 + 1;
  if (len >= DIS_BLOCK)
    dis_blocks(d, cp, m, st, c2, c3lo, h0, h1, DIS_BLOCK, heat, acc);
  else if (len >= DIS_BLOCK / 4)
    dis_blocks(d, cp, m, st, c2, c3lo, h0, h1, DIS_BLOCK / 4, heat, acc);
  else
    dis_block(d, cp, m, st, c2, c3lo, h0, (int)len, 0, heat, acc);
}

static void drow_approx(const dis_row *d, const ising_couplings *cp, const ising_model *m,
                        ising_stream st, uint32_t c2, uint32_t c3lo, int64_t h0, int64_t h1,
                        dis_sums *out) {
  dis_sums acc = {0, 0, 0};
  /* heat bath and Metropolis compiled apart: the loops hold no select
   * between a division and a product (which gcc would not vectorise) */
  if (m->algorithm == ISING_ALG_HEATBATH)
    dis_row_blocks(d, cp, m, st, c2, c3lo, h0, h1, 1, &acc);
  else
    dis_row_blocks(d, cp, m, st, c2, c3lo, h0, h1, 0, &acc);
  out->bonds += acc.bonds;
  out->mag += acc.mag;
  out->field += acc.field;
}

/* The exact rule for the lanes set in fb of the sites h .. h + 15 of a
 * register row, nw[i] the weighted sum of lane i: the lanes among them
 * that move. */
static inline unsigned dis_exact_lanes(const dis_row *d, const ising_couplings *cp,
                                       const ising_model *m, ising_stream st, uint32_t c2,
                                       uint32_t c3lo, int64_t h, const int32_t *nw, unsigned fb) {
  unsigned mv = 0;
  while (fb) {
    const int i = __builtin_ctz(fb);
    fb &= fb - 1;
    if (dis_exact_move(d, cp, m, st, c2, c3lo, h + i, nw[i])) mv |= 1u << i;
  }
  return mv;
}

/* A register half's instances by algorithm, field source and dimension. */
#define DIS_INSTANCES(T, heat, field, d3)         \
  do {                                            \
    if (d3) {                                     \
      if (heat)                                   \
        (field) ? T(1, 1, 1) : T(1, 0, 1);        \
      else                                        \
        (field) ? T(0, 1, 1) : T(0, 0, 1);        \
    } else {                                      \
      if (heat)                                   \
        (field) ? T(1, 1, 0) : T(1, 0, 0);        \
      else                                        \
        (field) ? T(0, 1, 0) : T(0, 0, 0);        \
    }                                             \
  } while (0)

#define DIS_NO_ROW INT64_MIN /* dis_iter.ty: no row made yet */

/* The rows of a half sweep with couplings, one at a time: each row's
 * dis_row (its spins, neighbours, weights, numbers) and sites h0 .. h1. */
typedef struct dis_iter {
  ising_lattice *l;
  const ising_update_cache *k;
  ising_rng_key key;
  uint32_t c2, c3hi;
  int c;
  int64_t y, z;
  uint64_t cap_end; /* the plane's last chunk (lat_window_need) */
  lat_window w;
  /* the last rows of plane z made of each parity of y (dis_row_get): row
   * ty[i] with sites th0[i] .. th1[i]; DIS_NO_ROW: none yet */
  dis_row t[2];
  int64_t ty[2], th0[2], th1[2];
} dis_iter;

/* Plane it->z begins: the last chunk of its rows (lat_window_need's
 * cap_end), and no rows kept from the plane before (dis_row_get). */
static void dis_iter_plane(dis_iter *it) {
  const ising_lattice *l = it->l;
  it->cap_end = (uint64_t)((lat_global_row(l, l->n[1], it->z) + 1) * (l->L[0] / 2) - 1) /
                ISING_RNG_CHUNK;
  it->ty[0] = it->ty[1] = DIS_NO_ROW;
}

static void dis_iter_init(dis_iter *it, ising_lattice *l, const ising_update_cache *k,
                          ising_rng_key key, uint32_t c2, uint32_t c3hi, int c) {
  memset(it, 0, sizeof *it);
  it->l = l;
  it->k = k;
  it->key = key;
  it->c2 = c2;
  it->c3hi = c3hi;
  it->c = c;
  it->z = lat_z0(l);
  dis_iter_plane(it);
}

/* Row (y, z)'s dis_row but its numbers (dis_iter_numbers), and its sites
 * of the colour h0 .. h1 (none: h1 < h0). */
static inline __attribute__((always_inline)) void dis_row_at(const dis_iter *it, int64_t y,
                                                              int64_t z, dis_row *d, int64_t *h0,
                       int64_t *h1) {
  const ising_lattice *l = it->l;
  const ising_update_cache *k = it->k;
  const int c = it->c;
  const int64_t W = l->W;
  const int q = lat_row_parity(l, y, z);
  row_ctx *r = &d->r;
  lat_row_range(l, q, c, h0, h1, &r->dl);
  r->base = lat_global_row(l, y, z) * (l->L[0] / 2) + lat_global_half_offset(l, q, c);
  r->rnd = l->rnd;
  r->roff = 0;
  r->sc = lat_half(l, y, z, c);
  r->so = lat_half(l, y, z, 1 - c);
  r->su = lat_half(l, y - 1, z, 1 - c);
  r->sd = lat_half(l, y + 1, z, 1 - c);
  r->sf = l->dim == 3 ? lat_half(l, y, z - 1, 1 - c) : NULL;
  r->sb = l->dim == 3 ? lat_half(l, y, z + 1, 1 - c) : NULL;
  r->colour = c;
  /* positions in the cache's arrays: the site's own + bonds, and each
   * - neighbour's (the bond to it) */
  const int64_t self = (2 * lat_row(l, y, z) + c) * W;
  const int64_t at[6] = {(2 * lat_row(l, y, z) + 1 - c) * W + r->dl, self,
                         (2 * lat_row(l, y - 1, z) + 1 - c) * W, self,
                         l->dim == 3 ? (2 * lat_row(l, y, z - 1) + 1 - c) * W : 0, self};
  d->nb[0] = r->so + r->dl;
  d->nb[1] = r->so + r->dl + 1;
  d->nb[2] = r->su;
  d->nb[3] = r->sd;
  d->nb[4] = r->sf;
  d->nb[5] = r->sb;
  d->nd = 2 * l->dim;
  for (int j = 0; j < 6; j++) {
    d->w8[j] = j < d->nd && k->bimodal ? k->w8[j / 2] + at[j] : NULL;
    d->w32[j] = j < d->nd && !k->bimodal ? k->w32[j / 2] + at[j] : NULL;
  }
  d->f = k->field ? k->f + self : NULL;
  d->g = NULL;
}

/* Row (y, z) moved to row (y + 2, z): every row pointer by two rows of its
 * array (rows of the spins and of the cache's arrays are 2 W entries
 * apart), the global half index by two rows; the parity of the row, so its
 * sites and dl, are the same. */
static inline void dis_row_shift2(dis_row *d, int64_t W, int64_t hx) {
  const int64_t s = 4 * W;
#define DIS_ADV(p) ((p) = (p) ? (p) + s : (p))
  DIS_ADV(d->r.sc);
  DIS_ADV(d->r.so);
  DIS_ADV(d->r.su);
  DIS_ADV(d->r.sd);
  DIS_ADV(d->r.sf);
  DIS_ADV(d->r.sb);
  for (int j = 0; j < 6; j++) {
    DIS_ADV(d->nb[j]);
    DIS_ADV(d->w8[j]);
    DIS_ADV(d->w32[j]);
  }
  DIS_ADV(d->f);
#undef DIS_ADV
  d->r.base += 2 * hx;
}

/* Row (y, it->z) as dis_row_at makes it (the iterator's own copy, until
 * it makes the row two after it), from the row two before it where the
 * iterator made that one last (rows go up in y within a plane;
 * dis_iter_plane forgets the kept rows). */
static inline __attribute__((always_inline)) dis_row *dis_row_get(dis_iter *it, int64_t y,
                                                                  int64_t *h0, int64_t *h1) {
  const int i = (int)(y & 1);
  if (it->ty[i] == y - 2)
    dis_row_shift2(&it->t[i], it->l->W, it->l->L[0] / 2);
  else
    dis_row_at(it, y, it->z, &it->t[i], &it->th0[i], &it->th1[i]);
  it->ty[i] = y;
  *h0 = it->th0[i];
  *h1 = it->th1[i];
  return &it->t[i];
}

/* The numbers of the sites from d's h0 to db's h1 (rows of plane it->z, d
 * before or equal to db) in the window, and both rows pointed at them.
 * A refill overwrites the numbers of rows before: their decisions,
 * fallbacks included, are made before. */
static inline __attribute__((always_inline)) void dis_iter_numbers(dis_iter *it, dis_row *d,
                                                                    int64_t h0, dis_row *db,
                                                                    int64_t h1) {
  lat_window_need(it->l, &it->w, it->key, it->c2, it->c3hi,
                  (uint64_t)(d->r.base + h0) / ISING_RNG_CHUNK,
                  (uint64_t)(db->r.base + h1) / ISING_RNG_CHUNK, it->cap_end);
  d->r.roff = d->r.base - (int64_t)it->w.first * ISING_RNG_CHUNK;
  db->r.roff = db->r.base - (int64_t)it->w.first * ISING_RNG_CHUNK;
}

/* The next row with sites of the colour, with its numbers (0 when none is
 * left). */
static __attribute__((noinline)) int dis_iter_next(dis_iter *it, dis_row **d, int64_t *h0,
                                                   int64_t *h1) {
  const ising_lattice *l = it->l;
  for (;;) {
    if (++it->y > l->n[1]) {
      it->y = 1;
      if (++it->z > lat_z1(l)) return 0;
      dis_iter_plane(it);
    }
    *d = dis_row_get(it, it->y, h0, h1);
    if (*h1 < *h0) continue;
    dis_iter_numbers(it, *d, *h0, *d, *h1);
    return 1;
  }
}

#ifdef __AVX512BW__
/* drow_approx's rule in 512-bit registers: 16 sites per step, every value
 * of the step in registers (nw, the float argument, dis_exp, the band,
 * the decisions as masks, the new spins and the sums), the row's tail by
 * masked loads and stores.  The argument is dis_block's operations in the
 * same order, the band dis_block's with the lattice's largest error bound
 * (dis_band_all: the same proof); dis_exp's polynomial is evaluated by Estrin's scheme with fused
 * multiply-adds, fewer roundings than the Horner form the budget counts.
 * The fallback sites take the same exact rule: the decisions are the
 * reference's.  dis_regs_half takes it for every row, two rows per step
 * where rows have at most 8 sites. */

/* The constants of a half sweep (dis_regc) in registers. */
typedef struct dis512_k {
  __m512 a, b, c, lo, hi;
} dis512_k;

/* Sixteen sites h .. h + 15 (those <= h1) decided as far as registers go:
 * their spins, nw, field weights, and the move and fallback masks. */
typedef struct dis512_q {
  __m512i nw, fi;
  __m128i s8;
  __mmask16 km, kneg, kmv, fb;
} dis512_q;

/* Loads of a step's lanes: plain (16 sites of one row), masked (a row's
 * tail, km), or a pair of rows (lanes 0-7 of row a by ka, 8-15 of row b
 * by kb, each its row's first sites: rows of at most 8 sites). */
static inline __m128i dis512_ld8(int pair, int full, __mmask16 ka, __mmask16 kb, const int8_t *pa,
                                 const int8_t *pb) {
  if (pair) return _mm_mask_loadu_epi8(_mm_maskz_loadu_epi8(ka, pa), kb, pb - 8);
  return full ? _mm_loadu_si128((const __m128i *)(const void *)pa) : _mm_maskz_loadu_epi8(ka, pa);
}
static inline __m512i dis512_ld32(int pair, int full, __mmask16 ka, __mmask16 kb,
                                  const int32_t *pa, const int32_t *pb) {
  if (pair) return _mm512_mask_loadu_epi32(_mm512_maskz_loadu_epi32(ka, pa), kb, pb - 8);
  return full ? _mm512_loadu_si512((const void *)pa) : _mm512_maskz_loadu_epi32(ka, pa);
}
static inline __m256i dis512_ld16(int pair, int full, __mmask16 ka, __mmask16 kb,
                                  const uint16_t *pa, const uint16_t *pb) {
  if (pair) return _mm256_mask_loadu_epi16(_mm256_maskz_loadu_epi16(ka, pa), kb, pb - 8);
  return full ? _mm256_loadu_si256((const __m256i *)(const void *)pa)
              : _mm256_maskz_loadu_epi16(ka, pa);
}

/* Sixteen sites decided as far as registers go: h .. h + 15 of row d
 * (those <= h1), or with pair the sites h .. h1 of row d in lanes 0-7 and
 * hb .. hb1 of row db in lanes 8-15 (rows of at most 8 sites). */
static inline __attribute__((always_inline)) dis512_q dis512_decide_t(const dis_row *d,
    const dis512_k *k, int64_t h, int64_t h1, const dis_row *db, int64_t hb, int64_t hb1,
    int heat, int field, int d3, int pair) {
  const int nd = d3 ? 6 : 4;
  const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
  const __m512i izero = _mm512_setzero_si512();
  const __m128i bzero = _mm_setzero_si128();
  dis512_q q;
  const int64_t left = h1 - h + 1, leftb = pair ? hb1 - hb + 1 : 0;
  const int full = !pair && left >= 16; /* plain loads; masked ones otherwise */
  const __mmask16 ka = full ? (__mmask16)0xFFFF : left > 0 ? (__mmask16)((1u << left) - 1) : 0;
  const __mmask16 kb = leftb > 0 ? (__mmask16)(((1u << leftb) - 1) << 8) : 0;
  q.km = (__mmask16)(ka | kb);
#define LD8(X) dis512_ld8(pair, full, ka, kb, X(d, h), pair ? X(db, hb) : NULL)
#define LD32(X) dis512_ld32(pair, full, ka, kb, X(d, h), pair ? X(db, hb) : NULL)
#define A_SC(D, H) ((D)->r.sc + (H))
#define A_W8(D, H) ((D)->w8[j] + (H))
#define A_NB(D, H) ((D)->nb[j] + (H))
#define A_W32(D, H) ((D)->w32[j] + (H))
#define A_F(D, H) ((D)->f + (H))
  q.s8 = LD8(A_SC);
  q.kneg = _mm_movepi8_mask(q.s8);
  if (d->w8[0]) { /* bimodal: |nw| <= 6, summed in bytes */
    __m128i n8 = bzero;
    for (int j = 0; j < nd; j++) {
      const __m128i w = LD8(A_W8);
      const __mmask16 kn = _mm_movepi8_mask(LD8(A_NB));
      n8 = _mm_add_epi8(n8, _mm_mask_sub_epi8(w, kn, bzero, w));
    }
    q.nw = _mm512_cvtepi8_epi32(n8);
  } else {
    q.nw = izero;
    for (int j = 0; j < nd; j++) {
      const __m512i w = LD32(A_W32);
      const __mmask16 kn = _mm_movepi8_mask(LD8(A_NB));
      q.nw = _mm512_add_epi32(q.nw, _mm512_mask_sub_epi32(w, kn, izero, w));
    }
  }
  __m512 v = _mm512_mul_ps(k->a, _mm512_cvtepi32_ps(q.nw));
  q.fi = izero;
  if (field) {
    q.fi = LD32(A_F);
    v = _mm512_add_ps(v, _mm512_mul_ps(k->b, _mm512_cvtepi32_ps(q.fi)));
  }
  v = _mm512_add_ps(v, k->c);
  __m512 y;
  if (heat) {
    y = _mm512_max_ps(_mm512_min_ps(v, _mm512_set1_ps(DIS_YMAX)), _mm512_set1_ps(-DIS_YMAX));
  } else { /* y = s v, then <= 0 */
    v = _mm512_mask_sub_ps(v, q.kneg, zero, v);
    y = _mm512_max_ps(_mm512_min_ps(v, zero), _mm512_set1_ps(-DIS_YMAX));
  }
  /* dis_exp */
  const __m512 magic = _mm512_set1_ps(0x1.8p23f);
  const __m512 kf =
      _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(y, _mm512_set1_ps(0x1.715476p0f)), magic), magic);
  const __m512 rr = _mm512_sub_ps(_mm512_sub_ps(y, _mm512_mul_ps(kf, _mm512_set1_ps(0x1.62e4p-1f))),
                                  _mm512_mul_ps(kf, _mm512_set1_ps(0x1.7f7d1cp-20f)));
  /* the same polynomial by Estrin's scheme with fused multiply-adds: a
   * chain of 4 operations instead of Horner's 12, and at most 5 roundings
   * on any term's path (within the budget above) */
  const __m512 r2 = _mm512_mul_ps(rr, rr), r4 = _mm512_mul_ps(r2, r2);
  const __m512 p01 = _mm512_fmadd_ps(rr, one, one);
  const __m512 p23 = _mm512_fmadd_ps(rr, _mm512_set1_ps(0x1.555556p-3f), _mm512_set1_ps(0.5f));
  const __m512 p45 =
      _mm512_fmadd_ps(rr, _mm512_set1_ps(0x1.111112p-7f), _mm512_set1_ps(0x1.555556p-5f));
  const __m512 p46 = _mm512_fmadd_ps(r2, _mm512_set1_ps(0x1.6c16c2p-10f), p45);
  const __m512 p = _mm512_fmadd_ps(r4, p46, _mm512_fmadd_ps(r2, p23, p01));
  const __m512 E = _mm512_scalef_ps(p, kf); /* p 2^kf, exact */
  /* x~ (heat bath), or E (Metropolis: x~ = 2^16 E, the 2^16 in lo, hi) */
  const __m512 x = heat ? _mm512_div_ps(_mm512_set1_ps(65536.0f), _mm512_add_ps(one, E)) : E;
  const __m512 ui = _mm512_cvtepi32_ps(_mm512_cvtepu16_epi32(dis512_ld16(
      pair, full, ka, kb, d->r.rnd + h + d->r.roff, pair ? db->r.rnd + hb + db->r.roff : NULL)));
  /* lo = x~ (1 - D), hi = x~ (1 + D); inf D: -inf or NaN, inf or NaN,
   * no cheap decision */
  const __m512 lo = _mm512_mul_ps(x, k->lo), hi = _mm512_mul_ps(x, k->hi);
  q.kmv = _mm512_mask_cmp_ps_mask(q.km, _mm512_add_ps(ui, one), lo, _CMP_LT_OQ);
  const __mmask16 kst = _mm512_cmp_ps_mask(ui, hi, _CMP_GT_OQ);
  q.fb = (__mmask16)(q.km & ~q.kmv & ~kst);
#undef LD8
#undef LD32
#undef A_SC
#undef A_W8
#undef A_NB
#undef A_W32
#undef A_F
  return q;
}

static inline __attribute__((always_inline)) dis512_q dis512_decide(const dis_row *d,
    const dis512_k *k, int64_t h, int64_t h1, int heat, int field, int d3) {
  return dis512_decide_t(d, k, h, h1, NULL, 0, -1, heat, field, d3, 0);
}

/* The fallback sites of q by the exact rule (drow_exact's). */
static inline __attribute__((always_inline)) void dis512_resolve(
    const dis_row *d, const ising_couplings *cp, const ising_model *m, ising_stream st,
    uint32_t c2, uint32_t c3lo, dis512_q *q, int64_t h) {
  if (q->fb) {
    int32_t nwa[16];
    _mm512_storeu_si512((void *)nwa, q->nw);
    q->kmv = (__mmask16)(q->kmv | dis_exact_lanes(d, cp, m, st, c2, c3lo, h, nwa, q->fb));
  }
}

/* The same for a pair of rows (dis512_decide_t). */
static inline __attribute__((always_inline)) void dis512_resolve2(
    const dis_row *d, const dis_row *db, const ising_couplings *cp, const ising_model *m,
    ising_stream st, uint32_t c2, uint32_t c3lo, dis512_q *q, int64_t h, int64_t hb) {
  if (q->fb) {
    int32_t nwa[16];
    _mm512_storeu_si512((void *)nwa, q->nw);
    const unsigned fb = q->fb;
    q->kmv = (__mmask16)(q->kmv | dis_exact_lanes(d, cp, m, st, c2, c3lo, h, nwa, fb & 0xFFu) |
                         dis_exact_lanes(db, cp, m, st, c2, c3lo, hb, nwa + 8, fb >> 8) << 8);
  }
}

/* The new spins of a resolved q (of row d from h, or with pair of rows d
 * from h and db from hb) and the sums. */
static inline __attribute__((always_inline)) void dis512_commit_t(const dis_row *d,
    const dis512_q *q, int64_t h, const dis_row *db, int64_t hb, int heat, int field,
    __m512i *acc_b, __m512i *acc_f, int64_t *mag, int pair) {
  const __m512i izero = _mm512_setzero_si512();
  /* heat bath: flip where the move differs from s > 0; Metropolis: where
   * it moves */
  const __mmask16 km = q->km;
  const __mmask16 flip = heat ? (__mmask16)((q->kmv ^ ~q->kneg) & km) : q->kmv;
  const __m128i neg = _mm_sub_epi8(_mm_setzero_si128(), q->s8);
  if (pair) {
    _mm_mask_storeu_epi8(d->r.sc + h, (__mmask16)(flip & 0xFFu), neg);
    _mm_mask_storeu_epi8(db->r.sc + hb - 8, (__mmask16)(flip & 0xFF00u), neg);
  } else {
    _mm_mask_storeu_epi8(d->r.sc + h, flip, neg);
  }
  const __mmask16 knew = (__mmask16)((q->kneg ^ flip) & km); /* new spin -1 */
  const __mmask16 take = d->r.colour ? flip : km;
  const __m512i pb = _mm512_maskz_mov_epi32(take, _mm512_mask_sub_epi32(q->nw, knew, izero, q->nw));
  *acc_b = _mm512_add_epi64(*acc_b, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(pb)));
  *acc_b = _mm512_add_epi64(*acc_b, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(pb, 1)));
  if (field) {
    const __m512i pf = _mm512_mask_sub_epi32(q->fi, knew, izero, q->fi); /* 0 outside km */
    *acc_f = _mm512_add_epi64(*acc_f, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(pf)));
    *acc_f = _mm512_add_epi64(*acc_f, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(pf, 1)));
  }
  *mag += __builtin_popcount((unsigned)km) - 2 * __builtin_popcount((unsigned)knew);
}

static inline __attribute__((always_inline)) void dis512_commit(const dis_row *d, const dis512_q *q,
    int64_t h, int heat, int field, __m512i *acc_b, __m512i *acc_f, int64_t *mag) {
  dis512_commit_t(d, q, h, NULL, 0, heat, field, acc_b, acc_f, mag, 0);
}

/* The register rows' glue (dis_regs_half): 16 lanes. */
#define DISR_LANES 16
typedef dis512_k disr_k;
typedef dis512_q disr_q;
typedef __m512i disr_acc;
static inline disr_k disr_init(dis_regc f) {
  return (disr_k){_mm512_set1_ps(f.a), _mm512_set1_ps(f.b), _mm512_set1_ps(f.c),
                  _mm512_set1_ps(f.lo), _mm512_set1_ps(f.hi)};
}
static inline disr_acc disr_zero(void) { return _mm512_setzero_si512(); }
static inline int64_t disr_hsum(disr_acc v) { return _mm512_reduce_add_epi64(v); }
#define disr_decide dis512_decide
#define disr_resolve dis512_resolve
#define disr_commit dis512_commit
#define DISR_PAIR 1 /* rows of at most 8 sites go two to a step */
#define disr_decide2(d, db, k, h, h1, hb, hb1, heat, field, d3) \
  dis512_decide_t(d, k, h, h1, db, hb, hb1, heat, field, d3, 1)
#define disr_resolve2 dis512_resolve2
#define disr_commit2(d, db, q, h, hb, heat, field, acc_b, acc_f, mag) \
  dis512_commit_t(d, q, h, db, hb, heat, field, acc_b, acc_f, mag, 1)
#elif defined(__AVX2__)
/* The AVX-512 register rule in 256-bit registers: 8 sites per step, sign
 * operations for the products with spins (+-1), the
 * masks as bits of movemask.  A row's last step reads whole registers past
 * its end (the arrays have slack) and decides, writes and sums only the
 * lanes in the row (the others are written back unchanged: bytes past a
 * row are its x halo and slack, or the next half row in memory, which is
 * of the other colour; no kernel changes them during the half sweep). */
typedef struct dis256_k { /* as dis512_k */
  __m256 a, b, c, lo, hi;
} dis256_k;

typedef struct dis256_q {
  __m256i nw, fi, s32;
  __m128i s8;
  unsigned km, kneg, kmv, fb; /* km: the lanes <= h1 */
} dis256_q;

static inline __attribute__((always_inline)) dis256_q dis256_decide(const dis_row *d,
    const dis256_k *k, int64_t h, int64_t h1, int heat, int field, int d3) {
  const row_ctx *r = &d->r;
  const int nd = d3 ? 6 : 4;
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MIN));
  dis256_q q;
  q.km = h1 - h + 1 >= 8 ? 0xFFu : (1u << (h1 - h + 1)) - 1;
#define LD8(p) _mm_loadl_epi64((const __m128i *)(const void *)(p))
  q.s8 = LD8(r->sc + h);
  q.s32 = _mm256_cvtepi8_epi32(q.s8);
  q.kneg = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(q.s32));
  if (d->w8[0]) { /* bimodal: |nw| <= 6, summed in bytes */
    __m128i n8 = _mm_setzero_si128();
    for (int j = 0; j < nd; j++) n8 = _mm_add_epi8(n8, _mm_sign_epi8(LD8(d->w8[j] + h), LD8(d->nb[j] + h)));
    q.nw = _mm256_cvtepi8_epi32(n8);
  } else {
    q.nw = _mm256_setzero_si256();
    for (int j = 0; j < nd; j++) {
      const __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(d->w32[j] + h));
      q.nw = _mm256_add_epi32(q.nw, _mm256_sign_epi32(w, _mm256_cvtepi8_epi32(LD8(d->nb[j] + h))));
    }
  }
#undef LD8
  __m256 v = _mm256_mul_ps(k->a, _mm256_cvtepi32_ps(q.nw));
  q.fi = _mm256_setzero_si256();
  if (field) {
    q.fi = _mm256_loadu_si256((const __m256i *)(const void *)(d->f + h));
    v = _mm256_add_ps(v, _mm256_mul_ps(k->b, _mm256_cvtepi32_ps(q.fi)));
  }
  v = _mm256_add_ps(v, k->c);
  __m256 y;
  if (heat) {
    y = _mm256_max_ps(_mm256_min_ps(v, _mm256_set1_ps(DIS_YMAX)), _mm256_set1_ps(-DIS_YMAX));
  } else { /* y = s v (the sign bit of s), then <= 0 */
    v = _mm256_xor_ps(v, _mm256_and_ps(_mm256_castsi256_ps(q.s32), sign));
    y = _mm256_max_ps(_mm256_min_ps(v, zero), _mm256_set1_ps(-DIS_YMAX));
  }
  /* dis_exp, the polynomial as in dis512_decide_t */
  const __m256 magic = _mm256_set1_ps(0x1.8p23f);
  const __m256 kf =
      _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(y, _mm256_set1_ps(0x1.715476p0f)), magic), magic);
  const __m256 rr = _mm256_sub_ps(_mm256_sub_ps(y, _mm256_mul_ps(kf, _mm256_set1_ps(0x1.62e4p-1f))),
                                  _mm256_mul_ps(kf, _mm256_set1_ps(0x1.7f7d1cp-20f)));
  const __m256 r2 = _mm256_mul_ps(rr, rr), r4 = _mm256_mul_ps(r2, r2);
  const __m256 p01 = _mm256_fmadd_ps(rr, one, one);
  const __m256 p23 = _mm256_fmadd_ps(rr, _mm256_set1_ps(0x1.555556p-3f), _mm256_set1_ps(0.5f));
  const __m256 p45 =
      _mm256_fmadd_ps(rr, _mm256_set1_ps(0x1.111112p-7f), _mm256_set1_ps(0x1.555556p-5f));
  const __m256 p46 = _mm256_fmadd_ps(r2, _mm256_set1_ps(0x1.6c16c2p-10f), p45);
  const __m256 p = _mm256_fmadd_ps(r4, p46, _mm256_fmadd_ps(r2, p23, p01));
  const __m256i bits =
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(kf), _mm256_set1_epi32(127)), 23);
  const __m256 E = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
  const __m256 x = heat ? _mm256_div_ps(_mm256_set1_ps(65536.0f), _mm256_add_ps(one, E)) : E;
  const __m256 ui = _mm256_cvtepi32_ps(
      _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(r->rnd + h + r->roff))));
  const __m256 lo = _mm256_mul_ps(x, k->lo), hi = _mm256_mul_ps(x, k->hi);
  q.kmv = q.km & (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_add_ps(ui, one), lo, _CMP_LT_OQ));
  const unsigned kst = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(ui, hi, _CMP_GT_OQ));
  q.fb = q.km & ~q.kmv & ~kst;
  return q;
}

/* 32-bit lanes of -1 where bit i of b is set. */
static inline __m256i dis256_lanes(unsigned b) {
  const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)b), bit), bit);
}

/* The fallback sites of q by the exact rule (drow_exact's). */
static inline __attribute__((always_inline)) void dis256_resolve(
    const dis_row *d, const ising_couplings *cp, const ising_model *m, ising_stream st,
    uint32_t c2, uint32_t c3lo, dis256_q *q, int64_t h) {
  if (q->fb) {
    int32_t nwa[8];
    _mm256_storeu_si256((__m256i *)(void *)nwa, q->nw);
    q->kmv |= dis_exact_lanes(d, cp, m, st, c2, c3lo, h, nwa, q->fb);
  }
}

/* The new spins of a resolved q and the sums. */
static inline __attribute__((always_inline)) void dis256_commit(const dis_row *d, const dis256_q *q,
    int64_t h, int heat, int field, __m256i *acc_b, __m256i *acc_f, int64_t *mag) {
  const row_ctx *r = &d->r;
  /* heat bath: flip where the move differs from s > 0; Metropolis: where
   * it moves */
  const unsigned flip = heat ? (q->kmv ^ ~q->kneg) & q->km : q->kmv;
  const __m256i fv = dis256_lanes(flip);
  const __m256i ns = _mm256_sub_epi32(_mm256_xor_si256(q->s32, fv), fv);
  const __m128i f8 = _mm_cmpeq_epi8(
      _mm_and_si128(_mm_set1_epi8((char)flip), _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0)),
      _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 1, 1, 1, 1, 1, 1, 1, 1));
  _mm_storel_epi64((__m128i *)(void *)(r->sc + h), _mm_sub_epi8(_mm_xor_si128(q->s8, f8), f8));
  const __m256i kv = dis256_lanes(q->km), pb = _mm256_sign_epi32(q->nw, ns);
  const __m256i pt = _mm256_and_si256(pb, r->colour ? fv : kv);
  *acc_b = _mm256_add_epi64(*acc_b, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(pt)));
  *acc_b = _mm256_add_epi64(*acc_b, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(pt, 1)));
  if (field) {
    const __m256i pf = _mm256_and_si256(_mm256_sign_epi32(q->fi, ns), kv);
    *acc_f = _mm256_add_epi64(*acc_f, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(pf)));
    *acc_f = _mm256_add_epi64(*acc_f, _mm256_cvtepi32_epi64(_mm256_extracti128_si256(pf, 1)));
  }
  *mag += __builtin_popcount(q->km) - 2 * __builtin_popcount((q->kneg ^ flip) & q->km);
}

static inline int64_t dis256_hsum64(__m256i v) {
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  return _mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1);
}

#define DISR_LANES 8
typedef dis256_k disr_k;
typedef dis256_q disr_q;
typedef __m256i disr_acc;
static inline disr_k disr_init(dis_regc f) {
  return (disr_k){_mm256_set1_ps(f.a), _mm256_set1_ps(f.b), _mm256_set1_ps(f.c),
                  _mm256_set1_ps(f.lo), _mm256_set1_ps(f.hi)};
}
static inline disr_acc disr_zero(void) { return _mm256_setzero_si256(); }
#define disr_hsum dis256_hsum64
#define disr_decide dis256_decide
#define disr_resolve dis256_resolve
#define disr_commit dis256_commit
#define DISR_PAIR 0
#endif

#if defined(__AVX512BW__) || defined(__AVX2__)
/* The register rows of a half sweep (every row: the AVX-512 and AVX2 paths) in units
 * of two steps of DISR_LANES sites: two rows y, y + 1 of a plane where
 * rows have at most DISR_LANES sites (on AVX-512 in one packed step where
 * they have at most 8), otherwise two consecutive steps of a row (a row's
 * last step masked).  A unit's two steps are decided back to back, so that
 * their dependency chains interleave in the instruction stream, then their
 * fallback lanes, then both are committed (deferring commits to after the
 * next unit's decisions measured slower).  The constants and sums are set
 * up and reduced once per half sweep, not per row.  A commit writes only
 * its rows' sites of the colour, which no decision reads. */
typedef struct disr_unit {
  disr_q q[2];
  const dis_row *d[2];
  int64_t h[2];
  int packed, two; /* one step of two rows; a second step (q[1]) */
} disr_unit;

static inline __attribute__((always_inline)) void disr_unit_commit(const disr_unit *u, int heat,
    int field, disr_acc *acc_b, disr_acc *acc_f, int64_t *mag) {
#if DISR_PAIR
  if (u->packed) {
    disr_commit2(u->d[0], u->d[1], &u->q[0], u->h[0], u->h[1], heat, field, acc_b, acc_f, mag);
    return;
  }
#endif
  disr_commit(u->d[0], &u->q[0], u->h[0], heat, field, acc_b, acc_f, mag);
  /* only a step there is: the AVX2 commit writes its lanes past the row
   * back as decide read them */
  if (u->two) disr_commit(u->d[1], &u->q[1], u->h[1], heat, field, acc_b, acc_f, mag);
}

static inline __attribute__((always_inline)) void dis_regs_half_t(
    dis_iter *it, const ising_couplings *cp, const ising_model *m, ising_stream st, uint32_t c2,
    uint32_t c3lo, int heat, int field, int d3, dis_sums *out) {
  const disr_k k = disr_init(dis_reg_constants(m, cp, it->k, heat));
  disr_acc acc_b = disr_zero(), acc_f = disr_zero();
  int64_t mag = 0, h0, h1;
  disr_unit u;
  const ising_lattice *l = it->l;
  const int64_t longest = (l->n[0] + 1) / 2; /* sites of a row, at most */
  if (longest <= DISR_LANES) { /* rows y, y + 1 of a plane at a time */
    const int packed = DISR_PAIR && longest <= DISR_LANES / 2;
    for (it->z = lat_z0(l); it->z <= lat_z1(l); it->z++) {
      dis_iter_plane(it);
      for (int64_t y = 1; y <= l->n[1]; y += 2) {
        int64_t b0 = 0, b1 = -1;
        dis_row *da = dis_row_get(it, y, &h0, &h1);
        dis_row *db = da; /* no second row: its lanes or step empty */
        if (y < l->n[1]) db = dis_row_get(it, y + 1, &b0, &b1);
        const int ea = h1 < h0, eb = b1 < b0;
        if (ea && eb) continue;
        dis_iter_numbers(it, ea ? db : da, ea ? b0 : h0, eb ? da : db, eb ? h1 : b1);
        disr_unit *n = &u;
        *n = (disr_unit){.d = {da, db}, .h = {h0, b0}, .packed = packed, .two = !eb};
#if DISR_PAIR
        if (packed) {
          n->q[0] = disr_decide2(da, db, &k, h0, h1, b0, b1, heat, field, d3);
          disr_resolve2(da, db, cp, m, st, c2, c3lo, &n->q[0], h0, b0);
        } else
#endif
        {
          n->q[0] = disr_decide(da, &k, h0, h1, heat, field, d3);
          if (n->two) n->q[1] = disr_decide(db, &k, b0, b1, heat, field, d3);
          disr_resolve(da, cp, m, st, c2, c3lo, &n->q[0], h0);
          if (n->two) disr_resolve(db, cp, m, st, c2, c3lo, &n->q[1], b0);
        }
        disr_unit_commit(n, heat, field, &acc_b, &acc_f, &mag);
      }
    }
  } else { /* two steps of a row at a time */
    dis_row *dr;
    while (dis_iter_next(it, &dr, &h0, &h1)) {
      for (int64_t h = h0; h <= h1; h += 2 * DISR_LANES) {
        disr_unit *n = &u;
        *n = (disr_unit){.d = {dr, dr}, .h = {h, h + DISR_LANES}, .packed = 0,
                         .two = h + DISR_LANES <= h1};
        n->q[0] = disr_decide(dr, &k, h, h1, heat, field, d3);
        if (n->two) n->q[1] = disr_decide(dr, &k, h + DISR_LANES, h1, heat, field, d3);
        disr_resolve(dr, cp, m, st, c2, c3lo, &n->q[0], h);
        if (n->two) disr_resolve(dr, cp, m, st, c2, c3lo, &n->q[1], h + DISR_LANES);
        disr_unit_commit(n, heat, field, &acc_b, &acc_f, &mag);
      }
    }
  }
  out->bonds += (it->c ? 2 : 1) * disr_hsum(acc_b); /* colour 1: 2 s_new nw */
  out->mag += mag;
  out->field += disr_hsum(acc_f);
}

static void dis_regs_half(dis_iter *it, const ising_couplings *cp, const ising_model *m,
                          ising_stream st, uint32_t c2, uint32_t c3lo, dis_sums *out) {
  const int heat = m->algorithm == ISING_ALG_HEATBATH, field = it->k->field;
#define DIS_REGS(H, F, D3) dis_regs_half_t(it, cp, m, st, c2, c3lo, H, F, D3, out)
  DIS_INSTANCES(DIS_REGS, heat, field, it->l->dim == 3);
#undef DIS_REGS
}
#endif

/* Whether site h moves, by the table (bimodal, no field). */
static inline int dis_decide(const row_ctx *r, const dis_table *T, ising_stream st, uint32_t c2,
                             uint32_t c3lo, int64_t h, int idx) {
  uint16_t u = r->rnd[h + r->roff], t = T->hi[idx];
  if (u != t) return u < t;
  return row_lo(r, st, c2, c3lo, h) <= T->lo[idx];
}

/* The table row in plain C, in blocks like row_portable. */
static void drow_portable(const dis_row *d, const dis_table *T, const ising_model *m,
                          ising_stream st, uint32_t c2, uint32_t c3lo, int64_t h0, int64_t h1,
                          dis_sums *out) {
  const row_ctx *r = &d->r;
  const int heat = m->algorithm == ISING_ALG_HEATBATH, d3 = m->dim == 3, z = m->z;
  const int wc = r->colour;
  int64_t bonds = 0, mag = 0;
  for (int64_t b = h0; b <= h1; b += ROW_BLOCK) {
    const int n = h1 - b + 1 < ROW_BLOCK ? (int)(h1 - b + 1) : ROW_BLOCK;
    int8_t *s = r->sc + b;
    const int8_t *n0 = d->nb[0] + b, *n1 = d->nb[1] + b, *n2 = d->nb[2] + b, *n3 = d->nb[3] + b;
    const int8_t *w0 = d->w8[0] + b, *w1 = d->w8[1] + b, *w2 = d->w8[2] + b, *w3 = d->w8[3] + b;
    const int8_t *n4 = d3 ? d->nb[4] + b : NULL, *n5 = d3 ? d->nb[5] + b : NULL;
    const int8_t *w4 = d3 ? d->w8[4] + b : NULL, *w5 = d3 ? d->w8[5] + b : NULL;
    uint8_t idx[ROW_BLOCK];
    int8_t move[ROW_BLOCK], nws[ROW_BLOCK];
    for (int i = 0; i < n; i++) {
      int nw = w0[i] * n0[i] + w1[i] * n1[i] + w2[i] * n2[i] + w3[i] * n3[i] +
               (d3 ? w4[i] * n4[i] + w5[i] * n5[i] : 0);
      nws[i] = (int8_t)nw;
      idx[i] = (uint8_t)(nw + z + (s[i] > 0 ? 2 * z + 1 : 0));
    }
    for (int i = 0; i < n; i++) move[i] = (int8_t)dis_decide(r, T, st, c2, c3lo, b + i, idx[i]);
    int bb = 0, mm = 0;
    for (int i = 0; i < n; i++) {
      int ns = heat ? (move[i] ? 1 : -1) : (move[i] ? -s[i] : s[i]);
      bb += (ns - wc * s[i]) * nws[i];
      mm += ns;
      s[i] = (int8_t)ns;
    }
    bonds += bb;
    mag += mm;
  }
  out->bonds += bonds;
  out->mag += mag;
}

/* The table row with field weights in {-1, 0, +1}, in plain C. */
static void drow_field3(const dis_row *d, const dis_table *T, const ising_model *m,
                        ising_stream st, uint32_t c2, uint32_t c3lo, int64_t h0, int64_t h1,
                        dis_sums *out) {
  const row_ctx *r = &d->r;
  const int heat = m->algorithm == ISING_ALG_HEATBATH, d3 = m->dim == 3, z = m->z;
  const int wc = r->colour, span = 4 * z + 2;
  int64_t bonds = 0, mag = 0, F = 0;
  for (int64_t b = h0; b <= h1; b += ROW_BLOCK) {
    const int n = h1 - b + 1 < ROW_BLOCK ? (int)(h1 - b + 1) : ROW_BLOCK;
    int8_t *s = r->sc + b;
    const int32_t *f = d->f + b;
    const int8_t *n0 = d->nb[0] + b, *n1 = d->nb[1] + b, *n2 = d->nb[2] + b, *n3 = d->nb[3] + b;
    const int8_t *w0 = d->w8[0] + b, *w1 = d->w8[1] + b, *w2 = d->w8[2] + b, *w3 = d->w8[3] + b;
    const int8_t *n4 = d3 ? d->nb[4] + b : NULL, *n5 = d3 ? d->nb[5] + b : NULL;
    const int8_t *w4 = d3 ? d->w8[4] + b : NULL, *w5 = d3 ? d->w8[5] + b : NULL;
    uint8_t idx[ROW_BLOCK];
    int8_t move[ROW_BLOCK], nws[ROW_BLOCK];
    for (int i = 0; i < n; i++) {
      int nw = w0[i] * n0[i] + w1[i] * n1[i] + w2[i] * n2[i] + w3[i] * n3[i] +
               (d3 ? w4[i] * n4[i] + w5[i] * n5[i] : 0);
      nws[i] = (int8_t)nw;
      idx[i] = (uint8_t)((f[i] + 1) * span + nw + z + (s[i] > 0 ? 2 * z + 1 : 0));
    }
    for (int i = 0; i < n; i++) {
      uint16_t u = r->rnd[b + i + r->roff], t = T->hi3[idx[i]];
      move[i] = (int8_t)(u != t ? u < t : row_lo(r, st, c2, c3lo, b + i) <= T->lo3[idx[i]]);
    }
    int bb = 0, mm = 0, ff = 0;
    for (int i = 0; i < n; i++) {
      int ns = heat ? (move[i] ? 1 : -1) : (move[i] ? -s[i] : s[i]);
      bb += (ns - wc * s[i]) * nws[i];
      mm += ns;
      ff += f[i] * ns;
      s[i] = (int8_t)ns;
    }
    bonds += bb;
    mag += mm;
    F += ff;
  }
  out->bonds += bonds;
  out->mag += mag;
  out->field += F;
}

#ifdef __AVX512BW__
/* The table row for AVX-512: nw in bytes (sign products), then as
 * row_avx512 with idx = nw + z (+ 2z + 1 for s > 0) into the 32-entry
 * permute. */
static void drow_avx512(const dis_row *d, const dis_table *T, const ising_model *m,
                        ising_stream st, uint32_t c2, uint32_t c3lo, int64_t h0, int64_t h1,
                        dis_sums *out) {
  const row_ctx *r = &d->r;
  __m512i acc_b = _mm512_setzero_si512(), acc_m = _mm512_setzero_si512();
  const __m512i ones = _mm512_set1_epi16(1);
  const __m512i tbl = _mm512_loadu_si512((const void *)T->hi);
  const __m512i zc = _mm512_set1_epi16((short)m->z), up = _mm512_set1_epi16((short)(2 * m->z + 1));
  const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi16(1),
                mone = _mm512_set1_epi16(-1);
  const int heat = m->algorithm == ISING_ALG_HEATBATH, d3 = m->dim == 3;
  for (int64_t h = h0; h <= h1; h += 32) {
    int64_t cnt = h1 - h + 1;
    __mmask32 km = cnt >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << cnt) - 1);
#define SGN(j) \
  _mm256_sign_epi8(_mm256_maskz_loadu_epi8(km, d->nb[j] + h), _mm256_maskz_loadu_epi8(km, d->w8[j] + h))
    __m256i nw8 = _mm256_add_epi8(_mm256_add_epi8(SGN(0), SGN(1)), _mm256_add_epi8(SGN(2), SGN(3)));
    if (d3) nw8 = _mm256_add_epi8(nw8, _mm256_add_epi8(SGN(4), SGN(5)));
#undef SGN
    __m512i s = load16(r->sc + h, km);
    __m512i nw = _mm512_cvtepi8_epi16(nw8);
    __m512i idx = _mm512_add_epi16(nw, zc);
    idx = _mm512_mask_add_epi16(idx, _mm512_cmpgt_epi16_mask(s, zero), idx, up);
    __m512i t = _mm512_permutexvar_epi16(idx, tbl);
    __m512i u = _mm512_maskz_loadu_epi16(km, r->rnd + h + r->roff);
    __mmask32 move = _mm512_mask_cmplt_epu16_mask(km, u, t);
    __mmask32 tie = _mm512_mask_cmpeq_epu16_mask(km, u, t);
    while (tie) {
      int b = __builtin_ctz(tie);
      tie &= tie - 1;
      int64_t hh = h + b;
      int ib = dis_index(m->z, r->sc[hh], dis_nw8(d, hh));
      if (row_lo(r, st, c2, c3lo, hh) <= T->lo[ib]) move |= (__mmask32)(1u << b);
    }
    __m512i ns = heat ? _mm512_mask_blend_epi16(move, mone, one) : _mm512_mask_sub_epi16(s, move, zero, s);
    ns = _mm512_maskz_mov_epi16(km, ns);
    _mm512_mask_cvtepi16_storeu_epi8(r->sc + h, km, ns);
    __m512i dd = r->colour ? _mm512_sub_epi16(ns, s) : ns;
    acc_b = _mm512_add_epi32(acc_b, _mm512_madd_epi16(_mm512_mullo_epi16(dd, nw), ones));
    acc_m = _mm512_add_epi32(acc_m, _mm512_madd_epi16(ns, ones));
  }
  out->bonds += _mm512_reduce_add_epi32(acc_b);
  out->mag += _mm512_reduce_add_epi32(acc_m);
}
#define DROW_FAST drow_avx512
#elif defined(__AVX2__)
/* The constants of a table row for AVX2: the byte planes of the thresholds
 * of s = -1 and s = +1 by nw + z (as avx2_row_init, high planes biased). */
typedef struct avx2_drow {
  __m256i lo[2], hi[2];
  __m256i z;
  int d3, heat;
} avx2_drow;

static inline void avx2_drow_init(avx2_drow *k, const dis_table *T, const ising_model *m) {
  const __m256i split = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
                                         0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  for (int p = 0; p < 2; p++) {
    __m256i t = _mm256_loadu_si256((const __m256i *)(const void *)T->half[p]);
    t = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(t, split), 0xD8);
    k->lo[p] = _mm256_permute2x128_si256(t, t, 0x00);
    k->hi[p] = _mm256_xor_si256(_mm256_permute2x128_si256(t, t, 0x11), _mm256_set1_epi8(-128));
  }
  k->z = _mm256_set1_epi8((char)m->z);
  k->d3 = m->dim == 3;
  k->heat = m->algorithm == ISING_ALG_HEATBATH;
}

/* step_avx2 with couplings: nw from sign products, thresholds from the
 * plane of each lane's s (every operation within a byte lane, so the bytes
 * past a short row's end touch no lane of the row). */
static inline void dstep_avx2(const dis_row *d, const avx2_drow *k, const dis_table *T,
                              const ising_model *m, ising_stream st, uint32_t c2, uint32_t c3lo,
                              int64_t h, int first, int last, __m256i *acc_b, __m256i *acc_m) {
  const row_ctx *r = &d->r;
  const __m256i zero = _mm256_setzero_si256(), bias = _mm256_set1_epi16(-32768);
  const __m256i lane = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                        17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31);
  const __m256i keep = _mm256_andnot_si256(_mm256_cmpgt_epi8(lane, _mm256_set1_epi8((char)last)),
                                           _mm256_cmpgt_epi8(lane, _mm256_set1_epi8((char)(first - 1))));
#define LOAD32(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define SGN(j) _mm256_sign_epi8(LOAD32(d->nb[j] + h), LOAD32(d->w8[j] + h))
  __m256i s = LOAD32(r->sc + h);
  __m256i nw = _mm256_add_epi8(_mm256_add_epi8(SGN(0), SGN(1)), _mm256_add_epi8(SGN(2), SGN(3)));
  if (k->d3) nw = _mm256_add_epi8(nw, _mm256_add_epi8(SGN(4), SGN(5)));
#undef SGN
  __m256i pos = _mm256_cmpgt_epi8(s, zero);
  /* lanes in the order 0 2 1 3 of 64-bit quarters, as in step_avx2 */
  __m256i idx = _mm256_permute4x64_epi64(_mm256_add_epi8(nw, k->z), 0xD8);
  __m256i posq = _mm256_permute4x64_epi64(pos, 0xD8);
  __m256i tlo = _mm256_blendv_epi8(_mm256_shuffle_epi8(k->lo[0], idx),
                                   _mm256_shuffle_epi8(k->lo[1], idx), posq);
  __m256i thi = _mm256_blendv_epi8(_mm256_shuffle_epi8(k->hi[0], idx),
                                   _mm256_shuffle_epi8(k->hi[1], idx), posq);
  __m256i t0 = _mm256_unpacklo_epi8(tlo, thi), t1 = _mm256_unpackhi_epi8(tlo, thi);
  const uint16_t *rnd = r->rnd + h + r->roff;
  __m256i u0 = _mm256_xor_si256(LOAD32(rnd), bias), u1 = _mm256_xor_si256(LOAD32(rnd + 16), bias);
#undef LOAD32
  __m256i lt = _mm256_packs_epi16(_mm256_cmpgt_epi16(t0, u0), _mm256_cmpgt_epi16(t1, u1));
  __m256i move = _mm256_permute4x64_epi64(lt, 0xD8);
  __m256i eq0 = _mm256_cmpeq_epi16(t0, u0), eq1 = _mm256_cmpeq_epi16(t1, u1);
  __m256i any = _mm256_or_si256(eq0, eq1);
  if (!_mm256_testz_si256(any, any)) {
    __m256i eq = _mm256_and_si256(_mm256_permute4x64_epi64(_mm256_packs_epi16(eq0, eq1), 0xD8), keep);
    uint32_t tie = (uint32_t)_mm256_movemask_epi8(eq);
    int8_t mv[32];
    _mm256_storeu_si256((__m256i *)(void *)mv, move);
    while (tie) {
      int b = __builtin_ctz(tie);
      tie &= tie - 1;
      int64_t hh = h + b;
      int ib = dis_index(m->z, r->sc[hh], dis_nw8(d, hh));
      if (row_lo(r, st, c2, c3lo, hh) <= T->lo[ib]) mv[b] = -1;
    }
    move = _mm256_loadu_si256((const __m256i *)(const void *)mv);
  }
  __m256i flip = k->heat ? _mm256_xor_si256(move, pos) : move;
  flip = _mm256_and_si256(flip, keep);
  __m256i ns = _mm256_sub_epi8(_mm256_xor_si256(s, flip), flip);
  _mm256_storeu_si256((__m256i *)(void *)(r->sc + h), ns);
  const __m256i u8one = _mm256_set1_epi8(1), i16one = _mm256_set1_epi16(1);
  __m256i p = _mm256_sign_epi8(nw, r->colour ? _mm256_sub_epi8(ns, s) : ns);
  p = _mm256_and_si256(p, keep);
  *acc_b = _mm256_add_epi32(*acc_b, _mm256_madd_epi16(_mm256_maddubs_epi16(u8one, p), i16one));
  __m256i q = _mm256_and_si256(ns, keep);
  *acc_m = _mm256_add_epi32(*acc_m, _mm256_madd_epi16(_mm256_maddubs_epi16(u8one, q), i16one));
}

/* The table row for AVX2, stepped like row_avx2 (a row shorter than 32
 * sites in one step; the cache's arrays have slack like the spins). */
static void drow_avx2(const dis_row *d, const dis_table *T, const ising_model *m, ising_stream st,
                      uint32_t c2, uint32_t c3lo, int64_t h0, int64_t h1, dis_sums *out) {
  avx2_drow k;
  avx2_drow_init(&k, T, m);
  __m256i acc_b = _mm256_setzero_si256(), acc_m = _mm256_setzero_si256();
  int64_t h = h0;
  if (h1 - h0 + 1 < 32) {
    dstep_avx2(d, &k, T, m, st, c2, c3lo, h0, 0, (int)(h1 - h0), &acc_b, &acc_m);
    h = h1 + 1;
  }
  for (; h + 31 <= h1; h += 32) dstep_avx2(d, &k, T, m, st, c2, c3lo, h, 0, 31, &acc_b, &acc_m);
  if (h <= h1)
    dstep_avx2(d, &k, T, m, st, c2, c3lo, h1 - 31, (int)(h - (h1 - 31)), 31, &acc_b, &acc_m);
  out->bonds += (d->r.colour ? 2 : 1) * hsum8(acc_b);
  out->mag += hsum8(acc_m);
}
#define DROW_FAST drow_avx2
#else
#define DROW_FAST drow_portable
#endif

typedef void (*drow_fn)(const dis_row *, const dis_table *, const ising_model *, ising_stream,
                        uint32_t, uint32_t, int64_t, int64_t, dis_sums *);

/* Rows of at most DIS_GATHER_MAX sites on the portable path (3D and 2D
 * L <= 16; rows of 8 sites 1.3x faster, rows of 16 slower): whole rows copied
 * into one block (their spins, numbers, neighbours, weights, field weights
 * and half-lattice indices, the last for the low halves of ties), decided
 * by dis_block with constant trip counts, their spins copied back.  A
 * batch's n sites sit at DIS_BLOCK .. DIS_BLOCK + n - 1 and dis_block
 * reads DIS_BLOCK sites ending there, deciding only those (the ones
 * before, below DIS_BLOCK, are never written: zero, only read).  Numbers
 * are copied when a row joins, so later refills of the window do not
 * matter.  The scratch (13 KB) is on the stack: no allocation per sweep. */
#define DIS_GATHER_MAX 8
typedef struct dis_gather {
  int8_t s[2 * DIS_BLOCK], nb[6][2 * DIS_BLOCK];
  int32_t w[6][2 * DIS_BLOCK], f[2 * DIS_BLOCK];
  uint16_t u[2 * DIS_BLOCK];
  int64_t g[2 * DIS_BLOCK];
  int8_t *home[DIS_BLOCK]; /* each row's first spin and its length */
  int len[DIS_BLOCK];
  int rows, n;
} dis_gather;

static void dis_gather_flush(dis_gather *G, const ising_couplings *cp, const ising_model *m,
                             ising_stream st, uint32_t c2, uint32_t c3lo, int c, int nd,
                             int field, dis_sums *acc) {
  if (!G->n) return;
  dis_row d;
  memset(&d, 0, sizeof d);
  d.r.sc = G->s;
  d.r.rnd = G->u;
  d.r.colour = c;
  for (int j = 0; j < nd; j++) {
    d.nb[j] = G->nb[j];
    d.w32[j] = G->w[j];
  }
  d.f = field ? G->f : NULL;
  d.g = G->g;
  d.nd = nd;
  if (m->algorithm == ISING_ALG_HEATBATH)
    dis_block(&d, cp, m, st, c2, c3lo, G->n, DIS_BLOCK, DIS_BLOCK - G->n, 1, acc);
  else
    dis_block(&d, cp, m, st, c2, c3lo, G->n, DIS_BLOCK, DIS_BLOCK - G->n, 0, acc);
  for (int i = 0, at = DIS_BLOCK; i < G->rows; at += G->len[i], i++)
    memcpy(G->home[i], G->s + at, (size_t)G->len[i]);
  G->rows = G->n = 0;
}

static void dis_gather_half(dis_iter *it, const ising_couplings *cp, const ising_model *m,
                            ising_stream st, uint32_t c2, uint32_t c3lo, dis_sums *acc) {
  dis_gather scratch, *G = &scratch;
  memset(G, 0, sizeof *G);
  dis_row *d;
  int64_t h0, h1;
  const int nd = 2 * it->l->dim, field = it->k->field;
  while (dis_iter_next(it, &d, &h0, &h1)) {
    const int len = (int)(h1 - h0 + 1);
    if (G->n + len > DIS_BLOCK) dis_gather_flush(G, cp, m, st, c2, c3lo, it->c, nd, field, acc);
    const int at = DIS_BLOCK + G->n;
    memcpy(G->s + at, d->r.sc + h0, (size_t)len);
    memcpy(G->u + at, d->r.rnd + h0 + d->r.roff, 2 * (size_t)len);
    for (int j = 0; j < nd; j++) {
      memcpy(G->nb[j] + at, d->nb[j] + h0, (size_t)len);
      memcpy(G->w[j] + at, d->w32[j] + h0, 4 * (size_t)len);
    }
    if (field) memcpy(G->f + at, d->f + h0, 4 * (size_t)len);
    for (int i = 0; i < len; i++) G->g[at + i] = d->r.base + h0 + i;
    G->home[G->rows] = d->r.sc + h0;
    G->len[G->rows++] = len;
    G->n += len;
  }
  dis_gather_flush(G, cp, m, st, c2, c3lo, it->c, nd, field, acc);
}

static void fast_half_disorder(ising_lattice *l, const ising_model *m, ising_update_cache *k,
                               ising_stream st, uint64_t sweep, int c, int portable,
                               ising_half_sums *sums, int64_t *fsum) {
  dis_sums acc = {0, 0, 0};
  const dis_table *T = k->bimodal && (!k->field || k->f3) ? dis_table_for(k, m) : NULL;
  const drow_fn row = k->field ? drow_field3 : portable ? drow_portable : DROW_FAST;
  const uint32_t c2 = (uint32_t)sweep;
  const uint32_t c3hi = ising_rng_c3(st.replica, ISING_RNG_SWEEP, c);
  const uint32_t c3lo = ising_rng_c3(st.replica, ISING_RNG_SWEEP_LO, c);
  dis_iter it;
  dis_iter_init(&it, l, k, st.key, c2, c3hi, c);
  const int approx = !T && (k->bimodal || k->nw32);
#if defined(__AVX512BW__) || defined(__AVX2__)
  if (approx && !portable) /* every row in registers */
    dis_regs_half(&it, k->c, m, st, c2, c3lo, &acc);
  else
#endif
  if (approx && !k->bimodal && (l->n[0] + 1) / 2 <= DIS_GATHER_MAX)
    dis_gather_half(&it, k->c, m, st, c2, c3lo, &acc);
  else {
    dis_row *d;
    int64_t h0, h1;
    while (dis_iter_next(&it, &d, &h0, &h1)) {
      if (T)
        row(d, T, m, st, c2, c3lo, h0, h1, &acc);
      else if (approx)
        drow_approx(d, k->c, m, st, c2, c3lo, h0, h1, &acc);
      else
        drow_exact(d, k->c, m, st, c2, c3lo, h0, h1, &acc);
    }
  }
  sums->bonds = acc.bonds;
  sums->mag = acc.mag;
  *fsum = acc.field;
}

int ising_update_half_disorder(ising_lattice *lat, const ising_model *m, ising_update_cache *cache,
                               ising_byte_kernel kind, ising_stream stream, uint64_t sweep,
                               int colour, ising_half_sums *sums, int64_t *fsum) {
  ising_half_sums unused;
  int64_t unused_f;
  if (!sums) sums = &unused;
  if (!fsum) fsum = &unused_f;
  int same = cache && cache->dim == lat->dim && m->dim == lat->dim && cache->W == lat->W &&
             cache->ny2 == lat->ny2 && cache->nz2 == lat->nz2;
  for (int a = 0; same && a < 3; a++)
    same = cache->L[a] == lat->L[a] && cache->start[a] == lat->start[a] && cache->n[a] == lat->n[a];
  ISING_CHECK(same, ISING_ERR_INTERNAL, "couplings cache made for another block or dimension");
  if (kind == ISING_BYTE_REFERENCE)
    reference_half_disorder(lat, m, cache->c, stream, sweep, colour, sums, fsum);
  else
    fast_half_disorder(lat, m, cache, stream, sweep, colour, kind == ISING_BYTE_PORTABLE, sums,
                       fsum);
  return ISING_OK;
}

int ising_update_half(ising_lattice *lat, const ising_model *m, ising_byte_kernel kind,
                      ising_stream stream, uint64_t sweep, int colour, ising_half_sums *sums) {
  ising_half_sums unused;
  if (!sums) sums = &unused;
  if (kind == ISING_BYTE_REFERENCE)
    reference_half(lat, m, stream, sweep, colour, sums);
  else
    fast_half(lat, m, stream, sweep, colour, kind == ISING_BYTE_PORTABLE ? row_portable : ROW_FAST,
              sums);
  return ISING_OK;
}

const char *ising_update_kernel_name(ising_byte_kernel kind) {
  if (kind == ISING_BYTE_REFERENCE) return "reference";
  return kind == ISING_BYTE_PORTABLE ? "fast/portable" : FAST_NAME;
}
