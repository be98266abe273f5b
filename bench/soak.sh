#!/usr/bin/env bash
# Soak test: examples/08_error_ingestion (HTTP hot path on Redis, stream worker and flusher on
# MySQL) under steady load (wrk, CONNECTIONS connections, default 20) for SECONDS (default
# 600), sampling every INTERVAL seconds (default 5) the service's RSS, open file descriptors
# (/proc/PID/fd), threads, and the server-side connection counts: Redis CLIENT LIST and MySQL
# PROCESSLIST. Fails if any of them grows without bound: the largest value of the last third
# of the samples may not exceed the largest of the first third by more than a tolerance (RSS:
# 10% + 4 MB; fds, threads, connections: 2). Then the service is stopped and MySQL must count
# every accepted request once. Bounded: stops by itself after SECONDS plus start-up.
#   scripts/services.sh --only redis,mysql -- bench/soak.sh [SECONDS] [INTERVAL] [CONNECTIONS]
#   scripts/services.sh --only redis,mysql -- bench/soak.sh 60 3        (a short try)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600} interval=${2:-5} connections=${3:-20}
source bench/lib/error_ingestion_service.sh
build_service
start_service "soak_$$" --http-threads 64 --flush-seconds 5

# mysql://user:password@host:port/db -> client options (the test servers' URIs have no %-escapes).
[[ $PIPELINE_MYSQL_TEST_URI =~ ^mysql://([^:@]+):([^@]*)@([^:/]+):([0-9]+)/(.*)$ ]] ||
  { echo "cannot read $PIPELINE_MYSQL_TEST_URI" >&2; exit 1; }
mysql_count=(mysql -N -B -u "${BASH_REMATCH[1]}" "-p${BASH_REMATCH[2]}" -h "${BASH_REMATCH[3]}" -P "${BASH_REMATCH[4]}"
             -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST")

wrk -t1 -c"$connections" -d"${seconds}s" --timeout 5s -s bench/error_ingestion.lua "$service_url" >"$service_log.wrk" &
wrk_pid=$!
samples=$(mktemp)
printf '%8s %10s %6s %8s %14s %16s\n' seconds rss_kb fds threads redis_clients mysql_processes
start=$SECONDS
while kill -0 "$wrk_pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$service_pid/status")
  threads=$(awk '/^Threads/ { print $2 }' "/proc/$service_pid/status")
  fds=$(find "/proc/$service_pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
  # Minus one each: the connection that asks.
  redis_clients=$(($(redis-cli -u "$PIPELINE_REDIS_TEST_URI" CLIENT LIST | wc -l) - 1))
  mysql_processes=$(($("${mysql_count[@]}") - 1))
  printf '%8d %10d %6d %8d %14d %16d\n' $((SECONDS - start)) "$rss" "$fds" "$threads" "$redis_clients" "$mysql_processes" |
    tee -a "$samples"
  sleep "$interval"
done
wait "$wrk_pid" || true
grep -E "SUMMARY" "$service_log.wrk" || true
rm -f "$service_log.wrk"

status=0
awk 'function check(name, col, rel, abs,   i, first, last) {
       first = 0; last = 0
       for (i = 1; i <= third; i++) if (v[i, col] > first) first = v[i, col]
       for (i = n - third + 1; i <= n; i++) if (v[i, col] > last) last = v[i, col]
       ok = last <= first * (1 + rel) + abs
       printf "%-16s first third max %10d, last third max %10d -> %s\n", name, first, last, ok ? "bounded" : "GROWING"
       if (!ok) bad = 1
     }
     { n++; for (c = 1; c <= NF; c++) v[n, c] = $c }
     END {
       third = int(n / 3)
       if (third < 1) { print "too few samples"; exit 1 }
       check("rss_kb", 2, 0.10, 4096); check("fds", 3, 0, 2); check("threads", 4, 0, 2)
       check("redis_clients", 5, 0, 2); check("mysql_processes", 6, 0, 2)
       exit bad
     }' "$samples" || status=1
rm -f "$samples"
stop_and_check_service || status=1
exit $status
