"""Finite-size scaling (ising_fss.py): error analysis, reweighting, FSS.

  * synthetic AR(1) series with known tau_int and variance: tau_int
    (ising_autocorr, the Gamma method: mean over many series within 10%, its
    error bar matches the scatter), binning (the plateau error matches the scatter of the means),
    the jackknife of a ratio;
  * a 4 x 4 tempering ladder run by `ising` (conftest.run_ising):
    the reweighted U4, e, <m^2>, <|m|> and c between the ladder points against
    an exact enumeration of the 2^16 states done here, within 4.5 error bars;
  * end to end: 2D L = 8, 12, 16 ladders 2.1 .. 2.6 (10 temperatures, 10^5
    sweeps each, correlation = yes, mpiexec -n 2 when available): T_c within
    2 error bars and 2% of 2 / ln(1 + sqrt 2), exponents near nu = 1,
    gamma/nu = 7/4, beta/nu = 1/8; the xi/L crossings and their T_c within 2%
    and 3 error bars of the exact T_c, the reweighted S0, Skmin against the
    plain means at the ladder points; without S0, Skmin no xi/L; the command
    line with --report and --png;
  * bad input: foreign, unreadable, unfinished and incomplete files, mixed
    models, one size only, duplicate sizes, series too short: one line on
    standard error naming the file, exit status 2.
"""
import math
import shutil

import h5py
import numpy as np
import pytest
from scipy.signal import lfilter

from analysis import ising_fss as fss
from analysis.ising_autocorr import tau_int

Z_MAX = 4.5
TC = 2.0 / math.log1p(math.sqrt(2.0))


def deck(L, seed, out, T_min=2.1, T_max=2.6, count=10, sweeps=100_000, ladder="linear",
         correlation=False):
    corr = "correlation = yes\nsk_every = 0\n" if correlation else ""
    return f"""[lattice]
L = {L}
[montecarlo]
sweeps = {sweeps}
thermalization = 5000
seed = {seed}
[tempering]
ladder = {ladder}
T_min = {T_min}
T_max = {T_max}
count = {count}
interval = 2
[measurement]
interval = 2
{corr}[output]
file = {out}
progress = 0
[parallel]
ranks_per_replica = 1
"""


def ar1(rng, phi, shape):
    """AR(1) x_t = phi x_{t-1} + eta_t, unit-variance noise, started
    stationary: var = 1 / (1 - phi^2), tau_int = (1 + phi) / (2 (1 - phi))."""
    eta = rng.normal(size=shape)
    eta[..., 0] /= math.sqrt(1 - phi * phi)
    return lfilter([1.0], [1.0, -phi], eta, axis=-1)


# ---------------------------------------------------------------- synthetic


def test_tau_int_ar1():
    rng = np.random.default_rng(5)
    phi = 0.9
    exact = (1 + phi) / (2 * (1 - phi))          # 9.5
    x = ar1(rng, phi, (60, 20_000))
    res = [tau_int(s) for s in x]
    taus = np.array([r[0] for r in res])
    errs = np.array([r[1] for r in res])
    assert np.mean(taus) == pytest.approx(exact, rel=0.10)
    assert np.median(np.abs(taus / exact - 1)) < 0.10
    # its error bar describes the scatter (within a factor 1.5)
    assert 1 / 1.5 < np.std(taus) / np.mean(errs) < 1.5
    # copies pooled, uncorrelated and constant data
    pooled = [tau_int(x[i:i + 4])[0] for i in range(0, len(x), 4)]
    assert np.mean(pooled) == pytest.approx(exact, rel=0.10)
    assert tau_int(rng.normal(size=50_000))[0] == pytest.approx(0.5, abs=0.05)
    assert tau_int(np.ones(100))[0] == 0.5


