#!/usr/bin/env bash
# Load test of examples/08_error_ingestion: wrk POSTs error events (bench/error_ingestion.lua)
# at 10, 100 and 500 connections, each for DURATION seconds (default 10), first as fast as
# each connection can (a closed loop: latency = connections / throughput), then with each
# connection waiting THINK_MS (default 100) between requests, like users; then the service is
# stopped (SIGTERM: a final flush) and MySQL must count exactly the requests the service
# accepted (its error_ingestion_events_accepted_total, which also counts requests wrk abandoned
# when its time was up). Prints p50/p95/p99/max latency and requests/s per concurrency. Bounded:
# it stops by itself after 6 x DURATION plus the build and start-up. Fails on any wrk error or
# non-2xx answer, or a MySQL total that differs.
#   scripts/services.sh --only redis,mysql -- bench/error_ingestion_load.sh [DURATION] [THINK_MS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10} think_ms=${2:-100}
source bench/lib/error_ingestion_service.sh
build_service
ulimit -n 4096
start_service "load_$$" --http-threads 600 --flush-seconds 5

status=0
printf '%-12s %6s %9s %9s %9s %9s %11s %7s\n' connections think p50_ms p95_ms p99_ms max_ms requests/s errors
for run in "10 0" "100 0" "500 0" "10 $think_ms" "100 $think_ms" "500 $think_ms"; do
  read -r c think <<<"$run"
  out=$(wrk -t2 -c"$c" -d"${duration}s" --timeout 5s -s bench/error_ingestion.lua "$service_url" -- "$think")
  line=$(grep '^SUMMARY' <<<"$out") || { echo "$out"; exit 1; }
  eval "${line#SUMMARY }"
  # shellcheck disable=SC2154  # p50_us … non2xx are set by the eval above
  awk -v c="$c" -v t="${think}ms" -v p50="$p50_us" -v p95="$p95_us" -v p99="$p99_us" -v mx="$max_us" -v n="$requests" -v s="$seconds" \
      -v e="$((errors + non2xx))" \
      'BEGIN { printf "%-12s %6s %9.3f %9.3f %9.3f %9.3f %11.0f %7d\n", c, t, p50/1000, p95/1000, p99/1000, mx/1000, n/s, e }'
  ((errors + non2xx == 0)) || status=1
done
stop_and_check_service || status=1
exit $status
