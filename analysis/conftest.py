"""Fixtures shared by the analysis tests (pytest loads this file before the
test modules beside it).

* run_ising(directory, deck, *extra, ranks=1): write `deck` to
  directory/deck.ini and run `ising run deck.ini --quiet *extra` there
  ($ISING_BIN, else build/ising of this checkout; the test is skipped when
  there is none), under `mpiexec -n ranks` when ranks > 1 and mpiexec exists;
* cli(script, *args): run analysis/<script> as a script, as a user does;
  returns the CompletedProcess (text, captured);
* one_line_error(p, prog, name): assert that p failed as bad input does
  (exit status 2, nothing on standard output, one line on standard error
  starting "prog: error: " and naming `name`); returns that line;
* exact_4x4(T): exact values of the 2D 4 x 4 torus at J = 1, H = 0 from the
  2^16 states (independent of the C code): totals lnZ, E, C = beta^2 var E
  and per spin e, c, m_abs, m2, m4, U4, arrays over T; exact_4x4.levels and
  exact_4x4.degen are the distinct energies and their degeneracies.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ISING = os.environ.get("ISING_BIN", str(HERE.parent / "build" / "ising"))
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def _run_ising(directory, deck, *extra, ranks=1):
    if not os.access(ISING, os.X_OK):
        pytest.skip(f"no ising binary at {ISING} (set ISING_BIN)")
    (directory / "deck.ini").write_text(deck)
    cmd = [ISING, "run", "deck.ini", "--quiet", *extra]
    if ranks > 1 and shutil.which("mpiexec"):
        cmd = ["mpiexec", "-n", str(ranks)] + cmd
    subprocess.run(cmd, cwd=directory, env=ENV, check=True, stdout=subprocess.DEVNULL)


def _cli(script, *args):
    return subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))


def _one_line_error(p, prog, name):
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stdout == ""
    err = p.stderr.strip().splitlines()
    assert len(err) == 1, p.stderr
    assert err[0].startswith(f"{prog}: error: ") and name in err[0], err[0]
    return err[0]


class _Exact4x4:
    def __init__(self):
        s = 1 - 2 * ((np.arange(1 << 16)[:, None] >> np.arange(16)) & 1)
        s = s.reshape(-1, 4, 4)
        E = -(s * np.roll(s, 1, axis=1)).sum(axis=(1, 2)) - (s * np.roll(s, 1, axis=2)).sum(axis=(1, 2))
        self.E = E.astype(float)                 # total energy of each state
        self.M = s.sum(axis=(1, 2)) / 16.0       # magnetisation per spin
        levels, degen = np.unique(E, return_counts=True)
        self.levels, self.degen = levels.astype(float), degen.astype(float)

    def __call__(self, T):
        out = {k: [] for k in ("lnZ", "E", "C", "e", "c", "m_abs", "m2", "m4", "U4")}
        for t in np.atleast_1d(np.asarray(T, dtype=float)):
            lw = -self.E / t
            top = lw.max()
            p = np.exp(lw - top)
            z = p.sum()
            p /= z
            e1, e2 = p @ self.E, p @ self.E ** 2
            m2, m4 = p @ self.M ** 2, p @ self.M ** 4
            out["lnZ"].append(top + np.log(z))
            out["E"].append(e1)
            out["C"].append((e2 - e1 * e1) / (t * t))
            out["e"].append(e1 / 16)
            out["c"].append((e2 - e1 * e1) / (16 * t * t))
            out["m_abs"].append(p @ np.abs(self.M))
            out["m2"].append(m2)
            out["m4"].append(m4)
            out["U4"].append(1 - m4 / (3 * m2 * m2))
        return {k: np.array(v) for k, v in out.items()}


@pytest.fixture(scope="session")
def run_ising():
    return _run_ising


@pytest.fixture(scope="session")
def cli():
    return _cli


@pytest.fixture(scope="session")
def one_line_error():
    return _one_line_error


@pytest.fixture(scope="session")
def exact_4x4():
    return _Exact4x4()
