#!/bin/bash
# diskfull.sh ISING -- a full disk ends a run cleanly and loses nothing.
# A run whose time series (deck f) or checkpoints (deck c: three
# generations of 1.4 MB during a write) outgrow a 4 MiB tmpfs, on 1 and 2
# ranks:
#  - when the file system shows the shortage (statvfs: the run checks for
#    room before each write) and when it does not (ISING_NO_SPACE_CHECK=1:
#    the write itself fails inside HDF5, as a quota that statvfs does not
#    show makes it),
#  - the run ends within seconds with exit 1 and one error line that names
#    the output file, no hang and no crash at exit;
#  - the output stays readable and the two checkpoint generations valid;
#  - after the space is freed (the tmpfs remounted larger, in place),
#    `ising resume` finishes with /timeseries and /summary equal to an
#    uninterrupted run's;
# and a disk too small even for HDF5's metadata ends within seconds.
# Needs root to mount a tmpfs; skipped (exit 77) where it cannot.
set -u
ising=$1
if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: mounting a small tmpfs needs root"
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ising-diskfull-XXXXXX")
mnt=$work/mnt
mkdir -p "$mnt"
cleanup() {
  mountpoint -q "$mnt" && umount "$mnt"
  rm -rf "$work"
}
trap cleanup EXIT
if ! mount -t tmpfs -o size=4m tmpfs "$mnt" 2> /dev/null; then
  echo "SKIP: cannot mount a tmpfs here (no privilege in this container?)"
  exit 77
fi
umount "$mnt"
cd "$work"
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
mpi() { local np=$1; shift; mpiexec -q -n "$np" --oversubscribe "$@"; }
# about 1.6 MB of time series per 4096 rows: the 4 MiB tmpfs fills after
# two flushes, long before the 24000 rows and the checkpoints every 2000
# sweeps are done
cat > f.ini << 'DECK'
[lattice]
L = 8
[model]
T = 2.0 2.3 2.6 3.0
[montecarlo]
copies = 2
seed = 21
thermalization = 100
sweeps = 24000
[tempering]
interval = 5
[measurement]
interval = 1
[checkpoint]
every_sweeps = 2000
DECK
cat > c.ini << 'DECK'
[lattice]
L = 300
[model]
T = 2.0 2.3 2.6 3.0
[montecarlo]
copies = 4
seed = 5
thermalization = 10
sweeps = 400
[tempering]
interval = 5
[measurement]
interval = 10
[checkpoint]
every_sweeps = 20
DECK
for d in f c; do
  mpi 1 "$ising" run $d.ini --quiet --set output.file=$d-ref.h5 || bad "deck $d: reference run"
done
for d in f c; do
for np in 1 2; do
  for how in check write; do
    label="deck $d, $np rank(s), full disk found by the $how"
    mount -t tmpfs -o size=4m tmpfs "$mnt" || { bad "$label: mount"; continue; }
    env=()
    [ $how = write ] && env=(-x ISING_NO_SPACE_CHECK=1)
    start=$(date +%s)
    timeout 60 mpiexec -q -n "$np" --oversubscribe "${env[@]}" "$ising" run $d.ini --quiet \
      --set output.file="$mnt/$d.h5" > out.txt 2> err.txt
    got=$? took=$(($(date +%s) - start))
    # Open MPI's own "mca_fbtl_posix_pwritev: ... No space left on device"
    # lines are not ours
    grep -v '^mca_' err.txt > ours.txt
    if [ $got -eq 1 ] && [ $took -le 30 ] && [ "$(wc -l < ours.txt)" -eq 1 ] &&
       grep -q "ising: error.*$mnt/$d.h5.*No space left on device" ours.txt; then
      ok "$label: exit 1 after ${took}s with one message naming the file"
    else
      bad "$label: status $got after ${took}s (want 1 within 30 s and one message), stderr:"
      cat err.txt
    fi
    h5ls -r "$mnt/$d.h5" > /dev/null 2>&1 && ok "$label: the output is readable" \
      || bad "$label: the output is not readable"
    n=0
    for g in "$mnt/$d.h5.ckpt" "$mnt/$d.h5.ckpt.old"; do
      "$ising" info "$mnt/$d.h5" 2> /dev/null | grep -q "${g##*/}: generation.*complete" && n=$((n + 1))
    done
    [ -e "$mnt/$d.h5.ckpt.tmp" ] && n=$((n - 10)) # a failed generation is removed
    [ $n -eq 2 ] && ok "$label: both checkpoint generations are there" \
      || bad "$label: not the 2 complete checkpoint generations alone ($n)"
    # space freed: the same file system, larger
    mount -o remount,size=64m "$mnt" || bad "$label: remount"
    if timeout 120 mpiexec -q -n "$np" --oversubscribe "$ising" resume "$mnt/$d.h5" --quiet > out.txt 2> err.txt; then
      r=0
      for o in /timeseries /summary; do
        h5diff -q $d-ref.h5 "$mnt/$d.h5" $o $o > /dev/null 2>&1 || { r=1; echo "  $o differs:"; h5diff $d-ref.h5 "$mnt/$d.h5" $o $o | head -5; }
      done
      [ $r -eq 0 ] && ok "$label: resumed after freeing space = uninterrupted" \
        || bad "$label: resumed run differs from the uninterrupted one"
    else
      bad "$label: resume failed, stderr:"
      cat err.txt
    fi
    umount "$mnt"
  done
done
done
# a disk too small for HDF5's own metadata, unseen by the room check: HDF5
# cannot close the file and its ranks wait in different collective calls;
# the watchdog ends the run with status 1 and one line (the output is lost:
# no checkpoint was ever written)
mount -t tmpfs -o size=40k tmpfs "$mnt" || bad "tiny disk: mount"
start=$(date +%s)
timeout 60 mpiexec -q -n 2 --oversubscribe -x ISING_NO_SPACE_CHECK=1 "$ising" run c.ini --quiet \
  --set output.file="$mnt/c.h5" > out.txt 2> err.txt
got=$? took=$(($(date +%s) - start))
grep -v '^mca_' err.txt > ours.txt
if [ $got -eq 1 ] && [ $took -le 30 ] && [ "$(wc -l < ours.txt)" -eq 1 ] && grep -q "$mnt/c.h5" ours.txt; then
  ok "tiny disk, 2 ranks: exit 1 after ${took}s with one message"
else
  bad "tiny disk, 2 ranks: status $got after ${took}s (want 1 within 30 s and one message), stderr:"
  cat err.txt
fi
umount "$mnt"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
