#pragma once

#include <pipeline/codec.hpp>
#include <pipeline/detail/queue_sink.hpp>
#include <pipeline/record.hpp>
#include <pipeline/redis/stream_producer.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline::redis {

/// The sink a producer's run writes to: each `write` becomes one stream entry holding every
/// record encoded with `Codec` (one batch is one message on the queue), or, with the
/// producer's `records_per_entry` set, entries of that many records, added in one round trip;
/// the queue sink every adapter's queue shares (`pipeline::detail::queue_sink`).
///
/// Contract: models `pipeline::transactional_sink` (so a producer's run may be exactly-once:
/// each batch on the stream once, across crashes, the entries and the ledger entry in one
/// script); as thread-safe as the producer (it is); blocking.
///
///     auto producer = pipeline::redis::stream_producer::open(client, {.stream = "{orders}:q"}).value();
///     pipeline::redis::stream_sink<pipeline::record> sink{producer};
template <class T, class Codec = record_codec>
using stream_sink = pipeline::detail::queue_sink<T, Codec, stream_producer>;

static_assert(pipeline::transactional_sink<stream_sink<record>>);

}  // namespace pipeline::redis
