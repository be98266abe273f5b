#pragma once

/// pipeline::mysql: a keyset source and a streaming cursor source, partition planners, a
/// bulk table sink (insert, INSERT IGNORE, upsert, and a write that commits a checkpoint in
/// the same transaction as its rows), a checkpoint store, a dead-letter table and a job log
/// on MySQL or MariaDB, through MariaDB Connector/C. Link `pipeline::mysql`; <mysql.h> stays
/// out of these headers. docs/adapters/mysql.md describes the tables and type mapping.

#include <pipeline/mysql/checkpoint_store.hpp>
#include <pipeline/mysql/cursor_source.hpp>
#include <pipeline/mysql/database.hpp>
#include <pipeline/mysql/dead_letter_table.hpp>
#include <pipeline/mysql/job_log.hpp>
#include <pipeline/mysql/keyset_source.hpp>
#include <pipeline/mysql/partition_planner.hpp>
#include <pipeline/mysql/table_sink.hpp>
#include <pipeline/mysql/write_mode.hpp>
