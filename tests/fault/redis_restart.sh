#!/usr/bin/env bash
# Outage test of examples/04_redis_workers: a producer and 2 worker processes run on a
# redis-server of this script's own, which is stopped and restarted mid-run (down 1 to 3 s each
# time, then a few seconds loading its dataset), alternately with SIGTERM and SIGKILL. Every
# process must wait the outages out and finish rc 0; right after each restart, while the server
# still answers LOADING, one more worker is started (it must wait too). Then `--role check`
# verifies by set equality that the sink holds every good order once and the dead-letter stream
# exactly the bad ones (each 1000th), once, and that nothing is in both.
#
# Persistence is what docs/adapters/redis.md promises no loss with: AOF, appendfsync always
# (an acknowledged write is on disk; SIGKILL loses nothing). Loading is made slow on purpose:
# 12,000 padding keys in the AOF's RDB base, loaded with a delay per key (key-load-delay) and
# events served every KiB, so the server answers LOADING for about 2 s after each start.
#   redis_restart.sh <redis_workers binary> [restarts (3)] [orders (200000)]
set -euo pipefail
bin=$(realpath "$1")
restarts=${2:-3}
records=${3:-200000}
source "$(dirname "$(realpath "$0")")/chaos.sh"
chaos_private_server
mkdir data
server=(redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/data" --save '' --appendonly yes
        --appendfsync always --enable-debug-command yes --key-load-delay 50
        --loading-process-events-interval-bytes 1024 --daemonize no --logfile "$dir/redis.log")
start_server() {
  "${server[@]}" &
  server_pid=$!
}
ping() { timeout 2 redis-cli -p "$port" ping 2>&1 || true; }
start_server
for _ in $(seq 100); do [[ $(ping) == PONG ]] && break; sleep 0.05; done
[[ $(ping) == PONG ]] || { echo "FAIL: redis-server did not start" >&2; cat redis.log >&2; exit 1; }
redis-cli -p "$port" debug populate 12000 pad 20 >/dev/null
redis-cli -p "$port" bgrewriteaof >/dev/null
until redis-cli -p "$port" info persistence | grep -q 'aof_rewrite_in_progress:0'; do sleep 0.1; done

uri="redis://127.0.0.1:$port/0"
queue="restart_$$_$RANDOM"
common=(--redis "$uri" --queue "$queue" --records "$records")
# The visibility timeout is above an outage (3 s down, about 2 s loading), so entries a live
# worker holds across one are not reclaimed needlessly; entries whose XREADGROUP reply was lost
# in a SIGKILL come back after it.
worker=("$bin" --role worker --workers 2 --visibility-ms 10000 "${common[@]}")
chaos_spawn "$bin" --role producer "${common[@]}"
procs=("$chaos_pid")
for _ in 1 2; do
  chaos_spawn "${worker[@]}"
  procs+=("$chaos_pid")
done

loading_starts=0
for ((r = 1; r <= restarts; r++)); do
  chaos_pause 1.0 2.0
  if ! kill -0 "${procs[0]}" 2>/dev/null; then
    rc=0
    wait "${procs[0]}" || rc=$?
    chaos_forget "${procs[0]}"
    if ((rc != 0)); then
      echo "FAIL: the producer failed (rc $rc) before restart $r:" >&2
      tail -n 3 chaos-1.log >&2
    else
      echo "FAIL: the producer finished before restart $r; raise the orders" >&2
    fi
    exit 1
  fi
  signal=TERM
  ((r % 2 == 0)) && signal=KILL
  kill -"$signal" "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  down=$(awk -v seed="$RANDOM$RANDOM" 'BEGIN { srand(seed); printf "%.1f", 1 + rand() * 2 }')
  sleep "$down"
  start_server
  # A worker that starts while the server is loading its dataset.
  for _ in $(seq 100); do [[ $(ping) == LOADING* ]] && break; sleep 0.02; done
  if [[ $(ping) == LOADING* ]]; then
    chaos_spawn "${worker[@]}"
    procs+=("$chaos_pid")
    loading_starts=$((loading_starts + 1))
    echo "restart $r: SIG$signal, down ${down} s; worker $chaos_pid started while the server was LOADING"
  else
    echo "restart $r: SIG$signal, down ${down} s (not seen loading)"
  fi
  until [[ $(ping) == PONG ]]; do sleep 0.1; done
done
if ((loading_starts == 0)); then
  echo "FAIL: no worker was started while the server was loading" >&2
  exit 1
fi

status=0
for p in "${procs[@]}"; do
  if ! wait "$p"; then
    echo "FAIL: process $p failed" >&2
    status=1
  fi
  chaos_forget "$p"
done
echo "outage log lines: $(cat chaos-*.log | grep -c 'waiting up to' || true) waits started," \
     "$(cat chaos-*.log | grep -c 'is back after' || true) ended, e.g.:"
grep -h "is back after" chaos-*.log | head -n 3 | sed 's/^/  /' || true
if ((status != 0)); then tail -n 5 chaos-*.log >&2; fi
for log in chaos-*.log; do grep -h "^worker\|^producer:" "$log" || true; done
"$bin" --role check "${common[@]}" || status=1
exit "$status"
