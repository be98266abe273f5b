// A consumer's program on pipeline::mongodb, without a server: it reaches libmongoc through pipeline
// and gets a clear transient error from port 1, where nothing listens (no outage budget, so
// the first failure is the error rather than a 5-minute wait). Proves the component links from
// an install with its private dependency found for the consumer.
#include <pipeline/mongodb/mongodb.hpp>

#include <fmt/format.h>

int main() {
  auto r = pipeline::mongodb::client::open("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200&outage-budget-ms=0")->ping();
  const auto e = r ? pipeline::error{} : r.error();
  fmt::print("mongodb: {}\n", e);
  return e.kind == pipeline::error_kind::transient ? 0 : 1;
}
