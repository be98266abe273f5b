#pragma once

#include <pipeline/detail/relational/write_mode.hpp>

namespace pipeline::mysql {

/// What a `table_sink` does with a row whose PRIMARY KEY or UNIQUE key is already there.
///
/// - `insert`: the duplicate fails the batch (1062, `permanent`), so the runner dead-letters
///   it.
/// - `insert_ignore`: INSERT IGNORE, the first row stays, later ones are skipped. Beware:
///   MySQL's IGNORE also turns other errors (a value too long, a NULL into NOT NULL) into
///   warnings and stores a cut or default value. For "insert if absent" with every other
///   check kept, prefer `upsert` with no update or add columns.
/// - `upsert`: INSERT … ON DUPLICATE KEY UPDATE `u` = VALUES(`u`) for each update column and
///   `a` = `a` + VALUES(`a`) for each add column (`k` = `k`, the first key column or else the
///   first column, when both are empty: nothing changes).
using write_mode = pipeline::detail::relational::write_mode;

}  // namespace pipeline::mysql
