#include <pipeline/autoscaler.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace pipeline {

void validate(const autoscale_options& o) {
  if (o.min_workers == 0) throw std::invalid_argument("autoscale_options.min_workers must be > 0");
  if (o.max_workers < o.min_workers) throw std::invalid_argument("autoscale_options.max_workers must be >= min_workers");
  if (!(o.scale_down_below >= 0) || !(o.scale_up_above > o.scale_down_below)) {
    throw std::invalid_argument("autoscale_options.scale_up_above must be > scale_down_below >= 0");
  }
  if (o.up_after == 0 || o.down_after == 0) throw std::invalid_argument("autoscale_options.up_after and down_after must be > 0");
  if (o.interval.count() <= 0) throw std::invalid_argument("autoscale_options.interval must be > 0");
}

autoscaler::autoscaler(autoscale_options options) : options_(std::move(options)) { validate(options_); }

auto autoscaler::evaluate(std::size_t depth, std::size_t workers) -> std::size_t {
  const auto current = std::clamp(workers, options_.min_workers, options_.max_workers);
  const double per_worker = static_cast<double>(depth) / static_cast<double>(std::max<std::size_t>(workers, 1));
  above_ = per_worker > options_.scale_up_above ? above_ + 1 : 0;
  below_ = per_worker < options_.scale_down_below ? below_ + 1 : 0;
  auto desired = current;
  if (above_ >= options_.up_after) {
    // Enough workers to bring the depth per worker to the middle of the band.
    const double target = (options_.scale_up_above + options_.scale_down_below) / 2;
    const auto needed = static_cast<std::size_t>(std::ceil(static_cast<double>(depth) / target));
    desired = std::clamp(std::max(needed, current + 1), options_.min_workers, options_.max_workers);
    above_ = 0;
  } else if (below_ >= options_.down_after) {
    desired = std::max(options_.min_workers, current - (current > 0 ? 1 : 0));
    below_ = 0;
  }
  if (options_.on_desired) options_.on_desired(desired);
  return desired;
}

}  // namespace pipeline
