#!/usr/bin/env bash
# Outage test of the PostgreSQL adapter: two exactly_once_process --sink postgres jobs
# (generated orders in exactly-once mode into tables with no unique key: a batch written twice
# would show; about 1% bad to the DLQ table) run on a PostgreSQL 15 of this script's own, which
# is stopped and restarted under them 3 times, down 1 to 4 s, alternately with a fast shutdown
# (SIGINT: clean) and an immediate one (SIGQUIT: no checkpoint, crash recovery at the next
# start). Both jobs start while the server is down, so they wait for it at connect as well as
# mid-run. Every process must wait the outages out and finish rc 0; then each job is checked by
# count and set equality (--verify): every good order once, every bad one once in the DLQ, no
# ledger row left.
#   postgres_restart.sh <exactly_once_process binary> [restarts (3)] [rows per job (300000)]
set -euo pipefail
bin=$(realpath "$1")
restarts=${2:-3}
rows=${3:-300000}
source "$(dirname "$(realpath "$0")")/chaos.sh"
chaos_private_server
pg_bin=/usr/lib/postgresql/15/bin
# PostgreSQL refuses to run as root: its files and process belong to the user postgres.
chmod o+x "$dir"
mkdir data run
chown postgres: data run
runuser -u postgres -- "$pg_bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
  -E UTF8 --locale=C.UTF-8 >initdb.log 2>&1 || { echo "FAIL: initdb failed" >&2; cat initdb.log >&2; exit 1; }
start_server() {
  runuser -u postgres -- "$pg_bin/postgres" -D "$dir/data" -p "$port" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$dir/run" -c max_connections=200 >>"$dir/server.log" 2>&1 &
  server_pid=$!
}
# Signals go to the postmaster itself: $server_pid is runuser's, which does not pass them on,
# so the cleanup on exit stops the postmaster (immediately) before it kills runuser.
signal_server() { kill -"$1" "$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)" 2>/dev/null; }
trap 'signal_server QUIT || true; chaos_private_server_cleanup' EXIT
await_ready() {
  for _ in $(seq 600); do "$pg_bin/pg_isready" -q -h "$dir/run" -p "$port" -U postgres && return 0; sleep 0.05; done
  echo "FAIL: postgres did not start" >&2; tail -n 20 server.log >&2; exit 1
}
restart_server() {  # <restart number> <seconds down>: a fast (clean) and an immediate (crash) shutdown in turn
  local signal=INT
  (($1 % 2 == 0)) && signal=QUIT
  signal_server "$signal"
  wait "$server_pid" 2>/dev/null || true
  sleep "$2"
  start_server
  echo "restart $1: SIG$signal, down $2 s"
  await_ready
}
start_server
await_ready
runuser -u postgres -- "$pg_bin/psql" -q -h "$dir/run" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE USER pipe SUPERUSER PASSWORD 'pipe-pass'" -c "CREATE DATABASE pipe OWNER pipe"
signal_server INT
wait "$server_pid" 2>/dev/null || true
export PIPELINE_POSTGRES_TEST_URI="postgresql://pipe:pipe-pass@127.0.0.1:$port/pipe"

procs=()
for j in a b; do
  chaos_spawn "$bin" --sink postgres --name "restart_$j" --rows "$rows" --workers 3
  procs+=("$chaos_pid")
done
chaos_server_comes_up "${#procs[@]}"
chaos_restarts "$restarts" 4 "${procs[@]}"
status=0
chaos_finish "${procs[@]}" || status=1
for j in a b; do
  "$bin" --sink postgres --name "restart_$j" --rows "$rows" --workers 3 --verify || status=1
done
exit "$status"
