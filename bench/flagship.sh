#!/usr/bin/env bash
# The flagship at N rows (default 1M) against two baselines on the same input, in the same run:
#  - the anchor: Debian's `sqlite3` CLI importing the same CSV (`.import --csv`) into a table of
#    the warehouse's shape, with the same durability settings (WAL, synchronous=FULL) and no
#    validation at all: what SQLite itself takes to load these rows;
#  - a single-threaded hand-written loop doing the same CSV parse, validation and SQLite upsert
#    (listings_etl --single-loop).
# Each case runs REPS times (default 3), interleaved, each on a fresh warehouse; prints the median
# rows/s [min - max], the median peak RSS, and the flagship's ratio to each baseline.
#   bench/flagship.sh [rows] [workers] [reps] [batch]      (Release build in build/example)
# With BEFORE=<another listings_etl> (an earlier build, e.g. main's), its runner is a fourth case,
# interleaved with the others, to compare a change with what it changes under the same load.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
workers=${2:-2}
reps=${3:-3}
batch=${4:-1000}
dir=build/bench-flagship
mkdir -p "$dir"
command -v sqlite3 >/dev/null || { echo "flagship.sh: the sqlite3 CLI is missing (apt-get install sqlite3)" >&2; exit 1; }
cmake -S . -B build/example -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DPIPELINE_BUILD_TESTS=OFF -DPIPELINE_BUILD_EXAMPLES=ON -DPIPELINE_WITH_TESTING=OFF >/dev/null
cmake --build build/example --target listings_etl >/dev/null
etl=build/example/examples/03_listings_etl/listings_etl
before=${BEFORE:-}
[[ -z "$before" || -x "$before" ]] || { echo "flagship.sh: BEFORE=$before is not an executable" >&2; exit 1; }
input="$dir/listings-$rows.csv"
[[ -f "$input" ]] || "$etl" --rows "$rows" --input "$input" --warehouse "$dir/gen.db" --single-loop >/dev/null
rm -f "$dir/gen.db"*

fresh() { rm -f "$1" "$1-wal" "$1-shm"; }

# Prints "<rows/s> <peak RSS kB>" of one run of the binary $1 on a fresh warehouse.
measure_etl() {
  local bin=$1 db="$dir/$2.db"; shift 2
  fresh "$db"
  local out
  out=$(/usr/bin/time -f 'peak_rss_kb %M' "$bin" --input "$input" --warehouse "$db" --batch "$batch" "$@" 2>&1 >"$dir/last.log"; cat "$dir/last.log")
  grep -q '^completed' <<<"$out" || { echo "$out" >&2; exit 1; }
  local rate rss
  rate=$(sed -n 's/.*(\([0-9]*\) records\/s).*/\1/p' <<<"$out")
  rss=$(sed -n 's/^peak_rss_kb \([0-9]*\)/\1/p' <<<"$out")
  fresh "$db"
  echo "$rate $rss"
}

# The anchor: rows/s of the CLI's import (timed from its start to its exit, the rows it was
# given over the wall time) and its peak RSS. Rows SQLite refuses (a NULL city, a duplicate id)
# are reported by the CLI and skipped; they are a small share and counted as loaded.
measure_import() {
  local db="$dir/import.db"
  fresh "$db"
  sqlite3 "$db" "PRAGMA journal_mode=WAL;" "CREATE TABLE listings (id INTEGER PRIMARY KEY, city TEXT NOT NULL, \
price TEXT, listed_on TEXT, bedrooms INTEGER)" >/dev/null
  local start end rss
  start=$(date +%s.%N)
  rss=$( { /usr/bin/time -f '%M' sqlite3 -cmd "PRAGMA synchronous=FULL;" "$db" ".import --csv --skip 1 $input listings" \
           >/dev/null 2>"$dir/import.err"; } 2>&1; tail -1 "$dir/import.err")
  end=$(date +%s.%N)
  fresh "$db"
  awk -v r="$rows" -v s="$start" -v e="$end" -v m="$rss" 'BEGIN { printf "%d %d\n", r / (e - s), m }'
}

declare -a import_rate import_rss loop_rate loop_rss run_rate run_rss before_rate before_rss
for ((i = 0; i < reps; i++)); do
  read -r r m < <(measure_import); import_rate+=("$r"); import_rss+=("$m")
  read -r r m < <(measure_etl "$etl" loop --single-loop); loop_rate+=("$r"); loop_rss+=("$m")
  read -r r m < <(measure_etl "$etl" runner --workers "$workers"); run_rate+=("$r"); run_rss+=("$m")
  if [[ -n "$before" ]]; then
    read -r r m < <(measure_etl "$before" before --workers "$workers"); before_rate+=("$r"); before_rss+=("$m")
  fi
done

# "<median> <min> <max>" of the arguments.
stats() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }'; }
read -r im imin imax < <(stats "${import_rate[@]}")
read -r lm lmin lmax < <(stats "${loop_rate[@]}")
read -r rm rmin rmax < <(stats "${run_rate[@]}")
read -r ims _ < <(stats "${import_rss[@]}")
read -r lms _ < <(stats "${loop_rss[@]}")
read -r rms _ < <(stats "${run_rss[@]}")
awk -v rows="$rows" -v w="$workers" -v reps="$reps" -v batch="$batch" \
    -v im="$im" -v imin="$imin" -v imax="$imax" -v ims="$ims" \
    -v lm="$lm" -v lmin="$lmin" -v lmax="$lmax" -v lms="$lms" \
    -v rm="$rm" -v rmin="$rmin" -v rmax="$rmax" -v rms="$rms" 'BEGIN {
  printf "%d rows, batches of %d, median of %d runs each, interleaved\n", rows, batch, reps
  printf "%-36s %24s %10s\n", "case", "rows/s median [min-max]", "peak RSS"
  printf "%-36s %8d [%d-%d] %7.1f MB\n", "sqlite3 .import (anchor)", im, imin, imax, ims / 1024
  printf "%-36s %8d [%d-%d] %7.1f MB\n", "single-threaded loop (baseline)", lm, lmin, lmax, lms / 1024
  printf "%-36s %8d [%d-%d] %7.1f MB\n", "pipeline::run, " w " workers", rm, rmin, rmax, rms / 1024
  printf "runner / sqlite3 .import: %.2fx   runner / loop: %.2fx\n", rm / im, rm / lm
}'
if [[ -n "$before" ]]; then
  read -r bm bmin bmax < <(stats "${before_rate[@]}")
  read -r bms _ < <(stats "${before_rss[@]}")
  awk -v w="$workers" -v bm="$bm" -v bmin="$bmin" -v bmax="$bmax" -v bms="$bms" -v rm="$rm" -v im="$im" 'BEGIN {
    printf "%-36s %8d [%d-%d] %7.1f MB\n", "BEFORE: pipeline::run, " w " workers", bm, bmin, bmax, bms / 1024
    printf "BEFORE / sqlite3 .import: %.2fx   runner / BEFORE: %.2fx\n", bm / im, rm / bm
  }'
fi
