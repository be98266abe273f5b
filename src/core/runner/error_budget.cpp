#include "error_budget.hpp"

#include <fmt/format.h>

namespace pipeline::detail {

auto error_budget::spend(std::uint64_t records, std::uint64_t dead, std::uint64_t dead_in_all)
    -> std::optional<std::string> {
  if (dead_in_all > options_.max_dead_letters) {
    return fmt::format("{} records dead-lettered, more than max_dead_letters ({})", dead_in_all,
                       options_.max_dead_letters);
  }
  if (options_.max_dead_letter_share >= 1.0) return std::nullopt;
  std::scoped_lock lock{mutex_};
  window_.push_back({records, dead});
  window_records_ += records;
  window_dead_ += dead;
  // Keep just enough batches to cover the window, so the share is of recent records.
  while (!window_.empty() && window_records_ - window_.front().records >= options_.dead_letter_window) {
    window_records_ -= window_.front().records;
    window_dead_ -= window_.front().dead;
    window_.pop_front();
  }
  if (window_records_ < options_.dead_letter_window || window_records_ == 0) return std::nullopt;
  const double share = static_cast<double>(window_dead_) / static_cast<double>(window_records_);
  if (share <= options_.max_dead_letter_share) return std::nullopt;
  return fmt::format("{} of the last {} records were dead-lettered ({:.1f}%), more than max_dead_letter_share ({:.1f}%)",
                     window_dead_, window_records_, share * 100, options_.max_dead_letter_share * 100);
}

}  // namespace pipeline::detail
