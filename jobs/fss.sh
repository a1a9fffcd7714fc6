#!/bin/bash
# jobs/fss.sh -- finite-size scaling: one ising run per lattice size as a SLURM
# job array, and a report job that runs when all of them have finished.
#
#   jobs/fss.sh TEMPLATE_DECK OUTDIR L1[:sweeps[:ranks]] L2[:sweeps[:ranks]] ...
#
# For each size L it writes OUTDIR/L<L>.ini, a copy of TEMPLATE_DECK with
# [lattice] L = <L>, [output] file = OUTDIR/L<L>.h5 and, when given,
# [montecarlo] sweeps = <sweeps> (keys replaced in place or added to their
# section; the section is appended when missing).  The decks are listed, one
# a line, in OUTDIR/tasks.txt, and array task i of
#     sbatch --array=... --ntasks=<ranks> jobs/ising.sbatch @OUTDIR/tasks.txt
# runs line i+1 with jobs/ising.sbatch's logic (checkpoint on USR1 before the
# time limit, resubmission with `ising resume` until finished).  Sizes with
# different rank counts go into separate arrays (--ntasks is per array).
# Then
#     sbatch --dependency=afterany:<array ids> jobs/fss_report.sh OUTDIR
# writes OUTDIR/report.txt (see jobs/fss_report.sh; FSS_REPORT_CMD).  afterany,
# not afterok: a task stopped by scancel or preemption ends CANCELLED after
# resubmitting itself, and the report job judges the outputs itself.
#
# Re-running it skips sizes whose OUTDIR/L<L>.h5 has status finished (ising
# info), resumes those with status stopped, and refuses others that exist.
# OUTDIR must not contain blanks.
#
# Environment: ISING (default <repo>/build/ising), FSS_RANKS (default ranks, 1),
# FSS_SBATCH_OPTS (extra sbatch options for the arrays and the report job,
# e.g. "--time=04:00:00 --partition=x"), FSS_REPORT_CMD / FSS_REPORT_ALL
# (jobs/fss_report.sh), ISING_SBATCH_OPTS (resubmissions; default
# --output=OUTDIR/ising-%j.out), ISING_MAX_ROUNDS.
set -eu
if [ $# -lt 3 ]; then
  echo "usage: jobs/fss.sh TEMPLATE_DECK OUTDIR L1[:sweeps[:ranks]] L2 ..." >&2
  exit 2
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
template=$1; outdir=$2; shift 2
[ -r "$template" ] || { echo "fss.sh: cannot read $template" >&2; exit 2; }
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
case "$outdir" in *[[:space:]]*) echo "fss.sh: OUTDIR must not contain blanks" >&2; exit 2 ;; esac
export ISING=${ISING:-$ROOT/build/ising}
export ISING_SBATCH_OPTS=${ISING_SBATCH_OPTS:---output=$outdir/ising-%j.out}
export ISING_SBATCH=$ROOT/jobs/ising.sbatch

setkeys() {  # setkeys TEMPLATE L OUTPUT SWEEPS > deck
  awk -v L="$2" -v out="$3" -v sw="$4" '
    function flush(s) {   # keys of section s not yet written
      if (s == "lattice" && !doneL) { print "L = " L; doneL = 1 }
      if (s == "output" && !doneO) { print "file = " out; doneO = 1 }
      if (s == "montecarlo" && sw != "" && !doneS) { print "sweeps = " sw; doneS = 1 }
    }
    { line = $0; sub(/^[ \t]+/, "", line) }
    line ~ /^\[/ { flush(sec); sec = line; sub(/^\[[ \t]*/, "", sec); sub(/[ \t]*\].*$/, "", sec); seen[sec] = 1; print; next }
    sec == "lattice" && line ~ /^L[ \t]*[=:]/ { if (!doneL) print "L = " L; doneL = 1; skip = 1; next }
    sec == "output" && line ~ /^file[ \t]*[=:]/ { if (!doneO) print "file = " out; doneO = 1; skip = 1; next }
    sec == "montecarlo" && sw != "" && line ~ /^sweeps[ \t]*[=:]/ { if (!doneS) print "sweeps = " sw; doneS = 1; skip = 1; next }
    skip && $0 ~ /^[ \t]+[^ \t]/ { next }   # continuation of a replaced value
    { skip = 0; print }
    END {
      flush(sec)
      if (!seen["lattice"]) { print "[lattice]"; flush("lattice") }
      if (!seen["output"]) { print "[output]"; flush("output") }
      if (sw != "" && !seen["montecarlo"]) { print "[montecarlo]"; flush("montecarlo") }
    }' "$1"
}

: > "$outdir/tasks.txt"
: > "$outdir/sizes.txt.new"
declare -A groups=()
idx=0
for spec in "$@"; do
  IFS=: read -r L sweeps ranks <<< "$spec"
  ranks=${ranks:-${FSS_RANKS:-1}}
  case "$L$sweeps$ranks" in *[!0-9]*|"") echo "fss.sh: bad size spec '$spec' (L[:sweeps[:ranks]])" >&2; exit 2 ;; esac
  out=$outdir/L$L.h5
  echo "$out" >> "$outdir/sizes.txt.new"
  mode=run
  if [ -e "$out" ]; then
    st=$("$ISING" info "$out" 2>/dev/null | awk '$1 == "status" {print $2; exit}')
    case "$st" in
      finished) echo "fss.sh: skip L=$L ($out finished)"; continue ;;
      stopped) mode=resume ;;
      *) echo "fss.sh: $out exists with status '${st:-unreadable}'; remove it or wait for its job" >&2; exit 2 ;;
    esac
  fi
  setkeys "$template" "$L" "$out" "$sweeps" > "$outdir/L$L.ini"
  echo "$outdir/L$L.ini" >> "$outdir/tasks.txt"
  groups["$ranks $mode"]="${groups["$ranks $mode"]:+${groups["$ranks $mode"]},}$idx"
  echo "fss.sh: L=$L sweeps=${sweeps:-deck} ranks=$ranks $mode -> task $idx"
  idx=$((idx + 1))
done
mv "$outdir/sizes.txt.new" "$outdir/sizes.txt"

deps=""
for g in "${!groups[@]}"; do
  read -r ranks mode <<< "$g"
  resume=0; [ "$mode" = resume ] && resume=1
  # shellcheck disable=SC2086
  id=$(ISING_RESUME=$resume sbatch --parsable --array="${groups[$g]}" --ntasks="$ranks" \
        --job-name=fss --output="$outdir/L-%A_%a.out" ${FSS_SBATCH_OPTS:-} \
        "$ROOT/jobs/ising.sbatch" "@$outdir/tasks.txt")
  id=${id%%;*}
  echo "fss.sh: array job $id (tasks ${groups[$g]}, $ranks ranks, $mode)"
  deps="$deps:$id"
done
dep=()
[ -n "$deps" ] && dep=(--dependency="afterany$deps")
# shellcheck disable=SC2086
rid=$(sbatch --parsable "${dep[@]}" --ntasks=1 --job-name=fss-report \
      --output="$outdir/report-%j.out" ${FSS_SBATCH_OPTS:-} "$ROOT/jobs/fss_report.sh" "$outdir")
echo "fss.sh: report job ${rid%%;*} -> $outdir/report.txt"
