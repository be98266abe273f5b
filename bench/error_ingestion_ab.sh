#!/usr/bin/env bash
# Two or more builds of examples/08_error_ingestion, interleaved, at one fixed request rate (open
# loop, bench/open_loop_load.cpp): for each "label|binary|service options" argument in turn, a
# fresh service, 3 s at 1,000 requests/s to warm it, then RATE (default 5000) requests/s for
# SECONDS (default 8); prints its latencies and the load average, then stops it and checks that
# MySQL counts exactly what it accepted. Repeat the arguments to interleave rounds.
#   scripts/services.sh --only redis,mysql -- bench/error_ingestion_ab.sh \
#     "before|/old/error_ingestion|--flush-seconds 5" "after|build/example/.../error_ingestion|--flush-seconds 5"
set -uo pipefail
cd "$(dirname "$0")/.."
source bench/lib/error_ingestion_service.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPIPELINE_BUILD_BENCH=ON >/dev/null
cmake --build build/release --target open_loop_load >/dev/null
ulimit -n 4096
rate=${RATE:-5000} seconds=${SECONDS_AT_RATE:-8} status=0
load() { build/release/bench/open_loop_load --url "$service_url/errors/log" --connections 64 "$@" </dev/null; }
printf '%-10s %8s %8s %8s %8s %8s %7s %5s\n' case p50_ms p95_ms p99_ms p99.9_ms max_ms errors load
for spec in "$@"; do
  IFS='|' read -r label service_bin options <<<"$spec"
  # shellcheck disable=SC2086  # the options are words
  start_service "ab_$$_$RANDOM" --http-threads 600 $options || exit 1
  load --rate 1000 --seconds 3 >/dev/null
  line=$(load --rate "$rate" --seconds "$seconds" | grep '^SUMMARY') || exit 1
  eval "${line#SUMMARY }"
  # shellcheck disable=SC2154  # set by the eval above
  awk -v l="$label" -v p50="$p50_us" -v p95="$p95_us" -v p99="$p99_us" -v p999="$p999_us" -v mx="$max_us" \
      -v e="$((errors + non2xx + unsent))" -v la="$(cut -d' ' -f1 /proc/loadavg)" \
      'BEGIN { printf "%-10s %8.2f %8.2f %8.2f %8.2f %8.2f %7d %5s\n", l, p50/1000, p95/1000, p99/1000, p999/1000, mx/1000, e, la }'
  ((errors + non2xx + unsent == 0)) || status=1
  stop_and_check_service >/dev/null || { echo "$label: MySQL does not count what the service accepted" >&2; status=1; }
done
exit $status
