#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <condition_variable>
#include <mutex>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <type_traits>
#include <utility>
#include <vector>

#include <pipeline/error.hpp>
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
/// Over a `per_record_sink` it is one too: `write_each` writes the same pieces with
/// `write_each` and returns their refusals by index in the whole batch. When a piece after
/// the first fails as a whole, the pieces before it stay committed, so that piece's records
/// and the rest are returned as refused with its error (retryable or not, as it was); a stop,
/// or a failure of the first piece, is the error of the whole call.
///
///     pipeline::rate_limiter per_minute{100, std::chrono::minutes{1}, 5};
///     pipeline::limited_sink mail{mailer, {.rate = &per_minute, .rate_per_record = true, .max_in_flight = 5}};
template <sink Sink>
class limited_sink {
 public:
  using value_type = sink_value_t<Sink>;

  limited_sink(Sink& inner, sink_limits limits) : inner_(inner), limits_(limits) {}

  [[nodiscard]] auto write(std::span<const value_type> records, std::stop_token stop) -> result<void> {
    if (records.empty()) return write_piece(records, stop);
    const std::size_t piece = piece_size(records.size());
    for (std::size_t first = 0; first < records.size(); first += piece) {
      if (auto written = write_piece(records.subspan(first, std::min(piece, records.size() - first)), stop); !written) {
        return written;
      }
    }
    return ok();
  }

  [[nodiscard]] auto write_each(std::span<const value_type> records, std::stop_token stop)
      -> result<std::vector<rejected_record>>
    requires per_record_sink<Sink>
  {
    const auto write_part = [&](std::span<const value_type> part) {
      return limited(part, stop, [&] { return inner_.write_each(part, stop); });
    };
    std::vector<rejected_record> refused;
    if (records.empty()) return write_part(records);
    const std::size_t piece = piece_size(records.size());
    for (std::size_t first = 0; first < records.size(); first += piece) {
      auto part = write_part(records.subspan(first, std::min(piece, records.size() - first)));
      if (!part && (first == 0 || part.error().kind == error_kind::stopped)) return std::move(part).error();
      if (!part) {
        // The pieces before are committed: only this one and the rest are to be done again.
        for (std::size_t i = first; i < records.size(); ++i) refused.push_back({i, part.error()});
        break;
      }
      for (auto& r : *part) refused.push_back({first + r.index, std::move(r.reason)});
    }
    return refused;
  }

  /// What `pipeline::answers_per_record` says of the wrapped sink.
  [[nodiscard]] auto answers_per_record() const noexcept -> bool { return pipeline::answers_per_record(inner_); }

 private:
  auto piece_size(std::size_t batch) const -> std::size_t {
    return limits_.rate != nullptr && limits_.rate_per_record
               ? static_cast<std::size_t>(std::max<std::uint64_t>(limits_.rate->burst(), 1))
               : std::max<std::size_t>(batch, 1);
  }

  auto write_piece(std::span<const value_type> part, const std::stop_token& stop) -> result<void> {
    return limited(part, stop, [&] { return inner_.write(part, stop); });
  }

  // Waits for the rate and for a slot in flight, then calls `write` (one piece).
  template <class Write>
  auto limited(std::span<const value_type> part, const std::stop_token& stop, Write write)
      -> std::invoke_result_t<Write> {
    if (limits_.rate != nullptr) {
      const std::uint64_t tokens = limits_.rate_per_record ? part.size() : 1;
      if (tokens > 0 && !limits_.rate->acquire(tokens, stop)) return stopped_error();
    }
    if (limits_.max_in_flight == 0) return write();
    {
      std::unique_lock lock{mutex_};
      if (!slot_free_.wait(lock, stop, [&] { return in_flight_ < limits_.max_in_flight; })) return stopped_error();
      ++in_flight_;
    }
    auto written = write();
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
