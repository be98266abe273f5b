#!/usr/bin/env bash
# Starts error_ingestion on a free port with a flush every second, sends good requests (30
# distinct errors, their numbers varying), bad ones (400) and a too large one (413), checks
# /health and /metrics, stops it with SIGTERM (final flush) and checks that MySQL counts every
# accepted request once:
#   smoke_test.sh <path to error_ingestion> [requests]
# Needs PIPELINE_REDIS_TEST_URI and PIPELINE_MYSQL_TEST_URI; uses fresh tables and keys.
set -euo pipefail
bin=$1 requests=${2:-300}
: "${PIPELINE_REDIS_TEST_URI:?not set (scripts/services.sh --only redis,mysql -- ...)}"
: "${PIPELINE_MYSQL_TEST_URI:?not set (scripts/services.sh --only redis,mysql -- ...)}"
prefix="ingest_$$_$RANDOM"
log=$(mktemp)
pid=
token_file=$(mktemp)
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -f "$log" "$token_file"' EXIT
echo "console-token-$RANDOM" > "$token_file"
"$bin" --listen 127.0.0.1:0 --prefix "$prefix" --flush-seconds 1 --max-body 4096 --http-threads 16 \
  --console 127.0.0.1:0 --console-token-file "$token_file" > "$log" 2>&1 & pid=$!
for ((i = 0; i < 200; i++)); do grep -q "console on" "$log" && grep -q "listening on" "$log" && break; kill -0 "$pid" || { cat "$log"; exit 1; }; sleep 0.05; done
url=$(grep -o "http://[0-9.:]*" "$log" | head -1)
console=$(grep "console on" "$log" | grep -o "http://[0-9.:]*")
fail() { echo "FAIL: $*" >&2; cat "$log" >&2; exit 1; }
post() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$1" "$url/errors/log"; }

# The good requests go through one curl (one process, keep-alive), in two rounds with a flush
# between them; each writes its status on a line.
send_round() {  # first last
  local config
  config=$(for ((i = $1; i < $2; i++)); do
    # 30 distinct errors: "stage-a0" … "stage-bd" differ; the numbers and the hex address do not count.
    printf 'next\nurl = "%s/errors/log"\nheader = "Content-Type: application/json"\noutput = "/dev/null"\n' "$url"
    printf 'write-out = "%%{http_code}\\n"\n'
    printf 'data-binary = "{\\"service\\":\\"checkout\\",\\"type\\":\\"TimeoutError\\",'
    printf '\\"message\\":\\"timeout in stage-%x after %d ms on 0x%08x\\"}"\n' \
           $((i % 30 + 160)) $((RANDOM % 5000)) $((RANDOM * RANDOM))
  done)
  curl -s --config - <<<"$config"
}
codes=$(send_round 0 $((requests / 2)); sleep 1.5; send_round $((requests / 2)) "$requests")
accepted=$(grep -c '^202$' <<<"$codes" || true)
((accepted == requests)) || fail "$accepted of $requests requests answered 202: $(sort <<<"$codes" | uniq -c)"
for bad in 'not json' '[1, 2]' '{"message": 5}' '{}' '{"message": ""}' '{"message": "x", "service": 7}' \
           $'{"message": "\xff\xfe"}'; do
  code=$(post "$bad")
  [[ $code == 400 ]] || fail "bad body '$bad' answered $code, not 400"
done
reason=$(curl -s -H 'Content-Type: application/json' --data-binary 'not json' "$url/errors/log")
[[ $reason == *"not JSON"* ]] || fail "no reason for a bad body: $reason"
big=$(head -c 10000 /dev/zero | tr '\0' 'x')
code=$(post "{\"message\": \"$big\"}")
[[ $code == 413 ]] || fail "a 10 kB body answered $code, not 413"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$url/health") == 200 ]] || fail "/health is not 200"
metrics=$(curl -s "$url/metrics")
grep -q "^error_ingestion_events_accepted_total $accepted\$" <<<"$metrics" || fail "/metrics: $(grep accepted <<<"$metrics")"
grep -q 'error_ingestion_responses_total{status="413"} 1' <<<"$metrics" || fail "/metrics does not count the 413"
# The console: its reads need the token; with it, the DLQ table, the events stream and the metrics.
[[ $(curl -s -o /dev/null -w '%{http_code}' "$console/api/letters?store=mysql") == 401 ]] || fail "console: a read without the token was not 401"
auth=(-H "Authorization: Bearer $(cat "$token_file")")
curl -sf "${auth[@]}" "$console/api/letters?store=mysql" | grep -q '"letters":\[' || fail "console: no DLQ listing"
curl -sf "${auth[@]}" "$console/api/queue?store=redis&stream=%7B$prefix%7D:events" | grep -q '"groups"' || fail "console: no events stream"
curl -sf "${auth[@]}" "$console/metrics" | grep -q '^error_ingestion_events_accepted_total' || fail "console: no metrics"

kill -TERM "$pid"
wait "$pid" || fail "the service exited with $?"
pid=
cat "$log"
echo "accepted $accepted requests"
"$bin" --prefix "$prefix" --check-total "$accepted" | tee "$log"
grep -q "in 30 fingerprints, 30 distinct errors stored" "$log" || fail "expected 30 distinct errors"
