#pragma once

/// Everything in pipeline's core, for those who prefer one include. Adapters that need a
/// client library have their own umbrella (`pipeline/redis/redis.hpp`, …); the contract
/// suites for tests are in `pipeline/testing/testing.hpp`.

#include <pipeline/any_checkpoint_store.hpp>
#include <pipeline/any_dead_letter_sink.hpp>
#include <pipeline/any_job_log_store.hpp>
#include <pipeline/any_queue.hpp>
#include <pipeline/any_sink.hpp>
#include <pipeline/any_source.hpp>
#include <pipeline/autoscaler.hpp>
#include <pipeline/backoff.hpp>
#include <pipeline/basic_dead_letter_store.hpp>
#include <pipeline/batch.hpp>
#include <pipeline/batched.hpp>
#include <pipeline/checkpoint.hpp>
#include <pipeline/clock.hpp>
#include <pipeline/codec.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/dead_letter_sharing_sink.hpp>
#include <pipeline/dead_letter_store.hpp>
#include <pipeline/error.hpp>
#include <pipeline/generator.hpp>
#include <pipeline/job_log.hpp>
#include <pipeline/job_run.hpp>
#include <pipeline/limited_sink.hpp>
#include <pipeline/log.hpp>
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/memory_job_log.hpp>
#include <pipeline/memory/memory_sink.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/metrics.hpp>
#include <pipeline/mpmc_queue.hpp>
#include <pipeline/partition.hpp>
#include <pipeline/payload.hpp>
#include <pipeline/position.hpp>
#include <pipeline/progress.hpp>
#include <pipeline/queue.hpp>
#include <pipeline/queue_status.hpp>
#include <pipeline/rate_limiter.hpp>
#include <pipeline/record.hpp>
#include <pipeline/record_mapping.hpp>
#include <pipeline/replay.hpp>
#include <pipeline/result.hpp>
#include <pipeline/run_partitions.hpp>
#include <pipeline/retry.hpp>
#include <pipeline/runner.hpp>
#include <pipeline/schedule.hpp>
#include <pipeline/scheduler.hpp>
#include <pipeline/sink.hpp>
#include <pipeline/size_or_time_batches.hpp>
#include <pipeline/source.hpp>
#include <pipeline/supervisor.hpp>
#include <pipeline/transactional_sink.hpp>
#include <pipeline/version.hpp>
