#!/usr/bin/env bash
# Fault test of examples/10_listings_system, the whole system under the faults its team met:
# `listings_system` (role all: a supervised producer, 3-4 supervised workers, MongoDB sink)
# runs on a mariadbd and a redis-server of this script's own, and once a second for 16 s a
# random worker is SIGKILLed (the supervisor restarts it). Along the way:
#  - the producer is SIGKILLed once (its supervisor restarts it; it resumes from its checkpoint);
#  - redis-server is restarted once (SIGTERM, down 1-2 s; AOF with appendfsync everysec, which a
#    clean shutdown flushes: docs/benchmarks.md says what everysec risks on a crash);
#  - mariadbd is restarted once (SIGKILL, down 1-3 s);
#  - a worker is SIGSTOPped for 4 s, past the 2 s visibility timeout, then continued (another
#    worker has reclaimed its entries meanwhile; it finishes its batch late).
# Every process must come through, and the program's own check must pass: every good listing
# in MongoDB once, every bad one in the dead-letter stream once, nothing in both. Fails when
# fewer than 10 worker kills landed or the system finished before the faults were done.
#   listings_system_chaos.sh <listings_system binary> [rows (40000)]
set -euo pipefail
bin=$(realpath "$1")
rows=${2:-40000}
here=$(dirname "$(realpath "$0")")
source "$here/chaos.sh"
if [[ -z ${PIPELINE_MONGODB_TEST_URI:-} ]]; then
  echo "FAIL: PIPELINE_MONGODB_TEST_URI is not set (run it under scripts/services.sh)" >&2
  exit 1
fi
chaos_private_server
source "$here/private_mariadb.sh"
mariadb_setup "$port"
redis_port=$(chaos_free_port $((port + 1)))
mkdir redis
redis_start() {
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir/redis" --save '' --appendonly yes \
    --appendfsync everysec --daemonize no --logfile "$dir/redis.log" &
  redis_pid=$!
}
redis_await_ready() {
  for _ in $(seq 600); do
    [[ $(timeout 2 redis-cli -p "$redis_port" ping 2>&1 || true) == PONG ]] && return 0
    sleep 0.05
  done
  echo "FAIL: redis-server did not start" >&2; cat "$dir/redis.log" >&2; exit 1
}
redis_start
redis_await_ready

name="chaos_$$"
args=(--mysql "$mariadb_uri" --redis "redis://127.0.0.1:$redis_port/0" --mongodb "$PIPELINE_MONGODB_TEST_URI"
      --name "$name" --rows "$rows" --batch 50 --min-workers 3 --max-workers 4 --per-worker 5 --interval-ms 500
      --visibility-ms 2000 --max-depth 50)
"$bin" "${args[@]}" --role load --fresh >load.log 2>&1 || { echo "FAIL: loading the feed failed" >&2; cat load.log >&2; exit 1; }

chaos_spawn "$bin" "${args[@]}"  # role all
system=$chaos_pid
system_log="chaos-$chaos_logs.log"
# The supervisors' children are not this script's: they are found by their command lines.
processes_of() { pgrep -f -- "--name $name .*--role $1\$" || true; }
running() { kill -0 "$system" 2>/dev/null; }

stopped_worker="" producer_kills=0 redis_restarts=0 mariadb_restarts=0 sigstops=0
sleep 2
for ((t = 1; t <= 16; t++)); do
  sleep 1
  if ! running; then
    echo "FAIL: the system ended after $t s, before the faults were done; raise the rows" >&2
    tail -n 5 "$system_log" >&2
    exit 1
  fi
  mapfile -t workers < <(processes_of work | grep -vx "${stopped_worker:-none}" || true)
  if ((${#workers[@]} > 0)); then chaos_kill "${workers[RANDOM % ${#workers[@]}]}" || true; fi
  case $t in
    3)
      producer=$(processes_of produce | head -n 1)
      if [[ -n $producer ]] && chaos_kill "$producer"; then
        producer_kills=1
        chaos_landed=$((chaos_landed - 1))  # counted apart from the worker kills
      fi
      ;;
    5)
      kill -TERM "$redis_pid"
      wait "$redis_pid" 2>/dev/null || true
      chaos_pause 1.0 2.0
      redis_start
      redis_await_ready
      redis_restarts=1
      ;;
    8)
      mariadb_stop KILL
      chaos_pause 1.0 3.0
      mariadb_start
      mariadb_await_ready
      mariadb_restarts=1
      ;;
    10)
      stopped_worker=$(processes_of work | head -n 1)
      if [[ -n $stopped_worker ]]; then
        kill -STOP "$stopped_worker"
        sigstops=1
      fi
      ;;
    14)
      if [[ -n $stopped_worker ]]; then kill -CONT "$stopped_worker" 2>/dev/null || true; fi
      ;;
  esac
done
echo "faults: $chaos_landed workers SIGKILLed, producer SIGKILLed $producer_kills, redis-server restarted" \
     "$redis_restarts, mariadbd restarted $mariadb_restarts, a worker SIGSTOPped for 4 s $sigstops"

status=0
wait "$system" || status=$?
chaos_forget "$system"
grep -h "^system:\|^check:" "$system_log" || true
if ((status != 0)); then
  echo "FAIL: listings_system ended rc $status" >&2
  tail -n 20 "$system_log" >&2
  exit 1
fi
if ((producer_kills != 1 || redis_restarts != 1 || mariadb_restarts != 1 || sigstops != 1)); then
  echo "FAIL: not every fault happened" >&2
  exit 1
fi
chaos_require_landed 10
