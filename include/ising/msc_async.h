/*
 * msc_async.h -- asynchronous multi-spin coding: 64 independent replicas of
 * one periodic lattice in one 64-bit word per site, each replica ("lane")
 * with its own random bits and its own temperature.
 *
 * Where the synchronous kernel (msc.h) packs 64 sites of one replica into a
 * word, this one packs the same site of 64 replicas: bit r of site i's word
 * is lane r's spin (1 = down).  Every lane sees the same neighbour words, so
 * a word's aligned-neighbour counts come from the same bitwise adders, and
 * the lanes differ only in their spins, their random bytes and their
 * thresholds.  Use it for a tempering ladder of up to 64 temperatures, 64
 * disorder-free samples at one temperature, or replica pairs: the lanes are
 * independent Markov chains (no random byte serves two lanes).  Temperatures
 * are swapped between lanes (tempering moves temperatures, never spins).
 *
 * Storage: colour c = (x + y + z) & 1 (checkerboard by global coordinates,
 * so every L must be even); the words of colour c are an array in natural
 * half-lattice order, site (x, y, z) of colour c at index
 *     (y + Ly z) (Lx / 2) + x / 2
 * (ising_rng_site_index): rows of Lx / 2 words, row R = y + Ly z.
 *
 * Decisions (Metropolis only, J > 0, one field H for all lanes; bond signs
 * per lane with ising_msc_async_set_couplings): a lane
 * whose move has dE <= 0 flips without random bits (that class split does
 * not depend on T); the others compare a 32-bit uniform u with the lane's
 * exact 32-bit threshold t of model.h (move iff u <= t) byte-serially as
 * msc_impl.h describes (8.03 random bits per decision).  The random bytes of
 * a half sweep come from one stream per row: the byte sequence of msc_impl.h
 * (Philox groups R * MSC_ROW_BLOCKS + ..., planar 16-block chunks) with
 *     c2 = sweep (low 32 bits),
 *     c3 = ising_rng_c3(replica_set, ISING_RNG_MSC_ASYNC, colour),
 * read in this order: round 0 (the most significant byte) for every word of
 * the row in order, each undecided lane of a word taking the next byte in
 * increasing lane order; then round 1 for the lanes still tied, words in
 * order, lanes in order; then rounds 2 and 3.  ising_msc_async_half_reference
 * makes the same decisions site by site and lane by lane (the oracle the
 * packed kernel is tested against).
 *
 * One object is not safe to sweep from two threads at once (it owns the
 * row scratch); distinct objects are independent.
 */
#ifndef ISING_MSC_ASYNC_H
#define ISING_MSC_ASYNC_H

#include <stdint.h>

#include "ising/model.h"
#include "ising/rng.h"

#define ISING_MSC_ASYNC_LANES 64

typedef struct ising_msc_async ising_msc_async;

/* A lattice of dimension dim (2 or 3) with extents L[0..dim-1] (even, >= 2;
 * Lx <= 2^19 so that a row's stream fits MSC_ROW_BLOCKS; L[2] is ignored in
 * 2D), coupling J > 0, field H (finite), lane temperatures T[0..63] (> 0,
 * finite).  All spins up.  *out is NULL on failure. */
int ising_msc_async_create(int dim, const int64_t L[3], double J, double H, const double T[64],
                           ising_msc_async **out);
/* Accepts NULL and *a == NULL; sets *a to NULL. */
void ising_msc_async_destroy(ising_msc_async **a);

/* Bimodal couplings per lane: c[l] (NULL, or a uniform provider: w = 1)
 * gives lane l's bond weights, each -1 or +1 (model.h: no dilution, no
 * field source; J_unit and H those of the object).  Lanes with one provider
 * are replicas of one sample.  A lane's move then follows model.h's rule at
 * local = J_unit nw + H, nw = sum_j w_ij s_j, which for w = +-1 takes the
 * table values at J nb + H, so the decisions and the stream are as above
 * with the count of satisfied bonds (s_i w_ij s_j = +1) in place of the
 * aligned neighbours; the sums give B[l] = sum w_ij s_i s_j.  The sign bits
 * are stored (2d words per site); the providers must outlive the object
 * (the reference reads them).  c == NULL or every lane uniform: the
 * uniform kernel.  ISING_ERR_INPUT for other couplings or a weight not
 * +-1 (the object is then uniform). */
int ising_msc_async_set_couplings(ising_msc_async *a, const ising_couplings *const c[64]);

/* Temperatures: all 64 lanes, one lane, read one lane, and the tempering
 * move (lanes l1 and l2 exchange temperatures; spins stay). */
