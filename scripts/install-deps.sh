#!/usr/bin/env bash
# Installs the Debian 12 packages pipeline needs, and only those that are missing.
#   scripts/install-deps.sh build        compiler, CMake, Ninja, fmt, range-v3, GSL, nlohmann-json and the
#                                        client libraries of the adapters (sqlite3, hiredis, libmariadb, libpq, libmongoc),
#                                        cpp-httplib and OpenSSL (examples/08_error_ingestion)
#   scripts/install-deps.sh build test   and clang (with libFuzzer), GoogleTest, Google Benchmark, the queue peers,
#                                        wrk (bench/error_ingestion_load.sh, bench/soak.sh), ccache (scripts/test.sh),
#                                        chromium and chromium-driver (the console's browser test, tests/console/)
#   scripts/install-deps.sh servers      redis-server, MariaDB, PostgreSQL 15 and Node.js (for the MongoDB-compatible test server)
set -euo pipefail

declare -A groups=(
  [build]="g++ cmake ninja-build pkg-config libfmt-dev librange-v3-dev libmsgsl-dev nlohmann-json3-dev
           libsqlite3-dev libhiredis-dev libmariadb-dev libpq-dev libmongoc-dev libbson-dev libcpp-httplib-dev libssl-dev"
  [test]="clang libclang-rt-14-dev libgtest-dev libgmock-dev libbenchmark-dev libtbb-dev libconcurrentqueue-dev wrk ccache
          chromium chromium-driver"
  [servers]="redis-server redis-tools mariadb-server mariadb-client postgresql-15 iproute2"
)

wanted=()
for group in "${@:-build}"; do
  [[ -n "${groups[$group]:-}" ]] || { echo "install-deps: unknown group '$group' (build, test, servers)" >&2; exit 2; }
  # shellcheck disable=SC2206  # the lists are plain words, split on spaces and newlines
  pkgs=(${groups[$group]})
  wanted+=("${pkgs[@]}")
done

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The MongoDB-compatible test server runs on Node.js; a machine that has node from elsewhere keeps it.
if [[ " ${wanted[*]} " == *" redis-server "* ]] && ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if ((${#missing[@]} == 0)); then
  echo "install-deps: everything is installed"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing ${missing[*]}; run as root or install them yourself" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
