#!/bin/sh
# bench_kernels.sh [ISING] -- every sweep kernel on every kernel path this
# CPU runs (ISING_ISA=portable|avx2|avx512), one rank on one core, printed
# as one Markdown table: spin flips per ns (the median over ROUNDS rounds of
# `ising bench --repeat REPEAT`'s median) and the ratio to `fast` on the
# same path and dimension.  The configurations take turns within a round, so
# that a noisy machine slows them alike.  Not part of ctest: a benchmark, run
# by hand; the README's kernel section quotes its output.
#
# Cases: fast, msc (and reference with REFERENCE=1): 2D L=4096 at T=2.269,
# 3D L=256 at T=4.5115; msc-async (64 replicas per word, counted 64 x N per
# sweep): 2D L=512 at T=2.269, 3D L=64 at T=4.5115 (its ratio is to `fast`
# of the same dimension at the size above).
# Environment: ROUNDS (default 3), REPEAT (3), PATHS (default: every path
# the CPU runs), QUICK=1 (2D L=1024 / 3D L=64, msc-async L=128 / 32, fewer
# sweeps: a smoke run of a few seconds), REFERENCE=1 (add the slow
# site-by-site `reference` kernel), PIN=CPU (run under taskset -c CPU),
# RNG=ars (every kernel on ARS random numbers, `--rng ars`; default philox).
# ISING_PDEP=emulated (or native) passes through to `ising`: the avx2
# column then times the packed kernels without (with) pdep/pext, as AMD
# CPUs before Zen 3 run them by default (cpu.h).
set -eu
ising=${1:-build/ising}
rounds=${ROUNDS:-3}; repeat=${REPEAT:-3}; rng=${RNG:-philox}
if [ "${QUICK:-0}" = 1 ]; then
  L2=1024; L3=64; A2=128; A3=32; s2=4; s3=4; sa=4; rounds=${ROUNDS:-1}
else
  L2=4096; L3=256; A2=512; A3=64; s2=10; s3=4; sa=20
fi
pin=""
[ -n "${PIN:-}" ] && pin="taskset -c $PIN"
[ -x "$ising" ] || { echo "bench_kernels.sh: no executable '$ising' (build it first)" >&2; exit 2; }
case $ising in */*) ;; *) ising=./$ising ;; esac

# The paths this CPU runs: ising refuses a forced path the CPU lacks (exit 2).
if [ -z "${PATHS:-}" ]; then
  PATHS=""
  for p in portable avx2 avx512; do
    if ISING_ISA=$p $pin "$ising" bench --kernel fast --L 8 --sweeps 1 --repeat 1 >/dev/null 2>&1; then
      PATHS="$PATHS $p"
    fi
  done
  [ -n "$PATHS" ] || { echo "bench_kernels.sh: '$ising bench' ran on no path" >&2; exit 1; }
fi

# kernel|dim|L|T|sweeps per case
cases="fast|2|$L2|2.269|$s2 fast|3|$L3|4.5115|$s3 msc|2|$L2|2.269|$s2 msc|3|$L3|4.5115|$s3"
cases="$cases msc-async|2|$A2|2.269|$sa msc-async|3|$A3|4.5115|$sa"
[ "${REFERENCE:-0}" = 1 ] && cases="$cases reference|2|$L2|2.269|1 reference|3|$L3|4.5115|1"

load0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
soft=""
for r in $(seq "$rounds"); do
  for c in $cases; do
    IFS='|' read -r k d L T s <<EOF
$c
EOF
    for p in $PATHS; do
      text=$(ISING_ISA=$p $pin "$ising" bench --kernel "$k" --dim "$d" --L "$L" --T "$T" \
        --sweeps "$s" --repeat "$repeat" --rng "$rng" 2>&1) || { echo "bench_kernels.sh: $p $k ${d}D failed: $text" >&2; exit 1; }
      v=$(printf '%s\n' "$text" | sed -n 's/^bench: spin flips per ns: median \([0-9.]*\) per .*/\1/p' | head -n 1)
      ran=$(printf '%s\n' "$text" | sed -n 's/.*kernel \([a-z-]*\/[a-z0-9-]*\).*/\1/p' | head -n 1)
      [ -n "$v" ] || { echo "bench_kernels.sh: no rate in the output of $p $k ${d}D" >&2; exit 1; }
      # pdep/pext emulated on this path (cpu.h): said under the table
      case $ran in *-softpdep) soft="$soft $ran"; ran=${ran%-softpdep} ;; esac
      # (older binaries do not name msc-async's path)
      [ -z "$ran" ] || [ "$ran" = "$k/$p" ] || { echo "bench_kernels.sh: asked for $k/$p, bench ran '$ran'" >&2; exit 1; }
      echo "$p $k $d $L $T $v" >>"$out"
    done
  done
  echo "round $r of $rounds done" >&2
done

model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
family=$(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
number=$(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
flags=$(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1 | tr ' ' '\n' |
  grep -E '^(avx2|bmi2|fma|aes|vaes|avx512f|avx512bw|avx512vl|avx512vbmi|avx512_vbmi2|avx512_vpopcntdq)$' |
  tr '\n' ' ' | sed 's/ $//')
echo "CPU: ${model:-unknown} (family ${family:-?} model ${number:-?}, $(nproc) cores visible); ISA flags: ${flags:-none found}"
echo "ising bench --rng $rng, 1 rank, median of $rounds rounds of --repeat $repeat medians; flips/ns (ratio to fast on the same path)"
echo "load average before: $load0, after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown) (a busy machine lowers every figure)"
echo
awk -v paths="$PATHS" -v order="$cases" '
  function med(key,   n, i, j, t, a) {
    n = split(vals[key], a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { key = $1 " " $2 " " $3; vals[key] = vals[key] " " $6; size[$2 " " $3] = $4; temp[$2 " " $3] = $5 }
  END {
    np = split(paths, P, " "); nc = split(order, C, " ")
    head = "| kernel | lattice |"; line = "| --- | --- |"
    for (i = 1; i <= np; i++) { head = head " " P[i] " |"; line = line " ---: |" }
    print head; print line
    for (c = 1; c <= nc; c++) {
      split(C[c], f, "|"); k = f[1]; d = f[2]
      row = "| " k " | " d "D L=" size[k " " d] " T=" temp[k " " d] " |"
      for (i = 1; i <= np; i++) {
        v = med(P[i] " " k " " d); base = med(P[i] " fast " d)
        row = row sprintf(" %.2f (%.2f) |", v, base > 0 ? v / base : 0)
      }
      print row
    }
  }' "$out"
if [ -n "$soft" ]; then
  echo
  echo "pdep/pext emulated (AMD before Zen 3, or ISING_PDEP=emulated): $(printf '%s\n' $soft | sort -u | tr '\n' ' ' | sed 's/ $//')"
fi
