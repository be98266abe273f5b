#include "row_reader.hpp"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "connection.hpp"

namespace pipeline::postgres::detail {
namespace {

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
      const auto raw = bytea_bytes(text);
      const auto* p = reinterpret_cast<const std::byte*>(raw.data());
      return value{bytes{p, p + raw.size()}};
    }
    case timestamptz_oid: {
      auto t = parse_timestamptz(text);
      if (!t) return not_held();
      return value{*t};
    }
    case timestamp_oid:  // no zone: read as UTC
    case date_oid: {
      auto t = parse_timestamptz(fmt::format("{}{}+00", text, type == date_oid ? " 00:00:00" : ""));
      if (!t) return not_held();
      return value{*t};
    }
    default: return value{std::string(text)};
  }
}

}  // namespace

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


auto row_text(const PGresult* r, int row) -> std::string {
  std::string out;
  for (int column = 0; column < PQnfields(r); ++column) {
    if (column != 0) out += '\t';
    if (PQgetisnull(r, row, column) != 0) out += "NULL";
    else out.append(PQgetvalue(r, row, column), static_cast<std::size_t>(PQgetlength(r, row, column)));
  }
  return out;
}

}  // namespace pipeline::postgres::detail
