# Shared by the crash tests in tests/fault/ (sourced, not run): random pauses, SIGKILL at
# random moments, and the bookkeeping that makes a crash test fail when its kills did not land.
#
#   source "$(dirname "$0")/chaos.sh"
#   chaos_spawn cmd args...         starts cmd in the background, logged to chaos-<n>.log; the
#                                   child's pid is in $chaos_pid, and every child is killed
#                                   (SIGKILL) and waited for when the script exits, on any path
#   chaos_pause MIN MAX             sleeps a random time between MIN and MAX seconds
#   chaos_kill PID                  SIGKILLs PID and reaps it; counts the kill in $chaos_landed
#                                   when the process was still running (returns 1 otherwise)
#   chaos_kill_and_resume N MIN MAX START
#                                   N times: `START i` (a function that runs the program in the
#                                   foreground; it is started in the background here), kill it
#                                   after MIN..MAX s, reap it
#   chaos_replace_a_worker CMD...   SIGKILLs a random one of the caller's array `workers` (pids)
#                                   and starts CMD in its place; fails the test when that worker
#                                   had ended by itself (its queue drained: too little work)
#   chaos_wait_all PID...           waits for each PID (a FAIL line for each that ended rc != 0,
#                                   then the logs' last lines: it returns 1)
#   chaos_require_landed N          fails the test unless at least N kills landed
#   chaos_private_server            for a test that runs (and restarts) its own servers: makes a
#                                   temporary directory $dir and cds there, picks a free port
#                                   $port, and on exit kills the children, the servers ($server_pid,
#                                   $mariadb_pid of private_mariadb.sh, $redis_pid, when set: keep
#                                   them current) and removes $dir
#   chaos_free_port FROM            a port from FROM up that takes no connection
#   chaos_all_running PID...        true while every PID still runs
#   chaos_server_comes_up N         for an outage test whose N processes were started while the
#                                   server was down: waits 1 to 3 s, then calls the caller's
#                                   `start_server` and `await_ready`, and says so
#   chaos_restarts N MAX_DOWN PID...
#                                   for an outage test: N times, 1 to 3 s apart, fails the test
#                                   unless every PID still runs, then calls the caller's
#                                   `restart_server R DOWN` (stop the server, keep it down DOWN s,
#                                   start it, say so and wait until it answers), DOWN a random
#                                   1 to MAX_DOWN s
#   chaos_finish PID...             for an outage test: waits for each PID (a FAIL line for each
#                                   that ended rc != 0: then it returns 1), then says how many
#                                   outage waits the logs show and each log's result lines
#
# The caller sets `set -euo pipefail`. Logs go to the current directory (make it a temporary one).

chaos_landed=0
chaos_pids=()
chaos_logs=0

chaos_cleanup() {
  local p
  for p in "${chaos_pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${chaos_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  chaos_pids=()
}
# ctest's timeout and ^C send TERM or INT: exit so that the EXIT trap (the caller's, which must
# call chaos_cleanup) runs and no child outlives the test.
trap 'exit 143' TERM
trap 'exit 130' INT

chaos_spawn() {
  chaos_logs=$((chaos_logs + 1))
  "$@" >"chaos-$chaos_logs.log" 2>&1 &
  chaos_pid=$!
  chaos_pids+=("$chaos_pid")
}

# Forgets a child that was reaped, so that cleanup does not signal a recycled pid.
chaos_forget() {
  local p kept=()
  for p in "${chaos_pids[@]}"; do [[ $p == "$1" ]] || kept+=("$p"); done
  chaos_pids=("${kept[@]}")
}

chaos_pause() {
  sleep "$(awk -v seed="$RANDOM$RANDOM" -v lo="$1" -v hi="$2" 'BEGIN { srand(seed); printf "%.3f", lo + rand() * (hi - lo) }')"
}

