#pragma once

// The members of pipeline::detail::keyset_source (include/pipeline/detail/keyset_reader.hpp),
// for an adapter to instantiate for its `Database` in a source file that declares, in the
// adapter's namespace (found by argument-dependent lookup):
//
//     auto sql_spelling_of(const database*) -> const pipeline::detail::sql_spelling&;
//     auto check_query(database&, const std::string& sql) -> result<void>;  // the server checks it
//     auto read_keyset_page(database&, const pipeline::detail::keyset_reader&, const std::string& sql,
//                           std::vector<value> key, const std::stop_token&)
//         -> result<pipeline::detail::keyset_page>;  // runs `sql` with the key's and the filter's
//                                                     // values; reader.read_page makes the page
//
// and then `template class pipeline::detail::keyset_source<pipeline::mysql::database>;`.

#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <pipeline/detail/keyset_reader.hpp>

namespace pipeline::detail {

template <class Database>
auto keyset_source<Database>::open(std::shared_ptr<Database> db, keyset_options options) -> result<keyset_source> {
  if (db == nullptr) throw std::invalid_argument("keyset_source::open: db is null");
  const auto& spelling = sql_spelling_of(db.get());
  auto queries = plan_keyset(options, fmt::format("{}::keyset_source::open", spelling.adapter), spelling);
  if (auto checked = check_query(*db, queries.next); !checked) return std::move(checked).error();
  return keyset_source{std::move(db), keyset_reader{std::move(options), std::move(queries)}};
}

template <class Database>
auto keyset_source<Database>::seek(const position& p) -> result<void> {
  return reader_.seek(p, fmt::format("{}::keyset_source::seek", sql_spelling_of(db_.get()).adapter));
}

template <class Database>
auto keyset_source<Database>::next_batch(std::stop_token stop) -> result<std::optional<batch<record>>> {
  return reader_.next_batch(stop, [&](const std::string& sql, std::vector<value> key) {
    return read_keyset_page(*db_, reader_, sql, std::move(key), stop);
  });
}

}  // namespace pipeline::detail
