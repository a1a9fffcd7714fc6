#!/bin/bash
# disorder_identity.sh ISING -- quenched disorder ([disorder]) keeps the
# promise of the same bits on any rank count (h5diff compares exactly):
#  1. [disorder] with uniform couplings and one sample = no [disorder]
#     (time series, summaries, tempering); samples = 3 with copies = 2 = no
#     [disorder] with copies = 6 (the samples of a uniform model are
#     copies): the engine's sample axis changes nothing else.
#  2. a 2D bimodal spin glass (ladder, two copies, 8 samples) and a 3D
#     gaussian model with dilution and random fields on 1, 2, 3, 4 and 8
#     ranks (replica groups of 1 rank, and all ranks splitting each
#     lattice: overlaps across blocks): /timeseries (overlap columns
#     included), /samples, /summary, /disorder (the couplings of every
#     sample are the same on every layout).
#  3. resume on another rank count = uninterrupted.
#  4. file round trip: a run with [disorder] file = the output of (2) gives
#     the same bits as (2), also stopped and resumed (a resume whose file
#     changed meanwhile is refused); a file whose couplings are all +J equals the
#     uniform ferromagnet; a file with NaN couplings or the wrong shape is
#     a one-line error, exit 2, nothing written.
#  5. power: another disorder seed gives other couplings and other series.
set -u
ising=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/ising-disid-XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
mpi() { local np=$1; shift; mpiexec -q -n "$np" --oversubscribe "$ising" "$@"; }
# same REF OUT LABEL [GROUPS...]: those groups identical (default: the results)
same() {
  local a=$1 b=$2 label=$3 r=0 o; shift 3
  local groups=${*:-/timeseries /summary /tempering /samples /disorder}
  for o in $groups; do
    h5ls "$a$o" > /dev/null 2>&1 || continue
    h5diff -r "$a" "$b" "$o" "$o" > diff.txt 2>&1 || { r=1; echo "  $o differs:"; head -n 8 diff.txt; }
  done
  [ $r -eq 0 ] && ok "$label" || bad "$label"
}
cat > u.ini <<'DECK'
[lattice]
L = 10 6
[model]
T = 1.8 2.4 3.0
[montecarlo]
copies = 2
seed = 41
thermalization = 50
sweeps = 200
[tempering]
interval = 2
[measurement]
interval = 2
DECK
# 1. the uniform model through [disorder]
mpi 1 run u.ini --quiet --force --set output.file=u0.h5 || bad "u0"
mpi 1 run u.ini --quiet --force --set output.file=u1.h5 --set disorder.couplings=uniform --set measurement.overlap=no || bad "u1"
same u0.h5 u1.h5 "[disorder] couplings = uniform, one sample = no [disorder]" /timeseries/e /timeseries/m /summary /tempering
mpi 1 run u.ini --quiet --force --set output.file=u6.h5 --set montecarlo.copies=6 || bad "u6"
mpi 1 run u.ini --quiet --force --set output.file=u3.h5 --set disorder.samples=3 --set measurement.overlap=no || bad "u3"
same u6.h5 u3.h5 "3 uniform samples x 2 copies = 6 copies" /timeseries/e /timeseries/m /tempering/temperature_index
cat > g2.ini <<'DECK'
[lattice]
L = 12 10
[model]
T = 0.8 1.2 1.7 2.4
[montecarlo]
copies = 2
seed = 42
thermalization = 60
sweeps = 192
[tempering]
interval = 1
[measurement]
interval = 3
[disorder]
couplings = bimodal
samples = 8
seed = 9
DECK
cat > g3.ini <<'DECK'
[lattice]
dim = 3
L = 6 4 8
[model]
T = 1.5 2.5
H = 0.1
[montecarlo]
algorithm = heatbath
kernel = reference
copies = 3
seed = 43
thermalization = 20
sweeps = 64
[tempering]
interval = 2
[measurement]
interval = 2
[disorder]
couplings = gaussian
bond_dilution = 0.3
fields = gaussian
field_strength = 0.8
samples = 4
seed = 10
DECK
cp g2.ini g2-orig.ini
# 2. rank counts (groups of 1 rank: whole samples per group; 0: lattices split)
for d in g2 g3; do
  mpi 1 run $d.ini --quiet --force --set output.file=$d-1.h5 || bad "$d on 1 rank"
  for np in 2 3 4 8; do
    for g in 1 0; do
      [ $d = g3 ] && [ $g = 1 ] && [ $np -gt 4 ] && continue # 4 samples: at most 4 groups
      mpi $np run $d.ini --quiet --force --set output.file=$d-$np-$g.h5 \
        --set parallel.ranks_per_replica=$g || { bad "$d on $np ranks ($g)"; continue; }
      same $d-1.h5 $d-$np-$g.h5 "$d: $np ranks, ranks_per_replica = $g = 1 rank"
    done
  done
