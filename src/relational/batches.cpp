// The batch ledger of the table sink (exactly-once mode): one row per committed batch, written
// in the transaction of the batch's rows, read back on resume, deleted below the checkpoint.

#include <array>
#include <string>

#include <fmt/format.h>

#include "relational/stores.hpp"

namespace pipeline::detail::relational {
namespace {

constexpr std::array<std::string_view, 7> ledger_columns{"job",   "run",           "sequence",    "slice",
                                                         "partition", "start_position", "end_position"};

auto as_int64(std::uint64_t n) -> std::int64_t {
  return static_cast<std::int64_t>(std::min<std::uint64_t>(n, std::numeric_limits<std::int64_t>::max()));
}

// Binds the entry's identity (job, run, sequence, slice) as parameters 1 to 4.
void bind_identity(statement& s, const committed_batch& entry) {
  s.bind_text(1, entry.job);
  s.bind_int64(2, as_int64(entry.run));
  s.bind_int64(3, as_int64(entry.sequence));
  s.bind_int64(4, as_int64(entry.slice));
}

// Whether the ledger holds `entry` already: its batch is committed. The same identity with
// other positions is a `conflict`: another runner of the job numbered its run alike.
auto holds(connection& c, std::string_view batch_table, const committed_batch& entry) -> result<bool> {
  const auto& d = c.sql_dialect();
  auto st = c.prepare(fmt::format("SELECT {}, {} FROM {} WHERE {} = {} AND {} = {} AND {} = {} AND {} = {}",
                                  d.quote("start_position"), d.quote("end_position"), batch_table,
                                  d.quote("job"), d.placeholder(1), d.quote("run"), d.placeholder(2),
                                  d.quote("sequence"), d.placeholder(3), d.quote("slice"), d.placeholder(4)));
  if (!st) return std::move(st).error();
  auto& s = **st;
  bind_identity(s, entry);
  const auto context =
      fmt::format("looking for batch {} of run {} of {} in {}", entry.sequence, entry.run, value{entry.job},
                  batch_table);
  if (auto done = s.execute(context); !done) return std::move(done).error();
  auto row = s.next_row();
  if (!row) return std::move(row).error();
  if (!*row) return false;
  if (s.text_at(0) != entry.start.bytes() || s.text_at(1) != entry.end.bytes()) {
    return conflict_error(fmt::format("{}: it is there with other positions: another runner of this job is writing",
                                      context));
  }
  return true;
}

}  // namespace

auto ledger_gate::ensure(connection& c, std::string_view name, std::string_view quoted) -> result<void> {
  std::scoped_lock lock{mutex_};
  if (ready_) return ok();
  auto created = c.sql_dialect().create_store_table(c, store_table::batches, name, quoted);
  if (!created) return created;
  ready_ = true;
  return ok();
}

auto record_batch(connection& c, std::string_view batch_table, const committed_batch& entry) -> result<bool> {
  const auto& d = c.sql_dialect();
  auto held = holds(c, batch_table, entry);
  if (!held) return std::move(held).error();
  if (*held) return false;
  auto st = c.prepare(fmt::format("INSERT INTO {} ({}) VALUES ({})", batch_table, quoted_list(d, ledger_columns),
                                  placeholders(d, 1, ledger_columns.size())));
  if (!st) return std::move(st).error();
  auto& s = **st;
  bind_identity(s, entry);  // the first four columns
  s.bind_int64(5, static_cast<std::int64_t>(entry.partition));
  s.bind_bytes(6, entry.start.bytes());
  s.bind_bytes(7, entry.end.bytes());
  if (auto done = s.execute(fmt::format("recording batch {} of run {} in {}", entry.sequence, entry.run, batch_table));
      !done) {
    return std::move(done).error();
  }
  return true;
}

auto write_rows_committed(connection& c, const sink_plan& plan, std::span<const record> records,
                          const committed_batch& entry, const std::stop_token& stop, const transaction_step* also)
    -> result<void> {
  // A row the dialect's check refuses (MySQL: too long for its column) fails the call as it
  // would fail write_each's row, before anything is sent; the runner splits the batch to it.
  if (plan.check != nullptr) {
    if (auto held = plan.check->refused(plan, records); !held.empty()) return std::move(held.front().reason);
  }
  return in_transaction(c, [&]() -> result<void> {
    auto recorded = record_batch(c, plan.batch_table, entry);
    if (!recorded) return std::move(recorded).error();
    if (!*recorded) return ok();
    if (!records.empty()) {
      if (auto rows = c.insert_rows(plan, records, stop); !rows) return rows;
    }
    return run_step(c, also);
  });
}

auto select_batches(connection& c, std::string_view batch_table, std::string_view job)
    -> result<std::vector<committed_batch>> {
  const auto& d = c.sql_dialect();
  auto st = c.prepare(fmt::format("SELECT {} FROM {} WHERE {} = {} ORDER BY {}, {}, {}",
                                  quoted_list(d, ledger_columns), batch_table, d.quote("job"), d.placeholder(1),
                                  d.quote("run"), d.quote("sequence"), d.quote("slice")));
  if (!st) return std::move(st).error();
  auto& s = **st;
  s.bind_text(1, job);
  const auto context = fmt::format("reading the committed batches of {} from {}", value{job}, batch_table);
  if (auto done = s.execute(context); !done) return std::move(done).error();
  return collect_rows(s, [&](const statement& row) -> result<committed_batch> {
    const auto run = row.int64_at(1);
    const auto sequence = row.int64_at(2);
    const auto slice = row.int64_at(3);
    const auto partition = row.int64_at(4);
    if (!run || !sequence || !slice || !partition || *run < 0 || *sequence < 0 || *slice < 0 || *partition < 0) {
      return permanent_error(fmt::format("{}: a row holds a number that is not a non-negative integer", context));
    }
    return committed_batch{std::string(row.text_at(0)),
                           static_cast<std::uint32_t>(*partition),
                           static_cast<std::uint64_t>(*run),
                           static_cast<std::uint64_t>(*sequence),
                           static_cast<std::uint64_t>(*slice),
                           position{std::string(row.text_at(5))},
                           position{std::string(row.text_at(6))}};
  });
}

auto delete_batches(connection& c, std::string_view batch_table, std::string_view job, std::uint64_t run,
                    std::uint64_t sequence) -> result<void> {
  const auto& d = c.sql_dialect();
  const auto run_column = d.quote("run");
  auto st = c.prepare(fmt::format("DELETE FROM {} WHERE {} = {} AND ({} < {} OR ({} = {} AND {} <= {}))",
                                  batch_table, d.quote("job"), d.placeholder(1), run_column, d.placeholder(2),
                                  run_column, d.placeholder(3), d.quote("sequence"), d.placeholder(4)));
  if (!st) return std::move(st).error();
  auto& s = **st;
  s.bind_text(1, job);
  s.bind_int64(2, as_int64(run));
  s.bind_int64(3, as_int64(run));
  s.bind_int64(4, as_int64(sequence));
  return s.execute(fmt::format("forgetting the committed batches of {} in {}", value{job}, batch_table));
}

}  // namespace pipeline::detail::relational
