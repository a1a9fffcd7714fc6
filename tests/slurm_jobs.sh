#!/bin/bash
# tests/slurm_jobs.sh ISING -- jobs/ising.sbatch and jobs/fss.sh on a real
# single-node SLURM started on localhost (../shared/notes/slurm-localhost.md).
#
#   bash tests/slurm_jobs.sh build/ising
#
# Needs root (munged, slurmctld, slurmd); installs the Debian packages
# slurmctld slurmd slurm-client munge with apt-get when missing.  When SLURM
# cannot be installed or started it prints "SKIPPED: reason" and exits
# $SLURM_TEST_SKIP_CODE (default 0; set it to 77 for ctest SKIP_RETURN_CODE).
# Tests: (a) jobs/fss.sh: a job array of three 2D sizes and the dependent
# report job; (b) a job sent USR1 mid-run checkpoints, resubmits itself and
# ends bit-identical to an uninterrupted run; (c) a bad deck (exit 2) is not
# resubmitted; (d) an FSS array task stopped by USR1; (e) scancel (SIGTERM to
# every process of the job) mid-run ends in a stop checkpoint that resumes and
# a resubmission; (f) so does a USR1 right at the launch of mpirun.  Prints "N passed, M failed"; SLURM and munge are stopped at
# the end.
set -u
ISING=$(readlink -f "${1:?usage: tests/slurm_jobs.sh ISING}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SKIP=${SLURM_TEST_SKIP_CODE:-0}
skip() { echo "SKIPPED: $*"; exit "$SKIP"; }
[ -x "$ISING" ] || { echo "tests/slurm_jobs.sh: $ISING is not an executable" >&2; exit 2; }
SLURM_LOCAL_CLUSTER=isingtest
SLURM_LOCAL_PREFIX=/tmp/ising-slurm
. "$ROOT/tests/slurm_local.sh"

pass=0; fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
export ISING
W=$T/work; mkdir -p "$W"; cd "$W" || exit 1
queue_empty() { [ -z "$(squeue -h -o %i 2>/dev/null)" ]; }
wait_queue() {  # wait_queue SECONDS: until no job is left in the queue
  local end=$((SECONDS + $1))
  while [ $SECONDS -lt $end ]; do queue_empty && return 0; sleep 0.5; done
  return 1
}
status_of() { "$ISING" info "$1" 2>/dev/null | awk '$1 == "status" {print $2; exit}'; }
show_logs() { for f in "$@"; do echo "--- $f"; tail -n 15 "$f"; done; }

deck() {  # deck FILE L SWEEPS OUTPUT
  cat > "$1" <<EOF
[lattice]
dim = 2
L = $2
[model]
T = 2.3
[montecarlo]
seed = 17
thermalization = 200
sweeps = $3
[checkpoint]
every_minutes = 0
[output]
file = $4 ; comment
progress = 0
EOF
}

# (a) FSS job array + dependent report job
deck "$W/fss.ini" 4 1000 template.h5
echo "== (a) jobs/fss.sh: job array L=8,12,16 + report job"
if bash "$ROOT/jobs/fss.sh" "$W/fss.ini" "$W/fss" 8 12:2000 16:1000:2 > "$W/fss.log" 2>&1; then
  cat "$W/fss.log"
  if wait_queue 90 && [ -s "$W/fss/report.txt" ]; then
    all=1
    for L in 8 12 16; do
      [ "$(status_of "$W/fss/L$L.h5")" = finished ] || { all=0; bad "(a) L$L.h5 not finished"; }
      grep -q "L$L.h5: status finished, 2D L=\[$L, $L\]" "$W/fss/report.txt" || { all=0; bad "(a) report.txt lacks L=$L"; }
    done
    [ $all = 1 ] && ok "(a) array of 3 sizes finished, report.txt written"
    # re-run: every size is finished, nothing but the report is submitted
    if bash "$ROOT/jobs/fss.sh" "$W/fss.ini" "$W/fss" 8 12:2000 16:1000:2 > "$W/fss2.log" 2>&1 &&
       grep -q "skip L=8" "$W/fss2.log" && grep -q "skip L=16" "$W/fss2.log" && ! grep -q "array" "$W/fss2.log"; then
      ok "(a) re-run skips finished sizes"
    else
      bad "(a) re-run did not skip finished sizes"; cat "$W/fss2.log"
    fi
    wait_queue 30
  else
    bad "(a) no report.txt after 90 s"; squeue; ls -l "$W/fss"; show_logs "$W"/fss/*.out
  fi
else
  bad "(a) jobs/fss.sh failed"; cat "$W/fss.log"
fi

# (b) USR1 mid-run -> checkpoint -> resubmission -> identical result
echo "== (b) USR1 mid-run, checkpoint, resubmission, identical output"
mkdir -p "$W/b" && cd "$W/b" || exit 1
deck ref.ini 96 150000 ref.h5
mpirun_env() { if [ "$(id -u)" -eq 0 ]; then OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "$@"; else "$@"; fi; }
mpirun_env mpirun --oversubscribe -n 2 "$ISING" run ref.ini --quiet > ref.log 2>&1 &
refpid=$!
# (the USR1 comes when the ranks are up: no need to wait ISING_SIGNAL_DELAY)
jid=$(ISING_SIGNAL_DELAY=0 sbatch --parsable --ntasks=2 "$ROOT/jobs/ising.sbatch" ref.ini --set output.file=sig.h5)
jid=${jid%%;*}
for i in $(seq 200); do
  [ -e sig.h5 ] && [ "$(squeue -h -j "$jid" -o %T 2>/dev/null)" = RUNNING ] && break
  sleep 0.1
done
sleep 1
scancel --signal=USR1 --batch "$jid"
wait $refpid; refst=$?
if wait_queue 90; then
  if [ $refst -ne 0 ]; then
    bad "(b) reference run failed ($refst)"; cat ref.log
  elif ! grep -q "round 1 job $jid status 3" sig.h5.jobs || ! grep -q "^round 2 job .* status 0" sig.h5.jobs; then
    bad "(b) no checkpoint + resubmission chain"; cat sig.h5.jobs; show_logs ising-*.out
  elif [ "$(status_of sig.h5)" != finished ]; then
    bad "(b) sig.h5 not finished"; show_logs ising-*.out
  elif h5diff ref.h5 sig.h5 /timeseries /timeseries >/dev/null && h5diff ref.h5 sig.h5 /summary /summary >/dev/null &&
       h5diff ref.h5.ckpt sig.h5.ckpt /spins /spins >/dev/null; then
    ok "(b) stopped by USR1, resumed in round 2, /timeseries /summary /spins identical"
  else
    bad "(b) output differs from the uninterrupted run"
    h5diff -q ref.h5 sig.h5 /timeseries /timeseries; h5diff -q ref.h5 sig.h5 /summary /summary
  fi
else
  bad "(b) job chain did not finish in 90 s"; squeue; show_logs ising-*.out
fi

# (c) bad deck: exit 2, not resubmitted
echo "== (c) bad deck is not resubmitted"
mkdir -p "$W/c" && cd "$W/c" || exit 1
deck bad.ini 7 100 bad.h5
jid=$(sbatch --parsable --ntasks=1 "$ROOT/jobs/ising.sbatch" bad.ini); jid=${jid%%;*}
if wait_queue 30; then
  nout=$(ls ising-*.out 2>/dev/null | wc -l)
  st=$(scontrol show job "$jid" 2>/dev/null | tr ' ' '\n' | awk -F= '$1 == "ExitCode" {print $2; exit}')
  if [ "$nout" = 1 ] && [ "$st" = "2:0" ] && grep -q "not resubmitted" "ising-$jid.out" && [ ! -e bad.h5 ]; then
    ok "(c) bad deck: job exit 2, one job, no resubmission"
  else
    bad "(c) bad deck: $nout job logs, ExitCode=$st"; show_logs ising-*.out
  fi
else
  bad "(c) bad-deck job still queued after 30 s"; squeue
fi

# (d) an FSS array task stopped by USR1 resubmits itself; the report job waits for it
echo "== (d) fss.sh: array task stopped by USR1, resubmitted, report deferred until it finishes"
cd "$W" || exit 1
deck "$W/long.ini" 4 250000 template.h5
if ISING_SIGNAL_DELAY=0 bash "$ROOT/jobs/fss.sh" "$W/long.ini" "$W/fssd" 96::2 > "$W/fssd.log" 2>&1; then
  aid=$(awk '/array job/ {print $4; exit}' "$W/fssd.log")
  for i in $(seq 200); do
    [ -e "$W/fssd/L96.h5" ] && [ "$(squeue -h -j "${aid}_0" -o %T 2>/dev/null)" = RUNNING ] && break
    sleep 0.1
  done
  sleep 1
  scancel --signal=USR1 --batch "${aid}_0"
  if wait_queue 90 && [ -s "$W/fssd/report.txt" ]; then
    if grep -q "^round 2 job .* status 0" "$W/fssd/L96.h5.jobs" && grep -q "report deferred" "$W"/fssd/report-*.out &&
       grep -q "L96.h5: status finished" "$W/fssd/report.txt"; then
      ok "(d) array task resubmitted, finished in round 2, report written after it"
    else
      bad "(d) chain/report"; cat "$W/fssd/L96.h5.jobs"; show_logs "$W"/fssd/*.out
    fi
  else
    bad "(d) no report.txt after 90 s"; squeue; show_logs "$W"/fssd/*.out
  fi
else
  bad "(d) jobs/fss.sh failed"; cat "$W/fssd.log"
fi

# (e), (f): a long run stopped in round 1; the resubmission is held
# (ISING_SBATCH_OPTS=--hold), checked and cancelled, and the checkpoint is
# proved valid by resuming it to a short end here.
cat > "$W/b/long.ini" <<EOF
[lattice]
dim = 2
L = 96
[model]
T = 2.3
[montecarlo]
seed = 17
thermalization = 200
sweeps = 4000000
[measurement]
interval = 100
[checkpoint]
every_minutes = 0
[output]
file = long.h5
progress = 0
EOF
chain_stopped() {  # chain_stopped LABEL JID OUT PATTERN: round 1 stopped, round 2 held; resumable
  local label=$1 jid=$2 out=$3 pat=$4 next="" i sw
  for i in $(seq 600); do
    next=$(awk '$1 == "round" && $2 == 2 && $5 == "submitted" {print $4}' "$out.jobs" 2>/dev/null)
    [ -n "$next" ] && break
    sleep 0.2
  done
  if [ -z "$next" ] || ! grep -q "^round 1 job $jid status 3$pat" "$out.jobs"; then
    bad "$label: no checkpoint + resubmission"; cat "$out.jobs"; show_logs "ising-$jid.out"
    [ -n "$next" ] && scancel "$next"
    return
  fi
  for i in $(seq 150); do [ -z "$(squeue -h -j "$jid" -o %i 2>/dev/null)" ] && break; sleep 0.2; done
  [ "$(squeue -h -j "$next" -o %T 2>/dev/null)" = PENDING ] || bad "$label: round 2 ($next) not pending"
  scancel "$next"
  wait_queue 30
  sw=$("$ISING" info "$out" 2>/dev/null | awk '/ generation .* complete/ {print $4; exit}')
  if [ "$(status_of "$out")" != stopped ] || [ -z "$sw" ]; then
    bad "$label: $out not stopped with a complete checkpoint"; "$ISING" info "$out" | tail -n 3
  elif mpirun_env mpirun --oversubscribe -n 2 "$ISING" resume "$out" --quiet \
         --sweeps $(( (sw > 200 ? (sw - 200) / 100 * 100 : 0) + 1000 )) > "$out.resume.log" 2>&1 &&
       [ "$(status_of "$out")" = finished ]; then
    ok "$label: stop checkpoint at sweep $sw, round 2 submitted, the checkpoint resumes"
  else
    bad "$label: resume from the checkpoint failed"; cat "$out.resume.log"
  fi
}

# (e) scancel: SIGTERM to the batch shell, mpirun and the ranks mid-run; the
# ranks stop at a checkpoint, mpirun exits 1, the script judges the output
# and resubmits
echo "== (e) scancel (SIGTERM) mid-run: stop checkpoint, resubmission"
cd "$W/b" || exit 1
jid=$(ISING_SBATCH_OPTS=--hold sbatch --parsable --ntasks=2 "$ROOT/jobs/ising.sbatch" long.ini --set output.file=term.h5)
jid=${jid%%;*}
for i in $(seq 300); do
  [ -e term.h5 ] && [ "$(squeue -h -j "$jid" -o %T 2>/dev/null)" = RUNNING ] && break
  sleep 0.1
done
sleep 1
scancel "$jid"
chain_stopped "(e) scancel (SIGTERM)" "$jid" term.h5 " (launcher [a-z0-9 ]* after SIGTERM; stopped at a checkpoint"

# (f) USR1 to the batch shell right at the launch of mpirun (before the ranks
# exist, when mpirun would drop it): still a checkpoint and a resubmission
echo "== (f) USR1 at the launch of mpirun: checkpoint, resubmission"
jid=$(ISING_SBATCH_OPTS=--hold sbatch --parsable --ntasks=2 "$ROOT/jobs/ising.sbatch" long.ini --set output.file=early.h5)
jid=${jid%%;*}
for i in $(seq 600); do grep -q "on 2 tasks" "ising-$jid.out" 2>/dev/null && break; sleep 0.05; done
scancel --signal=USR1 --batch "$jid"
chain_stopped "(f) USR1 at the launch" "$jid" early.h5 ""

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
