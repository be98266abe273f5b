#!/usr/bin/env bash
# Outage test of the MySQL adapter: three jobs run on a mariadbd of this script's own, which is
# stopped and restarted under them, alternately with SIGTERM (a clean shutdown) and SIGKILL (a
# crash: InnoDB recovers at the next start), down 1 to 6 s each time:
#  - two copies of examples/05_mysql_copy (keyset source, upsert table sink, ~1% bad rows);
#  - one exactly_once_process --sink mysql: generated orders in exactly-once mode into a table
#    with no unique key (plain INSERT and the batch ledger: a batch written twice would show).
# All three are started while the server is down, so they wait for it at connect as well as
# mid-run. Every process must wait the outages out and finish rc 0; then each job is checked by
# set equality (--verify): the target holds every good row once, the DLQ exactly the bad ones,
# once, and no row is in both.
#
# The script's own server, not the one of scripts/services.sh: the tests beside this one keep
# theirs while this one is down. The restarts begin once both sources are generated (that is
# one INSERT … SELECT, a write that a lost connection fails).
#   mysql_restart.sh <mysql_copy binary> <exactly_once_process binary> [restarts (3)] [rows per job (300000)]
set -euo pipefail
bin=$(realpath "$1")
exactly_once=$(realpath "$2")
restarts=${3:-3}
rows=${4:-300000}
source "$(dirname "$(realpath "$0")")/chaos.sh"
chaos_private_server
source "$(dirname "$(realpath "$0")")/private_mariadb.sh"
mariadb_setup "$port"
uri=$mariadb_uri
mariadb_stop TERM
restart_server() {  # <restart number> <seconds down>: SIGTERM (a clean shutdown) and SIGKILL in turn
  local written signal=TERM
  written=$(mariadb_sql "SELECT (SELECT COUNT(*) FROM restart_a_people_clean) + (SELECT COUNT(*) FROM restart_b_people_clean)
                         + (SELECT COUNT(*) FROM restart_orders_orders)")
  (($1 % 2 == 0)) && signal=KILL
  mariadb_stop "$signal"
  sleep "$2"
  mariadb_start
  echo "restart $1: SIG$signal with $written rows written, down $2 s"
  mariadb_await_ready
}

copies=(a b)
copy_args() { echo --uri "$uri" --rows "$rows" --workers 3 --prefix "restart_$1"; }
orders_args=(--sink mysql --name restart_orders --rows "$rows" --workers 3)
export PIPELINE_MYSQL_TEST_URI=$uri  # exactly_once_process's database
# All start while the server is down: they wait for it at connect.
procs=()
for j in "${copies[@]}"; do
  # shellcheck disable=SC2046
  chaos_spawn "$bin" $(copy_args "$j")
  procs+=("$chaos_pid")
done
chaos_spawn "$exactly_once" "${orders_args[@]}"
procs+=("$chaos_pid")
chaos_pause 1.0 3.0
mariadb_start
mariadb_await_ready
echo "started while the server was down: ${#procs[@]} processes"
for j in "${copies[@]}"; do
  until [[ $(mariadb_sql "SELECT COUNT(*) FROM restart_${j}_people" 2>/dev/null || true) == "$rows" ]]; do
    if ! chaos_all_running "${procs[@]}"; then
      echo "FAIL: a process ended while the sources were generated" >&2
      tail -n 5 chaos-*.log >&2
      exit 1
    fi
    sleep 0.2
  done
done

chaos_restarts "$restarts" 6 "${procs[@]}"

status=0
chaos_finish "${procs[@]}" || status=1
# A rerun of each job resumes after its checkpoint (nothing left to read) and checks it.
for j in "${copies[@]}"; do
  # shellcheck disable=SC2046
  "$bin" $(copy_args "$j") --verify || status=1
done
"$exactly_once" "${orders_args[@]}" --verify || status=1
exit "$status"
