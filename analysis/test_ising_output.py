"""The output file as documented, checked from Python (run by ctest).

Runs `ising` (conftest.run_ising) on a small deck, then checks the layout
named in the README, the provenance attributes, and that the summary's means
equal the means of the stored time series (the file is self-consistent).
"""
import numpy as np
import pytest

from analysis import ising_output

DECK = """[lattice]
L = 8
[model]
T = 2.4
[montecarlo]
thermalization = 100
sweeps = 2000
seed = 5
[measurement]
interval = 2
"""


@pytest.fixture(scope="module")
def output(tmp_path_factory, run_ising):
    d = tmp_path_factory.mktemp("out")
    run_ising(d, DECK, "--set", "output.file=o.h5")
    return str(d / "o.h5")


def test_layout(output):
    data = ising_output.read(output)
    assert data["status"] == "finished"
    assert data["deck"].startswith("[lattice]")
    assert "--set output.file=o.h5" in data["deck"]
    p = data["parameters"]
    assert p["N"] == 64 and list(p["L"]) == [8, 8] and p["interval"] == 2
    ts = data["timeseries"]
    assert ts["e"].shape == (1, 1, 1000)
    assert list(ts["sweep"][:3]) == [101, 103, 105]
    for name in ising_output.SUMMARY_NAMES:
        assert data["summary"][name].shape == (1,)
        assert data["summary"][name + "_err"][0] > 0
    assert set(data["reference"]) == {"kaufman", "onsager"}


def test_summary_matches_series(output):
    data = ising_output.read(output)
    ts, s = data["timeseries"], data["summary"]
    for name in ("e", "m_abs", "m2", "m4"):
        assert s[name][0] == pytest.approx(np.mean(ts[name][0, 0]), rel=1e-12)
    m2, ma = np.mean(ts["m2"][0, 0]), np.mean(ts["m_abs"][0, 0])
    beta, N = 1 / 2.4, 64
    assert s["chi"][0] == pytest.approx(beta * N * (m2 - ma ** 2), rel=1e-9)
    assert s["U4"][0] == pytest.approx(1 - np.mean(ts["m4"][0, 0]) / (3 * m2 ** 2), rel=1e-9)
    # per-spin m^2 and m^4 are the squares of the stored m
    m = ts["m"][0, 0]
    assert np.array_equal(ts["m2"][0, 0], m * m)
    assert np.array_equal(ts["m_abs"][0, 0], np.abs(m))


def test_foreign_file_rejected(tmp_path):
    import h5py
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as f:
        f.attrs["program"] = "something else"
    with pytest.raises(ising_output.OutputError, match="foreign.h5: not an ising output file"):
        ising_output.read(str(path))
    (tmp_path / "text.h5").write_text("not hdf5")
    with pytest.raises(ising_output.OutputError, match="text.h5: not a readable HDF5 file"):
        ising_output.read(str(tmp_path / "text.h5"))
