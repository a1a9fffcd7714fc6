"""Free energy of a tempering ladder by MBAR (multiple-histogram reweighting).

Monte Carlo samples configurations, not the partition function, but the
samples of K states together fix the ratios Z_k / Z_l.  For a temperature
ladder the states differ only in beta, so the reduced potential of state k is
u_k(x) = beta_k E(x), and MBAR (Shirts & Chodera, J. Chem. Phys. 129, 124105
(2008); the discrete-energy limit of Ferrenberg & Swendsen's multiple
histograms) solves

    f_k = -ln sum_n exp(-u_k(x_n)) / sum_l N_l exp(f_l - u_l(x_n)),

f_k = -ln Z_k up to one constant, over the pooled samples x_n of all states.
The Ising energy takes few distinct values, so the samples are first reduced
to a histogram over the distinct energies: exact (no binning), and each
iteration costs O(K x levels).  The equations are solved by Newton's method
on the convex MBAR objective (in log space, with logsumexp), started from a
trapezoid rule on <E>.  Once the f_k are known, any beta is reached by
reweighting: ln Z(beta) (relative), <E>, <E^2> and c.

Correlated samples: each temperature's series is subsampled with the
statistical inefficiency g = 2 tau_int of its energy (tau_int by Wolff's
Gamma method, ising_autocorr), so that the counts N_k in the equations are effective
sample counts.  Error bars come from a jackknife over blocks of the time
axis: the same block is removed from every temperature and copy at once, so
the correlations that replica exchange creates between the temperatures are
kept.

free_energy_from_output(path) runs this on an ising output file and anchors
the constant with ln Z/N at the hottest temperature: the file's
/free_energy/lnZ_per_spin (the anchor of its thermodynamic integration) when
present, else the high-temperature series ln 2 + d ln cosh K +
d(d-1)/2 tanh^4 K + c_6 tanh^6 K (+ the loops that wind around a small
torus); the two are compared and a disagreement is reported.

    python3 analysis/ising_freeenergy.py OUTPUT.h5 [--png PREFIX]

prints f from MBAR and from the file's thermodynamic integration next to the
exact (Kaufman) f and the Bethe and GBF baselines, and |m| next to the mean
field and Bethe m; --png writes PREFIX_f.png and PREFIX_m.png.
"""
import argparse
import math
import sys
from dataclasses import dataclass, field

import numpy as np

if __package__:             # imported as analysis.ising_freeenergy
    from . import ising_output
    from .ising_autocorr import tau_int
else:                       # run as a script, or imported from analysis/ itself
    import ising_output
    from ising_autocorr import tau_int


class FreeEnergyError(ising_output.OutputError):
    """The file cannot be analysed (incomplete, no ladder, missing data)."""


# --------------------------------------------------------------------------
# small numerics


def logsumexp(a, axis=None):
    """ln sum exp(a) along `axis`, without overflow; -inf entries allowed."""
    a = np.asarray(a, dtype=float)
    amax = np.max(a, axis=axis, keepdims=True)
    amax = np.where(np.isfinite(amax), amax, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - amax), axis=axis, keepdims=True)) + amax
    return np.squeeze(out, axis=axis) if axis is not None else out.item()


# --------------------------------------------------------------------------
# MBAR


