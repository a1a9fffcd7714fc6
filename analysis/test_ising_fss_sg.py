"""Finite-size scaling of spin-glass studies (ising_fss.py, files with
/summary/xi_sg_over_L): crossings of xi_SG/L and of the Binder ratio g.

  * synthetic output files (h5py, the layout of a [disorder] run: /parameters
    with samples, couplings, fields; /summary/{q2,q4,g,chi_sg,xi_sg,
    xi_sg_over_L,ql} and *_err; /samples; /timeseries) whose curves scale as
    f((T - T_c) L^(1/nu)) with T_c = 1.1, plus noise below the error bars:
    every crossing of consecutive sizes lies within 3 error bars of T_c, the
    noise-free curves put it within 0.005 of T_c (linear interpolation), and
    over 100 noise realisations the reported error matches the scatter of
    T* within 25%;
  * a non-crossing family (2D bimodal-like: T_c = 0, xi_SG/L of L = 4, 8, 12
    falls with L at every T in [0.5, 2]): no crossing, said so, no T_c;
  * a crossing after which the curves agree within errors: not significant;
  * one sample (NaN errors): crossings without errors, a warning;
  * files without the spin-glass columns go to the ferromagnet analysis as
    before (its own tests: test_ising_fss.py); mixed sets, a forced mode that
    does not fit, one size, mixed models: one line on standard error, exit 2;
  * the command line (--report, --png, --resamples, --seed) and, when the
    ising binary is there, the real output of a small [disorder] run.
"""
import math

import h5py
import numpy as np
import pytest

from analysis import ising_fss as fss

TC = 1.1
INV_NU = 0.4                   # 3D EA: nu ~ 2.5
LADDER = np.geomspace(0.9, 2.0, 16)


def xi_scaling(T, L):
    return 0.35 * (1.0 - np.tanh((T - TC) * L ** INV_NU)) + 0.05


def g_scaling(T, L):
    return 0.5 * (1.0 - np.tanh(1.5 * (T - TC) * L ** INV_NU))


