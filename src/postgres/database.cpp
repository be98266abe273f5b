#include <pipeline/postgres/database.hpp>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "connection.hpp"

namespace pipeline::postgres {
namespace {

[[noreturn]] void malformed(std::string_view why) {
  throw std::invalid_argument(
      fmt::format("postgres URI: {} (expected postgresql://user:password@host:port/db?sslmode=…)", why));
}

// The owner of what PQconninfoParse returns.
struct conninfo_deleter {
  void operator()(PQconninfoOption* o) const noexcept { PQconninfoFree(o); }
};

auto parse_milliseconds(std::string_view text, std::string_view what) -> std::chrono::milliseconds {
  std::int64_t ms = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec != std::errc{} || end != text.data() + text.size() || ms < 0) {
    malformed(fmt::format("{} '{}' is not a number of milliseconds", what, text));
  }
  return std::chrono::milliseconds{ms};
}

// `uri` without this library's own parameter (`outage-budget-ms`), which libpq would refuse,
// its value given to `options`.
auto without_own_parameters(std::string_view uri, database_options& options) -> std::string {
  const auto q = uri.find('?');
  if (q == std::string_view::npos) return std::string(uri);
  std::string out{uri.substr(0, q)};
  std::string_view query = uri.substr(q + 1);
  char separator = '?';
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    constexpr std::string_view budget = "outage-budget-ms=";
    if (pair.starts_with(budget)) {
      options.outage_budget = parse_milliseconds(pair.substr(budget.size()), "outage-budget-ms");
      continue;
    }
    out += separator;
    out += pair;
    separator = '&';
  }
  return out;
}

// The URI as libpq keywords and values, checked, with the session settings this library
// relies on.
auto conninfo_of(std::string_view uri, database_options& options, endpoint& where)
    -> std::vector<std::pair<std::string, std::string>> {
  if (!uri.starts_with("postgresql://") && !uri.starts_with("postgres://")) {
    malformed("it does not start with postgresql:// or postgres://");
  }
  const auto text = without_own_parameters(uri, options);
  char* why = nullptr;
  std::unique_ptr<PQconninfoOption, conninfo_deleter> parsed{PQconninfoParse(text.c_str(), &why)};
  if (parsed == nullptr) {
    std::string message = why != nullptr ? why : "out of memory";
    PQfreemem(why);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    malformed(message);
  }
  std::vector<std::pair<std::string, std::string>> conninfo;
  std::string session_options;
  bool has_connect_timeout = false;
  for (const auto* o = parsed.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view key = o->keyword;
    const std::string_view val = o->val;
    if (key == "user") where.user = val;
    else if (key == "host") where.host = val;
    else if (key == "dbname") where.database = val;
    else if (key == "port") {
      unsigned port = 0;
      auto [end, ec] = std::from_chars(val.data(), val.data() + val.size(), port);
      if (ec != std::errc{} || end != val.data() + val.size() || port == 0 || port > 65535) {
        malformed(fmt::format("port '{}' is not 1-65535", val));
      }
      where.port = static_cast<std::uint16_t>(port);
    } else if (key == "sslmode") {
      constexpr std::array<std::string_view, 6> modes{"disable", "allow",     "prefer",
                                                      "require", "verify-ca", "verify-full"};
      if (std::find(modes.begin(), modes.end(), val) == modes.end()) {
        malformed(fmt::format("sslmode '{}' is not one of disable, allow, prefer, require, verify-ca, verify-full", val));
      }
      where.sslmode = val;
    } else if (key == "connect_timeout") {
      has_connect_timeout = true;
      int seconds = -1;
      auto [end, ec] = std::from_chars(val.data(), val.data() + val.size(), seconds);
      if (ec != std::errc{} || end != val.data() + val.size() || seconds < 0) {
        malformed(fmt::format("connect_timeout '{}' is not a number of seconds", val));
      }
    } else if (key == "options") {
      session_options = val;  // the user's own, before ours
      continue;
    }
    conninfo.emplace_back(key, val);
  }
  if (!has_connect_timeout) conninfo.emplace_back("connect_timeout", std::to_string(options.connect_timeout.count()));
  conninfo.emplace_back("client_encoding", "UTF8");
  session_options += fmt::format(" -c TimeZone=UTC -c DateStyle=ISO -c statement_timeout={}",
                                 options.statement_timeout.count());
  conninfo.emplace_back("options", std::move(session_options));
  return conninfo;
}

}  // namespace

auto sqlstate_code(std::string_view sqlstate) noexcept -> std::int64_t {
  if (sqlstate.size() != 5) return 0;
  std::int64_t code = 0;
  for (std::size_t i = 0; i < 5; ++i) code |= static_cast<std::int64_t>((sqlstate[i] - '0') & 0x3f) << (6 * i);
  return code;
}

database::database(endpoint where, std::vector<std::pair<std::string, std::string>> conninfo,
                   database_options options)
    : endpoint_(std::move(where)),
      conninfo_(std::move(conninfo)),
      pool_(fmt::format("postgres: {}:{}", endpoint_.host, endpoint_.port), options.max_idle_connections,
            {options.outage_budget, options.reconnect, std::move(options.log)}) {}

database::~database() = default;

auto database::open(std::string_view uri, const database_options& options) -> result<std::shared_ptr<database>> {
  if (options.connect_timeout.count() < 0 || options.statement_timeout.count() < 0) {
    throw std::invalid_argument("postgres::database::open: a timeout is negative");
  }
  database_options with_uri = options;
  endpoint where;
  auto conninfo = conninfo_of(uri, with_uri, where);
  if (with_uri.outage_budget.count() < 0) {
    throw std::invalid_argument("postgres::database::open: outage_budget is negative");
  }
  validate(with_uri.reconnect);
  std::shared_ptr<database> db{new database(std::move(where), std::move(conninfo), std::move(with_uri))};
  // One connection now, so that a wrong host or password fails here; it stays in the pool.
  auto first = detail::database_access::borrow(*db);
  if (!first) return std::move(first).error();
  return db;
}

namespace detail {

auto database_access::open(database& db) -> result<std::unique_ptr<connection>> {
  return connection::open(db.conninfo_, fmt::format("{}:{}", db.endpoint_.host, db.endpoint_.port));
}

}  // namespace detail

auto execute(database& db, std::string_view sql) -> result<void> {
  auto c = detail::database_access::borrow(db);
  if (!c) return std::move(c).error();
  return (*c)->execute(sql);
}

auto query_int64(database& db, std::string_view sql) -> result<std::vector<std::optional<std::int64_t>>> {
  // Run again on a new connection when the one it ran on was lost: the caller promises a read.
  auto rows = detail::database_access::read(db, {}, [&](detail::connection& c) { return c.query(sql, nullptr, sql); });
  if (!rows) return std::move(rows).error();
  PGresult* r = rows->get();
  if (PQntuples(r) == 0) return not_found_error(fmt::format("query returned no row: {}", sql));
  std::vector<std::optional<std::int64_t>> out;
  for (int column = 0; column < PQnfields(r); ++column) {
    if (PQgetisnull(r, 0, column) != 0) {
      out.emplace_back();
      continue;
    }
    const std::string_view text{PQgetvalue(r, 0, column), static_cast<std::size_t>(PQgetlength(r, 0, column))};
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size()) {
      return permanent_error(fmt::format("query column {} is '{}', not an integer: {}", PQfname(r, column), text, sql));
    }
    out.emplace_back(n);
  }
  return out;
}

}  // namespace pipeline::postgres
