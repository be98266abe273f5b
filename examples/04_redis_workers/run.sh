#!/usr/bin/env bash
# Starts one producer and N worker processes of redis_workers on one queue, waits for them, and
# checks that every order is in the sink or the dead-letter stream exactly once.
#   run.sh <path to redis_workers> [--workers N] [--records N] [--redis URI]
# Each run uses a fresh queue name. Children are killed if the script is interrupted.
set -euo pipefail
bin=$1; shift
workers=3 records=100000 redis=${PIPELINE_REDIS_TEST_URI:-redis://127.0.0.1:6379/0}
while (($#)); do
  case "$1" in
    --workers) workers=$2; shift 2 ;;
    --records) records=$2; shift 2 ;;
    --redis) redis=$2; shift 2 ;;
    *) echo "usage: run.sh <redis_workers> [--workers N] [--records N] [--redis URI]" >&2; exit 2 ;;
  esac
done
queue="example_$$_$RANDOM"
common=(--redis "$redis" --queue "$queue" --records "$records")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
for ((i = 0; i < workers; i++)); do
  "$bin" --role worker --workers 2 "${common[@]}" & pids+=($!)
done
"$bin" --role producer "${common[@]}" & pids+=($!)
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
pids=()
"$bin" --role check "${common[@]}" || status=1
exit $status
