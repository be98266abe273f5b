#include <pipeline/sqlite/database.hpp>

#include <climits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "connection.hpp"

namespace pipeline::sqlite {

database::database(std::string path, std::unique_ptr<detail::connection> connection) noexcept
    : path_(std::move(path)), connection_(std::move(connection)) {}

database::~database() = default;

auto database::open(std::string path, const database_options& options) -> result<std::shared_ptr<database>> {
  if (path.empty()) {
    throw std::invalid_argument("sqlite::database::open: path is empty (\":memory:\" names an in-memory database)");
  }
  if (path.find('\0') != std::string::npos) throw std::invalid_argument("sqlite::database::open: path holds a NUL");
  if (options.busy_timeout.count() < 0 || options.busy_timeout.count() > INT_MAX) {
    throw std::invalid_argument("sqlite::database::open: options.busy_timeout must be 0 to INT_MAX milliseconds");
  }
  auto connection = detail::connection::open(path, options);
  if (!connection) return std::move(connection).error();
  return std::shared_ptr<database>(new database(std::move(path), std::move(*connection)));
}

auto execute(database& db, std::string_view sql) -> result<void> {
  detail::session s{db};
  return s.execute(sql);
}

auto query_int64(database& db, std::string_view sql) -> result<std::vector<std::int64_t>> {
  detail::session s{db};
  auto st = s.prepare(sql);
  if (!st) return std::move(st).error();
  auto row = st->step("query");
  if (!row) return std::move(row).error();
  if (!*row) return not_found_error(fmt::format("query returned no row: {}", sql));
  std::vector<std::int64_t> values;
  for (int c = 0; c < st->column_count(); ++c) values.push_back(st->column_int64(c));
  st->reset();
  return values;
}

}  // namespace pipeline::sqlite