def test_binning_error_matches_scatter():
    rng = np.random.default_rng(6)
    phi, n = 0.8, 1 << 14
    exact_tau = (1 + phi) / (2 * (1 - phi))      # 4.5
    x = ar1(rng, phi, (300, n))
    b = [fss.binning(s) for s in x]
    scatter = np.std(x.mean(axis=1), ddof=1)
    exact_err = math.sqrt(2 * exact_tau / (1 - phi * phi) / n)
    err = np.array([r["error"] for r in b])
    assert np.mean(err) == pytest.approx(scatter, rel=0.10)
    assert np.mean(err) == pytest.approx(exact_err, rel=0.10)
    assert np.mean([r["plateau"] for r in b]) > 0.8
    assert np.mean([r["tau"] for r in b]) == pytest.approx(exact_tau, rel=0.10)
    # the levels are shown: bin sizes double, the naive error is level 0
    r = b[0]
    assert list(r["bin_size"][:3]) == [1, 2, 4] and r["n_bins"][-1] >= 32
    assert r["err"][0] == pytest.approx(np.std(x[0], ddof=1) / math.sqrt(n), rel=1e-9)


def test_jackknife_ratio():
    rng = np.random.default_rng(7)
    reps = []
    for _ in range(200):
        a = 2 + rng.normal(size=4000)
        b = 1 + 0.5 * rng.normal(size=4000)
        reps.append(fss.jackknife(lambda p, q: p / q, [a, b]))
    est = np.array([r[0] for r in reps])
    err = np.array([r[1] for r in reps])
    assert np.mean(est) == pytest.approx(2.0, rel=0.01)
    assert np.mean(err) == pytest.approx(np.std(est), rel=0.15)


# ------------------------------------------------- 4 x 4 against enumeration


@pytest.fixture(scope="module")
def l4(tmp_path_factory, run_ising):
    d = tmp_path_factory.mktemp("l4")
    run_ising(d, deck(4, 20261123, "l4.h5", T_min=1.5, T_max=6.0, count=8, sweeps=60_000,
                      ladder="geometric"))
    return str(d / "l4.h5")


def test_reweighting_against_enumeration(l4, exact_4x4):
    run = fss.check_autocorrelation(fss.read_run(l4))
    rw = fss.Reweighter(run)
    b = 1 / run.T
    mid = 1 / (0.5 * (b[1:] + b[:-1]))            # between the ladder points
    c = rw.curves(mid)
    ex = exact_4x4(mid)
    for name in ("U4", "e", "m2", "m_abs", "c"):
        z = (c[name] - ex[name]) / c[name + "_err"]
        assert np.max(np.abs(z)) < Z_MAX, (name, z)
    assert np.max(c["U4_err"]) < 0.01
    # power: the exact values at a 3% wrong temperature are rejected
    wrong = exact_4x4(mid * 1.03)
    assert np.max(np.abs((c["e"] - wrong["e"]) / c["e_err"])) > Z_MAX
    # at the ladder points the reweighting reproduces the plain means
    at = rw.curves(run.T)
    m2 = (run.m ** 2).mean(axis=(1, 2))
    assert np.max(np.abs(at["m2"] - m2) / at["m2_err"]) < Z_MAX


# ---------------------------------------------------------------- end to end


SIZES = (8, 12, 16)


@pytest.fixture(scope="module")
def fss_dir(tmp_path_factory, run_ising):
    d = tmp_path_factory.mktemp("fss")
    for L in SIZES:
        sub = d / f"run{L}"
        sub.mkdir()
        run_ising(sub, deck(L, 1000 + L, f"l{L}.h5", correlation=True), ranks=2)
        shutil.move(str(sub / f"l{L}.h5"), str(d / f"l{L}.h5"))
    return d


@pytest.fixture(scope="module")
def fss_result(fss_dir):
    return fss.analyse([str(fss_dir)])


