#!/bin/sh
# bench_tempering.sh [ISING] [ROUNDS] [K] -- cost of replica exchange: 2D L=256,
# 16 temperatures, 2 ranks, an exchange attempt every K (10) sweeps versus none
# (interval longer than the run), measurements rare in both; runs
# interleaved, median wall times (from the output files' wall_seconds)
# compared.  Both replica-group layouts (2 groups of 1 rank, 1 group of 2).
set -eu
ising=${1:-build/ising}; rounds=${2:-3}; EXCHANGE=${3:-10}
work=$(mktemp -d "${TMPDIR:-/tmp}/ising-tbench-XXXXXX")
trap 'rm -rf "$work"' EXIT
cat > "$work/deck.ini" <<'DECK'
[lattice]
L = 256
[tempering]
ladder = geometric
T_min = 1.8
T_max = 3.0
count = 16
[montecarlo]
thermalization = 0
sweeps = 2560
[measurement]
interval = 80
[output]
progress = 0
DECK
wall() { /usr/bin/python3 -c "import h5py,sys; print(h5py.File(sys.argv[1])['/'].attrs['wall_seconds'])" "$1"; }
median() { echo "$@" | tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
for rpr in 1 2; do
  with=""; without=""
  for r in $(seq "$rounds"); do
    mpiexec -n 2 "$ising" run "$work/deck.ini" --quiet --force --set "output.file=$work/a.h5" \
      --set "tempering.interval=$EXCHANGE" --set "parallel.ranks_per_replica=$rpr"
    mpiexec -n 2 "$ising" run "$work/deck.ini" --quiet --force --set "output.file=$work/b.h5" \
      --set tempering.interval=100000 --set "parallel.ranks_per_replica=$rpr"
    a=$(wall "$work/a.h5"); b=$(wall "$work/b.h5")
    echo "ranks_per_replica=$rpr round $r: exchange every $EXCHANGE sweeps ${a} s, no exchange ${b} s"
    with="$with $a"; without="$without $b"
  done
  ma=$(median $with); mb=$(median $without)
  echo "ranks_per_replica=$rpr median: with ${ma} s, without ${mb} s, overhead $(echo "$ma $mb" | awk '{printf "%.2f%%", 100*($1-$2)/$2}')"
done
