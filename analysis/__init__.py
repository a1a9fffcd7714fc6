"""Python analysis of ising output files (Debian's python3-numpy, -h5py,
-scipy; -matplotlib for plots).

Modules, each also a command-line script (`/usr/bin/python3
analysis/ising_fss.py ...`):

* ising_output: validated reading of one output file;
* ising_autocorr: the integrated autocorrelation time (Gamma method);
* ising_freeenergy: free energies of a tempering ladder by MBAR;
* ising_fss: finite-size scaling (crossings, T_c, exponents).

`from analysis import ising_fss` works with the repository root on the path;
inside the package the modules import each other relatively, and as scripts
(or with analysis/ itself on the path) by their plain names.  The tests
(test_*.py, shared fixtures in conftest.py) run with pytest from ctest.
"""
