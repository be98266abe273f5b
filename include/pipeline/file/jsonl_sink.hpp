#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string_view>
#include <vector>

#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline::file {

/// Where a `jsonl_sink` writes, and from where it goes on.
struct jsonl_sink_options {
  std::filesystem::path path{};
  /// Encoded records are kept in memory until they reach this many bytes, then written (not
  /// yet fsynced); 0 writes at every `write`.
  std::size_t buffer_bytes = 1 << 20;
  /// The `committed_offset()` saved with the last checkpoint: the file is cut back to it when
  /// opened, dropping what was written after that checkpoint (it is written again as the run
  /// replays from the checkpoint). Without it, writing appends to what the file holds (after
  /// a '\n', if its last line was torn by a crash). Not with `ledger`, which keeps the
  /// committed size itself.
  std::optional<std::uint64_t> resume_offset = std::nullopt;
  /// Keeps a batch ledger in `<path>.ledger`, for the runner's exactly-once mode
  /// (`runner_options::exactly_once`, docs/runner.md): see "Exactly-once with a ledger" below.
  bool ledger = false;
};

/// Writes records to a JSON Lines file: one JSON object a line, fields in the record's order.
///
/// Values: null, booleans, int64 and strings as themselves; doubles as JSON numbers that read
/// back as the same double (1.0 stays `1.0`); bytes as base64 strings (RFC 4648, padded);
/// timestamps as ISO-8601 UTC strings with microseconds (`"2024-03-01T12:00:00.000250Z"`).
/// So bytes and timestamps read back (with `jsonl_source`) as strings. A NaN or infinite
/// double (JSON has none) or a string or field name that is not UTF-8 fails the whole batch
/// with `invalid_input` naming the record and field, and nothing of that batch is written;
/// `write_each` (the `pipeline::per_record_sink` the runner prefers) refuses just those
/// records, with that error, and writes the others.
///
/// Exactly-once across restarts, by hand (without a ledger): `flush` writes the buffer and fsyncs; `committed_offset()` is
/// then the file's durable size. Save it with the checkpoint that covers those records; on
/// restart open with `resume_offset` = that value and seek the source to that checkpoint: the
/// lines written after it are cut off and written again, once. A file shorter than
/// `resume_offset` is a `permanent` error from `open` (it was truncated or replaced).
///
/// Exactly-once with a ledger (`ledger = true`; the sink is then a `transactional_sink`, and
/// `is_transactional()` says so): `write_committed(records, entry, stop)` encodes every record
/// (one that does not encode fails the call with `invalid_input`, and nothing is written),
/// appends the lines to the data file under the mutex, and waits for a group commit: the data
/// file fsynced once, then the ledger lines of every batch appended since the last one (each
/// with the data file's size after its batch and a checksum) in one write, fsynced. The ledger
/// line is the commit; the first caller to find no commit under way leads one for all waiting,
/// outside the mutex, so that workers share the fsyncs. A failed commit fails every batch
/// waiting for it and cuts the data file back. An entry whose identity is in the ledger already
/// (or being committed) writes nothing (success with the same positions, `conflict` with others
/// or while it is in flight); a stop requested before the call writes nothing (`stopped`).
/// `committed_batches(job)` lists the job's entries;
/// `forget_batches` rewrites the ledger without the forgotten ones (a temporary file, fsynced,
/// renamed over it, the directory fsynced), keeping the committed size on its last line.
/// `open` reads the ledger and takes the committed size from its last valid line: the data
/// file is cut back to it (dropping the lines of a batch whose ledger line never landed) and a
/// torn last ledger line is cut off; a data file shorter than that size is a `permanent` error,
/// and so is a ledger with an invalid line before a valid one (damage, not a crash). Without a
/// ledger file, one is created holding the data file's present size. `write`, `write_each`
/// and `flush` still work in this mode: `flush` commits what they wrote with a size line, so a
/// crash drops what neither a batch line nor a flush covered, and `resume_offset` (which may not
/// be given with `ledger`) is not needed. Memory: the entries in the ledger (the runner forgets
/// those its checkpoint covers, so about the batches in flight), not the run's history.
///
/// Contract: thread-safe (a mutex serialises writes; each batch's lines stay together, batches
/// in the order their writes took the lock). Blocking file I/O when the buffer fills and in
/// `flush`. Memory: the buffer (`buffer_bytes` plus one batch) and one batch being encoded.
/// I/O failures are errno errors (ENOSPC, EIO, … transient; the rest permanent); a failed
/// write (or `write_each` failing as a whole) leaves nothing of its batch in the file or the
/// buffer. Destroying the sink writes and
/// fsyncs what is buffered, ignoring failures: call `flush` to know.
///
///     auto sink = pipeline::file::jsonl_sink::open({.path = "out.jsonl", .resume_offset = saved});
///     if (!sink) return sink.error();
///     if (auto w = sink->write(std::span{records}, stop); !w) return w.error();
///     if (auto f = sink->flush(stop); f) save_checkpoint(pos, sink->committed_offset());
class jsonl_sink {
 public:
  using value_type = record;