def test_end_to_end_tc_and_exponents(fss_result):
    r = fss_result
    assert list(r["L"]) == list(SIZES) and len(r["crossings"]) == 2
    assert 0 < r["Tc_err"] < 0.02
    assert abs(r["Tc"] - TC) < 2 * r["Tc_err"], (r["Tc"], r["Tc_err"])
    assert abs(r["Tc"] - TC) < 0.02 * TC
    for c in r["crossings"]:
        assert abs(c["T"] - TC) < 0.02 * TC and c["err"] > 0
    # exponents (small sizes, corrections to scaling: loose)
    assert r["nu"] == pytest.approx(1.0, abs=0.1)
    assert r["gamma_nu_Tc"] == pytest.approx(1.75, abs=0.1)
    assert r["gamma_nu_peak"] == pytest.approx(1.75, abs=0.15)
    assert r["beta_nu"] == pytest.approx(0.125, abs=0.03)
    assert not [w for w in r["warnings"] if "short" in w]
    for b in r["binning"]:
        assert b["e"]["plateau"] or b["m_abs"]["plateau"]


def test_end_to_end_xi_over_L_crossings(fss_result):
    """correlation = yes: the reweighted second-moment xi/L of consecutive
    sizes cross near the exact T_c; a T_c estimate from them too."""
    r = fss_result
    xc = r["xi_crossings"]
    assert xc is not None and [(c["L1"], c["L2"]) for c in xc] == [(8, 12), (12, 16)]
    for c in xc:
        assert 0 < c["err"] < 0.02
        assert abs(c["T"] - TC) < 0.02 * TC, c
        assert abs(c["T"] - TC) < 3 * c["err"], c
    assert 0 < r["Tc_xi_err"] < 0.02
    assert abs(r["Tc_xi"] - TC) < 0.02 * TC
    assert abs(r["Tc_xi"] - TC) < 3 * r["Tc_xi_err"], (r["Tc_xi"], r["Tc_xi_err"])
    # xi/L at T_c near its universal value (0.9050 in 2D; small sizes: loose)
    for q in r["per_size"]:
        assert 0.8 < q["xi_L"] < 1.0 and q["xi_L_err"] > 0


def test_xi_over_L_reweighting_at_ladder_points(fss_result):
    """At the ladder points the reweighted <S0>, <Skmin> reproduce the plain
    means of the stored series, and xi/L is built from them."""
    rw = fss_result["reweighters"][-1]
    run = rw.run
    at = rw.curves(run.T)
    for name, x in (("S0", run.S0), ("Skmin", run.Skmin)):
        plain = x.mean(axis=(1, 2))
        assert np.max(np.abs(at[name] - plain) / at[name + "_err"]) < Z_MAX, name
    L = run.L
    xi = np.sqrt(at["S0"] / at["Skmin"] - 1) / (2 * math.sin(math.pi / L)) / L
    assert np.allclose(at["xi_L"], xi)
    # below T_c the larger lattice has the larger xi/L, above the smaller one
    small = fss_result["reweighters"][0]
    lo, hi = np.array([2.15]), np.array([2.5])
    assert rw.value(lo, "xi_L")[0] > small.value(lo, "xi_L")[0]
    assert rw.value(hi, "xi_L")[0] < small.value(hi, "xi_L")[0]


def test_no_correlation_series_no_xi(fss_dir, tmp_path):
    """Inputs without /timeseries/S0, Skmin (correlation = no): U4 only."""
    for L in SIZES[:2]:
        dst = tmp_path / f"l{L}.h5"
        shutil.copy(fss_dir / f"l{L}.h5", dst)
        with h5py.File(dst, "r+") as f:
            del f["timeseries/S0"], f["timeseries/Skmin"]
    r = fss.analyse([str(tmp_path)])
    assert r["xi_crossings"] is None and r["Tc_xi"] is None
    assert "xi/L" not in fss.format_report(r)


def test_cli_report_and_pngs(fss_dir, tmp_path, cli):
    pytest.importorskip("matplotlib")
    rep = tmp_path / "report.txt"
    files = [str(fss_dir / f"l{L}.h5") for L in SIZES]
    p = cli("ising_fss.py", *files, "--png", str(tmp_path / "p"), "--report", str(rep))
    assert p.returncode == 0, p.stderr
    text = rep.read_text()
    for key in ("T_c     =", "1/nu", "gamma/nu", "beta/nu", "U4 crossings", "Binning",
                "xi/L crossings", "(xi/L: "):
        assert key in text
    assert text.strip() in p.stdout
    for suffix in ("_U4.png", "_chi.png", "_collapse.png"):
        png = tmp_path / ("p" + suffix)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_short_series_warning(fss_dir, monkeypatch):
    monkeypatch.setattr(fss, "TAU_WARN", 1e9)
    runs = fss.load_runs([str(fss_dir)])
    assert all(any("short series" in w for w in r.warnings) for r in runs)


