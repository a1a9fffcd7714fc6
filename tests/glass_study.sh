#!/bin/bash
# tests/glass_study.sh [ISING] -- the spin-glass target studies of the
# quenched-disorder issue, run by hand (a benchmark, not part of ctest), on
# 2 ranks (ranks_per_replica = 1: whole samples per rank):
#  3d: the 3D bimodal Edwards-Anderson spin glass, L = 4, 6, 8, a geometric
#      ladder 0.9 .. 2.0 (GLASS_3D_TEMPS temperatures), two copies, 400
#      samples at L = 4 and 6 and 200 at L = 8 (GLASS_3D_SIZES, L:samples:
#      sweeps), tempering every sweep, measurements every 8 sweeps;
#  2d: the 2D bimodal spin glass (T_c = 0), L = 4, 8, 12, ladder 0.5 .. 1.5,
#      200 samples each (GLASS_2D_SIZES).
# Each run prints its log-binned equilibration check; analysis/ising_fss.py
# then reports the crossings of xi_SG/L and g of consecutive sizes.  Prints
# the wall time of each part.
#
#   bash tests/glass_study.sh [build/ising] [3d|2d|both]
#
# Environment: GLASS_KERNEL (default msc-async: samples x temperatures x 2
# copies fill its sets of 64 lanes), GLASS_OUT (default a fresh
# /tmp/ising-glass.XXXXXX, kept), GLASS_SEED (disorder seed, default 1).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ISING=$(readlink -f "${1:-$ROOT/build/ising}")
WHAT=${2:-both}
OUT=${GLASS_OUT:-$(mktemp -d /tmp/ising-glass.XXXXXX)}
mkdir -p "$OUT" && cd "$OUT" || exit 2
KERNEL=${GLASS_KERNEL:-msc-async}
SEED=${GLASS_SEED:-1}
run_sizes() { # run_sizes TAG DIM TMIN TMAX COUNT SIZES
  local tag=$1 dim=$2 tmin=$3 tmax=$4 count=$5 sizes=$6 files="" t0 t1
  t0=$(date +%s)
  for spec in $sizes; do
    IFS=: read -r L S sweeps <<< "$spec"
    cat > $tag-L$L.ini <<DECK
[lattice]
dim = $dim
L = $L
[model]
J = 1.0
[montecarlo]
kernel = $KERNEL
copies = 2
seed = $((100 + L))
thermalization = $sweeps
sweeps = $sweeps
[tempering]
ladder = geometric
T_min = $tmin
T_max = $tmax
count = $count
interval = 1
[measurement]
interval = 8
[disorder]
couplings = bimodal
samples = $S
seed = $SEED
[parallel]
ranks_per_replica = 1
[output]
file = $tag-L$L.h5
progress = 60
DECK
    local s0=$(date +%s)
    mpiexec -q -n 2 "$ISING" run $tag-L$L.ini --force > $tag-L$L.log 2>&1 || { echo "$tag L=$L failed:"; tail -5 $tag-L$L.log; exit 2; }
    echo "$tag L=$L: $S samples x $count temperatures x 2 copies, $sweeps + $sweeps sweeps: $(( $(date +%s) - s0 )) s"
    grep "^equilibration" $tag-L$L.log
    files="$files $tag-L$L.h5"
  done
  t1=$(date +%s)
  echo "$tag: all sizes in $((t1 - t0)) s on 2 ranks"
  /usr/bin/python3 "$ROOT/analysis/ising_fss.py" $files > $tag-fss.txt 2>&1
  cat $tag-fss.txt
}
export OMPI_MCA_rmaps_base_oversubscribe=1
if [ "$WHAT" = 3d ] || [ "$WHAT" = both ]; then
  run_sizes ea3d 3 0.9 2.0 ${GLASS_3D_TEMPS:-12} "${GLASS_3D_SIZES:-4:400:4096 6:400:8192 8:200:16384}"
fi
if [ "$WHAT" = 2d ] || [ "$WHAT" = both ]; then
  run_sizes ea2d 2 0.5 1.5 ${GLASS_2D_TEMPS:-12} "${GLASS_2D_SIZES:-4:200:4096 8:200:8192 12:200:16384}"
fi
echo "outputs in $OUT"
