#!/usr/bin/env bash
# Crash test of examples/04_redis_workers: one producer and 3 worker processes on a fresh
# queue; every 0.2 to 0.5 s a random worker is SIGKILLed (whatever it is doing: reading,
# pricing, writing the sink or the DLQ, acknowledging) and a new one started in its place. After
# the kills the last workers finish (the killed workers' pending entries are reclaimed after
# the visibility timeout, 1 s here), then `--role check` verifies by set equality that the sink
# holds every good order exactly once and the dead-letter stream every bad order (each 1000th)
# exactly once. Needs PIPELINE_REDIS_TEST_URI (scripts/services.sh).
#   redis_workers_chaos.sh <redis_workers binary> [kills (12)] [orders (500000)]
set -euo pipefail
bin=$(realpath "$1")
kills=${2:-12}
records=${3:-500000}
: "${PIPELINE_REDIS_TEST_URI:?PIPELINE_REDIS_TEST_URI is not set (scripts/services.sh --only redis -- ...)}"
source "$(dirname "$(realpath "$0")")/chaos.sh"
dir=$(mktemp -d)
queue="chaos_$$_$RANDOM"
common=(--redis "$PIPELINE_REDIS_TEST_URI" --queue "$queue" --records "$records")
cleanup() {
  chaos_cleanup
  # The queue's keys share the hash tag {queue}; drop them so reruns do not fill the server.
  redis-cli -u "$PIPELINE_REDIS_TEST_URI" --scan --pattern "{$queue}*" 2>/dev/null |
    xargs -r redis-cli -u "$PIPELINE_REDIS_TEST_URI" del >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"

# A short visibility timeout, so that the entries a killed worker held come back within the
# test; long enough that a live worker (2 threads, batches of 500) never loses one it holds.
# 500,000 orders take 3 workers about 15 s in the Debug build on 2 loaded cores: the 12 kills
# (3 to 6 s) end well before the queue is drained, even on a machine a few times faster.
worker=("$bin" --role worker --workers 2 --visibility-ms 1000 "${common[@]}")
chaos_spawn "$bin" --role producer "${common[@]}"
producer=$chaos_pid
workers=()
for i in 0 1 2; do
  chaos_spawn "${worker[@]}"
  workers[i]=$chaos_pid
done

while ((chaos_landed < kills)); do
  chaos_pause 0.2 0.5
  chaos_replace_a_worker "${worker[@]}"
done
chaos_require_landed 10

status=0
chaos_wait_all "$producer" "${workers[@]}" || status=1
"$bin" --role check "${common[@]}" || status=1
exit "$status"
