#!/bin/sh
# cli_errors.sh ISING SOURCE_DIR -- bad input at the command line: each case
# must exit with status 2, print one line naming what is wrong, and leave an
# existing output file untouched; a second job on a running job's output is
# refused.
set -u
ising=$1; src=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/ising-cli-XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
pass=0; fail=0
expect() { # expect STATUS PATTERN NP ARGS...
  want=$1; pat=$2; np=$3; shift 3
  if [ "$np" -eq 1 ]; then
    "$ising" "$@" > out.txt 2> err.txt
  else
    mpiexec -q -n "$np" --oversubscribe "$ising" "$@" > out.txt 2> err.txt
  fi
  got=$?
  # exactly one error line from ising (mpiexec may add its own report)
  lines=$(grep -c '^ising: error' err.txt)
  if [ "$got" -eq "$want" ] && { [ -z "$pat" ] || grep -q -- "$pat" err.txt; } && { [ "$want" -eq 0 ] || [ "$lines" -eq 1 ]; }; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "FAIL: ising $* (np $np): status $got (want $want), stderr:"; cat err.txt
  fi
}
printf '[lattice]\nL = 8\n[montecarlo]\nsweeps = 64\nthermalization = 0\n[output]\nfile = good.h5\n' > good.ini
expect 2 "cannot read deck 'missing.ini'" 1 run missing.ini
expect 2 "unknown command" 1 frobnicate
expect 2 "unknown option '--bogus'" 1 run good.ini --bogus
expect 2 "no deck given" 1 run
printf '[lattice]\nL = 7\n' > odd.ini
expect 2 "odd.ini:2: \[lattice\] L = 7: L must be even" 1 run odd.ini
expect 2 "lattice.L=9" 1 run good.ini --set lattice.L=9
expect 2 "cannot tile" 3 run good.ini --set lattice.L=2
expect 2 "directory 'no/such' does not exist" 1 run good.ini --set output.file=no/such/x.h5
expect 2 "at least 32" 1 run good.ini --set montecarlo.sweeps=40 --set measurement.interval=2
expect 2 "32-bit counter" 1 run good.ini --set montecarlo.sweeps=4294967296
expect 2 "expected an integer" 1 bench --L abc
# tempering: ladder not increasing, T <= 0, copies < 1, a layout that does not divide, idle groups
expect 2 "strictly increasing" 1 run good.ini --set "model.T=2.0 1.5"
expect 2 "finite number > 0" 1 run good.ini --set "model.T=1.0 -2"
expect 2 "copies" 1 run good.ini --set montecarlo.copies=0
expect 2 "multiple of ranks_per_replica" 3 run good.ini --set "model.T=1 2 3" --set parallel.ranks_per_replica=2
expect 2 "groups would idle" 4 run good.ini --set "model.T=1 2" --set parallel.ranks_per_replica=1
# quenched disorder: bad [disorder] and overlap input (nothing written: good.h5 does not exist yet)
expect 2 "overlaps are between copies" 1 run good.ini --set measurement.overlap=yes
expect 2 "bond_dilution must be a number between 0 and 1" 1 run good.ini --set disorder.bond_dilution=1.5
expect 2 "field_strength needs random fields" 1 run good.ini --set disorder.field_strength=0.5
expect 2 "random fields need field_strength > 0" 1 run good.ini --set disorder.fields=gaussian
expect 2 "couplings must be uniform" 1 run good.ini --set disorder.couplings=cauchy
expect 2 "draws couplings" 1 run good.ini --set disorder.file=x.h5 --set disorder.couplings=bimodal
expect 2 "cannot open it as an HDF5 file" 1 run good.ini --set disorder.file=missing.h5
expect 2 "takes uniform couplings only" 1 run good.ini --set disorder.couplings=bimodal --set montecarlo.algorithm=wolff
expect 2 "samples must be an integer" 1 run good.ini --set disorder.samples=0
expect 2 "replicas, more than" 1 run good.ini --set disorder.samples=1000000 --set "model.T=1 2 3 4 5"
expect 2 "overlaps keep" 4 run good.ini --set disorder.couplings=bimodal --set disorder.samples=2 --set montecarlo.copies=2 --set parallel.ranks_per_replica=1
[ ! -e good.h5 ] || { fail=$((fail + 1)); echo "FAIL: a refused disorder deck wrote good.h5"; }
expect 0 "" 1 run good.ini --quiet
cp good.h5 before.h5
expect 2 "output file exists" 2 run good.ini --quiet
if cmp -s good.h5 before.h5; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: existing output was modified"; fi
expect 0 "" 2 run good.ini --quiet --force
# decks that inih would misread, and physics that cannot run: refused at
# parse time with one line naming file:line or the key, even with --force a
# finished output stays as it was, and nothing new appears in the directory
printf '[lattice] L = 8\n[output]\nfile = hdr.h5\n' > hdr.ini
printf '[lattice]\rL = 8\r[output]\rfile = cr.h5\r' > cr.ini
printf '[lattice]\nL = 8\n[model]\nT = 2\n\000[output]\nfile = nul.h5\n' > nul.ini
printf '[lattice]\nL = 8\n  [output]\nfile = ind.h5\n' > ind.ini
mkdir deckdir.ini
cp good.h5 before.h5
ls -A | grep -v '^files_' > files_before.txt
expect 2 "hdr.ini:1: text after the section header \[lattice\]: 'L = 8'" 1 run hdr.ini --force
expect 2 "cr.ini:1: a carriage return (\\\\r) that does not end the line" 2 run cr.ini --force
expect 2 "nul.ini:5: the deck contains a NUL byte" 2 run nul.ini --force
expect 2 "cannot read deck 'deckdir.ini': it is a directory, not a file" 2 run deckdir.ini
expect 2 "cannot read deck 'deckdir.ini': it is a directory, not a file" 1 baseline deckdir.ini
expect 2 "ind.ini:3: indented section header '\[output\]' is read as more of the value of \[lattice\] L (line 2)" 1 run ind.ini
expect 2 "\[model\] T = 1e-320: T must be a finite number > 0, between 1e-100 and 1e+100" 1 run good.ini --force --set model.T=1e-320
expect 2 "\[model\] T = 1e-200: T must be a finite number > 0, between 1e-100 and 1e+100" 2 run good.ini --force --set model.T=1e-200
expect 2 "\[model\] J = 1e300: J must be a finite number between -1e+100 and 1e+100" 1 run good.ini --force --set model.J=1e300
expect 2 "\[model\] T = 1e-60 1: at T = 1e-60 the largest local field in units of T" 1 run good.ini --force --set "model.T=1e-60 1"
expect 2 "\[tempering\] T_min = 1e-60: at T = 1e-60 the largest local field" 1 run good.ini --force --set tempering.ladder=geometric --set tempering.T_min=1e-60 --set tempering.T_max=3 --set tempering.count=4
expect 2 "\[tempering\] T_min = 1e-320: T_min must be a finite number > 0" 1 run good.ini --force --set tempering.ladder=linear --set tempering.T_min=1e-320 --set tempering.T_max=3 --set tempering.count=4
long=$(printf 'o%.0s' $(seq 250))
expect 2 "\[output\] file = o.*: the file name 'o.*' has 253 bytes; with the suffix '.ckpt.old'" 1 run good.ini --force --set "output.file=$long.h5"
ls -A | grep -v '^files_' > files_after.txt
if cmp -s files_before.txt files_after.txt; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: a refused deck left files:"; diff files_before.txt files_after.txt; fi
if cmp -s good.h5 before.h5; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: a refused deck modified the finished output"; fi
rm -f files_before.txt files_after.txt
# CR LF line ends are read as LF
printf '[lattice]\r\nL = 8\r\n[montecarlo]\r\nsweeps = 64\r\nthermalization = 0\r\n[output]\r\nfile = crlf.h5\r\n' > crlf.ini
expect 0 "" 1 run crlf.ini --quiet
if "$ising" info crlf.h5 | grep -q "status *finished"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: the CR LF deck did not finish"; fi
# options: a value out of range or missing, an unknown option
expect 2 "ising resume: --sweeps 18446744073709551615: expected an integer between 1 and 4294967295" 1 resume good.h5 --sweeps 18446744073709551615
expect 2 "ising resume: --sweeps -5: expected an integer between 1 and 4294967295" 2 resume good.h5 --sweeps -5
expect 2 "ising resume: --sweeps needs a value" 1 resume good.h5 --sweeps
expect 2 "ising run: --set needs a value" 1 run good.ini --set
expect 2 "ising baseline: --field needs a value" 1 baseline good.ini --field
expect 2 "ising bench: unknown option '--bogus'" 1 bench --bogus
expect 2 "ising bench: unknown option '--bogus'" 1 bench --bogus 3
expect 2 "ising bench: --L needs a value" 1 bench --L
expect 2 "ising bench: --kernel slow: expected " 1 bench --kernel slow
expect 2 "ising bench: --T 1e-320 --H 0: T = " 1 bench --T 1e-320
expect 2 "ising bench: --kernel msc-async takes --couplings bimodal without" 1 bench --kernel msc-async --couplings gaussian
expect 0 "" 1 bench --kernel msc-async --couplings bimodal --L 8 --sweeps 2 --repeat 1
grep -q "couplings bimodal (32 samples x 2 replicas)" out.txt && grep -q "bytes per replica-site" out.txt &&
  pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: bench msc-async with bimodal couplings:"; cat out.txt; }
