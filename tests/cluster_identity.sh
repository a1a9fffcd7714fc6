#!/bin/bash
# cluster_identity.sh ISING -- the cluster algorithms give the same bits on
# any rank count and across a checkpoint/restart (h5diff compares exactly:
# no tolerance is given).
#  1. swendsen-wang, each lattice split over all ranks: decks s1 (2D 30x26
#     below T_c in a field, hot start), s2 (2D 30x26 at T_c, cold start) and
#     s3 (3D 6x10x8 near T_c, J = -1) on 1, 2, 3, 4 and 8 ranks (blocks
#     30x9 / 30x8, 15x7 / 15x6: uneven and odd); deck s4, a ladder with two
#     copies, feedback adaptation and correlations, on the replica-group
#     layouts NP:RPR of identity.sh; deck s5 (3D 2x2x2 in a field) and
#     2D 4x4 on 1, 2, 4 and 8 ranks: blocks of one site along an axis, both
#     neighbours on one other rank.  /timeseries (cluster columns
#     included), /summary, /tempering and the final checkpoint's spins.
#  2. wolff (each lattice whole on one rank): decks w1 (2D ladder, two
#     copies, feedback adaptation, automatic clusters_per_sweep), w2 (3D
#     ladder, J = -1, clusters_per_sweep = 7) and w3 (one temperature, four
#     copies, automatic) on 1, 2 and 4 ranks (ranks_per_replica = 1; w1
#     also on 3: replicas dealt unevenly); also the checkpoint's /sweeper
#     state (the automatic count's sums).  The automatic count is frozen
#     after the thermalization (one value per temperature in
#     /timeseries/clusters, growing with T), a given count is kept.
#  3. resume on another rank count = uninterrupted, bit for bit: a
#     checkpoint during the thermalization (the last periodic checkpoint of
#     a finished run, kept as OUTPUT.ckpt.old, made the newest checkpoint of
#     a copy whose time series are zeroed, then resumed) and one after it
#     (a run with fewer sweeps, resumed with --sweeps), for swendsen-wang
#     (split lattices; from the thermalization 2 -> 4 ranks in 2 groups and
#     3 -> 8, after it the reverse, and deck s1 3 -> 8) and wolff with the
#     automatic clusters_per_sweep (from the thermalization 2 -> 4 and
#     2 -> 1 ranks, after it 1 -> 4); a resume that changes
#     clusters_per_sweep is refused.
#  4. power: a different seed gives a different series and other spins.
set -u
ising=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/ising-clid-XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
mpi() { local np=$1; shift; mpiexec -q -n "$np" --oversubscribe "$ising" "$@"; }
# same REF OUT LABEL: the output groups REF has and the final checkpoint's
# spins and backend state identical
same() {
  local r=0 o
  for o in /timeseries /summary /tempering; do
    h5ls "$1$o" > /dev/null 2>&1 || continue
    h5diff -r "$1" "$2" "$o" "$o" > diff.txt 2>&1 || { r=1; echo "  $o differs:"; head -n 8 diff.txt; }
  done
  for o in /spins /sweeper; do
    h5ls "$1.ckpt$o" > /dev/null 2>&1 || continue
    h5diff -r "$1.ckpt" "$2.ckpt" "$o" "$o" > diff.txt 2>&1 || { r=1; echo "  final $o differs:"; head -n 8 diff.txt; }
  done
  [ $r -eq 0 ] && ok "$3" || bad "$3"
}
cat > s1.ini <<'DECK'
[lattice]
L = 30 26
[model]
T = 2.0
H = 0.05
[montecarlo]
algorithm = swendsen-wang
seed = 31
thermalization = 20
sweeps = 200
[measurement]
interval = 2
DECK
cat > s2.ini <<'DECK'
[lattice]
L = 30 26
[model]
T = 2.269185314
[montecarlo]
algorithm = swendsen-wang
start = cold
seed = 32
thermalization = 20
sweeps = 160
[measurement]
interval = 1
DECK
cat > s3.ini <<'DECK'
[lattice]
dim = 3
L = 6 10 8
[model]
T = 4.5
J = -1
[montecarlo]
algorithm = swendsen-wang
seed = 33
thermalization = 10
sweeps = 96
[measurement]
interval = 2
DECK
cat > s4.ini <<'DECK'
[lattice]
L = 16 12
[model]
T = 2.0 2.2 2.4 2.6
H = 0.02
[montecarlo]
algorithm = swendsen-wang
copies = 2
seed = 34
thermalization = 200
sweeps = 160
[tempering]
interval = 1
adapt = feedback
adapt_rounds = 2
[measurement]
interval = 2
correlation = yes
sk_every = 5
DECK
cat > s5.ini <<'DECK'
[lattice]
dim = 3
L = 2 2 2
[model]
T = 4.0
H = 0.1
[montecarlo]
algorithm = swendsen-wang
seed = 35
thermalization = 10
sweeps = 200
[measurement]
interval = 1
DECK
cat > w1.ini <<'DECK'
[lattice]
L = 24
[model]
T = 2.0 2.2 2.4 2.6
[montecarlo]
algorithm = wolff
clusters_per_sweep = 0
copies = 2
seed = 41
thermalization = 300
sweeps = 200
[tempering]
interval = 2
adapt = feedback
adapt_rounds = 2
[measurement]
interval = 2
[parallel]
ranks_per_replica = 1
DECK
cat > w2.ini <<'DECK'
[lattice]
dim = 3
L = 6 6 4
[model]
T = 4.0 4.5 5.0 5.5
J = -1
[montecarlo]
algorithm = wolff
clusters_per_sweep = 7
seed = 42
thermalization = 50
sweeps = 96
[tempering]
interval = 3
[measurement]
interval = 2
[parallel]
ranks_per_replica = 1
DECK
cat > w3.ini <<'DECK'
[lattice]
L = 20
[model]
T = 2.3
[montecarlo]
algorithm = wolff
copies = 4
seed = 43
thermalization = 100
sweeps = 128
[measurement]
interval = 2
[parallel]
ranks_per_replica = 1
DECK
# 1. swendsen-wang on 1, 2, 3, 4, 8 ranks (one replica group)
for deck in s1 s2 s3; do
  mpi 1 run $deck.ini --quiet --set output.file=$deck-1.h5 || bad "$deck on 1 rank"
  for np in 2 3 4 8; do
    mpi $np run $deck.ini --quiet --set output.file=$deck-$np.h5 || { bad "$deck on $np ranks exited $?"; continue; }
    same $deck-1.h5 $deck-$np.h5 "swendsen-wang $deck: $np ranks = 1 rank"
  done
