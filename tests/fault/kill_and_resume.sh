#!/usr/bin/env bash
# Crash test of the flagship: SIGKILL it at random moments of a 1M-row run (generation,
# reading, writing, checkpointing: wherever it is), restart it each time, then let it finish
# and check that the warehouse holds every good row exactly once and the DLQ exactly the bad
# rows (set equality). Usage: kill_and_resume.sh <listings_etl binary> [kills (12)]
set -euo pipefail
bin=$(realpath "$1")
kills=${2:-12}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
# 1M rows: long enough (seconds, even in a quiet Release build) that the kills land mid-run.
args=(--rows 1000000 --workers 4 --batch 500 --input listings.csv --warehouse warehouse.db)

killed=0
for ((i = 1; i <= kills; i++)); do
  "$bin" "${args[@]}" >"run-$i.log" 2>&1 &
  pid=$!
  # 0.1 to 1.1 s: early kills hit the generator and the first batches, later ones mid-run.
  sleep "$(awk -v seed="$RANDOM" 'BEGIN { srand(seed); printf "%.2f", 0.1 + rand() * 1.0 }')"
  if kill -9 "$pid" 2>/dev/null; then
    killed=$((killed + 1))
  else
    echo "start $i ended before the kill:"; tail -n 3 "run-$i.log"
  fi
  wait "$pid" 2>/dev/null || true
done
echo "killed the flagship $killed times out of $kills starts"
if ((killed < 10)); then
  echo "FAIL: fewer than 10 kills landed (runs finished too fast): raise --rows" >&2
  exit 1
fi
"$bin" "${args[@]}" --verify
