#pragma once

#include <cstdint>
#include <span>
#include <stop_token>
#include <string_view>
#include <vector>

#include <pipeline/detail/queue_acks.hpp>
#include <pipeline/postgres/queue_consumer.hpp>
#include <pipeline/postgres/table_sink.hpp>
#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline::postgres {

/// A `table_sink` for a queue worker whose queue is on the same database: in exactly-once mode
/// (`runner_options::exactly_once`) each batch's rows, its ledger row and the deletion of the
/// queue entries it came from commit in ONE transaction. A worker that crashes after that
/// commit leaves nothing to redeliver; one that crashes before it leaves the entries to be
/// reclaimed and nothing written: exactly-once without an idempotent key (a plain INSERT).
///
/// It goes through the transactional sink contract: the runner calls `write_committed` with
/// the batch's ledger entry, whose `end` is the batch end `queue_source` made
/// ("<tracking number>/<last entry id>"); an entry for the whole batch (slice 0, ending at the
/// batch's end) carries the consumer's `acknowledgement` of that number into
/// `table_sink::write_committed`. Not covered, and acknowledged as before (`queue_acks`,
/// after the checkpoint: at least once):
/// - a batch the runner split to find a record the table refuses: its slices commit apart,
///   and the records dead-lettered by the split are stored after them, so no single
///   transaction may delete the entries;
/// - a batch with no output to write (every record dead-lettered or filtered);
/// - an entry whose claim expired while its batch was written and that another worker took:
///   both write it (keep batches shorter than `visibility_timeout`).
/// The dead letters of the transform are stored before the rows in exactly-once mode, so an
/// entry whose rows committed has its letters stored too.
///
/// Without `exactly_once` it is the plain table sink. Contract: models
/// `pipeline::transactional_sink`; thread-safe (as the table sink and the consumer); blocking.
/// Holds references: `sink` and `consumer` must outlive it.
///
///     auto sink = pipeline::postgres::acknowledging_table_sink{table, *consumer};
///     pipeline::runner_options o;
///     o.exactly_once = true;
///     auto report = pipeline::postgres::run_worker<pipeline::record>(*consumer, transform, sink, dlq, o);
class acknowledging_table_sink {
 public:
  using value_type = record;

  acknowledging_table_sink(table_sink& sink, queue_consumer& consumer) noexcept : sink_(sink), consumer_(consumer) {}

  [[nodiscard]] auto write(std::span<const record> records, std::stop_token stop) -> result<void> {
    return sink_.write(records, std::move(stop));
  }

  [[nodiscard]] auto write_committed(std::span<const record> records, const committed_batch& entry,
                                     std::stop_token stop) -> result<void> {
    const auto number = entry.slice == 0 ? pipeline::detail::queue_batch_number(entry.end.bytes()) : std::nullopt;
    if (!number) return sink_.write_committed(records, entry, std::move(stop));
    auto written = sink_.write_committed(records, entry, std::move(stop), consumer_.acknowledgement(*number));
    if (written) consumer_.acknowledged(*number);
    return written;
  }
  [[nodiscard]] auto committed_batches(std::string_view job, std::stop_token stop)
      -> result<std::vector<committed_batch>> {
    return sink_.committed_batches(job, std::move(stop));
  }
  [[nodiscard]] auto forget_batches(std::string_view job, std::uint64_t run, std::uint64_t sequence,
                                    std::stop_token stop) -> result<void> {
    return sink_.forget_batches(job, run, sequence, std::move(stop));
  }
  /// Always: the deletion must ride in the ledger's transaction, whatever the table's mode.
  [[nodiscard]] static constexpr auto is_transactional() noexcept -> bool { return true; }

 private:
  table_sink& sink_;
  queue_consumer& consumer_;
};

static_assert(pipeline::transactional_sink<acknowledging_table_sink>);

}  // namespace pipeline::postgres
