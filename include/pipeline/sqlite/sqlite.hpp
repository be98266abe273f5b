#pragma once

/// pipeline::sqlite: a table sink (insert, insert-or-ignore, upsert, and a write that commits
/// a checkpoint in the same transaction as its rows), a checkpoint store, a dead-letter table
/// and a job log, all on one shared sqlite connection. Link `pipeline::sqlite`; sqlite's own
/// header stays out of these. docs/adapters/sqlite.md describes the tables and mappings.

#include <pipeline/sqlite/checkpoint_store.hpp>
#include <pipeline/sqlite/database.hpp>
#include <pipeline/sqlite/dead_letter_table.hpp>
#include <pipeline/sqlite/job_log.hpp>
#include <pipeline/sqlite/table_sink.hpp>
#include <pipeline/sqlite/write_mode.hpp>
