#!/usr/bin/env bash
# pipeline-admin against one store kind, filled by admin_fixture through the library:
#
#     pipeline_admin.sh sqlite|mysql|postgres|redis|mongodb|file PIPELINE_ADMIN ADMIN_FIXTURE
#
# The servers come from scripts/services.sh (PIPELINE_MYSQL_TEST_URI, PIPELINE_POSTGRES_TEST_URI,
# PIPELINE_REDIS_TEST_URI, PIPELINE_MONGODB_TEST_URI): without them the test fails. Checks the text and JSON output, the
# filters, that checkpoint reset and dlq purge change the store (read back with the store's
# own client) and refuse without --yes, and the exits of bad commands.
set -euo pipefail

store=$1 tool=$2 fixture=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

case $store in
  sqlite)
    uri="sqlite:$work/state.db" name=pipeline
    runs_names=() checkpoint_names=() dlq_names=()  # the stores' default tables
    ;;
  mysql)
    uri=${PIPELINE_MYSQL_TEST_URI:?"run under scripts/services.sh (PIPELINE_MYSQL_TEST_URI)"}
    name=admin_$$
    runs_names=(--table "${name}_job_runs") checkpoint_names=(--table "${name}_checkpoints")
    dlq_names=(--table "${name}_dead_letters")
    ;;
  postgres)
    uri=${PIPELINE_POSTGRES_TEST_URI:?"run under scripts/services.sh (PIPELINE_POSTGRES_TEST_URI)"}
    name=admin_$$
    runs_names=(--table "${name}_job_runs") checkpoint_names=(--table "${name}_checkpoints")
    dlq_names=(--table "${name}_dead_letters")
    ;;
  redis)
    uri=${PIPELINE_REDIS_TEST_URI:?"run under scripts/services.sh (PIPELINE_REDIS_TEST_URI)"}
    name=admin-$$
    runs_names=(--prefix "$name") checkpoint_names=(--prefix "$name") dlq_names=(--prefix "$name")
    ;;
  mongodb)
    base=${PIPELINE_MONGODB_TEST_URI:?"run under scripts/services.sh (PIPELINE_MONGODB_TEST_URI)"}
    name=admin_$$
    uri="${base%%\?*}"
    uri="${uri%/}/pl_admin_$$"  # a database of its own (the fixture drops it first)
    [[ $base != *\?* ]] || uri+="?${base#*\?}"
    runs_names=(--table "${name}_job_runs") checkpoint_names=(--table "${name}_checkpoints")
    dlq_names=(--table "${name}_dead_letters")
    # Under ThreadSanitizer (the tsan preset), libmongoc's own false reports are left out.
    export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}suppressions=$(dirname "$0")/mongodb.tsan.supp"
    ;;
  file)
    uri="file:$work/state" name=pipeline
    runs_names=() checkpoint_names=() dlq_names=()  # jobs/, checkpoints/, dead_letters.jsonl
    ;;
  *) fail "unknown store kind $store" ;;
esac

# A query on the store itself, not through the tool: for sqlite and mysql a SQL statement,
# for redis a command, for mongodb a collection's documents (libmongoc's JSON, a line each).
native() {
  case $store in
    sqlite) sqlite3 "$work/state.db" "$1" ;;
    mysql)
      local rest=${uri#mysql://}
      local credentials=${rest%@*} address=${rest#*@}
      local host_port=${address%%/*}
      MYSQL_PWD=${credentials#*:} mysql --batch --skip-column-names -u "${credentials%%:*}" \
        -h "${host_port%%:*}" -P "${host_port##*:}" "${address#*/}" -e "$1" ;;
    postgres) psql --no-align --tuples-only --field-separator='|' "$uri" -c "$1" ;;
    redis) redis-cli -u "$uri" $1 ;;
    mongodb) "$fixture" "$uri" dump "$1" ;;
  esac
}

admin() { "$tool" "$uri" "$@"; }

# expect_failure PATTERN COMMAND...: the tool exits 2 and says PATTERN on stderr.
expect_failure() {
  local pattern=$1 status=0
  shift
  "$@" </dev/null >"$work/out" 2>"$work/err" || status=$?
  [[ $status == 2 ]] || fail "$* exited $status, not 2: $(cat "$work/err")"
  grep -q -- "$pattern" "$work/err" || fail "$*: '$pattern' not in: $(cat "$work/err")"
}

# expect_json FILTER COMMAND...: jq FILTER holds on the command's --json output.
expect_json() {
  local filter=$1
  shift
  "$@" --json </dev/null >"$work/out" || fail "$* --json failed"
  jq -e "$filter" "$work/out" >/dev/null || fail "$* --json: '$filter' does not hold on: $(cat "$work/out")"
}

