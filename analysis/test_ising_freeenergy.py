"""MBAR free energies (ising_freeenergy.py) against exact values.

Runs `ising` (conftest.run_ising) on two tempering ladders and checks:
  * a 4 x 4 torus (8 temperatures 1.5 .. 12): MBAR's f at the ladder points
    and the reweighted e and c between them against an exact enumeration of
    the 2^16 states done here (independent of the C code), within 4.5 error
    bars, and that the same comparison at a 3% wrong temperature fails;
  * a 16 x 16 torus (16 temperatures): free_energy_from_output agrees with the
    file's thermodynamic integration and Kaufman's f, and the file's bounds
    are ordered f_exact <= f_Bethe <= f_GBF;
  * MBAR on synthetic data with known answers;
  * the command line: the table, both PNGs, exit status 2 with a one-line
    message for foreign, unfinished and single-temperature files.
"""
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from analysis import ising_freeenergy as fe

Z_MAX = 4.5

T4 = np.geomspace(1.5, 12.0, 8)
DECK4 = f"""[lattice]
L = 4
[model]
T = {" ".join(repr(float(t)) for t in T4)}
[montecarlo]
sweeps = 40000
thermalization = 2000
seed = 20261123
[tempering]
interval = 2
[output]
file = l4.h5
progress = 0
"""

DECK16 = """[lattice]
L = 16
[montecarlo]
sweeps = 20000
thermalization = 2000
seed = 7
[tempering]
ladder = geometric
T_min = 1.5
T_max = 12
count = 16
interval = 2
[output]
file = l16.h5
progress = 0
"""


@pytest.fixture(scope="module")
def l4(tmp_path_factory, run_ising):
    d = tmp_path_factory.mktemp("l4")
    run_ising(d, DECK4)
    return str(d / "l4.h5")


@pytest.fixture(scope="module")
def l16(tmp_path_factory, run_ising):
    d = tmp_path_factory.mktemp("l16")
    run_ising(d, DECK16)
    return str(d / "l16.h5")


@pytest.fixture(scope="module")
def l4_mbar(l4):
    with h5py.File(l4) as f:
        T = np.asarray(f["summary/T"])
        E = 16 * np.asarray(f["timeseries/e"])
    return T, fe.mbar(E, 1 / T)


# ---------------------------------------------------------------- synthetic


def test_mbar_iid_exact_samples(exact_4x4):
    """Independent samples drawn from the exact energy distribution of the
    4 x 4 torus: MBAR recovers the exact ln Z differences and e between."""
    rng = np.random.default_rng(11)
    betas = 1 / np.array([1.6, 2.2, 3.0, 4.5, 8.0])
    series = []
    for b in betas:
        lw = np.log(exact_4x4.degen) - b * exact_4x4.levels
        p = np.exp(lw - fe.logsumexp(lw))
        series.append(rng.choice(exact_4x4.levels, size=20_000, p=p / p.sum()))
    res = fe.mbar(series, betas)
    assert np.all(res.g < 1.2)  # uncorrelated: (almost) nothing thrown away
    lnZ = exact_4x4(1 / betas)["lnZ"]
    d, err = res.delta_f(0)
    z = (d[1:] - (lnZ[0] - lnZ[1:])) / err[1:]
    assert np.max(np.abs(z)) < Z_MAX, z
    mid = 0.5 * (betas[1:] + betas[:-1])
    rw = res.reweight(mid)
    E = exact_4x4(1 / mid)["E"]
    assert np.max(np.abs((rw["E"] - E) / rw["E_err"])) < Z_MAX
    assert np.all(rw["inside"]) and not res.reweight(2.0)["inside"][0]


# ------------------------------------------------------------- 4 x 4 ladder


def test_mbar_f_at_ladder_points(l4_mbar, exact_4x4):
    T, res = l4_mbar
    assert np.all(res.n_eff > 1000) and np.all(res.n_eff <= res.n_samples)
    d, err = res.delta_f(len(T) - 1)          # f_k - f_hot = ln Z_hot - ln Z_k
    lnZ = exact_4x4(T)["lnZ"]
    exact = lnZ[-1] - lnZ
    z = (d - exact)[:-1] / err[:-1]
    assert np.max(np.abs(z)) < Z_MAX, z
    # power: the exact values at a 3% wrong temperature are rejected
    lnZw = exact_4x4(1.03 * T)["lnZ"]
    zw = (d - (lnZw[-1] - lnZw))[:-1] / err[:-1]
    assert np.max(np.abs(zw)) > Z_MAX, zw


def test_anchored_f_against_enumeration(l4, exact_4x4):
    """Absolute f per spin with the series anchor (torus windings included)
    against the enumeration; the file's own exact f agrees with ours."""
    r = fe.free_energy_from_output(l4, anchor="series")
    lnZ = exact_4x4(r["T"])["lnZ"]
    f_exact = -r["T"] * lnZ / 16
    np.testing.assert_allclose(r["f_exact"], f_exact, rtol=1e-9)
    z = (r["f_mbar"] - f_exact) / r["f_mbar_err"]
    assert np.max(np.abs(z)) < Z_MAX, z
    assert abs(r["f_mbar"][-1] - f_exact[-1]) < r["f_mbar_err"][-1] < 1e-5


