#pragma once

#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include <pipeline/codec.hpp>
#include <pipeline/record.hpp>
#include <pipeline/redis/detail/frame.hpp>
#include <pipeline/redis/stream_producer.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>

namespace pipeline::redis {

/// The sink a producer's run writes to: each `write` becomes one stream entry holding every
/// record encoded with `Codec` (one batch is one message on the queue), or, with the
/// producer's `records_per_entry` set, entries of that many records, added in one round trip.
///
/// Contract: models `pipeline::sink`; as thread-safe as the producer (it is); blocking.
/// Errors are the producer's. Records that the codec cannot encode are the codec's business
/// (record_codec encodes every record). Not a `per_record_sink`: encoding refuses nothing and
/// the stream takes an entry whole or not at all, so there is no single record to refuse and
/// `write` is already exact.
///
///     auto producer = pipeline::redis::stream_producer::open(client, {.stream = "{orders}:q"}).value();
///     pipeline::redis::stream_sink<pipeline::record> sink{producer};
template <class T, class Codec = record_codec>
  requires codec<Codec, T>
class stream_sink {
 public:
  using value_type = T;

  explicit stream_sink(stream_producer& producer, Codec c = {}) : producer_(producer), codec_(std::move(c)) {}

  [[nodiscard]] auto write(std::span<const T> records, std::stop_token stop) -> result<void> {
    if (records.empty()) return ok();
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
      detail::frame_append(frames.back(), one);
      ++in_frame;
    }
    if (frames.size() == 1) {
      auto id = producer_.add(frames.front(), stop);
      if (!id) return std::move(id).error();
      return ok();
    }
    return producer_.add_all(frames, stop);
  }

 private:
  stream_producer& producer_;
  Codec codec_;
};

static_assert(pipeline::sink<stream_sink<record>>);

}  // namespace pipeline::redis
