#include <pipeline/limited_sink.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace pipeline::detail {

auto limited_piece_size(const sink_limits& limits, std::size_t batch) -> std::size_t {
  return limits.rate != nullptr && limits.rate_per_record
             ? static_cast<std::size_t>(std::max<std::uint64_t>(limits.rate->burst(), 1))
             : std::max<std::size_t>(batch, 1);
}

struct write_slots::state {
  explicit state(std::size_t max) : max_in_flight(max) {}

  std::size_t max_in_flight;
  std::mutex mutex;
  std::condition_variable_any slot_free;
  std::size_t in_flight = 0;
};

write_slots::write_slots(std::size_t max_in_flight)
    : state_(max_in_flight == 0 ? nullptr : std::make_unique<state>(max_in_flight)) {}

write_slots::~write_slots() = default;

auto write_slots::acquire(const std::stop_token& stop) -> bool {
  if (!state_) return true;
  std::unique_lock lock{state_->mutex};
  if (!state_->slot_free.wait(lock, stop, [&] { return state_->in_flight < state_->max_in_flight; })) return false;
  ++state_->in_flight;
  return true;
}

void write_slots::release() noexcept {
  if (!state_) return;
  {
    std::scoped_lock lock{state_->mutex};
    --state_->in_flight;
  }
  state_->slot_free.notify_one();
}

}  // namespace pipeline::detail
