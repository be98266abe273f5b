#pragma once

// What a file source does, whatever its format: batches of parsed records with the malformed
// ones dead-lettered, bounded by count and by memory, positions (the batch's and each
// record's), seek, a prologue (the CSV header), and a clean retry after a read error.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>

#include <fmt/format.h>

#include <pipeline/batch.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/result.hpp>

#include "batch_memory.hpp"
#include "record_reader.hpp"

namespace pipeline::file::detail {

/// How one format turns a record's bytes into a value; an error is that record's rejection.
template <class F>
concept record_format = requires(F& f, std::string_view bytes) {
  typename F::value_type;
  { f.make_framer() } -> framer;
  { f.parse(bytes) } -> std::same_as<result<typename F::value_type>>;
};

/// A format whose first record is not data (a CSV header): `has_prologue()` says whether this
/// one has it; `read_prologue(r)` takes it (nullptr for an empty stream).
template <class F>
concept format_with_prologue = record_format<F> && requires(F& f, const raw_record* r) {
  { f.has_prologue() } -> std::same_as<bool>;
  { f.read_prologue(r) } -> std::same_as<result<void>>;
};

/// The options every file source has.
struct batch_limits {
  std::size_t batch_size = 0;       ///< records per batch, good and rejected together
  std::size_t max_batch_bytes = 0;  ///< batch_memory_bytes of a batch, but for its first entry
  reader_limits reader;
};

/// A seekable source over a byte stream in format F; the file sources are this over a file.
template <record_format Format>
class batch_reader {
 public:
  using value_type = typename Format::value_type;

  batch_reader(byte_stream& in, Format format, batch_limits limits)
      : in_(&in), format_(std::move(format)), reader_(in, format_.make_framer(), limits.reader),
        limits_(limits) {
    if constexpr (format_with_prologue<Format>) {
      if (format_.has_prologue()) data_start_.reset();
    }
  }

  [[nodiscard]] auto next_batch(std::stop_token stop) -> result<std::optional<batch<value_type>>> {
    if (stop.stop_requested()) return stopped_error();
    if (!started_) {
      if (auto started = start(); !started) return std::move(started).error();
    }
    const resume_point from = reader_.where();
    auto out = read_batch(stop);
    if (!out) {
      // Nothing of the failed batch was handed out: the next call reads it again.
      resume_ = from;
      started_ = false;
    }
    return out;
  }

  [[nodiscard]] auto seek(const position& pos) -> result<void> {
    auto at = decode_position(pos, in_->name());
    if (!at) return std::move(at).error();
    auto size = in_->size();
    if (!size) return std::move(size).error();
    if (at->offset > *size) {
      return invalid_input_error(fmt::format("{}: position '{}' is past the end of the file ({} bytes)",
                                             in_->name(), pos.bytes(), *size));
    }
    resume_ = *at;
    started_ = false;
    return ok();
  }

 private:
  // Positions the reader at resume_, reading the prologue first when it is not known yet.
  auto start() -> result<void> {
    if constexpr (format_with_prologue<Format>) {
      if (!data_start_) {
        reader_.restart(resume_point{});
        auto first = reader_.next();
        if (!first) return std::move(first).error();
        if (auto taken = format_.read_prologue(*first ? &**first : nullptr); !taken) {
          auto e = std::move(taken).error();
          e.message = fmt::format("{}: {}", in_->name(), e.message);
          return e;
        }
        data_start_ = reader_.where();
      }
    }
    const resume_point at = resume_.offset == 0 ? *data_start_ : resume_;
    if (at.offset < data_start_->offset) {
      return invalid_input_error(fmt::format("{}: position {}:{} is inside the header", in_->name(), at.offset,
                                             at.line));
    }
    reader_.restart(at);
    started_ = true;
    return ok();
  }

  auto read_batch(std::stop_token stop) -> result<std::optional<batch<value_type>>> {
    batch<value_type> out;
    std::size_t bytes = 0;  // batch_memory_bytes(out), kept up to date
    while (out.records.size() + out.rejected.size() < limits_.batch_size) {
      // A stop between records ends the batch early; what was read is handed out.
      if (!out.empty() && stop.stop_requested()) break;
      auto next = reader_.next();
      if (!next) return std::move(next).error();
      if (!*next) break;
      if (!add(out, bytes, **next)) {
        // Full: the record is read again, from its start, by the next batch.
        reader_.restart((*next)->start);
        break;
      }
    }
    if (out.empty()) return std::optional<batch<value_type>>{};
    out.end = encode_position(reader_.where());
    return std::optional<batch<value_type>>{std::move(out)};
  }

  // Adds `r` to `out`, parsed or rejected, unless it would take `out` past max_batch_bytes.
  // A batch's first entry always goes in: a record that alone is too big is rejected (its
  // letter keeps at most max_record_bytes of it).
  auto add(batch<value_type>& out, std::size_t& bytes, const raw_record& r) -> bool {
    if (r.oversize()) {
      return add_rejected(out, bytes,
                          rejection(r, fmt::format("record is {} bytes, more than max_record_bytes ({}); its first {} "
                                                   "bytes are kept",
                                                   r.size, limits_.reader.max_record_bytes, r.bytes.size())));
    }
    auto parsed = format_.parse(r.bytes);
    if (!parsed) return add_rejected(out, bytes, rejection(r, parsed.error().message));
    position at = encode_position(r.start);
    const std::size_t size = memory_bytes(*parsed) + memory_bytes(at);
    if (bytes + size > limits_.max_batch_bytes) {
      if (!out.empty()) return false;
      return add_rejected(out, bytes,
                          rejection(r, fmt::format("the record takes {} bytes in memory, more than max_batch_bytes ({})",
                                                   size, limits_.max_batch_bytes)));
    }
    bytes += size;
    out.records.push_back(std::move(*parsed));
    out.positions.push_back(std::move(at));
    return true;
  }

  auto add_rejected(batch<value_type>& out, std::size_t& bytes, dead_letter letter) -> bool {
    const std::size_t size = memory_bytes(letter);
    if (bytes + size > limits_.max_batch_bytes && !out.empty()) return false;
    bytes += size;
    out.rejected.push_back(std::move(letter));
    return true;
  }

  [[nodiscard]] auto rejection(const raw_record& r, std::string_view why) const -> dead_letter {
    return dead_letter{std::string(r.bytes),
                       invalid_input_error(fmt::format("{}: line {}: {}", in_->name(), r.start.line, why)),
                       0,
                       encode_position(r.start),
                       0,
                       std::chrono::system_clock::now()};
  }

  byte_stream* in_;
  Format format_;
  record_reader<decltype(std::declval<Format&>().make_framer())> reader_;
  batch_limits limits_;
  std::optional<resume_point> data_start_{resume_point{}};  // where data begins; unknown until the prologue is read
  resume_point resume_;   // where the next start() positions the reader
  bool started_ = false;  // whether the reader stands where the next batch begins
};

}  // namespace pipeline::file::detail
