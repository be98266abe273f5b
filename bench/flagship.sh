#!/usr/bin/env bash
# The flagship at N rows (default 1M) against its baseline, a single-threaded hand-written loop
# doing the same CSV parse, validation and SQLite upsert (listings_etl --single-loop), on the
# same input in the same run. Prints rows/s and peak RSS of each and their ratio.
#   bench/flagship.sh [rows] [workers]        (Release build in build/example)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
workers=${2:-2}
dir=build/bench-flagship
mkdir -p "$dir"
cmake -S . -B build/example -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DPIPELINE_BUILD_TESTS=OFF -DPIPELINE_BUILD_EXAMPLES=ON -DPIPELINE_WITH_TESTING=OFF >/dev/null
cmake --build build/example --target listings_etl >/dev/null
etl=build/example/examples/03_listings_etl/listings_etl
input="$dir/listings-$rows.csv"
[[ -f "$input" ]] || "$etl" --rows "$rows" --input "$input" --warehouse "$dir/gen.db" --single-loop >/dev/null
rm -f "$dir/gen.db"*

# Prints "<rows/s> <peak RSS kB>" of one run on a fresh warehouse.
measure() {
  local db="$dir/$1.db"; shift
  rm -f "$db" "$db-wal" "$db-shm"
  local out
  out=$(/usr/bin/time -f 'peak_rss_kb %M' "$etl" --input "$input" --warehouse "$db" "$@" 2>&1 >"$dir/last.log"; cat "$dir/last.log")
  grep -q '^completed' <<<"$out" || { echo "$out" >&2; exit 1; }
  local rate rss
  rate=$(sed -n 's/.*(\([0-9]*\) records\/s).*/\1/p' <<<"$out")
  rss=$(sed -n 's/^peak_rss_kb \([0-9]*\)/\1/p' <<<"$out")
  rm -f "$db" "$db-wal" "$db-shm"
  echo "$rate $rss"
}

read -r loop_rate loop_rss < <(measure loop --single-loop)
read -r run_rate run_rss < <(measure runner --workers "$workers")
awk -v rows="$rows" -v w="$workers" -v lr="$loop_rate" -v lm="$loop_rss" -v rr="$run_rate" -v rm="$run_rss" 'BEGIN {
  printf "%-34s %12s %12s\n", rows " rows", "rows/s", "peak RSS"
  printf "%-34s %12d %9.1f MB\n", "single-threaded loop (baseline)", lr, lm / 1024
  printf "%-34s %12d %9.1f MB\n", "pipeline::run, " w " workers", rr, rm / 1024
  printf "runner / loop: %.2fx rows/s\n", rr / lr
}'
