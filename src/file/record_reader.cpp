#include "record_reader.hpp"

#include <charconv>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace pipeline::file::detail {
namespace {

auto parse_decimal(std::string_view text) -> std::optional<std::uint64_t> {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

// Once per record read: the numbers written directly, without a format string to parse.
auto encode_position(resume_point at) -> position {
  const fmt::format_int offset{at.offset};
  const fmt::format_int line{at.line};
  std::string text;
  text.reserve(offset.size() + 1 + line.size());
  text.append(offset.data(), offset.size()).append(1, ':').append(line.data(), line.size());
  return position{std::move(text)};
}

auto decode_position(const position& pos, std::string_view source) -> result<resume_point> {
  const std::string_view text = pos.bytes();
  if (text.empty() || text == "0") return resume_point{};
  const auto colon = text.find(':');
  if (colon != std::string_view::npos) {
    const auto offset = parse_decimal(text.substr(0, colon));
    const auto line = parse_decimal(text.substr(colon + 1));
    // Every line before the one at `offset` ends with a '\n' before it.
    if (offset && line && *line != 0 && *line - 1 <= *offset) return resume_point{*offset, *line};
  }
  return invalid_input_error(
      fmt::format("{}: position '{}' is not '<offset>:<line>' as this source writes them", source, text));
}

}  // namespace pipeline::file::detail
