#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/codec.hpp>
#include <pipeline/detail/frame.hpp>
#include <pipeline/result.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline::detail {

/// The sink a queue producer's run writes to: each `write` becomes one queue entry holding
/// every record encoded with `Codec` and framed (detail/frame.hpp; one batch is one message on
/// the queue), or, with the producer's `options().records_per_entry` set, entries of that many
/// records, added in one round trip. `Producer` (`redis::stream_producer`,
/// `postgres::queue_producer`) gives `add(frame, stop)`, `add_all(frames, stop)` and the three
/// ledger calls `add_committed`, `committed` and `forget`.
///
/// Contract: models `pipeline::transactional_sink` (so a producer's run may be exactly-once:
/// each batch on the queue once, across crashes); as thread-safe as the producer (both are);
/// blocking. Errors are the producer's. Records that the codec cannot encode are the codec's
/// business (record_codec encodes every record). Not a `per_record_sink`: encoding refuses
/// nothing and the queue takes an entry whole or not at all, so there is no single record to
/// refuse and `write` is already exact.
template <class T, class Codec, class Producer>
  requires codec<Codec, T>
class queue_sink {
 public:
  using value_type = T;

  explicit queue_sink(Producer& producer, Codec c = {}) : producer_(producer), codec_(std::move(c)) {}

  [[nodiscard]] auto write(std::span<const T> records, std::stop_token stop) -> result<void> {
    if (records.empty()) return ok();
    auto frames = frames_of(records);
    if (frames.size() == 1) {
      auto id = producer_.add(frames.front(), stop);
      if (!id) return std::move(id).error();
      return ok();
    }
    return producer_.add_all(frames, stop);
  }

  /// The exactly-once path (`runner_options::exactly_once`): the entries and the ledger entry
  /// in one step (`add_committed`: a Redis script, a PostgreSQL transaction).
  [[nodiscard]] auto write_committed(std::span<const T> records, const committed_batch& entry, std::stop_token stop)
      -> result<void> {
    return producer_.add_committed(records.empty() ? std::vector<std::string>{} : frames_of(records), entry, stop);
  }
  [[nodiscard]] auto committed_batches(std::string_view job, std::stop_token stop)
      -> result<std::vector<committed_batch>> {
    return producer_.committed(job, stop);
  }
  [[nodiscard]] auto forget_batches(std::string_view job, std::uint64_t run, std::uint64_t sequence,
                                    std::stop_token stop) -> result<void> {
    return producer_.forget(job, run, sequence, stop);
  }

 private:
  // The records framed: one frame, or one per `records_per_entry` records.
  [[nodiscard]] auto frames_of(std::span<const T> records) -> std::vector<std::string> {
    const auto per_entry = producer_.options().records_per_entry;
    std::vector<std::string> frames(1);
    std::string one;
    std::size_t in_frame = 0;
    for (const auto& r : records) {
      if (per_entry != 0 && in_frame == per_entry) {
        frames.emplace_back();
        in_frame = 0;
      }
      one.clear();
      codec_.encode(r, one);
      frame_append(frames.back(), one);
      ++in_frame;
    }
    return frames;
  }

  Producer& producer_;
  Codec codec_;
};

}  // namespace pipeline::detail
