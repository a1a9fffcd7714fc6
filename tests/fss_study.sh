#!/bin/bash
# tests/fss_study.sh [ISING] -- the finite-size-scaling target study, run by
# hand (a benchmark, not part of ctest): a single-node SLURM on localhost
# (tests/slurm_local.sh, shared with tests/slurm_jobs.sh; root, Debian packages
# slurmctld slurmd slurm-client munge), then jobs/fss.sh with a 2D
# tempering template (geometric ladder 2.1 .. 2.6, 12 temperatures,
# correlation = yes, sk_every = 0, ranks_per_replica = 1) for
# L = 8, 16, 32, 64 (sweeps per size below, 1 rank each), and the report job
# running analysis/ising_fss.py on all sizes (FSS_REPORT_ALL=1).  Prints the
# wall time, T_c from the U4 and the xi/L crossings, nu, gamma/nu, beta/nu
# with errors and their deviations from the exact 2D values.
#
#   bash tests/fss_study.sh [build/ising]
#
# Environment: FSS_STUDY_TEMPLATE (a template deck instead of the one below,
# e.g. inputs/fss_sw.ini for Swendsen-Wang), FSS_STUDY_TARGETS ("tc nu gamma":
# relative tolerances of T_c, nu and gamma/nu, default "0.005 0.1 inf"),
# FSS_STUDY_SEED (default 20261123), FSS_STUDY_SIZES (default
# "8:400000 16:600000 32:1200000 64:2400000", L:sweeps), FSS_STUDY_OUT (default: a fresh directory
# /tmp/ising-fss-study-out.XXXXXX; kept, with the outputs, report.txt,
# fss_report.txt and the job logs), FSS_STUDY_LIMIT (seconds to wait for the
# jobs, default 900), KEEP=1 keeps the SLURM directory.  Target (2 cores):
# T_c within 0.5% of 2.269185, nu within 10% of 1, under 10 minutes.
# Exit status: 0 when the targets are met, 1 when not, 2 on a failure; with
# SLURM unavailable "SKIPPED: reason", exit $SLURM_TEST_SKIP_CODE (default 0).
set -u
t_start=$(date +%s.%N)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ISING=$(readlink -f "${1:-$ROOT/build/ising}")
SKIP=${SLURM_TEST_SKIP_CODE:-0}
skip() { echo "SKIPPED: $*"; exit "$SKIP"; }
[ -x "$ISING" ] || { echo "tests/fss_study.sh: $ISING is not an executable" >&2; exit 2; }
SLURM_LOCAL_CLUSTER=isingstudy
SLURM_LOCAL_PREFIX=/tmp/ising-fss-study
. "$ROOT/tests/slurm_local.sh"

SIZES=${FSS_STUDY_SIZES:-"8:400000 16:600000 32:1200000 64:2400000"}
LIMIT=${FSS_STUDY_LIMIT:-900}
OUT=${FSS_STUDY_OUT:-$(mktemp -d /tmp/ising-fss-study-out.XXXXXX)}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) || exit 2
chmod 755 "$OUT"
export ISING
if [ -n "${FSS_STUDY_TEMPLATE:-}" ]; then
  cp "$FSS_STUDY_TEMPLATE" "$OUT/template.ini" || exit 2
else
cat > "$OUT/template.ini" <<EOF
[lattice]
dim = 2
L = 8
[model]
J = 1.0
H = 0.0
[montecarlo]
algorithm = metropolis
seed = ${FSS_STUDY_SEED:-20261123}
thermalization = 20000
sweeps = 100000
[tempering]
ladder = geometric
T_min = 2.1
T_max = 2.6
count = 12
interval = 2
[measurement]
interval = 10
correlation = yes
sk_every = 0
[checkpoint]
every_minutes = 0
[parallel]
ranks_per_replica = 1
[output]
file = template.h5
progress = 0
EOF
fi
echo "== jobs/fss.sh: L:sweeps = $SIZES -> $OUT"
export FSS_REPORT_ALL=1
export FSS_REPORT_CMD="/usr/bin/python3 $ROOT/analysis/ising_fss.py --report $OUT/fss_report.txt"
export FSS_RANKS=1
t_submit=$(date +%s.%N)
# shellcheck disable=SC2086
bash "$ROOT/jobs/fss.sh" "$OUT/template.ini" "$OUT" $SIZES || { echo "FAIL: jobs/fss.sh"; exit 2; }
end=$((SECONDS + LIMIT))
while [ -n "$(squeue -h -o %i 2>/dev/null)" ]; do
  [ $SECONDS -lt $end ] || { echo "FAIL: jobs still queued after $LIMIT s"; squeue; exit 2; }
  sleep 1
