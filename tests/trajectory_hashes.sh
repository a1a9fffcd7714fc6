#!/bin/sh
# trajectory_hashes.sh [--record] ISING -- every trajectory must stay the same
# bit for bit.  Runs a set of small decks (a few seconds in all) and compares
# a SHA-256 of every dataset under /timeseries and /tempering with the values
# in tests/trajectory_hashes.txt, recorded from the code before a change.
# The decks cover every kernel (fast, reference, msc, msc-async), Metropolis
# and heat bath (heat bath with fast and reference: the msc kernels do
# Metropolis only), the cluster algorithms (swendsen-wang, wolff), 2D and 3D, H != 0, J < 0, hot and cold starts, uneven
# lattices, ladders (list and geometric) with copies and feedback adaptation,
# correlations on, on 1 and 2 ranks; the byte, msc and msc-async kernels
# on ARS random numbers (rng = ars; skipped, saying so, without AES-NI);
# and quenched disorder (gaussian and bimodal couplings, dilution, random
# fields, samples with copies and overlaps; the byte kernels' per-site rule
# on short and long rows and threshold tables, and msc-async's sign bits).
#
# A dataset's hash covers its type, its shape and its values as little-endian
# bytes in C order (h5py), so it depends on the data only, not on chunking,
# compression or the file's time stamps.  /correlation is left out: FFTW may
# sum in another order from one run to the next.
#
#   sh tests/trajectory_hashes.sh build/ising            # compare
#   sh tests/trajectory_hashes.sh --record build/ising   # rewrite the data file
#
# --record is for a change that alters trajectories on purpose: say so in the
# commit.  Prints one line per run, then "N passed, M failed"; exit 1 on any
# difference, a missing or an extra dataset.
set -eu
record=0
if [ "${1:-}" = --record ]; then record=1; shift; fi
ising=${1:?usage: tests/trajectory_hashes.sh [--record] ISING}
here=$(cd "$(dirname "$0")" && pwd)
data=$here/trajectory_hashes.txt
python=${ISING_PYTHON:-/usr/bin/python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/ising-hashes-XXXXXX")
trap 'rm -rf "$work"' EXIT

# 2D, field, uneven lattice (fast and reference kernels, Metropolis)
cat > "$work/a.ini" <<'DECK'
[lattice]
L = 22 14
[model]
T = 2.3
H = 0.05
[montecarlo]
seed = 101
thermalization = 20
sweeps = 320
[measurement]
interval = 5
DECK
# 3D antiferromagnet, heat bath, cold start
cat > "$work/b.ini" <<'DECK'
[lattice]
dim = 3
L = 6 10 8
[model]
T = 4.2
J = -1
[montecarlo]
algorithm = heatbath
start = cold
seed = 102
thermalization = 10
sweeps = 128
[measurement]
interval = 2
DECK
# 2D ladder with copies, feedback adaptation, field and correlations
cat > "$work/c.ini" <<'DECK'
[lattice]
L = 12 10
[model]
T = 1.8 2.1 2.4 2.8
H = 0.02
[montecarlo]
copies = 2
seed = 103
thermalization = 400
sweeps = 320
[tempering]
interval = 3
adapt = feedback
adapt_rounds = 2
[measurement]
interval = 5
correlation = yes
sk_every = 7
DECK
# 3D geometric ladder, heat bath, copies
cat > "$work/d.ini" <<'DECK'
[lattice]
dim = 3
L = 4 6 4
[montecarlo]
algorithm = heatbath
copies = 2
seed = 104
thermalization = 10
sweeps = 96
[tempering]
ladder = geometric
T_min = 3.5
T_max = 5.5
count = 4
interval = 2
[measurement]
interval = 3
DECK
# multi-spin coding: 2D with a field and correlations (rows of 100 sites per
# colour: a partial second word)
cat > "$work/e.ini" <<'DECK'
[lattice]
L = 200 12
[model]
T = 2.3
H = 0.05
[montecarlo]
kernel = msc
seed = 105
thermalization = 20
sweeps = 200
[measurement]
interval = 4
correlation = yes
sk_every = 5
DECK
# multi-spin coding: a 3D ladder with copies
cat > "$work/f.ini" <<'DECK'
[lattice]
dim = 3
L = 130 6 8
[model]
T = 4.0 4.4 4.8 5.2
[montecarlo]
kernel = msc
copies = 2
seed = 106
thermalization = 10
sweeps = 96
[tempering]
interval = 2
[measurement]
interval = 3
DECK
# multi-replica kernel: 160 replicas in three sets (the last half idle),
# feedback-adapted ladder, field, correlations
cat > "$work/g.ini" <<'DECK'
[lattice]
L = 20 12
[model]
T = 2.0 2.2 2.4 2.7
H = 0.05
[montecarlo]
kernel = msc-async
copies = 40
seed = 107
thermalization = 400
sweeps = 200
[tempering]
interval = 2
adapt = feedback
adapt_rounds = 2
[measurement]
interval = 4
correlation = yes
sk_every = 5
[parallel]
ranks_per_replica = 1
DECK

# cluster updates: wolff on a ladder with copies (automatic clusters per
# sweep learnt in the thermalization), J < 0
cat > "$work/h.ini" <<'DECK'
[lattice]
L = 12 10
[model]
T = 1.8 2.3 2.9
J = -1
[montecarlo]
algorithm = wolff
copies = 2
seed = 108
thermalization = 40
sweeps = 96
[tempering]
interval = 3
[measurement]
interval = 2
[parallel]
ranks_per_replica = 1
DECK

# quenched disorder: 3D gaussian spin glass, two samples, a two-temperature
# ladder with two copies (overlaps), rows of 3 sites (the per-site rule's
# paired rows)
cat > "$work/i.ini" <<'DECK'
[lattice]
dim = 3
L = 6 4 4
[model]
T = 0.9 1.4
[disorder]
couplings = gaussian
samples = 2
seed = 109
[montecarlo]
copies = 2
seed = 110
thermalization = 20
sweeps = 120
[tempering]
interval = 2
[measurement]
interval = 3
overlap = yes
[parallel]
ranks_per_replica = 1
DECK
# 2D gaussian couplings with dilution and gaussian random fields, heat
# bath, rows of 20 sites (the per-site rule's long rows)
cat > "$work/j.ini" <<'DECK'
[lattice]
L = 40 8
[model]
T = 1.3
H = 0.1
[disorder]
couplings = gaussian
bond_dilution = 0.2
fields = gaussian
field_strength = 0.7
seed = 111
[montecarlo]
algorithm = heatbath
seed = 112
thermalization = 10
sweeps = 64
[measurement]
interval = 2
DECK
# 3D bimodal spin glass, four samples with two copies (the threshold
# tables; msc-async's sign bits per lane)
cat > "$work/k.ini" <<'DECK'
[lattice]
dim = 3
L = 6
[model]
T = 1.1 1.6
[disorder]
couplings = bimodal
samples = 4
seed = 113
[montecarlo]
copies = 2
seed = 114
thermalization = 20
sweeps = 128
[tempering]
interval = 2
[measurement]
interval = 4
overlap = yes
[parallel]
ranks_per_replica = 1
DECK

# NAME DECK RANKS [--set key=value ...]
RUNS='
a_fast_np1        a 1
a_fast_np2        a 2
a_reference_np1   a 1 --set montecarlo.kernel=reference
a_heatbath_np2    a 2 --set montecarlo.algorithm=heatbath
b_fast_np2        b 2
b_reference_np1   b 1 --set montecarlo.kernel=reference
c_fast_np2        c 2 --set parallel.ranks_per_replica=1
c_reference_np1   c 1 --set montecarlo.kernel=reference
d_fast_np2        d 2
d_reference_np1   d 1 --set montecarlo.kernel=reference
e_msc_np1         e 1
e_msc_np2         e 2
f_msc_np2         f 2 --set parallel.ranks_per_replica=1
g_async_np1       g 1
g_async_np2       g 2
a_sw_np1          a 1 --set montecarlo.algorithm=swendsen-wang
a_sw_np2          a 2 --set montecarlo.algorithm=swendsen-wang
b_sw_np2          b 2 --set montecarlo.algorithm=swendsen-wang
d_sw_np1          d 1 --set montecarlo.algorithm=swendsen-wang
h_wolff_np1       h 1
h_wolff_np2       h 2
a_fast_ars_np2    a 2 --set montecarlo.rng=ars
b_reference_ars_np1 b 1 --set montecarlo.kernel=reference --set montecarlo.rng=ars
e_msc_ars_np1     e 1 --set montecarlo.rng=ars
g_async_ars_np1   g 1 --set montecarlo.rng=ars
i_gauss_np1       i 1
i_gauss_np2       i 2
i_reference_np1   i 1 --set montecarlo.kernel=reference
j_gauss_field_np2 j 2
j_reference_np1   j 1 --set montecarlo.kernel=reference
k_bimodal_np2     k 2
k_bimodal_field_np1 k 1 --set disorder.fields=bimodal --set disorder.field_strength=0.5
k_async_np1       k 1 --set montecarlo.kernel=msc-async
'

# hashes FILE NAME: "NAME DATASET SHA256" for every dataset under
# /timeseries and /tempering, sorted by dataset
hashes() {
  "$python" - "$1" "$2" <<'PY'
import hashlib
import sys

import h5py
import numpy as np

path, name = sys.argv[1], sys.argv[2]
rows = []
with h5py.File(path, "r") as f:
    for group in ("timeseries", "tempering"):
        if group not in f:
            continue

        def visit(key, obj, group=group):
            if isinstance(obj, h5py.Dataset):
                a = np.ascontiguousarray(obj[()])
                a = a.astype(a.dtype.newbyteorder("<"), copy=False)
                h = hashlib.sha256(f"{a.dtype.str} {a.shape}\n".encode())
                h.update(a.tobytes())
                rows.append(f"{name} /{group}/{key} {h.hexdigest()}")

        f[group].visititems(visit)
print("\n".join(sorted(rows)))
PY
}

: > "$work/now.txt"
# runs on ARS need AES-NI
if "$ising" bench --rng ars --L 8 --sweeps 1 --repeat 1 > /dev/null 2>&1; then noars=""; else
  noars=$(echo "$RUNS" | awk '/rng=ars/ {print $1}')
  echo "skipped (no AES-NI on this CPU):" $noars
fi
echo "$RUNS" | while read -r name deck np sets; do
  [ -n "$name" ] || continue
  case " $(echo $noars) " in *" $name "*) continue ;; esac
  out=$work/$name.h5
  # shellcheck disable=SC2086 # $sets is a list of options
  if ! mpiexec -n "$np" --oversubscribe "$ising" run "$work/$deck.ini" --quiet --force \
      --set "output.file=$out" $sets < /dev/null > "$work/$name.log" 2>&1; then
    echo "FAIL: $name: ising exited with an error:"; tail -5 "$work/$name.log"
    echo "$name (run failed) -" >> "$work/now.txt"
    continue
  fi
  hashes "$out" "$name" >> "$work/now.txt"
