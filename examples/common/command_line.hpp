#pragma once
// Shared by the examples' parse_options: reads a command line one option at a time.
// Header-only; a value type over argv, which must outlive it.

#include <charconv>
#include <cstdio>
#include <optional>
#include <span>
#include <string_view>

namespace examples {

class command_line {
 public:
  command_line(int argc, char** argv) : args_(argv + 1, static_cast<std::size_t>(argc > 0 ? argc - 1 : 0)) {}

  /// The next option ("--rows"), or nullopt after the last.
  auto next_option() -> std::optional<std::string_view> {
    if (at_ == args_.size()) return std::nullopt;
    return args_[at_++];
  }
  /// The value that follows the option just read ("" when there is none), consumed.
  auto value() -> std::string_view { return at_ < args_.size() ? args_[at_++] : ""; }
  /// The value as a number above zero, into `out`; false when it is not one.
  template <class Number>
  auto positive(Number& out) -> bool {
    const auto text = value();
    return std::from_chars(text.data(), text.data() + text.size(), out).ec == std::errc{} && out > 0;
  }

 private:
  std::span<char*> args_;
  std::size_t at_ = 0;
};

/// `parse(argc, argv)`'s options (an optional), or nullopt once `usage` is printed on stderr:
/// the caller then exits 2.
template <class Parse>
auto options_or_usage(int argc, char** argv, Parse parse, const char* usage) -> decltype(parse(argc, argv)) {
  auto o = parse(argc, argv);
  if (!o) std::fputs(usage, stderr);
  return o;
}

}  // namespace examples