  /// Opens (creating) the file, cutting it back to `resume_offset` when given, or to the size
  /// the ledger committed. One sink per file: while a sink has the file open (a flock on
  /// `<path>.lock`, a file kept beside it), opening it again, in this process or another, is a
  /// `conflict` error and touches nothing. Throws std::invalid_argument if the path is empty,
  /// or if both `resume_offset` and `ledger` are given; I/O failures are errors.
  [[nodiscard]] static auto open(jsonl_sink_options options) -> result<jsonl_sink>;

  jsonl_sink(jsonl_sink&&) noexcept;
  auto operator=(jsonl_sink&&) noexcept -> jsonl_sink&;
  ~jsonl_sink();

  /// Encodes `records` and buffers them, writing the buffer out once it holds `buffer_bytes`.
  [[nodiscard]] auto write(std::span<const record> records, std::stop_token stop) -> result<void>;
  /// As `write`, but the records that do not encode are refused (by index, in order) and the
  /// others buffered.
  [[nodiscard]] auto write_each(std::span<const record> records, std::stop_token stop)
      -> result<std::vector<rejected_record>>;
  /// Writes what is buffered and fsyncs the file.
  [[nodiscard]] auto flush(std::stop_token stop) -> result<void>;
  /// The file's size as of the last successful `flush`, `write_committed` (or `open`): what a
  /// crash cannot lose.
  [[nodiscard]] auto committed_offset() const -> std::uint64_t;

  /// Whether the sink keeps a ledger (`jsonl_sink_options::ledger`): only then does the runner
  /// write it in exactly-once mode, and only then do the three calls below work (without a
  /// ledger they fail with `invalid_input`).
  [[nodiscard]] auto is_transactional() const noexcept -> bool;
  /// Appends `records` and `entry` to the data file and the ledger, each fsynced, or nothing.
  [[nodiscard]] auto write_committed(std::span<const record> records, const committed_batch& entry,
                                     std::stop_token stop) -> result<void>;
  /// The ledger's entries of `job`. Not cut short by a stop (it reads memory).
  [[nodiscard]] auto committed_batches(std::string_view job, std::stop_token stop)
      -> result<std::vector<committed_batch>>;
  /// Rewrites the ledger without the entries of `job` at or below (`run`, `sequence`).
  [[nodiscard]] auto forget_batches(std::string_view job, std::uint64_t run, std::uint64_t sequence,
                                    std::stop_token stop) -> result<void>;

 private:
  struct impl;
  explicit jsonl_sink(std::unique_ptr<impl> state) noexcept;
  [[nodiscard]] static auto open_locked(jsonl_sink_options options) -> result<jsonl_sink>;
  std::unique_ptr<impl> impl_;
};

static_assert(flushable_sink<jsonl_sink> && per_record_sink<jsonl_sink> && transactional_sink<jsonl_sink>);

}  // namespace pipeline::file
