#!/bin/bash
# ckpt_fuzz.sh ISING [N] -- checkpoint bit-flip fuzz (README: "Output file").
# A small run (16^2, a 3-temperature feedback ladder, correlations with
# S(k)) stops with two checkpoint generations, .ckpt and an intact
# .ckpt.old.  For N offsets (default 200) spread evenly over the whole
# .ckpt file, one bit is flipped in a copy and the run resumed.  Each
# resume must end with exit 0 and /timeseries, /summary, /tempering and
# /correlation identical to an uninterrupted run, using .ckpt.old where the
# flip damaged .ckpt; never a crash, never another result with exit 0, and
# no refusal (exit 2), since the previous generation is intact.  Prints the
# counts: offsets tried, identical from .ckpt, identical from .ckpt.old,
# refused, failed.  FUZZ_L (lattice size), FUZZ_THERM (its thermalization),
# FUZZ_NP (ranks of each resume)
# and FUZZ_JOBS (resumes at a time) change the set-up.
set -u
ising=$1
ntry=${2:-200}
jobs=${FUZZ_JOBS:-16}   # resumes at a time (they mostly wait on MPI start-up)
np=${FUZZ_NP:-1}        # ranks of each resume (2: the ranks must agree on every verdict)
L=${FUZZ_L:-16}
therm=${FUZZ_THERM:-20}  # thermalization (a larger L may need more for the feedback ladder)
work=$(mktemp -d "${TMPDIR:-/tmp}/ising-ckptfuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
cat > f.ini <<DECK
[lattice]
L = $L
[model]
T = 2.2 2.3 2.4
[montecarlo]
seed = 99
thermalization = $therm
sweeps = 48
[tempering]
interval = 1
adapt = feedback
adapt_rounds = 1
[measurement]
interval = 1
correlation = yes
sk_every = 4
[checkpoint]
every_sweeps = 10
DECK
"$ising" run f.ini --quiet --set output.file=ref.h5 || { echo "FAIL: reference run"; exit 1; }
# the first part: 52 sweeps, checkpoints at 50 (.ckpt.old) and 52 (.ckpt)
"$ising" run f.ini --quiet --set output.file=p.h5 --set montecarlo.sweeps=32 \
  || { echo "FAIL: first part"; exit 1; }
[ -e p.h5.ckpt ] && [ -e p.h5.ckpt.old ] || { echo "FAIL: two checkpoint generations expected"; exit 1; }
size=$(stat -c %s p.h5.ckpt)
echo "checkpoint: $size bytes; flipping one bit at $ntry offsets, $jobs resumes at a time"
# the damaged copies: trial k flips bit (k mod 8) of byte floor(k size / ntry)
/usr/bin/python3 - "$ntry" "$size" <<'PY' || { echo "FAIL: making the damaged copies"; exit 1; }
import os, shutil, sys
ntry, size = int(sys.argv[1]), int(sys.argv[2])
good = open("p.h5.ckpt", "rb").read()
for k in range(ntry):
    d = "t%d" % k
    os.mkdir(d)
    shutil.copy("p.h5", d + "/o.h5")
    shutil.copy("p.h5.ckpt.old", d + "/o.h5.ckpt.old")
    b = bytearray(good)
    b[k * size // ntry] ^= 1 << (k % 8)
    open(d + "/o.h5.ckpt", "wb").write(b)
PY
trial() {
  if [ "$np" -gt 1 ]; then
    (cd "t$1" && timeout 120 mpiexec -q -n "$np" --oversubscribe "$ising" resume o.h5 --quiet --sweeps 48 \
      > out.txt 2> err.txt; echo $? > rc)
  else
    (cd "t$1" && timeout 60 "$ising" resume o.h5 --quiet --sweeps 48 > out.txt 2> err.txt; echo $? > rc)
  fi
}
running=0
for k in $(seq 0 $((ntry - 1))); do
  trial "$k" &
  running=$((running + 1))
  if [ $running -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
/usr/bin/python3 - "$ntry" "$size" <<'PY'
import sys, h5py, numpy as np
ntry, size = int(sys.argv[1]), int(sys.argv[2])
def same_bits(a, b):  # bit for bit (NaN equals NaN)
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
def items(f):
    out = {}
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and name.split("/")[0] in ("timeseries", "summary", "tempering", "correlation"):
            out[name] = obj[()]
    f.visititems(visit)
    return out
with h5py.File("ref.h5", "r") as f:
    ref = items(f)
same = old = refused = failed = 0
for k in range(ntry):
    d = "t%d" % k
    where = "offset %d bit %d" % (k * size // ntry, k % 8)
    try:
        rc = int(open(d + "/rc").read())
    except Exception:
        rc = -1
    err = open(d + "/err.txt").read().strip() if rc != -1 else ""
    if rc == 2:
        refused += 1
        print("FAIL: %s: refused although .ckpt.old is intact: %s" % (where, err[-300:]))
        continue
    if rc != 0:
        failed += 1
        print("FAIL: %s: exit %d: %s" % (where, rc, err[-300:]))
        continue
    try:
        with h5py.File(d + "/o.h5", "r") as f:
            got = items(f)
        diff = sorted(set(ref) ^ set(got)) + [n for n in ref if n in got and not same_bits(ref[n], got[n])]
    except Exception as e:
        diff = ["unreadable: %s" % e]
    if diff:
        failed += 1
        print("FAIL: %s: exit 0 with a different result (%s)" % (where, ", ".join(diff[:5])))
        continue
    same += 1
    if "previous generation" in err:
        old += 1
print("ckpt_fuzz: %d offsets tried: %d identical (%d from .ckpt, %d fell back to .ckpt.old), "
      "%d refused, %d failed" % (ntry, same, same - old, old, refused, failed))
sys.exit(1 if refused or failed else 0)
PY
