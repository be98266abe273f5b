#pragma once

// The tab-separated text that PostgreSQL's COPY … FROM STDIN and MySQL's LOAD DATA read by
// default (fields ended by a tab, rows by a newline, NULL as \N), as their table sinks send
// rows in bulk. Private to src/.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace pipeline::detail::relational {

/// Whether one of the 8 bytes at `p` is one `append_escaped_field` escapes: a byte equal to b
/// leaves a zero byte in (w ^ b…b), which the usual bit trick finds for all 8 at once.
[[nodiscard]] inline auto word_needs_escape(const char* p) noexcept -> bool {
  std::uint64_t w = 0;
  std::memcpy(&w, p, sizeof w);
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  const auto has_zero = [](std::uint64_t x) { return ((x - ones) & ~x & highs) != 0; };
  return has_zero(w) || has_zero(w ^ (ones * std::uint64_t{'\\'})) || has_zero(w ^ (ones * std::uint64_t{'\t'})) ||
         has_zero(w ^ (ones * std::uint64_t{'\n'})) || has_zero(w ^ (ones * std::uint64_t{'\r'}));
}

/// Appends `text` to `out` as one field: backslash, tab, newline, carriage return and NUL
/// escaped as \\ \t \n \r \0, which both servers read back as the byte (PostgreSQL text holds
/// no NUL, so its sink refuses such text before it gets here).
inline void append_escaped_field(std::string& out, std::string_view text) {
  std::size_t run = 0;  // from here on, not appended yet
  std::size_t i = 0;
  while (i < text.size()) {
    if (i + 8 <= text.size() && !word_needs_escape(text.data() + i)) {
      i += 8;
      continue;
    }
    char escaped = 0;
    switch (text[i]) {
      case '\\': escaped = '\\'; break;
      case '\t': escaped = 't'; break;
      case '\n': escaped = 'n'; break;
      case '\r': escaped = 'r'; break;
      case '\0': escaped = '0'; break;
      default: ++i; continue;
    }
    out.append(text.substr(run, i - run));
    out.push_back('\\');
    out.push_back(escaped);
    run = ++i;
  }
  out.append(text.substr(run));
}

}  // namespace pipeline::detail::relational
