#include "connection.hpp"

#include <poll.h>

#include <array>
#include <cerrno>
#include <bit>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include <pipeline/detail/identifier.hpp>
#include <pipeline/detail/time_text.hpp>

namespace pipeline::postgres::detail {
namespace {

// Type OIDs of pg_type.h (libpq ships no header with them), fixed since PostgreSQL 7.
constexpr Oid bool_oid = 16;
constexpr Oid bytea_oid = 17;
constexpr Oid int8_oid = 20;
constexpr Oid float8_oid = 701;
constexpr Oid timestamptz_oid = 1184;

constexpr int text_format = 0;
constexpr int binary_format = 1;

// The binary wire form of an integer: big-endian.
auto big_endian(std::uint64_t v) -> std::string {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 UTC).
constexpr std::int64_t postgres_epoch_us = 946'684'800'000'000;

// A connect that failed: libpq gives no SQLSTATE for it, only the text. A refused or timed-out
// connect, or a server starting or stopping, may work later; a wrong password or database
// will not.
auto connect_sqlstate(std::string_view message) -> std::string_view {
  if (message.find("password authentication failed") != std::string_view::npos ||
      message.find("no pg_hba.conf entry") != std::string_view::npos ||
      message.find("role \"") != std::string_view::npos) {
    return "28P01";
  }
  if (message.find("database \"") != std::string_view::npos) return "3D000";
  if (message.find("starting up") != std::string_view::npos) return "57P03";
  if (message.find("shutting down") != std::string_view::npos) return "57P01";
  return "08001";
}

}  // namespace

auto kind_of(std::string_view s) noexcept -> error_kind {
  if (s.size() != 5) return error_kind::permanent;
  if (s == "40001" || s == "40P01" || s == "55P03" || s == "57014" || s == "57P01" || s == "57P02" ||
      s == "57P03" || s == "53300" || s.starts_with("08")) {
    return error_kind::transient;
  }
  if (s.starts_with("22")) return error_kind::invalid_input;
  return error_kind::permanent;
}

auto is_outage(const error& e) noexcept -> bool {
  if (e.kind != error_kind::transient || e.backend != "postgres") return false;
  for (std::string_view s : {"08000", "08001", "08003", "08006", "57P01", "57P02", "57P03"}) {
    if (e.native_code == sqlstate_code(s)) return true;
  }
  return false;
}

auto make_error(std::string_view sqlstate, std::string_view message, std::string_view context) -> error {
  // libpq's messages end with a newline, and may hold a DETAIL line.
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.remove_suffix(1);
  return error{kind_of(sqlstate), fmt::format("{}: [{}] {}", context, sqlstate, message), sqlstate_code(sqlstate),
               "postgres"};
}

void parameters::put(std::size_t index, Oid type, std::optional<std::string> data, int format) {
  if (count_ <= index) {
    count_ = index + 1;
    if (types_.size() < count_) {
      types_.resize(count_);
      data_.resize(count_);
      lengths_.resize(count_);
      formats_.resize(count_);
    }
  }
  types_[index] = type;
  lengths_[index] = data ? static_cast<int>(data->size()) : 0;
  formats_[index] = format;
  data_[index] = std::move(data);
}

auto parameters::values() -> const char* const* {
  values_.resize(count_);
  for (std::size_t i = 0; i < count_; ++i) values_[i] = data_[i] ? data_[i]->data() : nullptr;
  return values_.data();
}

void parameters::set_bytes(std::size_t index, std::string_view v) {
  put(index, bytea_oid, std::string(v), binary_format);
}

auto parameters::set(std::size_t index, const value& v) -> result<void> {
  switch (v.kind()) {
    case value_kind::null: put(index, 0, std::nullopt, text_format); break;
    case value_kind::boolean: put(index, bool_oid, std::string(1, *v.get_if<bool>() ? '\1' : '\0'), binary_format); break;
    case value_kind::int64:
      put(index, int8_oid, big_endian(static_cast<std::uint64_t>(*v.get_if<std::int64_t>())), binary_format);
      break;
    case value_kind::float64:
      put(index, float8_oid, big_endian(std::bit_cast<std::uint64_t>(*v.get_if<double>())), binary_format);
      break;
    case value_kind::string: {
      // Text goes as text, its type left to the server (the column's: text, numeric, json …).
      const auto& s = *v.get_if<std::string>();
      if (s.find('\0') != std::string::npos) {
        return invalid_input_error(fmt::format("parameter {} holds a NUL, which PostgreSQL text cannot", index + 1));
      }
      put(index, 0, s, text_format);
      break;
    }
    case value_kind::binary: {
      const auto& b = *v.get_if<bytes>();
      put(index, bytea_oid, std::string(reinterpret_cast<const char*>(b.data()), b.size()), binary_format);
      break;
    }
    case value_kind::datetime: {
      // The server checks the range (4713 BC to 294276 AD), as 22008.
      const auto us = v.get_if<timestamp>()->time_since_epoch().count() - postgres_epoch_us;
      put(index, timestamptz_oid, big_endian(static_cast<std::uint64_t>(us)), binary_format);
      break;
    }
  }
  return ok();
}

auto connection::open(const std::vector<std::pair<std::string, std::string>>& conninfo, std::string_view where)
    -> result<std::unique_ptr<connection>> {
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [k, v] : conninfo) {
    keywords.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keywords.data(), values.data(), 0);
  if (conn == nullptr) return transient_error("PQconnectdbParams: out of memory");
  std::unique_ptr<connection> c{new connection(conn)};  // finished on every path from here
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string_view message = PQerrorMessage(conn);
    return make_error(connect_sqlstate(message), message, fmt::format("connecting to {}", where));
  }
  // The server's notices ("relation … already exists, skipping") are not errors; libpq would
  // print each on stderr.
  PQsetNoticeProcessor(conn, [](void* /*arg*/, const char* /*message*/) {}, nullptr);
  return c;
}

