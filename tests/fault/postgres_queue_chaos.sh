#!/usr/bin/env bash
# Crash test of the PostgreSQL queue: one producer and 3 worker processes
# (postgres_queue_process) on a fresh queue in the database of PIPELINE_POSTGRES_TEST_URI.
# Every 0.2 to 0.6 s a random worker is SIGKILLed (whatever it is doing: claiming, writing its
# rows with the ledger row and the entries' deletion, storing dead letters, reclaiming or
# splitting an entry) and a new one started in its place; every third kill, the connections of
# all workers are also cut (pg_terminate_backend), which they must ride out. After the kills the
# last workers finish (a killed worker's claims come back after the 2 s visibility timeout),
# then `--role check` verifies by set equality that the sink table (no unique key) holds every
# good record exactly once, the DLQ table every bad one (each 97th) exactly once, and the queue
# is empty.
#   postgres_queue_chaos.sh <postgres_queue_process binary> [kills (12)] [records (400000)]
set -euo pipefail
bin=$(realpath "$1")
kills=${2:-12}
records=${3:-400000}
: "${PIPELINE_POSTGRES_TEST_URI:?PIPELINE_POSTGRES_TEST_URI is not set (scripts/services.sh --only postgres -- ...)}"
source "$(dirname "$(realpath "$0")")/chaos.sh"
dir=$(mktemp -d)
name="pgq_chaos_$$_$RANDOM"
common=(--name "$name" --rows "$records")
cleanup() {
  chaos_cleanup
  "$bin" --role drop "${common[@]}" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"

"$bin" --role setup "${common[@]}"
chaos_spawn "$bin" --role producer "${common[@]}"
producer=$chaos_pid
workers=()
for i in 0 1 2; do
  chaos_spawn "$bin" --role worker "${common[@]}"
  workers[i]=$chaos_pid
done

cuts=0
while ((chaos_landed < kills)); do
  chaos_pause 0.2 0.6
  chaos_replace_a_worker "$bin" --role worker "${common[@]}"
  if ((chaos_landed % 3 == 0)); then
    "$bin" --role cut
    cuts=$((cuts + 1))
  fi
done
chaos_require_landed 10
echo "chaos: worker connections cut $cuts times"

status=0
chaos_wait_all "$producer" "${workers[@]}" || status=1
"$bin" --role check "${common[@]}" || status=1
exit "$status"
