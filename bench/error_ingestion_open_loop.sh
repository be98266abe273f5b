#!/usr/bin/env bash
# examples/08_error_ingestion at fixed request rates, open loop (bench/open_loop_load.cpp): each
# request is timed from when it was due, so a server that falls behind is charged for the queue
# it causes. RATES (default "1000 2500 5000") requests/s, DURATION seconds each (default 10),
# CONNECTIONS keep-alive connections (default 64); then a closed-loop wrk run (100 connections)
# for the service's capacity in the same run, the final flush, and the check that MySQL counts
# exactly what the service accepted. Fails on any error, non-2xx answer or count that differs.
# FLUSH_SECONDS (default 5): the service's --flush-seconds.
#   scripts/services.sh --only redis,mysql -- bench/error_ingestion_open_loop.sh [DURATION] [RATES] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10} rates=${2:-"1000 2500 5000"} connections=${3:-64}
source bench/lib/error_ingestion_service.sh
build_service
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DPIPELINE_BUILD_BENCH=ON >/dev/null
cmake --build build/release --target open_loop_load >/dev/null
ulimit -n 4096
start_service "open_loop_$$" --http-threads 600 --flush-seconds "${FLUSH_SECONDS:-5}"

status=0
printf '%-10s %9s %9s %9s %9s %9s %9s %8s\n' rate p50_ms p95_ms p99_ms p99.9_ms max_ms answered errors
for rate in $rates; do
  line=$(build/release/bench/open_loop_load --url "$service_url/errors/log" --rate "$rate" --seconds "$duration" \
           --connections "$connections" | grep '^SUMMARY') || exit 1
  eval "${line#SUMMARY }"
  # shellcheck disable=SC2154  # p50_us … unsent are set by the eval above
  awk -v r="$rate" -v p50="$p50_us" -v p95="$p95_us" -v p99="$p99_us" -v p999="$p999_us" -v mx="$max_us" \
      -v a="$answered" -v d="$due" -v e="$((errors + non2xx + unsent))" \
      'BEGIN { printf "%-10s %9.2f %9.2f %9.2f %9.2f %9.2f %5d/%-5d %6d\n", r, p50/1000, p95/1000, p99/1000, p999/1000, mx/1000, a, d, e }'
  ((errors + non2xx + unsent == 0)) || status=1
done
out=$(wrk -t2 -c100 -d"${duration}s" --timeout 5s -s bench/error_ingestion.lua "$service_url" -- 0)
line=$(grep '^SUMMARY' <<<"$out") || { echo "$out"; exit 1; }
eval "${line#SUMMARY }"
# shellcheck disable=SC2154
awk -v n="$requests" -v s="$seconds" 'BEGIN { printf "closed loop (wrk, 100 connections): %.0f requests/s\n", n/s }'
stop_and_check_service || status=1
exit $status
