#pragma once

// What both libFuzzer targets check: arbitrary bytes read by pipeline::file's batch_reader (the
// code the file sources run) over memory, with limits small enough that records cross reads,
// exceed max_record_bytes and fill batches. Besides crashes, leaks and over-limit allocations
// (which libFuzzer and the sanitizers report), it traps on a broken promise:
//   - reading never fails on memory, except a CSV header that cannot be read (invalid_input);
//   - batches are non-empty, at most batch_size and max_batch_bytes (unless one entry alone is
//     over), with strictly increasing end offsets, and a position for each record;
//   - a rejected entry keeps at most max_record_bytes of payload and is invalid_input;
//   - the result does not depend on the read buffer's size;
//   - resuming from a batch's end yields exactly the batches after it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <pipeline/record.hpp>

#include "batch_reader.hpp"
#include "byte_stream.hpp"

namespace fuzz {

inline constexpr std::size_t max_record_bytes = 48;
inline constexpr std::size_t max_batch_bytes = 600;  // a few small records

inline void require(bool promise) {
  if (!promise) __builtin_trap();
}

// A batch as comparable text: its records (by their fmt form), end, and rejections without time.
template <class T>
auto describe(const pipeline::batch<T>& b) -> std::string {
  std::string text = b.end.bytes();
  for (const auto& r : b.records) text += fmt::format("|{}", r);
  for (const auto& d : b.rejected) {
    text += fmt::format("|!{}@{}:{}", pipeline::value{d.payload}, d.pos.bytes(), d.reason.message);
  }
  return text;
}

// Every batch from `from` on, as text; nullopt when reading stopped at an (allowed) error.
template <class Format>
auto read_all(std::string_view bytes, const Format& format, std::size_t batch_size, std::size_t buffer_bytes,
              const pipeline::position& from = {}) -> std::optional<std::vector<std::string>> {
  pipeline::file::detail::memory_stream in{bytes};
  pipeline::file::detail::batch_reader<Format> reader{
      in, format, {batch_size, max_batch_bytes, {.max_record_bytes = max_record_bytes, .buffer_bytes = buffer_bytes}}};
  require(static_cast<bool>(reader.seek(from)));
  std::vector<std::string> out;
  std::uint64_t last_end = 0;
  for (;;) {
    auto next = reader.next_batch({});
    if (!next) {
      require(next.error().kind == pipeline::error_kind::invalid_input);
      return std::nullopt;
    }
    if (!*next) return out;
    const auto& b = **next;
    require(!b.empty() && b.records.size() + b.rejected.size() <= batch_size);
    require(b.positions.size() == b.records.size());
    require(b.records.size() + b.rejected.size() == 1 ||
            pipeline::file::detail::batch_memory_bytes(b) <= max_batch_bytes);
    for (const auto& d : b.rejected) {
      require(d.payload.size() <= max_record_bytes && d.reason.kind == pipeline::error_kind::invalid_input);
    }
    const auto end = pipeline::file::detail::decode_position(b.end, "fuzz");
    require(end && end->offset > last_end && end->offset <= bytes.size());
    last_end = end->offset;
    out.push_back(describe(b));
  }
}

// The checks above for `bytes`; `knobs` picks the batch size and the read buffer's size.
template <class Format>
void check(std::string_view bytes, const Format& format, std::uint8_t knobs) {
  const std::size_t batch_size = 1 + knobs % 4;
  const auto small = read_all(bytes, format, batch_size, 1 + (knobs >> 2) % 16);
  const auto large = read_all(bytes, format, batch_size, 1 << 16);
  require(small == large);
  if (!large) return;
  // Resume after the first, a middle and the last batch (every one would be quadratic).
  for (const std::size_t k : {std::size_t{0}, large->size() / 2, large->size() - 1}) {
    if (k >= large->size()) continue;
    const auto end = (*large)[k].substr(0, (*large)[k].find('|'));
    const auto rest = read_all(bytes, format, batch_size, 1 << 16, pipeline::position{end});
    require(rest && *rest == std::vector(large->begin() + static_cast<std::ptrdiff_t>(k) + 1, large->end()));
  }
}

}  // namespace fuzz
