#include <pipeline/position.hpp>

#include <charconv>

namespace pipeline {

auto position::from_integer(std::int64_t value) -> position { return position{std::to_string(value)}; }

auto position::to_integer() const -> std::optional<std::int64_t> {
  std::int64_t value = 0;
  const char* first = bytes_.data();
  const char* last = first + bytes_.size();
  auto [end, ec] = std::from_chars(first, last, value);
  if (ec != std::errc{} || end != last || bytes_.empty()) return std::nullopt;
  return value;
}

}  // namespace pipeline