"$fixture" "$uri" "$name"

# runs: every job's runs, the crashed one with the owner that had it and why it is marked.
admin runs "${runs_names[@]}" >"$work/runs"
grep -q '^JOB  *RUN  *STATE' "$work/runs" || fail "runs: no header in: $(cat "$work/runs")"
grep -Eq '^listings  +[0-9]+  +crashed  +500  +480 .*elsewhere:4242' "$work/runs" || fail "runs: no crashed run: $(cat "$work/runs")"
grep -Eq '^reports/2026-05  +[0-9]+  +running .*reporter:7' "$work/runs" || fail "runs: no running report: $(cat "$work/runs")"
expect_json 'length == 3' admin runs "${runs_names[@]}"
expect_json '[.[] | select(.state == "crashed")] | length == 1 and .[0].owner == "elsewhere:4242" and (.[0].message | length > 0)' \
  admin runs "${runs_names[@]}"
expect_json 'length == 1 and .[0].state == "completed" and .[0].read == 1000 and .[0].written == 998 and .[0].dead_lettered == 2' \
  admin runs --job listings --limit 1 "${runs_names[@]}"
expect_failure "no runs of job 'nosuch'" admin runs --job nosuch "${runs_names[@]}"

# checkpoint list, show, and reset: refused without a terminal or --yes, then done and seen in the store.
expect_json '[.[].key] == ["listings/p0", "reports/2026-05"] and .[0].position == "4200" and .[1].version == 1' \
  admin checkpoint list "${checkpoint_names[@]}"
admin checkpoint list "${checkpoint_names[@]}" >"$work/checkpoints"
grep -Eq '^reports/2026-05  +7  +1$' "$work/checkpoints" || fail "checkpoint list text: $(cat "$work/checkpoints")"
expect_json '.key == "listings/p0" and .position == "4200" and .version == 1' \
  admin checkpoint show listings/p0 "${checkpoint_names[@]}"
admin checkpoint show listings/p0 "${checkpoint_names[@]}" | grep -Eq '^position +4200$' || fail "checkpoint show text"
expect_failure "pass --yes" admin checkpoint reset listings/p0 "${checkpoint_names[@]}"
expect_failure "no checkpoint 'nosuch'" admin checkpoint show nosuch "${checkpoint_names[@]}"
case $store in
  redis) stored_checkpoint() { native "HGET $name:checkpoint:listings/p0 pos" | tr -d '\n'; echo "|$(native "HGET $name:checkpoint:listings/p0 version")"; } ;;
  postgres) stored_checkpoint() { native "SELECT convert_from(position, 'UTF8'), version FROM ${name}_checkpoints WHERE key = 'listings/p0'"; } ;;
  mongodb) stored_checkpoint() { native "${name}_checkpoints" | jq -r 'select(.key == "listings/p0") | "\(.position["$binary"].base64 | @base64d)|\(.version)"'; } ;;
  file) stored_checkpoint() { jq -r '"\(.position | @base64d)|\(.version)"' "$work/state/checkpoints/listings%2Fp0.checkpoint"; } ;;
  *) stored_checkpoint() { native "SELECT position, version FROM ${name}_checkpoints WHERE \`key\` = 'listings/p0'" | tr '\t' '|'; } ;;
esac
[[ $(stored_checkpoint) == "4200|1" ]] || fail "a refused reset changed the checkpoint: $(stored_checkpoint)"
expect_json '.position == "" and .version == 2' admin checkpoint reset listings/p0 --yes "${checkpoint_names[@]}"
[[ $(stored_checkpoint) == "|2" ]] || fail "reset did not empty the stored checkpoint: $(stored_checkpoint)"
# On a terminal (script(1) gives it one) reset asks, and only "y" resets.
on_terminal() { printf '%s\n' "$1" | script -qec "$(printf '%q ' "${@:2}")" /dev/null >"$work/terminal" 2>&1; }
on_terminal n "$tool" "$uri" checkpoint reset listings/p0 "${checkpoint_names[@]}" && fail "a reset answered n succeeded"
grep -q "not confirmed, nothing changed" "$work/terminal" || fail "reset answered n: $(cat "$work/terminal")"
[[ $(stored_checkpoint) == "|2" ]] || fail "a reset answered n changed the checkpoint: $(stored_checkpoint)"
on_terminal y "$tool" "$uri" checkpoint reset listings/p0 "${checkpoint_names[@]}" || fail "reset answered y: $(cat "$work/terminal")"
[[ $(stored_checkpoint) == "|3" ]] || fail "a reset answered y left the checkpoint at $(stored_checkpoint)"

