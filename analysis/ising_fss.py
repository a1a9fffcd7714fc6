"""Finite-size scaling of ising tempering runs: T_c, nu, gamma/nu, beta/nu;
for spin glasses the crossings of xi_SG/L and of the Binder ratio g.

    python3 analysis/ising_fss.py DIR_OR_FILES... [--png PREFIX] [--report FILE]
        [--mode auto|ferromagnet|spin-glass] [--resamples N] [--seed S]

Input: one output file per lattice size L (a directory means its *.h5), each
a finished temperature ladder of the same model (dim, J, H, algorithm).
When every file has /summary/xi_sg_over_L (the overlaps' disorder averages
of a [disorder] run with copies >= 2) it is a spin-glass study (step 5);
otherwise steps 1-4.

Steps (each a function usable on its own):

1. load_runs: validation (foreign / unfinished / incomplete files, mixed
   models, duplicate or too few sizes, series too short for error analysis)
   -> FSSError naming the file (the CLI prints one line and exits with 2).
2. Error analysis of the time series: tau_int (ising_autocorr: Wolff 2004
   Gamma method, automatic window with S = 1.5, bias-corrected, with its
   error), binning
   (the error per binning level and whether it reached a plateau), jackknife
   for derived quantities.  n / tau_int < 50 is a warning, < 32 an error
   (tau_int of e and |m|, the largest over the ladder).
3. Reweighter: multiple-histogram reweighting (ising_freeenergy.mbar, MBAR
   over the pooled, 2 tau_int-subsampled energies of the ladder) extended to
   observables of the magnetisation: the sums of |m|, m^2, m^4 per distinct
   energy level are kept per jackknife block, so U4, chi, chi', c, e, |m| come
   out at any T between the ladder points, with jackknife errors over the
   same 20 time blocks that MBAR uses (blocks cut from all temperatures at
   once: replica exchange correlates them).
4. FSS (analyse):
   * crossings T*(L1, L2) of the reweighted U4(T) = 1 - <m^4> / (3 <m^2>^2) of
     consecutive sizes (brentq on the difference); errors by jackknife,
     one size's replicates at a time (the runs are independent), added in
     quadrature;
   * T_c: with >= 3 crossings a weighted linear fit T*(L) = T_c + a x with
     x = L_mean^-(1/nu + omega), 1/nu + omega fixed at 2 in 2D (Ising: 1 + 1)
     and 2.4 in 3D (1.59 + 0.83), L_mean = (L1 + L2) / 2; it is used when its
     chi^2/dof < 3.  Otherwise (fewer crossings, or an unstable fit) the
     crossing of the two largest sizes is the estimate.  The fit through two
     crossings is shown for information.
   * 1/nu: the slope of ln |dU4/dT| at T_c against ln L (weighted fit;
     dU4/dT by central differences of the reweighted curve);
   * gamma/nu: ln chi at T_c against ln L, chi = N <m^2> / T, and from the peak
     heights of the connected chi' = N (<m^2> - <|m|>^2) / T;
   * beta/nu: minus the slope of ln <|m|> at T_c against ln L.
   * with /timeseries/S0 and /timeseries/Skmin in every input
     ([measurement] correlation = yes): their sums per energy level and
     block are reweighted like |m|, m^2, m^4, giving the second-moment
     xi/L(T) = sqrt(<S0>/<Skmin> - 1) / (2 sin(pi/L)) / L with jackknife
     errors; the crossings of xi/L of consecutive sizes (same procedure as
     for U4) and a second T_c from them by the same rule are reported beside
     the U4 ones.  The exponents use the U4 T_c.
   The exponents at T_c carry the jackknife error at fixed T_c and, in
   quadrature, the largest change when T_c moves by its error bar.
   Plots (--png PREFIX): PREFIX_U4.png (reweighted U4 curves with error bands,
   ladder points and crossings), PREFIX_chi.png (chi' with the peaks),
   PREFIX_collapse.png (U4 against (T - T_c) L^(1/nu)).
5. Spin glass (_analyse_spin_glass): the disorder averages xi_SG/L and
   g = (3 - [<q^4>]/[<q^2>]^2)/2 of /summary with their jackknife errors over
   samples (no reweighting: each sample is its own Hamiltonian).  SGCurves
   interpolates each curve linearly between the ladder points and resamples
   it within its error bars (N_RESAMPLES, independent per temperature); the
   crossings of consecutive sizes go through the same `crossing` as U4 (root
   of the difference, each size's replicates in turn, spreads in
   quadrature).  sg_pair flags a crossing as not significant when the
   curves agree within Z_SEPARATED error bars on one side of it, and says
   which curve lies above when there is none ("no crossing in [lo, hi]").
   T_c estimate: the crossing of the largest significant pair.  The error
   matches the scatter of T* while it is below the ladder spacing (beyond
   that it is flagged: up to ~1.5x too small).  Plot: PREFIX_sg.png.
"""
import argparse
import glob
import math
import os
import sys
from dataclasses import dataclass, field

import numpy as np

if __package__:             # imported as analysis.ising_fss
    from . import ising_freeenergy as fe
    from . import ising_output
    from .ising_autocorr import tau_int
else:                       # run as a script, or imported from analysis/ itself
    import ising_freeenergy as fe
    import ising_output
    from ising_autocorr import tau_int

TAU_WARN = 50.0      # n / tau_int below this: warning
TAU_ERROR = 32.0     # n / tau_int below this: error
N_BLOCKS = 20        # jackknife blocks of the reweighting
CORRECTION_EXPONENT = {2: 2.0, 3: 2.4}   # 1/nu + omega for the T* extrapolation
T_C_EXACT_2D = 2.0 / math.log1p(math.sqrt(2.0))


class FSSError(ising_output.OutputError):
    """The input cannot be analysed; the message names the file."""


def _s(v):
    return v.decode() if isinstance(v, bytes) else str(v)


# --------------------------------------------------------------------------
# 2. error analysis


