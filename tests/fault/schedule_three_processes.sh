#!/usr/bin/env bash
# At most one instance across processes (tests/fault/schedule_process.cpp): three processes run
# "every 1s" on one shared checkpoint store (a SQLite file, or Redis at
# PIPELINE_REDIS_TEST_URI) for about `seconds` due times. The holder of a run is SIGKILLed in the
# middle of it `kills` times. Then the events file must show: every due time from the first to
# the last run once (none skipped, none twice; a killed one is not run again), no two runs at
# once (each run starts after the one before ended, or was killed), and the killed runs started
# and never ended.
#   schedule_three_processes.sh <schedule_process binary> sqlite|redis [seconds (10)] [kills (2)]
set -euo pipefail
bin=$(realpath "$1")
store=$2
seconds=${3:-10}
kills=${4:-2}
if [[ $store == redis ]]; then
  : "${PIPELINE_REDIS_TEST_URI:?PIPELINE_REDIS_TEST_URI is not set (scripts/services.sh --only redis -- ...)}"
fi
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
events=$dir/events
where=$dir/schedule.db
[[ $store == redis ]] && where="$$_$RANDOM"
now_ms() { date +%s%3N; }
stop_at=$(($(now_ms) + seconds * 1000 + 500))
for _ in 1 2 3; do
  "$bin" "$store" "$where" "$events" "$stop_at" 400 &
  pids+=($!)
done

# Kill the holder of a run in the middle of it: wait for a start with no end, then SIGKILL its
# pid. The first kill after a couple of due times, the others spread over the rest.
killed=()
for ((k = 0; k < kills; ++k)); do
  sleep $((2 + k * (seconds - 4) / (kills > 1 ? kills : 1)))
  while true; do
    last=$(tail -n 1 "$events" 2>/dev/null || true)
    if [[ $last == start* ]]; then
      read -r _ due pid _ <<<"$last"
      kill -9 "$pid" || true
      killed+=("$due")
      echo "killed $pid running due $due"
      break
    fi
    sleep 0.02
  done
done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()

python3 - "$events" "$seconds" "${killed[@]}" <<'PY'
import sys
events, seconds, kills = sys.argv[1], int(sys.argv[2]), {int(k) for k in sys.argv[3:]}
starts, ends, order = {}, {}, []
for line in open(events):
    kind, due, pid, at = line.split()
    due, at = int(due), int(at)
    if kind == "start":
        assert due not in starts, f"due time {due} ran twice"
        starts[due] = (int(pid), at)
        order.append(due)
    else:
        assert due in starts and starts[due][0] == int(pid), f"end of {due} without its start"
        ends[due] = at
# A kill that landed just after its run ended (the script saw the start a moment before) killed
# an idle process: a process killed, but not mid-run.
killed = {k for k in kills if k not in ends}
assert killed, "no kill landed in the middle of a run"
dues = sorted(starts)
assert order == dues, "runs did not start in due order"
gaps = [b - a for a, b in zip(dues, dues[1:])]
assert all(g == 1000 for g in gaps), f"due times skipped or repeated: {dues}"
assert len(dues) >= seconds - 2, f"only {len(dues)} runs in about {seconds} due times"
for a, b in zip(dues, dues[1:]):
    # A run that ended must have ended before the next began; a killed one never ends.
    if a in ends:
        assert ends[a] <= starts[b][1], f"run {b} started at {starts[b][1]} before run {a} ended at {ends[a]}"
    else:
        assert a in killed, f"run {a} never ended but was not killed"
for k in killed:
    assert k in starts and k not in ends, f"killed run {k} is not a started, unfinished run"
print(f"{len(dues)} due times, each run once, none at once; {len(killed)} killed mid-run, not run again")
PY
