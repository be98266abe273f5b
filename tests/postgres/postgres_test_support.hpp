#pragma once
// What the PostgreSQL tests share: the server from PIPELINE_POSTGRES_TEST_URI (the test fails
// when it is unset), tables named apart per test, and rows read back through libpq itself.

#include <pipeline/postgres/postgres.hpp>

#include <libpq-fe.h>

#include <charconv>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/relational_contracts.hpp"
#include "support/services.hpp"

namespace postgres_test {

inline auto uri() -> std::string { return pipeline::test::service_uri("PIPELINE_POSTGRES_TEST_URI"); }

inline auto open_db(const std::string& where = uri()) -> std::shared_ptr<pipeline::postgres::database> {
  return pipeline::postgres::database::open(where).value();
}

// A table name no other test, process or preset shares, within PostgreSQL's 63 characters.
inline auto table_name(std::string_view prefix) -> std::string {
  const auto full = pipeline::test::unique_name(prefix);
  if (full.size() <= 63) return full;
  return fmt::format("{}_{:016x}", prefix.substr(0, 40), std::hash<std::string>{}(full));
}

inline void exec(pipeline::postgres::database& db, const std::string& sql) {
  auto r = pipeline::postgres::execute(db, sql);
  if (!r) throw std::runtime_error(fmt::format("{}: {}", sql, r.error()));
}

// A libpq connection of the test's own, to check what the library wrote.
class client {
 public:
  client() : conn_(PQconnectdb(uri().c_str()), &PQfinish) {
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      throw std::runtime_error(fmt::format("connecting: {}", PQerrorMessage(conn_.get())));
    }
  }
  // Every row of `sql`: integers (int2/4/8) as int64, NULL as null, the rest as its text.
  auto rows(const std::string& sql) -> std::vector<pipeline::record> {
    std::unique_ptr<PGresult, decltype(&PQclear)> r{PQexec(conn_.get(), sql.c_str()), &PQclear};
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK && PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      throw std::runtime_error(fmt::format("{}: {}", sql, PQresultErrorMessage(r.get())));
    }
    std::vector<pipeline::record> out;
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      pipeline::record rec;
      for (int col = 0; col < PQnfields(r.get()); ++col) {
        const char* name = PQfname(r.get(), col);
        if (PQgetisnull(r.get(), row, col) != 0) {
          rec.set(name, pipeline::value{});
          continue;
        }
        const std::string text = PQgetvalue(r.get(), row, col);
        const Oid type = PQftype(r.get(), col);
        if (type == 20 || type == 21 || type == 23) {
          std::int64_t n = 0;
          std::from_chars(text.data(), text.data() + text.size(), n);
          rec.set(name, n);
        } else {
          rec.set(name, text);
        }
      }
      out.push_back(std::move(rec));
    }
    return out;
  }
  [[nodiscard]] auto get() const noexcept -> PGconn* { return conn_.get(); }

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

inline auto rows(const std::string& sql) -> std::vector<pipeline::record> { return client{}.rows(sql); }

inline auto count(pipeline::postgres::database& db, const std::string& table) -> std::int64_t {
  return pipeline::postgres::query_int64(db, fmt::format("SELECT COUNT(*) FROM \"{}\"", table)).value().at(0).value();
}

// The adapter as tests/support/relational_contracts.hpp takes it.
struct server {
  using database = pipeline::postgres::database;
  using table_sink = pipeline::postgres::table_sink;
  using table_sink_options = pipeline::postgres::table_sink_options;
  using write_mode = pipeline::postgres::write_mode;
  using checkpoint_store = pipeline::postgres::checkpoint_store;
  using checkpoint_store_options = pipeline::postgres::checkpoint_store_options;
  using dead_letter_table = pipeline::postgres::dead_letter_table;
  using job_log = pipeline::postgres::job_log;
  using job_log_options = pipeline::postgres::job_log_options;
  using keyset_source = pipeline::postgres::keyset_source;
  using cursor_source = pipeline::postgres::cursor_source;
  static auto open_db() { return postgres_test::open_db(); }
  static auto table_name(std::string_view prefix) { return postgres_test::table_name(prefix); }
  static auto quote(std::string_view name) { return fmt::format("\"{}\"", name); }
  static void exec(database& db, const std::string& sql) { postgres_test::exec(db, sql); }
  static auto rows(const std::shared_ptr<database>& /*db*/, const std::string& sql) { return postgres_test::rows(sql); }
  static void drop(database& db, const std::string& table) {
    (void)pipeline::postgres::execute(db, fmt::format("DROP TABLE IF EXISTS {}", quote(table)));
  }
};

// Drops its tables when the test ends, pass or fail.
using dropped_tables = pipeline::test::dropped_tables<server>;

}  // namespace postgres_test
