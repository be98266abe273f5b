#pragma once

// The reading that the CSV, JSONL and dead-letter sources share: a byte stream split into
// records by a framer, through one fixed buffer, with each record bounded in memory, and with
// the byte offset and line number of every record kept so that positions can resume.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/position.hpp>
#include <pipeline/result.hpp>

#include "byte_stream.hpp"

namespace pipeline::file::detail {

/// Where reading stands: a byte offset and the 1-based line that starts there.
struct resume_point {
  std::uint64_t offset = 0;
  std::uint64_t line = 1;

  friend auto operator==(const resume_point&, const resume_point&) -> bool = default;
};

/// The position text "<offset>:<line>", e.g. "1048576:20311".
[[nodiscard]] auto encode_position(resume_point at) -> position;
/// Reads "<offset>:<line>" back; the empty position and "0" are the start. Anything else is
/// an invalid_input error naming `source`.
[[nodiscard]] auto decode_position(const position& pos, std::string_view source) -> result<resume_point>;

/// One record as read: its bytes without the line terminator, at most `max_record_bytes` of
/// them (`size` says how long it really was), where it starts and on which line.
struct raw_record {
  std::string_view bytes;  ///< valid until the reader reads again
  std::uint64_t size = 0;  ///< its whole length; more than bytes.size() when it was too long
  resume_point start;

  [[nodiscard]] auto oversize() const noexcept -> bool { return size > bytes.size(); }
};

/// Says where a record ends. `reset()` is called before each record; `find_end(chunk)` sees
/// the record's bytes in order, chunk by chunk, and returns the index of the '\n' that ends
/// it, or chunk.size() when the record goes on past the chunk.
template <class F>
concept framer = requires(F& f, std::string_view chunk) {
  f.reset();
  { f.find_end(chunk) } -> std::same_as<std::size_t>;
};

/// Records are lines: JSONL.
struct line_framer {
  void reset() noexcept {}
  [[nodiscard]] auto find_end(std::string_view chunk) const noexcept -> std::size_t {
    const void* nl = std::memchr(chunk.data(), '\n', chunk.size());
    return nl == nullptr ? chunk.size() : static_cast<std::size_t>(static_cast<const char*>(nl) - chunk.data());
  }
};

/// Sizes that bound a reader's memory: the read buffer and the longest record kept.
struct reader_limits {
  std::size_t max_record_bytes = 0;
  std::size_t buffer_bytes = 0;
};

/// Splits a byte stream into records. Lines end with LF or CRLF (the CR is dropped); a lone CR
/// is data. Empty records (blank lines) are skipped. A record longer than `max_record_bytes`
/// is read to its end but only its first `max_record_bytes` are kept, so memory stays at the
/// buffer plus one record whatever the input holds. Not thread-safe.
template <framer Framer>
class record_reader {
 public:
  record_reader(byte_stream& in, Framer framer, reader_limits limits)
      : in_(&in), framer_(std::move(framer)), max_(limits.max_record_bytes), buffer_(limits.buffer_bytes) {}

  /// Reads on from `at` (a record boundary) at the next call.
  void restart(resume_point at) noexcept {
    at_ = at;
    begin_ = end_ = 0;
  }

  /// Where the next record would start (after the terminator of the last one returned).
  [[nodiscard]] auto where() const noexcept -> resume_point { return at_; }

  /// The next non-empty record, nullopt at the end of the stream, or a read error (after which
  /// the caller restarts the reader).
  [[nodiscard]] auto next() -> result<std::optional<raw_record>> {
    for (;;) {
      auto found = next_maybe_empty();
      if (!found || !*found || (*found)->size != 0) return found;
    }
  }

 private:
  auto next_maybe_empty() -> result<std::optional<raw_record>> {
    framer_.reset();
    record_.clear();
    const resume_point start = at_;
    std::uint64_t size = 0;
    char last = '\0';
    bool ended = false;
    while (!ended) {
      if (begin_ == end_) {
        auto n = in_->read_at(at_.offset, buffer_);
        if (!n) return std::move(n).error();
        if (*n == 0) break;
        begin_ = 0;
        end_ = *n;
      }
      const std::string_view chunk(buffer_.data() + begin_, end_ - begin_);
      const std::size_t body = framer_.find_end(chunk);
      ended = body < chunk.size();
      keep(chunk.substr(0, body));
      size += body;
      if (body > 0) last = chunk[body - 1];
      consume(chunk.substr(0, ended ? body + 1 : body));
    }
    if (!ended && size == 0) return std::optional<raw_record>{};
    if (last == '\r') --size;  // CRLF: the CR belongs to the terminator
    record_.resize(std::min<std::uint64_t>(size, max_));
    return std::optional<raw_record>{raw_record{record_, size, start}};
  }

  // One byte more than the limit is kept, so that a record of exactly max_ bytes followed by
  // CRLF still fits once its CR is dropped.
  void keep(std::string_view bytes) {
    const std::size_t room = max_ + 1 - std::min(record_.size(), max_ + 1);
    record_.append(bytes.substr(0, room));
  }

  void consume(std::string_view bytes) {
    begin_ += bytes.size();
    at_.offset += bytes.size();
    at_.line += static_cast<std::uint64_t>(std::count(bytes.begin(), bytes.end(), '\n'));
  }

  byte_stream* in_;
  Framer framer_;
  std::size_t max_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  // unread bytes are buffer_[begin_, end_), read from at_.offset
  std::size_t end_ = 0;
  resume_point at_;
  std::string record_;
};

}  // namespace pipeline::file::detail
