#include "csv_format.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace pipeline::file::detail {

auto csv_lexer::step(char c) noexcept -> token {
  switch (state_) {
    case state::quoted:
      if (c == '"') {
        state_ = state::quote_in_quoted;
        return token::quote;
      }
      return token::data;
    case state::quote_in_quoted:
      if (c == '"') {  // a doubled quote: one quote of data, still quoted
        state_ = state::quoted;
        return token::data;
      }
      break;
    case state::field_start:
      if (c == '"') {
        state_ = state::quoted;
        return token::quote;
      }
      break;
    case state::unquoted: break;
  }
  // Outside quotes (or just after a closing one).
  if (c == delimiter_) {
    state_ = state::field_start;
    return token::field_end;
  }
  if (c == '\n') {
    state_ = state::field_start;
    return token::record_end;
  }
  const state was = std::exchange(state_, state::unquoted);
  if (was == state::quote_in_quoted) return token::text_after_quote;
  return c == '"' ? token::stray_quote : token::data;
}

auto csv_lexer::skip_plain(std::string_view bytes) noexcept -> bool {
  if (state_ != state::field_start && state_ != state::unquoted) return false;
  if (!bytes.empty()) state_ = bytes.back() == delimiter_ ? state::field_start : state::unquoted;
  return true;
}

// Most records hold no quote: the bytes up to the next '\n' are skipped in one go when none of
// them is a quote, and stepped one by one otherwise (memchr is what makes it cheap).
auto csv_framer::find_end(std::string_view chunk) noexcept -> std::size_t {
  std::size_t i = 0;
  while (i < chunk.size()) {
    const auto* from = chunk.data() + i;
    const auto left = chunk.size() - i;
    const auto* line_end = static_cast<const char*>(std::memchr(from, '\n', left));
    const auto plain = static_cast<std::size_t>((line_end != nullptr ? line_end : from + left) - from);
    if (std::memchr(from, '"', plain) == nullptr && lexer_.skip_plain({from, plain})) {
      if (line_end == nullptr) return chunk.size();
      lexer_.reset();  // what stepping the '\n' outside quotes does
      return i + plain;
    }
    for (; i < chunk.size(); ++i) {
      if (lexer_.step(chunk[i]) == csv_lexer::token::record_end) return i;
      if (chunk[i] == '\n') break;  // a line break inside quotes: look ahead again after it
    }
    ++i;
  }
  return chunk.size();
}

template <class OnField>
auto csv_format::split(std::string_view bytes, OnField&& on_field) const -> result<std::size_t> {
  // Without a quote (or a '\n', which the framer leaves in no record but the lexer would read
  // as a field end) every field is the bytes between two delimiters: cut them out directly.
  if (bytes.find('"') == std::string_view::npos && bytes.find('\n') == std::string_view::npos) {
    const auto fields = static_cast<std::size_t>(std::count(bytes.begin(), bytes.end(), delimiter_)) + 1;
    if (fields > max_fields_) {
      return invalid_input_error(fmt::format("the record has more than max_fields ({}) fields", max_fields_));
    }
    std::size_t start = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {  // fields are short: a plain loop beats memchr
      if (bytes[i] != delimiter_) continue;
      on_field(bytes.substr(start, i - start));
      start = i + 1;
    }
    on_field(bytes.substr(start));
    return fields;
  }
  csv_lexer lexer{delimiter_};
  std::size_t count = 1;  // fields begun so far
  std::string field;
  for (const char c : bytes) {
    switch (lexer.step(c)) {
      case csv_lexer::token::data: field += c; break;
      case csv_lexer::token::quote: break;
      // A record's bytes hold no record end (the framer ended the record at the first one):
      // both cases only start the next field.
      case csv_lexer::token::record_end:
      case csv_lexer::token::field_end:
        if (count == max_fields_) {
          return invalid_input_error(fmt::format("the record has more than max_fields ({}) fields", max_fields_));
        }
        on_field(std::string_view{field});
        field.clear();  // its buffer serves the next field
        ++count;
        break;
      case csv_lexer::token::stray_quote:
        return invalid_input_error(fmt::format("field {}: a quote inside an unquoted field", count));
      case csv_lexer::token::text_after_quote:
        return invalid_input_error(fmt::format("field {}: text after the closing quote of a quoted field", count));
    }
  }
  if (lexer.in_quotes()) {
    return invalid_input_error(
        fmt::format("field {}: a quoted field is not closed before the end of the file", count));
  }
  on_field(std::string_view{field});
  return count;
}

auto csv_format::read_prologue(const raw_record* header) -> result<void> {
  names_.clear();
  if (header == nullptr) return ok();  // an empty file: no header, no records
  if (header->oversize()) {
    return invalid_input_error(fmt::format("the header row is {} bytes, more than max_record_bytes", header->size));
  }
  std::string_view bytes = header->bytes;
  if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
  std::vector<std::string> names;
  auto split_up = split(bytes, [&](std::string_view name) { names.emplace_back(name); });
  if (!split_up) return invalid_input_error(fmt::format("the header row: {}", split_up.error().message));
  std::vector<record::entry> columns;
  columns.reserve(names.size());
  for (const auto& name : names) columns.emplace_back(name, value{});
  if (auto unique = record::from_fields(std::move(columns)); !unique) {
    return invalid_input_error(fmt::format("the header row: {}", unique.error().message));
  }
  names_ = std::move(names);
  return ok();
}

auto csv_format::parse(std::string_view bytes) -> result<record> {
  // One pass: the fields are built as they are cut out; a row found bad at its end (a wrong
  // count, a quote out of place) throws them away, which is rare.
  std::vector<record::entry> entries;
  entries.reserve(names_.size());
  auto count = split(bytes, [&](std::string_view field) {
    const auto i = entries.size();
    if (i == names_.size()) {
      if (has_header_) return;  // more fields than the header: the count below rejects the row
      names_.push_back(fmt::format("c{}", i));
    }
    entries.emplace_back(names_[i], std::string(field));
  });
  if (!count) return std::move(count).error();
  if (has_header_ && *count != names_.size()) {
    return invalid_input_error(fmt::format("the record has {} fields, the header has {}", *count, names_.size()));
  }
  return record::from_fields(std::move(entries));
}

}  // namespace pipeline::file::detail
