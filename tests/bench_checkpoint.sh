#!/bin/sh
# bench_checkpoint.sh [ISING] [NP] -- checkpoint write bandwidth at 2D L=8192
# (64 Mi spins, one replica) on NP ranks (2), against dd on the same disk
# (512 MiB, fdatasync), in the same directory.  Also the cost of
# checkpointing every 10 minutes: longest checkpoint / 600 s.  A benchmark,
# run by hand.
set -eu
ising=${1:-build/ising}; np=${2:-2}
work=$(mktemp -d "${BENCH_DIR:-.}/ising-ckbench-XXXXXX")
trap 'rm -rf "$work"' EXIT
dd if=/dev/zero of="$work/dd.bin" bs=8M count=64 conv=fdatasync 2> "$work/dd.txt"
dd_rate=$(sed -n 's/.* \([0-9.,]*\) \([MG]B\/s\)$/\1 \2/p' "$work/dd.txt" | tail -1)
rm -f "$work/dd.bin"
echo "dd (512 MiB, conv=fdatasync): $dd_rate"
cat > "$work/deck.ini" <<'DECK'
[lattice]
L = 8192
[montecarlo]
thermalization = 0
sweeps = 32
[checkpoint]
every_sweeps = 8
[output]
progress = 0
DECK
mpiexec -n "$np" "$ising" run "$work/deck.ini" --quiet --set "output.file=$work/o.h5"
/usr/bin/python3 - "$work/o.h5" <<'PY'
import h5py, sys
a = h5py.File(sys.argv[1])["/"].attrs
n, tot, mx, wall = a["checkpoints_written"], a["checkpoint_seconds_total"], a["checkpoint_seconds_max"], a["wall_seconds"]
mib = 8192 * 8192 / 2**20
print(f"ising: {n:.0f} checkpoints of {mib:.0f} MiB of spins, mean {tot / n:.3f} s ({mib / (tot / n):.0f} MiB/s), "
      f"longest {mx:.3f} s ({mib / mx:.0f} MiB/s); sweeping took {wall:.1f} s in all")
print(f"cost of one checkpoint every 10 minutes: {100 * mx / 600:.3f}% of the run time (longest checkpoint / 600 s)")
PY
