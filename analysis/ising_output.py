"""Read ising output files (README: "Output file") with h5py.

A small, dependency-light reader: it checks that a file was written by this
program in a format version it knows, and returns the summary, the exact
references and the time series as NumPy arrays.  The full analysis package
(error analysis, reweighting, finite-size scaling) builds on it.

    python3 analysis/ising_output.py build/default.h5     # prints the summary
"""
import sys

import h5py
import numpy as np

FORMAT_VERSIONS = (1,)
SUMMARY_NAMES = ("e", "m_abs", "m2", "m4", "U4", "chi", "chi_p", "c")


class OutputError(Exception):
    """The file is not a (complete) ising output file."""


def _attr_str(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def open_output(path):
    """Open `path` read-only and validate it; raises OutputError with the file name."""
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise OutputError(f"{path}: not a readable HDF5 file ({exc})") from None
    if _attr_str(f.attrs.get("program", "")) != "ising":
        f.close()
        raise OutputError(f"{path}: not an ising output file (no program='ising' attribute)")
    version = int(f.attrs.get("format_version", -1))
    if version not in FORMAT_VERSIONS:
        f.close()
        raise OutputError(f"{path}: format_version {version} is not one of {FORMAT_VERSIONS}")
    return f


def read(path):
    """Everything a script needs from one output file, as plain Python/NumPy."""
    with open_output(path) as f:
        status = _attr_str(f.attrs["status"])
        out = {
            "path": path,
            "status": status,
            "parameters": {k: (v if not isinstance(v, bytes) else v.decode())
                           for k, v in f["parameters"].attrs.items()},
            "deck": _attr_str(f["deck"][()]),
            "timeseries": {k: np.asarray(f["timeseries"][k]) for k in f["timeseries"]},
            "summary": {}, "reference": {},
        }
        if "summary" in f:
            out["summary"] = {k: np.asarray(f["summary"][k]) for k in f["summary"]}
        if "reference" in f:
            for group in f["reference"]:
                out["reference"][group] = {k: np.asarray(f["reference"][group][k])
                                           for k in f["reference"][group]}
        return out


def main(argv):
    if len(argv) != 2:
        print("usage: ising_output.py FILE.h5", file=sys.stderr)
        return 2
    try:
        data = read(argv[1])
    except OutputError as exc:
        print(f"ising_output: error: {exc}", file=sys.stderr)
        return 2
    p = data["parameters"]
    print(f"{argv[1]}: status {data['status']}, {p['dim']}D L={list(p['L'])}, T={p['T']}")
    s = data["summary"]
    for name in SUMMARY_NAMES:
        if name in s:
            print(f"  {name:6s} {s[name][0]: .8f} +- {s[name + '_err'][0]:.8f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