expect 2 "ising baseline: unknown option '--bogus'" 1 baseline good.ini --bogus
if cmp -s good.h5 before.h5; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: a refused option modified the output"; fi
# measurement keys: an interval below 1, a G(r) range beyond L/2 (even with
# --force the existing output stays as it was)
cp good.h5 before.h5
expect 2 "\[measurement\] interval = 0: interval must be an integer between 1 and sweeps" 1 run good.ini --force --set measurement.interval=0
expect 2 "\[measurement\] correlation_rmax = 5: correlation_rmax must be between 0 and L/2 = 4" 2 run good.ini --force --set measurement.correlation=yes --set measurement.correlation_rmax=5
if cmp -s good.h5 before.h5; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: a refused deck modified the output"; fi
# baseline: the variational field file, and refusing to overwrite it
expect 0 "" 2 baseline good.ini --set "model.T=2 5" --field field.h5
if [ -s field.h5 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: no field file"; fi
expect 2 "cannot create 'field.h5'" 1 baseline good.ini --field field.h5
printf '[lattice]\nL = 8\n[latice]\nL = 8\n' > typo.ini
expect 2 "typo.ini:3" 1 run typo.ini
# the generator: philox or ars only
expect 2 "rng = aes: rng must be philox (Philox4x32-10) or ars" 1 run good.ini --force --set montecarlo.rng=aes
expect 2 "ising bench: --rng mt: expected philox or ars" 1 bench --rng mt
# the multi-spin-coding kernel: Metropolis and J > 0 only
expect 2 "kernel = msc: the multi-spin-coding kernel does Metropolis only" 1 run good.ini --force --set montecarlo.kernel=msc --set montecarlo.algorithm=heatbath
expect 2 "kernel = msc: the multi-spin-coding kernel needs a ferromagnet" 1 run good.ini --force --set montecarlo.kernel=msc --set model.J=-1
expect 2 "kernel = msc keeps x rows whole" 16 run good.ini --force --set montecarlo.kernel=msc
# the multi-replica kernel: each lattice whole on one rank, whole sets of 64
expect 2 "kernel = msc-async keeps each lattice whole on one rank" 2 run good.ini --force --set montecarlo.kernel=msc-async
expect 2 "into 1 set of 64 and never splits a set, so at most 1 rank" 2 run good.ini --force --set montecarlo.kernel=msc-async --set parallel.ranks_per_replica=1
expect 2 "kernel = msc-async: the multi-spin-coding kernel does Metropolis only" 1 run good.ini --force --set montecarlo.kernel=msc-async --set montecarlo.algorithm=heatbath
# one job per output (OUTPUT.lock): while a run is going, a second run with
# --force and a resume of its output are refused and leave it alone (short
# sweeps: without the lock they would end at once, with another status or
# message); after
# it has stopped, the output is free again
printf '[lattice]\nL = 64\n[montecarlo]\nsweeps = 100000000\n[checkpoint]\nevery_sweeps = 2000\n[output]\nfile = busy.h5\n' > busy.ini
"$ising" run busy.ini --quiet > /dev/null 2>&1 &
busy=$!
n=0; while [ ! -s busy.h5.ckpt ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
expect 2 "output 'busy.h5' is in use by another ising job (pid $busy on host" 1 run busy.ini --force --set montecarlo.sweeps=64
expect 2 "output 'busy.h5' is in use by another ising job" 2 resume busy.h5 --sweeps 64
if kill -0 "$busy" 2>/dev/null; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: the running job died"; fi
kill -TERM "$busy"; wait "$busy"
expect 0 "" 1 run busy.ini --force --quiet --set montecarlo.sweeps=64 --set checkpoint.every_sweeps=0
# a wall-time budget: shorter than the run's 30 s slack is refused; a budget
# just above it stops the run at once with status 3, a checkpoint and a
# "stopped" output (a long deck that would otherwise run for minutes)
expect 2 "--walltime 20: must be more than 30 seconds" 1 run good.ini --force --walltime 20
printf '[lattice]\nL = 64\n[montecarlo]\nsweeps = 100000000\n[output]\nfile = wall.h5\n' > wall.ini
timeout 120 "$ising" run wall.ini --walltime 31 > out.txt 2> err.txt; got=$?
if [ "$got" -eq 3 ] && grep -q "wall-time budget" err.txt out.txt && [ -s wall.h5.ckpt ] && \
   "$ising" info wall.h5 | grep -q "status *stopped"; then
  pass=$((pass + 1))
else
  fail=$((fail + 1)); echo "FAIL: --walltime 31: status $got (want 3), stderr:"; cat err.txt
fi
# ISING_ISA forcing a kernel path: a value that names no path is refused by
# run and bench, on 1 and 2 ranks, before anything is written
cp good.h5 keep.h5
export ISING_ISA=sse9
expect 2 "ISING_ISA=sse9: must be portable, avx2 or avx512" 1 run good.ini --force
expect 2 "ISING_ISA=sse9: must be portable, avx2 or avx512" 2 run good.ini --force
expect 2 "ISING_ISA=sse9: must be portable, avx2 or avx512" 1 bench --L 8 --sweeps 2
unset ISING_ISA
export ISING_PDEP=fast
expect 2 "ISING_PDEP=fast: must be native or emulated" 1 run good.ini --force
expect 2 "ISING_PDEP=fast: must be native or emulated" 1 bench --L 8 --sweeps 2
unset ISING_PDEP
if cmp -s good.h5 keep.h5; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: ISING_ISA=sse9 or ISING_PDEP=fast changed good.h5"; fi
# A path this CPU lacks ("this CPU lacks the avx512 path", exit 2) can only
# be staged on a CPU that lacks it: the check asks the CPU itself (cpuid),
# and a test machine that runs all three paths has none to refuse.  Each
# path is tried: one the CPU runs must work, one it lacks must be refused
# with that line (a build without the choice, ISING_NATIVE=ON, refuses any).
for isa in portable avx2 avx512; do
  ISING_ISA=$isa "$ising" bench --L 8 --sweeps 2 > out.txt 2> err.txt
  got=$?
  if [ $got -eq 0 ] && grep -q "kernel fast/$isa" out.txt; then
    pass=$((pass + 1))
  elif [ $got -eq 2 ] && [ "$(grep -c '^ising: error' err.txt)" -eq 1 ] &&
       grep -q "ISING_ISA=$isa: this CPU lacks the $isa path" err.txt; then
    pass=$((pass + 1)); echo "note: this CPU lacks the $isa path (refused as it must be)"
  elif [ $got -eq 2 ] && grep -q "ISING_ISA=$isa: this build has one path per kernel" err.txt; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "FAIL: ISING_ISA=$isa ising bench: status $got, stdout and stderr:"; cat out.txt err.txt
  fi
done
# many replicas of a tiny lattice on 2 ranks (issue 19, item 3): L = 2, a
# 64-temperature linear ladder, 63 and 64 copies, in one replica group of
# 2 ranks and in 2 groups; an error on one rank inside a collective HDF5
# phase used to leave the other waiting forever: it must finish, exit 0,
# within the timeout
printf '[lattice]\nL = 2\n[montecarlo]\nseed = 3\nthermalization = 10\nsweeps = 100\n[tempering]\nladder = linear\nT_min = 1.5\nT_max = 4.0\ncount = 64\n[measurement]\ninterval = 2\n' > many.ini
for copies in 63 64; do
  for rpr in 0 1; do
    timeout 120 mpiexec -q -n 2 --oversubscribe "$ising" run many.ini --quiet --force \
      --set output.file=many.h5 --set montecarlo.copies=$copies \
      --set parallel.ranks_per_replica=$rpr > out.txt 2> err.txt
    got=$?
    if [ $got -eq 0 ] && "$ising" info many.h5 | grep -q "status *finished"; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1)); echo "FAIL: many.ini, $copies copies, ranks_per_replica $rpr on 2 ranks: status $got (want 0), stderr:"; cat err.txt
    fi
  done
