#pragma once

// The members of pipeline::detail::keyset_source (include/pipeline/detail/keyset_reader.hpp),
// for an adapter to instantiate for its `Database` in the source file that specialises
// `keyset_backend` for it (src/<adapter>/keyset_source.cpp):
//
//     template <> struct pipeline::detail::keyset_backend<pipeline::mysql::database> { … };
//     template class pipeline::detail::keyset_source<pipeline::mysql::database>;

#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <pipeline/detail/keyset_reader.hpp>

namespace pipeline::detail {

/// What an adapter tells the keyset source about its `Database`:
///
///     static constexpr std::string_view name;                    // "mysql"
///     static auto spelling();                                    // a keyset_dialect
///     static auto check(Database&, const std::string& sql)      // has the server check a query
///         -> result<void>;
///     static auto read_page(Database&, const keyset_reader&,     // runs `sql` with the key's
///         const std::string& sql, std::vector<value> key,        // values and the filter's;
///         const std::stop_token&) -> result<keyset_page>;        // reader.read_page makes the page
template <class Database>
struct keyset_backend;

template <class Database>
auto keyset_source<Database>::open(std::shared_ptr<Database> db, keyset_options options) -> result<keyset_source> {
  using backend = keyset_backend<Database>;
  const auto who = fmt::format("{}::keyset_source::open", backend::name);
  if (db == nullptr) throw std::invalid_argument(fmt::format("{}: db is null", who));
  auto queries = plan_keyset(options, who, backend::spelling());
  if (auto checked = backend::check(*db, queries.next); !checked) return std::move(checked).error();
  return keyset_source{std::move(db), keyset_reader{std::move(options), std::move(queries)}};
}

template <class Database>
auto keyset_source<Database>::seek(const position& p) -> result<void> {
  return reader_.seek(p, fmt::format("{}::keyset_source::seek", keyset_backend<Database>::name));
}

template <class Database>
auto keyset_source<Database>::next_batch(std::stop_token stop) -> result<std::optional<batch<record>>> {
  return reader_.next_batch(stop, [&](const std::string& sql, std::vector<value> key) {
    return keyset_backend<Database>::read_page(*db_, reader_, sql, std::move(key), stop);
  });
}

}  // namespace pipeline::detail
