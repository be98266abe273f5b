#include <pipeline/postgres/keyset_source.hpp>
#include <pipeline/source.hpp>

#include <utility>

#include <fmt/format.h>

#include "connection.hpp"
#include "relational/keyset_source.hpp"
#include "row_reader.hpp"

namespace pipeline::postgres {

// `$n` marks, the filter's first ($1 … $n, as its author numbered them), then the key's, then
// the limit.
const pipeline::detail::sql_spelling detail::spelling{"postgres", &detail::quoted_identifier,
                                                   pipeline::detail::parameter_marks::numbered};

auto check_query(database& db, const std::string& sql) -> result<void> {
  auto c = detail::database_access::borrow(db);
  if (!c) return std::move(c).error();
  return (*c)->check(sql);
}

// A page whose connection was lost is read again whole, on a new one: a read may be repeated.
auto read_keyset_page(database& db, const pipeline::detail::keyset_reader& reader, const std::string& sql,
                      const std::vector<value>& key, const std::stop_token& stop) -> result<pipeline::detail::keyset_page> {
  const auto& options = reader.options();
  detail::parameters params;
  std::size_t next = 0;
  for (const auto* values : {&options.filter_parameters, &key}) {
    for (const auto& v : *values) {
      if (auto set = params.set(next++, v); !set) return std::move(set).error();
    }
  }
  (void)params.set(next, reader.limit());
  const auto context = fmt::format("reading {} by key", options.table);
  return detail::database_access::read(db, stop, [&](detail::connection& c) -> result<pipeline::detail::keyset_page> {
    auto rows = c.query(sql, &params, context);
    if (!rows) return std::move(rows).error();
    int row = 0;
    return reader.read_page(context, [&](std::optional<error>& problem) -> result<std::optional<record>> {
      if (row >= PQntuples(rows->get())) return std::optional<record>{};
      return std::optional{detail::row_record(rows->get(), row++, problem)};
    });
  });
}

}  // namespace pipeline::postgres

template class pipeline::detail::keyset_source<pipeline::postgres::database>;
static_assert(pipeline::seekable_source<pipeline::postgres::keyset_source>);
