#!/bin/bash
# resume.sh ISING -- checkpoint/restart end to end.
#  1. stop + resume equals an uninterrupted run bit for bit (time series,
#     summary, tempering statistics, final spins) for 1->2, 2->1 and 2->4
#     ranks (also changing the replica-group layout), 2D and 3D ladders;
#     /correlation (S(k), G(r) accumulated over the whole run) bit for bit
#     for 1 -> 2 ranks in one replica group, to 1e-10 when the number of
#     replica groups changes;
#  2. SIGUSR1 makes a run checkpoint and exit 3; resume finishes it; also
#     when it comes while a rank is still starting (MPI_Init); SIGTERM to one
#     rank is named in the stop message; a signal when no stopping point is
#     left is reported and the run finishes;
#  3. fault injection: SIGKILL of the whole job at random instants (also
#     while checkpoints are written, every 40 sweeps) until it finishes: the
#     output equals the reference, nothing lost, nothing duplicated; for a
#     2D ladder (60 rounds), Swendsen-Wang on a lattice split over both
#     ranks and bimodal disorder with two copies (12 rounds each);
#  4. damaged, truncated, missing, foreign and other-version checkpoints:
#     fallback to the previous generation (judged on its own deck) or a
#     clear error (exit 2); an out-of-range replica index is refused;
#     older format-1 (no correlation sums) and format-2 (no checksums but
#     the spins') checkpoints are still read (ckpt_fuzz.sh flips bits);
#  5. a change of the physics on resume is refused with the differences.
set -u
ising=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/ising-resume-XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
# the killed job's output, named after this test's directory: the kills
# must not reach the jobs of another copy of this test running meanwhile
kfile=k-kill-r${work##*-}.h5
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
mpi() { local np=$1; shift; mpiexec -q -n "$np" --oversubscribe "$ising" "$@"; }
# SIGKILL the whole job: mpiexec and every rank (Open MPI starts the ranks in
# sessions of their own, so a process-group kill would miss them), as a
# scheduler's kill does; then wait until none is left.
killjob() {
  pkill -KILL -f -- "$kfile" 2> /dev/null
  wait "$1" 2> /dev/null
  # a rank that mpiexec was still starting during the first kill carries the
  # name only a moment later, and would wait for its dead peers forever:
  # kill again until none is left
  while pgrep -f -- "$kfile" > /dev/null; do
    pkill -KILL -f -- "$kfile" 2> /dev/null
    sleep 0.05
  done
}
same() { # same REF OUT LABEL [CORR]: output groups and final spins identical;
  # CORR = exact: /correlation too, bit for bit; close: /correlation to
  # 1e-10 absolute (several groups' sums are pooled in another order)
  local r=0
  for o in /timeseries /summary /tempering; do
    h5diff -q "$1" "$2" "$o" "$o" > /dev/null 2>&1 || { r=1; echo "  $o differs"; }
  done
  for o in /samples /equilibration; do # quenched disorder's
    h5ls "$1$o" > /dev/null 2>&1 || continue
    h5diff -q "$1" "$2" "$o" "$o" > /dev/null 2>&1 || { r=1; echo "  $o differs"; }
  done
  case "${4:-}" in
    exact) h5diff -q "$1" "$2" /correlation /correlation > /dev/null 2>&1 || { r=1; echo "  /correlation differs"; } ;;
    close) h5diff -q -d 1e-10 "$1" "$2" /correlation /correlation > /dev/null 2>&1 || { r=1; echo "  /correlation differs"; } ;;
  esac
  h5diff -q "$1.ckpt" "$2.ckpt" /spins /spins > /dev/null 2>&1 || { r=1; echo "  final spins differ"; }
  [ $r -eq 0 ] && ok "$3" || bad "$3"
}
cat > a.ini <<'DECK'
[lattice]
L = 12 10
[model]
T = 1.8 2.1 2.4 2.8
H = 0.02
[montecarlo]
copies = 2
seed = 13
thermalization = 400
sweeps = 640
[tempering]
interval = 3
adapt = feedback
adapt_rounds = 2
[measurement]
interval = 5
correlation = yes
sk_every = 7
DECK
cat > b.ini <<'DECK'
[lattice]
dim = 3
L = 4 6 4
[model]
T = 3.5 4.2 4.8 5.5
[montecarlo]
algorithm = heatbath
seed = 14
thermalization = 50
sweeps = 300
[tempering]
interval = 2
[measurement]
interval = 3
DECK
# 1. resume equality (deck a measures correlations: /correlation must cover
# the whole run, so its accumulators travel through the checkpoint; bit for
# bit when both runs keep one replica group, to rounding when the number of
# groups changes: the groups' sums are pooled in another order)
for deck in a b; do
  mpi 1 run $deck.ini --quiet --set output.file=$deck-ref.h5 || bad "$deck reference run"
  for pair in "1:0 2:1" "2:1 1:0" "2:2 4:2" "1:0 2:0"; do
    [ $deck = b ] && [ "$pair" = "1:0 2:0" ] && continue
    corr=; [ $deck = a ] && corr=close
    [ "$pair" = "1:0 2:0" ] && corr=exact
    ref=$deck-ref.h5
    set -- $pair
    n1=${1%%:*}; g1=${1#*:}; n2=${2%%:*}; g2=${2#*:}
    out=$deck-$n1-$n2.h5
    [ "$pair" = "1:0 2:0" ] && out=$deck-$n1-$n2-onegroup.h5
    mpi $n1 run $deck.ini --quiet --set output.file=$out --set montecarlo.sweeps=200 \
      --set parallel.ranks_per_replica=$g1 || bad "$deck first part on $n1 ranks"
    mpi $n2 resume $out --sweeps $(grep -o 'sweeps = [0-9]*' $deck.ini | grep -o '[0-9]*$') --quiet \
      --set parallel.ranks_per_replica=$g2 || bad "$deck resume on $n2 ranks"
    same $ref $out "$deck: stopped on $n1 ranks, resumed on $n2 ranks = uninterrupted${corr:+ (/correlation: $corr)}" $corr
  done
done
# a longer deck for signals and kills: 2D L=48, 4 temperatures x 2 copies
cat > k.ini <<'DECK'
[lattice]
L = 48
[model]
T = 1.9 2.2 2.5 2.9
[montecarlo]
copies = 2
seed = 15
thermalization = 200
sweeps = 30000
[tempering]
interval = 5
[measurement]
interval = 2
[checkpoint]
every_sweeps = 40
DECK
mpi 2 run k.ini --quiet --set output.file=k-ref.h5 || bad "k reference"
# 2. a signal: checkpoint and exit 3, then resume
setsid mpiexec -q -n 2 "$ising" run k.ini --quiet --set output.file=k-sig.h5 \
  --set checkpoint.every_sweeps=0 & pid=$!
# signal once the run is under way (its output exists: handlers installed)
for i in $(seq 200); do [ -e k-sig.h5 ] && break; sleep 0.05; done
sleep 0.3
kill -USR1 $pid
wait $pid; st=$?
[ $st -eq 3 ] && ok "SIGUSR1: exit status 3 (stopped, resumable)" || bad "SIGUSR1 gave exit status $st"
"$ising" info k-sig.h5 | grep -q "status *stopped" && ok "info says stopped" || bad "info after stop"
mpi 1 resume k-sig.h5 --quiet || bad "resume after signal"
same k-ref.h5 k-sig.h5 "signal stop + resume = uninterrupted"
# the PID of one rank of the mpiexec PID $1 once it has installed its signal
# handlers (SIGUSR1 caught, /proc/PID/status), i.e. from its first line of
# main() on, within 10 s; empty if none
rank_ready() {
  local i c m
  for i in $(seq 2000); do
    for c in $(pgrep -P "$1"); do
      m=$(awk '$1 == "SigCgt:" {print $2}' "/proc/$c/status" 2> /dev/null)
      [ -n "$m" ] && [ $((0x$m & (1 << 9))) -ne 0 ] && { echo "$c"; return; }
    done
    sleep 0.005
  done
}
# 2b. a stop request at any instant after launch: USR1 to a rank as soon as
# its handlers are installed (during MPI_Init and set-up) stops the run at
# its first stopping point; the resumed run equals the uninterrupted one
setsid mpiexec -q -n 2 "$ising" run k.ini --set output.file=k-early.h5 --set checkpoint.every_sweeps=0 \
  > early.txt 2>&1 & pid=$!
r=$(rank_ready $pid)
[ -n "$r" ] && kill -USR1 "$r"
wait $pid; st=$?
[ $st -eq 3 ] && grep -q "(SIGUSR1 received on rank [01]);" early.txt && [ -s k-early.h5.ckpt ] \
  && ok "SIGUSR1 at the start of a rank (pid ${r:-none}): checkpoint, exit 3, reason named" \
  || { bad "early SIGUSR1 (pid ${r:-none}): status $st"; cat early.txt; }
mpi 2 resume k-early.h5 --quiet || bad "resume after the early signal"
same k-ref.h5 k-early.h5 "early signal stop + resume = uninterrupted"
# 2c. SIGTERM to one rank only: the stop message names it, not the wall time
setsid mpiexec -q -n 2 "$ising" run k.ini --set output.file=k-term.h5 --set checkpoint.every_sweeps=0 \
  > term.txt 2>&1 & pid=$!
for i in $(seq 200); do [ -e k-term.h5 ] && break; sleep 0.05; done
sleep 0.3
r=$(pgrep -P $pid | tail -n 1)
[ -n "$r" ] && kill -TERM "$r"
wait $pid; st=$?
[ $st -eq 3 ] && grep -q "(SIGTERM received on rank [01]);" term.txt && ! grep -q "wall-time" term.txt \
  && ok "SIGTERM to one rank: exit 3, \"SIGTERM received on rank N\"" || { bad "one-rank SIGTERM: status $st"; cat term.txt; }
# 2d. a signal when no stopping point is left (a run shorter than one
# agreement interval) is reported; the run finishes
cat > s.ini <<'DECK'
[lattice]
L = 8
[montecarlo]
thermalization = 100
sweeps = 20000
DECK
setsid mpiexec -q -n 1 "$ising" run s.ini --quiet --set output.file=s.h5 > late.txt 2>&1 & pid=$!
r=$(rank_ready $pid)
[ -n "$r" ] && kill -USR1 "$r"
wait $pid; st=$?
[ $st -eq 0 ] && grep -q "SIGUSR1 received on rank 0 when no stopping point was left; the run finished" late.txt \
  && "$ising" info s.h5 | grep -q "status *finished" && ok "SIGUSR1 too late to stop: reported, run finished (exit 0)" \
  || { bad "late SIGUSR1 (pid ${r:-none}): status $st"; cat late.txt; }
# 3. fault injection: killrounds DECK REF ROUNDS LABEL [EARLY] -- SIGKILL
# the job (2 ranks) at random instants, resume, until it finishes; then the
# output equals REF, the uninterrupted run of DECK.  With EARLY, at least
# one resume must start from a checkpoint before sweep EARLY.  The kill
# instants are 0.1-0.8 s after the start; while a kill leaves no checkpoint
# at all (a slow machine: every kill came before the first checkpoint was
# whole) the later ones come 0.25 s later each time, up to 4 s, so that the
# job gets past its first checkpoint and the kills hit resumed runs.
killrounds() {
  local deck=$1 ref=$2 rounds=$3 label=$4 early=${5:-} round pid st at starts="" ms extra=0
  kills=0; during=0
  rm -f $kfile $kfile.*
  for round in $(seq "$rounds"); do
    if [ -e $kfile.ckpt ] || [ -e $kfile.ckpt.old ]; then
      if [ -n "$early" ]; then # the sweep the resume starts from (or the older generation's)
        at=$(h5dump -a sweeps_done $kfile.ckpt 2> /dev/null | sed -n 's/^ *(0): \([0-9]*\)$/\1/p')
        starts="$starts ${at:-old}"
      fi
      setsid mpiexec -q -n 2 "$ising" resume $kfile --quiet > /dev/null 2>&1 & pid=$!
    else
      setsid mpiexec -q -n 2 "$ising" run "$deck" --quiet --force --set output.file=$kfile > /dev/null 2>&1 & pid=$!
    fi
    if [ -n "$early" ] && [ "$round" -eq 1 ]; then ms=300; else ms=$(( (RANDOM % 7 + 1) * 100 + (RANDOM % 10) * 10 + extra )); fi
    sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
    if kill -0 $pid 2> /dev/null; then
      [ -e $kfile.ckpt.tmp ] && during=$((during + 1))
      killjob $pid
      kills=$((kills + 1))
      if [ ! -e $kfile.ckpt ] && [ ! -e $kfile.ckpt.old ] && [ $extra -lt 4000 ]; then
        extra=$((extra + 250))
      fi
    else
      wait $pid; st=$?
      [ $st -eq 0 ] && break
      bad "$label: a run between kills exited $st"; break
    fi
  done
  # if the kills outpaced the progress, finish without them (still resumed)
  if [ "$("$ising" info $kfile 2> /dev/null | sed -n 's/^ *status *//p')" != finished ]; then
    mpi 2 resume $kfile --quiet || bad "$label: final resume after the kills"
  fi
  echo "fault injection, $label: $kills kills ($during while a checkpoint was being written; kill delays raised by $extra ms)${early:+; resumed from sweeps$starts}"
  [ $kills -ge 3 ] && ok "$label: at least 3 kills" || bad "$label: only $kills kills: the run was too short"
  if [ -n "$early" ]; then
    local a first=""
    for a in $starts; do
      [ "$a" != old ] && [ "$a" -gt 0 ] && [ "$a" -lt "$early" ] && { first=$a; break; }
    done
    [ -n "$first" ] && ok "$label: a resume started at sweep $first, before $early" \
      || bad "$label: no resume started before sweep $early (starts:$starts)"
  fi
  same "$ref" $kfile "$label: after $kills SIGKILLs and resumes = uninterrupted"
}
RANDOM=2026
killrounds k.ini k-ref.h5 60 "2D ladder"
# the same for a Swendsen-Wang lattice split over both ranks (cluster
# merge state, no backend checkpoint state) and for quenched disorder with
# two copies (samples, overlap series)
cat > ksw.ini <<'DECK'
[lattice]
L = 64
[model]
T = 2.2 2.3
[montecarlo]
algorithm = swendsen-wang
seed = 16
thermalization = 100
sweeps = 20000
[tempering]
interval = 1
[checkpoint]
every_sweeps = 40
DECK
cat > kdis.ini <<'DECK'
[lattice]
L = 16
[model]
T = 1.0 1.4 2.0
[montecarlo]
copies = 2
seed = 17
thermalization = 200
sweeps = 30000
[disorder]
couplings = bimodal
samples = 2
seed = 5
[checkpoint]
every_sweeps = 40
DECK
mpi 2 run ksw.ini --quiet --set output.file=ksw-ref.h5 || bad "ksw reference"
killrounds ksw.ini ksw-ref.h5 12 "swendsen-wang, lattice split over 2 ranks"
mpi 2 run kdis.ini --quiet --set output.file=kdis-ref.h5 || bad "kdis reference"
killrounds kdis.ini kdis-ref.h5 12 "bimodal disorder, 2 samples x 2 copies"
# wolff with clusters_per_sweep chosen during the thermalization (its sums
# are backend checkpoint state): the first kill comes 0.3 s after the
# start, in the first half of the thermalization (the count is learnt in
# the second half; about 16000 sweeps a second here)
cat > kw.ini <<'DECK'
[lattice]
L = 48
[model]
T = 2.2 2.3
[montecarlo]
algorithm = wolff
clusters_per_sweep = 0
seed = 18
thermalization = 32000
sweeps = 8000
[parallel]
ranks_per_replica = 1
[checkpoint]
every_sweeps = 200
DECK
mpi 2 run kw.ini --quiet --set output.file=kw-ref.h5 || bad "kw reference"
killrounds kw.ini kw-ref.h5 8 "wolff, automatic clusters_per_sweep" 16000
# 4. damaged checkpoints
cp a-1-2.h5 d.h5; cp a-1-2.h5.ckpt d.h5.ckpt; cp a-1-2.h5.ckpt.old d.h5.ckpt.old
truncate -s 2000 d.h5.ckpt
mpi 1 resume d.h5 --sweeps 700 --quiet 2> err.txt; st=$?
[ $st -eq 0 ] && grep -q "previous generation" err.txt && ok "truncated checkpoint: previous generation used, with a warning" \
  || { bad "truncated checkpoint (status $st)"; cat err.txt; }
cp a-1-2.h5 e.h5; cp a-1-2.h5.ckpt e.h5.ckpt; cp a-1-2.h5.ckpt.old e.h5.ckpt.old
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
with h5py.File("e.h5.ckpt", "r+") as f:      # one flipped spin: checksum mismatch
    s = f["spins"]; v = s[0, 0, 0]; s[0, 0, 0] = -v
with h5py.File("e.h5.ckpt.old", "r+") as f:  # a newer format
    f.attrs["format_version"] = 99
PY
mpi 1 resume e.h5 --quiet 2> err.txt; st=$?
[ $st -eq 2 ] && grep -q "checksum" err.txt && grep -q "format 99" err.txt && ok "corrupt + other-version: exit 2 naming both" \
  || { bad "corrupt/version (status $st)"; cat err.txt; }
cp a-1-2.h5 v1.h5; cp a-1-2.h5.ckpt v1.h5.ckpt; cp a-1-2.h5.ckpt.old v1.h5.ckpt.old
/usr/bin/python3 - <<'PY'
import h5py
for name in ("v1.h5.ckpt", "v1.h5.ckpt.old"):  # as format 1 wrote them: no /correlation
    with h5py.File(name, "r+") as f:       # and no checksums but those of the spins
        f.attrs["format_version"] = 1
        del f.attrs["checksum"], f.attrs["correlation"]
        del f["correlation"]
PY
mpi 2 resume v1.h5 --sweeps 700 --quiet 2> err.txt; st=$?
nf=$(/usr/bin/python3 -c 'import h5py; f = h5py.File("v1.h5", "r"); print(int(f["correlation/n_measurements"][0]))' 2> /dev/null)
[ $st -eq 0 ] && grep -q "format 1, without correlation sums" err.txt && [ "$nf" = 24 ] \
  && ok "format-1 checkpoint read: correlation sums start empty, with a warning" \
  || { bad "format-1 checkpoint (status $st, $nf measurements in /correlation)"; cat err.txt; }
cp a-1-2.h5 v2.h5; cp a-1-2.h5.ckpt v2.h5.ckpt; cp a-1-2.h5.ckpt.old v2.h5.ckpt.old
/usr/bin/python3 - <<'PY'
import h5py
for name in ("v2.h5.ckpt", "v2.h5.ckpt.old"):  # as format 2 wrote them: no checksums but the spins'
    with h5py.File(name, "r+") as f:
        f.attrs["format_version"] = 2
        del f.attrs["checksum"], f.attrs["correlation"]
PY
mpi 2 resume v2.h5 --sweeps 700 --quiet 2> err.txt; st=$?
[ $st -eq 0 ] && ! grep -q "previous generation" err.txt && ok "format-2 checkpoint read" \
  || { bad "format-2 checkpoint (status $st)"; cat err.txt; }
cp a-1-2.h5 w.h5; cp a-1-2.h5.ckpt w.h5.ckpt; cp a-1-2.h5.ckpt.old w.h5.ckpt.old
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
with h5py.File("w.h5.ckpt", "r+") as f:   # damaged deck text (seed 13 -> 14), ladder and a format
    d = f["deck_source"]; t = d[()].tobytes().replace(b"seed = 13", b"seed = 14")
    d[...] = np.frombuffer(t, dtype=d.dtype)
    f["tempering/T"][1] = 157286.4
PY
mpi 1 resume w.h5 --sweeps 700 --quiet 2> err.txt; st=$?
[ $st -eq 0 ] && grep -q "previous generation" err.txt && grep -q "checksum" err.txt \
  && ok "damaged deck text and ladder: the previous generation used, judged on its own deck" \
  || { bad "damaged deck text (status $st)"; cat err.txt; }
cp a-1-2.h5 x.h5; cp a-1-2.h5.ckpt x.h5.ckpt; cp a-1-2.h5.ckpt.old x.h5.ckpt.old
/usr/bin/python3 - <<'PY'
import h5py
with h5py.File("x.h5.ckpt", "r+") as f:   # a format number damaged downwards
    f.attrs["format_version"] = 1
with h5py.File("x.h5.ckpt.old", "r+") as f:   # a replica index out of range, checksum made to match
    f["tempering/rep_at"][0] = 99
    del f["tempering/rep_at"].attrs["checksum"]
    f.attrs["format_version"] = 2; del f.attrs["checksum"], f.attrs["correlation"]
PY
mpi 1 resume x.h5 --sweeps 700 --quiet 2> err.txt; st=$?
[ $st -eq 2 ] && grep -q "format 1 but with" err.txt && grep -q "rep_at\[0\] = 99" err.txt \
  && ok "damaged format number and out-of-range replica index: refused (exit 2) naming both" \
  || { bad "format number / replica index (status $st)"; cat err.txt; }
mpi 1 resume nothing.h5 --quiet 2> err.txt; st=$?
[ $st -eq 2 ] && grep -q "no usable checkpoint" err.txt && ok "missing checkpoint: exit 2" || { bad "missing (status $st)"; cat err.txt; }
printf 'not hdf5' > f.h5.ckpt
mpi 1 resume f.h5 --quiet 2> err.txt; st=$?
[ $st -eq 2 ] && grep -q "not a readable HDF5" err.txt && ok "foreign checkpoint: exit 2" || { bad "foreign (status $st)"; cat err.txt; }
# 5. physics changes refused
mpi 1 resume a-1-2.h5 --quiet --set "model.T=1.8 2.1 2.4 2.9" --set montecarlo.seed=5 2> err.txt; st=$?
[ $st -eq 2 ] && grep -q "temperature 3" err.txt && grep -q "seed 13 -> 5" err.txt && ok "physics change refused, differences listed" \
  || { bad "physics change (status $st)"; cat err.txt; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
