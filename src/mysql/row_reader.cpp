#include "row_reader.hpp"

#include <charconv>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "binding.hpp"

namespace pipeline::mysql::detail {
namespace {

constexpr unsigned int binary_charset = 63;
constexpr std::size_t initial_cell_size = 256;

auto unsigned_value(std::uint64_t u) -> value {
  if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return value{std::to_string(u)};
  return value{static_cast<std::int64_t>(u)};
}

auto bits_value(const char* data, unsigned long length) -> value {
  std::uint64_t u = 0;
  for (unsigned long i = 0; i < length; ++i) u = (u << 8U) | static_cast<unsigned char>(data[i]);
  return unsigned_value(u);
}

auto bytes_of(const char* data, unsigned long length) -> bytes {
  bytes out(length);
  if (length != 0) std::memcpy(out.data(), data, length);
  return out;
}

auto bad_cell(const MYSQL_FIELD& f, std::string_view text, std::string_view why) -> error {
  return invalid_input_error(fmt::format("column {}: {} {}", f.name, value{text}, why));
}

}  // namespace

auto kind_of_field(const MYSQL_FIELD& f) noexcept -> column_kind {
  switch (f.type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR: return column_kind::integer;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE: return column_kind::floating;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP: return column_kind::datetime;
    case MYSQL_TYPE_BIT: return column_kind::bit;
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_STRING: return f.charsetnr == binary_charset ? column_kind::binary : column_kind::text;
    default: return column_kind::text;
  }
}

auto decode_text(const MYSQL_FIELD& f, const char* data, unsigned long length) -> result<value> {
  if (data == nullptr) return value{};
  const std::string_view text{data, length};
  switch (kind_of_field(f)) {
    case column_kind::integer: {
      if ((f.flags & UNSIGNED_FLAG) != 0) {
        std::uint64_t u = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), u);
        if (ec != std::errc{} || end != text.data() + text.size()) return bad_cell(f, text, "is not an integer");
        return unsigned_value(u);
      }
      std::int64_t i = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
      if (ec != std::errc{} || end != text.data() + text.size()) return bad_cell(f, text, "is not an integer");
      return value{i};
    }
    case column_kind::floating: {
      double d = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
      if (ec != std::errc{} || end != text.data() + text.size()) return bad_cell(f, text, "is not a number");
      return value{d};
    }
    case column_kind::datetime: {
      auto t = parse_mysql_time(text);
      if (!t) return bad_cell(f, text, "is not a point in time");
      return value{*t};
    }
    case column_kind::bit: return bits_value(data, length);
    case column_kind::binary: return value{bytes_of(data, length)};
    case column_kind::text: return value{std::string{text}};
  }
  return value{std::string{text}};
}

auto decode_text_row(const MYSQL_FIELD* fields, unsigned int count, MYSQL_ROW row, const unsigned long* lengths)
    -> result<record> {
  std::vector<record::entry> entries;
  entries.reserve(count);
  for (unsigned int i = 0; i < count; ++i) {
    auto v = decode_text(fields[i], row[i], lengths[i]);
    if (!v) return std::move(v).error();
    entries.emplace_back(std::string{fields[i].name, fields[i].name_length}, std::move(*v));
  }
  return record::from_fields(std::move(entries));
}

auto query_records(connection& c, std::string_view sql, std::size_t limit) -> result<std::vector<record>> {
  if (auto done = c.query(sql, sql); !done) return std::move(done).error();
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> res{mysql_store_result(c.handle()), &mysql_free_result};
  if (res == nullptr) {
    if (mysql_errno(c.handle()) != 0) return c.failure(sql);
    return std::vector<record>{};
  }
  const unsigned int count = mysql_num_fields(res.get());
  const MYSQL_FIELD* fields = mysql_fetch_fields(res.get());
  std::vector<record> rows;
  while (MYSQL_ROW row = mysql_fetch_row(res.get())) {
    auto r = decode_text_row(fields, count, row, mysql_fetch_lengths(res.get()));
    if (!r) return std::move(r).error();
    rows.push_back(std::move(*r));
    if (limit != 0 && rows.size() == limit) break;
  }
  return rows;
}

struct statement_rows::state {
  struct cell {
    std::string name;
    column_kind kind = column_kind::text;
    bool is_unsigned = false;
    std::int64_t integer = 0;
    double floating = 0;
    MYSQL_TIME time{};
    std::vector<char> buffer;
    unsigned long length = 0;
    my_bool is_null = 0;
    my_bool error = 0;
  };
  statement* st = nullptr;
  std::string context;
  std::vector<cell> cells;        // sized once: binds point into it
  std::vector<MYSQL_BIND> binds;
  bool done = false;

  ~state() {
    // Unread rows would stand between the connection and its next command.
    if (!done && st != nullptr) mysql_stmt_free_result(st->get());
  }

  auto decode(std::size_t i) -> result<value> {
    cell& c = cells[i];
    if (c.is_null != 0) return value{};
    switch (c.kind) {
      case column_kind::integer:
        return c.is_unsigned ? unsigned_value(static_cast<std::uint64_t>(c.integer)) : value{c.integer};
      case column_kind::floating: return value{c.floating};
      case column_kind::datetime: {
        auto t = from_mysql_time(c.time);
        if (!t) {
          return invalid_input_error(fmt::format("{}: column {}: {:04}-{:02}-{:02} is not a point in time", context,
                                                 c.name, c.time.year, c.time.month, c.time.day));
        }
        return value{*t};
      }
      case column_kind::bit: return bits_value(c.buffer.data(), c.length);
      case column_kind::binary: return value{bytes_of(c.buffer.data(), c.length)};
      case column_kind::text: return value{std::string{c.buffer.data(), c.length}};
    }
    return value{};
  }
};

