#!/usr/bin/env bash
# Crash test of examples/05_mysql_copy: SIGKILL it at random moments of a copy (generating the
# source, reading a keyset page, writing the target, dead-lettering a refused row, saving the
# checkpoint: wherever it is), restart it each time with another --batch, then let it finish
# with yet another and check by set equality that the target holds every good row once and
# the DLQ every bad row exactly once. The changing batch size is the point of the restarts:
# a restart re-reads what the killed run had not checkpointed in differently cut batches, and
# a letter stored before the kill must not be stored again. Needs PIPELINE_MYSQL_TEST_URI.
#   mysql_copy_kill_and_resume.sh <mysql_copy binary> [kills (12)] [rows (160000)]
set -euo pipefail
bin=$(realpath "$1")
kills=${2:-12}
rows=${3:-160000}
: "${PIPELINE_MYSQL_TEST_URI:?PIPELINE_MYSQL_TEST_URI is not set (scripts/services.sh --only mysql -- ...)}"
source "$(dirname "$(realpath "$0")")/chaos.sh"
dir=$(mktemp -d)
prefix="chaos_$$_$RANDOM"
args=(--rows "$rows" --workers 3 --prefix "$prefix")
# The final run drops the tables; after a failure before it they stay for a look (the server
# of scripts/services.sh is a throwaway one).
cleanup() {
  chaos_cleanup
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"

batches=(500 200 1000 350)
start() {
  exec "$bin" "${args[@]}" --batch "${batches[$(($1 % ${#batches[@]}))]}"
}
# 160,000 rows took about 13 s to copy in the Debug build on a loaded machine, and a quiet one
# finished them before the 10th kill; ctest passes 320,000. A restart takes 0.2 s to start. The
# checkpoint is saved once a second, so kills after 0.3 to 1.8 s both lose work (redone in
# other batches by the next run: the DLQ's dedupe at work) and keep some (the kills land
# further and further into the copy); the first ones land while the source is generated.
chaos_kill_and_resume "$kills" 0.3 1.8 start
chaos_require_landed 10
"$bin" "${args[@]}" --batch 750 --verify --drop
