#pragma once

#include <charconv>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <pipeline/checkpoint.hpp>
#include <pipeline/position.hpp>
#include <pipeline/result.hpp>

namespace pipeline::detail {

/// The tracking number of a position `queue_source` made for a batch's end ("<number>/…", or
/// a bare number), nullopt for any other position (a record's, "<entry id>#<index>").
[[nodiscard]] inline auto queue_batch_number(std::string_view position_text) noexcept -> std::optional<std::uint64_t> {
  const auto digits = position_text.substr(0, position_text.find('/'));
  if (digits.empty()) return std::nullopt;
  std::uint64_t number = 0;
  const auto* last = digits.data() + digits.size();
  const auto [end, ec] = std::from_chars(digits.data(), last, number);
  if (ec != std::errc{} || end != last) return std::nullopt;
  return number;
}

/// The checkpoint store a queue worker's run uses so that its checkpoint acknowledges entries:
/// a `save` of a batch's end ("<tracking number>/…", as `queue_source` makes it) acknowledges
/// every entry `Consumer` tracked up to that number (`consumer.ack_through(number)`). It keeps
/// its version in memory (a worker never resumes from a position: unacknowledged entries are
/// redelivered instead), so `load` is version 0 until the first save.
///
/// The runner also keeps records beside its checkpoint under `<key>#…` (the records done so
/// far). They mean nothing to the queue: such keys are kept in memory, each with its own
/// version, and acknowledge nothing.
///
/// Models `pipeline::checkpoint_store`; thread-safe. `consumer` must outlive it.
template <class Consumer>
class queue_acks {
 public:
  explicit queue_acks(Consumer& consumer) noexcept : consumer_(consumer) {}

  [[nodiscard]] auto load(std::string_view key) -> result<checkpoint> {
    std::scoped_lock lock{mutex_};
    if (key.find('#') != std::string_view::npos) {
      const auto it = beside_.find(key);
      return it != beside_.end() ? it->second : checkpoint{};
    }
    return checkpoint{position{}, version_};
  }

  [[nodiscard]] auto save(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t> {
    std::scoped_lock lock{mutex_};
    if (key.find('#') != std::string_view::npos) {
      auto& kept = beside_[std::string(key)];
      if (expected_version != kept.version) {
        return conflict_error(fmt::format("'{}' is at version {}, not {}", key, kept.version, expected_version));
      }
      kept = checkpoint{pos, kept.version + 1};
      return kept.version;
    }
    if (expected_version != version_) {
      return conflict_error(fmt::format("queue acks are at version {}, not {}", version_, expected_version));
    }
    const std::string_view text = pos.bytes();
    const auto number = queue_batch_number(text);
    if (!number) return invalid_input_error(fmt::format("'{}' is not a queue source's position", text));
    if (auto acked = consumer_.ack_through(*number); !acked) return std::move(acked).error();
    return ++version_;
  }

 private:
  Consumer& consumer_;
  std::mutex mutex_;
  std::uint64_t version_ = 0;
  std::map<std::string, checkpoint, std::less<>> beside_;  // `<key>#…` records
};

}  // namespace pipeline::detail
