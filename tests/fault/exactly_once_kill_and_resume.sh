#!/usr/bin/env bash
# Crash test of exactly-once mode (tests/fault/exactly_once_process.cpp) into a sink with no
# idempotent key: a MySQL or PostgreSQL table (plain INSERT, no unique key; needs
# PIPELINE_MYSQL_TEST_URI or PIPELINE_POSTGRES_TEST_URI), a
# SQLite table (the same, in a file) or a JSONL file (jsonl_sink with its ledger file). 4
# workers (3 on some restarts), SIGKILLed at random moments and restarted each time with
# another batch size, then run to completion and
# checked by count and set equality: every good order once in the sink, every bad one once in
# the DLQ, and the batch ledger forgotten. Between the kills and the check, two processes are
# started on the job at once: one must be turned away with a conflict, having read nothing.
#   exactly_once_kill_and_resume.sh <exactly_once_process binary> mysql|postgres|sqlite|jsonl [kills (12)] [rows (600000)]
#                                   [least and most seconds before a kill (0.5 2.0)]
set -euo pipefail
bin=$(realpath "$1")
sink=$2
kills=${3:-12}
rows=${4:-600000}
kill_after_min=${5:-0.5}
kill_after_max=${6:-2.0}
if [[ $sink == mysql ]]; then
  : "${PIPELINE_MYSQL_TEST_URI:?PIPELINE_MYSQL_TEST_URI is not set (scripts/services.sh --only mysql -- ...)}"
elif [[ $sink == postgres ]]; then
  : "${PIPELINE_POSTGRES_TEST_URI:?PIPELINE_POSTGRES_TEST_URI is not set (scripts/services.sh --only postgres -- ...)}"
fi
source "$(dirname "$(realpath "$0")")/chaos.sh"
# The files go to /dev/shm where there is one: a SIGKILL loses nothing the process wrote to the
# page cache, so fsync (milliseconds a call on a disk, two per JSONL commit) buys nothing here
# but time. The ledger's order of writes, which fsync makes durable against a power cut, is
# what the kills test either way.
dir=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
name="eo_$$_$RANDOM"  # MySQL: the tables' prefix; JSONL: the files' (in $dir)
cleanup() {
  chaos_cleanup
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"

batches=(500 200 1000 350)
workers=(4 4 3 4)
start() {
  local k=$(($1 % ${#batches[@]}))
  exec "$bin" --sink "$sink" --name "$name" --rows "$rows" --batch "${batches[$k]}" --workers "${workers[$k]}"
}
# MySQL: 600,000 rows take about 40 s in the Debug build (200,000 let a quiet machine finish
# before the 10th kill). JSONL: 1,000,000 rows take about 50 s in the Debug build on 2 cores,
# and the whole test 60 to 95 s. 12 kills after 0.5 to 2.0 s each land before the end. A kill
# lands anywhere in the run: a commit (for JSONL, between the data and its ledger lines, or in
# the middle of them), a ledger read at the start, a checkpoint save, a DLQ write, the
# compaction.
started=$SECONDS
chaos_kill_and_resume "$kills" "$kill_after_min" "$kill_after_max" start
chaos_require_landed 10
# Two processes on one job, started 0.3 s apart: one runs on, the other is turned away with a
# conflict (exit 3) before it reads or writes anything.
"$bin" --sink "$sink" --name "$name" --rows "$rows" --batch 400 --workers 4 >two-a.log 2>&1 &
a=$!
sleep 0.3
rc_b=0
"$bin" --sink "$sink" --name "$name" --rows "$rows" --batch 600 --workers 4 >two-b.log 2>&1 || rc_b=$?
rc_a=0
wait "$a" || rc_a=$?
cat two-a.log two-b.log
# (For JSONL the file's lock turns the second away as it opens the sink, before its run.)
turned_away() { [[ $1 == 0 && $2 == 3 ]] && grep -q "read 0, written 0\|turned away" "$3"; }
if ! turned_away "$rc_a" "$rc_b" two-b.log && ! turned_away "$rc_b" "$rc_a" two-a.log; then
  echo "two processes on one job: exit codes $rc_a and $rc_b, expected one 0 and one 3 that read nothing" >&2
  exit 1
fi
"$bin" --sink "$sink" --name "$name" --rows "$rows" --batch 750 --workers 4 --verify --drop
echo "kill and resume: $chaos_landed kills, $((SECONDS - started)) s in all"
