#!/usr/bin/env bash
# Installs the Debian 12 packages pipeline needs, and only those that are missing.
#   scripts/install-deps.sh build        compiler, CMake, Ninja, fmt, range-v3, GSL, sqlite3, nlohmann-json
#   scripts/install-deps.sh build test   and clang (with libFuzzer), GoogleTest, Google Benchmark, the queue peers
set -euo pipefail

declare -A groups=(
  [build]="g++ cmake ninja-build pkg-config libfmt-dev librange-v3-dev libmsgsl-dev libsqlite3-dev nlohmann-json3-dev"
  [test]="clang libclang-rt-14-dev libgtest-dev libgmock-dev libbenchmark-dev libtbb-dev libconcurrentqueue-dev"
)

wanted=()
for group in "${@:-build}"; do
  [[ -n "${groups[$group]:-}" ]] || { echo "install-deps: unknown group '$group' (build, test)" >&2; exit 2; }
  read -ra pkgs <<<"${groups[$group]}"
  wanted+=("${pkgs[@]}")
done

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
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
