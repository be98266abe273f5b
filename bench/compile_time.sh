#!/usr/bin/env bash
# What a user's file costs to compile, before and after a change, in one run on this machine:
# g++ -O2 -std=c++20 on three probe files (the umbrella header alone; the umbrella and one
# pipeline::run; three runs with different types), against this tree's headers and against
# those of BASE (default: the last commit before the engine moved into the library).
# Prints the median of 3 CPU times (user + system seconds of the one-threaded compiler: on a quiet
# machine that is its wall time, and another load on the machine changes it far less) and the
# compiler's peak RSS for each.
#   bench/compile_time.sh [BASE]
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-8725225}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/base" "$base" >/dev/null 2>&1

cat >"$work/umbrella.cpp" <<'CPP'
#include <pipeline/pipeline.hpp>
int main() { return 0; }
CPP
cat >"$work/run_once.cpp" <<'CPP'
#include <pipeline/pipeline.hpp>
#include <string>
int main() {
  pipeline::vector_source<int> source{{1, 2, 3}, 2};
  pipeline::memory_sink<std::string> sink;
  pipeline::memory_dlq dlq;
  pipeline::memory_checkpoint_store checkpoints;
  auto report = pipeline::run(source, [](const int& v) { return std::to_string(v); }, sink, dlq, checkpoints, {});
  return report.status == pipeline::run_status::completed ? 0 : 1;
}
CPP
cat >"$work/run_thrice.cpp" <<'CPP'
#include <pipeline/pipeline.hpp>
#include <string>
int main() {
  pipeline::memory_dlq dlq;
  pipeline::memory_checkpoint_store checkpoints;
  pipeline::vector_source<int> a{{1, 2, 3}, 2};
  pipeline::memory_sink<std::string> to_text;
  auto r1 = pipeline::run(a, [](const int& v) { return std::to_string(v); }, to_text, dlq, checkpoints, {.name = "a"});
  pipeline::vector_source<std::string> b{{"x", "y"}, 2};
  pipeline::memory_sink<std::string> same;
  auto r2 = pipeline::run(b, pipeline::identity{}, same, dlq, checkpoints, {.name = "b"});
  pipeline::vector_source<double> c{{1.5, 2.5}, 2};
  pipeline::memory_sink<long> rounded;
  auto r3 = pipeline::run(c, [](std::span<const double> in) {
    std::vector<long> out;
    for (double v : in) out.push_back(static_cast<long>(v));
    return out;
  }, rounded, dlq, checkpoints, {.name = "c"});
  return static_cast<int>(r1.read + r2.read + r3.read);
}
CPP

# Prints "<median seconds> <peak RSS MB>" of compiling $2 against headers in $1.
measure() {
  local include=$1 file=$2 times=() user sys rss=0
  for _ in 1 2 3; do
    local out
    out=$( { /usr/bin/time -f '%U %S %M' g++ -std=c++20 -O2 -I"$include" -c "$file" -o /dev/null; } 2>&1 | tail -1)
    read -r user sys rss <<<"$out"
    times+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p | tr '\n' ' '
  echo "$((rss / 1024))"
}

printf '%-34s %14s %14s %10s\n' "probe (g++ -O2, median of 3)" "before (s, MB)" "after (s, MB)" "after/before"
for probe in umbrella run_once run_thrice; do
  read -r bt bm < <(measure "$work/base/include" "$work/$probe.cpp")
  read -r at am < <(measure "$PWD/include" "$work/$probe.cpp")
  awk -v p="$probe" -v bt="$bt" -v bm="$bm" -v at="$at" -v am="$am" \
    'BEGIN { printf "%-34s %7.2f %6d %7.2f %6d %9.2fx\n", p ".cpp", bt, bm, at, am, at / bt }'
done