def binning(x, min_bins=32):
    """Binning analysis of a series (n) or copies (copies, n): at level k the
    bins hold 2^k measurements; the error of the mean is the standard
    deviation of the bin means / sqrt(bins).  Levels go on while there are
    >= min_bins bins.  Returns a dict: bin_size, n_bins, err (per level),
    err_err (its uncertainty err / sqrt(2 (bins - 1))), level (the level
    taken: the last with >= 4 min_bins bins), error (its err), plateau (True
    when it agrees with the two levels before within 2 x the combined
    uncertainty), tau (0.5 (error / err at level 0)^2)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    c, n = x.shape
    sizes, nbins, errs, ee = [], [], [], []
    b = 1
    while c * (n // b) >= min_bins and n // b >= 2:
        nb = n // b
        means = x[:, :nb * b].reshape(c, nb, b).mean(axis=2)
        dev = means - means.mean(axis=1, keepdims=True)   # each copy about its own mean
        tot = c * nb
        var = np.sum(dev * dev) / (tot - c) if tot > c else 0.0
        err = math.sqrt(var / tot)
        sizes.append(b)
        nbins.append(tot)
        errs.append(err)
        ee.append(err / math.sqrt(2.0 * max(tot - 1, 1)))
        b *= 2
    errs = np.array(errs)
    nbins = np.array(nbins)
    # the estimate: the last level with >= 4 min_bins bins (the deeper levels
    # are shown but too noisy); plateau: it agrees with the two levels before
    # within twice their combined uncertainty
    ok = np.nonzero(nbins >= 4 * min_bins)[0]
    i = int(ok[-1]) if len(ok) else len(errs) - 1
    plateau = False
    if i >= 2:
        plateau = all(abs(errs[i] - errs[j]) < 2 * math.hypot(ee[i], ee[j]) for j in (i - 1, i - 2))
    e0 = errs[0] if len(errs) else 0.0
    final = float(errs[i]) if len(errs) else float("nan")
    return {"bin_size": np.array(sizes), "n_bins": nbins, "err": errs,
            "err_err": np.array(ee), "plateau": bool(plateau), "error": final,
            "level": i, "tau": 0.5 * (final / e0) ** 2 if e0 > 0 else 0.5}


def jackknife(fn, series, n_blocks=N_BLOCKS):
    """Jackknife of a derived quantity fn(*means) over n_blocks blocks of the
    time axis (last; any leading axes, e.g. copies, are pooled) of the arrays
    in `series` (same shape).  Returns (estimate, error)."""
    series = [np.asarray(s, dtype=float) for s in series]
    n = series[0].shape[-1]
    nb = int(min(n_blocks, n))
    edges = (np.arange(nb + 1) * n) // nb
    per = series[0].size // n
    cnt = np.diff(edges).astype(float) * per
    sums = [np.array([s[..., edges[i]:edges[i + 1]].sum() for i in range(nb)]) for s in series]
    full = fn(*[s.sum() / cnt.sum() for s in sums])
    reps = [fn(*[(s.sum() - s[i]) / (cnt.sum() - cnt[i]) for s in sums]) for i in range(nb)]
    return full, float(fe._jackknife_err(np.array(reps)))


# --------------------------------------------------------------------------
# 1. reading and validation


@dataclass
class Run:
    path: str
    L: int
    N: int
    dim: int
    J: float
    H: float
    algorithm: str
    T: np.ndarray                   # (K) increasing
    e: np.ndarray = field(repr=False)   # (K, copies, n) per spin
    m: np.ndarray = field(repr=False)   # (K, copies, n) per spin
    S0: np.ndarray = field(default=None, repr=False)     # (K, copies, n) or None
    Skmin: np.ndarray = field(default=None, repr=False)  # (K, copies, n) or None
    tau_e: np.ndarray = None        # (K) Gamma method, in measurements
    tau_m: np.ndarray = None        # (K) of |m|
    n_per_tau: float = None         # min over T and observables of n_total / tau
    warnings: list = field(default_factory=list)


def expand_inputs(items):
    """Directories become their *.h5 files (sorted); files pass through."""
    paths = []
    for item in items:
        if os.path.isdir(item):
            found = sorted(glob.glob(os.path.join(item, "*.h5")))
            if not found:
                raise FSSError(f"{item}: directory without *.h5 files")
            paths.extend(found)
        else:
            paths.append(item)
    return paths


def read_run(path):
    """Read and validate one output file; returns a Run (tau not yet set)."""
    with ising_output.open_output(path) as f:
        status = _s(f.attrs.get("status", ""))
        if status != "finished":
            raise FSSError(f"{path}: run not finished (status '{status}', "
                           f"{f.attrs.get('sweeps_done', '?')} sweeps done); "
                           "resume it with `ising resume` first")
        for name in ("parameters", "timeseries/e", "timeseries/m", "summary/T"):
            if name not in f:
                raise FSSError(f"{path}: incomplete output file (no /{name})")
        p = f["parameters"].attrs
        try:
            dim, N = int(p["dim"]), int(p["N"])
            J, H = float(p["J"]), float(p["H"])
            algorithm = _s(p["algorithm"])
            Ls = [int(v) for v in np.atleast_1d(p["L"])]
        except KeyError as exc:
            raise FSSError(f"{path}: incomplete output file (no parameter {exc})") from None
        T = np.asarray(f["summary/T"], dtype=float)
        e = np.asarray(f["timeseries/e"], dtype=float)
        m = np.asarray(f["timeseries/m"], dtype=float)
        S0 = Skmin = None
        if "timeseries/S0" in f and "timeseries/Skmin" in f:     # correlation = yes
            S0 = np.asarray(f["timeseries/S0"], dtype=float)
            Skmin = np.asarray(f["timeseries/Skmin"], dtype=float)
    if len(set(Ls)) != 1:
        raise FSSError(f"{path}: lattice {'x'.join(map(str, Ls))} is not hypercubic; "
                       "finite-size scaling needs one L")
    if len(T) < 2:
        raise FSSError(f"{path}: not a temperature ladder (one temperature); "
                       "reweighting needs >= 2")
    if np.any(np.diff(T) <= 0):
        raise FSSError(f"{path}: /summary/T is not increasing")
    if e.ndim != 3 or e.shape[0] != len(T) or m.shape != e.shape:
        raise FSSError(f"{path}: /timeseries/e {e.shape} and /timeseries/m {m.shape} do not "
                       f"match ({len(T)} temperatures, copies, n)")
    if e.shape[2] < TAU_ERROR:
        raise FSSError(f"{path}: {e.shape[2]} measurements per temperature are too few "
                       f"for error analysis (< {TAU_ERROR:g})")
    if not (np.all(np.isfinite(e)) and np.all(np.isfinite(m))):
        raise FSSError(f"{path}: non-finite values in the time series")
    if S0 is not None:
        if S0.shape != e.shape or Skmin.shape != e.shape:
            raise FSSError(f"{path}: /timeseries/S0 {S0.shape} and /timeseries/Skmin "
                           f"{Skmin.shape} do not match /timeseries/e {e.shape}")
        if not (np.all(np.isfinite(S0)) and np.all(np.isfinite(Skmin))):
            raise FSSError(f"{path}: non-finite values in /timeseries/S0 or /timeseries/Skmin")
    return Run(path=path, L=Ls[0], N=N, dim=dim, J=J, H=H, algorithm=algorithm, T=T, e=e, m=m,
               S0=S0, Skmin=Skmin)


def check_autocorrelation(run):
    """tau_int (Gamma method) of e and |m| at every temperature; an error when
    the series holds fewer than TAU_ERROR tau_int, a warning below TAU_WARN."""
    K = len(run.T)
    run.tau_e = np.empty(K)
    run.tau_m = np.empty(K)
    n = run.e.shape[1] * run.e.shape[2]
    for k in range(K):
        run.tau_e[k] = tau_int(run.e[k])[0]
        run.tau_m[k] = tau_int(np.abs(run.m[k]))[0]
    worst = np.maximum(run.tau_e, run.tau_m)
    k = int(np.argmax(worst))
    run.n_per_tau = n / worst[k]
    where = (f"{n} measurements at T = {run.T[k]:.5g} hold only {run.n_per_tau:.1f} "
             f"tau_int (tau_e = {run.tau_e[k]:.3g}, tau_|m| = {run.tau_m[k]:.3g})")
    if run.n_per_tau < TAU_ERROR:
        raise FSSError(f"{run.path}: series too short for error analysis: {where}, "
                       f"fewer than {TAU_ERROR:g}; run longer")
    if run.n_per_tau < TAU_WARN:
        run.warnings.append(f"{run.path}: short series: {where} (< {TAU_WARN:g}); "
                            "error bars are unreliable")
    return run


def load_runs(items):
    """Validate the inputs (files or directories) as one FSS data set; returns
    Runs sorted by L.  Raises FSSError naming the offending file."""
    paths = expand_inputs(items)
    if not paths:
        raise FSSError("no input files")
    runs = [read_run(p) for p in paths]
    ref = runs[0]
    for r in runs[1:]:
        for name in ("dim", "J", "H", "algorithm"):
            a, b = getattr(ref, name), getattr(r, name)
            if a != b:
                raise FSSError(f"{r.path}: a different model from {ref.path} "
                               f"({name} = {b} there, {a} here); FSS needs one model")
    seen = {}
    for r in runs:
        if r.L in seen:
            raise FSSError(f"{r.path}: size L = {r.L} also in {seen[r.L]}; one file per size")
        seen[r.L] = r.path
    if len(runs) < 2:
        raise FSSError(f"{runs[0].path}: only one size (L = {runs[0].L}); a crossing "
                       "needs >= 2 sizes")
    for r in runs:
        check_autocorrelation(r)
    return sorted(runs, key=lambda r: r.L)


# --------------------------------------------------------------------------
# 3. reweighting


class Reweighter:
    """MBAR (ising_freeenergy.mbar) on one run's ladder, with the sums of
    |m|, m^2, m^4 (and S(0), S(k_min) when the run has them) per energy level
    and jackknife block, so that any of e, c, m_abs, m2, m4, U4,
    chi (N <m^2>/T), chi_p (N (<m^2> - <|m|>^2)/T) and, with correlation data,
    S0, Skmin, xi_L (the second-moment xi / L,
    sqrt(<S0>/<Skmin> - 1) / (2 sin(pi/L)) / L) can be evaluated at any T
    (meaningful inside the ladder)."""

    OBS = ("e", "c", "m_abs", "m2", "m4", "U4", "chi", "chi_p")
    OBS_CORR = ("S0", "Skmin", "xi_L")

    def __init__(self, run, n_blocks=N_BLOCKS):
        self.run = run
        self.N = run.N
        E = run.N * run.e                              # totals, as mbar gets them
        self.res = res = fe.mbar(E, 1.0 / run.T, n_blocks=n_blocks)
        K, c, n = E.shape
        B = res.n_blocks
        block_of = np.minimum((np.arange(n) * B) // n, B - 1)
        J = len(res.energies)
        self.has_corr = run.S0 is not None and run.Skmin is not None
        names = ("m_abs", "m2", "m4") + (("S0", "Skmin") if self.has_corr else ())
        self.S = {k: np.zeros((B, J)) for k in names}
        for k in range(K):                             # mbar's own subsampling
            idx = np.unique(np.round(np.arange(0.0, n, res.g[k])).astype(int))
            idx = idx[idx < n]
            Ek = E[k][:, idx].ravel()
            lev = np.searchsorted(res.energies, Ek)
            if np.any(res.energies[np.minimum(lev, J - 1)] != Ek):
                raise FSSError(f"{run.path}: internal error: energies do not match MBAR's levels")
            blk = np.broadcast_to(block_of[idx], (c, len(idx))).ravel()
            mk = run.m[k][:, idx].ravel()
            m2 = mk * mk
            obs = [("m_abs", np.abs(mk)), ("m2", m2), ("m4", m2 * m2)]
            if self.has_corr:
                obs += [("S0", run.S0[k][:, idx].ravel()), ("Skmin", run.Skmin[k][:, idx].ravel())]
            for name, v in obs:
                np.add.at(self.S[name], (blk, lev), v)
        self.S_tot = {k: v.sum(axis=0) for k, v in self.S.items()}
        self.lnD = res._lnD(res.f, res.n_eff)
        self.lnD_jack = [res._lnD(res.f_jack[b], res.N_jack[b]) for b in range(B)]
        self.T_range = (float(run.T[0]), float(run.T[-1]))

    @property
    def n_reps(self):
        return self.res.n_blocks

    rep_error = staticmethod(fe._jackknife_err)   # the replicates are jackknife blocks

    def _eval(self, T, rep=None):
        T = np.atleast_1d(np.asarray(T, dtype=float))
        beta = 1.0 / T
        res = self.res
        if rep is None:
            counts, lnD = res.counts, self.lnD
            S = self.S_tot
        else:
            counts, lnD = res.counts_jack[rep], self.lnD_jack[rep]
            S = {k: self.S_tot[k] - v[rep] for k, v in self.S.items()}
        En = res.energies
        lw = -np.outer(beta, En) - lnD[None, :]
        lw -= lw.max(axis=1, keepdims=True)
        w = np.exp(lw)
        Z = w @ counts
        E1 = (w @ (counts * En)) / Z
        E2 = (w @ (counts * En * En)) / Z
        ma, m2, m4 = ((w @ S[k]) / Z for k in ("m_abs", "m2", "m4"))
        N = self.N
        out = {"e": E1 / N, "c": beta * beta * (E2 - E1 * E1) / N, "m_abs": ma, "m2": m2,
               "m4": m4, "U4": 1.0 - m4 / (3.0 * m2 * m2), "chi": N * beta * m2,
               "chi_p": N * beta * (m2 - ma * ma)}
        if self.has_corr:
            s0, sk = ((w @ S[k]) / Z for k in ("S0", "Skmin"))
            L = self.run.L
            out["S0"], out["Skmin"] = s0, sk
            out["xi_L"] = (np.sqrt(np.maximum(s0 / sk - 1.0, 0.0))
                           / (2.0 * math.sin(math.pi / L)) / L)
        return out

    def value(self, T, name, rep=None):
        return self._eval(T, rep)[name]

    def curves(self, T):
        """All observables at temperatures T with jackknife errors ('_err')."""
        full = self._eval(T)
        reps = [self._eval(T, b) for b in range(self.n_reps)]
        out = {"T": np.atleast_1d(np.asarray(T, dtype=float))}
        for k in self.OBS + (self.OBS_CORR if self.has_corr else ()):
            out[k] = full[k]
            out[k + "_err"] = fe._jackknife_err(np.array([r[k] for r in reps]))
        return out

    def scalar_with_err(self, fn):
        """fn(rep) -> float, for rep None (full) and every jackknife block."""
        full = fn(None)
        reps = np.array([fn(b) for b in range(self.n_reps)])
        return full, float(fe._jackknife_err(reps))


# --------------------------------------------------------------------------
# 4. finite-size scaling


def _root_near(f, lo, hi, guess=None, n=200):
    """A root of f in [lo, hi] where f goes from < 0 to > 0 (the one nearest
    guess, else the first); None when there is none."""
    from scipy.optimize import brentq
    x = np.linspace(lo, hi, n)
    y = f(x)
    idx = np.nonzero((y[:-1] < 0) & (y[1:] >= 0))[0]
    if len(idx) == 0:
        idx = np.nonzero(np.sign(y[:-1]) != np.sign(y[1:]))[0]
        if len(idx) == 0:
            return None
    if guess is not None:
        i = idx[np.argmin(np.abs(x[idx] - guess))]
    else:
        i = idx[0]
    return brentq(lambda t: float(f(np.array([t]))[0]), x[i], x[i + 1], xtol=1e-12)


def crossing(rw1, rw2, name="U4", info=None):
    """Crossing T* of U4 (or of another scale-invariant observable `name`,
    e.g. xi_L) of two sizes (rw1 the smaller): root of U4_1(T) - U4_2(T),
    which goes from < 0 (below T_c the larger lattice is more ordered; so for
    xi/L) to > 0.  Error: the spread (rw.rep_error) of the roots over each
    run's replicates (jackknife blocks of a Reweighter, resamplings of
    SGCurves; the other run held at its full estimate), added in
    quadrature; a replicate without a root counts as T* (and in
    info["missed"] when a dict `info` is given, with info["reps"] the number
    of replicates).  Returns (T*, err) or raises FSSError when the curves do
    not cross inside the common range."""
    lo = max(rw1.T_range[0], rw2.T_range[0])
    hi = min(rw1.T_range[1], rw2.T_range[1])
    if hi <= lo:
        raise FSSError(f"{rw2.run.path}: its ladder [{rw2.T_range[0]:g}, {rw2.T_range[1]:g}] "
                       f"does not overlap that of {rw1.run.path}")

    def d(r1, r2):
        return lambda T: rw1.value(T, name, r1) - rw2.value(T, name, r2)

    t0 = _root_near(d(None, None), lo, hi)
    if t0 is None:
        label = {"xi_L": "xi/L", "xi_sg_over_L": "xi_SG/L"}.get(name, name)
        raise FSSError(f"{rw2.run.path}: {label} of L = {rw1.run.L} and L = {rw2.run.L} do not cross "
                       f"inside the common ladder range [{lo:g}, {hi:g}]")
    var = 0.0
    missed = total = 0
    for which in (0, 1):
        rw = (rw1, rw2)[which]
        reps = []
        for b in range(rw.n_reps):
            f = d(b, None) if which == 0 else d(None, b)
            t = _root_near(f, lo, hi, guess=t0)
            missed += t is None
            reps.append(t if t is not None else t0)
        total += rw.n_reps
        var += float(rw.rep_error(np.array(reps))) ** 2
    if info is not None:
        info["missed"], info["reps"] = missed, total
    return t0, math.sqrt(var)


def weighted_linear_fit(x, y, sy):
    """y = a + b x by weighted least squares; returns a, b, their errors
    (from the weights alone), chi^2 and the degrees of freedom."""
    x, y, sy = map(lambda v: np.asarray(v, dtype=float), (x, y, sy))
    w = 1.0 / np.maximum(sy, 1e-300) ** 2
    A = np.vstack([np.ones_like(x), x]).T
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    a, b = cov @ (A.T @ (w * y))
    chi2 = float(np.sum(w * (y - a - b * x) ** 2))
    return float(a), float(b), math.sqrt(cov[0, 0]), math.sqrt(cov[1, 1]), chi2, len(x) - 2


def loglog_slope(L, y, sy):
    """Slope of ln y against ln L (weighted; sigma of ln y = sy / y)."""
    y = np.abs(np.asarray(y, dtype=float))
    a, b, ea, eb, chi2, dof = weighted_linear_fit(np.log(L), np.log(y), np.asarray(sy) / y)
    return b, eb, chi2, dof, a


def _peak(rw, name, rep, lo, hi):
    from scipy.optimize import minimize_scalar
    x = np.linspace(lo, hi, 161)
    y = rw.value(x, name, rep)
    i = int(np.argmax(y))
    if 0 < i < len(x) - 1:
        r = minimize_scalar(lambda t: -float(rw.value(np.array([t]), name, rep)[0]),
                            bounds=(x[i - 1], x[i + 1]), method="bounded",
                            options={"xatol": 1e-7})
        return float(r.x), float(-r.fun), False
    return float(x[i]), float(y[i]), True


def tc_from_crossings(cross, dim):
    """T_c from the crossings of consecutive sizes (list of dicts L1, L2, T,
    err): the weighted linear fit against L_mean^-(1/nu + omega) when there
    are >= 3 crossings and chi^2/dof < 3, else the crossing of the two
    largest sizes.  Returns (Tc, Tc_err, method, fit)."""
    p = CORRECTION_EXPONENT.get(dim, 2.0)
    xs = np.array([(0.5 * (c["L1"] + c["L2"])) ** -p for c in cross])
    ys = np.array([c["T"] for c in cross])
    es = np.array([max(c["err"], 1e-12) for c in cross])
    fit = None
    if len(cross) >= 2:
        a, b, ea, eb, chi2, dof = weighted_linear_fit(xs, ys, es)
        fit = {"Tc": a, "err": ea, "slope": b, "chi2": chi2, "dof": dof, "exponent": p}
    if fit is not None and fit["dof"] >= 1 and fit["chi2"] / fit["dof"] < 3.0:
        Tc, Tc_err = fit["Tc"], fit["err"]
        method = (f"weighted linear fit of the crossings against L_mean^-{p:g} "
                  f"(chi2/dof = {fit['chi2']:.2f}/{fit['dof']})")
    else:
        Tc, Tc_err = cross[-1]["T"], cross[-1]["err"]
        why = ("fewer than 3 crossings" if fit is None or fit["dof"] < 1
               else f"fit unstable, chi2/dof = {fit['chi2']:.1f}/{fit['dof']}")
        method = (f"crossing of the two largest sizes L = {cross[-1]['L1']}, {cross[-1]['L2']} "
                  f"({why})")
    return Tc, Tc_err, method, fit


def _analyse_ferromagnet(paths, n_blocks=N_BLOCKS):
    """The whole workflow on files / directories; returns a dict (see
    format_report for its use).  With S(0), S(k_min) series in every input
    (correlation = yes) the xi/L crossings and their T_c come too
    ("xi_crossings", "xi_fit", "Tc_xi", "Tc_xi_err", "Tc_xi_method"; None
    otherwise); the exponents use the U4 T_c."""
    runs = load_runs(paths)
    rws = [Reweighter(r, n_blocks) for r in runs]
    Ls = np.array([r.L for r in runs], dtype=float)
    dim = runs[0].dim
    warnings = [w for r in runs for w in r.warnings]
    cross = []
    for a, b in zip(rws[:-1], rws[1:]):
        t, err = crossing(a, b)
        cross.append({"L1": a.run.L, "L2": b.run.L, "T": t, "err": err})
    Tc, Tc_err, method, fit = tc_from_crossings(cross, dim)
    xi_cross = xi_fit = Tc_xi = Tc_xi_err = Tc_xi_method = None
    if all(rw.has_corr for rw in rws):
        try:
            xi_cross = []
            for a, b in zip(rws[:-1], rws[1:]):
                t, err = crossing(a, b, "xi_L")
                xi_cross.append({"L1": a.run.L, "L2": b.run.L, "T": t, "err": err})
            Tc_xi, Tc_xi_err, Tc_xi_method, xi_fit = tc_from_crossings(xi_cross, dim)
        except FSSError as exc:
            warnings.append(f"no xi/L estimate of T_c: {exc}")
            xi_cross = None
    elif any(rw.has_corr for rw in rws):
        warnings.append("S(0), S(k_min) series (correlation = yes) only in some inputs; "
                        "no xi/L crossings")
    lo = max(rw.T_range[0] for rw in rws)
    hi = min(rw.T_range[1] for rw in rws)
    if not lo <= Tc <= hi:
        warnings.append(f"T_c estimate {Tc:.5g} outside the common ladder range "
                        f"[{lo:g}, {hi:g}]; exponents at the nearest end")
    Tq = min(max(Tc, lo), hi)

    per_size = []
    for rw in rws:
        h = 1e-3 * Tq

        def slope(rep, rw=rw):
            return float((rw.value(np.array([Tq + h]), "U4", rep)[0]
                          - rw.value(np.array([Tq - h]), "U4", rep)[0]) / (2 * h))

        at = rw.curves(np.array([Tq]))
        s, se = rw.scalar_with_err(slope)
        pk = [_peak(rw, "chi_p", rep, *rw.T_range) for rep in [None] + list(range(rw.n_reps))]
        chi_p_max = pk[0][1]
        chi_p_max_err = float(fe._jackknife_err(np.array([q[1] for q in pk[1:]])))
        T_peak_err = float(fe._jackknife_err(np.array([q[0] for q in pk[1:]])))
        if pk[0][2]:
            warnings.append(f"{rw.run.path}: the peak of chi' lies at the end of the ladder "
                            f"(T = {pk[0][0]:.4g}); extend the ladder")
        extra = {}
        if rw.has_corr:
            extra = {"xi_L": float(at["xi_L"][0]), "xi_L_err": float(at["xi_L_err"][0])}
        per_size.append({
            **extra, "L": rw.run.L, "path": rw.run.path, "dU4dT": s, "dU4dT_err": se,
            "U4": float(at["U4"][0]), "U4_err": float(at["U4_err"][0]),
            "chi": float(at["chi"][0]), "chi_err": float(at["chi_err"][0]),
            "m_abs": float(at["m_abs"][0]), "m_abs_err": float(at["m_abs_err"][0]),
            "chi_p_max": chi_p_max, "chi_p_max_err": chi_p_max_err,
            "T_chi_p_max": pk[0][0], "T_chi_p_max_err": T_peak_err, "peak_at_edge": pk[0][2],
            "n_per_tau": rw.run.n_per_tau, "tau_e_max": float(rw.run.tau_e.max()),
            "tau_m_max": float(rw.run.tau_m.max()), "g": rw.res.g, "n_eff": rw.res.n_eff,
            "n_samples": rw.res.n_samples,
        })

    def col(k):
        return np.array([q[k] for q in per_size])

    inv_nu, inv_nu_err, *_ = loglog_slope(Ls, col("dU4dT"), col("dU4dT_err"))
    g_tc, g_tc_err, *_ = loglog_slope(Ls, col("chi"), col("chi_err"))
    b_nu, b_nu_err, *_ = loglog_slope(Ls, col("m_abs"), col("m_abs_err"))
    # the uncertainty of T_c: the exponents again at T_c -+ its error; the
    # larger shift is added in quadrature
    shift = np.zeros(3)
    for Ts in (Tq - Tc_err, Tq + Tc_err):
        Ts = min(max(Ts, lo), hi)
        h = 1e-3 * Ts
        vals = []
        for rw in rws:
            c = rw.curves(np.array([Ts - h, Ts, Ts + h]))
            vals.append(((c["U4"][2] - c["U4"][0]) / (2 * h), c["chi"][1], c["m_abs"][1]))
        vals = np.array(vals)
        s_ex = [np.polyfit(np.log(Ls), np.log(np.abs(vals[:, j])), 1)[0] for j in range(3)]
        shift = np.maximum(shift, np.abs(np.array(s_ex) - np.array([inv_nu, g_tc, b_nu])))
    Tc_shift = {"inv_nu": shift[0], "gamma_nu_Tc": shift[1], "beta_nu": shift[2]}
    inv_nu_err = math.hypot(inv_nu_err, shift[0])
    g_tc_err = math.hypot(g_tc_err, shift[1])
    b_nu_err = math.hypot(b_nu_err, shift[2])
    g_pk, g_pk_err, *_ = loglog_slope(Ls, col("chi_p_max"), col("chi_p_max_err"))
    nu = 1.0 / inv_nu
    # binning tables at the ladder point nearest T_c
    binning_tables = []
    for r in runs:
        k = int(np.argmin(np.abs(r.T - Tc)))
        binning_tables.append({"L": r.L, "T": float(r.T[k]), "e": binning(r.e[k]),
                               "m_abs": binning(np.abs(r.m[k])),
                               "tau_e": float(r.tau_e[k]), "tau_m": float(r.tau_m[k])})
    return {
        "kind": "ferromagnet", "runs": runs, "reweighters": rws, "dim": dim, "J": runs[0].J, "H": runs[0].H,
        "algorithm": runs[0].algorithm, "L": Ls, "crossings": cross, "fit": fit,
        "Tc": Tc, "Tc_err": Tc_err, "Tc_method": method, "T_eval": Tq,
        "xi_crossings": xi_cross, "xi_fit": xi_fit, "Tc_xi": Tc_xi, "Tc_xi_err": Tc_xi_err,
        "Tc_xi_method": Tc_xi_method,
        "inv_nu": inv_nu, "inv_nu_err": inv_nu_err, "nu": nu, "nu_err": inv_nu_err / inv_nu ** 2,
        "gamma_nu_Tc": g_tc, "gamma_nu_Tc_err": g_tc_err,
        "gamma_nu_peak": g_pk, "gamma_nu_peak_err": g_pk_err,
        "beta_nu": -b_nu, "beta_nu_err": b_nu_err, "per_size": per_size,
        "binning": binning_tables, "warnings": warnings, "Tc_shift": Tc_shift,
    }


# --------------------------------------------------------------------------
# 5. spin-glass studies (inputs with the disorder averages of the overlaps)

SG_NAMES = ("q2", "q4", "g", "chi_sg", "xi_sg", "xi_sg_over_L", "ql")
SG_CROSS = (("xi_sg_over_L", "xi_SG/L"), ("g", "g"))   # the scale-invariant curves
SG_MODEL = ("dim", "J", "H", "algorithm", "couplings", "bond_dilution", "fields",
            "field_strength")
N_RESAMPLES = 400    # parametric resamplings of each curve for the crossing errors
Z_SEPARATED = 2.0    # a crossing is significant when the curves differ by more
                     # than this many error bars somewhere on each side of it


@dataclass
class SGRun:
    path: str
    L: int
    N: int
    dim: int
    model: dict                     # SG_MODEL values (absent ones None)
    samples: int                    # disorder samples (1 without [disorder])
    copies: int
    T: np.ndarray                   # (K) increasing
    val: dict = field(repr=False)   # name -> (K) disorder average
    err: dict = field(repr=False)   # name -> (K) its jackknife error over samples
    warnings: list = field(default_factory=list)


def has_sg_summary(path):
    """Whether `path` (a valid ising output file) holds /summary/xi_sg_over_L,
    the disorder averages of the overlaps ([measurement] overlap)."""
    with ising_output.open_output(path) as f:
        return "summary/xi_sg_over_L" in f


def read_sg_run(path):
    """Read and validate the spin-glass summary of one output file: /summary/T
    and SG_NAMES with their *_err; returns an SGRun.  Non-finite values
    (xi_SG where [<S_q(0)>] / [<S_q(k_min)>] < 1) are dropped from the curves
    later; non-finite errors (one sample) are a warning."""
    with ising_output.open_output(path) as f:
        status = _s(f.attrs.get("status", ""))
        if status != "finished":
            raise FSSError(f"{path}: run not finished (status '{status}', "
                           f"{f.attrs.get('sweeps_done', '?')} sweeps done); "
                           "resume it with `ising resume` first")
        for name in ("parameters", "summary/T") + tuple(
                f"summary/{n}{s}" for n in SG_NAMES for s in ("", "_err")):
            if name not in f:
                raise FSSError(f"{path}: incomplete output file (no /{name})")
        p = f["parameters"].attrs
        try:
            dim, N = int(p["dim"]), int(p["N"])
            Ls = [int(v) for v in np.atleast_1d(p["L"])]
            model = {k: (_s(p[k]) if isinstance(p[k], (bytes, str)) else float(p[k]))
                     if k in p else None for k in SG_MODEL}
            model["dim"] = dim
            if model["dim"] is None or model["J"] is None:
                raise KeyError("J")
        except KeyError as exc:
            raise FSSError(f"{path}: incomplete output file (no parameter {exc})") from None
        samples = int(p.get("samples", 1))
        copies = int(p.get("copies", 1))
        T = np.asarray(f["summary/T"], dtype=float)
        val = {n: np.asarray(f[f"summary/{n}"], dtype=float) for n in SG_NAMES}
        err = {n: np.asarray(f[f"summary/{n}_err"], dtype=float) for n in SG_NAMES}
    if len(set(Ls)) != 1:
        raise FSSError(f"{path}: lattice {'x'.join(map(str, Ls))} is not hypercubic; "
                       "finite-size scaling needs one L")
    if T.ndim != 1 or len(T) < 2:
        raise FSSError(f"{path}: not a temperature ladder ({T.size} temperature(s)); "
                       "crossings need >= 2")
    if np.any(np.diff(T) <= 0):
        raise FSSError(f"{path}: /summary/T is not increasing")
    for n in SG_NAMES:
        if val[n].shape != T.shape or err[n].shape != T.shape:
            raise FSSError(f"{path}: /summary/{n} {val[n].shape} or /summary/{n}_err "
                           f"{err[n].shape} does not match /summary/T {T.shape}")
    run = SGRun(path=path, L=Ls[0], N=N, dim=dim, model=model, samples=samples, copies=copies,
                T=T, val=val, err=err)
    for n, label in SG_CROSS:
        ok = np.isfinite(val[n])
        if ok.sum() < 2:
            raise FSSError(f"{path}: /summary/{n} has fewer than 2 finite values; "
                           f"no {label} curve")
        if not ok.all():
            run.warnings.append(f"{path}: {label} undefined (NaN) at T = "
                                + ", ".join(f"{t:.4g}" for t in T[~ok])
                                + "; the curve leaves those points out")
        if not np.all(np.isfinite(err[n][ok])):
            run.warnings.append(f"{path}: no error bars for {label} ({samples} sample(s): "
                                "jackknife over samples needs >= 2); its crossings have none")
    return run


def load_sg_runs(paths):
    """Validate the inputs as one spin-glass FSS data set (one model, one file
    per size, >= 2 sizes); returns SGRuns sorted by L."""
    runs = [read_sg_run(p) for p in paths]
    ref = runs[0]
    for r in runs[1:]:
        for name in SG_MODEL:
            a, b = ref.model[name], r.model[name]
            if a != b:
                raise FSSError(f"{r.path}: a different model from {ref.path} "
                               f"({name} = {b} there, {a} here); FSS needs one model")
    seen = {}
    for r in runs:
        if r.L in seen:
            raise FSSError(f"{r.path}: size L = {r.L} also in {seen[r.L]}; one file per size")
        seen[r.L] = r.path
    if len(runs) < 2:
        raise FSSError(f"{runs[0].path}: only one size (L = {runs[0].L}); a crossing "
                       "needs >= 2 sizes")
    return sorted(runs, key=lambda r: r.L)


class SGCurves:
    """The disorder-averaged curves of one SGRun as functions of T: linear
    interpolation between the ladder points (non-finite points left out; NaN
    outside the finite ones), and n_reps parametric resamplings, replicate b
    being value + err * z_b with z_b standard normal, independent per
    temperature and curve, reproducible from (seed, L).  The same interface
    as Reweighter (run, T_range, n_reps, value(T, name, rep), rep_error), so
    `crossing` works on either; rep_error is the standard deviation of the
    replicates.  A curve without finite errors is not resampled (its
    replicates are the curve: `has_err` is False)."""

    def __init__(self, run, n_reps=N_RESAMPLES, seed=0):
        self.run = run
        self.n_reps = int(n_reps)
        self.T_range = (float(run.T[0]), float(run.T[-1]))
        rng = np.random.default_rng([int(seed), int(run.L)])
        self._pts, self._reps, self.has_err = {}, {}, {}
        for name in SG_NAMES:
            ok = np.isfinite(run.val[name])
            T, y, e = run.T[ok], run.val[name][ok], run.err[name][ok]
            self._pts[name] = (T, y)
            self.has_err[name] = bool(np.all(np.isfinite(e)))
            z = rng.standard_normal((self.n_reps, len(T)))
            self._reps[name] = y + (z * e if self.has_err[name] else 0.0 * z)

    @staticmethod
    def rep_error(reps):
        reps = np.asarray(reps, dtype=float)
        return np.std(reps, axis=0, ddof=1) if len(reps) > 1 else np.zeros(reps.shape[1:])

    def value(self, T, name, rep=None):
        T = np.atleast_1d(np.asarray(T, dtype=float))
        x, y = self._pts[name]
        if rep is not None:
            y = self._reps[name][rep]
        return np.interp(T, x, y, left=np.nan, right=np.nan)

    def error(self, T, name):
        """The error bar of the curve at T (linear between the ladder points)."""
        ok = np.isfinite(self.run.val[name])
        return np.interp(np.atleast_1d(np.asarray(T, dtype=float)), self.run.T[ok],
                         self.run.err[name][ok], left=np.nan, right=np.nan)


def _sg_grid(c1, c2, lo, hi):
    """The ladder points of both runs inside [lo, hi]."""
    T = np.union1d(c1.run.T, c2.run.T)
    return T[(T >= lo - 1e-12) & (T <= hi + 1e-12)]


def sg_pair(c1, c2, name):
    """Crossing of the curve `name` (xi_sg_over_L or g) of two sizes, c1 the
    smaller (SGCurves).  Returns a dict: L1, L2, lo, hi (the common range),
    T and err (None when the curves do not cross in the range), z (the
    difference c1 - c2 in combined error bars at the ladder points), and
    significant (a crossing with error bars whose curves differ by more than
    Z_SEPARATED error bars somewhere on each side of it, and that >= 90% of
    the resamplings reproduce), note: for a crossing "" or its caveats (why
    it is not significant; an error larger than the ladder spacing, where
    the resampling underestimates it); without one, which curve lies above
    throughout and what that means."""
    lo = max(c1.T_range[0], c2.T_range[0])
    hi = min(c1.T_range[1], c2.T_range[1])
    grid = _sg_grid(c1, c2, lo, hi)
    d = c1.value(grid, name) - c2.value(grid, name)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = d / np.hypot(c1.error(grid, name), c2.error(grid, name))
    out = {"L1": c1.run.L, "L2": c2.run.L, "lo": lo, "hi": hi, "T": None, "err": None,
           "grid": grid, "z": z, "significant": False, "note": ""}
    info = {}
    label = dict(SG_CROSS).get(name, name)
    try:
        t, err = crossing(c1, c2, name, info)
    except FSSError:
        fin = np.isfinite(d)
        zf = z[fin & np.isfinite(z)]
        closest = f"; closest {np.min(np.abs(zf)):.1f} error bars apart" if len(zf) else ""
        if fin.any() and np.all(d[fin] > 0):
            out["note"] = (f"no crossing in [{lo:g}, {hi:g}]: L = {c2.run.L} below L = {c1.run.L} "
                           f"throughout (as in the disordered phase: a transition, if any, "
                           f"lies below T = {lo:g}){closest}")
        elif fin.any() and np.all(d[fin] < 0):
            out["note"] = (f"no crossing in [{lo:g}, {hi:g}]: L = {c2.run.L} above L = {c1.run.L} "
                           f"throughout (as in the ordered phase: a crossing, if any, lies "
                           f"above T = {hi:g}){closest}")
        else:
            out["note"] = f"no crossing of {label} in [{lo:g}, {hi:g}]"
        return out
    both = c1.has_err[name] and c2.has_err[name]
    out["T"], out["err"] = t, (err if both else float("nan"))
    below = z[(grid < t) & np.isfinite(z)]
    above = z[(grid > t) & np.isfinite(z)]
    why = []
    if not both:
        why.append("no error bars")
    else:
        if not (len(below) and np.min(below) < -Z_SEPARATED):
            why.append(f"below T* the curves agree within {Z_SEPARATED:g} error bars")
        if not (len(above) and np.max(above) > Z_SEPARATED):
            why.append(f"above T* the curves agree within {Z_SEPARATED:g} error bars")
        if info.get("reps") and info["missed"] > 0.1 * info["reps"]:
            why.append(f"{100.0 * info['missed'] / info['reps']:.0f}% of the resamplings "
                       "do not cross (the error is a lower bound)")
    out["significant"] = not why
    i = int(np.clip(np.searchsorted(grid, t) - 1, 0, len(grid) - 2))
    if both and err > grid[i + 1] - grid[i]:
        why.append("the error exceeds the ladder spacing there (curves nearly parallel "
                   "within their errors; the error is then too small, by up to ~1.5x)")
    out["note"] = "; ".join(why)
    return out


def _analyse_spin_glass(paths, n_resamples=N_RESAMPLES, seed=0):
    """The spin-glass study: per pair of consecutive sizes the crossings of
    xi_SG/L and of g (sg_pair), and an estimate of T_c from each: the
    crossing of the largest pair that crosses significantly."""
    runs = load_sg_runs(paths)
    curves = [SGCurves(r, n_resamples, seed) for r in runs]
    warnings = [w for r in runs for w in r.warnings]
    out = {"kind": "spin-glass", "runs": runs, "curves": curves, "dim": runs[0].dim,
           "model": runs[0].model, "L": np.array([r.L for r in runs], dtype=float),
           "n_resamples": int(n_resamples), "warnings": warnings}
    for name, label in SG_CROSS:
        pairs = [sg_pair(a, b, name) for a, b in zip(curves[:-1], curves[1:])]
        est = [p for p in pairs if p["T"] is not None and p["significant"]]
        out[f"{name}_crossings"] = pairs
        out[f"Tc_{name}"] = est[-1]["T"] if est else None
        out[f"Tc_{name}_err"] = est[-1]["err"] if est else None
        out[f"Tc_{name}_from"] = (est[-1]["L1"], est[-1]["L2"]) if est else None
    return out


def _sg_model_line(r):
    m = r["model"]
    L = ", ".join(str(int(v)) for v in r["L"])
    fields = m["fields"] or "none"
    hs = f" (strength {m['field_strength']:g})" if fields not in ("none", "file") else ""
    dil = f", bond dilution {m['bond_dilution']:g}" if m["bond_dilution"] else ""
    return (f"Finite-size scaling (spin glass): {r['dim']}D, couplings {m['couplings']} "
            f"(J = {m['J']:g}{dil}), fields {fields}{hs}, H = {m['H']:g}, {m['algorithm']}, "
            f"L = {L}")


def format_sg_report(r):
    out = [_sg_model_line(r), ""]
    out.append("Inputs (disorder averages over samples; errors by jackknife over the samples):")
    for run in r["runs"]:
        out.append(f"  L = {run.L:4d}  {run.path}: {len(run.T)} temperatures "
                   f"{run.T[0]:g}..{run.T[-1]:g}, {run.samples} samples x {run.copies} copies")
    out.append("")
    out.append("Crossings of consecutive sizes (linear interpolation between the ladder points; "
               f"errors from {r['n_resamples']} resamplings of each curve within its error bars):")
    for name, label in SG_CROSS:
        out.append(f"  {label}:")
        for c in r[f"{name}_crossings"]:
            head = f"    L = {c['L1']:4d} / {c['L2']:4d}: "
            if c["T"] is None:
                out.append(head + c["note"])
            else:
                out.append(head + f"T* = {c['T']:.5f} +- {c['err']:.5f}"
                           + ("" if c["significant"] else "   NOT SIGNIFICANT")
                           + (f"   ({c['note']})" if c["note"] else ""))
    out.append("")
    for name, label in SG_CROSS:
        Tc = r[f"Tc_{name}"]
        if Tc is None:
            out.append(f"T_c ({label}): no estimate (no significant crossing in the range)")
        else:
            L1, L2 = r[f"Tc_{name}_from"]
            out.append(f"T_c ({label}) = {Tc:.5f} +- {r[f'Tc_{name}_err']:.5f}   (crossing of "
                       f"L = {L1}, {L2}, the largest pair that crosses; corrections to scaling "
                       "are large in spin glasses: compare the pairs)")
    out.append("")
    runs = r["runs"]
    head = f"{'T':>8s}" + "".join(f" {'xi_SG/L (L=' + str(q.L) + ')':>21s} {'g (L=' + str(q.L) + ')':>21s}"
                                  for q in runs)
    out.append("Curves at the ladder points:")
    out.append(head)
    Ts = np.unique(np.concatenate([q.T for q in runs]))
    for t in Ts:
        row = f"{t:8.4f}"
        for q in runs:
            k = np.nonzero(np.isclose(q.T, t, rtol=0, atol=1e-12))[0]
            for n in ("xi_sg_over_L", "g"):
                if len(k):
                    row += f" {q.val[n][k[0]]:9.5f} +- {q.err[n][k[0]]:8.5f}"
                else:
                    row += f" {'':21s}"
        out.append(row)
    if r["warnings"]:
        out.append("")
        out.extend("warning: " + w for w in r["warnings"])
    return "\n".join(out)


def plot_sg(r, prefix):
    """PREFIX_sg.png: xi_SG/L (top) and g (bottom) against T for every L,
    the ladder points with error bars joined by the interpolation, the
    crossings marked; returns [path]."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(7.5, 8), sharex=True)
    for ax, (name, label) in zip(axes, SG_CROSS):
        for i, c in enumerate(r["curves"]):
            x, y = c._pts[name]
            ok = np.isfinite(c.run.val[name])
            ax.errorbar(x, y, c.run.err[name][ok], fmt="o-", color=f"C{i}", ms=3, lw=1,
                        capsize=2, label=f"L = {c.run.L}")
        for p in r[f"{name}_crossings"]:
            if p["T"] is not None:
                ax.axvline(p["T"], color="gray", ls=":" if p["significant"] else "--", lw=0.8)
        Tc = r[f"Tc_{name}"]
        if Tc is not None and np.isfinite(r[f"Tc_{name}_err"]):
            e = r[f"Tc_{name}_err"]
            ax.axvspan(Tc - e, Tc + e, color="k", alpha=0.15,
                       label=f"T* = {Tc:.4f} +- {e:.4f}")
        ax.set_ylabel("xi_SG / L" if name == "xi_sg_over_L"
                      else "g = (3 - [<q^4>] / [<q^2>]^2) / 2")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[-1].set_xlabel("T  [J/k_B]")
    axes[0].set_title(_sg_model_line(r).split(": ", 1)[1], fontsize=8)
    fig.tight_layout()
    path = f"{prefix}_sg.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def study_kind(paths, mode="auto"):
    """'spin-glass' or 'ferromagnet' for the files `paths`: with mode 'auto'
    spin-glass when every file holds /summary/xi_sg_over_L, ferromagnet when
    none does, an FSSError when they are mixed.  A forced 'ferromagnet' on a
    run with several disorder samples is an error (its series mix
    Hamiltonians); a forced 'spin-glass' needs the columns in every file."""
    flags = [has_sg_summary(p) for p in paths]
    if mode == "ferromagnet":
        for p in paths:
            with ising_output.open_output(p) as f:
                s = int(f["parameters"].attrs.get("samples", 1)) if "parameters" in f else 1
            if s > 1:
                raise FSSError(f"{p}: {s} disorder samples; the ferromagnet analysis "
                               "(reweighting of the pooled series) needs one Hamiltonian; "
                               "use --mode spin-glass")
        return mode
    if mode == "spin-glass" or (mode == "auto" and any(flags)):
        for p, has in zip(paths, flags):
            if not has:
                other = paths[flags.index(True)] if any(flags) else None
                raise FSSError(f"{p}: no /summary/xi_sg_over_L (overlaps)"
                               + (f" while {other} has it; a spin-glass study needs them in "
                                  "every file" if other else "; a spin-glass study needs "
                                  "[measurement] overlap (copies >= 2)"))
        return "spin-glass"
    return "ferromagnet"


