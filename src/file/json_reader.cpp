// Reading a JSONL line into a record in one pass over its bytes, with no document tree: a
// general JSON library builds one (nlohmann's ordered_json found each member by a linear scan,
// so wide objects took quadratic time) and rounds numbers that have no exact value.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "json_record.hpp"

namespace pipeline::file::detail {
namespace {

auto is_digit(char c) noexcept -> bool { return c >= '0' && c <= '9'; }

// At most the first 40 bytes of `text`, for a message about a number that may be a megabyte.
auto shown(std::string_view text) -> std::string {
  return text.size() <= 40 ? std::string(text) : fmt::format("{}... ({} bytes)", text.substr(0, 40), text.size());
}

// The length of the UTF-8 sequence that starts at text[i] (2 to 4), or 0 when there is none:
// RFC 3629, so no overlong form, no surrogate and nothing past U+10FFFF.
auto utf8_sequence(std::string_view text, std::size_t i) noexcept -> std::size_t {
  const auto byte = [&](std::size_t k) -> unsigned {
    return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0u;
  };
  const unsigned lead = byte(0);
  unsigned low = 0x80;  // the range of the second byte
  unsigned high = 0xBF;
  std::size_t n = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
  }
  return n;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A decimal number as 0.<digits> x 10^exponent, with no leading or trailing zero in digits
// (none at all for zero), so that two spellings of one value compare equal.
struct decimal {
  std::string digits;
  std::int64_t exponent = 0;

