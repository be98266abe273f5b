#include <pipeline/redis/rate_limiter.hpp>

#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>

namespace pipeline::redis {
namespace {

// KEYS[1] the bucket; ARGV: tokens per period, period µs, burst, n. Returns the µs to wait
// (0: taken). Scripts that call TIME may write since Redis 5 (effects replication).
constexpr std::string_view take_script = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rate, period, burst, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(s[1]), tonumber(s[2])
if tokens == nil or ts == nil then tokens, ts = burst, now end
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / period) end
local wait = 0
if tokens >= n then tokens = tokens - n else wait = math.ceil((n - tokens) * period / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(math.max(now, ts)))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * period / rate / 1000) + 1000)
return wait
)lua";

}  // namespace

rate_limiter::rate_limiter(std::shared_ptr<client> c, rate_limiter_options options)
    : client_(std::move(c)), options_(std::move(options)) {
  if (!client_) throw std::invalid_argument("pipeline::redis::rate_limiter: client is null");
  if (options_.tokens_per_period == 0) throw std::invalid_argument("pipeline::redis::rate_limiter: tokens_per_period is 0");
  if (options_.period.count() <= 0) throw std::invalid_argument("pipeline::redis::rate_limiter: period is not positive");
  if (options_.burst == 0) throw std::invalid_argument("pipeline::redis::rate_limiter: burst is 0");
}

auto rate_limiter::take(std::uint64_t n) -> result<std::chrono::microseconds> {
  if (n > options_.burst) {
    return invalid_input_error(fmt::format("rate limiter: {} tokens asked, more than the burst of {}", n, options_.burst));
  }
  const std::vector<std::string> keys{options_.key};
  const std::vector<std::string> args{std::to_string(options_.tokens_per_period),
                                      std::to_string(std::chrono::microseconds{options_.period}.count()),
                                      std::to_string(options_.burst), std::to_string(n)};
  auto r = client_->eval(take_script, keys, args);
  if (!r) return std::move(r).error();
  return std::chrono::microseconds{r->integer};
}

auto rate_limiter::try_acquire(std::uint64_t n) -> result<bool> {
  auto wait = take(n);
  if (!wait) return std::move(wait).error();
  return wait->count() == 0;
}

auto rate_limiter::acquire(std::uint64_t n, std::stop_token stop) -> result<void> {
  std::mutex m;
  std::condition_variable_any cv;
  for (;;) {
    if (stop.stop_requested()) return stopped_error();
    auto wait = take(n);
    if (!wait) return std::move(wait).error();
    if (wait->count() == 0) return ok();
    std::unique_lock lock{m};
    // Sleeps until the tokens should be there, or the stop: another process may take them
    // first, and then the loop waits again.
    cv.wait_for(lock, stop, *wait, [] { return false; });
  }
}

}  // namespace pipeline::redis
