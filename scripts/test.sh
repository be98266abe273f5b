#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing (build tools, client libraries,
# redis-server, MariaDB, the MongoDB-compatible server), starts the servers on 127.0.0.1
# (scripts/services.sh), then configures, builds and tests four ways: every component required
# (full, GCC), the same with clang, ASan+UBSan, and TSan. Warnings are errors in all four.
# A server that is missing or fails to start fails the run; no integration test is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build test servers

scripts/services.sh -- bash -c '
  set -euo pipefail
  start=$SECONDS
  for preset in full clang asan tsan; do
    echo "=== $preset ($((SECONDS - start)) s so far)"
    cmake --workflow --preset "$preset"
  done
  echo "=== all presets passed in $((SECONDS - start)) s"'
