#!/usr/bin/env bash
# Runs monthly_reports, SIGKILLs it once part of the reports are out, runs it again to the end
# and verifies the outbox (every report once, none twice) and the DLQ:
#   kill_and_resume.sh <path to monthly_reports> [users] [mysql|postgres]
# Tables and outbox get a fresh prefix and are dropped at the end. Needs PIPELINE_MYSQL_TEST_URI
# (mysql, the default) or PIPELINE_POSTGRES_TEST_URI (postgres).
set -euo pipefail
bin=$1 users=${2:-20000} backend=${3:-mysql}
case $backend in
  mysql) : "${PIPELINE_MYSQL_TEST_URI:?PIPELINE_MYSQL_TEST_URI is not set (scripts/services.sh --only mysql -- ...)}" ;;
  postgres) : "${PIPELINE_POSTGRES_TEST_URI:?PIPELINE_POSTGRES_TEST_URI is not set (scripts/services.sh --only postgres -- ...)}" ;;
  *) echo "unknown backend $backend" >&2; exit 2 ;;
esac
prefix="reports_$$_$RANDOM"
outbox=$(mktemp -d)/outbox.txt
# About 6,000 reports a second, so that the kill lands mid-run; backoff short for a test.
args=(--backend "$backend" --users "$users" --prefix "$prefix" --outbox "$outbox" --per-minute 360000 --backoff-ms 20 --months-at-once 2)
pid=
trap '[[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$(dirname "$outbox")"' EXIT
"$bin" "${args[@]}" & pid=$!
lines() { if [[ -f $outbox ]]; then wc -l < "$outbox"; else echo 0; fi; }
for ((i = 0; i < 600; i++)); do
  (($(lines) >= users / 4)) && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null || { echo "the first run ended before it could be killed" >&2; exit 1; }
wait "$pid" 2>/dev/null || true
pid=
echo "killed after $(lines) reports; running again"
"$bin" "${args[@]}" --verify --drop