def _mbar_solve(u, logn, N, f0, tol=1e-10, maxiter=200):
    """Newton iteration on the MBAR objective
        F(f) = sum_j n_j ln sum_l N_l exp(f_l - u_lj) - sum_k N_k f_k
    (convex; stationary exactly at the MBAR equations), f_0 held at 0.
    u: (K, J) reduced potentials at the distinct energies, logn: (J) log
    counts, N: (K) samples per state.  Returns f (K)."""
    K = len(N)
    logN = np.log(N)
    n = np.exp(logn)

    def parts(f):
        a = logN[:, None] + f[:, None] - u
        lnD = logsumexp(a, axis=0)
        return a, lnD, float(n @ lnD - N @ f)

    f = np.array(f0, dtype=float) - f0[0]
    a, lnD, F = parts(f)
    for _ in range(maxiter):
        W = np.exp(a - lnD)  # W_kj = N_k e^{f_k - u_kj} / D_j, sum_k W_kj = 1
        Wn = W * n
        grad = Wn.sum(axis=1) - N
        if np.max(np.abs(grad) / N) < tol:
            break
        if K == 1:
            break
        H = np.diag(Wn.sum(axis=1)) - Wn @ W.T
        step = np.zeros(K)
        step[1:] = np.linalg.lstsq(H[1:, 1:], -grad[1:], rcond=None)[0]
        t = 1.0
        while True:  # backtracking keeps the (convex) objective decreasing
            fn = f + t * step
            an, lnDn, Fn = parts(fn)
            if Fn <= F + 1e-4 * t * (grad @ step) + 1e-12 * abs(F) or t < 1e-8:
                break
            t *= 0.5
        f, a, lnD, F = fn, an, lnDn, Fn
        if np.max(np.abs(t * step)) < 1e-14:
            break
    return f


def _jackknife_err(reps):
    """Jackknife standard error over the leading axis of replicate estimates."""
    reps = np.asarray(reps, dtype=float)
    B = reps.shape[0]
    return np.sqrt((B - 1) / B * np.sum((reps - reps.mean(axis=0)) ** 2, axis=0))


@dataclass
class MBARResult:
    """Solution of the MBAR equations for a beta ladder, with jackknife
    replicates.  f[k] = -ln Z_k + const with f[0] = 0; energies are the
    totals E the caller passed."""
    betas: np.ndarray        # (K)
    f: np.ndarray            # (K) dimensionless free energies, f[0] = 0
    f_err: np.ndarray        # (K) jackknife error of f[k] - f[0]
    tau: np.ndarray          # (K) tau_int of E at each state (in samples)
    g: np.ndarray            # (K) statistical inefficiency 2 tau_int (>= 1)
    n_samples: np.ndarray    # (K) raw samples (copies pooled)
    n_eff: np.ndarray        # (K) samples kept after subsampling
    n_blocks: int
    energies: np.ndarray = field(repr=False)   # (J) distinct energies
    counts: np.ndarray = field(repr=False)     # (J) pooled subsampled counts
    f_jack: np.ndarray = field(repr=False)     # (B, K)
    counts_jack: np.ndarray = field(repr=False)  # (B, J)
    N_jack: np.ndarray = field(repr=False)     # (B, K)

    def delta_f(self, ref=0):
        """f[k] - f[ref] (= ln Z_ref - ln Z_k) and its jackknife error."""
        d = self.f - self.f[ref]
        dj = self.f_jack - self.f_jack[:, [ref]]
        return d, _jackknife_err(dj)

    def _lnD(self, f, N):
        with np.errstate(divide="ignore"):
            a = np.log(N)[:, None] + f[:, None] - np.outer(self.betas, self.energies)
        return logsumexp(a, axis=0)

    def _estimate(self, beta, f, counts, N):
        with np.errstate(divide="ignore"):
            logn = np.log(counts)
        lw = logn - self._lnD(f, N) - np.outer(beta, self.energies)  # (M, J)
        lnZ = logsumexp(lw, axis=1)
        p = np.exp(lw - lnZ[:, None])
        E = p @ self.energies
        dE = self.energies[None, :] - E[:, None]
        var = np.sum(p * dE * dE, axis=1)
        return lnZ, E, var + E * E, beta * beta * var

    def reweight(self, betas):
        """Estimates at arbitrary inverse temperatures (scalar or array):
        a dict of arrays lnZ (ln Z(beta) - ln Z at the ladder's state 0,
        self.betas[0]), E = <E>,
        E2 = <E^2>, C = beta^2 (<E^2> - <E>^2) (total heat capacity; divide
        by N for per-spin values), each with '_err' (jackknife), and
        'inside' (beta within the ladder's range: interpolation, not
        extrapolation)."""
        beta = np.atleast_1d(np.asarray(betas, dtype=float))
        full = self._estimate(beta, self.f, self.counts, self.n_eff)
        reps = [self._estimate(beta, self.f_jack[b], self.counts_jack[b], self.N_jack[b])
                for b in range(self.n_blocks)]
        # f[0] = 0 on every replicate, so ln Z(beta) is relative to state 0 on each
        out = {"beta": beta,
               "inside": (beta >= self.betas.min() - 1e-12) & (beta <= self.betas.max() + 1e-12)}
        for i, name in enumerate(("lnZ", "E", "E2", "C")):
            out[name] = full[i]
            out[name + "_err"] = _jackknife_err([r[i] for r in reps])
        return out


