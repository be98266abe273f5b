#!/usr/bin/env bash
# The lease case at process level: a run of examples/06_listings_to_mongodb (upsert by listing
# id, checkpoint, DLQ and job log in MongoDB, 2 workers, batches of 500, a 2 s lease) is
# SIGSTOPped mid-load for longer than its lease; a second run of the same job takes it over
# and completes; then the first is SIGCONTed. Checked:
#  - the first run ends failed with a `conflict` (its lease or its checkpoint was taken over),
#    not completed, and exits 1; the second exits 0;
#  - the job log has the first run `failed` (or `crashed`) and the second `completed`;
#  - the data, by a third run that resumes after the checkpoint (reading nothing) and checks:
#    every good listing is in the collection and no other, the DLQ holds exactly the bad ones.
#    A batch the first run was writing when paused lands when it resumes (docs/runner.md, "One
#    runner per job": the fence is checked before each batch, not inside the write), at most
#    one batch per worker. The upsert sink plans which keys are new before it writes them, and
#    CongoDB enforces no unique index on the key, so keys the second run stored meanwhile are
#    inserted again: the test allows at most workers x batch (1000) extra documents and extra
#    letters, each a listing of the right set stored twice, and prints how many there were.
#   lease_sigstop.sh <listings_to_mongodb binary> [rows (30000)]
# Needs PIPELINE_MONGODB_TEST_URI (scripts/services.sh); uses a database of its own, dropped
# at the end.
set -euo pipefail
bin=$(realpath "$1")
rows=${2:-30000}
source "$(dirname "$(realpath "$0")")/chaos.sh"
dir=$(mktemp -d)
cd "$dir"
database="lease_sigstop_$$_$RANDOM"
workers=2
batch=500
args=(--rows "$rows" --workers "$workers" --batch "$batch" --lease-seconds 2 --database "$database")
cleanup() {
  chaos_cleanup
  "$bin" "${args[@]}" --drop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

chaos_spawn "$bin" "${args[@]}" --fresh
first=$chaos_pid
sleep 4  # mid-load: checkpoints saved, about a quarter written
kill -0 "$first" 2>/dev/null || { echo "FAIL: the first run ended before it was paused; raise the rows" >&2; cat chaos-1.log >&2; exit 1; }
kill -STOP "$first"
echo "first run paused"
sleep 4  # twice the lease
if ! "$bin" "${args[@]}" >second.log 2>&1; then
  echo "FAIL: the second run did not complete" >&2
  cat second.log >&2
  exit 1
fi
grep -h "^completed\|taken over\|took over\|crashed" second.log || true
kill -CONT "$first"
rc=0
wait "$first" || rc=$?
chaos_forget "$first"
grep -h "^completed\|^failed\|^stopped\|^failure" chaos-1.log || true
status=0
if ((rc == 0)); then
  echo "FAIL: the first run, taken over while paused, exited 0" >&2
  status=1
fi
if ! grep -q "^failed: " chaos-1.log || ! grep -q "^failure: conflict: " chaos-1.log; then
  echo "FAIL: the first run did not end failed with a conflict" >&2
  status=1
fi
first_id=$(grep -ho "job run [0-9]*" chaos-1.log | cut -d' ' -f3)
second_id=$(grep -ho "job run [0-9]*" second.log | cut -d' ' -f3)
# The third run reads nothing (it resumes after the second's checkpoint), checks the data and
# lists the job's runs as the job log has them.
"$bin" "${args[@]}" --verify >third.log 2>&1 || true  # exits 1 on extra documents: judged below
grep -h "^verify\|^run " third.log
# verify: collection D documents (I distinct ids; M good missing, U others), expected the G
# good ids -> …; DLQ E entries for K ids, expected the B bad ones -> ok|WRONG
read -r documents distinct missing others good entries lettered dlq_verdict < <(sed -n \
  's/^verify: collection \([0-9]*\) documents (\([0-9]*\) distinct ids; \([0-9]*\) good missing, \([0-9]*\) others), expected the \([0-9]*\) good ids -> [A-Z a-z]*; DLQ \([0-9]*\) entries for \([0-9]*\) ids, expected the [0-9]* bad ones -> \([A-Za-z]*\)$/\1 \2 \3 \4 \5 \6 \7 \8/p' third.log)
if [[ -z ${documents:-} ]]; then
  echo "FAIL: no verify line from the third run" >&2
  cat third.log >&2
  exit 1
fi
bound=$((workers * batch))
echo "the paused run's late batches: $((documents - good)) listings and $((entries - lettered)) letters stored a second time (at most $bound each)"
if ((missing != 0 || others != 0 || distinct != good)); then
  echo "FAIL: the collection's ids are not the good ones: $missing missing, $others others" >&2
  status=1
fi
if ((documents - good > bound || entries - lettered > bound)) || [[ $dlq_verdict != ok ]]; then
  echo "FAIL: more stored twice than the batches in flight at the pause, or the DLQ's ids are not the bad ones" >&2
  status=1
fi
first_state=$(grep -h "^run $first_id: " third.log | sed 's/^run [0-9]*: \([a-z]*\),.*/\1/')
second_state=$(grep -h "^run $second_id: " third.log | sed 's/^run [0-9]*: \([a-z]*\),.*/\1/')
if [[ $first_state != failed && $first_state != crashed ]]; then
  echo "FAIL: the job log has the first run (id $first_id) as '$first_state', not failed or crashed" >&2
  status=1
fi
if [[ $second_state != completed ]]; then
  echo "FAIL: the job log has the second run (id $second_id) as '$second_state', not completed" >&2
  status=1
fi
exit "$status"
