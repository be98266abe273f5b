#pragma once

#include <cstdint>

namespace pipeline::detail::relational {

/// What a `table_sink` does with a row whose PRIMARY KEY or UNIQUE key is already there. The
/// adapter's header says how its database spells each mode and what its IGNORE skips.
enum class write_mode : std::uint8_t {
  /// INSERT: the duplicate fails the batch (`permanent`), so the runner dead-letters it. Not
  /// idempotent: use it where keys cannot repeat, or with write_with_checkpoint.
  insert,
  /// INSERT OR IGNORE (sqlite), INSERT IGNORE (MySQL): the first row stays, later ones are
  /// skipped, and so are some rows that break other constraints: prefer `upsert` with no
  /// update or add columns for "insert if absent".
  insert_ignore,
  insert_or_ignore = insert_ignore,  ///< sqlite's name for `insert_ignore`
  /// INSERT … on a duplicate key: set each update column to the new row's value and add the
  /// new row's value to each add column (nothing changes when both are empty). Idempotent
  /// with update columns only; add columns count a batch written twice twice (use
  /// write_with_checkpoint for those).
  upsert,
};

}  // namespace pipeline::detail::relational