def mbar(E_series_by_T, betas, n_blocks=20, subsample=True):
    """MBAR for states that differ only in beta (u_k = beta_k E).

    E_series_by_T: one array per state (sequence or array (K, ...)): the
    total energies sampled at betas[k], shape (n) or (copies, n) with time
    on the last axis (copies are pooled; all states must have the same n,
    since the jackknife blocks cut the common time axis).  Each state's
    series is subsampled with stride g_k = 2 tau_int (ising_autocorr),
    unless subsample=False.  Errors: jackknife over n_blocks
    blocks of the time axis, removed from all states at once.
    Returns an MBARResult."""
    betas = np.asarray(betas, dtype=float)
    K = len(betas)
    series = [np.atleast_2d(np.asarray(x, dtype=float)) for x in E_series_by_T]
    if len(series) != K:
        raise ValueError(f"mbar: {len(series)} series for {K} betas")
    if K < 1:
        raise ValueError("mbar: no states")
    n = series[0].shape[1]
    if any(s.shape[1] != n for s in series):
        raise ValueError("mbar: all series need the same length (time on the last axis)")
    n_blocks = int(min(n_blocks, n))
    if n_blocks < 2:
        raise ValueError(f"mbar: {n} samples per series are too few for a jackknife")

    tau = np.empty(K)
    g = np.empty(K)
    block_of = np.minimum((np.arange(n) * n_blocks) // n, n_blocks - 1)
    samples, blocks, owner = [], [], []
    for k, s in enumerate(series):
        tau[k] = tau_int(s)[0]
        g[k] = max(1.0, 2.0 * tau[k]) if subsample else 1.0
        idx = np.unique(np.round(np.arange(0.0, n, g[k])).astype(int))
        idx = idx[idx < n]
        sub = s[:, idx]
        samples.append(sub.ravel())
        blocks.append(np.broadcast_to(block_of[idx], sub.shape).ravel())
        owner.append(np.full(sub.size, k))
    samples = np.concatenate(samples)
    blocks = np.concatenate(blocks)
    owner = np.concatenate(owner)

    energies, inverse = np.unique(samples, return_inverse=True)
    J = len(energies)
    counts_b = np.zeros((n_blocks, J))
    np.add.at(counts_b, (blocks, inverse), 1.0)
    N_b = np.zeros((n_blocks, K))
    np.add.at(N_b, (blocks, owner), 1.0)
    counts = counts_b.sum(axis=0)
    N = N_b.sum(axis=0)
    if np.any(N_b.sum(axis=0)[None, :] - N_b <= 0):
        raise ValueError("mbar: a jackknife replicate has a state without samples; use fewer blocks")

    # start: trapezoid rule for d f / d beta = <E>
    means = np.array([s.mean() for s in series])
    order = np.argsort(betas)
    f0 = np.zeros(K)
    for i in range(1, K):
        a, b = order[i - 1], order[i]
        f0[b] = f0[a] + (betas[b] - betas[a]) * 0.5 * (means[a] + means[b])
    f0 -= f0[0]

    u = np.outer(betas, energies)
    with np.errstate(divide="ignore"):
        f = _mbar_solve(u, np.log(counts), N, f0)
        counts_jack = counts[None, :] - counts_b
        N_jack = N[None, :] - N_b
        f_jack = np.array([_mbar_solve(u, np.log(counts_jack[b]), N_jack[b], f)
                           for b in range(n_blocks)])
    res = MBARResult(betas=betas, f=f, f_err=np.zeros(K), tau=tau, g=g,
                     n_samples=np.array([s.size for s in series]), n_eff=N,
                     n_blocks=n_blocks, energies=energies, counts=counts,
                     f_jack=f_jack, counts_jack=counts_jack, N_jack=N_jack)
    res.f_err = res.delta_f(0)[1]
    return res


# --------------------------------------------------------------------------
# output files


# ln Z / N = ln 2 + d ln cosh K + sum_n c_n t^n on the infinite hypercubic
# lattice (t = tanh K; Domb's polygon series): c_4 = d(d-1)/2, c_6 the
# hexagons per site, c_8 (used for the error only) with the disconnected pairs.
_SERIES = {2: (1.0, 2.0, 4.5), 3: (3.0, 22.0, 187.5)}


# the series is used as the anchor up to these |J|/T (convergence radius:
# tanh K_c = 0.414 in 2D, 0.218 in 3D; at the limits 2 c_8 t^8 is 5e-4 and
# 1e-4 in ln Z/N)
SERIES_K_MAX = {2: 0.3, 3: 0.15}


def high_temperature_lnZ(dim, J, T, L=None):
    """ln Z / N at H = 0 from the high-temperature series of the hypercubic
    lattice, ln 2 + d ln cosh K + c_4 t^4 + c_6 t^6 (t = tanh |J|/T; c_4 = 1,
    c_6 = 2 in 2D, 3 and 22 in 3D), plus, for a finite periodic lattice of
    sides L, the loops that wind once around an axis a: straight ones,
    t^La / La per spin, and those with one jog, (d-1)(La-1) t^(La+2) (on a
    4 x 4 torus together 0.5 t^4 + 6 t^6, as large as the bulk terms).
    Returns (lnZ/N, error); the error is twice the next bulk term, 2 c_8 t^8,
    plus 2 (d-1)^2 La^2 t^(La+4) per axis for the next windings.  Axes of
    length 2 (double bonds) are not covered."""
    K = abs(J) / T
    t = math.tanh(K)
    c4, c6, c8 = _SERIES.get(dim, (0.5 * dim * (dim - 1), dim * (dim - 1) * (8 * dim - 13) / 3,
                                   float(dim) ** 4))
    lnz = math.log(2.0) + dim * math.log(math.cosh(K)) + c4 * t ** 4 + c6 * t ** 6
    err = 2 * c8 * t ** 8
    for La in (L or []):
        La = int(La)
        if La >= 4:
            lnz += t ** La / La + (dim - 1) * (La - 1) * t ** (La + 2)
            err += 2 * (dim - 1) ** 2 * La * La * t ** (La + 4)
    return lnz, err


def _read(f, name, default=None):
    return np.asarray(f[name]) if name in f else default


def free_energy_from_output(path, n_blocks=20, anchor="auto"):
    """MBAR on the ladder of an ising output file, anchored to absolute f.

    anchor: 'auto' (the file's /free_energy/lnZ_per_spin at the hottest
    temperature when present, else the series), 'file', or 'series'
    (high_temperature_lnZ with the finite-torus winding loops; H = 0 only).
    Returns a dict of arrays per temperature (increasing T): T, f_mbar,
    f_mbar_err (statistics + anchor error), f_mbar_stat_err, lnZ_per_spin,
    f_ti, f_ti_err, f_exact, f_bethe, f_gbf, m, m_err, m_mf, m_bethe (NaN
    where the file has no such entry), and 'mbar' (the MBARResult, energies
    total, index = temperature index), 'N', 'dim', 'J', 'H', 'L', 'anchor'
    (a description), 'anchor_warning' (None, or why the file's anchor looks
    off) and 'anchored' (False when no anchor applies: no /free_energy and
    H != 0 or a hottest point too cold for the series; then f_mbar is NaN and
    only lnZ_rel_per_spin, ln Z_k/N - ln Z_hot/N, is meaningful)."""
    with ising_output.open_output(path) as f:
        status = ising_output._attr_str(f.attrs.get("status", ""))
        if status != "finished":
            raise FreeEnergyError(f"{path}: run not finished (status '{status}', "
                                  f"{f.attrs.get('sweeps_done', '?')} sweeps done); "
                                  "resume it with `ising resume` first")
        for name in ("parameters", "timeseries/e", "summary/T", "summary/m_abs"):
            if name not in f:
                raise FreeEnergyError(f"{path}: incomplete output file (no /{name})")
        p = f["parameters"].attrs
        try:
            N, dim = int(p["N"]), int(p["dim"])
            J, H = float(p["J"]), float(p["H"])
            L = [int(v) for v in np.atleast_1d(p["L"])]
        except KeyError as exc:
            raise FreeEnergyError(f"{path}: incomplete output file (no parameter {exc})") from None
        T = np.asarray(f["summary/T"], dtype=float)
        e = np.asarray(f["timeseries/e"], dtype=float)
        if len(T) < 2:
            raise FreeEnergyError(f"{path}: not a temperature ladder (one temperature, "
                                  f"T = {T[0] if len(T) else '?'}); MBAR needs >= 2")
        if e.ndim != 3 or e.shape[0] != len(T) or e.shape[2] < 2:
            raise FreeEnergyError(f"{path}: /timeseries/e has shape {e.shape}, expected "
                                  f"({len(T)}, copies, n >= 2)")
        if np.any(np.diff(T) <= 0):
            raise FreeEnergyError(f"{path}: /summary/T is not increasing")
        nT = len(T)

        def nan():
            return np.full(nT, np.nan)

        out = {
            "T": T, "N": N, "dim": dim, "J": J, "H": H, "L": L,
            "f_ti": _read(f, "free_energy/f", nan()), "f_ti_err": _read(f, "free_energy/f_err", nan()),
            "f_exact": _read(f, "reference/kaufman/f", nan()),
            "f_bethe": _read(f, "baseline/f_bethe", nan()), "f_gbf": _read(f, "baseline/f_gbf", nan()),
            "m": np.asarray(f["summary/m_abs"]), "m_err": _read(f, "summary/m_abs_err", nan()),
            "m_mf": _read(f, "baseline/m_mf", nan()), "m_bethe": _read(f, "baseline/m_bethe", nan()),
        }
        file_lnz = _read(f, "free_energy/lnZ_per_spin")
        file_series = _read(f, "free_energy/series_err")

    betas = 1.0 / T
    try:
        res = mbar(N * e, betas, n_blocks=n_blocks)
    except ValueError as exc:
        raise FreeEnergyError(f"{path}: {exc}") from None
    hot = nT - 1
    df, df_err = res.delta_f(hot)          # f_k - f_hot = ln Z_hot - ln Z_k
    lnz_rel = -df / N                      # ln Z_k / N - ln Z_hot / N
    out["mbar"] = res
    out["lnZ_rel_per_spin"] = lnz_rel
    stat = T * df_err / N

    if anchor not in ("auto", "file", "series"):
        raise ValueError(f"anchor must be auto, file or series, not {anchor!r}")
    lnz_hot = None
    series = None
    if H == 0.0 and abs(J) / T[hot] <= SERIES_K_MAX.get(dim, 0.1) and min(L) >= 4:
        series = high_temperature_lnZ(dim, J, T[hot], L)
    out["anchor_warning"] = None
    if anchor in ("auto", "file") and file_lnz is not None:
        lnz_hot = float(file_lnz[hot])
        err_hot = float(file_series[hot]) / T[hot] if file_series is not None else 0.0
        out["anchor"] = f"file /free_energy/lnZ_per_spin at T = {T[hot]:g}"
        if series is not None and abs(lnz_hot - series[0]) > 3 * (err_hot + series[1]):
            out["anchor_warning"] = (
                f"{path}: the file's ln Z/N = {lnz_hot:.9f} at T = {T[hot]:g} differs from the "
                f"series with torus windings, {series[0]:.9f}, by {lnz_hot - series[0]:.3g} "
                f"(f by {-T[hot] * (lnz_hot - series[0]):.3g}), more than 3 x its error "
                f"{err_hot:.2g}; --anchor series uses the latter")
    elif anchor == "file":
        raise FreeEnergyError(f"{path}: no /free_energy/lnZ_per_spin to anchor to")
    elif anchor == "series" and series is None:
        raise FreeEnergyError(f"{path}: no series anchor (needs H = 0, every side >= 4 and "
                              f"|J|/T <= {SERIES_K_MAX.get(dim, 0.1)} at the hottest point in "
                              f"{dim}D; here H = {H:g}, |J|/T = {abs(J) / T[hot]:.3g})")
    elif series is not None:
        lnz_hot, err_hot = series
        out["anchor"] = f"high-temperature series at T = {T[hot]:g} (|J|/T = {abs(J) / T[hot]:.3g})"
    elif H != 0.0:
        out["anchor"] = "none (H != 0: no series anchor); f_mbar not absolute"
    else:
        out["anchor"] = (f"none (|J|/T = {abs(J) / T[hot]:.3g} at the hottest point is above "
                         f"{SERIES_K_MAX.get(dim, 0.1)} for the series in {dim}D, or an axis "
                         "shorter than 4); f_mbar not absolute")
    out["anchored"] = lnz_hot is not None
    if lnz_hot is None:
        out.update(lnZ_per_spin=nan(), f_mbar=nan(), f_mbar_err=nan(),
                   f_mbar_stat_err=stat)
    else:
        lnz = lnz_hot + lnz_rel
        out.update(lnZ_per_spin=lnz, f_mbar=-T * lnz, f_mbar_stat_err=stat,
                   f_mbar_err=stat + T * err_hot)   # anchor added linearly, as the TI does
    return out


# --------------------------------------------------------------------------
# command line


def _fmt(x, width, prec):
    return f"{x:{width}.{prec}f}" if np.isfinite(x) else f"{'-':>{width}s}"


def format_table(r):
    head = (f"{'T':>9s} {'f_MC (MBAR)':>24s} {'f_TI':>24s} {'f_exact':>11s} {'f_Bethe':>11s} "
            f"{'f_GBF':>11s} {'|m|':>19s} {'m_MF':>8s} {'m_Bethe':>8s}")
    lines = [head]
    for i, T in enumerate(r["T"]):
        lines.append(
            f"{T:9.5f} {_fmt(r['f_mbar'][i], 11, 6)} +- {_fmt(r['f_mbar_err'][i], 9, 6)} "
            f"{_fmt(r['f_ti'][i], 11, 6)} +- {_fmt(r['f_ti_err'][i], 9, 6)} "
            f"{_fmt(r['f_exact'][i], 11, 6)} {_fmt(r['f_bethe'][i], 11, 6)} {_fmt(r['f_gbf'][i], 11, 6)} "
            f"{_fmt(r['m'][i], 8, 5)} +- {_fmt(r['m_err'][i], 7, 5)} "
            f"{_fmt(r['m_mf'][i], 8, 5)} {_fmt(r['m_bethe'][i], 8, 5)}")
    return "\n".join(lines)


def onsager_m(T, J=1.0):
    """Onsager-Yang spontaneous magnetisation of the 2D square lattice,
    (1 - sinh(2J/T)^-4)^(1/8) below T_c = 2J / ln(1 + sqrt 2), else 0."""
    T = np.asarray(T, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = 1.0 - np.sinh(2.0 * J / T) ** -4
        return np.where(x > 0, np.abs(x) ** 0.125, 0.0)


def _temperature_axis(ax, T):
    """Log T axis (ladders are usually geometric) with plain tick labels."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter
    ax.set_xscale("log")
    lo, hi = T[0] / 1.06, T[-1] * 1.06
    ticks = [t for t in (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 50, 100)
             if lo <= t <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(lo, hi)


def plot(r, prefix):
    """PREFIX_f.png (f against T; below it the baselines and the Monte Carlo
    estimates minus the exact f, or minus MBAR's f without an exact one) and
    PREFIX_m.png (|m| against T with the baselines and Onsager's m below
    T_c in 2D at H = 0).  Returns the two paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    T, res = r["T"], r["mbar"]
    title = (f"{r['dim']}D Ising, L = {'x'.join(str(v) for v in r['L'])}, J = {r['J']:g}, "
             f"H = {r['H']:g}")
    has_exact = bool(np.all(np.isfinite(r["f_exact"])))
    has_ti = bool(np.all(np.isfinite(r["f_ti"])))
    anchored = r["anchored"]
    ref, refname = (r["f_exact"], "f_exact (Kaufman)") if has_exact else (r["f_mbar"], "f_MC (MBAR)")
    show_ref = has_exact or anchored
    show_mc = anchored and (has_exact or has_ti)
    heights = [2] + [1.2] * (show_ref + show_mc)
    fig, axes = plt.subplots(len(heights), 1, figsize=(7.5, 4 + 3 * (len(heights) - 1)),
                             sharex=True, gridspec_kw={"height_ratios": heights}, squeeze=False)
    axes = list(axes[:, 0])
    ax = axes[0]
    if anchored:
        # MBAR between the ladder points: ln Z(beta) reweighted, same anchor
        Tf = np.geomspace(T[0], T[-1], 200)
        rw = res.reweight(np.concatenate((1.0 / Tf, [1.0 / T[-1]])))
        lnz = r["lnZ_per_spin"][-1] + (rw["lnZ"][:-1] - rw["lnZ"][-1]) / r["N"]
        ax.plot(Tf, -Tf * lnz, "-", color="C0", lw=1, label="MC, MBAR reweighted")
        ax.errorbar(T, r["f_mbar"], r["f_mbar_err"], fmt="o", color="C0", ms=4, capsize=2,
                    label="MC, MBAR at the ladder points")
    elif has_ti:
        ax.errorbar(T, r["f_ti"], r["f_ti_err"], fmt="s", color="C1", ms=4, capsize=2,
                    label="MC, thermodynamic integration")
    if has_exact:
        ax.plot(T, r["f_exact"], "k--", lw=1, marker="x", ms=5, label="exact (Kaufman, finite L)")
    ax.plot(T, r["f_bethe"], "-.", color="C2", marker="^", ms=4, label="Bethe-Peierls")
    ax.plot(T, r["f_gbf"], ":", color="C3", marker="v", ms=4, label="GBF bound (mean field)")
    ax.set_ylabel("free energy per spin f = F/N  [J]")
    ax.set_title(title if anchored else title + "  (MBAR f not absolute: no anchor)")
    ax.legend(fontsize=8)
    short = refname.split(" ")[0]
    if show_ref:
        ax = axes[1]
        ax.axhline(0, color="k", lw=0.8)
        ax.plot(T, r["f_bethe"] - ref, "-.", color="C2", marker="^", ms=4, label="Bethe-Peierls")
        ax.plot(T, r["f_gbf"] - ref, ":", color="C3", marker="v", ms=4, label="GBF bound")
        ax.set_ylabel(f"f - {short}  [J]")
        ax.legend(fontsize=8, title=f"baselines minus {refname}", title_fontsize=8)
    if show_mc:
        ax = axes[-1]
        ax.axhline(0, color="k", lw=0.8)
        if has_exact:
            ax.errorbar(T, r["f_mbar"] - ref, r["f_mbar_err"], fmt="o", color="C0", ms=4,
                        capsize=2, label="MC, MBAR")
        if has_ti:
            ax.errorbar(T * 1.01, r["f_ti"] - ref, r["f_ti_err"], fmt="s", color="C1", ms=4,
                        capsize=2, label="MC, thermodynamic integration (drawn at 1.01 T)")
        ax.set_ylabel(f"f - {short}  [J]")
        ax.legend(fontsize=8, title=f"Monte Carlo minus {refname}", title_fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
    _temperature_axis(axes[-1], T)
    axes[-1].set_xlabel("temperature T  [J/k_B]")
    fig.tight_layout()
    pf = f"{prefix}_f.png"
    fig.savefig(pf, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7.5, 5))
    ax.errorbar(T, r["m"], r["m_err"], fmt="o", color="C0", ms=4, capsize=2, label="MC <|m|>")
    ax.plot(T, r["m_mf"], ":", color="C3", marker="v", ms=4, label="mean field")
    ax.plot(T, r["m_bethe"], "-.", color="C2", marker="^", ms=4, label="Bethe-Peierls")
    if r["dim"] == 2 and r["H"] == 0.0 and r["J"] > 0:
        Tc = 2 * r["J"] / math.log1p(math.sqrt(2))
        if T[0] < Tc:
            Tm = np.geomspace(T[0], Tc, 400)
            Tm = np.concatenate((Tm, [Tc, max(T[-1], Tc)]))
            ax.plot(Tm, np.append(onsager_m(Tm[:-2], r["J"]), [0.0, 0.0]), "k-", lw=1,
                    label="Onsager, infinite lattice")
        if T[0] <= Tc <= T[-1]:
            ax.axvline(Tc, color="k", ls="--", lw=0.6)
            ax.text(Tc, 1.03, " T_c (Onsager)", fontsize=8, va="bottom")
    ax.set_xlabel("temperature T  [J/k_B]")
    ax.set_ylabel("magnetisation per spin |m| = |M|/N")
    ax.set_ylim(-0.02, 1.1)
    _temperature_axis(ax, T)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    pm = f"{prefix}_m.png"
    fig.savefig(pm, dpi=110)
    plt.close(fig)
    return pf, pm


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="ising_freeenergy.py",
        description="Free energy of an ising tempering run by MBAR, beside thermodynamic "
                    "integration, the exact f and the Bethe and GBF baselines.")
    ap.add_argument("output", help="ising output file (HDF5) of a temperature ladder")
    ap.add_argument("--png", metavar="PREFIX", help="write PREFIX_f.png and PREFIX_m.png")
    ap.add_argument("--blocks", type=int, default=20, help="jackknife blocks (default 20)")
    ap.add_argument("--anchor", choices=("auto", "file", "series"), default="auto",
                    help="absolute ln Z at the hottest point: the file's TI anchor (auto, "
                         "when present) or the high-temperature series with torus windings")
    a = ap.parse_args(argv)
    try:
        r = free_energy_from_output(a.output, n_blocks=a.blocks, anchor=a.anchor)
    except ising_output.OutputError as exc:
        print(f"ising_freeenergy: error: {exc}", file=sys.stderr)
        return 2
    except (KeyError, ValueError, OSError) as exc:
        print(f"ising_freeenergy: error: {a.output}: cannot analyse ({exc})", file=sys.stderr)
        return 2
    res = r["mbar"]
    print(f"{a.output}: {r['dim']}D L={'x'.join(map(str, r['L']))}, J={r['J']:g}, H={r['H']:g}, "
          f"{len(r['T'])} temperatures; MBAR on {int(res.n_eff.sum())} subsampled energies "
          f"(of {int(res.n_samples.sum())}), {len(res.energies)} levels, jackknife over "
          f"{res.n_blocks} blocks; anchor: {r['anchor']}")
    print("f per spin in units of J; errors one standard error")
    print(format_table(r))
    if r["anchor_warning"]:
        print(f"ising_freeenergy: warning: {r['anchor_warning']}", file=sys.stderr)
    if a.png:
        try:
            paths = plot(r, a.png)
        except ImportError as exc:
            print(f"ising_freeenergy: error: --png needs matplotlib ({exc})", file=sys.stderr)
            return 1
        print("wrote " + " ".join(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
