#!/bin/bash
# bench_corr.sh ISING [L] [NP] [REPEAT] -- the cost of a correlation
# measurement in sweeps (run by hand; figures quoted in the issue notes).
#
# Three runs of the same 2D L x L deck (T = 2.5, SWEEPS sweeps, a
# measurement every 10 sweeps) on NP ranks, each REPEAT times, the fastest
# kept; the time is the output's wall_seconds (the sweep loop with its
# measurements and output, without set-up and FFTW planning):
#   plain  correlation = no
#   kmin   correlation = yes, sk_every = 0  (exact S(0), S(k_min) only)
#   full   correlation = yes, sk_every = 1  (FFT at every measurement)
# and prints the time per sweep of the plain run and the extra time per
# measurement of the other two, in sweeps: (t_run - t_plain) / measurements
# / (t_plain / sweeps).  Defaults: L = 1024, NP = 2, REPEAT = 3.
set -eu
ising=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); L=${2:-1024}; np=${3:-2}; repeat=${4:-3}
sweeps=${SWEEPS:-400}; interval=10
work=$(mktemp -d "${TMPDIR:-/tmp}/ising-bcorr-XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > b.ini <<DECK
[lattice]
L = $L
[model]
T = 2.5
[montecarlo]
seed = 3
thermalization = 0
sweeps = $sweeps
[measurement]
interval = $interval
[output]
progress = 0
DECK
wall() { # wall CORRELATION SK_EVERY: the fastest wall_seconds of REPEAT runs
  local best=
  for i in $(seq "$repeat"); do
    mpiexec -q -n "$np" --oversubscribe "$ising" run b.ini --quiet --force --set output.file=b.h5 \
      --set measurement.correlation="$1" --set measurement.sk_every="$2" > /dev/null
    t=$(/usr/bin/python3 -c 'import h5py; print(h5py.File("b.h5", "r").attrs["wall_seconds"])')
    best=$(/usr/bin/python3 -c "print(min(float('$t'), float('${best:-inf}')))")
  done
  echo "$best"
}
t0=$(wall no 0); t1=$(wall yes 0); t2=$(wall yes 1)
/usr/bin/python3 - "$t0" "$t1" "$t2" "$sweeps" "$interval" "$L" "$np" <<'PY'
import sys
t0, t1, t2 = map(float, sys.argv[1:4]); sweeps, interval, L, np = map(int, sys.argv[4:8])
m = sweeps // interval
sweep = t0 / sweeps
print(f"2D L={L} on {np} ranks, {sweeps} sweeps, {m} measurements (best wall seconds: "
      f"plain {t0:.3f}, kmin {t1:.3f}, full {t2:.3f})")
print(f"  sweep                          {1e3 * sweep:8.3f} ms")
print(f"  S(0), S(k_min) measurement     {1e3 * (t1 - t0) / m:8.3f} ms = {(t1 - t0) / m / sweep:5.2f} sweeps")
print(f"  full S(k) (FFT) measurement    {1e3 * (t2 - t0) / m:8.3f} ms = {(t2 - t0) / m / sweep:5.2f} sweeps")
PY
