/*
 * corr.h -- structure factor S(k), correlation function G(r) and the
 * second-moment correlation length xi, on FFTW's MPI interface.
 *
 * What the module owns: for one replica group (ising_layout.group), the
 * FFTW-MPI plans (an in-place real-to-complex transform with
 * FFTW_MPI_TRANSPOSED_OUT for the measurements, its complex-to-real inverse
 * with FFTW_MPI_TRANSPOSED_IN for G(r), and a transpose that puts the
 * averaged S(k) back in natural order), planned once in ising_corr_create,
 * executed many times, destroyed in ising_corr_destroy; the exchange that
 * moves a replica's spins from the Cartesian blocks of the group into
 * FFTW's slabs (MPI_Alltoallw with datatypes built once; the lattice is
 * never gathered onto one rank); and `n_acc` accumulators, one per
 * temperature (or whatever the caller files measurements by).  It knows
 * nothing of the schedule, HDF5 or tempering: the engine decides when to
 * measure and into which accumulator, and writes what ising_corr_finish
 * returns.
 *
 * Definitions (DESIGN.md section 2).  N = Lx Ly (Lz) sites, s_r = +-1,
 *   F(k) = sum_r s_r exp(-i k.r),   S(k) = |F(k)|^2 / N,
 *   k = 2 pi (nx/Lx, ny/Ly, nz/Lz);  k_min,a = 2 pi / L_a along axis a.
 * Per measurement: S(0) = M^2/N and S(k_min) = (1/d) sum_a S(k_min,a),
 * computed from exact integer profiles of the configuration (spin sums over
 * the planes normal to each axis), not from the FFT, so they are
 * bit-identical on any number of ranks and any decomposition, like the
 * other time series.  The full S(k) comes from the FFT: it agrees with a
 * direct DFT to ~1e-14.  With FFTW_ESTIMATE plans the distributed
 * transform does the same 1D transforms whatever the slab split, so in
 * practice its bits do not depend on the rank count either (observed, not
 * promised by FFTW), and the radial bins are summed exactly (fixed point,
 * order-independent): within one replica group the whole result is then
 * reproduced bit for bit on any number of ranks.
 * Two kinds of measurement: ising_corr_measure (the FFT: S(k) for every k,
 * plus the exact S(0), S(k_min)) and ising_corr_measure_kmin (the exact
 * S(0), S(k_min) only: no FFT and no all-to-all, about one sweep's cost),
 * so that the xi time series can be taken at every measurement and the full
 * S(k) less often.  At the end, with <.>_all the mean over all measurements
 * of an accumulator and <.>_fft the mean over its FFT measurements:
 *   m_mean = <M/N>_all  (signed),
 *   S(k)   = <|F(k)|^2 / N>_fft on the r2c half spectrum nx = 0 .. Lx/2,
 *            averaged with its mirror image along the slowest axis (2D
 *            ny <-> Ly - ny, 3D nz <-> Lz - nz): the accumulators keep the
 *            two in one slot (half the memory).  The lattice is symmetric
 *            under that reflection, so both have the same expectation, and
 *            every profile below (axes, radial bins, G(r) along the axes
 *            and in |r| bins) is invariant under it: only the single-k
 *            values of `sk` differ from the unsymmetrised average;
 *   G(r)   = <(1/N) sum_r' s_r' s_r'+r>_fft - m_mean^2  (connected; the c2r
 *            transform of <S(k)>_fft divided by N, minus m_mean^2),
 *   xi_a   = sqrt(S(0)/S(k_min,a) - 1) / (2 sin(pi / L_a))  per axis,
 *   xi     = sqrt(S(0)/S(k_min) - 1) / (2 sin(|k_min|/2)),  |k_min| = 2 pi/L:
 *            the standard finite-size-scaling second-moment length, with
 *            S(0) = <M^2/N>_all the FULL (not connected) structure factor
 *            at k = 0 (= chi'/beta = T chi' in DESIGN.md's conventions) and
 *            S(k_min) = <.>_all averaged over the axes (at k != 0 the full
 *            and connected structure factors coincide).  Lattices with
 *            unequal extents have no single |k_min|: xi is then the mean of
 *            the xi_a.  NaN when S(0) < S(k_min) (high temperature).
 *
 * Memory per rank, persistent ("slab": this rank's FFTW slab; "block": its
 * Cartesian block of n0 n1 n2 sites):
 *   - one complex array of FFTW's local size (fftw_mpi_local_size_transposed)
 *     used in place: padded real input, 2 (Lx/2+1) doubles per row, complex
 *     output Lx/2+1 per row: ~8 bytes per slab site;
 *   - only when some block differs from its slab (the Cartesian grid splits
 *     another axis than the slowest, or splits it unlike FFTW): one real
 *     array of the block, 8 bytes per block site, the export and MPI send
 *     buffer of the all-to-all.  When every block is its slab ("direct",
 *     e.g. 2D on a 1 x P grid, x first, P dividing Ly) the spins go from int8
 *     rows straight into the slab and nothing moves between ranks;
 *   - per accumulator, the sum of S(k) on the local half spectrum, folded
 *     (see S(k) above): (Lx/2+1)(L_s/2+1)/(Lx L_s) doubles per slab site
 *     (L_s the slowest extent), ~2 bytes per site;
 *   - a 64 KiB chunk of int8 rows, n0 column sums, O(Lx + Ly + Lz) profiles
 *     and phase tables, O(ranks) datatypes; FFTW may keep scratch of its
 *     own inside the plans.
 * So about 8 + 2 n_acc bytes per site on direct layouts and 16 + 2 n_acc
 * otherwise (the spins take 1 per replica).  FFTW splits only the slowest
 * axis (z in 3D, y in 2D): with more ranks than planes some ranks hold no
 * slab.
 * ising_corr_finish allocates the result (the averaged S(k) of the local
 * slab, ~4 bytes per site, and the small axis and radial arrays), owned by
 * the result and freed by ising_corr_result_free (and, while it runs, ~2
 * bytes per site for the pooled folded sums).  ising_corr_bytes() reports
 * the persistent total of this rank.
 */