statement_rows::statement_rows(std::unique_ptr<state> s) noexcept : state_(std::move(s)) {}
statement_rows::statement_rows(statement_rows&&) noexcept = default;
auto statement_rows::operator=(statement_rows&&) noexcept -> statement_rows& = default;
statement_rows::~statement_rows() = default;

auto statement_rows::open(statement& st, std::string context) -> result<statement_rows> {
  auto s = std::make_unique<state>();
  s->st = &st;
  s->context = std::move(context);
  std::unique_ptr<MYSQL_RES, decltype(&mysql_free_result)> meta{mysql_stmt_result_metadata(st.get()),
                                                                &mysql_free_result};
  if (meta == nullptr) {
    s->done = true;
    if (mysql_stmt_errno(st.get()) != 0) return st.failure(s->context);
    return statement_rows{std::move(s)};  // no result set
  }
  const unsigned int count = mysql_num_fields(meta.get());
  const MYSQL_FIELD* fields = mysql_fetch_fields(meta.get());
  s->cells.resize(count);
  s->binds.resize(count);
  for (unsigned int i = 0; i < count; ++i) {
    auto& c = s->cells[i];
    auto& b = s->binds[i];
    std::memset(&b, 0, sizeof b);
    c.name.assign(fields[i].name, fields[i].name_length);
    c.kind = kind_of_field(fields[i]);
    c.is_unsigned = (fields[i].flags & UNSIGNED_FLAG) != 0;
    b.is_null = &c.is_null;
    b.error = &c.error;
    b.length = &c.length;
    switch (c.kind) {
      case column_kind::integer:
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = &c.integer;
        b.is_unsigned = c.is_unsigned ? 1 : 0;
        break;
      case column_kind::floating:
        b.buffer_type = MYSQL_TYPE_DOUBLE;
        b.buffer = &c.floating;
        break;
      case column_kind::datetime:
        b.buffer_type = MYSQL_TYPE_DATETIME;
        b.buffer = &c.time;
        break;
      case column_kind::bit:
      case column_kind::binary:
      case column_kind::text:
        c.buffer.resize(initial_cell_size);
        b.buffer_type = c.kind == column_kind::text ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
        b.buffer = c.buffer.data();
        b.buffer_length = c.buffer.size();
        break;
    }
  }
  if (mysql_stmt_bind_result(st.get(), s->binds.data()) != 0) return st.failure(s->context);
  return statement_rows{std::move(s)};
}

auto statement_rows::next(std::optional<error>& problem) -> result<std::optional<record>> {
  problem.reset();
  state& s = *state_;
  if (s.done) return std::optional<record>{};
  MYSQL_STMT* st = s.st->get();
  const int fetched = mysql_stmt_fetch(st);
  if (fetched == MYSQL_NO_DATA) {
    s.done = true;
    return std::optional<record>{};
  }
  if (fetched == 1) {
    s.done = true;
    return s.st->failure(s.context);
  }
  if (fetched == MYSQL_DATA_TRUNCATED) {
    // A value longer than its buffer: grow the buffer, read the value again, and keep the
    // larger buffer bound for the rows after.
    bool rebind = false;
    for (std::size_t i = 0; i < s.cells.size(); ++i) {
      auto& c = s.cells[i];
      if (c.buffer.empty() || c.is_null != 0 || c.length <= c.buffer.size()) continue;
      c.buffer.resize(c.length);
      s.binds[i].buffer = c.buffer.data();
      s.binds[i].buffer_length = c.buffer.size();
      if (mysql_stmt_fetch_column(st, &s.binds[i], static_cast<unsigned int>(i), 0) != 0) {
        return s.st->failure(s.context);
      }
      rebind = true;
    }
    if (rebind && mysql_stmt_bind_result(st, s.binds.data()) != 0) return s.st->failure(s.context);
  }
  std::vector<record::entry> entries;
  entries.reserve(s.cells.size());
  for (std::size_t i = 0; i < s.cells.size(); ++i) {
    auto v = s.decode(i);
    if (!v) {
      if (!problem) problem = std::move(v).error();
      entries.emplace_back(s.cells[i].name, value{});
      continue;
    }
    entries.emplace_back(s.cells[i].name, std::move(*v));
  }
  auto r = record::from_fields(std::move(entries));
  if (!r) return std::move(r).error();
  return std::optional<record>{std::move(*r)};
}

auto fetch_records(statement& st, std::string_view context) -> result<std::vector<record>> {
  auto rows = statement_rows::open(st, std::string{context});
  if (!rows) return std::move(rows).error();
  std::vector<record> out;
  for (std::optional<error> problem;;) {
    auto r = rows->next(problem);
    if (!r) return std::move(r).error();
    if (problem) return *problem;
    if (!*r) return out;
    out.push_back(std::move(**r));
  }
}

auto select_records(connection& c, std::string_view sql, std::span<const value> params, std::string_view context)
    -> result<std::vector<record>> {
  auto st = c.prepare(sql);
  if (!st) return std::move(st).error();
  auto bound = parameters::bind(params);
  if (!bound) return std::move(bound).error();
  if (auto done = st->execute(params.empty() ? nullptr : (*bound)->data(), context); !done) {
    return std::move(done).error();
  }
  return fetch_records(*st, context);
}

}  // namespace pipeline::mysql::detail
