#!/bin/bash
# tests/bench_cluster_u4.sh [ISING] -- what a user feels: the wall time to
# the Binder cumulant U4 at the 2D critical point to an error of 0.002 at
# L = 256, with Swendsen-Wang and with the local kernels (a benchmark, run by
# hand, not by ctest).  Each contender runs once on one rank (same machine,
# same deck apart from the algorithm and kernel, same sweep schedule logic);
# its time to the target is the measured wall time of the measured sweeps
# scaled by (U4_err / 0.002)^2 (errors fall as one over the square root of
# the run length once it is much longer than tau_int).  Prints a table and
# the ratio of each local kernel to swendsen-wang.
#
#   bash tests/bench_cluster_u4.sh [build/ising]
#
# Environment: U4_L (default 256), U4_TARGET (default 0.002), U4_SW_SWEEPS
# (default 20000), U4_LOCAL_SWEEPS (default 400000: about 100 tau_int of
# Metropolis at L = 256), U4_LOCAL_KERNELS (default "fast msc"), U4_OUT.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ISING=$(readlink -f "${1:-$ROOT/build/ising}")
L=${U4_L:-256}
TARGET=${U4_TARGET:-0.002}
OUT=${U4_OUT:-$(mktemp -d /tmp/ising-u4.XXXXXX)}
mkdir -p "$OUT"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
TC=2.269185314213022
grep -m1 "model name" /proc/cpuinfo || true
runs=""
for c in "swendsen-wang:-:${U4_SW_SWEEPS:-20000}:1000" \
         $(for k in ${U4_LOCAL_KERNELS:-fast msc}; do echo "metropolis:$k:${U4_LOCAL_SWEEPS:-400000}:40000"; done); do
  IFS=: read -r alg kernel sweeps therm <<< "$c"
  name=$alg${kernel#-}
  [ "$kernel" = - ] && name=$alg
  [ "$kernel" != - ] && name=$kernel
  {
    printf '[lattice]\ndim = 2\nL = %s\n[model]\nT = %s\n[montecarlo]\nalgorithm = %s\n' "$L" "$TC" "$alg"
    [ "$kernel" != - ] && printf 'kernel = %s\n' "$kernel"
    printf 'seed = 11\nthermalization = %s\nsweeps = %s\n' "$therm" "$sweeps"
    printf '[checkpoint]\nevery_minutes = 0\n[output]\nfile = %s/%s.h5\nprogress = 0\n' "$OUT" "$name"
  } > "$OUT/$name.ini"
  "$ISING" run "$OUT/$name.ini" --force > "$OUT/$name.log" 2>&1
  runs="$runs $name:$OUT/$name.h5:$therm"
done
/usr/bin/python3 - "$TARGET" $runs <<'EOF'
import sys
import h5py
target = float(sys.argv[1])
res = {}
print(f"| contender | sweeps | U4 | U4_err | sweep s (measured part) | projected s to U4_err {target} |")
print("| --- | --- | --- | --- | --- | --- |")
for item in sys.argv[2:]:
    name, path, therm = item.split(":")
    with h5py.File(path, "r") as f:
        U4, err = f["summary/U4"][0], f["summary/U4_err"][0]
        sweep_s = f["timing"].attrs["sweep"] + f["timing"].attrs["halo"]
        total = int(f.attrs["sweeps_done"])
    measured = total - int(therm)
    t = sweep_s * measured / total  # the thermalisation's share removed
    proj = t * (err / target) ** 2
    res[name] = proj
    print(f"| {name} | {measured} | {U4:.4f} | {err:.4f} | {t:.1f} | {proj:.1f} |")
sw = res.pop("swendsen-wang")
for k, v in res.items():
    print(f"{k} / swendsen-wang: {v / sw:.1f} times the wall time")
EOF
echo "outputs in $OUT"