#ifndef ISING_CORR_H
#define ISING_CORR_H

#include <stdint.h>

#include "ising/lattice.h"
#include "ising/layout.h"

typedef struct ising_corr ising_corr;

/* Call fftw_mpi_init() once per process (after MPI_Init; create does it
 * itself when needed, so calling this is optional). */
void ising_corr_global_init(void);
/* fftw_mpi_cleanup(), after every ising_corr is destroyed and before
 * MPI_Finalize (optional; frees FFTW's wisdom). */
void ising_corr_global_finalize(void);

/* Plan for the lattice of `lay` on its group communicator.  Collective over
 * lay->world (every group creates its own; with several groups they are
 * linked so that ising_corr_finish pools them).  n_acc >= 1 accumulators
 * (else ISING_ERR_INPUT).  Uses FFTW_MEASURE unless `estimate` is set
 * (FFTW_ESTIMATE: fast planning, and the same plan, hence the same S(k)
 * bits, in every run on the same rank count).  FFTW failures are
 * ISING_ERR_FFTW, MPI failures ISING_ERR_MPI. */
int ising_corr_create(const ising_layout *lay, int n_acc, int estimate, ising_corr **out);

/* Measure the configuration of `lat` (a block of the same layout) and add it
 * to accumulator `acc` in [0, n_acc) (else ISING_ERR_INPUT): the FFT, S(k)
 * for every k, and the exact S(0), S(k_min).  Collective over the group.
 * S0 and Skmin (may be NULL) receive S(0) = M^2/N and the axis average of
 * S(k_min,a) of this configuration, on every rank, bit-identical for any
 * decomposition.  The lattice's halos are not read. */
int ising_corr_measure(ising_corr *c, const ising_lattice *lat, int acc, double *S0,
                       double *Skmin);
/* The same S0 and Skmin, added to the exact sums of `acc` (xi, S0, Skmin,
 * m_mean of the result) but not to S(k) and G(r): no FFT. */
int ising_corr_measure_kmin(ising_corr *c, const ising_lattice *lat, int acc, double *S0,
                            double *Skmin);

/* Measurements of accumulator `acc` so far by this rank's group, all kinds
 * (return value) and FFT ones (*n_full, may be NULL); 0 for an index out of
 * range.  Local. */
int64_t ising_corr_count(const ising_corr *c, int acc, int64_t *n_full);

typedef struct ising_corr_result {
  int dim;
  int64_t L[3];       /* x first (L[2] = 1 in 2D) */
  int64_t n_meas;     /* FFT measurements: S(k), G(r) */
  int64_t n_kmin;     /* all measurements: m_mean, S0, Skmin, xi */
  double m_mean;      /* <M/N>_all, signed */
  double S0;          /* <M^2/N>_all */
  double Skmin_axis[3], Skmin; /* <S(k_min,a)> and their mean over the axes */
  double xi_axis[3], xi;       /* see the top of this file */

  /* The averaged S(k) on this rank: a hyperslab of the global array of
   * shape sk_dims (slowest axis first: (Lz, Ly, Lx/2+1) in 3D, (Ly, Lx/2+1)
   * in 2D), starting at sk_start with extent sk_count (only axis 0 is split;
   * sk_count[0] may be 0).  sk is C order over sk_count, entry
   * [i0][i1][i2] at global k index (sk_start[0] + i0, i1, i2) (2D: [i0][i1]
   * at (sk_start[0] + i0, i1)), i.e. (nz, ny, nx) or (ny, nx); k = 2 pi n/L
   * with n > L/2 meaning n - L (the half spectrum holds nx = 0 .. Lx/2; the
   * other half is S(-k) = S(k)).  Write it collectively with a hyperslab per
   * rank; with several groups every group holds the same pooled values, so
   * group 0 writes. */
  int sk_rank;
  int64_t sk_dims[3], sk_start[3], sk_count[3];
  double *sk;

  /* Along each axis a (all ranks): S_axis[a][n] = S(2 pi n / L_a e_a) and
   * G_axis[a][n] = G(n e_a), n = 0 .. L_a/2 (n_axis[a] = L_a/2 + 1
   * entries).  S_axis_avg / G_axis_avg: the mean over the axes at the same
   * n, n = 0 .. min_a L_a / 2 (n_axis_avg entries; for unequal extents the
   * S average mixes different |k|). */
  int64_t n_axis[3];
  double *S_axis[3], *G_axis[3];
  int64_t n_axis_avg;
  double *S_axis_avg, *G_axis_avg;

  /* Radial bins (all ranks).  k: every k of the FULL spectrum (the half
   * spectrum with weight 2 where nx != 0, Lx/2), with the minimum-image
   * components, falls into bin b = floor(|k| / dk + 1/2), dk = 2 pi / max_a
   * L_a (the smallest |k_min|); n_kbins = floor(pi sqrt(d) / dk + 1/2) + 1.
   * k_radial[b] is the mean |k| of the bin's points, S_radial[b] the mean
   * S, k_count[b] the number of points (k_radial and S_radial are NaN
   * where the count is 0).
   * r: every site r with minimum-image components (|r_a| <= L_a/2), bin
   * b = floor(|r| + 1/2), kept for b <= min_a L_a / 2 (n_rbins bins);
   * r_radial, G_radial, r_count likewise. */
  int64_t n_kbins;
  double *k_radial, *S_radial;
  int64_t *k_count;
  int64_t n_rbins;
  double *r_radial, *G_radial;
  int64_t *r_count;
} ising_corr_result;

