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
 */
#include "ising/update.h"

#include "lattice_impl.h"
#ifdef __AVX512BW__
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
                           uint64_t sweep, int c) {
  int64_t n[3], s0[3];
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
        if (m->algorithm == ISING_ALG_METROPOLIS)
          ising_lattice_set(l, x, y, z, move ? -s : s);
        else
          ising_lattice_set(l, x, y, z, move ? 1 : -1);
      }
}

/* ------------------------------------------------------------ fast */

typedef struct row_ctx {
  int8_t *sc;                 /* the colour being updated */
  const int8_t *so, *su, *sd, *sf, *sb; /* other colour: this row, y-1, y+1, z-1, z+1 */
  const uint16_t *rnd;        /* rnd[h + roff] is site h's high half */
  int64_t roff;
  int64_t base;               /* half-lattice index G = h + base */
  int dl;
} row_ctx;

static inline int row_nb(const row_ctx *r, int dim, int64_t h) {
  int nb = r->so[h + r->dl] + r->so[h + r->dl + 1] + r->su[h] + r->sd[h];
  if (dim == 3) nb += r->sf[h] + r->sb[h];
  return nb;
}

/* The low half of site h's number, for a tie of the high halves. */
static inline uint16_t row_lo(const row_ctx *r, ising_stream st, uint32_t c2, uint32_t c3lo,
                              int64_t h) {
  int64_t g = h + r->base;
  return ising_rng_number16(st.key, (uint64_t)(g / ISING_RNG_CHUNK), (int)(g % ISING_RNG_CHUNK),
                            c2, c3lo);
}

static inline int decide(const row_ctx *r, const ising_model *m, ising_stream st, uint32_t c2,
                         uint32_t c3lo, int64_t h, int idx) {
  uint16_t u = r->rnd[h + r->roff], t = m->thr_hi[idx];
  if (u != t) return u < t;
  return row_lo(r, st, c2, c3lo, h) <= m->thr_lo[idx];
}

static void row_portable(const row_ctx *r, const ising_model *m, ising_stream st, uint32_t c2,
                         uint32_t c3lo, int64_t h0, int64_t h1) {
  const int heat = m->algorithm == ISING_ALG_HEATBATH;
  for (int64_t h = h0; h <= h1; h++) {
    int s = r->sc[h];
    int idx = ising_model_index(m, s, row_nb(r, m->dim, h));
    int move = decide(r, m, st, c2, c3lo, h, idx);
    r->sc[h] = (int8_t)(heat ? (move ? 1 : -1) : (move ? -s : s));
  }
}

#ifdef __AVX512BW__
static inline __m512i load16(const int8_t *p, __mmask32 k) {
  return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(k, p));
}

static void row_avx512(const row_ctx *r, const ising_model *m, ising_stream st, uint32_t c2,
                       uint32_t c3lo, int64_t h0, int64_t h1) {
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
    _mm512_mask_cvtepi16_storeu_epi8(r->sc + h, km, ns);
  }
}
#define ROW_FAST row_avx512
#define FAST_NAME "fast/avx512"
#else
#define ROW_FAST row_portable
#define FAST_NAME "fast/portable"
#endif

typedef void (*row_fn)(const row_ctx *, const ising_model *, ising_stream, uint32_t, uint32_t,
                       int64_t, int64_t);

static void fast_half(ising_lattice *l, const ising_model *m, ising_stream st, uint64_t sweep,
                      int c, row_fn row) {
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
      row(&r, m, st, c2, c3lo, h0, h1);
    }
  }
}

void ising_update_half(ising_lattice *lat, const ising_model *m, ising_kernel_kind kind,
                       ising_stream stream, uint64_t sweep, int colour) {
  if (kind == ISING_KERNEL_REFERENCE)
    reference_half(lat, m, stream, sweep, colour);
  else
    fast_half(lat, m, stream, sweep, colour, kind == ISING_KERNEL_PORTABLE ? row_portable : ROW_FAST);
}

const char *ising_update_kernel_name(ising_kernel_kind kind) {
  if (kind == ISING_KERNEL_REFERENCE) return "reference";
  return kind == ISING_KERNEL_PORTABLE ? "fast/portable" : FAST_NAME;
}