def analyse(items, n_blocks=N_BLOCKS, mode="auto", n_resamples=N_RESAMPLES, seed=0):
    """The whole workflow on files / directories; returns a dict whose "kind"
    says which study it is (study_kind): "ferromagnet" (_analyse_ferromagnet:
    U4 and xi/L crossings, T_c, exponents) or "spin-glass"
    (_analyse_spin_glass: crossings of xi_SG/L and g, with n_resamples
    resamplings from `seed`).  format_report and plot take either."""
    paths = expand_inputs(items)
    if not paths:
        raise FSSError("no input files")
    if study_kind(paths, mode) == "spin-glass":
        return _analyse_spin_glass(paths, n_resamples, seed)
    return _analyse_ferromagnet(paths, n_blocks)


# --------------------------------------------------------------------------
# report and plots


def format_report(r):
    if r.get("kind") == "spin-glass":
        return format_sg_report(r)
    L = ", ".join(str(int(v)) for v in r["L"])
    out = [f"Finite-size scaling: {r['dim']}D Ising, J = {r['J']:g}, H = {r['H']:g}, "
           f"{r['algorithm']}, L = {L}", ""]
    out.append("Inputs (tau_int by the Gamma method, in measurements; MBAR subsampling g = 2 tau_e):")
    for q, run in zip(r["per_size"], r["runs"]):
        out.append(f"  L = {q['L']:4d}  {q['path']}: {len(run.T)} temperatures "
                   f"{run.T[0]:g}..{run.T[-1]:g}, {run.e.shape[1]} x {run.e.shape[2]} measurements, "
                   f"max tau_e = {q['tau_e_max']:.2f}, max tau_|m| = {q['tau_m_max']:.2f}, "
                   f"n/tau >= {q['n_per_tau']:.0f}, MBAR kept {int(q['n_eff'].sum())} of "
                   f"{int(q['n_samples'].sum())}")
    out.append("")
    out.append("Binning at the ladder point nearest T_c (error of the mean per level; "
               "plateau = converged):")
    for b in r["binning"]:
        for name, tau in (("e", b["tau_e"]), ("m_abs", b["tau_m"])):
            t = b[name]
            levels = " ".join(f"{e:.2e}" for e in t["err"])
            out.append(f"  L = {b['L']:4d} T = {b['T']:.4f} {name:5s}: {levels}  "
                       f"plateau {'yes' if t['plateau'] else 'NO'}, tau(binning) = "
                       f"{t['tau']:.2f}, tau(Gamma) = {tau:.2f}")
    out.append("")
    out.append("U4 crossings (reweighted curves; jackknife errors):")
    for c in r["crossings"]:
        out.append(f"  L = {c['L1']:4d} / {c['L2']:4d}: T* = {c['T']:.5f} +- {c['err']:.5f}")
    def fitline(f):
        if f is not None:
            out.append(f"  linear fit T* = T_c + a L_mean^-{f['exponent']:g}: T_c = {f['Tc']:.5f} "
                       f"+- {f['err']:.5f}, a = {f['slope']:.3g}, "
                       f"chi2/dof = {f['chi2']:.2f}/{f['dof']}")

    def deviation(Tc, err):
        if r["dim"] == 2 and r["H"] == 0 and r["J"] > 0:
            ex = T_C_EXACT_2D * r["J"]
            out.append(f"          exact 2D: {ex:.5f}; deviation {(Tc - ex):+.5f} = "
                       f"{(Tc - ex) / max(err, 1e-300):+.2f} error bars, "
                       f"{100 * (Tc - ex) / ex:+.3f}%")

    fitline(r["fit"])
    if r.get("xi_crossings"):
        out.append("xi/L crossings (second-moment xi = sqrt(<S0>/<Skmin> - 1) / (2 sin(pi/L)), "
                   "reweighted; jackknife errors):")
        for c in r["xi_crossings"]:
            out.append(f"  L = {c['L1']:4d} / {c['L2']:4d}: T* = {c['T']:.5f} +- {c['err']:.5f}")
        fitline(r["xi_fit"])
    out.append("")
    out.append(f"T_c     = {r['Tc']:.5f} +- {r['Tc_err']:.5f}   (U4: {r['Tc_method']})")
    deviation(r["Tc"], r["Tc_err"])
    if r.get("Tc_xi") is not None:
        out.append(f"T_c     = {r['Tc_xi']:.5f} +- {r['Tc_xi_err']:.5f}   "
                   f"(xi/L: {r['Tc_xi_method']})")
        deviation(r["Tc_xi"], r["Tc_xi_err"])
    out.append(f"1/nu    = {r['inv_nu']:.4f} +- {r['inv_nu_err']:.4f}, nu = {r['nu']:.4f} "
               f"+- {r['nu_err']:.4f}   (dU4/dT at T = {r['T_eval']:.5f} ~ L^(1/nu))")
    out.append(f"gamma/nu = {r['gamma_nu_Tc']:.4f} +- {r['gamma_nu_Tc_err']:.4f}   "
               "(chi = N <m^2> / T at T_c ~ L^(gamma/nu))")
    out.append(f"gamma/nu = {r['gamma_nu_peak']:.4f} +- {r['gamma_nu_peak_err']:.4f}   "
               "(peak of chi' = N (<m^2> - <|m|>^2) / T ~ L^(gamma/nu))")
    out.append(f"beta/nu  = {r['beta_nu']:.4f} +- {r['beta_nu_err']:.4f}   "
               "(<|m|> at T_c ~ L^(-beta/nu))")
    if r["dim"] == 2:
        out.append("          exact 2D Ising: nu = 1, gamma/nu = 7/4, beta/nu = 1/8")
    sh = r["Tc_shift"]
    out.append("Exponent errors: jackknife (at fixed T_c) and, in quadrature, the largest shift "
               f"when T_c moves by its error (1/nu {sh['inv_nu']:.4f}, gamma/nu "
               f"{sh['gamma_nu_Tc']:.4f}, beta/nu {sh['beta_nu']:.4f}).")
    out.append("")
    out.append(f"{'L':>5s} {'U4(T_c)':>20s} {'dU4/dT':>20s} {'chi(T_c)':>20s} "
               f"{'<|m|>(T_c)':>20s} {'chi_max':>20s} {'T(chi_max)':>18s}"
               + (f" {'xi/L(T_c)':>20s}" if "xi_L" in r["per_size"][0] else ""))
    for q in r["per_size"]:
        out.append(f"{q['L']:5d} {q['U4']:9.5f} +- {q['U4_err']:7.5f} "
                   f"{q['dU4dT']:9.4f} +- {q['dU4dT_err']:7.4f} {q['chi']:9.3f} +- {q['chi_err']:7.3f} "
                   f"{q['m_abs']:9.5f} +- {q['m_abs_err']:7.5f} "
                   f"{q['chi_p_max']:9.4f} +- {q['chi_p_max_err']:7.4f} "
                   f"{q['T_chi_p_max']:8.4f} +- {q['T_chi_p_max_err']:6.4f}"
                   + (f" {q['xi_L']:9.5f} +- {q['xi_L_err']:7.5f}" if "xi_L" in q else "")
                   + (" (edge)" if q["peak_at_edge"] else ""))
    if r["warnings"]:
        out.append("")
        out.extend("warning: " + w for w in r["warnings"])
    return "\n".join(out)