def test_reweighting_between_ladder_points(l4_mbar, exact_4x4):
    T, res = l4_mbar
    b = 1 / T
    mid = 0.5 * (b[1:] + b[:-1])
    rw = res.reweight(mid)
    assert np.all(rw["inside"])
    ex = exact_4x4(1 / mid)
    E, C = ex["E"], ex["C"]
    z = (rw["E"] - E) / rw["E_err"]
    assert np.max(np.abs(z)) < Z_MAX, z
    assert np.max(np.abs((rw["C"] - C) / rw["C_err"])) < Z_MAX
    assert np.max(rw["E_err"] / 16) < 5e-3
    # <E^2> and ln Z(beta) at the midpoints, too
    lnZ = exact_4x4(1 / np.concatenate(([b[0]], mid)))["lnZ"]
    dl = rw["lnZ"] - (lnZ[1:] - lnZ[0])
    assert np.max(np.abs(dl / rw["lnZ_err"])) < Z_MAX
    # power: exact values at a 3% wrong temperature are rejected
    Ew = exact_4x4(1.03 / mid)["E"]
    assert np.max(np.abs((rw["E"] - Ew) / rw["E_err"])) > Z_MAX


# ----------------------------------------------------------- 16 x 16 ladder


def test_free_energy_from_output_l16(l16):
    r = fe.free_energy_from_output(l16)
    assert r["anchored"] and r["anchor"].startswith("file")
    assert len(r["T"]) == 16 and r["N"] == 256
    for name in ("f_mbar", "f_mbar_err", "f_ti", "f_ti_err", "f_exact", "f_bethe", "f_gbf",
                 "m", "m_mf", "m_bethe"):
        assert np.all(np.isfinite(r[name])), name
    assert np.all(r["f_mbar_err"][:-1] > 0)
    z_exact = (r["f_mbar"] - r["f_exact"]) / r["f_mbar_err"]
    assert np.max(np.abs(z_exact)) < Z_MAX, z_exact
    z_ti = (r["f_mbar"] - r["f_ti"]) / np.hypot(r["f_mbar_err"], r["f_ti_err"])
    assert np.max(np.abs(z_ti)) < Z_MAX, z_ti
    # the anchor is the TI's: the hottest point is shared
    assert r["f_mbar"][-1] == pytest.approx(r["f_ti"][-1], abs=1e-12)
    # the bounds in the file: exact <= Bethe <= GBF (mean field)
    tol = 1e-12
    assert np.all(r["f_exact"] <= r["f_bethe"] + tol)
    assert np.all(r["f_bethe"] <= r["f_gbf"] + tol)
    # and the series anchor agrees with the file's on a 16 x 16 lattice
    s = fe.free_energy_from_output(l16, anchor="series")
    assert np.max(np.abs(s["f_mbar"] - r["f_mbar"])) < 1e-4


# ------------------------------------------------------------- command line


def test_cli_table_and_pngs(l16, tmp_path, cli):
    pytest.importorskip("matplotlib")
    prefix = str(tmp_path / "plot")
    p = cli("ising_freeenergy.py", l16, "--png", prefix)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    header = [i for i, line in enumerate(lines) if line.split()[:2] == ["T", "f_MC"]]
    assert header, p.stdout
    rows = lines[header[0] + 1:header[0] + 17]
    assert len(rows) == 16 and all(len(row.split()) == 15 for row in rows)
    for suffix in ("_f.png", "_m.png"):
        png = Path(prefix + suffix)
        assert png.stat().st_size > 10_000
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _cli_error(cli, one_line_error, path):
    return one_line_error(cli("ising_freeenergy.py", str(path)), "ising_freeenergy", Path(path).name)


def test_cli_foreign_files(tmp_path, cli, one_line_error):
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f.attrs["program"] = "something else"
    assert "not an ising output file" in _cli_error(cli, one_line_error, foreign)
    (tmp_path / "text.h5").write_text("not hdf5")
    _cli_error(cli, one_line_error, tmp_path / "text.h5")
    _cli_error(cli, one_line_error, tmp_path / "missing.h5")


def test_cli_incomplete_and_no_ladder(l4, tmp_path, run_ising, cli, one_line_error):
    running = tmp_path / "running.h5"
    shutil.copy(l4, running)
    with h5py.File(running, "r+") as f:
        f.attrs["status"] = np.bytes_("running")
    assert "not finished" in _cli_error(cli, one_line_error, running)
    cut = tmp_path / "cut.h5"
    shutil.copy(l4, cut)
    with h5py.File(cut, "r+") as f:
        del f["timeseries/e"]
    assert "incomplete" in _cli_error(cli, one_line_error, cut)
    run_ising(tmp_path, DECK4.replace(f"T = {' '.join(repr(float(t)) for t in T4)}", "T = 2.5")
              .replace("40000", "2000"), "--set", "output.file=single.h5")
    msg = _cli_error(cli, one_line_error, tmp_path / "single.h5")
    assert "not a temperature ladder" in msg
