#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <condition_variable>
#include <mutex>
#include <span>
#include <stdexcept>
#include <stop_token>

#include <pipeline/rate_limiter.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>

namespace pipeline {

/// What a `limited_sink` lets through: a shared rate, and a cap on calls in flight.
struct sink_limits {
  rate_limiter* rate = nullptr;      ///< shared by every worker (and every sink using it); null: no rate limit
  bool rate_per_record = true;       ///< one token per record (an email each), or one per write call
  std::size_t max_in_flight = 0;     ///< writes running at once; 0: no cap
};

/// A sink that waits for its limits before each write: "100 emails a minute shared by all
/// workers, at most 5 requests in flight".
///
/// Thread-safe if `Sink` is. A batch larger than the limiter's burst is written in pieces that
/// each fit, so that no write waits for more tokens than the bucket can hold. Waiting honours
/// the stop token: the write returns `stopped`, and the pieces already written stay written
/// (the runner redoes a stopped batch, so pair this with an idempotent sink or accept
/// at-least-once). Holds a reference to the wrapped sink and to the limiter: both must
/// outlive it.
///
///     pipeline::rate_limiter per_minute{100, std::chrono::minutes{1}, 5};
///     pipeline::limited_sink mail{mailer, {.rate = &per_minute, .rate_per_record = true, .max_in_flight = 5}};
template <sink Sink>
class limited_sink {
 public:
  using value_type = sink_value_t<Sink>;

  limited_sink(Sink& inner, sink_limits limits) : inner_(inner), limits_(limits) {}

  [[nodiscard]] auto write(std::span<const value_type> records, std::stop_token stop) -> result<void> {
    const std::size_t piece = limits_.rate != nullptr && limits_.rate_per_record
                                  ? static_cast<std::size_t>(std::max<std::uint64_t>(limits_.rate->burst(), 1))
                                  : std::max<std::size_t>(records.size(), 1);
    if (records.empty()) return write_piece(records, stop);
    for (std::size_t first = 0; first < records.size(); first += piece) {
      if (auto written = write_piece(records.subspan(first, std::min(piece, records.size() - first)), stop); !written) {
        return written;
      }
    }
    return ok();
  }

 private:
  auto write_piece(std::span<const value_type> part, const std::stop_token& stop) -> result<void> {
    if (limits_.rate != nullptr) {
      const std::uint64_t tokens = limits_.rate_per_record ? part.size() : 1;
      if (tokens > 0 && !limits_.rate->acquire(tokens, stop)) return stopped_error();
    }
    if (limits_.max_in_flight == 0) return inner_.write(part, stop);
    {
      std::unique_lock lock{mutex_};
      if (!slot_free_.wait(lock, stop, [&] { return in_flight_ < limits_.max_in_flight; })) return stopped_error();
      ++in_flight_;
    }
    auto written = inner_.write(part, stop);
    {
      std::scoped_lock lock{mutex_};
      --in_flight_;
    }
    slot_free_.notify_one();
    return written;
  }

  Sink& inner_;
  sink_limits limits_;
  std::mutex mutex_;
  std::condition_variable_any slot_free_;
  std::size_t in_flight_ = 0;
};

}  // namespace pipeline
