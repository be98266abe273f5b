#pragma once

// How the stores open: check what they were given, then create their table.

#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <pipeline/mysql/database.hpp>
#include <pipeline/result.hpp>

#include "connection.hpp"

namespace pipeline::mysql::detail {

/// Checks `db` and the table name (std::invalid_argument naming `who`, before any SQL is
/// sent), then runs `create(connection, quoted_table)`. Returns the quoted name.
template <class Create>
[[nodiscard]] auto create_store_table(const std::shared_ptr<database>& db, std::string_view table,
                                      std::string_view who, Create&& create) -> result<std::string> {
  require_database(db, who);
  auto quoted = quoted_identifier(table, fmt::format("{}: options.table", who));
  auto c = database_access::borrow(*db);
  if (!c) return std::move(c).error();
  if (auto created = create(**c, std::as_const(quoted)); !created) return std::move(created).error();
  return quoted;
}

}  // namespace pipeline::mysql::detail
