"""Integrated autocorrelation time of Monte Carlo series: the one estimator
that the analysis uses (ising_freeenergy for MBAR's subsampling, ising_fss for
the error analysis and its series-length checks).

tau_int = 1/2 + sum_{t=1}^W rho(t) with the window W chosen by Wolff's Gamma
method (Comput. Phys. Commun. 156 (2004) 143), bias-corrected, with its error.
"""
import math

import numpy as np


def autocorrelation(x):
    """Normalised autocorrelation rho(t), t = 0 .. n-1, of a series (n) or of
    independent copies (copies, n): the autocovariances of the copies (each
    about its own mean) are averaged before normalising."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    n = x.shape[1]
    x = x - x.mean(axis=1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()
    fx = np.fft.rfft(x, size, axis=1)
    acov = np.fft.irfft(fx * np.conj(fx), size, axis=1)[:, :n].mean(axis=0)
    acov /= np.arange(n, 0, -1)  # unbiased lag normalisation
    if acov[0] <= 0:
        return np.concatenate(([1.0], np.zeros(n - 1)))
    return acov / acov[0]


def tau_int(x, S=1.5):
    """Integrated autocorrelation time by Wolff's Gamma method.  x: a series
    (n) or independent copies (copies, n), time last.  The window W is the
    first with g(W) < 0, where g(W) = exp(-W / tau_W) - tau_W / sqrt(W n_tot)
    and tau_W = S / ln((2 tau(W) + 1) / (2 tau(W) - 1)); tau_int is then
    bias-corrected by (1 + (2W + 1) / n_tot).  Returns (tau, tau_err, W);
    tau = 0.5 for uncorrelated or constant data."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    n = x.shape[1]
    ntot = x.size
    rho = autocorrelation(x)
    if n < 2 or not np.any(rho[1:]):
        return 0.5, 0.0, 0
    cum = 0.5 + np.cumsum(rho[1:])           # tau(W), W = 1 .. n-1
    W = np.arange(1, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        tw = np.where(cum > 0.5, S / np.log((2 * cum + 1) / (2 * cum - 1)), 1e-12)
        g = np.exp(-W / tw) - tw / np.sqrt(W * ntot)
    neg = np.nonzero(g < 0)[0]
    w = int(neg[0]) if len(neg) else n - 2
    Wopt = int(W[w])
    tau = float(cum[w]) * (1.0 + (2 * Wopt + 1) / ntot)
    tau = max(0.5, tau)
    err = tau * math.sqrt(2.0 * (2 * Wopt + 1) / ntot)   # Madras-Sokal / Wolff eq. (42)
    return tau, err, Wopt