done
# 2b. the fast kernel's per-site rule (gaussian, fields): rows of 4 sites
# (two rows per step on AVX-512, two steps back to back on AVX2, rows
# gathered into blocks on the portable path), and on 4 ranks (grid z 2,
# y 2) blocks of 3 rows per plane, whose last row goes alone; each path
# this CPU has on 4 ranks = the 1-rank run
for alg in heatbath metropolis; do
  set -- --quiet --force --set montecarlo.kernel=fast --set montecarlo.algorithm=$alg \
    --set lattice.L="8 6 4" --set parallel.ranks_per_replica=0
  mpi 1 run g3.ini "$@" --set output.file=g3f-1.h5 || bad "g3 fast $alg on 1 rank"
  for isa in avx512 avx2 portable; do
    ISING_ISA=$isa "$ising" bench --kernel fast --L 8 --sweeps 1 --repeat 1 > /dev/null 2>&1 || continue
    ISING_ISA=$isa mpi 4 run g3.ini "$@" --set output.file=g3f-4.h5 || bad "g3 fast $alg $isa on 4 ranks"
    same g3f-1.h5 g3f-4.h5 "g3 fast $alg (rows of 4 sites, blocks of 3 rows): $isa on 4 ranks = 1 rank"
  done
done
# 3. resume on another rank count (stopped after 100 of 192 sweeps)
mpi 2 run g2.ini --quiet --force --set output.file=g2-part.h5 --set montecarlo.sweeps=99 \
  --set parallel.ranks_per_replica=1 || bad "g2 part"
mpi 3 resume g2-part.h5 --sweeps 192 --quiet --set parallel.ranks_per_replica=0 || bad "g2 resume"
same g2-1.h5 g2-part.h5 "g2: stopped on 2 ranks, resumed on 3 = uninterrupted"
# 4. file round trip and the ferromagnet
# a file given with drawing keys is refused
mpi 1 run g2.ini --quiet --force --set output.file=y.h5 --set disorder.file=g2-1.h5 2> err.txt; st=$?
[ $st -eq 2 ] && [ ! -e y.h5 ] && grep -q "file" err.txt && ok "file with couplings = bimodal refused: $(cat err.txt)" || bad "file with drawing keys (status $st)"
sed -i -e '/^couplings/d' -e '/^seed = 9/d' g2.ini
mpi 2 run g2.ini --quiet --force --set output.file=g2-file.h5 --set disorder.file=g2-1.h5 \
  2> err.txt || { bad "g2 from file"; cat err.txt; }
same g2-1.h5 g2-file.h5 "g2 rerun from its own output's couplings ([disorder] file) = drawn" /timeseries /samples /summary
sed -i -e '/^fields/d' -e '/^field_strength/d' -e '/^couplings/d' -e '/^bond_dilution/d' -e '/^seed = 10/d' g3.ini
mpi 1 run g3.ini --quiet --force --set output.file=g3-file.h5 --set disorder.file=g3-1.h5 \
  2> err.txt || { bad "g3 from file"; cat err.txt; }
same g3-1.h5 g3-file.h5 "g3 (gaussian, fields) rerun from its own output's couplings = drawn" /timeseries /samples /summary
# couplings from a file, stopped and resumed on another rank count: the same
# file gives the uninterrupted run; a file changed in one field value is
# refused (exit 2, one line naming the key and the file, output untouched)
cp g3-1.h5 g3-cpl.h5
mpi 1 run g3.ini --quiet --force --set output.file=g3-fref.h5 --set disorder.file=g3-cpl.h5 \
  --set measurement.interval=1 || bad "g3 from file, interval 1"
