#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <pipeline/backoff.hpp>
#include <pipeline/clock.hpp>
#include <pipeline/codec.hpp>
#include <pipeline/dead_letter_store.hpp>
#include <pipeline/error.hpp>
#include <pipeline/result.hpp>
#include <pipeline/retry.hpp>
#include <pipeline/runner.hpp>
#include <pipeline/sink.hpp>

namespace pipeline {

/// How a replay reads payloads back and carries out its calls. A plain struct; `decode` is
/// required (what `payload_traits`, a codec or `to_payload` made of a `T`, read back).
template <class T>
struct replay_options {
  /// Reads one letter's payload back into the record the transform takes. An error (or an
  /// exception) counts as the letter failing again, with that reason.
  std::function<result<T>(std::string_view)> decode;
  std::size_t page_size{256};  ///< letters read, transformed and written at a time
  /// For transient errors of the store and the sink (the whole page); a record's own
  /// transient failure after these attempts counts as failing again.
  backoff_options retry{};
  clock* time{nullptr};  ///< nullptr: the real steady clock
};

/// A `replay_options::decode` from a codec: `codec_decoder<T>(pipeline::record_codec{})`.
template <class T, class C>
  requires codec<C, T>
[[nodiscard]] auto codec_decoder(C c) -> std::function<result<T>(std::string_view)> {
  return [c = std::move(c)](std::string_view payload) mutable { return c.decode(payload); };
}

/// What a replay did. `read == resolved + failed_again` unless it failed or was stopped.
struct replay_report {
  std::uint64_t read{0};          ///< pending letters that matched the filter
  std::uint64_t resolved{0};      ///< written to the sink and resolved in the store
  std::uint64_t failed_again{0};  ///< failed to decode, transform or write: attempts raised, reason replaced
  bool stopped{false};            ///< the stop token ended it between pages
};

namespace detail {

// The outcome of one letter's decode and transform: the output to write, or why it failed.
template <class U>
struct replay_item {
  std::string id;
  std::optional<U> output;
  error reason;
};

// Writes `outputs`; returns, per output, the error that refused it (nullopt: written). A sink
// that answers per record says it; for one that does not, a refused page is written one record
// at a time to find the refused ones (replays are small, so this beats bisecting).
template <sink Sink>
auto replay_write(Sink& sink, std::span<const sink_value_t<Sink>> outputs, const backoff_options& retry_options,
                  clock& clk, std::stop_token stop) -> result<std::vector<std::optional<error>>> {
  std::vector<std::optional<error>> refused(outputs.size());
  if (outputs.empty()) return refused;
  if constexpr (per_record_sink<Sink>) {
    if (answers_per_record(sink)) {
      auto answer = retry([&] { return call_user("the sink", [&] { return sink.write_each(outputs, stop); }); },
                          retry_options, stop, clk);
      if (!answer) return std::move(answer).error();
      for (auto& r : *answer) refused[r.index] = std::move(r.reason);
      return refused;
    }
  }
  auto whole = retry([&] { return call_user("the sink", [&] { return sink.write(outputs, stop); }); }, retry_options,
                     stop, clk);
  if (whole) return refused;
  if (whole.error().kind == error_kind::stopped) return std::move(whole).error();
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    auto one = retry([&] { return call_user("the sink", [&] { return sink.write(outputs.subspan(i, 1), stop); }); },
                     retry_options, stop, clk);
    if (!one && one.error().kind == error_kind::stopped) return std::move(one).error();
    if (!one) refused[i] = std::move(one).error();
  }
  return refused;
}

}  // namespace detail