def write_sg_file(path, L, T, xi, xi_err, g, g_err, dim=3, couplings="bimodal",
                  fields="none", samples=20, copies=2, n=8, status="finished"):
    """An output file of a [disorder] run with the given xi_SG/L and g curves
    (the other overlap columns consistent with them), laid out as the engine
    writes it (README: "Output file")."""
    T = np.asarray(T, dtype=float)
    K, N = len(T), L ** dim
    rng = np.random.default_rng(L)
    q2 = 0.5 / (1.0 + T)                       # any smooth [<q^2>]
    q4 = (3.0 - 2.0 * np.asarray(g)) * q2 * q2 / 1.0
    summary = {"q2": q2, "q4": q4, "g": np.asarray(g, dtype=float), "chi_sg": N * q2,
               "xi_sg": L * np.asarray(xi, dtype=float),
               "xi_sg_over_L": np.asarray(xi, dtype=float), "ql": 1.0 - 0.3 * T}
    errors = {"q2": 0.01 * q2, "q4": 0.01 * q4, "g": np.asarray(g_err, dtype=float),
              "chi_sg": 0.01 * N * q2, "xi_sg": L * np.asarray(xi_err, dtype=float),
              "xi_sg_over_L": np.asarray(xi_err, dtype=float), "ql": np.full(K, 1e-3)}
    with h5py.File(path, "w") as f:
        f.attrs["program"] = np.bytes_("ising")
        f.attrs["format_version"] = 1
        f.attrs["status"] = np.bytes_(status)
        f.attrs["sweeps_done"] = 1000
        f["deck"] = np.bytes_("[lattice]\n")
        p = f.create_group("parameters").attrs
        for k, v in (("dim", dim), ("L", np.full(dim, L)), ("N", N), ("J", 1.0), ("H", 0.0),
                     ("T", T), ("beta", 1.0 / T), ("seed", 1), ("thermalization", 100),
                     ("sweeps", 1000), ("interval", 1), ("copies", copies),
                     ("exchange_interval", 1), ("adapt_rounds", 5), ("ranks_per_replica", 0),
                     ("replica_groups", 1), ("samples", samples), ("bond_dilution", 0.0),
                     ("field_strength", 0.0 if fields == "none" else 2.0),
                     ("disorder_seed", 1), ("overlap", 1)):
            p[k] = v
        for k, v in (("algorithm", "metropolis"), ("start", "hot"), ("kernel", "fast"),
                     ("ladder", "geometric"), ("adapt", "none"), ("couplings", couplings),
                     ("fields", fields), ("disorder_file", "")):
            p[k] = np.bytes_(v)
        s = f.create_group("summary")
        s["T"] = T
        for k in ("e", "c", "m_abs", "m2"):
            s[k] = rng.normal(size=K)
            s[k + "_err"] = np.full(K, 0.01)
        for k in fss.SG_NAMES:
            s[k] = summary[k]
            s[k + "_err"] = errors[k]
        smp = f.create_group("samples")
        for k in ("e", "m_abs", "m2", "q2", "q4", "q_abs", "ql"):
            smp[k] = rng.random((samples, K))
            smp[k + "_err"] = np.full((samples, K), 0.01)
        ts = f.create_group("timeseries")
        for k in ("e", "m"):
            ts[k] = rng.normal(size=(K, samples * copies, n))
        for k in ("q", "ql", "sq_kmin"):
            ts[k] = rng.random((K, samples * copies * (copies - 1) // 2, n))
    return str(path)


def scaling_files(directory, sizes=(4, 8, 16), err=0.005, noise=0.5, seed=1, T=LADDER,
                  xi_fn=xi_scaling, g_fn=g_scaling, **kw):
    """One file per size with the scaling curves, Gaussian noise of
    `noise` x the error bars (relative errors when err is a function)."""
    rng = np.random.default_rng(seed)
    paths = []
    for L in sizes:
        xi, g = xi_fn(T, L), g_fn(T, L)
        xe = err(xi) if callable(err) else np.full(len(T), err)
        ge = err(g) if callable(err) else np.full(len(T), err)
        xi = xi + noise * xe * rng.standard_normal(len(T))
        g = g + noise * ge * rng.standard_normal(len(T))
        paths.append(write_sg_file(directory / f"sg{L}.h5", L, T, xi, xe, g, ge, **kw))
    return paths


def curves_of(L, xi, xe, g, ge, T=LADDER, n_reps=200, seed=0):
    """SGCurves of in-memory curves (no file)."""
    val = {n: np.full(len(T), 0.5) for n in fss.SG_NAMES}
    err = {n: np.full(len(T), 0.01) for n in fss.SG_NAMES}
    val["xi_sg_over_L"], err["xi_sg_over_L"] = np.asarray(xi, float), np.asarray(xe, float)
    val["g"], err["g"] = np.asarray(g, float), np.asarray(ge, float)
    run = fss.SGRun(path=f"L{L}", L=L, N=L ** 3, dim=3, model={}, samples=100, copies=2,
                    T=np.asarray(T, float), val=val, err=err)
    return fss.SGCurves(run, n_reps, seed)


# ---------------------------------------------------------------- crossings


def test_known_crossing_found_within_error(tmp_path):
    r = fss.analyse(scaling_files(tmp_path))
    assert r["kind"] == "spin-glass" and list(r["L"]) == [4, 8, 16]
    for name, _ in fss.SG_CROSS:
        cross = r[f"{name}_crossings"]
        assert [(c["L1"], c["L2"]) for c in cross] == [(4, 8), (8, 16)]
        for c in cross:
            assert c["T"] is not None and 0 < c["err"] < 0.1, c
            assert abs(c["T"] - TC) < 3 * c["err"], (name, c["T"], c["err"])
            assert c["significant"], c["note"]
        assert r[f"Tc_{name}"] == cross[-1]["T"] and r[f"Tc_{name}_from"] == (8, 16)
    text = fss.format_report(r)
    assert "xi_SG/L:" in text and "T_c (g) =" in text and "T_c (xi_SG/L) =" in text
    assert "no crossing" not in text and "NOT SIGNIFICANT" not in text


def test_noise_free_crossing_bias():
    """Linear interpolation between 16 geometric ladder points: the crossing
    of the exact scaling curves lies within 0.005 of T_c."""
    for L1, L2 in ((4, 8), (8, 16)):
        c = [curves_of(L, xi_scaling(LADDER, L), np.full(16, 0.005), g_scaling(LADDER, L),
                       np.full(16, 0.005), n_reps=50) for L in (L1, L2)]
        for name, _ in fss.SG_CROSS:
            t, err = fss.crossing(c[0], c[1], name)
            assert abs(t - TC) < 0.005, (name, L1, L2, t)
            assert err > 0


def test_crossing_error_matches_scatter():
    """Over 100 realisations of the noise (the full error bars), the reported
    error of T* (resampling) matches the scatter of T* within 25%, and the
    mean T* is T_c within 3 standard errors (plus the interpolation bias)."""
    rng = np.random.default_rng(17)
    err = 0.005
    out = {name: ([], []) for name, _ in fss.SG_CROSS}
    for it in range(100):
        c = []
        for L in (8, 16):
            xi = xi_scaling(LADDER, L) + err * rng.standard_normal(16)
            g = g_scaling(LADDER, L) + err * rng.standard_normal(16)
            c.append(curves_of(L, xi, np.full(16, err), g, np.full(16, err), n_reps=100,
                               seed=it))
        for name, _ in fss.SG_CROSS:
            t, e = fss.crossing(c[0], c[1], name)
            out[name][0].append(t)
            out[name][1].append(e)
    for name, (ts, es) in out.items():
        ts, es = np.array(ts), np.array(es)
        ratio = np.mean(es) / np.std(ts, ddof=1)
        assert 0.8 < ratio < 1.25, (name, ratio)
        assert abs(np.mean(ts) - TC) < 3 * np.std(ts) / 10 + 0.005, (name, np.mean(ts))


def test_no_crossing_2d_like(tmp_path):
    """T_c = 0 (2D bimodal EA): xi_SG/L and g fall with L at every T > 0, so
    L = 4, 8, 12 do not cross in [0.5, 2]: reported as such, no T_c."""
    def xi2(T, L):
        return 0.9 * np.exp(-0.5 * T * L ** 0.5)

    def g2(T, L):
        return np.exp(-0.4 * T * L ** 0.5)

    T = np.linspace(0.5, 2.0, 13)
    paths = scaling_files(tmp_path, sizes=(4, 8, 12), err=lambda y: 0.02 * y, T=T,
                          xi_fn=xi2, g_fn=g2, dim=2)
    r = fss.analyse(paths)
    for name, _ in fss.SG_CROSS:
        for c in r[f"{name}_crossings"]:
            assert c["T"] is None and c["err"] is None
            assert "no crossing in [0.5, 2]" in c["note"] and "below" in c["note"], c["note"]
        assert r[f"Tc_{name}"] is None
    text = fss.format_report(r)
    assert text.count("no crossing in [0.5, 2]") == 4
    assert "T_c (xi_SG/L): no estimate" in text and "T_c (g): no estimate" in text


def test_crossing_above_the_range_said_so():
    """Curves whose larger size lies above throughout (ordered side)."""
    c = [curves_of(L, 0.2 + 0.1 * L - 0.05 * LADDER, np.full(16, 0.01), 0.9 + 0.0 * LADDER,
                   np.full(16, 0.01)) for L in (4, 8)]
    p = fss.sg_pair(c[0], c[1], "xi_sg_over_L")
    assert p["T"] is None and "above" in p["note"] and "above T = 2" in p["note"]


def test_weak_crossing_not_significant():
    """A crossing after which the curves agree within their errors: found,
    flagged, and not used for T_c."""
    d = np.where(LADDER < 1.3, -0.2 * (1.3 - LADDER), 0.001 * (LADDER - 1.29))
    base = 0.5 - 0.1 * LADDER
    e = np.full(16, 0.01)
    c = [curves_of(4, base, e, base, e), curves_of(8, base - d, e, base - d, e)]
    p = fss.sg_pair(c[0], c[1], "g")
    assert p["T"] is not None and abs(p["T"] - 1.3) < 0.1
    assert not p["significant"] and "above T* the curves agree" in p["note"]


def test_one_sample_no_errors(tmp_path):
    """samples = 1: g and xi errors are NaN: crossings without errors, a
    warning, no T_c from them."""
    paths = scaling_files(tmp_path, sizes=(4, 8), noise=0.0, samples=1)
    for p in paths:
        with h5py.File(p, "r+") as f:
            f["summary/g_err"][...] = np.nan
            f["summary/xi_sg_over_L_err"][...] = np.nan
    r = fss.analyse(paths)
    for name, _ in fss.SG_CROSS:
        c = r[f"{name}_crossings"][0]
        assert abs(c["T"] - TC) < 0.01 and math.isnan(c["err"]) and not c["significant"]
        assert r[f"Tc_{name}"] is None
    assert any("no error bars" in w for w in r["warnings"])


def test_nan_points_left_out(tmp_path):
    """xi_SG undefined at some temperatures (NaN): the curve leaves them out,
    with a warning; the crossing is still found."""
    paths = scaling_files(tmp_path, sizes=(8, 16))
    with h5py.File(paths[0], "r+") as f:
        x = f["summary/xi_sg_over_L"][...]
        x[-2:] = np.nan
        f["summary/xi_sg_over_L"][...] = x
    r = fss.analyse(paths)
    c = r["xi_sg_over_L_crossings"][0]
    assert abs(c["T"] - TC) < 3 * c["err"]
    assert any("NaN" in w for w in r["warnings"])


# ------------------------------------------------------- study kind, bad input


def test_study_kind(tmp_path):
    paths = scaling_files(tmp_path, sizes=(4, 8))
    assert fss.study_kind(paths) == "spin-glass"
    plain = tmp_path / "plain.h5"
    write_sg_file(plain, 12, LADDER, xi_scaling(LADDER, 12), np.full(16, 0.01),
                  g_scaling(LADDER, 12), np.full(16, 0.01))
    with h5py.File(plain, "r+") as f:
        for k in fss.SG_NAMES:
            del f["summary/" + k], f["summary/" + k + "_err"]
    assert fss.study_kind([str(plain)]) == "ferromagnet"
    with pytest.raises(fss.FSSError, match="plain.h5: no /summary/xi_sg_over_L"):
        fss.study_kind(paths + [str(plain)])
    with pytest.raises(fss.FSSError, match="disorder samples"):
        fss.study_kind(paths, "ferromagnet")


@pytest.fixture
def cli_error(cli, one_line_error):
    """cli_error(name, *args): ising_fss.py on args fails naming `name`."""
    return lambda name, *args: one_line_error(cli("ising_fss.py", *map(str, args)),
                                              "ising_fss", name)


def test_cli_bad_input(tmp_path, cli_error):
    p4, p8 = scaling_files(tmp_path, sizes=(4, 8))
    plain = tmp_path / "plain.h5"
    write_sg_file(plain, 12, LADDER, xi_scaling(LADDER, 12), np.full(16, 0.01),
                  g_scaling(LADDER, 12), np.full(16, 0.01))
    with h5py.File(plain, "r+") as f:
        del f["summary/xi_sg_over_L"]
    assert "every file" in cli_error("plain.h5", p4, p8, plain)
    assert "spin-glass" in cli_error("sg4.h5", "--mode", "ferromagnet", p4, p8)
    assert "overlap" in cli_error("plain.h5", "--mode", "spin-glass", plain)
    assert "only one size" in cli_error("sg4.h5", p4)
    other = tmp_path / "other.h5"
    write_sg_file(other, 16, LADDER, xi_scaling(LADDER, 16), np.full(16, 0.01),
                  g_scaling(LADDER, 16), np.full(16, 0.01), couplings="gaussian")
    msg = cli_error("other.h5", p4, p8, other)
    assert "different model" in msg and "couplings" in msg
    dup = tmp_path / "dup.h5"
    write_sg_file(dup, 8, LADDER, xi_scaling(LADDER, 8), np.full(16, 0.01),
                  g_scaling(LADDER, 8), np.full(16, 0.01))
    assert "also in" in cli_error("dup.h5", p4, p8, dup)
    running = tmp_path / "running.h5"
    write_sg_file(running, 12, LADDER, xi_scaling(LADDER, 12), np.full(16, 0.01),
                  g_scaling(LADDER, 12), np.full(16, 0.01), status="running")
    assert "not finished" in cli_error("running.h5", p4, running)
    cut = tmp_path / "cut.h5"
    write_sg_file(cut, 12, LADDER, xi_scaling(LADDER, 12), np.full(16, 0.01),
                  g_scaling(LADDER, 12), np.full(16, 0.01))
    with h5py.File(cut, "r+") as f:
        del f["summary/g_err"]
    assert "incomplete" in cli_error("cut.h5", p4, cut)
    short = tmp_path / "short.h5"
    write_sg_file(short, 12, LADDER, xi_scaling(LADDER, 12), np.full(16, 0.01),
                  g_scaling(LADDER, 12), np.full(16, 0.01))
    with h5py.File(short, "r+") as f:
        g = f["summary/g"][:-1]
        del f["summary/g"]
        f["summary/g"] = g
    assert "does not match" in cli_error("short.h5", p4, short)


def test_cli_report_and_png(tmp_path, cli):
    pytest.importorskip("matplotlib")
    paths = scaling_files(tmp_path)
    rep = tmp_path / "report.txt"
    p = cli("ising_fss.py", str(tmp_path), "--png", str(tmp_path / "p"), "--report", str(rep),
            "--resamples", "100", "--seed", "3")
    assert p.returncode == 0, p.stderr
    text = rep.read_text()
    assert text.strip() in p.stdout
    for key in ("Finite-size scaling (spin glass): 3D, couplings bimodal",
                "20 samples x 2 copies", "errors from 100 resamplings", "xi_SG/L:", "g:",
                "Curves at the ladder points"):
        assert key in text, key
    png = tmp_path / "p_sg.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    # the same seed gives the same errors; another seed nearly the same
    again = cli("ising_fss.py", *paths, "--resamples", "100", "--seed", "3")
    assert again.stdout == p.stdout.replace(f"wrote {tmp_path / 'p'}_sg.png\n", "")
    q = cli("ising_fss.py", *paths, "--resamples", "1")
    assert q.returncode == 2 and "--resamples" in q.stderr


# ------------------------------------------------------------ real output


def test_real_disorder_output(tmp_path, run_ising):
    """A small [disorder] run of the ising binary (uniform couplings, 4
    samples, 2 copies, 3D L = 4 and 6 around the ferromagnet's T_c = 4.51):
    its files are read as a spin-glass study, the curves are the file's, and
    both crossings are found in the ladder."""
    paths = []
    for L in (4, 6):
        d = tmp_path / f"run{L}"
        d.mkdir()
        run_ising(d, f"""[lattice]
dim = 3
L = {L}
[montecarlo]
kernel = reference
seed = {L}
thermalization = 500
sweeps = 3000
copies = 2
[tempering]
ladder = linear
T_min = 3.5
T_max = 6.0
count = 6
interval = 1
[disorder]
couplings = uniform
samples = 4
[output]
file = l{L}.h5
progress = 0
""")
        paths.append(str(d / f"l{L}.h5"))
    r = fss.analyse(paths)
    assert r["kind"] == "spin-glass" and r["model"]["couplings"] == "uniform"
    for run in r["runs"]:
        assert run.samples == 4 and run.copies == 2 and len(run.T) == 6
        with h5py.File(run.path, "r") as f:
            assert np.array_equal(run.val["g"], f["summary/g"][...], equal_nan=True)
            assert f["samples/q2"].shape == (4, 6)
    for name, _ in fss.SG_CROSS:
        c = r[f"{name}_crossings"][0]
        assert c["T"] is not None and 3.5 < c["T"] < 6.0, c
