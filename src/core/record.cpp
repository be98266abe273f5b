#include <pipeline/record.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

namespace pipeline {
namespace {

// A name that appears twice, or nullptr. A few fields are compared pairwise. More are sorted by
// the hash of their name, and by the name itself only where two hashes are equal: the sort
// moves 16-byte keys and reads no name on the usual path (sorting pointers to the names read
// two fields scattered over the record at every comparison: about 1 us a field on a row of
// 60k fields), and names whose hashes collide are still ordered by text, so any input, even
// one crafted to collide, stays n log n.
auto find_duplicate(const std::vector<record::entry>& fields) -> const std::string* {
  constexpr std::size_t pairwise = 8;
  if (fields.size() <= pairwise) {
    for (auto a = fields.begin(); a != fields.end(); ++a) {
      for (auto b = std::next(a); b != fields.end(); ++b) {
        if (a->first == b->first) return &a->first;
      }
    }
    return nullptr;
  }
  struct key {
    std::size_t hash;
    const std::string* name;
  };
  std::vector<key> keys;
  keys.reserve(fields.size());
  for (const auto& field : fields) keys.push_back({std::hash<std::string_view>{}(field.first), &field.first});
  std::sort(keys.begin(), keys.end(),
            [](const key& a, const key& b) { return a.hash != b.hash ? a.hash < b.hash : *a.name < *b.name; });
  const auto dup = std::adjacent_find(keys.begin(), keys.end(),
                                      [](const key& a, const key& b) { return a.hash == b.hash && *a.name == *b.name; });
  return dup == keys.end() ? nullptr : dup->name;
}

auto duplicate_message(const std::string& name) -> std::string {
  return fmt::format("record: field \"{}\" appears twice", name);
}

void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        // Other control characters (and NUL) would be invisible or break the line.
        if (static_cast<unsigned char>(c) < 0x20 || c == '\x7f') {
          fmt::format_to(std::back_inserter(out), "\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// ISO-8601 in UTC for the whole range of the type (about ±292,000 years), which
// std::chrono::year_month_day (±32,767 years) does not cover. Howard Hinnant's
// civil_from_days, in 64-bit arithmetic.
void append_timestamp(std::string& out, timestamp t) {
  // Floor division by hand: chrono::floor<days> overflows converting back near the limits.
  constexpr std::int64_t micros_per_day = 86'400'000'000;
  const std::int64_t micros = t.time_since_epoch().count();
  std::int64_t day = micros / micros_per_day;
  std::int64_t micros_of_day = micros % micros_per_day;
  if (micros_of_day < 0) {
    micros_of_day += micros_per_day;
    --day;
  }
  const std::int64_t z = day + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);

  auto it = std::back_inserter(out);
  // Years outside 0000-9999 use ISO-8601's expanded form with an explicit sign.
  if (y >= 0 && y <= 9999) {
    fmt::format_to(it, "{:04}", y);
  } else {
    fmt::format_to(it, "{:+05}", y);
  }
  const std::int64_t seconds_of_day = micros_of_day / 1'000'000;
  fmt::format_to(it, "-{:02}-{:02}T{:02}:{:02}:{:02}", m, d, seconds_of_day / 3600, seconds_of_day / 60 % 60,
                 seconds_of_day % 60);
  if (const std::int64_t fraction = micros_of_day % 1'000'000; fraction != 0) fmt::format_to(it, ".{:06}", fraction);
  out += 'Z';
}

void append_text(std::string& out, const value& v) {
  auto it = std::back_inserter(out);
  switch (v.kind()) {
    case value_kind::null: out += "null"; break;
    case value_kind::boolean: out += *v.get_if<bool>() ? "true" : "false"; break;
    case value_kind::int64: fmt::format_to(it, "{}", *v.get_if<std::int64_t>()); break;
    case value_kind::float64: fmt::format_to(it, "{}", *v.get_if<double>()); break;
    case value_kind::string: append_quoted(out, *v.get_if<std::string>()); break;
    case value_kind::binary:
      out += "0x";
      for (std::byte b : *v.get_if<bytes>()) fmt::format_to(it, "{:02x}", std::to_integer<unsigned>(b));
      break;
    case value_kind::datetime: append_timestamp(out, *v.get_if<timestamp>()); break;
  }
}

}  // namespace

auto to_string(value_kind kind) noexcept -> std::string_view {
  switch (kind) {
    case value_kind::null: return "null";
    case value_kind::boolean: return "boolean";
    case value_kind::int64: return "int64";
    case value_kind::float64: return "float64";
    case value_kind::string: return "string";
    case value_kind::binary: return "binary";
    case value_kind::datetime: return "datetime";
  }
  return "unknown";
}

bad_value_access::bad_value_access(value_kind expected, value_kind actual)
    : std::logic_error(fmt::format("value holds {}, not {}", actual, expected)) {}

auto operator==(const value& a, const value& b) noexcept -> bool {
  if (const auto* x = a.get_if<double>()) {
    const auto* y = b.get_if<double>();
    return y != nullptr && (*x == *y || (std::isnan(*x) && std::isnan(*y)));
  }
  return a.data_ == b.data_;
}

record::record(std::initializer_list<entry> fields) : fields_(fields) {
  if (const auto* name = find_duplicate(fields_)) {
    throw std::invalid_argument(duplicate_message(*name));
  }
}

auto record::from_fields(std::vector<entry> fields) -> result<record> {
  if (const auto* name = find_duplicate(fields)) {
    return invalid_input_error(duplicate_message(*name));
  }
  record r;
  r.fields_ = std::move(fields);
  return r;
}

void record::reserve(std::size_t n) { fields_.reserve(n); }

auto record::set(std::string_view name, value v) -> value& {
  if (auto* existing = find(name)) return *existing = std::move(v);
  return fields_.emplace_back(std::string(name), std::move(v)).second;
}

auto record::find(std::string_view name) const noexcept -> const value* {
  auto it = std::find_if(fields_.begin(), fields_.end(), [name](const entry& e) { return e.first == name; });
  return it == fields_.end() ? nullptr : &it->second;
}

auto record::find(std::string_view name) noexcept -> value* {
  return const_cast<value*>(std::as_const(*this).find(name));
}

namespace detail {

auto to_text(const value& v) -> std::string {
  std::string out;
  append_text(out, v);
  return out;
}

auto to_text(const record& r) -> std::string {
  std::string out = "{";
  for (const auto& [name, v] : r) {
    if (out.size() > 1) out += ", ";
    out += name;
    out += ": ";
    append_text(out, v);
  }
  out += '}';
  return out;
}

}  // namespace detail
}  // namespace pipeline

auto fmt::formatter<pipeline::value>::format(const pipeline::value& v, format_context& ctx) const
    -> format_context::iterator {
  return fmt::formatter<std::string_view>::format(pipeline::detail::to_text(v), ctx);
}

auto fmt::formatter<pipeline::record>::format(const pipeline::record& r, format_context& ctx) const
    -> format_context::iterator {
  return fmt::formatter<std::string_view>::format(pipeline::detail::to_text(r), ctx);
}

auto fmt::formatter<pipeline::value_kind>::format(pipeline::value_kind k, format_context& ctx) const
    -> format_context::iterator {
  return fmt::formatter<std::string_view>::format(pipeline::to_string(k), ctx);
}