auto connection::failure(const PGresult* r, std::string_view context) -> error {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view message = r != nullptr ? PQresultErrorMessage(r) : "";
  if (message.empty()) message = PQerrorMessage(conn_);
  // No SQLSTATE: the client's own failure, most often the connection lost mid-call.
  std::string_view sqlstate = state != nullptr ? state : (PQstatus(conn_) == CONNECTION_BAD ? "08006" : "58000");
  if (PQstatus(conn_) == CONNECTION_BAD || sqlstate.starts_with("08") || sqlstate.starts_with("57P")) broken_ = true;
  return make_error(sqlstate, message, context);
}

auto connection::query(std::string_view sql, parameters* p, std::string_view context) -> result<result_ptr> {
  const std::string text{sql};
  result_ptr r{p == nullptr ? PQexecParams(conn_, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, text_format)
                            : PQexecParams(conn_, text.c_str(), p->size(), p->types(), p->values(), p->lengths(),
                                           p->formats(), text_format)};
  const auto status = r != nullptr ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return failure(r.get(), context);
  return r;
}

auto connection::execute(std::string_view sql) -> result<void> {
  // PQexec: the simple protocol, which takes several statements separated by ';'.
  const std::string text{sql};
  result_ptr r{PQexec(conn_, text.c_str())};
  const auto status = r != nullptr ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return failure(r.get(), sql);
  return ok();
}

auto connection::check(std::string_view sql) -> result<void> {
  const std::string text{sql};
  result_ptr r{PQprepare(conn_, "", text.c_str(), 0, nullptr)};
  if (r == nullptr || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    return failure(r.get(), fmt::format("preparing {}", sql));
  }
  return ok();
}

auto connection::begin_copy(std::string_view sql, std::string_view context) -> result<void> {
  const std::string text{sql};
  result_ptr r{PQexec(conn_, text.c_str())};
  if (r == nullptr || PQresultStatus(r.get()) != PGRES_COPY_IN) return failure(r.get(), context);
  return ok();
}

auto connection::send_copy(std::string_view data, std::string_view context) -> result<void> {
  // Blocking mode: 1 once queued, -1 on a failure (the connection's).
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1) return failure(nullptr, context);
  return ok();
}

auto connection::end_copy(const char* abort_reason, std::string_view context) -> result<void> {
  if (PQputCopyEnd(conn_, abort_reason) != 1) return failure(nullptr, context);
  // The COPY's result, then the end of the results (null); an aborted COPY fails (57014),
  // as asked.
  std::optional<error> refused;
  while (result_ptr r{PQgetResult(conn_)}) {
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && !refused) refused = failure(r.get(), context);
  }
  if (refused && abort_reason == nullptr) return std::move(*refused);
  return ok();
}

auto connection::wait_for_notification(std::chrono::milliseconds timeout) -> result<bool> {
  const auto take = [&] {
    bool any = false;
    while (PGnotify* n = PQnotifies(conn_)) {
      PQfreemem(n);
      any = true;
    }
    return any;
  };
  if (take()) return true;  // read with an earlier result
  pollfd waiting{PQsocket(conn_), POLLIN, 0};
  if (waiting.fd < 0) return failure(nullptr, "waiting for a notification");
  const int ready = ::poll(&waiting, 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR) return failure(nullptr, "waiting for a notification");
  if (ready <= 0) return false;
  if (PQconsumeInput(conn_) == 0) return failure(nullptr, "reading a notification");
  return take();
}

auto quoted_identifier(std::string_view name, std::string_view what) -> std::string {
  pipeline::detail::require_identifier(name, what);
  return fmt::format("\"{}\"", name);
}

void require_database(const std::shared_ptr<database>& db, std::string_view what) {
  if (db == nullptr) throw std::invalid_argument(fmt::format("{}: db is null", what));
}

auto bytea_bytes(std::string_view text) -> std::string {
  if (!text.starts_with("\\x")) return std::string(text);
  const auto nibble = [](char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;  // the server writes 0-9a-f only
  };
  std::string out;
  out.reserve((text.size() - 2) / 2);
  for (std::size_t i = 2; i + 1 < text.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(text[i]) * 16 + nibble(text[i + 1])));
  }
  return out;
}

auto parse_timestamptz(std::string_view text) -> std::optional<timestamp> {
  // "YYYY-MM-DD HH:MM:SS[.ffffff]+00" is the ISO text with a space and an offset of zero.
  if (text.size() < 22 || text[10] != ' ' || !text.ends_with("+00")) return std::nullopt;
  std::string iso{text.substr(0, text.size() - 3)};
  iso[10] = 'T';
  iso += 'Z';
  return pipeline::detail::parse_iso_time(iso);
}

}  // namespace pipeline::postgres::detail
