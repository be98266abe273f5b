#pragma once

/// pipeline::postgres: a keyset source, a bulk table sink (insert, ON CONFLICT DO NOTHING,
/// upsert, a write that commits a checkpoint in the same transaction as its rows, and
/// exactly-once batches), a checkpoint store, a dead-letter table, a job log and a distributed
/// queue (SKIP LOCKED claims, LISTEN/NOTIFY; `run_producer`/`run_worker`) on
/// PostgreSQL, through libpq. Link
/// `pipeline::postgres`; <libpq-fe.h> stays out of these headers. docs/adapters/postgres.md
/// describes the tables and type mapping.

#include <pipeline/postgres/acknowledging_table_sink.hpp>
#include <pipeline/postgres/checkpoint_store.hpp>
#include <pipeline/postgres/cursor_source.hpp>
#include <pipeline/postgres/database.hpp>
#include <pipeline/postgres/dead_letter_table.hpp>
#include <pipeline/postgres/job_log.hpp>
#include <pipeline/postgres/keyset_source.hpp>
#include <pipeline/postgres/partition_planner.hpp>
#include <pipeline/postgres/queue_consumer.hpp>
#include <pipeline/postgres/queue_producer.hpp>
#include <pipeline/postgres/roles.hpp>
#include <pipeline/postgres/table_sink.hpp>
#include <pipeline/postgres/write_mode.hpp>