/* Average accumulator `acc` over the measurements of ALL groups and fill
 * *res on every rank.  Collective over lay->world: every rank calls it with
 * the same acc.  The accumulators are left as they are, so measuring may go
 * on.  No FFT measurement of acc in any group, or acc out of range, is
 * ISING_ERR_INPUT.  With one group the exact averages (m_mean, S0, Skmin,
 * xi) are bit-identical on any rank count (the S(k) profiles too, as far
 * as FFTW's bits allow, see above); pooling several groups adds their
 * partial sums, which changes the last bits with the group count (the
 * per-measurement S0, Skmin never change).  Free with
 * ising_corr_result_free (also on failure). */
int ising_corr_finish(ising_corr *c, int acc, ising_corr_result *res);
void ising_corr_result_free(ising_corr_result *res);

/* Checkpointing the accumulators (the engine's checkpoint module writes
 * them; this module knows no HDF5).  The state of accumulator `acc` is
 *   - ISING_CORR_NEXACT doubles: the number of measurements, of FFT
 *     measurements, and the sums of M/N, M^2/N and S(k_min,a) for a = x,
 *     y, z (0 for a missing axis), pooled over the groups;
 *   - the sum of |F(k)|^2 / N over its FFT measurements on the folded
 *     half spectrum, pooled over the groups, as a global array in FFTW's
 *     transposed order, which does not depend on the rank count: 2D shape
 *     (Lx/2+1, Ly/2+1) indexed [kx][ky], 3D (Ly, Lz/2+1, Lx/2+1) indexed
 *     [ky][kz][kx] (the k index n is 2 pi n / L; slot n of the folded axis
 *     holds the sum for n and L - n, once where they coincide, n = 0 and
 *     L/2); each rank holds rows
 *     [row0, row0 + nrows) of axis 0 (nrows may be 0).
 * Restoring gives the pooled state to group 0 and empty sums to the other
 * groups, so ising_corr_finish pools the same totals.  A run that keeps
 * one replica group before and after the checkpoint (any rank counts)
 * accumulates the same bits as one that never stopped; with several
 * groups, pooling at the checkpoint changes the order of the sums (~1e-16
 * relative). */
#define ISING_CORR_NEXACT 7
typedef struct ising_corr_layout {
  int n_acc;
  int rank;            /* 2 or 3: the spectrum array's rank */
  int64_t dims[3];     /* its global shape (unused entries 1) */
  int64_t row0, nrows; /* this rank's rows of axis 0 */
  int64_t local;       /* nrows x dims[1] x dims[2]: doubles on this rank */
  int writer;          /* 1 on the ranks of group 0, which hold the pooled values */
} ising_corr_layout;
void ising_corr_state_layout(const ising_corr *c, ising_corr_layout *lay);
/* The pooled state of accumulator `acc`: exact[ISING_CORR_NEXACT] (every
 * rank) and, when spec is not NULL, this rank's `local` doubles of the
 * spectrum sums.  Collective over the world (all groups), same acc
 * everywhere. */
int ising_corr_state_get(ising_corr *c, int acc, double *exact, double *spec);
/* Set accumulator `acc` from a pooled state: group 0 takes exact and spec
 * (this rank's rows; NULL: zeros), the other groups start empty.  Local.
 * ISING_ERR_INPUT for acc out of range or counts that are not whole,
 * non-negative numbers with count >= FFT count. */
int ising_corr_state_set(ising_corr *c, int acc, const double *exact, const double *spec);

/* Persistent bytes allocated by `c` on this rank (the memory note above). */
int64_t ising_corr_bytes(const ising_corr *c);

/* Destroy plans, buffers and datatypes; accepts NULL and nulls *c. */
void ising_corr_destroy(ising_corr **c);

#endif