/// Tries the pending dead letters of `store` that match `filter` again: decodes each payload,
/// runs `transform` (per record: `U(const T&)` or `result<U>(const T&)`), writes the outputs to
/// `sink`, resolves the letters that were written and records a failure (attempts + 1, the new
/// reason) for the others, which stay pending. A page at a time, in id order.
///
/// Guarantees: a letter is resolved only after the sink accepted its record, so nothing is
/// lost; a crash (or a failed `resolve`) between the write and the resolve replays that page
/// again next time: at-least-once, exactly-once only with a sink idempotent by key (the
/// upserting table sinks). Letters that fail again are skipped for the rest of this call
/// (the page cursor moves past them), so a replay ends. A store or sink error that outlasts
/// `options.retry` returns that error; what was resolved before stays resolved. A stop
/// requested ends the replay between pages (`report.stopped`).
///
/// Blocking, on the calling thread; holds `store`, `transform` and `sink` only for the call,
/// and one page of letters and outputs in memory. Payloads must be what `decode` reads: the runner stores
/// the *input* record of a transform failure but the *output* record of a sink failure
/// (docs/replay.md), so replay the two with a filter each when both happened.
///
///     auto report = pipeline::replay(dlq, {.job = "listings"}, fixed_parse, sink,
///                                    pipeline::replay_options<std::string>{.decode = as_text}, stop);
template <dead_letter_store Store, class Transform, sink Sink, class T>
  requires std::invocable<Transform&, const T&>
auto replay(Store& store, const dead_letter_filter& filter, Transform&& transform, Sink& sink,
            const replay_options<T>& options, std::stop_token stop = {}) -> result<replay_report> {
  using output = typename detail::unwrap_result<std::invoke_result_t<Transform&, const T&>>::type;
  static_assert(std::is_convertible_v<output, sink_value_t<Sink>>, "the transform's output must be the sink's value_type");
  if (!options.decode) throw std::invalid_argument("replay_options::decode is empty");
  if (options.page_size == 0) throw std::invalid_argument("replay_options::page_size must be > 0");
  validate(options.retry);
  clock& clk = options.time != nullptr ? *options.time : steady_clock();

  replay_report report;
  std::optional<std::string> after;
  for (;;) {
    if (stop.stop_requested()) {
      report.stopped = true;
      return report;
    }
    auto page = retry([&] { return store.read(filter, after, options.page_size, stop); }, options.retry, stop, clk);
    if (!page) {
      if (page.error().kind == error_kind::stopped) {
        report.stopped = true;
        return report;
      }
      return std::move(page).error();
    }
    if (page->empty()) return report;
    after = page->back().id;
    report.read += page->size();

    std::vector<failed_replay> failures;
    std::vector<std::string> written_ids;
    std::vector<sink_value_t<Sink>> outputs;
    std::vector<std::string> output_ids;
    for (auto& stored : *page) {
      auto input = detail::call_user("the decoder", [&] { return options.decode(stored.letter.payload); });
      if (!input) {
        failures.push_back({std::move(stored.id), std::move(input).error()});
        continue;
      }
      auto out = detail::call_user("the transform", [&]() -> result<output> { return transform(std::as_const(*input)); });
      if (!out) {
        failures.push_back({std::move(stored.id), std::move(out).error()});
        continue;
      }
      outputs.push_back(std::move(*out));
      output_ids.push_back(std::move(stored.id));
    }
    auto refused = detail::replay_write(sink, std::span<const sink_value_t<Sink>>{outputs}, options.retry, clk, stop);
    if (!refused) {
      if (refused.error().kind == error_kind::stopped) {
        report.stopped = true;
        return report;
      }
      return std::move(refused).error();
    }
    for (std::size_t i = 0; i < output_ids.size(); ++i) {
      if ((*refused)[i]) {
        failures.push_back({std::move(output_ids[i]), std::move(*(*refused)[i])});
      } else {
        written_ids.push_back(std::move(output_ids[i]));
      }
    }
    // Not stoppable: what the sink took must be resolved, or the next replay writes it again.
    if (auto done = retry([&] { return store.resolve(std::span<const std::string>{written_ids}, {}); },
                          options.retry, {}, clk);
        !done) {
      return std::move(done).error();
    }
    report.resolved += written_ids.size();
    if (auto done = retry([&] { return store.record_failure(std::span<const failed_replay>{failures}, {}); },
                          options.retry, {}, clk);
        !done) {
      return std::move(done).error();
    }
    report.failed_again += failures.size();
  }
}

}  // namespace pipeline
