#include <pipeline/postgres/keyset_source.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>


#include "connection.hpp"
#include "relational/keyset_source.hpp"

namespace pipeline::postgres {
namespace {

// The highest $n of a filter outside quoted strings and names: the parameters it takes.
auto highest_parameter(std::string_view sql) -> std::size_t {
  std::size_t highest = 0;
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: the same to us
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '$' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1])) != 0) {
      std::size_t n = 0;
      auto [end, ec] = std::from_chars(sql.data() + i + 1, sql.data() + sql.size(), n);
      if (ec == std::errc{}) highest = std::max(highest, n);
      i = static_cast<std::size_t>(end - sql.data()) - 1;
    }
  }
  return highest;
}

// Type OIDs of pg_type.h that map to a value other than text.
enum : Oid {
  bool_oid = 16, bytea_oid = 17, int8_oid = 20, int2_oid = 21, int4_oid = 23, oid_oid = 26,
  float4_oid = 700, float8_oid = 701, date_oid = 1082, timestamp_oid = 1114, timestamptz_oid = 1184
};

// One cell's text as the value of its column type; an `invalid_input` error for one that has
// no such value (an infinite time, a year before 1 or after 9999).
auto cell_value(Oid type, std::string_view text, std::string_view column) -> result<value> {
  const auto not_held = [&] {
    return invalid_input_error(fmt::format("column {} holds '{}', which has no pipeline value", column, text));
  };
  switch (type) {
    case bool_oid: return value{text == "t"};
    case int2_oid:
    case int4_oid:
    case int8_oid:
    case oid_oid: {
      std::int64_t n = 0;
      std::from_chars(text.data(), text.data() + text.size(), n);
      return value{n};
    }
    case float4_oid:
    case float8_oid: return value{std::strtod(std::string(text).c_str(), nullptr)};  // NaN, Infinity too
    case bytea_oid: {
      const auto raw = detail::bytea_bytes(text);
      const auto* p = reinterpret_cast<const std::byte*>(raw.data());
      return value{bytes{p, p + raw.size()}};
    }
    case timestamptz_oid: {
      auto t = detail::parse_timestamptz(text);
      if (!t) return not_held();
      return value{*t};
    }
    case timestamp_oid:  // no zone: read as UTC
    case date_oid: {
      auto t = detail::parse_timestamptz(fmt::format("{}{}+00", text, type == date_oid ? " 00:00:00" : ""));
      if (!t) return not_held();
      return value{*t};
    }
    default: return value{std::string(text)};
  }
}

// One row of `r` as a record; the first cell that does not convert is `problem`, and NULL.
auto row_record(const PGresult* r, int row, std::optional<error>& problem) -> record {
  record out;
  for (int column = 0; column < PQnfields(r); ++column) {
    const std::string_view name = PQfname(r, column);
    if (PQgetisnull(r, row, column) != 0) {
      out.set(name, value{});
      continue;
    }
    const std::string_view text{PQgetvalue(r, row, column), static_cast<std::size_t>(PQgetlength(r, row, column))};
    auto v = cell_value(PQftype(r, column), text, name);
    if (!v && !problem) problem = std::move(v).error();
    out.set(name, v ? std::move(*v) : value{});
  }
  return out;
}

}  // namespace
}  // namespace pipeline::postgres

// How the shared keyset source reads PostgreSQL: `$n` marks, the filter's first ($1 … $n, as
// its author numbered them), then the key's, then the limit.
template <>
struct pipeline::detail::keyset_backend<pipeline::postgres::database> {
  static constexpr std::string_view name = "postgres";
  static auto spelling() {
    return keyset_dialect{&postgres::detail::quoted_identifier, [](std::size_t n) { return fmt::format("${}", n); },
                          &postgres::highest_parameter, true};
  }
  static auto check(postgres::database& db, const std::string& sql) -> result<void> {
    auto c = postgres::detail::database_access::borrow(db);
    if (!c) return std::move(c).error();
    return (*c)->check(sql);
  }
  static auto read_page(postgres::database& db, const keyset_reader& reader, const std::string& sql,
                        const std::vector<value>& key, const std::stop_token& stop) -> result<keyset_page> {
    const auto& options = reader.options();
    postgres::detail::parameters params;
    std::size_t next = 0;
    for (const auto* values : {&options.filter_parameters, &key}) {
      for (const auto& v : *values) {
        if (auto set = params.set(next++, v); !set) return std::move(set).error();
      }
    }
    (void)params.set(next, reader.limit());
    const auto context = fmt::format("reading {} by key", options.table);
    // A page whose connection was lost is read again whole, on a new one: a read may be repeated.
    return postgres::detail::database_access::read(db, stop, [&](postgres::detail::connection& c) -> result<keyset_page> {
      auto rows = c.query(sql, &params, context);
      if (!rows) return std::move(rows).error();
      int row = 0;
      return reader.read_page(context, [&](std::optional<error>& problem) -> result<std::optional<record>> {
        if (row >= PQntuples(rows->get())) return std::optional<record>{};
        return std::optional{postgres::row_record(rows->get(), row++, problem)};
      });
    });
  }
};

template class pipeline::detail::keyset_source<pipeline::postgres::database>;
