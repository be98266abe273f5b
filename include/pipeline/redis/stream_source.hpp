#pragma once

#include <pipeline/codec.hpp>
#include <pipeline/detail/queue_source.hpp>
#include <pipeline/record.hpp>
#include <pipeline/redis/stream_consumer.hpp>
#include <pipeline/source.hpp>

namespace pipeline::redis {

/// The source a worker's run reads: the entries a `stream_consumer` receives, decoded with
/// `Codec`, one batch per read; the queue source every adapter's queue shares
/// (`pipeline::detail::queue_source`, which says what a batch holds, how entries delivered more
/// than `max_deliveries` times are dead-lettered and how `skip_dead_lettered` keeps a record out
/// of both the sink and the DLQ).
///
/// Contract: models `pipeline::seekable_source`; one thread at a time (the runner's reader).
template <class T, class Codec = record_codec>
using stream_source = pipeline::detail::queue_source<T, Codec, stream_consumer>;

static_assert(pipeline::seekable_source<stream_source<record>>);

}  // namespace pipeline::redis
