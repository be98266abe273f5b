#include <pipeline/mysql/keyset_source.hpp>
#include <pipeline/source.hpp>

#include <utility>

#include <fmt/format.h>

#include "binding.hpp"
#include "connection.hpp"
#include "relational/keyset_source.hpp"
#include "row_reader.hpp"

namespace pipeline::mysql {

// `?` marks, in the order key, filter, limit.
const pipeline::detail::sql_spelling detail::spelling{"mysql", &detail::quoted_identifier,
                                                   pipeline::detail::parameter_marks::question};

auto check_query(database& db, const std::string& sql) -> result<void> {
  auto c = detail::database_access::borrow(db);
  if (!c) return std::move(c).error();
  if (auto prepared = (*c)->prepare(sql); !prepared) return std::move(prepared).error();
  return ok();
}

// A page whose connection was lost is read again whole, on a new one: a read may be repeated.
auto read_keyset_page(database& db, const pipeline::detail::keyset_reader& reader, const std::string& sql,
                      std::vector<value> params, const std::stop_token& stop) -> result<pipeline::detail::keyset_page> {
  const auto& options = reader.options();
  params.insert(params.end(), options.filter_parameters.begin(), options.filter_parameters.end());
  params.push_back(reader.limit());
  const auto context = fmt::format("reading {} by key", options.table);
  return detail::database_access::read(db, stop, [&](detail::connection& c) -> result<pipeline::detail::keyset_page> {
    auto st = c.prepare(sql);
    if (!st) return std::move(st).error();
    auto bound = detail::parameters::bind(params);
    if (!bound) return std::move(bound).error();
    if (auto done = st->execute((*bound)->data(), context); !done) return std::move(done).error();
    auto rows = detail::statement_rows::open(*st, context);
    if (!rows) return std::move(rows).error();
    return reader.read_page(context, [&](std::optional<error>& problem) { return rows->next(problem); });
  });
}

}  // namespace pipeline::mysql

template class pipeline::detail::keyset_source<pipeline::mysql::database>;
static_assert(pipeline::seekable_source<pipeline::mysql::keyset_source>);
