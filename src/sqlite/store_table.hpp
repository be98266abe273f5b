#pragma once

// How the stores (checkpoint_store, dead_letter_table, job_log) open: check what they were
// given, then create their table.

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include <pipeline/result.hpp>
#include <pipeline/sqlite/database.hpp>

#include "arguments.hpp"
#include "connection.hpp"

namespace pipeline::sqlite::detail {

/// Checks `db` and the table name (throwing std::invalid_argument naming `who` before any SQL
/// is sent), then runs `create(session, quoted_table)`, the store's CREATE … IF NOT EXISTS.
/// Returns the quoted table name, or the error of `create`.
template <class Create>
[[nodiscard]] auto create_store_table(const std::shared_ptr<database>& db, std::string_view table,
                                      std::string_view who, Create&& create) -> result<std::string> {
  require_database(db, who);
  auto quoted = quoted_identifier(table, fmt::format("{}: options.table", who));
  session s{*db};
  if (auto created = create(s, std::as_const(quoted)); !created) return std::move(created).error();
  return quoted;
}

}  // namespace pipeline::sqlite::detail
