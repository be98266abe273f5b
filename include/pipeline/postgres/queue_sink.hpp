#pragma once

#include <pipeline/codec.hpp>
#include <pipeline/detail/queue_sink.hpp>
#include <pipeline/postgres/queue_producer.hpp>
#include <pipeline/record.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline::postgres {

/// The sink a producer's run writes to: each `write` becomes one queue entry (a row) holding
/// every record encoded with `Codec` (one batch is one message on the queue), or, with the
/// producer's `records_per_entry` set, entries of that many records, added in one statement;
/// the queue sink every adapter's queue shares (`pipeline::detail::queue_sink`).
///
/// Contract: models `pipeline::transactional_sink` (a producer's run may be exactly-once: each
/// batch's entries and its ledger row commit in one transaction); as thread-safe as the
/// producer (it is); blocking.
///
///     auto producer = pipeline::postgres::queue_producer::open(db, {.table = "orders_queue"}).value();
///     pipeline::postgres::queue_sink<pipeline::record> sink{producer};
template <class T, class Codec = record_codec>
using queue_sink = pipeline::detail::queue_sink<T, Codec, queue_producer>;

static_assert(pipeline::transactional_sink<queue_sink<record>>);

}  // namespace pipeline::postgres
