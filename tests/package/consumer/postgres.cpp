// A consumer's program on pipeline::postgres, without a server: it reaches libpq through
// pipeline and gets a clear transient error from port 1, where nothing listens. Proves the
// component links from an install with its private dependency found for the consumer.
#include <pipeline/postgres/postgres.hpp>

#include <fmt/format.h>

int main() {
  // No outage budget: the first refused connect is the error (the default waits 5 minutes).
  auto r = pipeline::postgres::database::open("postgresql://u:p@127.0.0.1:1/db?outage-budget-ms=0");
  const auto e = r ? pipeline::error{} : r.error();
  fmt::print("postgres: {}\n", e);
  return e.kind == pipeline::error_kind::transient ? 0 : 1;
}
