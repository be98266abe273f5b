#!/usr/bin/env bash
# examples/10_listings_system against the same job on the seed team's stack (bench/seed_stack:
# Node, BullMQ, mysql2, mongodb), on one feed and the same servers, in one run:
#   scripts/services.sh --only redis,mysql,mongodb -- \
#     bench/listings_system.sh <listings_system binary> [rows (20000)] [runs (3)] [sink: mongodb|mysql]
# Give it a Release binary (build/release/examples/10_listings_system/listings_system): a Debug
# one spends seconds formatting the 10 MB city's dead letter.
# Loads the MySQL feed of <rows> listings once, then runs each system <runs> times, alternating
# (pipeline, BullMQ, pipeline, ...), each run on a fresh queue and sink, with 4 worker
# processes: listings_system --role all with --min-workers 4 --max-workers 4 (no autoscaling),
# and node run.mjs --workers 4 (BullMQ Workers with concurrency 1). Peak RSS per process kind:
# the producer, the largest worker, and the process that runs the others (ours: the supervisors
# of --role all; theirs: run.mjs). Every run must pass its check (set equality of sink and
# DLQ), or the script fails. Prints each run, the medians, and pipeline's rate over BullMQ's.
# The logs stay in build/bench-listings/<time>/.
set -euo pipefail
bin=$(realpath "$1") rows=${2:-20000} runs=${3:-3} sink=${4:-mongodb}
here=$(cd "$(dirname "$0")" && pwd)
: "${PIPELINE_REDIS_TEST_URI:?run under scripts/services.sh --only redis,mysql,mongodb}"
: "${PIPELINE_MYSQL_TEST_URI:?run under scripts/services.sh --only redis,mysql,mongodb}"
[[ -d "$here/seed_stack/node_modules" ]] || (cd "$here/seed_stack" && npm ci --no-audit --no-fund --loglevel=error)
logs="$here/../build/bench-listings/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$logs"

# The feed is loaded once, as <prefix>_1_feed, and renamed to the next run's name before each of
# ours: its --name also names the queue, the DLQ, the checkpoints and the sink, so each run
# starts on fresh ones. The prefix is this script's pid: a second invocation on the same servers
# meets none of the first's names.
[[ $PIPELINE_MYSQL_TEST_URI =~ ^mysql://([^:]+):([^@]+)@([^:]+):([0-9]+)/(.+)$ ]] ||
  { echo "cannot read $PIPELINE_MYSQL_TEST_URI" >&2; exit 2; }
mysql_args=(-u"${BASH_REMATCH[1]}" -p"${BASH_REMATCH[2]}" -h"${BASH_REMATCH[3]}" -P"${BASH_REMATCH[4]}" "${BASH_REMATCH[5]}")
sql() { mariadb "${mysql_args[@]}" -e "$1"; }
echo "# uptime before: $(uptime)"
p=lsb$$
"$bin" --role load --name "${p}_1" --rows "$rows" --fresh >/dev/null

peak() { grep "$1" "$2" | sed -E 's/.*peak RSS ([0-9]+) MB.*/\1/' | sort -n | tail -1; }
system_line() { grep '^system: ' "$1" | sed -E 's/^system: [0-9]+ listings in ([0-9.]+) s \(([0-9]+) listings\/s\).*/\1 \2/'; }
failed() { echo "run failed: $1" >&2; tail -3 "$1" >&2; exit 1; }
checked() { [[ $(grep -c '^check: .* -> ok; .* -> ok$' "$1") == 1 ]] || failed "$1"; }
printf '%-4s %-9s %8s %11s %12s %10s %14s\n' run stack wall_s listings/s producer_MB worker_MB supervisor_MB
results=()
for ((k = 1; k <= runs; k++)); do
  feed=${p}_${k}_feed
  ((k == 1)) || sql "RENAME TABLE ${p}_$((k - 1))_feed TO $feed"
  log="$logs/pipeline.$k.log"
  "$bin" --role all --name "${p}_$k" --rows "$rows" --sink "$sink" --min-workers 4 --max-workers 4 >"$log" 2>&1 ||
    failed "$log"
  checked "$log"
  results+=("pipeline $(system_line "$log") $(peak '^producer: ' "$log") $(peak '^worker ' "$log") $(peak '^system: ' "$log")")
  log="$logs/bullmq.$k.log"
  node "$here/seed_stack/run.mjs" --feed "$feed" --rows "$rows" --name "seed${p}_$k" --sink "$sink" --workers 4 \
    --fresh >"$log" 2>&1 || failed "$log"
  checked "$log"
  results+=("bullmq $(system_line "$log") $(peak '^producer: ' "$log") $(peak '^worker ' "$log") $(peak '^system: ' "$log")")
  for r in "${results[@]: -2}"; do printf '%-4s %-9s %8s %11s %12s %10s %14s\n' "$k" $r; done
done
echo "# uptime after: $(uptime)"

median() {  # <stack> <column>: the median of that column over the stack's runs
  printf '%s\n' "${results[@]}" | awk -v s="$1" -v c="$2" '$1 == s { print $c }' | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "# medians of $runs runs: $rows listings, sink $sink, 4 worker processes each"
for s in pipeline bullmq; do
  printf '%-4s %-9s %8s %11s %12s %10s %14s\n' med "$s" "$(median "$s" 2)" "$(median "$s" 3)" "$(median "$s" 4)" \
    "$(median "$s" 5)" "$(median "$s" 6)"
done
awk -v a="$(median pipeline 3)" -v b="$(median bullmq 3)" 'BEGIN { printf "ratio pipeline/BullMQ (listings/s): %.2fx\n", a / b }'
echo "# logs: $logs"
