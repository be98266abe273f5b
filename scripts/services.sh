#!/usr/bin/env bash
# Runs a command with the servers the integration tests need, each on 127.0.0.1 and a free port,
# and stops them afterwards (on every path, by PID):
#   scripts/services.sh [--only redis,cluster,mysql,postgres,mongodb] [--] <command> [args...]
# The command sees where they are in the environment; the integration tests read these and
# fail (never skip) when one is missing:
#   PIPELINE_REDIS_TEST_URI            redis://127.0.0.1:<port>/0
#   PIPELINE_REDIS_CLUSTER_TEST_NODES  127.0.0.1:<p1>,127.0.0.1:<p2>,127.0.0.1:<p3> (3 masters)
#   PIPELINE_MYSQL_TEST_URI            mysql://pipe:pipe-pass@127.0.0.1:<port>/pipe
#                                      (user pipe may create databases and kill connections)
#   PIPELINE_POSTGRES_TEST_URI         postgresql://pipe:pipe-pass@127.0.0.1:<port>/pipe
#                                      (user pipe is a superuser: may end other sessions)
#   PIPELINE_MONGODB_TEST_URI          mongodb://127.0.0.1:<port> (CongoDB, see tests/services/congodb)
# Server files and logs live in a fresh directory under build/services/, removed at the end
# unless the command failed (then its path is printed, for the logs).
# The servers come from scripts/install-deps.sh servers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

