#include "check_constraint.hpp"

#include <cctype>
#include <cstdlib>
#include <utility>

namespace pipeline::mysql::detail {
namespace {

using comparison = column_bound::comparison;

// A recursive-descent reader of the clause; any token it does not expect fails the parse.
class clause_reader {
 public:
  explicit clause_reader(std::string_view text) noexcept : text_(text) {}

  // conjunction := part ('and' part)*
  auto conjunction(std::vector<column_bound>& out) -> bool {
    do {
      if (!part(out)) return false;
    } while (word("and"));
    return true;
  }
  [[nodiscard]] auto at_end() -> bool {
    skip_spaces();
    return at_ == text_.size();
  }

 private:
  // part := '(' conjunction ')' | column op number | column 'between' number 'and' number
  auto part(std::vector<column_bound>& out) -> bool {
    if (symbol("(")) return conjunction(out) && symbol(")");
    auto column = identifier();
    if (!column) return false;
    if (word("between")) {
      const auto low = number();
      if (!low || !word("and")) return false;
      const auto high = number();
      if (!high) return false;
      out.push_back({*column, comparison::greater_equal, *low});
      out.push_back({std::move(*column), comparison::less_equal, *high});
      return true;
    }
    const auto op = operator_();
    if (!op) return false;
    const auto limit = number();
    if (!limit) return false;
    out.push_back({std::move(*column), *op, *limit});
    return true;
  }

  void skip_spaces() noexcept {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_])) != 0) ++at_;
  }
  auto symbol(std::string_view s) -> bool {
    skip_spaces();
    if (!text_.substr(at_).starts_with(s)) return false;
    at_ += s.size();
    return true;
  }
  // A keyword, any case, not followed by a letter.
  auto word(std::string_view w) -> bool {
    skip_spaces();
    if (text_.size() - at_ < w.size()) return false;
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(text_[at_ + i])) != w[i]) return false;
    }
    const auto next = at_ + w.size();
    if (next < text_.size() && std::isalnum(static_cast<unsigned char>(text_[next])) != 0) return false;
    at_ = next;
    return true;
  }
  // `name`, with `` standing for one backtick.
  auto identifier() -> std::optional<std::string> {
    if (!symbol("`")) return std::nullopt;
    std::string name;
    while (at_ < text_.size()) {
      if (text_[at_] == '`') {
        if (at_ + 1 < text_.size() && text_[at_ + 1] == '`') {
          name += '`';
          at_ += 2;
          continue;
        }
        ++at_;
        return name;
      }
      name += text_[at_++];
    }
    return std::nullopt;
  }
  auto operator_() -> std::optional<comparison> {
    // Longest first: "<=" before "<".
    static constexpr std::pair<std::string_view, comparison> operators[] = {
        {"<=", comparison::less_equal}, {">=", comparison::greater_equal}, {"<>", comparison::not_equal},
        {"!=", comparison::not_equal},  {"<", comparison::less},           {">", comparison::greater},
        {"=", comparison::equal}};
    for (const auto& [text, op] : operators) {
      if (symbol(text)) return op;
    }
    return std::nullopt;
  }
  // [-]digits[.digits]
  auto number() -> std::optional<long double> {
    skip_spaces();
    const auto start = at_;
    if (at_ < text_.size() && text_[at_] == '-') ++at_;
    const auto digits = [&] {
      const auto from = at_;
      while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_])) != 0) ++at_;
      return at_ > from;
    };
    if (!digits()) return std::nullopt;
    if (at_ < text_.size() && text_[at_] == '.') {
      ++at_;
      if (!digits()) return std::nullopt;
    }
    if (at_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[at_])) != 0) return std::nullopt;  // 1e3
    return std::strtold(std::string(text_.substr(start, at_ - start)).c_str(), nullptr);
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

}  // namespace

auto column_bound::holds(long double v) const noexcept -> bool {
  switch (op) {
    case comparison::less: return v < limit;
    case comparison::less_equal: return v <= limit;
    case comparison::greater: return v > limit;
    case comparison::greater_equal: return v >= limit;
    case comparison::equal: return v == limit;
    case comparison::not_equal: return v != limit;
  }
  return true;
}

auto parse_check_clause(std::string name, std::string_view clause) -> std::optional<check_constraint> {
  check_constraint c{std::move(name), {}};
  clause_reader reader{clause};
  if (!reader.conjunction(c.bounds) || !reader.at_end()) return std::nullopt;
  return c;
}

}  // namespace pipeline::mysql::detail
