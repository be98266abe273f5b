#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>

#include <pipeline/redis/client.hpp>
#include <pipeline/result.hpp>

namespace pipeline::redis {

struct rate_limiter_options {
  std::string key{"pipeline:rate"};       ///< the bucket's hash; every process sharing it shares the limit
  std::uint64_t tokens_per_period{100};
  std::chrono::milliseconds period{1000};
  std::uint64_t burst{10};                ///< the most tokens at once; the bucket starts full
};

/// A token bucket in Redis shared by every process: the limit holds for all of them together
/// (e.g. 100 e-mails a minute however many workers send).
///
/// Each take is one Lua script that refills by the server's TIME (so clocks of the client
/// machines do not matter) and takes tokens only when all are there. The bucket key expires
/// once it would be full again, so an idle limiter leaves nothing behind.
///
/// Contract: thread-safe (through the shared `client`); `try_acquire` never waits beyond one
/// round trip; `acquire` sleeps until the server says the tokens should be there and returns
/// a `stopped` error at once on stop. Errors as `client` describes.
///
///     pipeline::redis::rate_limiter email{client, {.key = "email", .tokens_per_period = 100,
///                                                  .period = std::chrono::minutes{1}}};
///     if (auto r = email.acquire(1, stop); !r) return r.error();
class rate_limiter {
 public:
  /// Throws std::invalid_argument if `c` is null, or a count or the period is not positive.
  rate_limiter(std::shared_ptr<client> c, rate_limiter_options options);

  /// Takes `n` tokens if all are there now; false, none taken, otherwise.
  /// `n` > burst is an `invalid_input` error (it could never be granted).
  [[nodiscard]] auto try_acquire(std::uint64_t n = 1) -> result<bool>;

  /// Takes `n` tokens, waiting for them.
  [[nodiscard]] auto acquire(std::uint64_t n, std::stop_token stop) -> result<void>;

 private:
  // Takes or not; when not, how long until the tokens should be there.
  auto take(std::uint64_t n) -> result<std::chrono::microseconds>;

  std::shared_ptr<client> client_;
  rate_limiter_options options_;
};

}  // namespace pipeline::redis
