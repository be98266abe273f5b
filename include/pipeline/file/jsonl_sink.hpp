#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <vector>

#include <pipeline/record.hpp>
#include <pipeline/result.hpp>
#include <pipeline/sink.hpp>

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
  /// a '\n', if its last line was torn by a crash).
  std::optional<std::uint64_t> resume_offset = std::nullopt;
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
/// Exactly-once across restarts: `flush` writes the buffer and fsyncs; `committed_offset()` is
/// then the file's durable size. Save it with the checkpoint that covers those records; on
/// restart open with `resume_offset` = that value and seek the source to that checkpoint: the
/// lines written after it are cut off and written again, once. A file shorter than
/// `resume_offset` is a `permanent` error from `open` (it was truncated or replaced).
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

  /// Opens (creating) the file, cutting it back to `resume_offset` when given. Throws
  /// std::invalid_argument if the path is empty; I/O failures are errors.
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
  /// The file's size as of the last successful `flush` (or `open`): what a crash cannot lose.
  [[nodiscard]] auto committed_offset() const -> std::uint64_t;

 private:
  struct impl;
  explicit jsonl_sink(std::unique_ptr<impl> state) noexcept;
  std::unique_ptr<impl> impl_;
};

static_assert(flushable_sink<jsonl_sink> && per_record_sink<jsonl_sink>);

}  // namespace pipeline::file
