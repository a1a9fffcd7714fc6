#!/bin/sh
# bench_scaling.sh [ISING] [L] [ROUNDS] [KERNEL] -- throughput of 1 rank and of 2 ranks
# on this machine, interleaved in one run (this machine is noisy: compare
# ratios taken together), and the ratio of the medians.  Not part of ctest:
# a benchmark, run by hand; the closing notes quote its output.
set -eu
ising=${1:-build/ising}; L=${2:-2048}; rounds=${3:-5}; kernel=${4:-fast}
one=""; two=""
for r in $(seq "$rounds"); do
  a=$(mpiexec -n 1 "$ising" bench --dim 2 --L "$L" --T 2.269 --sweeps 20 --repeat 3 --kernel "$kernel" | sed -n 's/.*median \([0-9.]*\) per rank, \([0-9.]*\) in total.*/\2/p')
  b=$(mpiexec -n 2 "$ising" bench --dim 2 --L "$L" --T 2.269 --sweeps 20 --repeat 3 --kernel "$kernel" | sed -n 's/.*median \([0-9.]*\) per rank, \([0-9.]*\) in total.*/\2/p')
  echo "round $r: 1 rank $a flips/ns, 2 ranks $b flips/ns in total"
  one="$one $a"; two="$two $b"
done
median() { echo "$@" | tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
m1=$(median $one); m2=$(median $two)
echo "median: 1 rank $m1, 2 ranks $m2 flips/ns; speed-up $(echo "$m2 $m1" | awk '{printf "%.2f", $1/$2}')"
