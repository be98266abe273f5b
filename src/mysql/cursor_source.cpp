#include <pipeline/mysql/cursor_source.hpp>

#include <sys/socket.h>

#include <utility>

#include <fmt/format.h>

#include "connection.hpp"
#include "relational/cursor_source.hpp"
#include "row_reader.hpp"

// The running query: its own connection and the unbuffered result.
template <>
struct pipeline::detail::cursor_stream<pipeline::mysql::database> {
  std::unique_ptr<mysql::detail::connection> c;
  MYSQL_RES* res = nullptr;
  const MYSQL_FIELD* fields = nullptr;
  unsigned int count = 0;
  bool drained = false;  // every row read: freeing the result costs nothing

  cursor_stream() = default;
  cursor_stream(const cursor_stream&) = delete;
  auto operator=(const cursor_stream&) -> cursor_stream& = delete;
  ~cursor_stream() {
    if (res == nullptr) return;
    // mysql_free_result would read (and drop) every row left; cutting the socket first ends
    // an abandoned read at once. The connection is closed just after anyway.
    if (!drained) ::shutdown(static_cast<int>(mysql_get_socket(c->handle())), SHUT_RDWR);
    mysql_free_result(res);
  }
};

namespace pipeline::mysql {

using stream = pipeline::detail::cursor_stream<database>;

auto open_cursor(database& db, const cursor_source_options& options, std::int64_t skip, const std::stop_token& stop)
    -> result<std::unique_ptr<stream>> {
  auto c = detail::database_access::open_dedicated(db, stop);
  if (!c) return std::move(c).error();
  auto s = std::make_unique<stream>();
  s->c = std::move(*c);
  if (auto set = s->c->execute(fmt::format("SET SESSION net_write_timeout = {}", options.server_write_timeout.count()));
      !set) {
    return std::move(set).error();
  }
  if (auto q = s->c->query(options.query, "cursor query"); !q) return std::move(q).error();
  s->res = mysql_use_result(s->c->handle());
  if (s->res == nullptr) return s->c->failure("cursor query: mysql_use_result");
  s->count = mysql_num_fields(s->res);
  s->fields = mysql_fetch_fields(s->res);
  // Resuming: the rows handed out before are read again and dropped.
  for (std::int64_t i = 0; i < skip; ++i) {
    if (stop.stop_requested()) return stopped_error();
    if (mysql_fetch_row(s->res) == nullptr) {
      if (mysql_errno(s->c->handle()) != 0) return s->c->failure("cursor query: skipping to the position");
      s->drained = true;
      break;
    }
  }
  return s;
}

auto fetch_rows(stream& s, std::size_t limit, pipeline::detail::counted_rows& out) -> result<bool> {
  while (!s.drained && out.read() < limit) {
    MYSQL_ROW row = mysql_fetch_row(s.res);
    if (row == nullptr) {
      if (mysql_errno(s.c->handle()) != 0) return s.c->failure("cursor query: reading a row");
      s.drained = true;
      break;
    }
    const unsigned long* lengths = mysql_fetch_lengths(s.res);
    auto r = detail::decode_text_row(s.fields, s.count, row, lengths);
    if (r) {
      out.add(std::move(*r));
      continue;
    }
    std::string payload;
    for (unsigned int i = 0; i < s.count; ++i) {
      if (i != 0) payload += '\t';
      payload += row[i] == nullptr ? std::string_view{"NULL"} : std::string_view{row[i], lengths[i]};
    }
    out.reject(std::move(payload), std::move(r).error());
  }
  return s.drained;
}

}  // namespace pipeline::mysql

template class pipeline::detail::cursor_source<pipeline::mysql::database, pipeline::mysql::cursor_source_options>;
