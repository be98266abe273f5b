#include "checkpoint_keeper.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include <fmt/format.h>

namespace pipeline::detail {

auto checkpoint_keeper::resume() -> bool {
  const auto& key = run_.options().effective_checkpoint_key();
  auto cp = run_.with_retry([&] { return stages_.load_checkpoint(key); }, run_.halt_token());
  if (!cp) return run_.fail_unless_stopped(cp.error());
  std::scoped_lock lock{mutex_};
  version_ = cp->version;
  saved_ = cp->pos;
  if (cp->version > 0) {
    run_.log().info("{}: resuming after checkpoint '{}' (version {})", run_.name(), cp->pos.bytes(), cp->version);
    if (auto sought = stages_.seek(cp->pos); !sought) return run_.fail_unless_stopped(sought.error());
    // The count is for progress only: a store that cannot give it costs the count, not the run.
    if (auto count = stages_.load_checkpoint(count_key()); count && count->version > 0) {
      count_version_ = count->version;
      done_before_ = static_cast<std::uint64_t>(std::max<std::int64_t>(0, count->pos.to_integer().value_or(0)));
    }
  }
  pending_records_ = done_before_;
  return true;
}

auto checkpoint_keeper::count_key() const -> std::string {
  return run_.options().effective_checkpoint_key() + "#records-done";
}

auto checkpoint_keeper::done_before() -> std::uint64_t {
  std::scoped_lock lock{mutex_};
  return done_before_;
}

void checkpoint_keeper::issue(std::uint64_t sequence, const position& end, std::uint64_t records) {
  std::scoped_lock lock{mutex_};
  watermark_.issue(sequence, end, records);
}

void checkpoint_keeper::finish(std::uint64_t sequence, const std::stop_token& stop) {
  std::scoped_lock lock{mutex_};
  auto moved = watermark_.finish(sequence);
  if (!moved) return;
  pending_ = std::move(*moved);
  pending_below_ = watermark_.finished_below();
  pending_records_ = done_before_ + watermark_.records_below();
  if (run_.time().now() - last_save_ >= run_.options().checkpoint_interval) save_locked(stop);
}

void checkpoint_keeper::save(const std::stop_token& stop) {
  std::scoped_lock lock{mutex_};
  save_locked(stop);
}

auto checkpoint_keeper::saved() -> position {
  std::scoped_lock lock{mutex_};
  return saved_;
}

auto checkpoint_keeper::in_flight() -> std::size_t {
  std::scoped_lock lock{mutex_};
  return watermark_.in_flight();
}

void checkpoint_keeper::save_locked(const std::stop_token& stop) {
  if (!pending_ || lease_.lost()) return;
  if (stages_.flushes()) {
    if (auto flushed = run_.with_retry([&] { return stages_.flush(stop); }, stop); !flushed) {
      run_.fail_unless_stopped(flushed.error());
      return;
    }
  }
  const auto& key = run_.options().effective_checkpoint_key();
  auto saved = run_.with_retry([&] { return stages_.save_checkpoint(key, *pending_, version_); }, stop);
  if (!saved) {
    run_.fail_unless_stopped(saved.error());  // a conflict means another process owns this pipeline
    return;
  }
  version_ = *saved;
  saved_ = std::move(*pending_);
  pending_.reset();
  last_save_ = run_.time().now();
  save_count_locked(stop);
  ledger_.forget(pending_below_, stop);
  saved_hook_();
}

void checkpoint_keeper::save_count_locked(const std::stop_token& stop) {
  const auto count = position::from_integer(static_cast<std::int64_t>(pending_records_));
  auto saved = run_.with_retry([&] { return stages_.save_checkpoint(count_key(), count, count_version_); }, stop);
  if (!saved) {
    if (saved.error().kind != error_kind::stopped) {
      run_.log().warn("{}: saving the record count beside the checkpoint failed: {}", run_.name(),
                      fmt::format("{}", saved.error()));
    }
    return;
  }
  count_version_ = *saved;
}

}  // namespace pipeline::detail
