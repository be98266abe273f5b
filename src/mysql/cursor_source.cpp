#include <pipeline/mysql/cursor_source.hpp>

#include <sys/socket.h>

#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "connection.hpp"
#include "row_reader.hpp"

namespace pipeline::mysql {

// The running query: its own connection and the unbuffered result.
struct cursor_source::stream {
  std::unique_ptr<detail::connection> c;
  MYSQL_RES* res = nullptr;
  const MYSQL_FIELD* fields = nullptr;
  unsigned int count = 0;
  bool drained = false;  // every row read: freeing the result costs nothing

  ~stream() {
    if (res == nullptr) return;
    // mysql_free_result would read (and drop) every row left; cutting the socket first ends
    // an abandoned read at once. The connection is closed just after anyway.
    if (!drained) ::shutdown(static_cast<int>(mysql_get_socket(c->handle())), SHUT_RDWR);
    mysql_free_result(res);
  }
};

cursor_source::cursor_source(std::shared_ptr<database> db, cursor_source_options options) noexcept
    : db_(std::move(db)), options_(std::move(options)) {}
cursor_source::cursor_source(cursor_source&&) noexcept = default;
auto cursor_source::operator=(cursor_source&&) noexcept -> cursor_source& = default;
cursor_source::~cursor_source() = default;

auto cursor_source::open(std::shared_ptr<database> db, cursor_source_options options) -> result<cursor_source> {
  detail::require_database(db, "mysql::cursor_source::open");
  if (options.query.empty()) throw std::invalid_argument("mysql::cursor_source::open: options.query is empty");
  if (options.batch_size == 0) throw std::invalid_argument("mysql::cursor_source::open: options.batch_size is 0");
  return cursor_source{std::move(db), std::move(options)};
}

auto cursor_source::seek(const position& p) -> result<void> {
  std::int64_t skip = 0;
  if (!p.empty()) {
    auto n = p.to_integer();
    if (!n || *n < 0) {
      return invalid_input_error(fmt::format("mysql::cursor_source::seek: {} is not a row count", value{p.bytes()}));
    }
    skip = *n;
  }
  stream_.reset();
  handed_out_ = skip;
  exhausted_ = false;
  return ok();
}

auto cursor_source::next_batch(std::stop_token stop) -> result<std::optional<batch<record>>> {
  if (stop.stop_requested()) return stopped_error();
  if (exhausted_) return std::optional<batch<record>>{};
  if (stream_ == nullptr) {
    auto c = detail::database_access::open_dedicated(*db_, stop);
    if (!c) return std::move(c).error();
    auto s = std::make_unique<stream>();
    s->c = std::move(*c);
    if (auto set = s->c->execute(
            fmt::format("SET SESSION net_write_timeout = {}", options_.server_write_timeout.count()));
        !set) {
      return std::move(set).error();
    }
    if (auto q = s->c->query(options_.query, "cursor query"); !q) return std::move(q).error();
    s->res = mysql_use_result(s->c->handle());
    if (s->res == nullptr) return s->c->failure("cursor query: mysql_use_result");
    s->count = mysql_num_fields(s->res);
    s->fields = mysql_fetch_fields(s->res);
    // Resuming: the rows handed out before are read again and dropped.
    for (std::int64_t i = 0; i < handed_out_; ++i) {
      if (stop.stop_requested()) return stopped_error();
      if (mysql_fetch_row(s->res) == nullptr) {
        if (mysql_errno(s->c->handle()) != 0) return s->c->failure("cursor query: skipping to the position");
        s->drained = true;
        break;
      }
    }
    stream_ = std::move(s);
  }
  stream& s = *stream_;
  batch<record> out;
  out.records.reserve(options_.batch_size);
  std::size_t read = 0;
  while (!s.drained && read < options_.batch_size) {
    MYSQL_ROW row = mysql_fetch_row(s.res);
    if (row == nullptr) {
      if (mysql_errno(s.c->handle()) != 0) {
        auto e = s.c->failure("cursor query: reading a row");
        stream_.reset();  // the next call starts over and skips what was handed out
        return e;
      }
      s.drained = true;
      break;
    }
    ++read;
    auto r = detail::decode_text_row(s.fields, s.count, row, mysql_fetch_lengths(s.res));
    const auto pos = position::from_integer(handed_out_ + static_cast<std::int64_t>(read));
    if (r) {
      out.records.push_back(std::move(*r));
      out.positions.push_back(position::from_integer(handed_out_ + static_cast<std::int64_t>(read) - 1));  // the rows before it
    } else {
      std::string payload;
      const unsigned long* lengths = mysql_fetch_lengths(s.res);
      for (unsigned int i = 0; i < s.count; ++i) {
        if (i != 0) payload += '\t';
        payload += row[i] == nullptr ? std::string_view{"NULL"} : std::string_view{row[i], lengths[i]};
      }
      out.rejected.push_back(dead_letter{std::move(payload), std::move(r).error(), 0, pos, 0,
                                         std::chrono::system_clock::now()});
    }
  }
  if (s.drained) {
    exhausted_ = true;
    stream_.reset();
  }
  if (read == 0) return std::optional<batch<record>>{};
  handed_out_ += static_cast<std::int64_t>(read);
  out.end = position::from_integer(handed_out_);
  return std::optional<batch<record>>{std::move(out)};
}

}  // namespace pipeline::mysql
