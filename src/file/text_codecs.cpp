#include "text_codecs.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>

namespace pipeline::file::detail {
namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The 6-bit value of each base64 character; 64 for anything else.
constexpr auto decoding_table = [] {
  std::array<std::uint8_t, 256> table{};
  table.fill(64);
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  }
  return table;
}();

// `count` decimal digits at `text[at]`, or -1.
auto digits(std::string_view text, std::size_t at, std::size_t count) -> int {
  if (at + count > text.size()) return -1;
  int v = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

}  // namespace

auto base64_encode(std::string_view bytes) -> std::string {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = 0;
    for (std::size_t k = 0; k < 3; ++k) {
      group = (group << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
    }
    for (std::size_t k = 0; k < 4; ++k) {
      out += k <= n ? alphabet[(group >> (18 - 6 * k)) & 0x3f] : '=';
    }
  }
  return out;
}

auto base64_decode(std::string_view text) -> std::optional<std::string> {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t padding = !last ? 0 : text[i + 3] != '=' ? 0 : text[i + 2] != '=' ? 1 : 2;
    std::uint32_t group = 0;
    for (std::size_t k = 0; k < 4 - padding; ++k) {
      const std::uint8_t v = decoding_table[static_cast<unsigned char>(text[i + k])];
      if (v == 64) return std::nullopt;
      group |= std::uint32_t{v} << (18 - 6 * k);
    }
    // Canonical: the bits that padding leaves over are zero.
    if ((group & ((1u << (8 * padding)) - 1)) != 0) return std::nullopt;
    for (std::size_t k = 0; k < 3 - padding; ++k) out += static_cast<char>((group >> (16 - 8 * k)) & 0xff);
  }
  return out;
}

auto format_time(timestamp t) -> std::string {
  std::string text = pipeline::detail::to_text(value{t});
  // to_text leaves out a zero fraction; ours always has one, so every entry reads alike.
  if (text.find('.') == std::string::npos) text.insert(text.size() - 1, ".000000");
  return text;
}

auto parse_time(std::string_view text) -> std::optional<timestamp> {
  using namespace std::chrono;
  const int y = digits(text, 0, 4);
  const int mo = digits(text, 5, 2);
  const int d = digits(text, 8, 2);
  const int h = digits(text, 11, 2);
  const int mi = digits(text, 14, 2);
  const int s = digits(text, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 || text[4] != '-' ||
      text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok()) return std::nullopt;
  std::size_t at = 19;
  std::int64_t micros = 0;
  if (at < text.size() && text[at] == '.') {
    std::size_t n = 0;
    for (int digit = 0; n < 6 && (digit = digits(text, at + 1 + n, 1)) >= 0; ++n) micros = micros * 10 + digit;
    if (n == 0) return std::nullopt;
    for (std::size_t k = n; k < 6; ++k) micros *= 10;
    at += 1 + n;
  }
  if (at + 1 != text.size() || text[at] != 'Z') return std::nullopt;
  return timestamp{sys_days{date}} + hours{h} + minutes{mi} + seconds{s} + microseconds{micros};
}

}  // namespace pipeline::file::detail