done
# the cluster algorithms: wolff keeps each lattice whole on one rank and
# runs at H = 0, its automatic clusters_per_sweep (0) is chosen during the
# thermalization, clusters_per_sweep is wolff's alone, and kernel chooses a
# local-update kernel (not for swendsen-wang or wolff).  One line naming the
# key, exit 2; even with --force the finished output stays as it was, and
# nothing new appears in the directory
printf '[lattice]\nL = 8\n[montecarlo]\nalgorithm = wolff\nclusters_per_sweep = abc\nthermalization = 10\n[output]\nfile = cl.h5\n' > cl.ini
printf '[lattice]\nL = 8\n[montecarlo]\nalgorithm = wolff\nsweeps = 64\nthermalization = 10\n[output]\nfile = good.h5\n' > wolff.ini
cp good.h5 before.h5
ls -A | grep -v '^files_' > files_before.txt
expect 2 "\[parallel\] ranks_per_replica = 0 (default): algorithm = wolff keeps each lattice whole on one rank; set ranks_per_replica = 1 (2 ranks now share one)" 2 run wolff.ini --force
expect 2 "--set parallel.ranks_per_replica=2: algorithm = wolff keeps each lattice whole on one rank; set ranks_per_replica = 1 (2 ranks now share one)" 4 run wolff.ini --force --set "model.T=2 3" --set parallel.ranks_per_replica=2
expect 2 "ising bench: --algorithm wolff keeps a lattice whole on one rank and the bench spreads one lattice over all 2 ranks: run it on one rank" 2 bench --algorithm wolff --L 8 --sweeps 2
expect 2 "\[montecarlo\] clusters_per_sweep = -1: clusters_per_sweep must be an integer between 0 (automatic) and 1000000000" 1 run wolff.ini --force --set montecarlo.clusters_per_sweep=-1
expect 2 "\[montecarlo\] clusters_per_sweep = 1000000001: clusters_per_sweep must be an integer between 0 (automatic) and 1000000000" 2 run wolff.ini --force --set montecarlo.clusters_per_sweep=1000000001
expect 2 "cl.ini:5: \[montecarlo\] clusters_per_sweep = abc: clusters_per_sweep must be an integer between 0 (automatic) and 1000000000" 1 run cl.ini --force
expect 2 "\[montecarlo\] clusters_per_sweep = 5: clusters_per_sweep applies to algorithm = wolff only, \[montecarlo\] algorithm = metropolis (default)" 1 run good.ini --force --set montecarlo.clusters_per_sweep=5
expect 2 "clusters_per_sweep = 0: clusters_per_sweep applies to algorithm = wolff only, \[montecarlo\] algorithm = swendsen-wang (--set)" 1 run good.ini --force --set montecarlo.algorithm=swendsen-wang --set montecarlo.clusters_per_sweep=0
expect 2 "\[montecarlo\] kernel = msc: kernel chooses a local-update kernel (metropolis, heatbath); algorithm = swendsen-wang has a backend of its own: remove the kernel key" 2 run good.ini --force --set montecarlo.algorithm=swendsen-wang --set montecarlo.kernel=msc
expect 2 "wolff.ini:4: \[montecarlo\] algorithm = wolff: wolff runs at H = 0 only (\[model\] H = 0.1); use swendsen-wang for a field" 1 run wolff.ini --force --set model.H=0.1
expect 2 "wolff.ini:4: \[montecarlo\] algorithm = wolff: clusters_per_sweep = 0 (automatic) is chosen during the thermalization, which is 0; set thermalization > 0 or clusters_per_sweep" 2 run wolff.ini --force --set montecarlo.thermalization=0
ls -A | grep -v '^files_' > files_after.txt
if cmp -s files_before.txt files_after.txt; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: a refused cluster deck left files:"; diff files_before.txt files_after.txt; fi
if cmp -s good.h5 before.h5; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: a refused cluster deck modified the finished output"; fi
rm -f files_before.txt files_after.txt
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
