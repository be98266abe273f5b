#include <pipeline/postgres/cursor_source.hpp>

#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "connection.hpp"
#include "relational/cursor_source.hpp"
#include "row_reader.hpp"

// The open cursor: a connection of its own, inside the transaction that holds the cursor.
// Closing the connection ends both.
template <>
struct pipeline::detail::cursor_stream<pipeline::postgres::database> {
  std::unique_ptr<postgres::detail::connection> c;
  bool drained = false;  // a FETCH or the MOVE came back short: no row is left
};

namespace pipeline::postgres {
namespace {

using stream = pipeline::detail::cursor_stream<database>;

// The cursor's name: one per connection, and the connection is the source's own.
constexpr std::string_view cursor_name = "pipeline_cursor";

// The row count of a command tag ("MOVE 42").
auto rows_of(PGresult* r) -> std::int64_t {
  const std::string_view n = PQcmdTuples(r);
  std::int64_t out = 0;
  std::from_chars(n.data(), n.data() + n.size(), out);
  return out;
}

}  // namespace

auto open_cursor(database& db, const cursor_source_options& options, std::int64_t skip, const std::stop_token& stop)
    -> result<std::unique_ptr<stream>> {
  // A value PostgreSQL cannot take fails before anything is sent.
  detail::parameters params;
  for (std::size_t i = 0; i < options.parameters.size(); ++i) {
    if (auto set = params.set(i, options.parameters[i]); !set) {
      return invalid_input_error(fmt::format("postgres::cursor_source: parameter ${}: {}", i + 1, set.error().message));
    }
  }
  auto connected = detail::database_access::open_dedicated(db, stop);
  if (!connected) return std::move(connected).error();
  auto s = std::make_unique<stream>(stream{std::move(*connected)});
  if (auto begun = s->c->execute(fmt::format("BEGIN; SET LOCAL idle_in_transaction_session_timeout = {}",
                                             options.server_idle_timeout.count() * 1000));
      !begun) {
    return std::move(begun).error();
  }
  if (auto declared = s->c->query(fmt::format("DECLARE {} NO SCROLL CURSOR FOR {}", cursor_name, options.query),
                                  &params, "cursor query");
      !declared) {
    return std::move(declared).error();
  }
  // Resuming: the rows handed out before are skipped on the server, never sent.
  if (skip > 0) {
    auto moved = s->c->query(fmt::format("MOVE FORWARD {} IN {}", skip, cursor_name), nullptr,
                             "cursor query: skipping to the position");
    if (!moved) return std::move(moved).error();
    s->drained = rows_of(moved->get()) < skip;
  }
  return s;
}

auto fetch_rows(stream& s, std::size_t limit, pipeline::detail::counted_rows& out) -> result<bool> {
  if (s.drained) return true;
  auto rows = s.c->query(fmt::format("FETCH FORWARD {} FROM {}", limit, cursor_name), nullptr,
                         "cursor query: fetching rows");
  if (!rows) return std::move(rows).error();
  const PGresult* r = rows->get();
  const int read = PQntuples(r);
  for (int i = 0; i < read; ++i) {
    std::optional<error> problem;
    auto row = detail::row_record(r, i, problem);
    if (problem) out.reject(detail::row_text(r, i), std::move(*problem));
    else out.add(std::move(row));
  }
  s.drained = static_cast<std::size_t>(read) < limit;
  return s.drained;
}

}  // namespace pipeline::postgres

template class pipeline::detail::cursor_source<pipeline::postgres::database, pipeline::postgres::cursor_source_options>;