# dlq list and its filters.
dlq() { admin dlq "$@" "${dlq_names[@]}"; }
dlq list >"$work/dlq"
grep -q '^ID  *JOB  *KIND  *PARTITION' "$work/dlq" || fail "dlq list: no header in: $(cat "$work/dlq")"
grep -Eq ' invalid_input  +1  +12 .*price is not a number' "$work/dlq" || fail "dlq list: no letter in: $(cat "$work/dlq")"
expect_json 'length == 4 and ([.[].position] == ["11", "12", "13", "14"])' dlq list
expect_json 'length == 3 and all(.[]; .kind == "permanent")' dlq list --kind permanent
expect_json 'length == 2 and all(.[]; .partition == 1)' dlq list --partition 1
expect_json '[.[].position] == ["12", "13"]' dlq list --since 2026-05-02 --until 2026-05-04T00:00:00Z
expect_json 'length == 3 and all(.[]; .job == "listings")' dlq list --job listings
expect_json 'length == 1 and .[0].job == "reports/2026-05" and .[0].message == "too long"' dlq list --text needle
expect_json '[.[].position] == ["11", "12"]' dlq list --limit 2
expect_failure "no error kind 'bogus'" dlq list --kind bogus
expect_failure "needs a UTC time" dlq list --since yesterday

# dlq show: the whole payload, and a clear error for an id that is not there.
needle=$(dlq list --text needle --json | jq -r '.[0].id')
dlq show "$needle" >"$work/letter"
grep -q '^{"id":3,"note":"needle"}$' "$work/letter" || fail "dlq show: no payload in: $(cat "$work/letter")"
grep -Eq '^kind +permanent$' "$work/letter" || fail "dlq show: no kind in: $(cat "$work/letter")"
expect_json ".id == \"$needle\" and .payload == \"{\\\"id\\\":3,\\\"note\\\":\\\"needle\\\"}\"" dlq show "$needle"
case $store in
  redis) missing_id=9999999999999-0 ;;
  mongodb) missing_id=0123456789abcdef01234567 ;;
  *) missing_id=999999 ;;
esac
expect_failure "no dead letter with id $missing_id" dlq show "$missing_id"
expect_failure "is not a dead letter id" dlq show not-an-id

# dlq purge: refused without --yes, then through the store's purge, seen in the store.
case $store in
  redis) stored_letters() { native "XLEN $name:dead"; } ;;
  mongodb) stored_letters() { native "${name}_dead_letters" | wc -l; } ;;
  file) stored_letters() { wc -l <"$work/state/dead_letters.jsonl"; } ;;
  *) stored_letters() { native "SELECT COUNT(*) FROM ${name}_dead_letters"; } ;;
esac
expect_failure "pass --yes" dlq purge --kind permanent
[[ $(stored_letters) == 4 ]] || fail "a refused purge removed letters: $(stored_letters) left"
expect_failure "not a store filter" dlq purge --text needle --yes
expect_json '.purged == 2' dlq purge --kind permanent --job listings --yes
[[ $(stored_letters) == 2 ]] || fail "purge left $(stored_letters) letters, not 2"
expect_json '[.[].position] == ["12", "13"]' dlq list

# dlq replay: onto a Redis stream of the same Redis (moved there and out of the DLQ in one
# script), by filter and by id, seen in both streams; the SQL stores refuse it.
expect_failure "needs --to STREAM" dlq replay --kind invalid_input --yes
if [[ $store == redis ]]; then
  expect_failure "pass --yes" dlq replay --to "$name:queue" --kind invalid_input
  expect_failure "no queue stream '$name:nosuch'" dlq replay --to "$name:nosuch" --yes
  [[ $(stored_letters) == 2 ]] || fail "a refused replay moved letters: $(stored_letters) left"
  expect_json '.requeued == 1' dlq replay --to "$name:queue" --kind invalid_input --yes
  [[ $(stored_letters) == 1 ]] || fail "replay left $(stored_letters) letters, not 1"
  [[ $(native "XLEN $name:queue") == 6 ]] || fail "replay: the queue holds $(native "XLEN $name:queue") entries, not 6"
  native "XREVRANGE $name:queue + - COUNT 1" | grep -q 'price' || fail "replay: the payload is not the queue's last entry"
  last_id=$(dlq list --json | jq -r '.[0].id')
  expect_json '.requeued == 1' dlq replay "$last_id" --to "$name:queue" --yes
  [[ $(stored_letters) == 0 ]] || fail "replay by id left $(stored_letters) letters"
  [[ $(native "XLEN $name:queue") == 7 ]] || fail "replay by id: the queue holds $(native "XLEN $name:queue") entries, not 7"
  expect_failure "no dead letter with id $last_id" dlq replay "$last_id" --to "$name:queue" --yes
