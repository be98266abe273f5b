#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing (build tools, client libraries,
# redis-server, MariaDB, PostgreSQL, the MongoDB-compatible server), starts the servers on 127.0.0.1
# (scripts/services.sh), then configures, builds and tests three ways, every component required
# in each: `full` (GCC, with the examples and the fault tests), `asan` (clang with ASan+UBSan,
# and the fuzzers' seed runs) and `tsan` (GCC with ThreadSanitizer). Warnings are errors in all
# three; clang's warnings are checked by the asan build. Compiles go through ccache, keyed on
# paths relative to this checkout, so a second run (or another clone) rebuilds only what changed.
# A server that is missing or fails to start fails the run; no integration test is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build test servers

export CMAKE_CXX_COMPILER_LAUNCHER=ccache CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1

scripts/services.sh -- bash -c '
  set -euo pipefail
  start=$SECONDS
  for preset in full asan tsan; do
    echo "=== $preset ($((SECONDS - start)) s so far)"
    cmake --workflow --preset "$preset"
  done
  echo "=== all presets passed in $((SECONDS - start)) s"'
