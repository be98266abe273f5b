#pragma once

#include <pipeline/detail/relational/write_mode.hpp>

namespace pipeline::postgres {

/// What a `table_sink` does with a row whose PRIMARY KEY or UNIQUE key is already there.
///
/// - `insert`: the duplicate fails the batch (23505, `permanent`), so the runner dead-letters
///   it.
/// - `insert_ignore`: INSERT … ON CONFLICT DO NOTHING: the first row stays, later ones are
///   skipped. Unlike MySQL's IGNORE, every other check (NOT NULL, CHECK, types) still refuses
///   its row.
/// - `upsert`: INSERT … ON CONFLICT (key columns) DO UPDATE SET "u" = EXCLUDED."u" for each
///   update column and "a" = t."a" + EXCLUDED."a" for each add column (DO NOTHING when both
///   are empty). Needs `key_columns`, which must be a PRIMARY KEY or UNIQUE key of the table.
using write_mode = pipeline::detail::relational::write_mode;

}  // namespace pipeline::postgres
