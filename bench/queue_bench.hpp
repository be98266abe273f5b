#pragma once
// What the end-to-end queue benchmarks share (bench/redis/bench_redis_queue.cpp,
// bench/postgres/bench_postgres_queue.cpp): a source of numbered records, a sink that only
// counts, and the clock around one producer process and W worker processes of the bench
// binary itself (first message queued -> last message processed).

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include <pipeline/pipeline.hpp>

namespace queue_bench {

// Records {i: 0..total-1} in batches of `batch`.
class counting_source {
 public:
  using value_type = pipeline::record;
  counting_source(std::int64_t total, std::int64_t batch) : total_(total), batch_(batch) {}
  auto next_batch(std::stop_token) -> pipeline::result<std::optional<pipeline::batch<pipeline::record>>> {
    if (next_ >= total_) return std::optional<pipeline::batch<pipeline::record>>{};
    pipeline::batch<pipeline::record> b;
    b.records.reserve(static_cast<std::size_t>(batch_));
    for (const auto end = std::min(total_, next_ + batch_); next_ < end; ++next_) b.records.push_back({{"i", next_}});
    b.end = pipeline::position::from_integer(next_);
    return std::optional{std::move(b)};
  }
  auto seek(const pipeline::position& p) -> pipeline::result<void> {
    next_ = p.empty() ? 0 : p.to_integer().value_or(0);
    return pipeline::ok();
  }

 private:
  std::int64_t total_, batch_, next_ = 0;
};

// Counts what it is given: the job is trivial, so a benchmark measures the queue.
struct counting_sink {
  using value_type = pipeline::record;
  std::atomic<std::uint64_t> n{0};
  auto write(std::span<const pipeline::record> rs, std::stop_token) -> pipeline::result<void> {
    n += rs.size();
    return pipeline::ok();
  }
};

// Runs `self` with `args` in a child process.
inline auto spawn(const char* self, const std::vector<std::string>& args) -> pid_t {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(self)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(self, argv.data());
    ::_exit(127);
  }
  return pid;
}

// Starts `workers` processes of `self` with `args` + "--role worker", then (the clock starts)
// one with "--role producer", and waits for all: the seconds from the producer's start to the
// last process's end, nullopt when one failed.
inline auto time_roles(const char* self, std::vector<std::string> args, int workers) -> std::optional<double> {
  const auto with_role = [&](const char* role) {
    auto a = args;
    a.insert(a.end(), {"--role", role});
    return a;
  };
  std::vector<pid_t> pids;
  for (int i = 0; i < workers; ++i) pids.push_back(spawn(self, with_role("worker")));
  ::usleep(300'000);  // the workers are waiting on the empty queue
  const auto start = std::chrono::steady_clock::now();
  pids.push_back(spawn(self, with_role("producer")));
  int failed = 0;
  for (auto pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  if (failed != 0) return std::nullopt;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace queue_bench
