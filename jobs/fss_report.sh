#!/bin/bash
# jobs/fss_report.sh OUTDIR -- the report job of jobs/fss.sh (also runs by hand).
#
# Writes OUTDIR/report.txt from the outputs listed in OUTDIR/sizes.txt:
#   FSS_REPORT_CMD "$output" for each output in turn (default:
#   /usr/bin/python3 <repo>/analysis/ising_output.py), or, with
#   FSS_REPORT_ALL=1, FSS_REPORT_CMD once with all outputs as arguments.
# If an output is not finished because jobs/ising.sbatch resubmitted its run
# (OUTPUT.jobs: "round N job ID submitted", ID still queued), this job submits
# itself again with --dependency=afterany on those jobs (a job cancelled by
# SIGTERM may have resubmitted itself: the outputs, not the job states,
# decide) and exits 0; an output unfinished with no job left is an error
# (exit 1).
#SBATCH --job-name=fss-report
#SBATCH --output=fss-report-%j.out
set -u
outdir=${1:?usage: jobs/fss_report.sh OUTDIR}
cd "${SLURM_SUBMIT_DIR:-.}" || exit 1
ROOT=${ISING_SBATCH:+$(dirname "$ISING_SBATCH")/..}
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
ISING=${ISING:-$ROOT/build/ising}
CMD=${FSS_REPORT_CMD:-/usr/bin/python3 $ROOT/analysis/ising_output.py}
mapfile -t outputs < "$outdir/sizes.txt" || exit 1
waiting=""; missing=0
for f in "${outputs[@]}"; do
  st=$("$ISING" info "$f" 2>/dev/null | awk '$1 == "status" {print $2; exit}')
  [ "$st" = finished ] && continue
  next=$(awk '$5 == "submitted" {id = $4} END {print id}' "$f.jobs" 2>/dev/null)
  if [ -n "$next" ] && [ -n "$(squeue -h -j "$next" -o %i 2>/dev/null)" ]; then
    waiting="$waiting:$next"
  else
    echo "fss_report: $f: status '${st:-missing}' and no job left to finish it" >&2; missing=1
  fi
done
[ $missing = 0 ] || exit 1
if [ -n "$waiting" ]; then
  id=$(sbatch --parsable --dependency="afterany$waiting" --ntasks=1 \
       --job-name=fss-report --output="$outdir/report-%j.out" "$0" "$outdir") || exit 1
  echo "fss_report: runs still going (jobs ${waiting#:}); report deferred to job ${id%%;*}"
  exit 0
fi
{
  if [ "${FSS_REPORT_ALL:-0}" = 1 ]; then
    $CMD "${outputs[@]}"
  else
    for f in "${outputs[@]}"; do $CMD "$f" || exit 1; done
  fi
} > "$outdir/report.txt.tmp" && mv "$outdir/report.txt.tmp" "$outdir/report.txt" || exit 1
echo "fss_report: $outdir/report.txt written"