done
# one site per rank along an axis
for deck in s5 s6; do
  set --; what="3D 2x2x2"
  [ $deck = s6 ] && set -- --set lattice.dim=2 --set "lattice.L=4 4" && what="2D 4x4"
  mpi 1 run s5.ini --quiet --set output.file=$deck-1.h5 "$@" || bad "$deck on 1 rank"
  for np in 2 4 8; do
    mpi $np run s5.ini --quiet --set output.file=$deck-$np.h5 "$@" || { bad "$deck on $np ranks exited $?"; continue; }
    same $deck-1.h5 $deck-$np.h5 "swendsen-wang $deck ($what): $np ranks = 1 rank"
  done
done
# the ladder deck on replica-group layouts
mpi 1 run s4.ini --quiet --set output.file=s4-1-0.h5 || bad "s4 on 1 rank"
for layout in 2:1 2:2 3:1 4:2 4:1 8:2 8:1; do
  np=${layout%%:*}; rpr=${layout#*:}
  mpi $np run s4.ini --quiet --set output.file=s4-$np-$rpr.h5 --set parallel.ranks_per_replica=$rpr \
    || { bad "s4 on $layout exited $?"; continue; }
  same s4-1-0.h5 s4-$np-$rpr.h5 "swendsen-wang s4 (ladder, copies, correlations): layout $layout = 1 rank"
done
# 2. wolff on 1, 2 and 4 ranks, whole replicas (w1 also on 3: 3, 3 and 2
# replicas per rank)
for deck in w1 w2 w3; do
  mpi 1 run $deck.ini --quiet --set output.file=$deck-1.h5 || bad "$deck on 1 rank"
  for np in 2 3 4; do
    [ $np = 3 ] && [ $deck != w1 ] && continue
    mpi $np run $deck.ini --quiet --set output.file=$deck-$np.h5 || { bad "$deck on $np ranks exited $?"; continue; }
    same $deck-1.h5 $deck-$np.h5 "wolff $deck: $np ranks = 1 rank"
  done
done
# the automatic count frozen after the thermalization, a given one kept
/usr/bin/python3 - <<'PY' && ok "wolff: automatic clusters_per_sweep frozen per temperature, growing with T; a given count kept" || bad "wolff: clusters per sweep"
import h5py, numpy as np
with h5py.File("w1-1.h5", "r") as f:
    c = f["timeseries/clusters"][...]          # (temperature, copy, measurement)
    per_T = [np.unique(c[t]) for t in range(c.shape[0])]
    print("  w1 clusters per sweep at each temperature:", [list(u) for u in per_T])
    assert all(len(u) == 1 for u in per_T)
    assert all(per_T[t][0] <= per_T[t + 1][0] for t in range(len(per_T) - 1)) and per_T[-1][0] > per_T[0][0]
with h5py.File("w2-1.h5", "r") as f:
    assert np.all(f["timeseries/clusters"][...] == 7)
PY
# 3. resume.  from_old OUT NEW: NEW becomes a copy of the finished run OUT
# whose newest checkpoint is OUT's previous generation (a periodic one),
# with every time series zeroed (all its measurements come after that
# checkpoint: a resume that did not run cannot pass)
from_old() {
  cp "$1" "$2" && cp "$1.ckpt.old" "$2.ckpt" || return 1
  /usr/bin/python3 - "$2" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    for d in f["timeseries"].values():
        d[...] = np.zeros(d.shape, d.dtype)
PY
}
# sweeps_done of a checkpoint
done_at() { /usr/bin/python3 -c 'import sys, h5py; print(int(h5py.File(sys.argv[1], "r").attrs["sweeps_done"]))' "$1"; }
# swendsen-wang: s4 without correlations (whose sums are pooled in another
# order when the number of replica groups changes), thermalization 300,
# sweeps 200, a periodic checkpoint at 280 (the only one before the end)
for pair in "2:0 4:2" "3:0 8:0"; do
  set -- $pair
  n1=${1%%:*}; g1=${1#*:}; n2=${2%%:*}; g2=${2#*:}
  ref=r-$n1.h5
  mpi $n1 run s4.ini --quiet --set output.file=$ref --set measurement.correlation=no \
    --set montecarlo.thermalization=300 --set montecarlo.sweeps=200 --set checkpoint.every_sweeps=280 \
    --set parallel.ranks_per_replica=$g1 || bad "s4 reference for resume on $n1 ranks"
  at=$(done_at $ref.ckpt.old)
  from_old $ref r-th-$n2.h5 || bad "copying the checkpoint"
  mpi $n2 resume r-th-$n2.h5 --quiet --set parallel.ranks_per_replica=$g2 || bad "resume on $n2 ranks"
  same $ref r-th-$n2.h5 "swendsen-wang: checkpoint at sweep $at of the thermalization (300) on $n1:$g1, resumed on $n2:$g2 = uninterrupted"
  mpi $n2 run s4.ini --quiet --set output.file=r-part-$n2.h5 --set measurement.correlation=no \
    --set montecarlo.thermalization=300 --set montecarlo.sweeps=100 --set checkpoint.every_sweeps=280 \
    --set parallel.ranks_per_replica=$g2 || bad "s4 first part on $n2 ranks"
  mpi $n1 resume r-part-$n2.h5 --sweeps 200 --quiet --set parallel.ranks_per_replica=$g1 || bad "resume on $n1 ranks"
  same $ref r-part-$n2.h5 "swendsen-wang: stopped at sweep 400 (after the thermalization) on $n2:$g2, resumed on $n1:$g1 = uninterrupted"
done
# the single-temperature deck, lattice split 3 -> 8 ranks, after the thermalization
mpi 3 run s1.ini --quiet --set output.file=s1-part.h5 --set montecarlo.sweeps=100 || bad "s1 first part"
mpi 8 resume s1-part.h5 --sweeps 200 --quiet || bad "s1 resume on 8 ranks"
same s1-1.h5 s1-part.h5 "swendsen-wang s1: stopped on 3 ranks, resumed on 8 = uninterrupted on 1"
# wolff, automatic clusters_per_sweep (w1: thermalization 300): a periodic
# checkpoint at 260, during the thermalization
mpi 2 run w1.ini --quiet --set output.file=wr.h5 --set checkpoint.every_sweeps=260 || bad "w1 reference with checkpoints"
at=$(done_at wr.h5.ckpt.old)
same w1-1.h5 wr.h5 "wolff w1: periodic checkpoints change nothing"
for np in 4 1; do
  from_old wr.h5 wr-th-$np.h5 || bad "copying the checkpoint"
  mpi $np resume wr-th-$np.h5 --quiet || bad "wolff resume on $np ranks"
  same w1-1.h5 wr-th-$np.h5 "wolff w1 (automatic clusters_per_sweep): checkpoint at sweep $at of the thermalization (300) on 2 ranks, resumed on $np = uninterrupted"
done
mpi 1 run w1.ini --quiet --set output.file=wr-part.h5 --set montecarlo.sweeps=100 || bad "w1 first part"
mpi 4 resume wr-part.h5 --sweeps 200 --quiet || bad "wolff resume on 4 ranks"
same w1-1.h5 wr-part.h5 "wolff w1 (automatic clusters_per_sweep): stopped at sweep 400 (after the thermalization) on 1 rank, resumed on 4 = uninterrupted"
# a change of clusters_per_sweep on resume is a change of the trajectory:
# refused (exit 2), naming the key; the output stays as it was
cp wr-part.h5 keep.h5
mpi 1 resume wr-part.h5 --sweeps 300 --quiet --set montecarlo.clusters_per_sweep=5 2> err.txt; st=$?
[ $st -eq 2 ] && grep -q "clusters_per_sweep 0 -> 5" err.txt && cmp -s wr-part.h5 keep.h5 \
  && ok "wolff: resume with another clusters_per_sweep refused" || { bad "clusters_per_sweep change on resume (status $st)"; cat err.txt; }
# 4. power
mpi 2 run s2.ini --quiet --set output.file=seed.h5 --set montecarlo.seed=99 || bad "s2 with another seed"
if h5diff -q s2-1.h5 seed.h5 /timeseries/e /timeseries/e > /dev/null 2>&1 ||
   h5diff -q s2-1.h5.ckpt seed.h5.ckpt /spins /spins > /dev/null 2>&1; then
  bad "a different seed gave the same series or spins: the comparison cannot see differences"
else
  ok "a different seed gives a different series and other spins"
fi
mpi 2 run w1.ini --quiet --set output.file=wseed.h5 --set montecarlo.seed=99 || bad "w1 with another seed"
if h5diff -q w1-1.h5.ckpt wseed.h5.ckpt /sweeper /sweeper > /dev/null 2>&1; then
  bad "wolff: a different seed gave the same automatic-count sums: the /sweeper comparison is blind"
else
  ok "wolff: a different seed gives other automatic-count sums"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
