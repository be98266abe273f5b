# Shared by the fault tests that run and restart a mariadbd of their own (sourced after
# chaos.sh and chaos_private_server, which made and entered $dir):
#   mariadb_setup PORT      a fresh data directory, mariadbd on 127.0.0.1:PORT, database pipe
#                           and user pipe (all privileges); sets $mariadb_uri
#   mariadb_start           starts it again on the same data (after mariadb_stop)
#   mariadb_stop SIGNAL     TERM: a clean shutdown; KILL: a crash (InnoDB recovers at start)
#   mariadb_await_ready     waits until it answers (fails the test after 30 s)
#   mariadb_sql SQL         runs SQL in database pipe as root, tab-separated, no header
# $mariadb_pid is killed by chaos_private_server's cleanup.

mariadb_setup() {
  mariadb_port=$1
  mariadb-install-db --user=root --datadir="$dir/mariadb" --auth-root-authentication-method=normal --skip-test-db \
    >"$dir/mariadb-install.log" 2>&1 || { echo "FAIL: mariadb-install-db failed" >&2; cat "$dir/mariadb-install.log" >&2; exit 1; }
  mariadb_start
  mariadb_await_ready
  mariadb --socket="$dir/mariadb.sock" -uroot -e "CREATE DATABASE pipe; CREATE USER 'pipe'@'127.0.0.1' IDENTIFIED BY 'pipe-pass';
    GRANT ALL ON *.* TO 'pipe'@'127.0.0.1';"
  mariadb_uri="mysql://pipe:pipe-pass@127.0.0.1:$mariadb_port/pipe"
}
mariadb_start() {
  mariadbd --no-defaults --user=root --datadir="$dir/mariadb" --socket="$dir/mariadb.sock" --port="$mariadb_port" \
    --bind-address=127.0.0.1 --skip-name-resolve --pid-file="$dir/mariadb.pid" --log-error="$dir/mariadb-err.log" \
    --innodb-buffer-pool-size=128M --max-connections=300 >/dev/null 2>&1 &
  mariadb_pid=$!
}
mariadb_stop() {
  kill -"$1" "$mariadb_pid"
  wait "$mariadb_pid" 2>/dev/null || true
  mariadb_pid=""
}
mariadb_sql() { mariadb --socket="$dir/mariadb.sock" -uroot -N -e "$1" pipe; }
mariadb_await_ready() {
  for _ in $(seq 600); do mariadb-admin --socket="$dir/mariadb.sock" -uroot ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "FAIL: mariadbd did not start" >&2; cat "$dir/mariadb-err.log" >&2; exit 1
}
