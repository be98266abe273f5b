#!/usr/bin/env bash
# What the Redis queue's durability options cost the producer, in one run: bench_redis_queue
# (one producer, 2 workers) on a primary with one replica of this script's own (throwaway,
# 127.0.0.1, no persistence), with the producer
#   plain | exactly-once (each batch with its ledger entry) | --wait-replicas 1 | both,
# each 3 times, interleaved; prints the median messages/s of each and its ratio to plain.
#   bench/redis/durability.sh <bench_redis_queue binary> [messages (200)] [records per message (1000)]
set -euo pipefail
bin=$(realpath "$1")
messages=${2:-200}
per=${3:-1000}
source "$(dirname "$(realpath "$0")")/../../tests/fault/chaos.sh"
chaos_private_server
replica_port=$(chaos_free_port $((port + 1)))
start() {  # <port> [options...]
  local p=$1; shift
  mkdir -p "$dir/$p"
  redis-server --port "$p" --bind 127.0.0.1 --dir "$dir/$p" --save '' --appendonly no --daemonize no \
    --logfile "$dir/$p/log" "$@" &
}
start "$port"
server_pid=$!
start "$replica_port" --replicaof 127.0.0.1 "$port"
redis_pid=$!
until [[ $(redis-cli -p "$port" wait 1 100 2>/dev/null) == 1 ]]; do sleep 0.1; done
uri="redis://127.0.0.1:$port/0"
declare -A rates
cases=("0 0" "1 0" "0 1" "1 1")
for rep in 1 2 3; do
  for c in "${cases[@]}"; do
    read -r eo wr <<<"$c"
    line=$("$bin" --redis "$uri" --messages "$messages" --per-message "$per" --workers 2 --exactly-once "$eo" \
             --wait-replicas "$wr")
    echo "$line"
    rates[$c]+="$(sed 's/.*messages_per_s=\([0-9]*\).*/\1/' <<<"$line") "
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | sed -n 2p; }
plain=$(median "${rates["0 0"]}")
for c in "${cases[@]}"; do
  read -r eo wr <<<"$c"
  m=$(median "${rates[$c]}")
  printf "exactly_once=%s wait_replicas=%s: median %s messages/s (%s records each), %.2fx plain\n" "$eo" "$wr" "$m" "$per" \
    "$(awk -v a="$m" -v b="$plain" 'BEGIN { print a / b }')"
done
