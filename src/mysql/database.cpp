#include <pipeline/mysql/database.hpp>

#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "connection.hpp"
#include "row_reader.hpp"

namespace pipeline::mysql {

database::database(endpoint where, database_options options)
    : endpoint_(std::move(where)),
      options_(std::move(options)),
      pool_(fmt::format("mysql: {}:{}", endpoint_.host, endpoint_.port), options_.max_idle_connections,
            {options_.outage_budget, options_.reconnect, options_.log}) {}

database::~database() = default;

auto database::open(std::string_view uri, const database_options& options) -> result<std::shared_ptr<database>> {
  if (options.connect_timeout.count() < 0 || options.read_timeout.count() < 0 || options.write_timeout.count() < 0) {
    throw std::invalid_argument("mysql::database::open: a timeout is negative");
  }
  database_options with_uri = options;
  auto where = endpoint::parse(uri, &with_uri);
  if (with_uri.outage_budget.count() < 0) throw std::invalid_argument("mysql::database::open: outage_budget is negative");
  validate(with_uri.reconnect);
  std::shared_ptr<database> db{new database(std::move(where), std::move(with_uri))};
  // One connection now, so that a wrong host or password fails here; it stays in the pool.
  auto first = detail::database_access::borrow(*db);
  if (!first) return std::move(first).error();
  return db;
}

auto execute(database& db, std::string_view sql) -> result<void> {
  auto c = detail::database_access::borrow(db);
  if (!c) return std::move(c).error();
  return (*c)->execute(sql);
}

auto query_int64(database& db, std::string_view sql) -> result<std::vector<std::optional<std::int64_t>>> {
  // Run again on a new connection when the one it ran on was lost: the caller promises a read.
  auto rows = detail::database_access::read(db, {}, [&](detail::connection& c) { return detail::query_records(c, sql, 1); });
  if (!rows) return std::move(rows).error();
  if (rows->empty()) return not_found_error(fmt::format("query returned no row: {}", sql));
  std::vector<std::optional<std::int64_t>> out;
  for (const auto& [name, v] : rows->front()) {
    if (v.is_null()) out.emplace_back();
    else if (const auto* i = v.get_if<std::int64_t>()) out.emplace_back(*i);
    else if (const auto* s = v.get_if<std::string>()) {
      // DECIMAL results (SUM of integers) arrive as text.
      std::int64_t n = 0;
      try {
        std::size_t used = 0;
        n = std::stoll(*s, &used);
        if (used != s->size()) throw std::invalid_argument("not whole");
      } catch (const std::exception&) {
        return permanent_error(fmt::format("query column {} is {}, not an integer: {}", name, v, sql));
      }
      out.emplace_back(n);
    } else {
      return permanent_error(fmt::format("query column {} is {}, not an integer: {}", name, v, sql));
    }
  }
  return out;
}

}  // namespace pipeline::mysql
