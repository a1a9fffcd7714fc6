#!/bin/bash
# tests/bench_cluster_tau.sh [ISING] -- autocorrelation times of the cluster
# algorithms at the 2D critical point (a benchmark, run by hand, not by
# ctest): for each algorithm (swendsen-wang, wolff, and the local `fast`
# kernel for comparison up to L = 128) and L = 16 .. 512, one `ising run` at
# T_c = 2 / ln(1 + sqrt 2) on one rank, then tau_int(e) and tau_int(|m|) in
# sweeps by the Gamma method (analysis/ising_autocorr.py) and a fit of
# tau ~ L^z over the sizes (and of tau ~ a + b ln L for swendsen-wang).
#
#   bash tests/bench_cluster_tau.sh [build/ising]
#
# Environment: TAU_SIZES (default "16 32 64 128 256 512"), TAU_ALGORITHMS
# (default "swendsen-wang wolff"), TAU_SWEEPS (sweeps per run, default
# 20000; halved at L = 256 and again at 512), TAU_LOCAL_MAX (largest L of
# the local comparison, default 64; 0: none), TAU_OUT (directory of the
# outputs, default a fresh /tmp directory).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ISING=$(readlink -f "${1:-$ROOT/build/ising}")
SIZES=${TAU_SIZES:-"16 32 64 128 256 512"}
ALGS=${TAU_ALGORITHMS:-"swendsen-wang wolff"}
SWEEPS=${TAU_SWEEPS:-20000}
LOCAL_MAX=${TAU_LOCAL_MAX:-64}
OUT=${TAU_OUT:-$(mktemp -d /tmp/ising-tau.XXXXXX)}
mkdir -p "$OUT"
export OMPI_MCA_rmaps_base_oversubscribe=1
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
TC=2.269185314213022
runs=""
for alg in $ALGS local; do
  for L in $SIZES; do
    if [ "$alg" = local ] && [ "$L" -gt "$LOCAL_MAX" ]; then continue; fi
    n=$SWEEPS
    [ "$L" -ge 256 ] && n=$((n / 2))
    [ "$L" -ge 512 ] && n=$((n / 2))
    [ "$alg" = local ] && n=$((n * 50))
    key="[montecarlo] algorithm = $alg"
    [ "$alg" = local ] && key="[montecarlo] algorithm = metropolis"
    f="$OUT/$alg-L$L.h5"
    cat > "$OUT/$alg-L$L.ini" <<EOF
[lattice]
dim = 2
L = $L
[model]
T = $TC
[montecarlo]
${key#\[montecarlo\] }
seed = 7
thermalization = 2000
sweeps = $n
[checkpoint]
every_minutes = 0
[output]
file = $f
progress = 0
EOF
    start=$(date +%s.%N)
    "$ISING" run "$OUT/$alg-L$L.ini" --force > "$OUT/$alg-L$L.log" 2>&1
    end=$(date +%s.%N)
    runs="$runs $alg:$L:$f:$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}')"
  done
done
PYTHONPATH="$ROOT" /usr/bin/python3 - $runs <<'EOF'
import sys
import h5py
import numpy as np
from analysis.ising_autocorr import tau_int

rows = {}
print("| algorithm | L | sweeps | tau_int(e) | tau_int(abs m) | wall s |")
print("| --- | --- | --- | --- | --- | --- |")
for item in sys.argv[1:]:
    alg, L, path, wall = item.split(":")
    with h5py.File(path, "r") as f:
        e = f["timeseries/e"][0, 0, :]
        m = f["timeseries/m_abs"][0, 0, :]
    te, dte, _ = tau_int(e)
    tm, dtm, _ = tau_int(m)
    rows.setdefault(alg, []).append((int(L), te, dte, tm, dtm))
    print(f"| {alg} | {L} | {len(e)} | {te:.2f} +- {dte:.2f} | {tm:.2f} +- {dtm:.2f} | {wall} |")
print()
for alg, r in rows.items():
    r.sort()
    L = np.array([x[0] for x in r], float)
    for name, col, ecol in (("e", 1, 2), ("|m|", 3, 4)):
        t = np.array([x[col] for x in r])
        dt = np.array([max(x[ecol], 1e-3) for x in r])
        if len(L) < 2:
            continue
        w = (t / dt) ** 2
        z, c = np.polyfit(np.log(L), np.log(t), 1, w=np.sqrt(w))
        msg = f"{alg}: tau_int({name}) ~ L^z, z = {z:.3f} (fit over L = {int(L[0])} .. {int(L[-1])})"
        if alg == "swendsen-wang":
            b, a = np.polyfit(np.log(L), t, 1, w=1 / dt)
            msg += f"; tau = {a:.2f} + {b:.2f} ln L"
        print(msg)
EOF
echo "outputs in $OUT"
