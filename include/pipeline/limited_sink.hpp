#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
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

namespace detail {
// The records per write under `limits`: at most the limiter's burst when it counts records.
[[nodiscard]] auto limited_piece_size(const sink_limits& limits, std::size_t batch) -> std::size_t;

// The cap on writes in flight of a limited_sink. Thread-safe. Its mutex and condition
// variable live in src/core/limited_sink.cpp, so that no user file compiles them.
class write_slots {
 public:
  explicit write_slots(std::size_t max_in_flight);  // 0: no cap, acquire never waits
  write_slots(const write_slots&) = delete;
  auto operator=(const write_slots&) -> write_slots& = delete;
  ~write_slots();

  // Waits for a free slot; false when `stop` fired first (no slot taken).
  [[nodiscard]] auto acquire(const std::stop_token& stop) -> bool;
  // Gives back a slot `acquire` took.
  void release() noexcept;

 private:
  struct state;
  std::unique_ptr<state> state_;  // null without a cap
};
}  // namespace detail

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

  limited_sink(Sink& inner, sink_limits limits) : inner_(inner), limits_(limits), slots_(limits.max_in_flight) {}

  [[nodiscard]] auto write(std::span<const value_type> records, std::stop_token stop) -> result<void> {
    if (records.empty()) return write_piece(records, stop);
    const std::size_t piece = piece_size(records.size());
    for (std::size_t first = 0; first < records.size(); first += piece) {
      if (auto written = write_piece(records.subspan(first, piece_at(records.size(), first, piece)), stop); !written) {
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
      auto part = write_part(records.subspan(first, piece_at(records.size(), first, piece)));
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
  auto piece_size(std::size_t batch) const -> std::size_t { return detail::limited_piece_size(limits_, batch); }
  // The length of the piece at `first`: `piece`, or what is left.
  static auto piece_at(std::size_t size, std::size_t first, std::size_t piece) noexcept -> std::size_t {
    return size - first < piece ? size - first : piece;
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
    if (!slots_.acquire(stop)) return stopped_error();
    auto written = write();
    slots_.release();
    return written;
  }

  Sink& inner_;
  sink_limits limits_;
  detail::write_slots slots_;
};

}  // namespace pipeline
