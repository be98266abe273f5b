#pragma once

#include <pipeline/detail/relational/write_mode.hpp>

namespace pipeline::sqlite {

/// What a `table_sink` does with a row whose key is already in the table.
///
/// - `insert`: the row fails the batch (a UNIQUE or PRIMARY KEY constraint: `permanent`), so
///   the runner dead-letters it.
/// - `insert_or_ignore` (= `insert_ignore`): INSERT OR IGNORE, the first row stays and later
///   ones are skipped. Beware: sqlite's IGNORE also skips rows that break a NOT NULL or CHECK
///   constraint, silently. For "insert if absent" prefer `upsert` with no update or add
///   columns (ON CONFLICT … DO NOTHING), which skips only rows whose key exists and fails on
///   every other constraint.
/// - `upsert`: INSERT … ON CONFLICT (key_columns) DO UPDATE SET "u" = excluded."u" for each
///   update column and "a" = "a" + excluded."a" for each add column (DO NOTHING when both are
///   empty).
using write_mode = pipeline::detail::relational::write_mode;

}  // namespace pipeline::sqlite
