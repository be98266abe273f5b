#pragma once

// The members of pipeline::detail::cursor_source (include/pipeline/detail/cursor_reader.hpp),
// for an adapter to instantiate for its `Database` and options in a source file that defines
// `pipeline::detail::cursor_stream<Database>` and declares, in the adapter's namespace (found
// by argument-dependent lookup):
//
//     auto sql_spelling_of(const database*) -> const pipeline::detail::sql_spelling&;
//     // The query running on a connection of its own, the first `skip` rows passed over.
//     auto open_cursor(database&, const cursor_source_options&, std::int64_t skip, const std::stop_token&)
//         -> result<std::unique_ptr<pipeline::detail::cursor_stream<database>>>;
//     // Up to `limit` rows into `out`; true when no row is left after them.
//     auto fetch_rows(pipeline::detail::cursor_stream<database>&, std::size_t limit,
//                     pipeline::detail::counted_rows& out) -> result<bool>;
//
// and then `template class pipeline::detail::cursor_source<database, cursor_source_options>;`.

#include <memory>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include <pipeline/detail/cursor_reader.hpp>
#include <pipeline/detail/keyset_reader.hpp>

namespace pipeline::detail {

template <class Database, class Options>
cursor_source<Database, Options>::cursor_source(std::shared_ptr<Database> db, Options options) noexcept
    : db_(std::move(db)), options_(std::move(options)) {}
template <class Database, class Options>
cursor_source<Database, Options>::cursor_source(cursor_source&&) noexcept = default;
template <class Database, class Options>
auto cursor_source<Database, Options>::operator=(cursor_source&&) noexcept -> cursor_source& = default;
template <class Database, class Options>
cursor_source<Database, Options>::~cursor_source() = default;

template <class Database, class Options>
auto cursor_source<Database, Options>::open(std::shared_ptr<Database> db, Options options) -> result<cursor_source> {
  if (db == nullptr) throw std::invalid_argument("cursor_source::open: db is null");
  const auto who = fmt::format("{}::cursor_source::open", sql_spelling_of(db.get()).adapter);
  if (options.query.empty()) throw std::invalid_argument(fmt::format("{}: options.query is empty", who));
  if (options.batch_size == 0) throw std::invalid_argument(fmt::format("{}: options.batch_size is 0", who));
  return cursor_source{std::move(db), std::move(options)};
}

template <class Database, class Options>
auto cursor_source<Database, Options>::seek(const position& p) -> result<void> {
  std::int64_t skip = 0;
  if (!p.empty()) {
    auto n = p.to_integer();
    if (!n || *n < 0) {
      return invalid_input_error(fmt::format("{}::cursor_source::seek: {} is not a row count",
                                             sql_spelling_of(db_.get()).adapter, value{p.bytes()}));
    }
    skip = *n;
  }
  stream_.reset();
  handed_out_ = skip;
  exhausted_ = false;
  return ok();
}

template <class Database, class Options>
auto cursor_source<Database, Options>::next_batch(std::stop_token stop) -> result<std::optional<batch<record>>> {
  if (stop.stop_requested()) return stopped_error();
  if (exhausted_) return std::optional<batch<record>>{};
  if (stream_ == nullptr) {
    auto opened = open_cursor(*db_, options_, handed_out_, stop);
    if (!opened) return std::move(opened).error();
    stream_ = std::move(*opened);
  }
  counted_rows rows{handed_out_, options_.batch_size};
  result<bool> drained = fetch_rows(*stream_, options_.batch_size, rows);
  if (!drained) {
    stream_.reset();  // the next call starts over and skips what was handed out
    return std::move(drained).error();
  }
  if (*drained) {
    exhausted_ = true;
    stream_.reset();  // its connection closed at once
  }
  const std::size_t read = rows.read();
  if (read == 0) return std::optional<batch<record>>{};
  handed_out_ += static_cast<std::int64_t>(read);
  auto out = std::move(rows).take();
  out.end = position::from_integer(handed_out_);
  return std::optional<batch<record>>{std::move(out)};
}

}  // namespace pipeline::detail
