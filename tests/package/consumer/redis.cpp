// A consumer's program on pipeline::redis, without a server: it reaches hiredis through pipeline
// and gets a clear transient error from port 1, where nothing listens. Proves the component
// links from an install with its private dependency found for the consumer.
#include <pipeline/redis/redis.hpp>

#include <chrono>

#include <fmt/format.h>

int main() {
  // No outage budget: the first refused connect is the error (the default waits 5 minutes).
  auto r = pipeline::redis::client::connect({.uri = "redis://127.0.0.1:1/0", .outage_budget = std::chrono::milliseconds{0}});
  const auto e = r ? pipeline::error{} : r.error();
  fmt::print("redis: {}\n", e);
  return e.kind == pipeline::error_kind::transient ? 0 : 1;
}
