#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then configures, builds and
# tests four ways: every component required (full, GCC), the same with clang, ASan+UBSan,
# and TSan. Warnings are errors in all four.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build test

start=$SECONDS
for preset in full clang asan tsan; do
  echo "=== $preset ($((SECONDS - start)) s so far)"
  cmake --workflow --preset "$preset"
done
echo "=== all presets passed in $((SECONDS - start)) s"
