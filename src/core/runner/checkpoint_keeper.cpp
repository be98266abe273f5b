#include "checkpoint_keeper.hpp"

#include <utility>

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
  }
  return true;
}

void checkpoint_keeper::issue(std::uint64_t sequence, const position& end) {
  std::scoped_lock lock{mutex_};
  watermark_.issue(sequence, end);
}

void checkpoint_keeper::finish(std::uint64_t sequence, const std::stop_token& stop) {
  std::scoped_lock lock{mutex_};
  auto moved = watermark_.finish(sequence);
  if (!moved) return;
  pending_ = std::move(*moved);
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
  if (!pending_) return;
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
}

}  // namespace pipeline::detail
