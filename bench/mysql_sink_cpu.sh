#!/usr/bin/env bash
# CPU seconds of bench_mysql_sink's cases, server and client apart: on a shared 2-core machine
# the wall time swings with other people's load, the CPU a case costs much less. For each of
# REPS rounds (default 4) it runs, interleaved, one repetition of LOAD DATA (from CANDIDATE) and
# of CASE (default table_sink_1_writer) from BASELINE and from CANDIDATE, and prints the
# server's CPU (utime + stime of mariadbd from /proc, in centiseconds; background InnoDB work
# of the case before can fall into it) and the client's (user, system seconds).
#   scripts/services.sh --only mysql -- bench/mysql_sink_cpu.sh BASELINE CANDIDATE [case] [reps]
# BASELINE and CANDIDATE are bench_mysql_sink binaries (e.g. one built from main, copied aside).
set -euo pipefail
baseline=$1 candidate=$2 case=${3:-table_sink_1_writer} reps=${4:-4}
root=$(cd "$(dirname "$0")/.." && pwd)
server=$(cat "$(ls -t "$root"/build/services/run.*/mysqld.pid | head -1)")
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
times=$(mktemp)
trap 'rm -f "$times"' EXIT
for ((i = 1; i <= reps; i++)); do
  for run in "$candidate load_data_local_infile" "$baseline $case" "$candidate $case"; do
    set -- $run
    before=$(cpu)
    /usr/bin/time -f "%U %S" -o "$times" "$1" --benchmark_filter="$2" --benchmark_repetitions=1 >/dev/null 2>&1
    echo "$(basename "$1") $2 server_cs=$(($(cpu) - before)) client_user_sys_s=$(tr ' ' / <"$times")"
  done
done
