#pragma once

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <pipeline/batch.hpp>
#include <pipeline/codec.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/record.hpp>
#include <pipeline/redis/detail/frame.hpp>
#include <pipeline/redis/stream_consumer.hpp>
#include <pipeline/result.hpp>
#include <pipeline/source.hpp>

namespace pipeline::redis {

/// The source a worker's run reads: the entries a `stream_consumer` receives, decoded with
/// `Codec`, one batch per read.
///
/// Records that do not decode, and the records of an entry delivered more than
/// `max_deliveries` times (a poison record that crashes or stalls workers: reclaimed entries
/// are split into one entry per record, see `stream_consumer`), become the batch's rejected
/// dead letters: the runner stores them in its DLQ and then, as for any batch, the
/// checkpoint (`stream_acks`) acknowledges the entry. A batch's `end` is
/// "<tracking number>/<last entry id>"; the tracking number is this consumer's own.
/// `seek` accepts only the empty position: a worker never resumes from a position, the group
/// redelivers what was not acknowledged. So `batch::positions` names records rather than
/// places to seek to: `positions[i]` is "<entry id>#<index>", where `records[i]` was first
/// added (`stream_entry::origin`), and the rejected letters above carry the same. It stays
/// the same when the entry is redelivered to another worker or split after a crash, so a
/// record dead-lettered before a crash and again after it has one identity, and a DLQ that
/// stores each letter once (`redis::dead_letter_stream`, the DLQ tables) keeps one entry.
///
/// Contract: models `pipeline::seekable_source`; one thread at a time (the runner's reader).
template <class T, class Codec = record_codec>
  requires codec<Codec, T>
class stream_source {
 public:
  using value_type = T;

  explicit stream_source(stream_consumer& consumer, Codec c = {}) : consumer_(consumer), codec_(std::move(c)) {}

  [[nodiscard]] auto next_batch(std::stop_token stop) -> result<std::optional<batch<T>>> {
    auto entries = consumer_.read(stop);
    if (!entries) return std::move(entries).error();
    if (!*entries) return std::optional<batch<T>>{};
    batch<T> b;
    std::vector<std::string> ids;
    const auto now = std::chrono::system_clock::now();
    const auto max = consumer_.options().max_deliveries;
    for (auto& e : **entries) {
      const position from{e.id};
      std::size_t index = e.origin_index;  // of the next record in the entry
      const auto here = [&] { return position{fmt::format("{}#{}", e.origin, index)}; };
      const auto letter = [&](std::string_view bytes, error reason, position at) {
        b.rejected.push_back({std::string(bytes), std::move(reason), static_cast<std::uint32_t>(e.deliveries),
                              std::move(at), 0, now});
      };
      detail::frame_reader reader{e.frame};
      if (!e.framed) {
        letter("", invalid_input_error(fmt::format("stream entry {} has no batch field 'b'", e.id)), from);
      } else if (e.deliveries > max) {
        const auto why = fmt::format("stream entry {} was delivered {} times without being acknowledged (more than "
                                     "max_deliveries {}): a worker crashed or timed out on it each time",
                                     e.id, e.deliveries, max);
        for (; auto bytes = reader.next(); ++index) letter(*bytes, permanent_error(why), here());
      } else {
        for (; auto bytes = reader.next(); ++index) {
          auto r = codec_.decode(*bytes);
          if (r) {
            b.records.push_back(std::move(*r));
            b.positions.push_back(here());
          } else {
            letter(*bytes, r.error(), here());
          }
        }
      }
      if (reader.bad()) {
        letter(e.frame, invalid_input_error(fmt::format("stream entry {} is not a framed batch", e.id)), from);
      }
      ids.push_back(std::move(e.id));
    }
    const auto last = ids.empty() ? std::string{} : ids.back();
    const auto number = consumer_.track(std::move(ids));
    b.end = position{fmt::format("{}/{}", number, last)};
    return std::optional<batch<T>>{std::move(b)};
  }

  [[nodiscard]] auto seek(const position& p) -> result<void> {
    if (p.empty()) return ok();
    return invalid_input_error("a redis stream_source does not seek: unacknowledged entries are redelivered");
  }

 private:
  stream_consumer& consumer_;
  Codec codec_;
};

static_assert(pipeline::seekable_source<stream_source<record>>);

}  // namespace pipeline::redis
