#pragma once

// The batch ledger of `jsonl_sink` in exactly-once mode: `<data file>.ledger`, one text line per
// committed batch, each carrying the data file's size once that batch was in, and a checksum.
//
//     batch <data size> <partition> <run> <sequence> <slice> <job> <start> <end> <fnv>
//     size <data size> <fnv>
//
// Fields are separated by one space; job, start and end are base64 (RFC 4648, padded; empty for
// an empty string), so any bytes round-trip; <fnv> is the FNV-1a 64 of the line before its last
// space, 16 lower-case hex digits. A `size` line records the size alone (the ledger's first
// line, `flush` in ledger mode, the last line of a rewrite). The data file's committed size is
// the size on the last valid line.
//
// Lines are appended (a group commit's lines in one write) and fsynced only after the previous
// write was, so only the last line can be torn by a crash: an invalid last line is cut off at
// open; an invalid line before a valid one is corruption (a permanent error naming the file). A
// rewrite (`forget`, compaction) goes through a temporary file renamed over the ledger.
//
// Memory: the entries in the ledger (compacted by `forget`), not its history. Not thread-safe:
// `jsonl_sink` locks, and lets one thread at a time `write` (a group of lines, its group commit)
// while others read the entries.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <pipeline/result.hpp>
#include <pipeline/transactional_sink.hpp>

#include "posix_io.hpp"

namespace pipeline::file::detail {

class sink_ledger {
 public:
  /// Reads the ledger at `path`, cutting a torn last line off. A missing ledger is opened
  /// empty with no `committed_size()`: call `start` once the data file's size is known.
  [[nodiscard]] static auto open(std::filesystem::path path) -> result<sink_ledger>;

  /// The data file's size on the last valid line; nullopt when there was no ledger.
  [[nodiscard]] auto committed_size() const noexcept -> std::optional<std::uint64_t> { return size_; }
  /// Creates the ledger (atomically) with one `size` line.
  [[nodiscard]] auto start(std::uint64_t data_size) -> result<void>;

  /// Whether `entry`'s identity is in the ledger: true with the same positions, a `conflict`
  /// with others.
  [[nodiscard]] auto holds(const committed_batch& entry) const -> result<bool>;
  /// The line of `entry` (or, for nullptr, a `size` line), with the data file's size after it.
  [[nodiscard]] static auto line(const committed_batch* entry, std::uint64_t data_size) -> std::string;
  /// Appends `lines` (made by `line`) in one write, and fsyncs; on failure the file is as
  /// before. Touches the file only: `adopt` each line's content once this succeeded.
  [[nodiscard]] auto write(std::string_view lines) -> result<void>;
  /// Takes in what one line written by `write` holds.
  void adopt(const committed_batch* entry, std::uint64_t data_size);
  /// Rewrites the file when `size` lines and forgotten entries have piled up (failures are
  /// left for the next time: the lines in place stay valid).
  void compact_if_due();

  /// The entries of `job`, in (run, sequence, slice) order.
  [[nodiscard]] auto entries(std::string_view job) const -> std::vector<committed_batch>;
  /// Rewrites the ledger without the entries of `job` at or below (`run`, `sequence`); on
  /// failure the ledger is as before.
  [[nodiscard]] auto forget(std::string_view job, std::uint64_t run, std::uint64_t sequence) -> result<void>;

 private:
  using identity = std::tuple<std::string, std::uint64_t, std::uint64_t, std::uint64_t>;
  using entry_map = std::map<identity, committed_batch>;

  sink_ledger(std::filesystem::path path, std::optional<append_file> file, entry_map entries,
              std::optional<std::uint64_t> size, std::uint64_t lines)
      : path_(std::move(path)), file_(std::move(file)), entries_(std::move(entries)), size_(size), lines_(lines) {}

  // Replaces the file by `entries` and a `size` line; adopts them once that is durable.
  auto rewrite(entry_map entries) -> result<void>;

  std::filesystem::path path_;
  std::optional<append_file> file_;  // nullopt until `start` when there was no ledger
  entry_map entries_;
  std::optional<std::uint64_t> size_;
  std::uint64_t lines_;  // in the file: `size` lines pile up between rewrites
};

}  // namespace pipeline::file::detail
