#!/usr/bin/env bash
# The distributed queue beside BullMQ, in one run on the same Redis: one producer process and
# 2 worker processes each, first message queued -> last one processed.
#   bench/redis/run.sh <bench_redis_queue binary> [messages] [batched messages]
# Redis is $PIPELINE_REDIS_TEST_URI (run under scripts/services.sh --only redis). Installs the
# pinned BullMQ (bench/redis/bullmq/package-lock.json) with npm ci when node_modules is missing.
set -euo pipefail
bin=$1 messages=${2:-200000} batched=${3:-1000}
here=$(cd "$(dirname "$0")" && pwd)
uri=${PIPELINE_REDIS_TEST_URI:?run under scripts/services.sh --only redis}
[[ -d "$here/bullmq/node_modules" ]] || (cd "$here/bullmq" && npm ci --no-audit --no-fund >/dev/null)
echo "# one record per message"
"$bin" --redis "$uri" --messages "$messages" --per-message 1 --workers 2
node "$here/bullmq/bench.js" "$uri" "$messages" 2 1
echo "# 1,000 records per message"
"$bin" --redis "$uri" --messages "$batched" --per-message 1000 --workers 2
node "$here/bullmq/bench.js" "$uri" "$batched" 2 1000
