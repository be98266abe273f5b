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
/// Stores `pos` as version `expected_version + 1` if the stored version is `expected_version`
/// (0: no row yet), in one statement; otherwise `conflict` and nothing changed.
[[nodiscard]] auto save_checkpoint(connection& c, std::string_view table, std::string_view key, const position& pos,
                                   std::uint64_t expected_version) -> result<std::uint64_t>;

/// A byte column read back as text (VARBINARY and BLOB columns arrive as bytes).
[[nodiscard]] auto text_of(const value* v) -> std::string;

}  // namespace pipeline::mysql::detail
