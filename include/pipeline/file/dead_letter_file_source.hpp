#pragma once

#include <cstddef>
#include <filesystem>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/file/detail/file_source_base.hpp>
#include <pipeline/result.hpp>
#include <pipeline/source.hpp>

namespace pipeline::file {

namespace detail {
struct dead_letter_format;
}  // namespace detail
extern template class detail::file_source_base<detail::dead_letter_format, dead_letter>;

/// What a `dead_letter_file_source` reads, and how much memory it may use.
struct dead_letter_file_source_options {
  std::filesystem::path path{};
  std::size_t batch_size = 1000;             ///< entries per batch, rejected ones included
  std::size_t max_batch_bytes = 32 << 20;    ///< memory of a batch's entries; a full batch ends early
  std::size_t max_record_bytes = 16 << 20;   ///< a longer line is rejected (and not buffered)
  std::size_t read_buffer_bytes = 64 << 10;  ///< bytes read from the file at a time
};

/// Reads a `dead_letter_file` back as a source of `dead_letter`s, to replay or inspect them.
///
/// Every field comes back as written (time to the microsecond; a message's bytes that were
/// not UTF-8 as U+FFFD). Lines that are not entries (a torn or hand-edited line, one longer
/// than `max_record_bytes`, one with a nested value or more than 64 members: an entry is a
/// flat object of nine, read in one linear pass) go into `batch::rejected` as `invalid_input` dead letters with the
/// file, line and reason, like the other file sources, and reading goes on.
///
/// Positions, seek, memory, errors and thread-safety are those of `jsonl_source`: the text
/// `"<offset>:<line>"` after the batch's last entry, and each entry's own in
/// `batch::positions`; a batch of at most `max_batch_bytes`; one thread at a time; blocking
/// I/O; the file is opened by the first call.
///
/// Members (from `detail::file_source_base`): `next_batch(std::stop_token)` and `seek(position)`.
/// Move-only.
///
///     pipeline::file::dead_letter_file_source dlq{{.path = "orders.dlq.jsonl"}};
///     while (auto next = dlq.next_batch(stop)) {
///       if (!*next) break;
///       for (const auto& letter : (*next)->records) replay(letter.payload);
///     }
class dead_letter_file_source : public detail::file_source_base<detail::dead_letter_format, dead_letter> {
 public:
  /// Throws std::invalid_argument naming the option when the path is empty, or `batch_size`,
  /// `max_batch_bytes`, `max_record_bytes` or `read_buffer_bytes` is 0.
  explicit dead_letter_file_source(dead_letter_file_source_options options);
};

static_assert(seekable_source<dead_letter_file_source>);

/// Every entry of a dead-letter file, in the order written: for tools and tests, on files that
/// fit in memory. A line that is not an entry is an `invalid_input` error naming it; a missing
/// file is the errno error `ENOENT` (permanent).
[[nodiscard]] auto read_dead_letters(const std::filesystem::path& path) -> result<std::vector<dead_letter>>;

}  // namespace pipeline::file
