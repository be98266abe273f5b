#pragma once

#include <pipeline/postgres/queue_consumer.hpp>
#include <pipeline/postgres/queue_producer.hpp>
#include <pipeline/queue_roles.hpp>

namespace pipeline::postgres {

/// The queue's roles are the generic ones (pipeline/queue_roles.hpp) over `queue_producer`
/// and `queue_consumer`; docs/adapters/postgres.md says what is particular to this queue (a
/// claim's visibility timeout, which DLQ offers `holds`).
///
///     auto report = pipeline::postgres::run_worker<pipeline::record>(*consumer, transform, sink, dlq, {.workers = 4});
using pipeline::queue_depth_function;
using pipeline::run_producer;
using pipeline::run_worker;

static_assert(pipeline::entry_producer<queue_producer> && pipeline::entry_consumer<queue_consumer>);

}  // namespace pipeline::postgres
