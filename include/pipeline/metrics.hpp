#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pipeline {

/// The constant labels of one series, fixed at registration: `{{"stage", "load"}}`.
using metric_labels = std::vector<std::pair<std::string, std::string>>;

/// A monotonic count (records read, retries): an integer, since a pipeline counts things.
///
/// Thread-safe and lock-free: `inc` is one relaxed atomic add; never allocates.
class counter {
 public:
  counter() = default;
  counter(const counter&) = delete;
  auto operator=(const counter&) -> counter& = delete;

  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] auto value() const noexcept -> std::uint64_t { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down (queue depth, a last-success timestamp in seconds).
///
/// A double, as Prometheus samples are: integers are exact up to 2^53. Thread-safe and
/// lock-free (`inc`/`dec` are a compare-exchange loop); never allocates.
class gauge {
 public:
  gauge() = default;
  gauge(const gauge&) = delete;
  auto operator=(const gauge&) -> gauge& = delete;

  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void inc(double n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void dec(double n = 1) noexcept { value_.fetch_sub(n, std::memory_order_relaxed); }
  [[nodiscard]] auto value() const noexcept -> double { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

/// A distribution over fixed buckets (batch durations in seconds, batch sizes).
///
/// Thread-safe and lock-free: `observe` is a binary search over the bounds, one atomic add
/// to a bucket and a compare-exchange loop on the sum; never allocates. A value goes to the
/// first bucket whose upper bound is >= it; NaN goes to the implicit +Inf bucket and makes
/// the sum NaN, as in the Prometheus Go client. A reader racing with `observe` may see the
/// sum and the counts of slightly different moments; the counts agree with each other.
///
///     pipeline::histogram h{{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};
///     h.observe(0.042);
class histogram {
 public:
  /// Throws std::invalid_argument("upper_bounds: …") unless the bounds are finite and strictly
  /// increasing. The +Inf bucket is implicit; an empty list leaves only it.
  explicit histogram(std::vector<double> upper_bounds);
  histogram(const histogram&) = delete;
  auto operator=(const histogram&) -> histogram& = delete;

  void observe(double v) noexcept;

  [[nodiscard]] auto upper_bounds() const noexcept -> const std::vector<double>& { return bounds_; }
  /// One count per upper bound, then the +Inf one; each includes the buckets below it.
  [[nodiscard]] auto cumulative_counts() const -> std::vector<std::uint64_t>;
  [[nodiscard]] auto count() const noexcept -> std::uint64_t;
  [[nodiscard]] auto sum() const noexcept -> double { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<std::uint64_t>> counts_;  // per bucket, not cumulative; last is +Inf
  std::atomic<double> sum_{0};
};

/// Named metrics, written out in the Prometheus text exposition format 0.0.4.
///
/// Thread-safe: registration takes a mutex; the returned references stay valid for the
/// registry's lifetime, so a hot path registers once and then only touches atomics.
/// Registering the same name and labels again returns the same metric (label order does not
/// matter). Throws std::invalid_argument, naming the argument, for: a name that is not
/// `[a-zA-Z_:][a-zA-Z0-9_:]*`; a label name that is not `[a-zA-Z_][a-zA-Z0-9_]*`, starts with
/// `__`, appears twice, or is `le` on a histogram; a name already registered with another
/// type, help or bucket layout; a name that clashes with a histogram's `_bucket`, `_sum` or
/// `_count` series. Families are written sorted by name, series by labels, labels by name.
///
///     pipeline::metrics_registry m;
///     auto& read = m.register_counter("pipeline_records_read_total", "Records read.",
///                                     {{"pipeline", "orders"}});
///     read.inc(500);
///     std::string text = m.to_prometheus();  // serve as text/plain; version=0.0.4
class metrics_registry {
 public:
  metrics_registry();
  ~metrics_registry();
  metrics_registry(const metrics_registry&) = delete;
  auto operator=(const metrics_registry&) -> metrics_registry& = delete;

  auto register_counter(std::string_view name, std::string_view help, metric_labels labels = {}) -> counter&;
  auto register_gauge(std::string_view name, std::string_view help, metric_labels labels = {}) -> gauge&;
  auto register_histogram(std::string_view name, std::string_view help, std::vector<double> upper_bounds,
                          metric_labels labels = {}) -> histogram&;

  /// Appends every family: `# HELP` (when the help is not empty), `# TYPE`, then its series.
  void write_prometheus(std::string& out) const;
  [[nodiscard]] auto to_prometheus() const -> std::string;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace pipeline
