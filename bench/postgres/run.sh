#!/usr/bin/env bash
# The PostgreSQL queue beside the Redis queue and pg-boss, in one run: one producer process and
# 2 worker processes each, first message queued -> last one processed; the PostgreSQL queue
# and pg-boss on the same database, the Redis queue on the Redis of the same services.
#   bench/postgres/run.sh <bench_postgres_queue> <bench_redis_queue> [messages] [batched messages] [repetitions]
# Run under scripts/services.sh --only postgres,redis (PIPELINE_POSTGRES_TEST_URI,
# PIPELINE_REDIS_TEST_URI). Installs the pinned pg-boss (bench/pgboss/package-lock.json) with
# npm ci when node_modules is missing.
set -euo pipefail
pg_bin=$1 redis_bin=$2 messages=${3:-100000} batched=${4:-1000} repetitions=${5:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
pg=${PIPELINE_POSTGRES_TEST_URI:?run under scripts/services.sh --only postgres,redis}
redis=${PIPELINE_REDIS_TEST_URI:?run under scripts/services.sh --only postgres,redis}
[[ -d "$here/pgboss/node_modules" ]] || (cd "$here/pgboss" && npm ci --no-audit --no-fund >/dev/null)
uptime
for ((r = 1; r <= repetitions; r++)); do
  echo "# repetition $r: one record per message"
  "$pg_bin" --postgres "$pg" --messages "$messages" --per-message 1 --workers 2
  "$redis_bin" --redis "$redis" --messages "$messages" --per-message 1 --workers 2
  node "$here/pgboss/bench.js" "$pg" "$messages" 2 1
  echo "# repetition $r: 1,000 records per message"
  "$pg_bin" --postgres "$pg" --messages "$batched" --per-message 1000 --workers 2
  "$redis_bin" --redis "$redis" --messages "$batched" --per-message 1000 --workers 2
  node "$here/pgboss/bench.js" "$pg" "$batched" 2 1000
done
uptime