mpi 2 run g3.ini --quiet --force --set output.file=g3-fpart.h5 --set disorder.file=g3-cpl.h5 \
  --set measurement.interval=1 --set montecarlo.sweeps=32 || bad "g3 from file, part"
cp g3-fpart.h5 g3-fpart-copy.h5; cp g3-fpart.h5.ckpt g3-fpart-copy.h5.ckpt
/usr/bin/python3 -c "
import h5py
with h5py.File('g3-cpl.h5', 'r+') as f:
    f['/disorder/h'][2, 1, 1, 1] = -f['/disorder/h'][2, 1, 1, 1]
" || bad "changing the couplings file"
mpi 1 resume g3-fpart.h5 --sweeps 64 --quiet 2> err.txt; st=$?
if [ $st -eq 2 ] && [ "$(wc -l < err.txt)" -eq 1 ] && grep -q "disorder.*file.*g3-cpl.h5.*the file changed" err.txt &&
   cmp -s g3-fpart.h5 g3-fpart-copy.h5 && cmp -s g3-fpart.h5.ckpt g3-fpart-copy.h5.ckpt; then
  ok "resume with a changed couplings file refused, output untouched: $(cat err.txt)"
else
  bad "resume with a changed couplings file (status $st)"; cat err.txt
fi
cp g3-1.h5 g3-cpl.h5
mpi 1 resume g3-fpart.h5 --sweeps 64 --quiet || bad "g3 from file, resume"
same g3-fref.h5 g3-fpart.h5 "g3 from a file: stopped on 2 ranks, resumed on 1 = uninterrupted" /timeseries /samples /summary
/usr/bin/python3 - <<'PY' || bad "writing the test files"
import h5py, numpy as np
with h5py.File("g2-1.h5") as f:
    J = f["/disorder/J"][...]
with h5py.File("ferro.h5", "w") as g:
    g["/disorder/J"] = np.ones_like(J)
with h5py.File("nan.h5", "w") as g:
    K = np.ones_like(J); K[1, 0, 2, 3] = np.nan
    g["/disorder/J"] = K
with h5py.File("shape.h5", "w") as g:
    g["/disorder/J"] = np.ones(J.shape[:1] + (2, 5, 12))
PY
sed -e '/\[disorder\]/,$d' g2.ini > f0.ini
mpi 1 run f0.ini --quiet --force --set output.file=f0.h5 --set montecarlo.copies=16 --set measurement.overlap=no || bad "ferromagnet"
mpi 1 run g2.ini --quiet --force --set output.file=f1.h5 --set disorder.file=ferro.h5 --set measurement.overlap=no || bad "all +J file"
same f0.h5 f1.h5 "a file of all +J couplings = the uniform ferromagnet" /timeseries/e /timeseries/m /tempering
for bad_file in nan shape; do
  rm -f x.h5
  mpi 1 run g2.ini --quiet --force --set output.file=x.h5 --set disorder.file=$bad_file.h5 2> err.txt; st=$?
  if [ $st -eq 2 ] && [ "$(wc -l < err.txt)" -eq 1 ] && grep -q "$bad_file.h5" err.txt && [ ! -e x.h5 ]; then
    ok "$bad_file couplings: one line, exit 2, nothing written: $(cat err.txt)"
  else
    bad "$bad_file couplings file (status $st, x.h5 $( [ -e x.h5 ] && echo exists || echo absent))"; cat err.txt
  fi
done
# 5. power
sed -e 's/^seed = 9$/seed = 99/' g2-orig.ini > p.ini
mpi 1 run p.ini --quiet --force --set output.file=p.h5 || bad "power run"
h5diff p.h5 g2-1.h5 /disorder/J /disorder/J > /dev/null 2>&1 && bad "another disorder seed gave the same couplings" || ok "power: another disorder seed, other couplings"
h5diff p.h5 g2-1.h5 /timeseries/q /timeseries/q > /dev/null 2>&1 && bad "another disorder seed gave the same overlaps" || ok "power: another disorder seed, other overlaps"
echo "disorder_identity: $pass passed, $fail failed"
[ $fail -eq 0 ]
