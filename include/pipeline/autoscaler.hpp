#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace pipeline {

/// When to add and remove workers, from the depth of the queue in front of them.
struct autoscale_options {
  std::size_t min_workers{1};
  std::size_t max_workers{8};
  double scale_up_above{2.0};    ///< queued batches per worker above which more are needed
  double scale_down_below{0.5};  ///< queued batches per worker below which fewer will do
  std::uint32_t up_after{2};     ///< consecutive evaluations above before scaling up
  std::uint32_t down_after{5};   ///< consecutive evaluations below before scaling down
  std::chrono::milliseconds interval{1000};  ///< how often the runner evaluates
  /// Told every desired count, so a deployment can scale worker processes the same way.
  std::function<void(std::size_t desired_workers)> on_desired{};
};

/// Throws std::invalid_argument naming the field when the options cannot work (min 0,
/// max < min, thresholds not ordered, a zero count or interval).
void validate(const autoscale_options& options);

/// The decision: how many workers a queue depth calls for, with hysteresis.
///
/// Scales up after `up_after` evaluations in a row above `scale_up_above` batches per worker,
/// straight to the count that brings the depth per worker between the thresholds (capped at
/// `max_workers`); scales down by one after `down_after` evaluations in a row below
/// `scale_down_below`. Between the thresholds nothing changes, so a queue hovering near one
/// threshold does not make the count flap. Pure arithmetic: time is the caller's (the runner
/// calls it every `interval`; tests call it directly). Not thread-safe.
///
///     pipeline::autoscaler scale{{.min_workers = 2, .max_workers = 200}};
///     workers = scale.evaluate(queue.size(), workers);
class autoscaler {
 public:
  explicit autoscaler(autoscale_options options);

  /// The desired worker count for `depth` queued batches and `workers` running now.
  [[nodiscard]] auto evaluate(std::size_t depth, std::size_t workers) -> std::size_t;

  [[nodiscard]] auto options() const noexcept -> const autoscale_options& { return options_; }

 private:
  autoscale_options options_;
  std::uint32_t above_ = 0;
  std::uint32_t below_ = 0;
};

}  // namespace pipeline
