#!/usr/bin/python3
"""Equilibration benefit of parallel tempering (a benchmark, run by hand).

2D L=64, H=0, T=1.6, hot start.  For each seed, one run at T=1.6 alone and
one run with a geometric ladder of 12 temperatures from 1.6 to 3.0 (exchange
every 10 sweeps).  The equilibration time is the first sweep after which |m|
at T=1.6, averaged over a window of 5 measurements (50 sweeps), stays within
2% of the equilibrium value for the rest of the run (Onsager's spontaneous
magnetisation 0.9796 is the infinite-lattice value; the L=64 value is
computed from the second half of the longest tempering runs).  Runs that
never equilibrate count as the run length (a lower bound).  Reports the
median over seeds in sweeps and in spin-flip work (sweeps x replicas).

usage: tests/bench_equilibration.py [ISING] [SEEDS] [SWEEPS]
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ising = sys.argv[1] if len(sys.argv) > 1 else "build/ising"
seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 8
sweeps = int(sys.argv[3]) if len(sys.argv) > 3 else 40000
NT = 12
DECK = f"""[lattice]
L = 64
[montecarlo]
start = hot
thermalization = 0
sweeps = {sweeps}
[measurement]
interval = 10
[output]
progress = 0
"""


def run(work, name, seed, ladder):
    out = os.path.join(work, name + ".h5")
    cmd = ["mpiexec", "-n", "2", ising, "run", os.path.join(work, "deck.ini"), "--quiet", "--force",
           "--set", f"output.file={out}", "--set", f"montecarlo.seed={seed}"]
    if ladder:
        cmd += ["--set", "tempering.ladder=geometric", "--set", "tempering.T_min=1.6",
                "--set", "tempering.T_max=3.0", "--set", f"tempering.count={NT}",
                "--set", "parallel.ranks_per_replica=1"]
    else:
        cmd += ["--set", "model.T=1.6"]
    subprocess.run(cmd, check=True)
    with h5py.File(out) as f:
        return f["timeseries/sweep"][()], f["timeseries/m_abs"][0, 0, :]


def equilibration_time(sweep, m, m_eq, tol=0.02, window=5):
    avg = np.convolve(m, np.ones(window) / window, mode="valid")
    ok = np.abs(avg - m_eq) <= tol * m_eq
    bad = np.nonzero(~ok)[0]
    if len(bad) == 0:
        return sweep[window - 1]
    if bad[-1] + 1 >= len(avg):
        return None  # not equilibrated by the end
    return sweep[bad[-1] + window]


def main():
    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, "deck.ini"), "w") as f:
            f.write(DECK)
        runs = [(s, run(work, f"plain{s}", s, False), run(work, f"pt{s}", s, True))
                for s in range(1, seeds + 1)]
        m_eq = np.mean([pt[1][len(pt[1]) // 2:].mean() for _, _, pt in runs])
        print(f"equilibrium |m| at T=1.6, L=64 (second halves of the tempering runs): {m_eq:.5f}")
        plain_t, pt_t = [], []
        for s, plain, pt in runs:
            a = equilibration_time(*plain, m_eq)
            b = equilibration_time(*pt, m_eq)
            print(f"seed {s}: without tempering {a if a is not None else f'> {sweeps}'} sweeps, "
                  f"with tempering {b if b is not None else f'> {sweeps}'} sweeps")
            plain_t.append(a if a is not None else sweeps)
            pt_t.append(b if b is not None else sweeps)
        mp, mt = np.median(plain_t), np.median(pt_t)
        print(f"median sweeps to equilibrium: without {mp:.0f}, with {mt:.0f}: ratio without/with "
              f"{mp / mt:.2f} in sweeps, {mp / (mt * NT):.2f} in spin-flip work ({NT} replicas)")
        print(f"mean sweeps: without {np.mean(plain_t):.0f}, with {np.mean(pt_t):.0f}; "
              f"never equilibrated: without {sum(t is None for t in [equilibration_time(*p, m_eq) for _, p, _ in runs])}, "
              f"with {sum(t is None for t in [equilibration_time(*q, m_eq) for _, _, q in runs])} of {seeds}")


main()
