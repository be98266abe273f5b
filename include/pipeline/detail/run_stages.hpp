#pragma once

// The seam between `pipeline::run`'s typed half (runner.hpp: the user's source, transform,
// sink, DLQ and store, compiled in the user's file) and the engine (src/core/runner/:
// threads, queue, retries, isolation, watermark, job log, scaling and progress, compiled once
// in the library). The engine sees batches only through this interface, so it is not a
// template; the typed half is a thin forwarding class with one virtual call per batch on the
// fast path.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include <pipeline/checkpoint.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/position.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline {

struct runner_options;
struct run_report;

namespace detail {

// The typed records of one batch (its inputs, and its outputs once transformed); only the
// typed half that made them reads them.
struct batch_records {
  batch_records() = default;
  batch_records(const batch_records&) = delete;
  auto operator=(const batch_records&) -> batch_records& = delete;
  virtual ~batch_records() = default;
};

// A batch as the engine carries it between its threads: the typed records behind a pointer,
// what the engine itself reads in the open. Moved from thread to thread, never shared.
struct batch_in_flight {
  std::unique_ptr<batch_records> records;
  std::size_t size = 0;                ///< input records
  position start;                      ///< exactly-once mode: where the source stood before it (the last batch's end)
  position end;
  std::vector<dead_letter> rejected;
  std::vector<position> positions;     ///< one per input record, or empty (see batch::positions)
  std::vector<std::size_t> origins;    ///< per-record transforms: the input index of each output
  std::uint64_t sequence = 0;
  std::uint32_t partition = 0;
};

// How a transform maps inputs to outputs, which decides how the engine isolates its failures.
enum class transform_shape : std::uint8_t {
  identity,    ///< outputs are the inputs
  per_record,  ///< one output per input that succeeds; fails record by record
  per_batch,   ///< outputs for a slice of inputs; fails for the whole slice
};

// How far a call to `run_stages::transform` got over [begin, end): inputs before `done_until`
// are transformed and their outputs appended; when `failure` is set, input `done_until` failed
// with it (per-batch transforms: done_until == begin, nothing appended).
struct transform_progress {
  std::size_t done_until = 0;
  std::optional<error> failure;
};

// The typed half of one run. Source calls come from one thread; the rest from every worker at
// once, each on a batch only it holds.
class run_stages {
 public:
  run_stages() = default;
  run_stages(const run_stages&) = delete;
  auto operator=(const run_stages&) -> run_stages& = delete;
  virtual ~run_stages() = default;

  virtual auto seek(const position& pos) -> result<void> = 0;
  virtual auto next_batch(std::stop_token stop) -> result<std::optional<batch_in_flight>> = 0;

  virtual auto load_checkpoint(const std::string& key) -> result<checkpoint> = 0;
  virtual auto save_checkpoint(const std::string& key, const position& pos, std::uint64_t version)
      -> result<std::uint64_t> = 0;
  virtual auto store_dead_letters(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> = 0;

  [[nodiscard]] virtual auto shape() const noexcept -> transform_shape = 0;
  // Transforms inputs [begin, end) and appends their outputs (see transform_progress).
  virtual auto transform(batch_in_flight& b, std::size_t begin, std::size_t end) -> transform_progress = 0;
  [[nodiscard]] virtual auto output_count(const batch_in_flight& b) const -> std::size_t = 0;

  // Whether the sink buffers (`flush` makes writes durable) and answers per record (`write_each`).
  [[nodiscard]] virtual auto flushes() const noexcept -> bool = 0;
  [[nodiscard]] virtual auto answers_per_record() const noexcept -> bool = 0;
  // Whether the sink commits dead letters of the run's DLQ in its own transactions
  // (`dead_letter_sharing_sink`, on the same database): only then may the writes below be
  // given `letters`, which commit with the records. Asked once per run.
  [[nodiscard]] virtual auto shares_dlq_transactions() const noexcept -> bool = 0;
  // Writes outputs [begin, end), and `letters` into the DLQ in the same transaction;
  // exceptions from the sink come back as `internal` errors.
  virtual auto write(batch_in_flight& b, std::size_t begin, std::size_t end, std::span<const dead_letter> letters,
                     std::stop_token stop) -> result<void> = 0;
  // Only when answers_per_record(): indices in the result are relative to `begin`.
  virtual auto write_each(batch_in_flight& b, std::size_t begin, std::size_t end, std::span<const dead_letter> letters,
                          std::stop_token stop) -> result<std::vector<rejected_record>> = 0;
  virtual auto flush(std::stop_token stop) -> result<void> = 0;

  // Exactly-once (batch_ledger.hpp): whether the sink is a transactional_sink that keeps a
  // ledger, and its three calls; the last three only when transactional().
  [[nodiscard]] virtual auto transactional() const noexcept -> bool = 0;
  // Writes outputs [begin, end) with `entry` (and `letters`, as `write`) in one transaction.
  virtual auto write_committed(batch_in_flight& b, std::size_t begin, std::size_t end, const committed_batch& entry,
                               std::span<const dead_letter> letters, std::stop_token stop) -> result<void> = 0;
  virtual auto committed_batches(const std::string& job, std::stop_token stop)
      -> result<std::vector<committed_batch>> = 0;
  virtual auto forget_batches(const std::string& job, std::uint64_t run, std::uint64_t sequence, std::stop_token stop)
      -> result<void> = 0;
  // Removes the inputs that `skip` marks (one flag per input), and their positions, before the
  // batch is transformed: an earlier run committed them.
  virtual void drop_inputs(batch_in_flight& b, const std::vector<bool>& skip) = 0;

  // The bytes a dead letter keeps of an input or an output record.
  [[nodiscard]] virtual auto input_payload(const batch_in_flight& b, std::size_t i) const -> std::string = 0;
  [[nodiscard]] virtual auto output_payload(const batch_in_flight& b, std::size_t j) const -> std::string = 0;
};

// The engine: runs `stages` under `options` until the source ends, `stop` fires or the run
// fails (src/core/runner/engine.cpp). `options` must have been validated.
[[nodiscard]] auto run_engine(run_stages& stages, const runner_options& options, std::stop_token stop) -> run_report;

}  // namespace detail
}  // namespace pipeline
