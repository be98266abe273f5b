#pragma once

#include <concepts>
#include <span>
#include <stop_token>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline {

/// The dead letters a `dead_letter_sharing_sink` stores into `dlq` within one of its writes.
/// A view: `dlq` and `letters` must outlive the call.
template <class Dlq>
struct letters_into {
  const Dlq& dlq;
  std::span<const dead_letter> letters;
};

/// A sink that can commit the dead letters of `Dlq` in the transaction of its own writes, when
/// both live in one database: the runner then stores a batch's dead letters with its records
/// (and with its ledger entry in exactly-once mode), one commit per batch instead of two
/// (docs/runner.md, "Dead letters in the sink's transaction").
///
/// - `shares_transactions_with(dlq)`: whether `dlq` is written on this sink's database, so
///   that one transaction can hold both. The runner asks once per run; when false it stores
///   letters through `dlq.write` as for any sink.
/// - `write(records, stop, letters)`: `write`, and `letters.letters` stored into `letters.dlq`
///   in the same transaction: all or nothing.
/// - A `per_record_sink` also has `write_each(records, stop, letters)`: the letters commit with
///   the records the sink takes; an error for the whole call commits neither.
/// - A `transactional_sink` also has `write_committed(records, entry, stop, letters)`: the
///   letters commit with the records and the entry; an entry stored already commits nothing,
///   as it means an earlier call committed all three.
///
/// The letters are written as `dlq.write` writes them (with its idempotence for a batch
/// dead-lettered again after a crash). Contract: thread-safe and blocking as the sink's other
/// writes; a stop requested before a call returns `stopped` and commits nothing.
///
///     if (sink.shares_transactions_with(dlq))
///       sink.write(std::span{rows}, stop, pipeline::letters_into<dlq_type>{dlq, letters});
template <class K, class Dlq>
concept dead_letter_sharing_sink =
    sink<K> && dead_letter_sink<Dlq> &&
    requires(const K& ck, K& k, const Dlq& dlq, std::span<const typename K::value_type> records,
             const committed_batch& entry, letters_into<Dlq> letters, std::stop_token stop) {
      { ck.shares_transactions_with(dlq) } noexcept -> std::convertible_to<bool>;
      { k.write(records, stop, letters) } -> std::same_as<result<void>>;
      requires !per_record_sink<K> || requires {
        { k.write_each(records, stop, letters) } -> std::same_as<result<std::vector<rejected_record>>>;
      };
      requires !transactional_sink<K> || requires {
        { k.write_committed(records, entry, stop, letters) } -> std::same_as<result<void>>;
      };
    };

}  // namespace pipeline
