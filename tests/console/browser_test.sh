#!/usr/bin/env bash
# The console in a real browser: a live job (console_live_job) writes runs, a checkpoint and
# dead letters into a SQLite file and a Redis prefix; `pipeline-admin serve` serves both; headless
# Chromium, driven by chromedriver through browser_check.mjs, checks the page and replays a
# letter without and with the token. Then the store is checked: the letter left the DLQ
# stream and is on the queue, once. Chromium, chromedriver and node are required (no skip).
#
#     browser_test.sh PIPELINE_ADMIN CONSOLE_LIVE_JOB ARTEFACT_DIR
set -euo pipefail

admin=$1
live_job=$2
artefacts=$3
here=$(cd "$(dirname "$0")" && pwd)

fail() { echo "browser_test: FAIL: $*" >&2; exit 1; }
for tool in chromium chromedriver node redis-cli; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/install-deps.sh test servers)"
done
redis_uri=${PIPELINE_REDIS_TEST_URI:?PIPELINE_REDIS_TEST_URI is not set: run under scripts/services.sh --only redis}

work=$(mktemp -d)
pids=()
# Every process this script started, and their children (chromedriver's Chromium), on every exit.
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  redis-cli -u "$redis_uri" --scan --pattern "$prefix*" 2>/dev/null | while read -r key; do
    redis-cli -u "$redis_uri" DEL "$key" >/dev/null
  done
  rm -rf "$work"
}
prefix="console_browser_$$"
trap cleanup EXIT
mkdir -p "$artefacts"

# Each in its own process group (setsid), so that cleanup ends it with its children.
setsid "$live_job" "$work/state.db" "$redis_uri" "$prefix" >"$work/live.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q '^ready$' "$work/live.out" && break; sleep 0.1; done
grep -q '^ready$' "$work/live.out" || fail "the live job did not start: $(cat "$work/live.out")"

token="token-$RANDOM$RANDOM"
echo "$token" >"$work/token"
setsid "$admin" serve --store "sqlite:$work/state.db" --store "$redis_uri" --prefix "$prefix" \
  --queue "$prefix:queue" --total ingest=100000 --listen 127.0.0.1:0 --token-file "$work/token" --open-reads \
  >"$work/serve.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'console on http' "$work/serve.out" && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$work/serve.out" | head -1) || fail "the console did not start: $(cat "$work/serve.out")"

# chromedriver on a port it chooses is not reported: take a free one from the kernel.
driver_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
setsid chromedriver --port="$driver_port" >"$work/chromedriver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$driver_port/status" | grep -q '"ready":true' && break; sleep 0.1; done

dead_before=$(redis-cli -u "$redis_uri" XLEN "$prefix:dead")
timeout 60 node "$here/browser_check.mjs" "http://127.0.0.1:$driver_port" "$url" "$redis_uri" "$token" \
  "$work/chromium-profile" "$artefacts/console.png" || fail "the page checks failed (chromedriver log: $work/chromedriver.log)"

queued=$(redis-cli -u "$redis_uri" XLEN "$prefix:queue")
dead_after=$(redis-cli -u "$redis_uri" XLEN "$prefix:dead")
[[ $queued == 1 ]] || fail "the queue holds $queued entries, not the 1 replayed"
[[ $dead_after == $((dead_before - 1)) ]] || fail "the DLQ stream went from $dead_before to $dead_after, not one less"
echo "browser_test: the replayed letter left the DLQ ($dead_before -> $dead_after) and is on the queue -> ok"
