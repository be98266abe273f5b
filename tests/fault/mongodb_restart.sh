#!/usr/bin/env bash
# Outage test of the MongoDB adapter: two copies of examples/06_listings_to_mongodb (CSV ->
# upsert by listing id, ~1.4% bad rows to the dead-letter collection, checkpoints and job log
# in MongoDB) run on a CongoDB of this script's own, which is stopped and restarted under them
# `restarts` times, down 1 to 3 s each time. Both copies are started while the server is down,
# so they wait for it at their first operation as well as mid-run. Every process must wait the
# outages out and finish rc 0; then each job is checked by set equality (--verify): the
# collection holds every good listing once and no other, the DLQ exactly the bad ones, once, so
# no listing is in both. 30,000 rows a job take about 70 s in the Debug build (CongoDB scans the
# collection for each batch's keys).
#
# CongoDB keeps its data in memory; given a data file (tests/services/congodb/server.mjs) it
# writes it there on SIGTERM and loads it at the next start, as a mongod's data directory
# survives a restart. So the restarts are clean stops (SIGTERM): a SIGKILL would lose what the
# server acknowledged, which no client can make up for. What a stop cuts off (a write whose
# reply is lost, a cursor) is the client's to wait out.
#   mongodb_restart.sh <listings_to_mongodb binary> <congodb server.mjs> [restarts (3)] [rows per job (30000)]
set -euo pipefail
bin=$(realpath "$1")
server_script=$(realpath "$2")
restarts=${3:-3}
rows=${4:-30000}
source "$(dirname "$(realpath "$0")")/chaos.sh"
chaos_private_server
start_server() {
  node "$server_script" "$port" "$dir/data.json" >"$dir/server.log" 2>&1 &
  server_pid=$!
}
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
restart_server() {  # <restart number> <seconds down>
  stop_server
  sleep "$2"
  start_server
  echo "restart $1: down $2 s"
  await_ready
}
await_ready() {
  for _ in $(seq 600); do grep -q '^ready' "$dir/server.log" 2>/dev/null && return 0; sleep 0.05; done
  echo "FAIL: CongoDB did not start (run under scripts/services.sh, which installs it)" >&2
  cat "$dir/server.log" >&2
  exit 1
}
copies=(a b)
# A try finds no server after 0.5 s (not libmongoc's 5 s, which would outlast these outages
# unseen): the client's outage loop does the waiting, and logs it.
copy_args() { echo --uri "mongodb://127.0.0.1:$port/?serverSelectionTimeoutMS=500" --rows "$rows" --workers 3 --input "$1.csv" --database "restart_$1"; }
procs=()
for j in "${copies[@]}"; do
  # shellcheck disable=SC2046
  chaos_spawn "$bin" $(copy_args "$j")
  procs+=("$chaos_pid")
done
chaos_server_comes_up "${#procs[@]}"

chaos_restarts "$restarts" 3 "${procs[@]}"

status=0
chaos_finish "${procs[@]}" || status=1
# A rerun of each job resumes after its checkpoint (nothing left to read) and checks it.
for j in "${copies[@]}"; do
  # shellcheck disable=SC2046
  "$bin" $(copy_args "$j") --verify || status=1
done
exit "$status"