  friend auto operator==(const decimal&, const decimal&) -> bool = default;
};

// `number` is JSON number text, or what fmt writes with "e".
auto to_decimal(std::string_view number) -> decimal {
  decimal d;
  std::int64_t point = 0;  // where the decimal point stands after d.digits' first digit
  bool fraction = false;
  std::size_t i = number.starts_with('-') ? 1 : 0;
  for (; i < number.size() && number[i] != 'e' && number[i] != 'E'; ++i) {
    if (number[i] == '.') {
      fraction = true;
    } else if (d.digits.empty() && number[i] == '0') {
      if (fraction) --point;
    } else {
      d.digits += number[i];
      if (!fraction) ++point;
    }
  }
  while (!d.digits.empty() && d.digits.back() == '0') d.digits.pop_back();
  if (d.digits.empty()) return d;
  std::int64_t exponent = 0;
  bool negative = false;
  if (i < number.size()) {
    ++i;
    negative = number[i] == '-';
    if (number[i] == '-' || number[i] == '+') ++i;
    // Saturated: an exponent past 10^15 is out of every range anyway.
    for (; i < number.size(); ++i) exponent = std::min<std::int64_t>(exponent * 10 + (number[i] - '0'), 1'000'000'000'000'000);
  }
  d.exponent = point + (negative ? -exponent : exponent);
  return d;
}

// Whether `d`, a subnormal double read from `written`, holds every digit written: printed back
// to as many significant digits, it reads the same. (A normal double keeps 15 digits or more;
// a subnormal fewer, down to one.)
auto keeps_digits(double d, const decimal& written) -> bool {
  // No double's exact decimal value has more than 767 significant digits.
  if (written.digits.empty() || written.digits.size() > 800) return false;
  return to_decimal(fmt::format("{:.{}e}", std::abs(d), written.digits.size() - 1)) == written;
}

// The exact value of JSON number text, or why it has none (the message's tail).
auto number_value(std::string_view number) -> result<value> {
  const char* first = number.data();
  const char* last = first + number.size();
  if (number.find_first_of(".eE") == std::string_view::npos) {
    std::int64_t i = 0;
    if (std::from_chars(first, last, i).ec == std::errc{}) return value{i};
    return invalid_input_error(fmt::format("{} does not fit in a signed 64-bit integer", shown(number)));
  }
  double d = 0;
  if (std::from_chars(first, last, d).ec == std::errc::result_out_of_range) {
    return invalid_input_error(to_decimal(number).exponent > 0
                                   ? fmt::format("{} is too large for a double", shown(number))
                                   : fmt::format("{} is too small for a double (it would read as 0)", shown(number)));
  }
  if (std::fpclassify(d) == FP_SUBNORMAL && !keeps_digits(d, to_decimal(number))) {
    return invalid_input_error(
        fmt::format("{} is subnormal, and a double there keeps fewer digits than written", shown(number)));
  }
  return value{d};
}

// One line, read once from left to right. Each step returns false once error_ is set.
class line_reader {
 public:
  line_reader(std::string_view text, const json_read_limits& limits) : text_(text), limits_(limits) {}

  auto read() -> result<record> {
    skip_space();
    if (peek() != '{') return not_an_object();
    ++at_;
    std::vector<record::entry> fields;
    skip_space();
    if (peek() == '}') {
      ++at_;
    } else {
      for (;;) {
        skip_space();
        if (peek() != '"') return syntax("a member name expected");
        if (fields.size() == limits_.max_members) return too_many_members();
        std::string name;
        if (!string(&name)) return *error_;
        skip_space();
        if (peek() != ':') return syntax("':' expected");
        ++at_;
        skip_space();
        auto v = member_value(name);
        if (!v) return *error_;
        fields.emplace_back(std::move(name), std::move(*v));
        skip_space();
        if (peek() == '}') {
          ++at_;
          break;
        }
        if (peek() != ',') return syntax("',' or '}' expected");
        ++at_;
      }
    }
    skip_space();
    if (at_ != text_.size()) return syntax("text after the object");
    fields.shrink_to_fit();  // a record holds no more than its fields (memory is counted by them)
    auto r = record::from_fields(std::move(fields));  // sorts the names by their hashes: n log n
    if (!r) return invalid_input_error(fmt::format("a member name appears twice in the object ({})", r.error().message));
    return r;
  }

 private:
  struct open_container {
    char closer;
    std::size_t members;
  };

  [[nodiscard]] auto peek() const noexcept -> char { return at_ < text_.size() ? text_[at_] : '\0'; }

  void skip_space() noexcept {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
      ++at_;
    }
  }

  auto fail(error e) -> bool {
    error_ = std::move(e);
    return false;
  }
  auto fail(std::string_view what) -> bool { return fail(syntax(what)); }
  [[nodiscard]] auto syntax(std::string_view what) const -> error {
    return invalid_input_error(fmt::format("not JSON: {} at byte {}", what, at_ + 1));
  }
  [[nodiscard]] auto too_many_members() const -> error {
    return invalid_input_error(fmt::format("an object has more than max_members ({}) members", limits_.max_members));
  }

  // The string at a '"', its escapes decoded into *decoded unless that is null (the caller
  // then copies the text as written).
  auto string(std::string* decoded) -> bool {
    ++at_;
    for (;;) {
      const std::size_t run = at_;
      while (at_ < text_.size()) {
        const auto c = static_cast<unsigned char>(text_[at_]);
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
        ++at_;
      }
      if (decoded != nullptr) decoded->append(text_.substr(run, at_ - run));
      if (at_ == text_.size()) return fail("a string not closed");
      const auto c = static_cast<unsigned char>(text_[at_]);
      if (c == '"') {
        ++at_;
        return true;
      }
      if (c < 0x20) return fail("a control character inside a string");
      if (c >= 0x80) {
        const std::size_t n = utf8_sequence(text_, at_);
        if (n == 0) return fail("a string that is not UTF-8");
        if (decoded != nullptr) decoded->append(text_.substr(at_, n));
        at_ += n;
      } else if (!escape(decoded)) {
        return false;
      }
    }
  }

  auto escape(std::string* decoded) -> bool {
    const char c = at_ + 1 < text_.size() ? text_[at_ + 1] : '\0';
    char plain = c;
    switch (c) {
      case '"':
      case '\\':
      case '/': break;
      case 'b': plain = '\b'; break;
      case 'f': plain = '\f'; break;
      case 'n': plain = '\n'; break;
      case 'r': plain = '\r'; break;
      case 't': plain = '\t'; break;
      case 'u': at_ += 2; return unicode_escape(decoded);
      default: return fail("an unknown escape in a string");
    }
    at_ += 2;
    if (decoded != nullptr) *decoded += plain;
    return true;
  }

  // After "\u": four hex digits, and a second \uXXXX when they are a high surrogate.
  auto unicode_escape(std::string* decoded) -> bool {
    const auto hex4 = [&]() -> std::optional<std::uint32_t> {
      std::uint32_t cp = 0;
      if (at_ + 4 > text_.size()) return std::nullopt;
      const auto [end, ec] = std::from_chars(text_.data() + at_, text_.data() + at_ + 4, cp, 16);
      if (ec != std::errc{} || end != text_.data() + at_ + 4) return std::nullopt;
      at_ += 4;
      return cp;
    };
    auto cp = hex4();
    if (!cp) return fail("\\u without four hex digits");
    if (*cp >= 0xDC00 && *cp <= 0xDFFF) return fail("a lone low surrogate");
    if (*cp >= 0xD800 && *cp <= 0xDBFF) {
      if (!text_.substr(at_).starts_with("\\u")) return fail("a high surrogate without its low one");
      at_ += 2;
      const auto low = hex4();
      if (!low || *low < 0xDC00 || *low > 0xDFFF) return fail("a high surrogate without its low one");
      cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
    }
    if (decoded != nullptr) append_utf8(*decoded, *cp);
    return true;
  }

  auto number() -> bool {
    const auto digits = [&] {
      const std::size_t from = at_;
      while (at_ < text_.size() && is_digit(text_[at_])) ++at_;
      return at_ - from;
    };
    if (peek() == '-') ++at_;
    if (peek() == '0') {
      ++at_;
    } else if (digits() == 0) {
      return fail("a value expected");
    }
    if (peek() == '.') {
      ++at_;
      if (digits() == 0) return fail("no digit after a decimal point");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++at_;
      if (peek() == '+' || peek() == '-') ++at_;
      if (digits() == 0) return fail("no digit in an exponent");
    }
    return true;
  }

  auto word(std::string_view w) -> bool {
    if (!text_.substr(at_).starts_with(w)) return fail("a value expected");
    at_ += w.size();
    return true;
  }

  auto member_value(const std::string& name) -> std::optional<value> {
    const std::size_t from = at_;
    switch (peek()) {
      case '{':
      case '[': {
        std::string text;
        if (!value_text(1, text)) return std::nullopt;
        text.shrink_to_fit();
        return value{std::move(text)};
      }
      case '"': {
        std::string s;
        if (!string(&s)) return std::nullopt;
        s.shrink_to_fit();
        return value{std::move(s)};
      }
      case 't': return word("true") ? std::optional<value>{true} : std::nullopt;
      case 'f': return word("false") ? std::optional<value>{false} : std::nullopt;
      case 'n': return word("null") ? std::optional<value>{value{}} : std::nullopt;
      default: break;
    }
    if (!number()) return std::nullopt;
    const std::string_view text = text_.substr(from, at_ - from);
    auto v = number_value(text);
    if (v) return std::move(*v);
    if (limits_.numbers == out_of_range::keep_as_text) return value{text};
    fail(invalid_input_error(fmt::format("member \"{}\": {}", shown(name), v.error().message)));
    return std::nullopt;
  }

  // Checks the value at at_ and appends it to `out` without the whitespace outside strings.
  // `level` is the nesting level of what holds it. A loop with a stack of open containers,
  // not recursion, so that max_depth is not bounded by the thread's stack.
  auto value_text(std::size_t level, std::string& out) -> bool {
    std::vector<open_container> open;
    for (;;) {
      skip_space();
      const std::size_t from = at_;
      switch (peek()) {
        case '{':
        case '[': {
          if (level + open.size() + 1 > limits_.max_depth) {
            return fail(invalid_input_error(
                fmt::format("JSON nested deeper than {} levels (max_depth)", limits_.max_depth)));
          }
          const char opener = text_[at_++];
          out += opener;
          open.push_back({opener == '{' ? '}' : ']', 0});
          skip_space();
          if (peek() == open.back().closer) break;  // empty: closed below
          if (opener == '[') continue;
          if (!key(open.back(), out)) return false;
          continue;
        }
        case '"':
          if (!string(nullptr)) return false;
          break;
        case 't':
          if (!word("true")) return false;
          break;
        case 'f':
          if (!word("false")) return false;
          break;
        case 'n':
          if (!word("null")) return false;
          break;
        default:
          if (!number()) return false;
          break;
      }
      if (at_ > from && text_[from] != '{' && text_[from] != '[') out += text_.substr(from, at_ - from);
      // After a value: close what it ends, or go on to the next element.
      for (;;) {
        if (open.empty()) return true;
        skip_space();
        const char c = peek();
        if (c == open.back().closer) {
          out += c;
          ++at_;
          open.pop_back();
          continue;
        }
        if (c != ',') return fail(open.back().closer == '}' ? "',' or '}' expected" : "',' or ']' expected");
        out += ',';
        ++at_;
        if (open.back().closer == '}' && !key(open.back(), out)) return false;
        break;
      }
    }
  }

  // A member's name and ':' inside a nested object.
  auto key(open_container& object, std::string& out) -> bool {
    skip_space();
    if (peek() != '"') return fail("a member name expected");
    if (++object.members > limits_.max_members) return fail(too_many_members());
    const std::size_t from = at_;
    if (!string(nullptr)) return false;
    out += text_.substr(from, at_ - from);
    skip_space();
    if (peek() != ':') return fail("':' expected");
    ++at_;
    out += ':';
    return true;
  }

  // Why a line that does not start with '{' is refused: not JSON, or JSON of another type.
  auto not_an_object() -> error {
    std::string scratch;
    if (!value_text(0, scratch)) return *error_;
    skip_space();
    if (at_ != text_.size()) return syntax("text after the value");
    const char c = scratch.front();
    const std::string_view type = c == '[' ? "array" : c == '"' ? "string" : c == 'n' ? "null" : c == 't' || c == 'f' ? "boolean" : "number";
    return invalid_input_error(fmt::format("a JSON {}, not an object", type));
  }

  std::string_view text_;
  const json_read_limits& limits_;
  std::size_t at_ = 0;
  std::optional<error> error_;
};

}  // namespace

auto parse_json_record(std::string_view text, const json_read_limits& limits) -> result<record> {
  return line_reader{text, limits}.read();
}

}  // namespace pipeline::file::detail
