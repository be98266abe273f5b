#pragma once

// The checks of what users hand the constructors of pipeline::sqlite, done before any SQL is
// built or sent: misuse throws std::invalid_argument naming the argument.

#include <memory>
#include <string>
#include <string_view>

#include <pipeline/sqlite/database.hpp>

namespace pipeline::sqlite::detail {

/// Throws std::invalid_argument ("<what>: db is null") when `db` is null.
void require_database(const std::shared_ptr<database>& db, std::string_view what);

/// `name` double-quoted for SQL ("orders" → "\"orders\""), after checking that it is an
/// identifier: [A-Za-z_][A-Za-z0-9_]{0,63}. Anything else (empty, a quote, a space, a ';',
/// a NUL, non-ASCII) throws std::invalid_argument naming `what` ("sqlite::table_sink:
/// options.table") and showing the name escaped. Called before any SQL is built from a name.
[[nodiscard]] auto quoted_identifier(std::string_view name, std::string_view what) -> std::string;

}  // namespace pipeline::sqlite::detail
