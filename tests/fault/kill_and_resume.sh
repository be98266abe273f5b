#!/usr/bin/env bash
# Crash test of the flagship: SIGKILL it at random moments of a 1M-row run (generation,
# reading, writing, checkpointing: wherever it is), restart it each time with another --batch,
# then let it finish (with yet another) and check that the warehouse holds every good row
# exactly once and the DLQ exactly the bad rows, each once (set equality). The changing batch
# size makes each restart re-read what the killed run had not checkpointed in differently cut
# batches: a letter stored before the kill must not be stored again.
# Usage: kill_and_resume.sh <listings_etl binary> [kills (12)]
set -euo pipefail
bin=$(realpath "$1")
kills=${2:-12}
source "$(dirname "$(realpath "$0")")/chaos.sh"
dir=$(mktemp -d)
cleanup() {
  chaos_cleanup
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"
# 1M rows: long enough (seconds, even in a quiet Release build) that the kills land mid-run.
args=(--rows 1000000 --workers 4 --input listings.csv --warehouse warehouse.db)
batches=(500 1000 300 700)
start() {
  exec "$bin" "${args[@]}" --batch "${batches[$(($1 % ${#batches[@]}))]}"
}
# 0.1 to 1.1 s: early kills hit the generator and the first batches, later ones mid-run.
chaos_kill_and_resume "$kills" 0.1 1.1 start
chaos_require_landed 10
"$bin" "${args[@]}" --batch 400 --verify