def _save(fig, ax, path):
    """Grid, legend, layout; write the figure to path and close it; return path."""
    import matplotlib.pyplot as plt
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot(r, prefix):
    """PREFIX_U4.png, PREFIX_chi.png, PREFIX_collapse.png (a spin-glass
    study: PREFIX_sg.png, plot_sg); returns the paths."""
    if r.get("kind") == "spin-glass":
        return plot_sg(r, prefix)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rws = r["reweighters"]
    paths = []
    curves = []
    for i, rw in enumerate(rws):
        T = np.linspace(*rw.T_range, 200)
        curves.append((rw, T, rw.curves(T)))

    fig, ax = plt.subplots(figsize=(7.5, 5))
    for i, (rw, T, c) in enumerate(curves):
        col = f"C{i}"
        ax.plot(T, c["U4"], "-", color=col, lw=1, label=f"L = {rw.run.L} (reweighted)")
        ax.fill_between(T, c["U4"] - c["U4_err"], c["U4"] + c["U4_err"], color=col, alpha=0.25)
        at = rw.curves(rw.run.T)
        ax.errorbar(rw.run.T, at["U4"], at["U4_err"], fmt="o", color=col, ms=3, capsize=2)
    for c in r["crossings"]:
        ax.axvline(c["T"], color="gray", ls=":", lw=0.8)
    ax.axvspan(r["Tc"] - r["Tc_err"], r["Tc"] + r["Tc_err"], color="k", alpha=0.15,
               label=f"T_c = {r['Tc']:.4f} +- {r['Tc_err']:.4f}")
    if r["dim"] == 2 and r["J"] > 0 and r["H"] == 0:
        ax.axvline(T_C_EXACT_2D * r["J"], color="k", ls="--", lw=0.8, label="exact 2D T_c")
    ax.set_xlabel("T  [J/k_B]")
    ax.set_ylabel("Binder cumulant U4 = 1 - <m^4> / (3 <m^2>^2)")
    paths.append(_save(fig, ax, f"{prefix}_U4.png"))

    fig, ax = plt.subplots(figsize=(7.5, 5))
    for i, (rw, T, c) in enumerate(curves):
        col = f"C{i}"
        q = r["per_size"][i]
        ax.plot(T, c["chi_p"], "-", color=col, lw=1, label=f"L = {rw.run.L}")
        ax.fill_between(T, c["chi_p"] - c["chi_p_err"], c["chi_p"] + c["chi_p_err"],
                        color=col, alpha=0.25)
        ax.errorbar([q["T_chi_p_max"]], [q["chi_p_max"]], [q["chi_p_max_err"]],
                    xerr=[q["T_chi_p_max_err"]], fmt="*", color=col, ms=8)
    ax.axvline(r["Tc"], color="k", ls="--", lw=0.8, label="T_c estimate")
    ax.set_xlabel("T  [J/k_B]")
    ax.set_ylabel("chi' = N (<m^2> - <|m|>^2) / T")
    paths.append(_save(fig, ax, f"{prefix}_chi.png"))

    fig, ax = plt.subplots(figsize=(7.5, 5))
    for i, (rw, T, c) in enumerate(curves):
        x = (T - r["Tc"]) * rw.run.L ** r["inv_nu"]
        ax.plot(x, c["U4"], "-", color=f"C{i}", lw=1.2, label=f"L = {rw.run.L}")
    ax.set_xlabel(f"(T - T_c) L^(1/nu),  T_c = {r['Tc']:.4f}, 1/nu = {r['inv_nu']:.3f}")
    ax.set_ylabel("U4")
    ax.set_title("data collapse")
    paths.append(_save(fig, ax, f"{prefix}_collapse.png"))
    return paths


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="ising_fss.py",
        description="Finite-size scaling of ising tempering runs (one file per L): "
                    "T_c, nu, gamma/nu, beta/nu of a ferromagnet; for files with the "
                    "overlaps' disorder averages (/summary/xi_sg_over_L) the crossings "
                    "of xi_SG/L and of the Binder ratio g instead.")
    ap.add_argument("inputs", nargs="+", help="output files (HDF5) or directories of *.h5")
    ap.add_argument("--png", metavar="PREFIX",
                    help="write PREFIX_{U4,chi,collapse}.png (spin glass: PREFIX_sg.png)")
    ap.add_argument("--report", metavar="FILE", help="also write the report to FILE")
    ap.add_argument("--blocks", type=int, default=N_BLOCKS,
                    help="jackknife blocks of the reweighting (default 20)")
    ap.add_argument("--mode", choices=("auto", "ferromagnet", "spin-glass"), default="auto",
                    help="auto (default): spin-glass when every file has "
                         "/summary/xi_sg_over_L, else ferromagnet")
    ap.add_argument("--resamples", type=int, default=N_RESAMPLES,
                    help=f"spin glass: resamplings of each curve within its errors for the "
                         f"crossing errors (default {N_RESAMPLES})")
    ap.add_argument("--seed", type=int, default=0,
                    help="spin glass: seed of the resamplings (default 0)")
    a = ap.parse_args(argv)
    if a.resamples < 2:
        ap.error("--resamples must be >= 2")
    try:
        r = analyse(a.inputs, n_blocks=a.blocks, mode=a.mode, n_resamples=a.resamples,
                    seed=a.seed)
    except ising_output.OutputError as exc:
        print(f"ising_fss: error: {exc}", file=sys.stderr)
        return 2
    except (KeyError, ValueError, OSError, np.linalg.LinAlgError) as exc:
        print(f"ising_fss: error: {' '.join(a.inputs)}: cannot analyse ({exc})", file=sys.stderr)
        return 2
    text = format_report(r)
    print(text)
    for w in r["warnings"]:
        print(f"ising_fss: warning: {w}", file=sys.stderr)
    if a.report:
        with open(a.report, "w") as fh:
            fh.write(text + "\n")
    if a.png:
        try:
            paths = plot(r, a.png)
        except ImportError as exc:
            print(f"ising_fss: error: --png needs matplotlib ({exc})", file=sys.stderr)
            return 1
        print("wrote " + " ".join(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
