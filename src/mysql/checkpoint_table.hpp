#pragma once

// The checkpoint table, shared by checkpoint_store and table_sink::write_with_checkpoint so
// that both fence the same rows with the same statements. `table` is quoted. Each function
// runs on the caller's connection, inside its transaction when there is one.

#include <cstdint>
#include <string_view>

#include <pipeline/checkpoint.hpp>
#include <pipeline/position.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>

#include "connection.hpp"

namespace pipeline::mysql::detail {

[[nodiscard]] auto create_checkpoint_table(connection& c, std::string_view table) -> result<void>;
[[nodiscard]] auto load_checkpoint(connection& c, std::string_view table, std::string_view key)
    -> result<checkpoint>;
/// What a save did: the new version, and whether this call stored it or found it stored.
struct saved_checkpoint {
  std::uint64_t version = 0;
  /// The row already held `pos` at `expected_version + 1`: an earlier attempt of this same
  /// save landed although its reply was lost (a connection killed during COMMIT). The save
  /// is done; a transaction that carried rows with it must not write them again.
  bool already_stored = false;
};

/// Stores `pos` as version `expected_version + 1` if the stored version is `expected_version`
/// (0: no row yet), in one statement; otherwise `conflict` and nothing changed, unless the
/// stored row is exactly what this save stores (see `already_stored`).
[[nodiscard]] auto save_checkpoint(connection& c, std::string_view table, std::string_view key, const position& pos,
                                   std::uint64_t expected_version) -> result<saved_checkpoint>;

/// A byte column read back as text (VARBINARY and BLOB columns arrive as bytes).
[[nodiscard]] auto text_of(const value* v) -> std::string;

}  // namespace pipeline::mysql::detail
