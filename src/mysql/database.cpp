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
      outage_(fmt::format("mysql: {}:{}", endpoint_.host, endpoint_.port)) {}

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

namespace detail {

auto database_access::borrow(database& db, const std::stop_token& stop) -> result<lease> {
  return pipeline::detail::wait_out(db.outage_, db.options_.outage_budget, db.options_.reconnect, db.options_.log,
                                    stop, [&] { return borrow_once(db); }, is_outage);
}

auto database_access::borrow_once(database& db) -> result<lease> {
  {
    std::lock_guard lock{db.mutex_};
    if (!db.idle_.empty()) {
      auto c = std::move(db.idle_.back());
      db.idle_.pop_back();
      return lease{db, std::move(c)};
    }
  }
  auto c = connection::open(db.endpoint_, db.options_);
  if (!c) return std::move(c).error();
  return lease{db, std::move(*c)};
}

void database_access::give_back(database& db, std::unique_ptr<connection> c) noexcept {
  if (c->broken()) {
    // Closed here, and the idle ones with it: a server that restarted ended them all, and each
    // would cost its next user a failed statement. The next borrow opens a fresh one.
    std::vector<std::unique_ptr<connection>> idle;
    {
      std::lock_guard lock{db.mutex_};
      idle.swap(db.idle_);
    }
    return;  // closed outside the lock
  }
  std::lock_guard lock{db.mutex_};
  if (db.idle_.size() < db.options_.max_idle_connections) {
    try {
      db.idle_.push_back(std::move(c));
    } catch (...) {  // no memory for the slot: close it instead
    }
  }
}

auto database_access::open_dedicated(database& db, const std::stop_token& stop)
    -> result<std::unique_ptr<connection>> {
  return pipeline::detail::wait_out(db.outage_, db.options_.outage_budget, db.options_.reconnect, db.options_.log,
                                    stop, [&] { return connection::open(db.endpoint_, db.options_); }, is_outage);
}

}  // namespace detail

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
