#!/usr/bin/env bash
# The flagship example: installs what is missing, builds it (Release) and runs it: 1M messy
# real-estate rows, CSV -> validate -> SQLite warehouse. Kill it and run it again: it resumes.
# Arguments are passed to the example (try --help); its files stay under build/example/.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build
cmake -S . -B build/example -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DPIPELINE_BUILD_TESTS=OFF -DPIPELINE_BUILD_EXAMPLES=ON -DPIPELINE_WITH_TESTING=OFF >/dev/null
cmake --build build/example --target listings_etl
build/example/examples/03_listings_etl/listings_etl \
  --input build/example/listings.csv --warehouse build/example/warehouse.db "$@"
