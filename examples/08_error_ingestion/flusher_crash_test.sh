#!/usr/bin/env bash
# The flusher SIGKILLed mid-flush, twice, at the two places where a count could be lost or
# counted twice; the totals in MySQL must still equal the accepted requests:
#   1. after begin_flush took the counts out of Redis, before MySQL applied them (its INSERT
#      waits on a lock held by this script);
#   2. after MySQL committed the counts with the flush id, before confirm_flush deleted them in
#      Redis (its DEL waits on CLIENT PAUSE WRITE).
# Each time a new flusher process must find the same flush and apply it exactly once.
#   flusher_crash_test.sh <path to error_ingestion>
# Needs PIPELINE_REDIS_TEST_URI and PIPELINE_MYSQL_TEST_URI, redis-cli and the mysql client.
set -euo pipefail
bin=$1
: "${PIPELINE_REDIS_TEST_URI:?not set (scripts/services.sh --only redis,mysql -- ...)}"
: "${PIPELINE_MYSQL_TEST_URI:?not set (scripts/services.sh --only redis,mysql -- ...)}"
[[ $PIPELINE_MYSQL_TEST_URI =~ ^mysql://([^:@]+):([^@]*)@([^:/]+):([0-9]+)/(.*)$ ]] ||
  { echo "cannot read $PIPELINE_MYSQL_TEST_URI" >&2; exit 1; }
sql=(mysql -N -B -u "${BASH_REMATCH[1]}" "-p${BASH_REMATCH[2]}" -h "${BASH_REMATCH[3]}" -P "${BASH_REMATCH[4]}"
     "${BASH_REMATCH[5]}")
redis=(redis-cli -u "$PIPELINE_REDIS_TEST_URI")
prefix="crash_$$_$RANDOM"
log=$(mktemp)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; "${redis[@]}" CLIENT UNPAUSE >/dev/null; rm -f "$log"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$log" >&2; exit 1; }

"$bin" --listen 127.0.0.1:0 --prefix "$prefix" --roles http,worker >"$log" 2>&1 & service=$!; pids+=("$service")
for ((i = 0; i < 200; i++)); do grep -q "listening on" "$log" && break; sleep 0.05; done
url=$(grep -o "http://[0-9.:]*" "$log") || fail "the service did not start"
send() {  # n requests over 10 distinct errors
  local config
  config=$(for ((i = 0; i < $1; i++)); do
    printf 'next\nurl = "%s/errors/log"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$url"
    printf 'data-binary = "{\\"message\\":\\"disk full on volume-%x (%d)\\"}"\n' $((i % 10 + 160)) "$i"
  done)
  local codes
  codes=$(curl -s --config - <<<"$config")
  (($(grep -c '^202$' <<<"$codes") == $1)) || fail "not every request was accepted: $(sort <<<"$codes" | uniq -c)"
}
# Waits until the flusher's INSERT into the counts table is running: with the lock below held,
# that means it waits on it.
# Bounded by time, not tries (a try is a client start, slow on a loaded machine), and long enough
# for a flusher that must first take over a killed one's schedule lease (30 s at worst).
await_lock_waiter() {
  local deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    (($("${sql[@]}" -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO \`${prefix}_counts\`%'") > 0)) && return
    sleep 0.05
  done
  fail "$1: the flusher did not wait on the locked table; sessions: $("${sql[@]}" -e "SELECT ID, COMMAND, STATE, LEFT(INFO, 80) FROM information_schema.PROCESSLIST")"
}
# Every insert into the counts table blocked by a transaction of its own (a locking read of
# the whole table: next-key locks, so inserts wait, while the flusher's start, which only
# creates the table if missing, does not), taken before the flush it must stop can begin and
# held until unlock_counts ends that session: however slow the machine, a flush never slips
# past the lock, and the lock never ends before the Redis pause began.
lock_counts() {
  "${sql[@]}" -e "BEGIN; SELECT COUNT(*) FROM \`${prefix}_counts\` FOR UPDATE; SELECT SLEEP(120), '$prefix-lock'" \
    >/dev/null 2>&1 & locker=$!
  pids+=("$locker")
  locker_id >/dev/null  # returns once the lock is held (the session has moved on to its SLEEP)
}
locker_id() {
  local id deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    id=$("${sql[@]}" -e "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE '%$prefix-lock%' AND ID <> CONNECTION_ID()")
    [[ -n $id ]] && { echo "$id"; return; }
    sleep 0.05
  done
  fail "the locking session was not found"
}
unlock_counts() {
  "${sql[@]}" -e "KILL $(locker_id)"
  wait "$locker" || true
}
total() { "${sql[@]}" -e "SELECT COALESCE(SUM(\`count\`), 0) FROM \`${prefix}_counts\`"; }
flushing() { "${redis[@]}" EXISTS "{$prefix}:counts:flushing"; }
# Kills the flusher and waits until it is gone: `kill` returns before the process dies, and
# its connections must be closed before anything is let through (a Redis UNPAUSE sent sooner
# let its waiting confirm run).
kill_flusher() {
  kill -9 "$flusher_pid"
  wait "$flusher_pid" 2>/dev/null || true
}
# Starts a flusher (a flush every second) and waits until it is set up (its tables are made).
flusher() {
  local ready
  ready=$(($(grep -c "flushing counts" "$log" || true) + 1))
  "$bin" --prefix "$prefix" --roles flusher --flush-seconds 1 >>"$log" 2>&1 & flusher_pid=$!; pids+=("$flusher_pid")
  for ((i = 0; i < 200; i++)); do (($(grep -c "flushing counts" "$log" || true) >= ready)) && return; sleep 0.05; done
  fail "the flusher did not start"
}

# 1. Killed between begin_flush and the MySQL commit.
flusher  # set up, with nothing to flush yet
lock_counts
send 100
await_lock_waiter 1  # the flush has begun and waits on the lock
kill_flusher
unlock_counts
# The flush may have begun while the requests were still coming: it holds what was counted by then.
pending=$("${redis[@]}" HVALS "{$prefix}:counts:flushing" | awk '{ n += $1 } END { print n + 0 }')
[[ $(flushing) == 1 && $(total) == 0 && $pending -gt 0 ]] ||
  fail "1: expected a pending flush in Redis and nothing in MySQL, found $(flushing), $(total) and $pending"
echo "1: flusher killed after begin_flush, before MySQL: pending flush of $pending in Redis, MySQL total 0"

# 2. Killed between the MySQL commit and confirm_flush.
send 50
lock_counts  # before the flusher: its first flush (the pending one) must meet the lock
flusher
await_lock_waiter 2  # the flusher has found the pending flush and waits on the lock
"${redis[@]}" CLIENT PAUSE 10000 WRITE >/dev/null  # its confirm (a DEL) will wait
unlock_counts  # only now: the flush must not be confirmed before the pause is in place
# The pending flush gets committed in MySQL; its confirm waits.
for ((i = 0; i < 100; i++)); do [[ $(total) == "$pending" ]] && break; sleep 0.05; done
kill_flusher
"${redis[@]}" CLIENT UNPAUSE >/dev/null
[[ $(flushing) == 1 && $(total) == "$pending" ]] ||
  fail "2: expected the flush of $pending in MySQL and still pending in Redis, found $(total) and $(flushing)"
echo "2: flusher killed after the MySQL commit, before confirm: MySQL total $pending, flush still pending in Redis"

# A new flusher confirms the pending flush without applying it again, then flushes the rest.
flusher
for ((i = 0; i < 100; i++)); do [[ $(total) == 150 && $(flushing) == 0 ]] && break; sleep 0.1; done
kill -TERM "$flusher_pid" "$service"
wait "$flusher_pid" "$service" || fail "a process exited with an error"
pids=()
"$bin" --prefix "$prefix" --check-total 150