# ------------------------------------------------------------------ bad input


@pytest.fixture
def cli_error(cli, one_line_error):
    """cli_error(name, *paths): ising_fss.py on the paths fails naming `name`."""
    return lambda name, *paths: one_line_error(cli("ising_fss.py", *map(str, paths)), "ising_fss", name)


def test_cli_foreign_files(fss_dir, tmp_path, cli_error):
    l8 = str(fss_dir / "l8.h5")
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f.attrs["program"] = "something else"
    assert "not an ising output file" in cli_error("foreign.h5", l8, str(foreign))
    (tmp_path / "text.h5").write_text("not hdf5")
    cli_error("text.h5", l8, str(tmp_path / "text.h5"))
    cli_error("missing.h5", l8, str(tmp_path / "missing.h5"))
    empty = tmp_path / "empty"
    empty.mkdir()
    cli_error("empty", str(empty))


def test_cli_incomplete(fss_dir, tmp_path, cli_error):
    l12 = str(fss_dir / "l12.h5")
    running = tmp_path / "running.h5"
    shutil.copy(fss_dir / "l8.h5", running)
    with h5py.File(running, "r+") as f:
        f.attrs["status"] = np.bytes_("running")
    assert "not finished" in cli_error("running.h5", str(running), l12)
    cut = tmp_path / "cut.h5"
    shutil.copy(fss_dir / "l8.h5", cut)
    with h5py.File(cut, "r+") as f:
        del f["timeseries/m"]
    assert "incomplete" in cli_error("cut.h5", str(cut), l12)
    bad = tmp_path / "badcorr.h5"
    shutil.copy(fss_dir / "l8.h5", bad)
    with h5py.File(bad, "r+") as f:
        s0 = f["timeseries/S0"][...]
        del f["timeseries/S0"]
        f["timeseries/S0"] = s0[:, :, :-1]
    assert "S0" in cli_error("badcorr.h5", str(bad), l12)


def test_cli_mixed_models_and_sizes(fss_dir, tmp_path, cli_error):
    l8, l12 = str(fss_dir / "l8.h5"), str(fss_dir / "l12.h5")
    for name, value in (("J", 0.5), ("H", 0.1), ("algorithm", np.bytes_("heatbath")), ("dim", 3)):
        other = tmp_path / f"other_{name}.h5"
        shutil.copy(l12, other)
        with h5py.File(other, "r+") as f:
            f["parameters"].attrs[name] = value
        msg = cli_error(other.name, l8, str(other))
        assert "different model" in msg and name in msg
    assert "only one size" in cli_error("l8.h5", l8)
    dup = tmp_path / "dup.h5"
    shutil.copy(l8, dup)
    assert "also in" in cli_error("dup.h5", l8, str(dup), l12)


def test_cli_series_too_short(fss_dir, tmp_path, cli_error):
    """Strongly correlated series (tau_int ~ 100 measurements in 400): error."""
    short = tmp_path / "short.h5"
    shutil.copy(fss_dir / "l8.h5", short)
    rng = np.random.default_rng(1)
    with h5py.File(short, "r+") as f:
        K = f["timeseries/e"].shape[0]
        x = ar1(rng, 0.99, (K, 1, 400))
        del f["timeseries/e"], f["timeseries/m"], f["timeseries/S0"], f["timeseries/Skmin"]
        f["timeseries/e"] = -1.5 + 0.01 * x
        f["timeseries/m"] = 0.5 + 0.01 * x
    msg = cli_error("short.h5", str(short), str(fss_dir / "l12.h5"))
    assert "too short" in msg
