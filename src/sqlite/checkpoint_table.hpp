#pragma once

// The checkpoint table, shared by checkpoint_store and by table_sink::write_with_checkpoint,
// so that both fence the same rows with the same statements:
//   <table>("key" TEXT PRIMARY KEY, "position" BLOB NOT NULL, "version" INTEGER NOT NULL,
//           "updated_at" TEXT)
// `table` is a quoted identifier. Each function runs in the caller's session, inside the
// caller's transaction when there is one.

#include <cstdint>
#include <string_view>

#include <pipeline/checkpoint.hpp>
#include <pipeline/position.hpp>
#include <pipeline/result.hpp>

#include "connection.hpp"

namespace pipeline::sqlite::detail {

/// CREATE TABLE IF NOT EXISTS.
[[nodiscard]] auto create_checkpoint_table(session& s, std::string_view table) -> result<void>;

/// The stored checkpoint, or version 0 and an empty position.
[[nodiscard]] auto load_checkpoint(session& s, std::string_view table, std::string_view key) -> result<checkpoint>;

/// Stores `pos` as version `expected_version + 1` if the stored version is `expected_version`
/// (0: no row yet), in one statement; otherwise a `conflict` error and nothing changed.
[[nodiscard]] auto save_checkpoint(session& s, std::string_view table, std::string_view key, const position& pos,
                                   std::uint64_t expected_version) -> result<std::uint64_t>;

}  // namespace pipeline::sqlite::detail
