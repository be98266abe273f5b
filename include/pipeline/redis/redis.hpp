#pragma once

/// pipeline::redis: the distributed queue on a Redis stream (producer and worker roles over
/// the core runner), and Redis-backed stores: checkpoints with fencing, a dead-letter stream,
/// a job log, coalescing counters and a shared token-bucket rate limiter. Link
/// `pipeline::redis`; hiredis stays out of these headers. docs/adapters/redis.md has the details.

#include <pipeline/redis/checkpoint_store.hpp>
#include <pipeline/redis/client.hpp>
#include <pipeline/redis/counter_store.hpp>
#include <pipeline/redis/dead_letter_stream.hpp>
#include <pipeline/redis/job_log.hpp>
#include <pipeline/redis/rate_limiter.hpp>
#include <pipeline/redis/roles.hpp>
#include <pipeline/redis/stream_consumer.hpp>
#include <pipeline/redis/stream_options.hpp>
#include <pipeline/redis/stream_producer.hpp>
