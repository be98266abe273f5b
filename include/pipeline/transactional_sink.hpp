#pragma once

#include <concepts>
#include <cstdint>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/position.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>

namespace pipeline {

/// One entry of a transactional sink's batch ledger: a slice of a batch the runner committed,
/// with the records, in one transaction.
///
/// `job` is the run's checkpoint key. `run` numbers the runs of a job (1, 2, …: each run takes
/// one above the highest in the ledger) and `sequence` the batches of a run in reading order;
/// `slice` is the index of the slice's first output in its batch (0 unless a failing batch was
/// split). (`job`, `run`, `sequence`, `slice`) is the entry's identity. `start` and `end` are
/// where the source stood before the slice's first record and after its last: a record whose
/// own position `p` has `start <= p < end` is in the sink. A value type.
struct committed_batch {
  std::string job;
  std::uint32_t partition = 0;
  std::uint64_t run = 0;
  std::uint64_t sequence = 0;
  std::uint64_t slice = 0;
  position start;
  position end;

  friend auto operator==(const committed_batch&, const committed_batch&) -> bool = default;
};

/// A sink that commits a batch's records together with its ledger entry, in ONE transaction,
/// so that after a crash the runner can tell which batches above the checkpoint are in the
/// sink already and skip them: exactly-once without an idempotent key, with workers writing in
/// parallel (docs/runner.md, "Exactly-once").
///
/// - `write_committed(records, entry, stop)`: stores all of `records` and `entry`, or nothing.
///   An entry whose identity is stored already, with the same positions, means the batch is
///   in: it returns success and writes nothing (a retry after a COMMIT whose reply was lost);
///   with other positions it is a `conflict` (another runner of the job) and writes nothing.
///   A stop requested before it returns `stopped` and writes nothing.
/// - `committed_batches(job, stop)`: every entry stored for `job`, in any order. The runner,
///   not the sink, decides which lie above the checkpoint (positions are the source's).
/// - `forget_batches(job, run, sequence, stop)`: deletes the entries of `job` at or below
///   (`run`, `sequence`) in (run, sequence) order, in one statement. The runner calls it only
///   for entries the saved checkpoint covers.
///
/// Contract: the three may be called from many threads at once (the runner's workers), so a
/// model is thread-safe; each blocks. The sink owns its ledger (a table beside the data, a
/// file beside the file): nothing else writes it. `pipeline::testing::transactional_sink_contract`
/// checks a model.
///
///     auto done = sink.write_committed(std::span{rows}, {.job = "orders", .run = 3, .sequence = 41,
///                                                        .start = from, .end = to}, stop);
template <class K>
concept transactional_sink =
    sink<K> && requires(K& k, std::span<const typename K::value_type> records, const committed_batch& entry,
                        std::string_view job, std::uint64_t n, std::stop_token stop) {
      { k.write_committed(records, entry, stop) } -> std::same_as<result<void>>;
      { k.committed_batches(job, stop) } -> std::same_as<result<std::vector<committed_batch>>>;
      { k.forget_batches(job, n, n, stop) } -> std::same_as<result<void>>;
    };

/// Whether the runner writes `k` exactly once through its ledger: false for a sink that is not
/// a `transactional_sink`; true for one, unless it says otherwise at run time with a member
/// `is_transactional()` (a wrapper such as `any_sink` over a sink without a ledger).
template <sink K>
[[nodiscard]] auto is_transactional(const K& k) noexcept -> bool {
  if constexpr (!transactional_sink<K>) {
    return false;
  } else if constexpr (requires { { k.is_transactional() } noexcept -> std::convertible_to<bool>; }) {
    return k.is_transactional();
  } else {
    return true;
  }
}

}  // namespace pipeline