only="redis,cluster,mysql,postgres,mongodb"
while (($#)); do
  case "$1" in
    --only) only=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
(($#)) || { echo "usage: scripts/services.sh [--only redis,cluster,mysql,postgres,mongodb] [--] <command>..." >&2; exit 2; }
wants() { [[ ",$only," == *",$1,"* ]]; }

mkdir -p "$root/build/services"
svc=$(mktemp -d "$root/build/services/run.XXXXXX")
pg_dir=""  # PostgreSQL's files, outside the checkout (below)
pids=()
status=1
teardown() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if ((status == 0)); then
    rm -rf "$svc" ${pg_dir:+"$pg_dir"}
  else
    echo "services: server files and logs kept in $svc${pg_dir:+ and $pg_dir}" >&2
  fi
}
trap teardown EXIT

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A port nobody listens on, from a range per service so that parallel runs rarely collide.
free_port() {
  local p
  for ((p = $1; p < $1 + 500; p++)); do
    if port_is_free "$p" && port_is_free "$((p + 10000))"; then echo "$p"; return; fi
  done
  echo "services: no free port from $1" >&2; return 1
}
# Waits until <probe> succeeds; fails (1) when the server process <pid> has died, e.g. because
# another run took its port between free_port and the bind, and (2) after 30 s.
await() {
  local what=$1 pid=$2; shift 2
  local deadline=$((SECONDS + 30))
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "services: $what exited while starting; log in $svc" >&2; return 1; }
    ((SECONDS < deadline)) || { echo "services: $what not ready after 30 s; log in $svc" >&2; return 2; }
    sleep 0.05
  done
}
# Runs `<starter> <port>` on free ports from <base> until one start succeeds (a lost race for a
# port is retried on the next one; 5 tries). Sets `port`.
start_on_free_port() {
  local base=$1 starter=$2 try status
  for try in 1 2 3 4 5; do
    port=$(free_port "$base")
    status=0
    "$starter" "$port" || status=$?
    ((status == 0)) && return 0
    ((status == 1)) || return "$status"
    echo "services: retrying on another port" >&2
    base=$((port + 1))
  done
  return 1
}
# Another server already on the port would answer the probe: then ours failed to bind.
redis_is_ours() {
  [[ $(redis-cli -p "$1" info server | tr -d '\r' | awk -F: '/^process_id/{print $2}') == "$2" ]] || {
    echo "services: port $1 answered by another redis-server" >&2; return 1; }
}
redis_options=()
start_redis() {  # <port>, with redis_dir and redis_options
  local dir="$redis_dir/$1"
  mkdir -p "$dir"
  redis-server --port "$1" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
    --daemonize no "${redis_options[@]}" >"$dir/log" 2>&1 &
  pids+=($!)
  await "redis-server :$1" $! redis-cli -p "$1" ping && redis_is_ours "$1" "${pids[-1]}"
}

if wants redis; then
  redis_dir="$svc/redis"
  start_on_free_port 16379 start_redis
  export PIPELINE_REDIS_TEST_URI="redis://127.0.0.1:$port/0"
fi

if wants cluster; then
  nodes=()
  base=17001
  redis_dir="$svc/cluster"
  redis_options=(--cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000)
  for _ in 1 2 3; do
    start_on_free_port "$base" start_redis
    nodes+=("127.0.0.1:$port")
    base=$((port + 1))
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$svc/cluster/create.log" 2>&1
  for node in "${nodes[@]}"; do
    deadline=$((SECONDS + 30))
    until redis-cli -p "${node#*:}" cluster info | grep -q 'cluster_state:ok'; do
      ((SECONDS < deadline)) || { echo "services: cluster not ok after 30 s" >&2; exit 1; }
      sleep 0.1
    done
  done
  PIPELINE_REDIS_CLUSTER_TEST_NODES=$(IFS=,; echo "${nodes[*]}")
  export PIPELINE_REDIS_CLUSTER_TEST_NODES
fi

start_mariadb() {  # <port>
  mariadbd --no-defaults --user=root --datadir="$svc/mysql" --socket="$svc/mysqld.sock" \
    --port="$1" --bind-address=127.0.0.1 --skip-name-resolve --pid-file="$svc/mysqld.pid" \
    --log-error="$svc/mysqld.err" --innodb-buffer-pool-size=256M --max-connections=500 >/dev/null 2>&1 &
  pids+=($!)
  await "mariadbd :$1" $! mariadb-admin --socket="$svc/mysqld.sock" -uroot ping
}
start_congodb() {  # <port>
  node "$root/tests/services/congodb/server.mjs" "$1" >"$svc/congodb.log" 2>&1 &
  pids+=($!)
  await "congodb :$1" $! grep -q '^ready' "$svc/congodb.log"
}

if wants mysql; then
  mariadb-install-db --user=root --datadir="$svc/mysql" --auth-root-authentication-method=normal \
    --skip-test-db >"$svc/mysql-install.log" 2>&1
  start_on_free_port 13306 start_mariadb
  mariadb --socket="$svc/mysqld.sock" -uroot -e "CREATE DATABASE pipe;
    CREATE USER 'pipe'@'127.0.0.1' IDENTIFIED BY 'pipe-pass';
    GRANT ALL ON *.* TO 'pipe'@'127.0.0.1' WITH GRANT OPTION;"
  export PIPELINE_MYSQL_TEST_URI="mysql://pipe:pipe-pass@127.0.0.1:$port/pipe"
fi

# PostgreSQL refuses to run as root: its data directory and process belong to the user
# postgres (made by the Debian package). Its files live in a directory of their own under /tmp,
# not in $svc: a checkout may sit below a directory only root may enter (a home directory, a
# `mktemp -d`), which the postgres user could not reach. Its logs stay in $svc.
pg_bin=/usr/lib/postgresql/15/bin
start_postgres() {  # <port>
  runuser -u postgres -- "$pg_bin/postgres" -D "$pg_dir/data" -p "$1" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$pg_dir/run" -c max_connections=300 -c fsync=off \
    >"$svc/postgres.log" 2>&1 &
  pids+=($!)
  await "postgres :$1" $! "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$1" -d postgres -U postgres &&
    postgres_is_ours "$1"
}
# Another server on the port would answer pg_isready: ours must have written its pid file.
postgres_is_ours() {
  local deadline=$((SECONDS + 5))
  until [[ -S "$pg_dir/run/.s.PGSQL.$1" ]]; do
    ((SECONDS < deadline)) || { echo "services: port $1 answered by another postgres" >&2; return 1; }
    sleep 0.05
  done
}

if wants postgres; then
  pg_dir=$(mktemp -d /tmp/pipeline-postgres.XXXXXX)
  chmod 755 "$pg_dir"
  mkdir -p "$pg_dir/data" "$pg_dir/run"
  chown postgres: "$pg_dir/data" "$pg_dir/run"
  runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 \
    --locale=C.UTF-8 >"$svc/postgres-initdb.log" 2>&1 || { echo "services: initdb failed; log in $svc" >&2; exit 1; }
  start_on_free_port 15432 start_postgres
  runuser -u postgres -- "$pg_bin/psql" -q -h "$pg_dir/run" -p "$port" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 -c "CREATE USER pipe SUPERUSER PASSWORD 'pipe-pass'" -c "CREATE DATABASE pipe OWNER pipe"
  export PIPELINE_POSTGRES_TEST_URI="postgresql://pipe:pipe-pass@127.0.0.1:$port/pipe"
fi

if wants mongodb; then
  congodb="$root/tests/services/congodb"
  [[ -d "$congodb/node_modules/@push.rocks/smartmongo" ]] ||
    (cd "$congodb" && npm ci --no-audit --no-fund --loglevel=error >"$svc/npm-ci.log" 2>&1) || {
      echo "services: npm ci for the MongoDB test server failed:" >&2; cat "$svc/npm-ci.log" >&2; exit 1; }
  start_on_free_port 27117 start_congodb
  export PIPELINE_MONGODB_TEST_URI="mongodb://127.0.0.1:$port"
fi

echo "services: ready (${only}) in $svc"
set +e
"$@"
status=$?
set -e
exit "$status"