chaos_kill() {
  local landed=1
  # A process that already ended is a zombie until reaped, and kill -9 on a zombie succeeds,
  # which would count a kill that interrupted nothing: look at its state (after the ')' that
  # ends its name in /proc/PID/stat) first.
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || true
  if [[ -n $state && $state != Z ]] && kill -9 "$1" 2>/dev/null; then
    chaos_landed=$((chaos_landed + 1))
    landed=0
  fi
  wait "$1" 2>/dev/null || true
  chaos_forget "$1"
  return "$landed"
}

chaos_kill_and_resume() {
  local kills=$1 lo=$2 hi=$3 start=$4 i
  for ((i = 1; i <= kills; i++)); do
    chaos_spawn "$start" "$i"
    chaos_pause "$lo" "$hi"
    if ! chaos_kill "$chaos_pid"; then
      echo "start $i ended before the kill:"
      tail -n 3 "chaos-$chaos_logs.log"
    fi
  done
}

chaos_replace_a_worker() {
  local i=$((RANDOM % ${#workers[@]}))
  if ! chaos_kill "${workers[i]}"; then
    # Workers end only once the producer closed the queue and it is drained: too little work.
    echo "FAIL: worker ${workers[i]} ended by itself after $chaos_landed kills; give the workers more work" >&2
    tail -n 3 chaos-*.log >&2
    exit 1
  fi
  chaos_spawn "$@"
  workers[i]=$chaos_pid
}

chaos_wait_all() {
  local p rc failed=0
  for p in "$@"; do
    rc=0
    wait "$p" || rc=$?
    chaos_forget "$p"
    if ((rc != 0)); then
      echo "FAIL: process $p ended rc $rc" >&2
      failed=1
    fi
  done
  if ((failed != 0)); then tail -n 5 chaos-*.log >&2; fi
  return "$failed"
}

chaos_require_landed() {
  echo "chaos: $chaos_landed kills landed"
  if ((chaos_landed < $1)); then
    echo "FAIL: fewer than $1 kills landed (the runs finished too fast): give them more work" >&2
    exit 1
  fi
}

chaos_free_port() {
  local p=$1
  # A port that takes a connection is in use.
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

chaos_private_server() {
  dir=$(mktemp -d)
  server_pid="" mariadb_pid="" redis_pid=""
  trap chaos_private_server_cleanup EXIT
  cd "$dir"
  port=$(chaos_free_port $((20000 + RANDOM % 20000)))
}

chaos_private_server_cleanup() {
  chaos_cleanup
  local pid
  for pid in "$server_pid" "$mariadb_pid" "$redis_pid"; do
    if [[ -n $pid ]]; then kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  rm -rf "$dir"
}

chaos_all_running() {
  local p
  for p in "$@"; do kill -0 "$p" 2>/dev/null || return 1; done
}

chaos_server_comes_up() {
  chaos_pause 1.0 3.0
  start_server
  await_ready
  echo "started while the server was down: $1 processes"
}

chaos_restarts() {
  local restarts=$1 max_down=$2 r down
  shift 2
  for ((r = 1; r <= restarts; r++)); do
    chaos_pause 1.0 3.0
    if ! chaos_all_running "$@"; then
      echo "FAIL: a process ended before restart $r (last lines below); give it more work" >&2
      tail -n 3 chaos-*.log >&2
      exit 1
    fi
    down=$(awk -v seed="$RANDOM$RANDOM" -v hi="$max_down" 'BEGIN { srand(seed); printf "%.1f", 1 + rand() * (hi - 1) }')
    restart_server "$r" "$down"
  done
}

chaos_finish() {
  local p failed=0
  chaos_wait_all "$@" || failed=1
  echo "outage log lines: $(cat chaos-*.log | grep -c 'waiting up to' || true) waits started," \
       "$(cat chaos-*.log | grep -c 'is back after' || true) ended, e.g.:"
  grep -h "is back after" chaos-*.log | head -n 3 | sed 's/^/  /' || true
  for p in chaos-*.log; do grep -h "^completed\|^failed\|^stopped\|^failure\|^run:" "$p" || true; done
  return "$failed"
}
