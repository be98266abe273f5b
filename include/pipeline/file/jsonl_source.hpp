#pragma once

#include <cstddef>
#include <filesystem>

#include <pipeline/file/detail/file_source_base.hpp>
#include <pipeline/file/out_of_range.hpp>
#include <pipeline/record.hpp>
#include <pipeline/source.hpp>

namespace pipeline::file {

namespace detail {
struct jsonl_format;
}  // namespace detail
extern template class detail::file_source_base<detail::jsonl_format, record>;

/// What a `jsonl_source` reads, and how much memory it may use.
struct jsonl_source_options {
  std::filesystem::path path{};
  std::size_t batch_size = 1000;             ///< records per batch, rejected ones included
  std::size_t max_batch_bytes = 32 << 20;    ///< memory of a batch's records; a full batch ends early
  std::size_t max_record_bytes = 1 << 20;    ///< a longer line is rejected (and not buffered)
  std::size_t max_members = 65'536;          ///< an object (at any depth) with more members is rejected
  std::size_t max_depth = 128;               ///< a line nested deeper is rejected; its object is level 1
  out_of_range numbers_out_of_range = out_of_range::reject;  ///< or keep_as_text
  std::size_t read_buffer_bytes = 64 << 10;  ///< bytes read from the file at a time
};

/// Streams a JSON Lines file (one JSON object a line) as records, in batches.
///
/// Each object's members become the record's fields, in the order of the line: null, true and
/// false, integers (int64), other numbers (double) and strings (UTF-8, as JSON requires) map to
/// those values; a nested object or array is kept as its JSON text as written, without the
/// whitespace outside strings, in a string field (`{"a": [1, 2]}` gives a = `"[1,2]"`). Lines
/// end with LF or CRLF; empty lines are skipped. Each line is read in one pass, in time and
/// memory linear in its bytes.
///
/// Numbers are exact or refused: an integer outside int64, or a number whose double would be
/// infinite (1e400), zero from non-zero digits (1e-400) or subnormal with fewer digits than
/// written, makes its line a dead letter naming the member — or, with `numbers_out_of_range =
/// out_of_range::keep_as_text`, a string field holding the number as written.
///
/// Malformed lines go into `batch::rejected` and reading goes on with the next line: text that
/// is not JSON, JSON that is not an object, a member name twice among the line's members, a
/// number out of range (above), an object of more than `max_members` members, nesting deeper
/// than `max_depth` levels, a line longer than `max_record_bytes`, a record that alone takes
/// more than `max_batch_bytes`. Each is an `invalid_input` dead letter whose message names the file,
/// the line and what is wrong; payload = the line (its first `max_record_bytes` when too
/// long), attempts 0, pos = the position of its start.
///
/// Positions: the text `"<offset>:<line>"`, the byte offset just after the batch's last line
/// and the 1-based line number there; `batch::positions[i]` is the start of `records[i]`'s
/// line. `seek` takes a position this source handed out, the
/// empty position or `"0"`; anything else, or an offset past the end of the file, is
/// `invalid_input`.
///
/// Contract: one thread at a time. Blocking file I/O. Memory: one batch of at most
/// `max_batch_bytes` (a batch ends before the record that would pass it), one line of at most
/// `max_record_bytes` (+1) and the read buffer, whatever the file holds. The file is opened by
/// the first `next_batch` or `seek`; I/O failures are errno errors there (EINTR, EAGAIN, EIO,
/// ENOSPC, EDQUOT, EMFILE, ENFILE, EBUSY transient; the rest permanent), after which the
/// next call reads the failed batch again. A stop requested between two lines ends the batch
/// with what was read.
///
/// Members (from `detail::file_source_base`): `next_batch(std::stop_token)` and `seek(position)`.
/// Move-only.
///
///     pipeline::file::jsonl_source src{{.path = "events.jsonl", .batch_size = 500}};
///     if (auto resumed = src.seek(checkpoint.pos); !resumed) return resumed.error();
///     auto next = src.next_batch(stop);     // result<optional<batch<record>>>
class jsonl_source : public detail::file_source_base<detail::jsonl_format, record> {
 public:
  /// Throws std::invalid_argument naming the option when the path is empty, or `batch_size`,
  /// `max_batch_bytes`, `max_record_bytes`, `max_members`, `max_depth` or `read_buffer_bytes`
  /// is 0.
  explicit jsonl_source(jsonl_source_options options);
};

static_assert(seekable_source<jsonl_source>);

}  // namespace pipeline::file
