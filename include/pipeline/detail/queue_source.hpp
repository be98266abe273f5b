#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <pipeline/batch.hpp>
#include <pipeline/codec.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/detail/frame.hpp>
#include <pipeline/detail/queue_entry.hpp>
#include <pipeline/result.hpp>
#include <pipeline/source.hpp>

namespace pipeline::detail {

/// The source a queue worker's run reads: the entries (`queue_entry`) a `Consumer` receives
/// (`redis::stream_consumer`, `postgres::queue_consumer`), decoded with `Codec`, one batch per
/// read. `Consumer` gives `read(stop)`, `track(ids)`, `name()` and `options()` (with
/// `max_deliveries` and `log`).
///
/// Records that do not decode, and the records of an entry delivered more than
/// `max_deliveries` times (a poison record that crashes or stalls workers: reclaimed entries
/// are split into one entry per record by the consumer), become the batch's rejected
/// dead letters: the runner stores them in its DLQ and then, as for any batch, the
/// checkpoint (`queue_acks`) acknowledges the entry. A batch's `end` is
/// "<tracking number>/<last entry id>"; the tracking number is this consumer's own.
/// `seek` accepts only the empty position: a worker never resumes from a position, the queue
/// redelivers what was not acknowledged. So `batch::positions` names records rather than
/// places to seek to: `positions[i]` is "<entry id>#<index>", where `records[i]` was first
/// added (`queue_entry::origin`), and the rejected letters above carry the same. It stays
/// the same when the entry is redelivered to another worker or split after a crash, so a
/// record dead-lettered before a crash and again after it has one identity, and a DLQ that
/// stores each letter once (`redis::dead_letter_stream`, the DLQ tables) keeps one entry.
///
/// A record is never both in the sink and in the DLQ when `skip_dead_lettered` is set (as
/// `pipeline::run_worker` does for a DLQ with `holds`, like `redis::dead_letter_stream`): an entry is
/// acknowledged only after its batch's sink and DLQ writes, so an entry whose records were
/// dead-lettered may still come back (the worker crashed, or its acknowledgement failed). The
/// records of an entry that came back (delivered before, or split from a reclaimed entry) are
/// looked up in the DLQ first, and the ones it holds are left out of the batch: they are done.
///
/// Contract: models `pipeline::seekable_source`; one thread at a time (the runner's reader).
template <class T, class Codec, class Consumer>
  requires codec<Codec, T>
class queue_source {
 public:
  using value_type = T;

  explicit queue_source(Consumer& consumer, Codec c = {}) : consumer_(consumer), codec_(std::move(c)) {}

  /// For each of the positions it is given, whether the DLQ holds a letter from there.
  using dead_letter_lookup = std::function<result<std::vector<bool>>(std::span<const position>, std::stop_token)>;

  /// Leaves out of a batch the records of redelivered entries that `lookup` says are
  /// dead-lettered (see the class comment).
  void skip_dead_lettered(dead_letter_lookup lookup) { dead_lettered_ = std::move(lookup); }

  [[nodiscard]] auto next_batch(std::stop_token stop) -> result<std::optional<batch<T>>> {
    auto entries = consumer_.read(stop);
    if (!entries) return std::move(entries).error();
    if (!*entries) return std::optional<batch<T>>{};
    batch<T> b;
    std::vector<std::string> ids;
    const auto now = std::chrono::system_clock::now();
    const auto max = consumer_.options().max_deliveries;
    std::vector<std::size_t> came_back;  // indices of records of redelivered entries
    for (auto& e : **entries) {
      const bool again = e.deliveries > 1 || e.origin != e.id;
      const position from{e.id};
      std::size_t index = e.origin_index;  // of the next record in the entry
      const auto here = [&] { return position{fmt::format("{}#{}", e.origin, index)}; };
      const auto letter = [&](std::string_view bytes, error reason, position at) {
        b.rejected.push_back({std::string(bytes), std::move(reason), static_cast<std::uint32_t>(e.deliveries),
                              std::move(at), 0, now});
      };
      frame_reader reader{e.frame};
      if (!e.framed) {
        letter("", invalid_input_error(fmt::format("queue entry {} of {} holds no batch", e.id, consumer_.name())), from);
      } else if (e.deliveries > max) {
        const auto why = fmt::format("queue entry {} of {} was delivered {} times without being acknowledged (more "
                                     "than max_deliveries {}): a worker crashed or timed out on it each time",
                                     e.id, consumer_.name(), e.deliveries, max);
        for (; auto bytes = reader.next(); ++index) letter(*bytes, permanent_error(why), here());
      } else {
        for (; auto bytes = reader.next(); ++index) {
          auto r = codec_.decode(*bytes);
          if (r) {
            if (again) came_back.push_back(b.records.size());
            b.records.push_back(std::move(*r));
            b.positions.push_back(here());
          } else {
            letter(*bytes, r.error(), here());
          }
        }
      }
      if (reader.bad()) {
        letter(e.frame, invalid_input_error(fmt::format("queue entry {} of {} is not a framed batch", e.id, consumer_.name())), from);
      }
      ids.push_back(std::move(e.id));
    }
    if (auto left = leave_out_dead_lettered(b, came_back, stop); !left) return std::move(left).error();
    const auto last = ids.empty() ? std::string{} : ids.back();
    const auto number = consumer_.track(std::move(ids));
    b.end = position{fmt::format("{}/{}", number, last)};
    return std::optional<batch<T>>{std::move(b)};
  }

  [[nodiscard]] auto seek(const position& p) -> result<void> {
    if (p.empty()) return ok();
    return invalid_input_error("a queue source does not seek: unacknowledged entries are redelivered");
  }

 private:
  // Drops the records at `indices` that the DLQ holds. On an error nothing is tracked: the
  // entries stay pending and are reclaimed after the visibility timeout.
  auto leave_out_dead_lettered(batch<T>& b, const std::vector<std::size_t>& indices, const std::stop_token& stop)
      -> result<void> {
    if (!dead_lettered_ || indices.empty()) return ok();
    std::vector<position> asked;
    asked.reserve(indices.size());
    for (const auto i : indices) asked.push_back(b.positions[i]);
    auto held = dead_lettered_(asked, stop);
    if (!held) return std::move(held).error();
    std::vector<bool> drop(b.records.size(), false);
    for (std::size_t k = 0; k < indices.size() && k < held->size(); ++k) drop[indices[k]] = (*held)[k];
    std::size_t kept = 0;
    for (std::size_t i = 0; i < b.records.size(); ++i) {
      if (drop[i]) continue;
      if (kept != i) {
        b.records[kept] = std::move(b.records[i]);
        b.positions[kept] = std::move(b.positions[i]);
      }
      ++kept;
    }
    if (kept != b.records.size()) {
      consumer_.options().log.info("{} records of redelivered entries of {} are in the DLQ already; left out",
                                   b.records.size() - kept, consumer_.name());
    }
    b.records.erase(b.records.begin() + static_cast<std::ptrdiff_t>(kept), b.records.end());
    b.positions.erase(b.positions.begin() + static_cast<std::ptrdiff_t>(kept), b.positions.end());
    return ok();
  }

  Consumer& consumer_;
  Codec codec_;
  dead_letter_lookup dead_lettered_;
};

}  // namespace pipeline::detail
