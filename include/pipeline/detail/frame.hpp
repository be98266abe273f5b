#pragma once
// How a batch of encoded records travels in one queue entry (a Redis stream entry, a PostgreSQL queue row): each record's bytes preceded
// by their length as an unsigned LEB128 varint. Decoding checks every length against the
// bytes left, so hostile entries are rejected, never read out of bounds.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pipeline::detail {

inline void frame_append(std::string& frame, std::string_view bytes) {
  auto n = static_cast<std::uint64_t>(bytes.size());
  do {
    auto b = static_cast<std::uint8_t>(n & 0x7fU);
    n >>= 7U;
    if (n != 0) b = static_cast<std::uint8_t>(b | 0x80U);
    frame.push_back(static_cast<char>(b));
  } while (n != 0);
  frame.append(bytes);
}

/// Reads the records of a frame one by one; `next` is nullopt at the end, and `bad()` tells
/// whether it stopped at a malformed length instead.
class frame_reader {
 public:
  explicit frame_reader(std::string_view frame) noexcept : rest_(frame) {}

  auto next() noexcept -> std::optional<std::string_view> {
    if (rest_.empty() || bad_) return std::nullopt;
    std::uint64_t n = 0;
    std::size_t i = 0;
    for (unsigned shift = 0;; shift += 7) {
      if (i >= rest_.size() || shift > 63) return fail();
      const auto b = static_cast<std::uint8_t>(rest_[i++]);
      n |= static_cast<std::uint64_t>(b & 0x7fU) << shift;
      if ((b & 0x80U) == 0) break;
    }
    if (n > rest_.size() - i) return fail();
    auto out = rest_.substr(i, static_cast<std::size_t>(n));
    rest_.remove_prefix(i + static_cast<std::size_t>(n));
    return out;
  }
  [[nodiscard]] auto bad() const noexcept -> bool { return bad_; }

 private:
  auto fail() noexcept -> std::optional<std::string_view> {
    bad_ = true;
    return std::nullopt;
  }
  std::string_view rest_;
  bool bad_ = false;
};

}  // namespace pipeline::detail
