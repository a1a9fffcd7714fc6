#!/bin/sh
# run_fuzz.sh FUZZER SECONDS SEED_DIR... -- run the libFuzzer deck-parser
# target for a bounded time, seeded with the decks in the SEED_DIRs (read
# only: new corpus entries go to a temporary directory).  Fails on any crash
# or sanitizer report.
set -eu
fuzzer=$1; secs=$2; shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/ising-fuzz-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cd "$work"
"$fuzzer" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$work/corpus" "$@"
