#pragma once

#include <cstddef>
#include <filesystem>

#include <pipeline/file/detail/file_source_base.hpp>
#include <pipeline/record.hpp>
#include <pipeline/source.hpp>

namespace pipeline::file {

namespace detail {
class csv_format;
}  // namespace detail
extern template class detail::file_source_base<detail::csv_format, record>;

/// What a `csv_source` reads, and how much memory it may use.
struct csv_source_options {
  std::filesystem::path path{};
  std::size_t batch_size = 1000;              ///< records per batch, rejected ones included
  std::size_t max_batch_bytes = 32 << 20;     ///< memory of a batch's records; a full batch ends early
  char delimiter = ',';                       ///< not a quote, CR or LF
  bool has_header = true;                     ///< the first row names the fields; else c0, c1, …
  std::size_t max_record_bytes = 1 << 20;     ///< a longer record is rejected (and not buffered)
  std::size_t max_fields = 65'536;            ///< a row with more fields is rejected
  std::size_t read_buffer_bytes = 64 << 10;   ///< bytes read from the file at a time
};

/// Streams a CSV file (RFC 4180) as records whose values are all strings, in batches.
///
/// Format: quoted fields, a doubled quote inside one, delimiters and line breaks inside quotes;
/// records end with LF or CRLF; blank lines are skipped; bytes pass through unchanged (no
/// encoding is checked: typing and validating values is the transform's job). An empty
/// unquoted field is the empty string. With `has_header`, the first row names the fields (a
/// UTF-8 byte order mark before it is dropped) and every record must have as many fields;
/// without, record i's fields are c0, c1, … for as many as it has.
///
/// Malformed records go into `batch::rejected`, and reading goes on with the next record: a
/// quote inside an unquoted field, text after a closing quote, a quote still open at the end
/// of the file, a field count unlike the header's, more than `max_fields` fields, a record
/// longer than `max_record_bytes`, a record that alone takes more than `max_batch_bytes`.
/// Each is an `invalid_input` dead letter whose message names the file, the line the record
/// starts on and what is wrong; payload = the record's bytes (its first `max_record_bytes`
/// when too long), attempts 0, pos = the position of its start (seeking there reads it again).
///
/// Positions: the text `"<offset>:<line>"`, the byte offset just after the batch's last record
/// and the 1-based line number there, so that messages keep the right line after a resume.
/// `batch::positions[i]` is the position of the start of `records[i]` (seeking there reads it
/// first), as a dead letter's `pos` is its own record's.
/// `seek` takes a position this source handed out, the empty position or `"0"` (the start);
/// anything else, or an offset past the end of the file, is `invalid_input`. After a seek the
/// header row is read again from the start of the file for the field names.
///
/// Contract: one thread at a time (like every source). Blocking file I/O. Memory: one batch of
/// at most `max_batch_bytes` (the memory its records, positions and dead letters hold, as
/// docs/adapters/file.md counts it: a batch ends before the record that would pass it), one
/// record of at most `max_record_bytes` (+1) and the read buffer, whatever the file holds — a
/// 1 GB line is read past, not buffered. A record's memory is proportional to its bytes (an
/// empty field costs about 72 bytes). Construction does no I/O: the file is opened by the
/// first `next_batch` or `seek`, and I/O failures are errno errors there (EINTR, EAGAIN, EIO,
/// ENOSPC, EDQUOT, EMFILE, ENFILE, EBUSY transient; the rest permanent); after one, the next
/// call reads the failed batch again. A malformed header row is an `invalid_input` error.
/// A stop requested between two records ends the batch with what was read.
///
/// Members (from `detail::file_source_base`): `next_batch(std::stop_token)` and `seek(position)`.
/// Move-only.
///
///     pipeline::file::csv_source src{{.path = "listings.csv", .batch_size = 500}};
///     while (auto next = src.next_batch(stop)) {
///       if (!*next) break;                    // exhausted
///       for (const auto& r : (*next)->records) use(r.find("price")->get<std::string>());
///     }
class csv_source : public detail::file_source_base<detail::csv_format, record> {
 public:
  /// Throws std::invalid_argument naming the option when the path is empty, `batch_size`,
  /// `max_batch_bytes`, `max_record_bytes`, `max_fields` or `read_buffer_bytes` is 0, or the
  /// delimiter is a quote, CR or LF.
  explicit csv_source(csv_source_options options);
};

static_assert(seekable_source<csv_source>);

}  // namespace pipeline::file
