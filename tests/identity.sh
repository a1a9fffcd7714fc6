#!/bin/sh
# identity.sh ISING LAYOUT... -- the same deck on several rank layouts must
# give bit-identical time series, summaries and tempering trajectories
# (h5diff compares exactly: no tolerance is given).  A layout is NP:RPR, NP
# ranks in replica groups of RPR ranks (0: one group of all ranks); decks
# without a ladder use NP ranks in one group.  2D and 3D, Metropolis and heat
# bath, hot and cold starts, a field, lattices whose blocks are uneven and
# odd, and ladders with several copies and feedback adaptation; decks e and
# f use the multi-spin-coding kernel (x rows of 100 and 65 sites per colour:
# a partial second word) with correlations and a 3D ladder; deck g the
# multi-replica kernel (160 replicas in three sets of 64 lanes, the last
# half idle; one set per rank at most, so it runs on layouts of 1 to 3 ranks,
# always in groups of one rank) with a feedback-adapted ladder.  Decks b, f
# and g draw ARS random numbers ([montecarlo] rng = ars) where the CPU has
# AES-NI, the others Philox.
set -eu
ising=$1; shift
work=$(mktemp -d "${TMPDIR:-/tmp}/ising-identity-XXXXXX")
trap 'rm -rf "$work"' EXIT
cat > "$work/a.ini" <<'DECK'
[lattice]
dim = 2
L = 22 14
[model]
T = 2.3
H = 0.05
[montecarlo]
seed = 11
thermalization = 20
sweeps = 320
[measurement]
interval = 5
DECK
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
seed = 12
thermalization = 10
sweeps = 128
[measurement]
interval = 2
DECK
cat > "$work/c.ini" <<'DECK'
[lattice]
L = 12 10
[model]
T = 1.8 2.1 2.4 2.8
H = 0.02
[montecarlo]
copies = 2
seed = 13
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
cat > "$work/d.ini" <<'DECK'
[lattice]
dim = 3
L = 4 6 4
[model]
T = 3.5 4.2 4.8 5.5
[montecarlo]
copies = 2
algorithm = heatbath
seed = 14
thermalization = 10
sweeps = 96
[tempering]
interval = 2
[measurement]
interval = 3
DECK
cat > "$work/e.ini" <<'DECK'
[lattice]
L = 200 12
[model]
T = 2.3
H = 0.05
[montecarlo]
kernel = msc
seed = 15
thermalization = 20
sweeps = 200
[measurement]
interval = 4
correlation = yes
sk_every = 5
DECK
cat > "$work/f.ini" <<'DECK'
[lattice]
dim = 3
L = 130 6 8
[model]
T = 4.0 4.4 4.8 5.2
[montecarlo]
kernel = msc
copies = 2
seed = 16
thermalization = 10
sweeps = 96
[tempering]
interval = 2
[measurement]
interval = 3
DECK
cat > "$work/g.ini" <<'DECK'
[lattice]
L = 20 12
[model]
T = 2.0 2.2 2.4 2.7
H = 0.05
[montecarlo]
kernel = msc-async
copies = 40
seed = 17
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
DECK
status=0
first=$1
if "$ising" bench --rng ars --L 8 --sweeps 1 --repeat 1 > /dev/null 2>&1; then
  ars_decks="b f g"
else
  ars_decks=""; echo "note: no AES-NI here: every deck runs Philox (rng = ars skipped)"
fi
rng_of() { case " $ars_decks " in *" $1 "*) echo ars ;; *) echo philox ;; esac; }
for deck in a b c d e f g; do
  for layout in "$@"; do
    np=${layout%%:*}; rpr=${layout#*:}
    case $deck in a|b|e) rpr=0 ;; g) rpr=1; [ "$np" -le 3 ] || continue ;; esac
    out="$work/$deck-$np-$rpr.h5"
    [ -e "$out" ] && continue
    mpiexec -n "$np" --oversubscribe "$ising" run "$work/$deck.ini" --quiet --set "output.file=$out" \
      --set "parallel.ranks_per_replica=$rpr" --set "montecarlo.rng=$(rng_of $deck)" ||
      { echo "FAIL: $deck on $layout exited $?"; status=1; continue; }
    ref="$work/$deck-${first%%:*}-$(case $deck in a|b|e) echo 0 ;; g) echo 1 ;; *) echo ${first#*:} ;; esac).h5"
    [ "$out" = "$ref" ] && continue
    objs="/timeseries /summary"
    case $deck in c|d|f|g) objs="$objs /tempering" ;; esac
    for obj in $objs; do
      if h5diff -r "$ref" "$out" "$obj" "$obj" > "$work/diff.txt" 2>&1; then
        echo "ok: $deck ($(rng_of $deck)) $obj identical on layouts $first and $np:$rpr"
      else
        echo "FAIL: $deck $obj differs between layouts $first and $np:$rpr:"; head -20 "$work/diff.txt"; status=1
      fi
    done
  done
done
# the comparison has power: a different seed must differ
mpiexec -n 1 "$ising" run "$work/a.ini" --quiet --set "output.file=$work/seed.h5" --set montecarlo.seed=13
if h5diff "$work/a-${first%%:*}-0.h5" "$work/seed.h5" /timeseries/e /timeseries/e > /dev/null 2>&1; then
  echo "FAIL: a different seed gave the same series: the comparison cannot see differences"; status=1
else
  echo "ok: a different seed gives a different series"
fi
# and the generator is what the deck says: b with Philox differs from b with ARS
if [ -n "$ars_decks" ]; then
  mpiexec -n 1 "$ising" run "$work/b.ini" --quiet --set "output.file=$work/b-philox.h5" \
    --set parallel.ranks_per_replica=0
  if h5diff "$work/b-${first%%:*}-0.h5" "$work/b-philox.h5" /timeseries/e /timeseries/e > /dev/null 2>&1; then
    echo "FAIL: rng = ars gave the same series as Philox"; status=1
  else
    echo "ok: rng = ars gives a different series from Philox"
  fi
fi
[ $status -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $status
