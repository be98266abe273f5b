#include <pipeline/detail/outage.hpp>

#include <condition_variable>

#include <fmt/format.h>

namespace pipeline::detail {
namespace {

auto seconds_text(std::chrono::steady_clock::duration d) -> std::string {
  return fmt::format("{:.1f} s", std::chrono::duration<double>(d).count());
}

}  // namespace

auto outage_watch::failed(const error& e, std::chrono::milliseconds budget, const logger& log)
    -> std::optional<std::chrono::steady_clock::duration> {
  const auto now = std::chrono::steady_clock::now();
  std::scoped_lock lock{mutex_};
  if (!since_) {
    since_ = now;
    down_.store(true, std::memory_order_relaxed);
    if (budget.count() > 0) {
      log.warn("{} unavailable ({}); waiting up to {} for it to come back", server_, e.message, seconds_text(budget));
    }
  }
  const auto left = *since_ + budget - now;
  if (left <= std::chrono::steady_clock::duration::zero()) return std::nullopt;
  return left;
}

void outage_watch::answered(std::chrono::milliseconds budget, const logger& log) {
  if (!down_.load(std::memory_order_relaxed)) return;  // no lock on the common path
  std::scoped_lock lock{mutex_};
  if (!since_) return;
  if (budget.count() > 0) log.warn("{} is back after {}", server_, seconds_text(std::chrono::steady_clock::now() - *since_));
  since_.reset();
  down_.store(false, std::memory_order_relaxed);
}

auto outage_watch::over_budget(error e, std::chrono::milliseconds budget) -> error {
  std::chrono::steady_clock::duration lasted{};
  {
    std::scoped_lock lock{mutex_};
    if (since_) lasted = std::chrono::steady_clock::now() - *since_;
  }
  e.message = fmt::format("{} unavailable for {}, longer than the outage budget ({}): {}", server_,
                          seconds_text(lasted), seconds_text(budget), e.message);
  return e;
}

auto pause_unless_stopped(std::chrono::steady_clock::duration wait, const std::stop_token& stop) -> bool {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock{m};
  cv.wait_for(lock, stop, wait, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace pipeline::detail