done
t_end=$(date +%s.%N)
if [ ! -s "$OUT/report.txt" ]; then
  echo "FAIL: no $OUT/report.txt"
  for f in "$OUT"/*.out; do echo "--- $f"; tail -n 20 "$f"; done
  exit 2
fi
cat "$OUT/report.txt"
echo
for s in $SIZES; do
  L=${s%%:*}
  w=$("$ISING" info "$OUT/L$L.h5" 2>/dev/null | awk '$1 == "wall_seconds" {print $2; exit}')
  echo "L = $L: ${s#*:} sweeps, ising wall time ${w:-?} s"
done
awk -v t0="$t_start" -v t1="$t_submit" -v t2="$t_end" 'BEGIN {
  printf "wall time: %.1f s in all (%.1f s from submission to report; %.1f s SLURM start-up)\n", t2 - t0, t2 - t1, t1 - t0 }'
/usr/bin/python3 - "$OUT/report.txt" "$t_start" "$t_end" ${FSS_STUDY_TARGETS:-0.005 0.1 inf} <<'EOF'
import math, re, sys
tol_tc, tol_nu, tol_g = (float(x) for x in sys.argv[4:7])
text = open(sys.argv[1]).read()
wall = float(sys.argv[3]) - float(sys.argv[2])
TC = 2.0 / math.log1p(math.sqrt(2.0))
num = r"([-+0-9.eE]+) \+- ([-+0-9.eE]+)"
def grab(pat):
    m = re.search(pat, text)
    return (float(m.group(1)), float(m.group(2))) if m else (float("nan"), float("nan"))
tc_u4 = grab(r"T_c     = " + num + r"   \(U4")
tc_xi = grab(r"T_c     = " + num + r"   \(xi/L")
nu = grab(r", nu = " + num)
g_tc = grab(r"gamma/nu = " + num + r"   \(chi = ")
g_pk = grab(r"gamma/nu = " + num + r"   \(peak")
b_nu = grab(r"beta/nu  = " + num)
print("summary (exact 2D Ising: T_c = %.6f, nu = 1, gamma/nu = 1.75, beta/nu = 0.125):" % TC)
def line(name, v, ex, pct=True):
    d = v[0] - ex
    print(f"  {name:22s} {v[0]:.5f} +- {v[1]:.5f}   deviation {d:+.5f} = "
          f"{d / v[1] if v[1] > 0 else float('nan'):+.2f} sigma, {100 * d / ex:+.3f}%")
line("T_c (U4 crossings)", tc_u4, TC)
line("T_c (xi/L crossings)", tc_xi, TC)
line("nu", nu, 1.0)
line("gamma/nu (chi at T_c)", g_tc, 1.75)
line("gamma/nu (chi' peaks)", g_pk, 1.75)
line("beta/nu", b_nu, 0.125)
ok = (abs(tc_u4[0] - TC) < tol_tc * TC and abs(tc_xi[0] - TC) < tol_tc * TC
      and abs(nu[0] - 1) < tol_nu and not abs(g_tc[0] - 1.75) >= tol_g * 1.75 and wall < 600)
print(f"targets (T_c within {100 * tol_tc:g}%, nu within {100 * tol_nu:g}%, gamma/nu within "
      f"{100 * tol_g:g}%, under 600 s; wall {wall:.1f} s): " + ("MET" if ok else "NOT MET"))
sys.exit(0 if ok else 1)
EOF