done

if [ $record -eq 1 ]; then
  {
    echo "# SHA-256 of every dataset under /timeseries and /tempering of the runs in"
    echo "# tests/trajectory_hashes.sh (type, shape and little-endian values)."
    echo "# Rewritten by: sh tests/trajectory_hashes.sh --record ISING"
    cat "$work/now.txt"
  } > "$data"
  echo "recorded $(wc -l < "$work/now.txt") hashes in $data"
  grep -q "(run failed)" "$work/now.txt" && exit 1
  exit 0
fi

grep -v '^#' "$data" > "$work/want.txt"
pass=0; fail=0
for name in $(echo "$RUNS" | awk 'NF {print $1}'); do
  case " $(echo $noars) " in *" $name "*) continue ;; esac
  grep "^$name " "$work/want.txt" > "$work/w" || true
  grep "^$name " "$work/now.txt" > "$work/n" || true
  if [ ! -s "$work/w" ]; then
    echo "FAIL: $name: no recorded hashes (run with --record to add them)"; fail=$((fail + 1))
  elif cmp -s "$work/w" "$work/n"; then
    echo "ok: $name: $(wc -l < "$work/n") datasets identical"; pass=$((pass + 1))
  else
    echo "FAIL: $name: the trajectory changed:"
    awk 'NR == FNR { w[$2] = $3; next } { n[$2] = $3 }
         END { for (k in w) if (!(k in n)) print "  " k ": missing";
                            else if (w[k] != n[k]) print "  " k ": hash differs";
               for (k in n) if (!(k in w)) print "  " k ": not recorded" }' "$work/w" "$work/n" | sort
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