int ising_msc_async_set_temperatures(ising_msc_async *a, const double T[64]);
int ising_msc_async_set_temperature(ising_msc_async *a, int lane, double T);
int ising_msc_async_temperature(const ising_msc_async *a, int lane, double *T);
int ising_msc_async_swap_temperatures(ising_msc_async *a, int l1, int l2);

/* Cold start: every spin of every lane = spin (+1 or -1). */
int ising_msc_async_fill_cold(ising_msc_async *a, int spin);
/* Hot start: independent fair bits for every site and lane, from Philox
 * with c3 = ising_rng_c3(replica_set, ISING_RNG_INIT, colour), c2 = 1 (the
 * byte lattice's hot start uses c2 = 0), group = the site's half index / 2
 * (a block's words 2 (h % 2) and 2 (h % 2) + 1 are the site's low and high
 * 32 bits).  replica_set < 2^24. */
int ising_msc_async_fill_hot(ising_msc_async *a, ising_rng_key key, uint32_t replica_set);

/* One Metropolis half sweep of colour 0 or 1 in all 64 lanes. */
int ising_msc_async_half(ising_msc_async *a, int colour, uint64_t sweep, ising_rng_key key,
                         uint32_t replica_set);
/* The same decisions, site by site and lane by lane (slow, readable). */
int ising_msc_async_half_reference(ising_msc_async *a, int colour, uint64_t sweep,
                                   ising_rng_key key, uint32_t replica_set);

/* Exact per-lane bond sums B[r] = sum_<ij> w_ij s_i s_j (d N bonds, DESIGN.md 2;
 * w = 1 without couplings)
 * and magnetisations M[r] = sum_i s_i from the packed words (positional
 * population counts of s_i ^ s_j and of s; nothing is unpacked).  Lane r's
 * energy is E = -J B[r] - H M[r]. */
int ising_msc_async_sums(const ising_msc_async *a, int64_t B[64], int64_t M[64]);

/* One lane's spin (+1 / -1) at (x, y, z), coordinates taken periodically
 * (any integers; z ignored in 2D), and setting it. */
int ising_msc_async_get(const ising_msc_async *a, int lane, int64_t x, int64_t y, int64_t z,
                        int *spin);
int ising_msc_async_set(ising_msc_async *a, int lane, int64_t x, int64_t y, int64_t z, int spin);

/* Row (y, z) of lanes 0 .. nlanes-1 in natural order (x = 0 .. Lx-1), int8
 * +1 / -1: out[l][x] is lane l's spin at (x, y, z) (z ignored in 2D); the
 * engine's bridge to the int8 lattices of output, checkpoints and
 * correlations.  set_row writes lanes 0 .. nlanes-1 and keeps the others. */
int ising_msc_async_get_row(const ising_msc_async *a, int64_t y, int64_t z, int nlanes,
                            int8_t *const *out);
int ising_msc_async_set_row(ising_msc_async *a, int64_t y, int64_t z, int nlanes,
                            const int8_t *const *in);

/* Counters since creation: words updated, decisions that needed random
 * bytes, random bytes read, Philox blocks drawn. */
void ising_msc_async_stats(const ising_msc_async *a, int64_t out[4]);

/* Lanes that move: a lane whose bit is clear in `lanes` never flips and
 * takes no random bytes, so its spins (whatever they are) do not change the
 * other lanes' decisions.  The engine clears the lanes of a partial set
 * that carry no replica, so that a checkpoint (which holds only replicas)
 * restores everything that decides the trajectory.  All lanes by default. */
int ising_msc_async_set_active(ising_msc_async *a, uint64_t lanes);

/* Tests: on = 0 makes ising_msc_async_half take the lane-by-lane decision
 * code instead of the word-at-once path of its build (AVX-512 VBMI2, AVX2,
 * or the portable expand-and-compare; they must make identical
 * decisions); on = 1 (the default) asks for the word-at-once path again. */
int ising_msc_async_use_simd(ising_msc_async *a, int on);

/* `ising bench --kernel msc-async`: hot start, all 64 lanes at T, H = 0,
 * couplings cpl as ising_msc_async_set_couplings takes them (NULL: uniform;
 * `what` names them in the first line), `repeat` timed blocks of `sweeps`
 * sweeps on the calling core; prints the median spin flips per ns (64
 * replicas x N sites per sweep), the memory per replica-site, random bits
 * per decision, the share of the time the Philox fills alone take, and the
 * cost of ising_msc_async_sums. */
int ising_msc_async_bench(int dim, int64_t L, double T, const ising_couplings *const cpl[64],
                          const char *what, int rng, long sweeps, long repeat);

#endif