else
  expect_failure "this store is not Redis" dlq replay --to queue --yes
  [[ $(stored_letters) == 2 ]] || fail "a refused replay removed letters: $(stored_letters) left"
fi

# queue: a Redis stream's groups and consumers; the other stores have none.
if [[ $store == redis ]]; then
  expect_json '.length == 7 and .groups[0].name == "workers" and .groups[0].pending == 2 and .groups[0].lag == 5
               and .groups[0].consumers[0].name == "w1" and .groups[0].consumers[0].pending == 2' admin queue "$name:queue"
  admin queue "$name:queue" >"$work/queue"
  grep -Eq '^workers  +1  +2  +5 ' "$work/queue" || fail "queue: no group in: $(cat "$work/queue")"
  grep -Eq '^workers  +w1  +2 ' "$work/queue" || fail "queue: no consumer in: $(cat "$work/queue")"
  expect_failure "no stream '$name:nosuch'" admin queue "$name:nosuch"
  native "DEL $name:queue $name:dead $name:runs:next" >/dev/null
else
  expect_failure "pass a redis:// store" admin queue jobs
fi

# A store without the tables or keys, and bad commands.
case $store in
  sqlite)
    sqlite3 "$work/empty.db" "CREATE TABLE other (x INTEGER)"
    expect_failure "no job log table 'pipeline_job_runs' in $work/empty.db: pass --table" "$tool" "$work/empty.db" runs
    expect_failure "no dead letter table 'pipeline_dead_letters'" "$tool" "sqlite:$work/empty.db" dlq list
    expect_failure "cannot open SQLite database" "$tool" "sqlite:$work/missing.db" runs
    [[ ! -e $work/missing.db ]] || fail "the tool created a missing database"
    ;;
  mysql | postgres)
    expect_failure "no job log table 'nosuch_runs' in ${uri%%://*}://" admin runs --table nosuch_runs
    expect_failure "no checkpoint table 'pipeline_nosuch'" admin checkpoint show k --table pipeline_nosuch
    expect_failure "is not a table name" admin runs --table 'x; DROP TABLE y'
    ;;
  redis)
    expect_failure "no job log '$name-nosuch:runs:next'" admin runs --prefix "$name-nosuch"
    expect_failure "no dead letter stream '$name-nosuch:dead'" admin dlq list --prefix "$name-nosuch"
    ;;
  mongodb)
    expect_failure "no job log collection 'nosuch_runs' in mongodb://" admin runs --table nosuch_runs
    expect_failure "no checkpoint collection 'pipeline_checkpoints'" admin checkpoint show k
    expect_failure "no dead letter collection 'pipeline_dead_letters'" admin dlq purge --yes
    [[ -z $(native pipeline_dead_letters) ]] || fail "the tool made a dead letter collection"
    expect_failure "name the database in the URI" "$tool" "$base" runs
    expect_failure "bad URI" "$tool" "mongodb://" runs
    ;;
  file)
    mkdir "$work/empty"
    expect_failure "no job log directory 'jobs' in $work/empty: pass --table" "$tool" "$work/empty" runs
    expect_failure "no checkpoint directory 'checkpoints'" "$tool" "file:$work/empty" checkpoint show k
    expect_failure "no dead letter file 'dead_letters.jsonl'" "$tool" "file:$work/empty" dlq purge --yes
    [[ -z $(ls -A "$work/empty") ]] || fail "the tool created files in an empty directory: $(ls -A "$work/empty")"
    expect_failure "no directory $work/missing" "$tool" "file:$work/missing" runs
    [[ ! -e $work/missing ]] || fail "the tool created a missing directory"
    expect_failure "is not a name in the directory" admin runs --table ../state
    ;;
esac
expect_failure "is not a store URI" "$tool" ftp://example.com runs
expect_failure "no command 'frobnicate'" admin frobnicate
expect_failure "unknown option --bogus" admin runs --bogus
# serve (the console; tests/console/ drives it in a browser) refuses to start without a token.
expect_failure "needs --token-file" "$tool" serve --store "$uri" "${dlq_names[@]}"
: >"$work/empty-token"
expect_failure "the first line is empty" "$tool" serve --store "$uri" --token-file "$work/empty-token"
echo secret >"$work/token"
expect_failure "needs HOST:PORT" "$tool" serve --store "$uri" --token-file "$work/token" --listen 127.0.0.1:http
echo "pipeline-admin on $store: ok"
