#include <pipeline/mysql/keyset_source.hpp>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>


#include "binding.hpp"
#include "connection.hpp"
#include "relational/keyset_source.hpp"
#include "row_reader.hpp"

namespace pipeline::mysql {
namespace {

// The `?` of a filter outside quoted strings and names: the parameters it takes.
auto placeholders(std::string_view sql) -> std::size_t {
  std::size_t count = 0;
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == '\\' && quote != '`') ++i;
      else if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"' || c == '`') {
      quote = c;
    } else if (c == '?') {
      ++count;
    }
  }
  return count;
}

}  // namespace
}  // namespace pipeline::mysql

// How the shared keyset source reads MySQL: `?` marks, in the order key, filter, limit.
template <>
struct pipeline::detail::keyset_backend<pipeline::mysql::database> {
  static constexpr std::string_view name = "mysql";
  static auto spelling() {
    return keyset_dialect{&mysql::detail::quoted_identifier, [](std::size_t /*n*/) { return std::string{"?"}; },
                          &mysql::placeholders};
  }
  static auto check(mysql::database& db, const std::string& sql) -> result<void> {
    auto c = mysql::detail::database_access::borrow(db);
    if (!c) return std::move(c).error();
    if (auto prepared = (*c)->prepare(sql); !prepared) return std::move(prepared).error();
    return ok();
  }
  static auto read_page(mysql::database& db, const keyset_reader& reader, const std::string& sql,
                        std::vector<value> params, const std::stop_token& stop) -> result<keyset_page> {
    const auto& options = reader.options();
    params.insert(params.end(), options.filter_parameters.begin(), options.filter_parameters.end());
    params.push_back(reader.limit());
    const auto context = fmt::format("reading {} by key", options.table);
    // A page whose connection was lost is read again whole, on a new one: a read may be repeated.
    return mysql::detail::database_access::read(db, stop, [&](mysql::detail::connection& c) -> result<keyset_page> {
      auto st = c.prepare(sql);
      if (!st) return std::move(st).error();
      auto bound = mysql::detail::parameters::bind(params);
      if (!bound) return std::move(bound).error();
      if (auto done = st->execute((*bound)->data(), context); !done) return std::move(done).error();
      auto rows = mysql::detail::statement_rows::open(*st, context);
      if (!rows) return std::move(rows).error();
      return reader.read_page(context, [&](std::optional<error>& problem) { return rows->next(problem); });
    });
  }
};

template class pipeline::detail::keyset_source<pipeline::mysql::database>;
