#pragma once

// RFC 4180 CSV: one state machine (csv_lexer) that both finds where a record ends, while the
// bytes stream past, and splits a record into fields, so the two can never disagree.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/record.hpp>
#include <pipeline/result.hpp>

#include "record_reader.hpp"

namespace pipeline::file::detail {

/// Reads CSV one byte at a time. Fields are quoted or not; in a quoted field a doubled quote is
/// one quote, and the delimiter and line breaks are data. Malformed input (a quote inside an
/// unquoted field, text after a closing quote) is reported and read on as unquoted text, so
/// that the record still ends at the next line break.
class csv_lexer {
 public:
  enum class token : std::uint8_t {
    data,              ///< the byte is part of the field
    quote,             ///< a quote that opens, closes or escapes: not data
    field_end,         ///< the delimiter
    record_end,        ///< the '\n' that ends the record
    stray_quote,       ///< malformed: a quote inside an unquoted field
    text_after_quote,  ///< malformed: something other than a quote, delimiter or line end after a closing quote
  };

  explicit csv_lexer(char delimiter) noexcept : delimiter_(delimiter) {}

  void reset() noexcept { state_ = state::field_start; }
  [[nodiscard]] auto step(char c) noexcept -> token;
  /// Whether the input so far ends inside a quoted field.
  [[nodiscard]] auto in_quotes() const noexcept -> bool { return state_ == state::quoted; }
  /// `step` over `bytes`, which hold no quote and no '\n', where the lexer is outside quotes
  /// (not just after a closing one): each byte is data or the delimiter, so only the last one
  /// matters. Returns false, stepping nothing, where the lexer is not in such a state.
  auto skip_plain(std::string_view bytes) noexcept -> bool;

 private:
  enum class state : std::uint8_t { field_start, unquoted, quoted, quote_in_quoted };

  char delimiter_;
  state state_ = state::field_start;
};

/// A record ends at a '\n' outside quotes.
class csv_framer {
 public:
  explicit csv_framer(char delimiter) noexcept : lexer_(delimiter) {}
  void reset() noexcept { lexer_.reset(); }
  [[nodiscard]] auto find_end(std::string_view chunk) noexcept -> std::size_t;

 private:
  csv_lexer lexer_;
};

/// The CSV format for batch_reader: records whose fields are named by the header row, or
/// c0, c1, … without one; every value a string. A row of more than `max_fields` fields is
/// refused before its fields are built.
class csv_format {
 public:
  using value_type = record;

  csv_format(char delimiter, bool has_header, std::size_t max_fields)
      : delimiter_(delimiter), has_header_(has_header), max_fields_(max_fields) {}

  [[nodiscard]] auto make_framer() const noexcept -> csv_framer { return csv_framer{delimiter_}; }
  [[nodiscard]] auto has_prologue() const noexcept -> bool { return has_header_; }
  /// Takes the field names from the header row (a leading UTF-8 byte order mark is dropped).
  /// A malformed header, or two columns with one name, is an invalid_input error.
  [[nodiscard]] auto read_prologue(const raw_record* header) -> result<void>;
  [[nodiscard]] auto parse(std::string_view bytes) -> result<record>;

 private:
  /// Calls `on_field(std::string_view)` with each field of `bytes`, unquoted (valid for the
  /// call only), and returns how many there were; an invalid_input error when the row is
  /// malformed or has over max_fields_.
  template <class OnField>
  [[nodiscard]] auto split(std::string_view bytes, OnField&& on_field) const -> result<std::size_t>;

  char delimiter_;
  bool has_header_;
  std::size_t max_fields_;
  std::vector<std::string> names_;  // the header's, or c0, c1, … as far as records have gone
};

}  // namespace pipeline::file::detail
