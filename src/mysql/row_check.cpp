#include "row_check.hpp"

#include <mysqld_error.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "binding.hpp"
#include "check_constraint.hpp"
#include "row_reader.hpp"

namespace pipeline::mysql::detail {
namespace {

namespace relational = pipeline::detail::relational;

enum class column_class : std::uint8_t { other, characters, bytes, integer, decimal, enumeration };

// One column of the table, as far as strict mode's checks of a value go.
struct column_rule {
  std::string name;
  std::string type;          // COLUMN_TYPE, for messages
  bool refuses_null = false;  // NOT NULL, and NULL is not turned into a value (AUTO_INCREMENT, TIMESTAMP)
  column_class what = column_class::other;
  bool ascii_as_is = false;  // characters in a character set that holds ASCII as utf8mb4 does, not utf8mb4
  std::int64_t max_length = 0;  // characters: in characters (CHAR, VARCHAR) or bytes (TEXT); bytes: bytes
  bool length_in_bytes = false;
  std::int64_t min = 0;  // integer
  std::uint64_t max = 0;
  int integer_digits = 0;             // decimal: precision - scale
  bool is_unsigned = false;           // decimal
  std::vector<std::string> members;  // enumeration, lower-cased, trailing spaces cut
};

struct refusal {
  unsigned int code;
  std::string message;
};

auto lower_trimmed(std::string_view s) -> std::optional<std::string> {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  std::string out;
  for (char c : s) {
    // Only ASCII is folded here; a member with other letters is left to the server.
    if (static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

// The members of "enum('a','it''s')".
auto enum_members(std::string_view type) -> std::vector<std::string> {
  std::vector<std::string> out;
  std::string current;
  bool quoted = false;
  for (std::size_t i = type.find('('); i < type.size(); ++i) {
    const char c = type[i];
    if (!quoted) {
      if (c == '\'') quoted = true;
      continue;
    }
    if (c == '\'' && i + 1 < type.size() && type[i + 1] == '\'') {
      current.push_back('\'');
      ++i;
    } else if (c == '\'') {
      quoted = false;
      out.push_back(lower_trimmed(current).value_or(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  return out;
}

// UTF-8 characters in `s` (continuation bytes not counted).
auto characters(std::string_view s) noexcept -> std::int64_t {
  return static_cast<std::int64_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; }));
}

auto integer_range(std::string_view data_type, bool is_unsigned, column_rule& rule) -> bool {
  struct range {
    std::string_view name;
    int bits;
  };
  constexpr range ranges[] = {{"tinyint", 8}, {"smallint", 16}, {"mediumint", 24}, {"int", 32}, {"bigint", 64}};
  for (const auto& r : ranges) {
    if (r.name != data_type) continue;
    if (is_unsigned) {
      rule.min = 0;
      rule.max = r.bits == 64 ? std::numeric_limits<std::uint64_t>::max() : (std::uint64_t{1} << r.bits) - 1;
    } else {
      rule.min = r.bits == 64 ? std::numeric_limits<std::int64_t>::min() : -(std::int64_t{1} << (r.bits - 1));
      rule.max = r.bits == 64 ? std::uint64_t{std::numeric_limits<std::int64_t>::max()}
                              : (std::uint64_t{1} << (r.bits - 1)) - 1;
    }
    return true;
  }
  return false;
}

auto in_range(const column_rule& rule, std::int64_t v) noexcept -> bool {
  return v >= rule.min && (v < 0 || static_cast<std::uint64_t>(v) <= rule.max);
}

auto out_of_range(const column_rule& rule) -> refusal {
  return {ER_WARN_DATA_OUT_OF_RANGE, fmt::format("Out of range value for column '{}' (checked before sending: {})",
                                                 rule.name, rule.type)};
}

auto incorrect(const column_rule& rule, std::string_view what, std::string_view text) -> refusal {
  return {ER_TRUNCATED_WRONG_VALUE_FOR_FIELD,
          fmt::format("Incorrect {} value: '{}' for column '{}' (checked before sending: {})", what,
                      text.substr(0, 64), rule.name, rule.type)};
}

// Text that starts like no number at all ("abc", ""): strict mode refuses it for a number
// column. Other doubtful forms ("1e3", " 12") are the server's to judge.
auto is_no_number(std::string_view s) noexcept -> bool {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  return s.empty() || !((s.front() >= '0' && s.front() <= '9') || s.front() == '.' || s.front() == ' ');
}

// Digits before the point of plain decimal text ("-0012.50": 2), or nullopt for another form.
auto integer_digits_of(std::string_view s) noexcept -> std::optional<int> {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  const auto point = s.find('.');
  auto whole = s.substr(0, point);
  const auto fraction = point == std::string_view::npos ? std::string_view{} : s.substr(point + 1);
  if (whole.empty() && fraction.empty()) return std::nullopt;
  const auto digits = [](std::string_view d) { return d.find_first_not_of("0123456789") == std::string_view::npos; };
  if (!digits(whole) || !digits(fraction)) return std::nullopt;
  while (!whole.empty() && whole.front() == '0') whole.remove_prefix(1);
  return static_cast<int>(whole.size());
}

auto check_integer(const column_rule& rule, const value& v) -> std::optional<refusal> {
  if (const auto* i = v.get_if<std::int64_t>()) {
    if (!in_range(rule, *i)) return out_of_range(rule);
  } else if (const auto* d = v.get_if<double>()) {
    // Rounding moves a value by at most a half: beyond one past the bounds it is out for sure.
    if (*d < static_cast<double>(rule.min) - 1 || *d > static_cast<double>(rule.max) + 1) return out_of_range(rule);
  } else if (const auto* s = v.get_if<std::string>()) {
    if (is_no_number(*s)) return incorrect(rule, "integer", *s);
    std::string_view digits = *s;
    const bool negative = !digits.empty() && digits.front() == '-';
    if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
    std::uint64_t magnitude = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
    if (end != digits.data() + digits.size() || digits.empty()) return std::nullopt;  // "12.5", " 7": the server's
    // The most a negative value may be, as a magnitude: |min|.
    const std::uint64_t lowest = rule.min == 0 ? 0 : static_cast<std::uint64_t>(-(rule.min + 1)) + 1;
    const bool out = ec == std::errc::result_out_of_range || magnitude > (negative ? lowest : rule.max);
    if (out) return out_of_range(rule);
  }
  return std::nullopt;
}

auto check_decimal(const column_rule& rule, const value& v) -> std::optional<refusal> {
  const double limit = std::pow(10.0, rule.integer_digits);
  if (const auto* i = v.get_if<std::int64_t>()) {
    if ((rule.is_unsigned && *i < 0) || std::fabs(static_cast<double>(*i)) >= limit) return out_of_range(rule);
  } else if (const auto* d = v.get_if<double>()) {
    // Rounding to the scale never takes a value at or past 10^digits back below it.
    if ((rule.is_unsigned && *d <= -1) || std::fabs(*d) >= limit) return out_of_range(rule);
  } else if (const auto* s = v.get_if<std::string>()) {
    if (is_no_number(*s)) return incorrect(rule, "decimal", *s);
    if (const auto digits = integer_digits_of(*s); digits && *digits > rule.integer_digits) return out_of_range(rule);
  }
  return std::nullopt;
}

auto check_length(const column_rule& rule, const value& v) -> std::optional<refusal> {
  std::int64_t length = 0;
  if (const auto* s = v.get_if<std::string>()) {
    length = rule.length_in_bytes ? static_cast<std::int64_t>(s->size()) : characters(*s);
  } else if (const auto* b = v.get_if<bytes>(); b != nullptr && rule.what == column_class::bytes) {
    length = static_cast<std::int64_t>(b->size());
  } else if (const auto* i = v.get_if<std::int64_t>()) {
    length = static_cast<std::int64_t>(fmt::formatted_size("{}", *i));
  } else {
    return std::nullopt;
  }
  if (length <= rule.max_length) return std::nullopt;
  return refusal{ER_DATA_TOO_LONG,
                 fmt::format("Data too long for column '{}' (checked before sending: {} {}, {} holds {})", rule.name,
                             length, rule.length_in_bytes ? "bytes" : "characters", rule.type, rule.max_length)};
}

auto check_member(const column_rule& rule, const value& v) -> std::optional<refusal> {
  const auto truncated = [&] {
    return refusal{WARN_DATA_TRUNCATED, fmt::format("Data truncated for column '{}' (checked before sending: {} "
                                                    "is not one of {})",
                                                    rule.name, v, rule.type)};
  };
  if (const auto* i = v.get_if<std::int64_t>()) {
    // A number is a member's index; 0 is the server's to judge.
    if (*i < 0 || *i > static_cast<std::int64_t>(rule.members.size())) return truncated();
  } else if (const auto* s = v.get_if<std::string>()) {
    const auto folded = lower_trimmed(*s);
    if (!folded || std::find(rule.members.begin(), rule.members.end(), *folded) != rule.members.end()) {
      return std::nullopt;
    }
    // Text of digits may stand for an index: the server's to judge.
    if (!s->empty() && s->find_first_not_of("0123456789 ") == std::string::npos) return std::nullopt;
    return truncated();
  }
  return std::nullopt;
}

auto check_value(const column_rule& rule, const value* v) -> std::optional<refusal> {
  if (v == nullptr || v->is_null()) {
    if (!rule.refuses_null) return std::nullopt;
    return refusal{ER_BAD_NULL_ERROR, fmt::format("Column '{}' cannot be null (checked before sending: {} NOT NULL)",
                                                  rule.name, rule.type)};
  }
  switch (rule.what) {
    case column_class::characters:
    case column_class::bytes: return check_length(rule, *v);
    case column_class::integer: return check_integer(rule, *v);
    case column_class::decimal: return check_decimal(rule, *v);
    case column_class::enumeration: return check_member(rule, *v);
    case column_class::other: break;
  }
  return std::nullopt;
}

auto text_of(const record& r, std::string_view field) -> std::string {
  const value* v = r.find(field);
  if (v == nullptr) return {};
  if (const auto* s = v->get_if<std::string>()) return *s;
  if (const auto* b = v->get_if<bytes>()) return {reinterpret_cast<const char*>(b->data()), b->size()};
  return {};
}

auto int_of(const record& r, std::string_view field) -> std::int64_t {
  const value* v = r.find(field);
  const auto* i = v != nullptr ? v->get_if<std::int64_t>() : nullptr;
  return i != nullptr ? *i : 0;
}

// A unique index of the table whose columns the sink all gives.
struct unique_key {
  std::string name;
  std::vector<std::size_t> columns;  // into the plan's columns, in the index's order
};

// A value as MySQL shows it in a duplicate-key message: text as it is, the rest formatted.
auto shown(const value& v) -> std::string {
  if (const auto* s = v.get_if<std::string>()) return s->substr(0, 64);
  return fmt::format("{}", v);
}

// The values of `key` in `row` as a duplicate-key message shows them ("a-b"); nullopt when
// one is NULL (NULLs never collide).
auto shown_key(const relational::sink_plan& plan, const unique_key& key, const record& row)
    -> std::optional<std::string> {
  std::vector<std::string> values;
  for (std::size_t column : key.columns) {
    const value* v = row.find(plan.columns[column]);
    if (v == nullptr || v->is_null()) return std::nullopt;
    values.push_back(shown(*v));
  }
  return fmt::format("{}", fmt::join(values, "-"));
}

// "Duplicate entry '<entry>' for key '<key>'" split; nullopt for any other message. MySQL 8
// names the key "<table>.<key>".
struct duplicate_entry {
  std::string entry;
  std::string key;
};
auto parse_duplicate_entry(std::string_view message) -> std::optional<duplicate_entry> {
  constexpr std::string_view head = "Duplicate entry '";
  constexpr std::string_view middle = "' for key '";
  if (!message.starts_with(head) || !message.ends_with('\'')) return std::nullopt;
  const auto at = message.rfind(middle);
  if (at == std::string_view::npos || at < head.size()) return std::nullopt;
  auto key = message.substr(at + middle.size(), message.size() - at - middle.size() - 1);
  if (const auto dot = key.rfind('.'); dot != std::string_view::npos) key.remove_prefix(dot + 1);
  return duplicate_entry{std::string(message.substr(head.size(), at - head.size())), std::string(key)};
}

// Where `name` stands in the plan's columns; column names compare without case in MySQL.
auto column_index(const relational::sink_plan& plan, std::string_view name) -> std::optional<std::size_t> {
  const auto same = [&](const std::string& column) {
    return std::equal(column.begin(), column.end(), name.begin(), name.end(),
                      [](char a, char b) { return (a | 0x20) == (b | 0x20); });
  };
  const auto at = std::find_if(plan.columns.begin(), plan.columns.end(), same);
  if (at == plan.columns.end()) return std::nullopt;
  return static_cast<std::size_t>(at - plan.columns.begin());
}

// A CHECK constraint as the row check judges it: the bounds on integer and DECIMAL columns
// of the plan (by the plan's column index), resolved once when the sink opens. A bound on
// any other column is left out: it can only make the constraint fail on the server.
struct judged_bound {
  std::size_t column;
  column_bound bound;
};
struct judged_check {
  std::string name;
  std::vector<judged_bound> bounds;
};

class column_check final : public relational::row_check {
 public:
  column_check(std::vector<std::optional<column_rule>> rules, std::vector<unique_key> keys,
               std::vector<judged_check> checks) noexcept
      : rules_(std::move(rules)), keys_(std::move(keys)), checks_(std::move(checks)) {}

  [[nodiscard]] auto ascii_stored_as_is() const -> std::vector<bool> {
    std::vector<bool> out;
    for (const auto& rule : rules_) out.push_back(rule && rule->ascii_as_is);
    return out;
  }

  [[nodiscard]] auto refused(const relational::sink_plan& plan, std::span<const record> rows) const
      -> std::vector<rejected_record> override {
    std::vector<rejected_record> out;
    for (std::size_t row = 0; row < rows.size(); ++row) {
      auto found = refusal_of(plan, rows[row]);
      if (!found) continue;
      out.push_back({row, error{error_kind::invalid_input,
                                fmt::format("row {} of {} into {}: {}", row, rows.size(), plan.table, found->message),
                                static_cast<std::int64_t>(found->code), "mysql"}});
    }
    return out;
  }

  [[nodiscard]] auto duplicates(relational::connection& c, const relational::sink_plan& plan,
                                std::span<const record> rows) const -> result<std::vector<rejected_record>> override {
    std::vector<std::optional<std::string>> why(rows.size());  // set: the row is a duplicate
    for (const auto& key : keys_) {
      // The rows whose key has no NULL (NULLs never collide) and is not taken by an earlier
      // row; the values' formatted text tells equal values of the same kind apart.
      std::unordered_map<std::string, std::size_t> first;
      std::vector<std::size_t> candidates;
      for (std::size_t i = 0; i < rows.size(); ++i) {
        if (why[i]) continue;
        std::string text;
        bool has_null = false;
        for (std::size_t column : key.columns) {
          const value* v = rows[i].find(plan.columns[column]);
          has_null = has_null || v == nullptr || v->is_null();
          if (!has_null) fmt::format_to(std::back_inserter(text), "{}\x1f", *v);
        }
        if (has_null) continue;
        if (const auto [at, fresh] = first.emplace(std::move(text), i); !fresh) {
          why[i] = message(plan, key, rows[i], fmt::format("row {} has it too", at->second));
          continue;
        }
        candidates.push_back(i);
      }
      auto stored = stored_keys(c, plan, key, rows, candidates);
      if (!stored) return std::move(stored).error();
      for (std::size_t i : *stored) why[i] = message(plan, key, rows[i], "stored already");
    }
    std::vector<rejected_record> out;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (why[i]) out.push_back({i, error{error_kind::permanent, std::move(*why[i]), ER_DUP_ENTRY, "mysql"}});
    }
    return out;
  }

  [[nodiscard]] auto skipped(const relational::sink_plan& plan, std::span<const record> rows,
                             std::span<const record> warnings, std::uint64_t inserted) const
      -> std::optional<std::vector<rejected_record>>;

 private:
  // The server's first refusal of `row`: its values against their columns, then the CHECK
  // constraints' bounds (judged for an integer value; anything else is left to the server).
  [[nodiscard]] auto refusal_of(const relational::sink_plan& plan, const record& row) const -> std::optional<refusal> {
    for (std::size_t c = 0; c < rules_.size(); ++c) {
      if (!rules_[c]) continue;
      if (auto found = check_value(*rules_[c], row.find(plan.columns[c]))) return found;
    }
    for (const auto& check : checks_) {
      const auto broken = std::ranges::any_of(check.bounds, [&](const judged_bound& b) {
        const value* v = row.find(plan.columns[b.column]);
        const auto* i = v != nullptr ? v->get_if<std::int64_t>() : nullptr;
        return i != nullptr && !b.bound.holds(static_cast<long double>(*i));
      });
      if (broken) return refusal{ER_CONSTRAINT_FAILED, fmt::format("CONSTRAINT `{}` failed for {}", check.name, plan.table)};
    }
    return std::nullopt;
  }

  static auto message(const relational::sink_plan& plan, const unique_key& key, const record& row,
                      std::string_view where) -> std::string {
    return fmt::format("Duplicate entry '{}' for key '{}' into {} (found before sending again: {})",
                       shown_key(plan, key, row).value_or(""), key.name, plan.table, where);
  }

  // Of `candidates` (indexes into `rows`), those whose `key` is in the table: one query per
  // chunk, each row a UNION ALL branch that the index answers.
  static auto stored_keys(relational::connection& c, const relational::sink_plan& plan, const unique_key& key,
                          std::span<const record> rows, std::span<const std::size_t> candidates)
      -> result<std::vector<std::size_t>> {
    constexpr std::size_t rows_per_query = 500;
    const auto& d = c.sql_dialect();
    std::vector<std::string> equal;
    for (std::size_t column : key.columns) equal.push_back(fmt::format("{} = ?", d.quote(plan.columns[column])));
    const auto where = fmt::format("{}", fmt::join(equal, " AND "));
    std::vector<std::size_t> stored;
    for (std::size_t first = 0; first < candidates.size(); first += rows_per_query) {
      const auto chunk = candidates.subspan(first, std::min(rows_per_query, candidates.size() - first));
      std::string sql;
      for (std::size_t i : chunk) {
        fmt::format_to(std::back_inserter(sql), "{}SELECT {} FROM {} WHERE {}", sql.empty() ? "" : " UNION ALL ", i,
                       plan.table, where);
      }
      auto st = c.prepare(sql);
      if (!st) return std::move(st).error();
      int parameter = 1;
      for (std::size_t i : chunk) {
        for (std::size_t column : key.columns) (*st)->bind_value(parameter++, *rows[i].find(plan.columns[column]));
      }
      if (auto done = (*st)->execute(fmt::format("looking up the keys of {} rows in {}", chunk.size(), plan.table));
          !done) {
        return std::move(done).error();
      }
      for (;;) {
        auto row = (*st)->next_row();
        if (!row) return std::move(row).error();
        if (!*row) break;
        if (auto i = (*st)->int64_at(0)) stored.push_back(static_cast<std::size_t>(*i));
      }
    }
    return stored;
  }

  std::vector<std::optional<column_rule>> rules_;  // by the plan's column order; none: not in the table
  std::vector<unique_key> keys_;
  std::vector<judged_check> checks_;
};

// The rows an INSERT IGNORE skipped for a key whose entry is shown as
// `e`, of the rows showing `e` for that key, are the last ones: the first such row was stored
// unless the entry was stored already, and then all were skipped. That holds while no row
// shows a skipped entry of two keys, which is checked; anything else is left undecided.
auto column_check::skipped(const relational::sink_plan& plan, std::span<const record> rows,
                           std::span<const record> warnings, std::uint64_t inserted) const
    -> std::optional<std::vector<rejected_record>> {
  // A note (a DECIMAL rounded) comes with a stored row under a plain INSERT too.
  const auto skips = std::ranges::count_if(warnings, [](const record& w) { return text_of(w, "Level") != "Note"; });
  if (inserted + static_cast<std::uint64_t>(skips) != rows.size()) return std::nullopt;
  struct skipped_entry {
    std::size_t key;
    std::string entry;
    std::vector<std::string> messages;  // one per skipped row, in order
    std::vector<std::size_t> rows;      // the rows showing `entry` for `key`
  };
  std::vector<skipped_entry> entries;
  for (const auto& w : warnings) {
    if (text_of(w, "Level") == "Note") continue;
    if (int_of(w, "Code") != ER_DUP_ENTRY) return std::nullopt;
    auto message = text_of(w, "Message");
    auto parsed = parse_duplicate_entry(message);
    if (!parsed || parsed->entry.size() >= 64) return std::nullopt;  // a longer entry may be cut
    const auto key = std::find_if(keys_.begin(), keys_.end(), [&](const unique_key& k) { return k.name == parsed->key; });
    if (key == keys_.end()) return std::nullopt;
    const auto k = static_cast<std::size_t>(key - keys_.begin());
    auto same = std::find_if(entries.begin(), entries.end(),
                             [&](const skipped_entry& e) { return e.key == k && e.entry == parsed->entry; });
    if (same == entries.end()) same = entries.insert(entries.end(), skipped_entry{k, std::move(parsed->entry), {}, {}});
    same->messages.push_back(std::move(message));
  }
  // Each row's entry for each key a warning names, made once.
  std::vector<std::vector<std::optional<std::string>>> shown_by_key(keys_.size());
  for (const auto& e : entries) {
    auto& shown = shown_by_key[e.key];
    if (!shown.empty()) continue;
    shown.reserve(rows.size());
    for (const auto& row : rows) shown.push_back(shown_key(plan, keys_[e.key], row));
  }
  std::vector<bool> involved(rows.size());
  std::vector<rejected_record> out;
  for (auto& e : entries) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (shown_by_key[e.key][i] != e.entry) continue;
      if (involved[i]) return std::nullopt;
      involved[i] = true;
      e.rows.push_back(i);
    }
    if (e.rows.size() < e.messages.size()) return std::nullopt;
    const auto first_skipped = e.rows.size() - e.messages.size();
    for (std::size_t j = 0; j < e.messages.size(); ++j) {
      out.push_back({e.rows[first_skipped + j],
                     error{error_kind::permanent, fmt::format("{} into {}", e.messages[j], plan.table), ER_DUP_ENTRY,
                           "mysql"}});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return out;
}


// Runs a query on the information schema about `plan`'s table (its one parameter).
auto schema_rows(connection& c, const relational::sink_plan& plan, std::string_view sql, std::string_view context)
    -> result<std::vector<record>> {
  auto st = c.prepare(sql);
  if (!st) return std::move(st).error();
  const std::vector<value> table{value{plan.table_name}};
  auto bound = parameters::bind(table);
  if (!bound) return std::move(bound).error();
  if (auto done = st->execute((*bound)->data(), context); !done) return std::move(done).error();
  return fetch_records(*st, context);
}

// The table's unique keys (primary included) that the sink gives every column of; a key on a
// prefix of a column is left out (equal prefixes are not equal values).
auto read_unique_keys(connection& c, const relational::sink_plan& plan) -> result<std::vector<unique_key>> {
  auto parts = schema_rows(c, plan,
                           "SELECT INDEX_NAME AS name, COLUMN_NAME AS column_name, SUB_PART IS NOT NULL AS prefix "
                           "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? "
                           "AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX",
                           fmt::format("reading the unique keys of {}", plan.table));
  if (!parts) return std::move(parts).error();
  std::vector<unique_key> keys;
  bool usable = false;
  for (const auto& part : *parts) {
    const auto name = text_of(part, "name");
    if (keys.empty() || keys.back().name != name) {
      if (!keys.empty() && !usable) keys.pop_back();
      keys.push_back({name, {}});
      usable = true;
    }
    const auto column = column_index(plan, text_of(part, "column_name"));
    usable = usable && column.has_value() && int_of(part, "prefix") == 0;
    if (column) keys.back().columns.push_back(*column);
  }
  if (!keys.empty() && !usable) keys.pop_back();
  return keys;
}

// The table's CHECK constraints the row check can judge (check_constraint.hpp). A server
// without information_schema.CHECK_CONSTRAINTS or its MariaDB columns (MySQL 8 has no
// TABLE_NAME there) gives none: the server judges them all.
auto read_check_constraints(connection& c, const relational::sink_plan& plan,
                            const std::vector<std::optional<column_rule>>& rules) -> result<std::vector<judged_check>> {
  auto rows = schema_rows(c, plan,
                          "SELECT CONSTRAINT_NAME AS name, LEVEL AS level, CHECK_CLAUSE AS clause "
                          "FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() "
                          "AND TABLE_NAME = ? ORDER BY CONSTRAINT_NAME",
                          fmt::format("reading the CHECK constraints of {}", plan.table));
  if (!rows) {
    const auto code = rows.error().native_code;
    if (code == ER_BAD_FIELD_ERROR || code == ER_UNKNOWN_TABLE || code == ER_NO_SUCH_TABLE) {
      return std::vector<judged_check>{};
    }
    return std::move(rows).error();
  }
  std::vector<judged_check> checks;
  for (const auto& r : *rows) {
    // A column's own constraint is named after the column; the server's message adds the table.
    auto name = text_of(r, "name");
    if (text_of(r, "level") == "Column") name = fmt::format("{}.{}", plan.table_name, name);
    auto parsed = parse_check_clause(std::move(name), text_of(r, "clause"));
    if (!parsed) continue;
    judged_check check{std::move(parsed->name), {}};
    for (auto& b : parsed->bounds) {
      const auto column = column_index(plan, b.column);
      if (!column || !rules[*column]) continue;
      if (rules[*column]->what != column_class::integer && rules[*column]->what != column_class::decimal) continue;
      check.bounds.push_back({*column, std::move(b)});
    }
    if (!check.bounds.empty()) checks.push_back(std::move(check));
  }
  return checks;
}

auto rule_of(const record& r) -> column_rule {
  column_rule rule;
  rule.name = text_of(r, "name");
  rule.type = text_of(r, "column_type");
  const auto data_type = text_of(r, "data_type");
  const auto extra = text_of(r, "extra");
  rule.refuses_null = text_of(r, "is_nullable") == "NO" && extra.find("auto_increment") == std::string::npos &&
                      data_type != "timestamp";
  const bool is_unsigned = rule.type.find("unsigned") != std::string::npos;
  if (data_type == "char" || data_type == "varchar") {
    rule.what = column_class::characters;
    rule.max_length = int_of(r, "max_characters");
  } else if (data_type.ends_with("text")) {
    rule.what = column_class::characters;
    rule.max_length = int_of(r, "max_bytes");
    rule.length_in_bytes = true;
  } else if (data_type == "binary" || data_type == "varbinary" || data_type.ends_with("blob")) {
    rule.what = column_class::bytes;
    rule.max_length = int_of(r, "max_bytes");
    rule.length_in_bytes = true;
  } else if (integer_range(data_type, is_unsigned, rule)) {
    rule.what = column_class::integer;
  } else if (data_type == "decimal") {
    rule.what = column_class::decimal;
    rule.integer_digits = static_cast<int>(int_of(r, "numeric_precision") - int_of(r, "numeric_scale"));
    rule.is_unsigned = is_unsigned;
  } else if (data_type == "enum") {
    rule.what = column_class::enumeration;
    rule.members = enum_members(rule.type);
  }
  const auto charset = text_of(r, "charset");
  rule.ascii_as_is = rule.what == column_class::characters &&
                     (charset == "latin1" || charset == "latin2" || charset == "ascii" || charset == "utf8mb3" ||
                      charset == "utf8");
  // A length the metadata does not give (0) checks nothing.
  if ((rule.what == column_class::characters || rule.what == column_class::bytes) && rule.max_length <= 0) {
    rule.what = column_class::other;
  }
  return rule;
}

}  // namespace

auto read_row_check(connection& c, const relational::sink_plan& plan)
    -> result<std::shared_ptr<const relational::row_check>> {
  auto columns = schema_rows(
      c, plan,
      "SELECT COLUMN_NAME AS name, IS_NULLABLE AS is_nullable, DATA_TYPE AS data_type, COLUMN_TYPE AS column_type, "
      "EXTRA AS extra, CAST(CHARACTER_MAXIMUM_LENGTH AS SIGNED) AS max_characters, "
      "CAST(CHARACTER_OCTET_LENGTH AS SIGNED) AS max_bytes, CAST(NUMERIC_PRECISION AS SIGNED) AS numeric_precision, "
      "CAST(NUMERIC_SCALE AS SIGNED) AS numeric_scale, CHARACTER_SET_NAME AS charset "
      "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
      fmt::format("reading the columns of {}", plan.table));
  if (!columns) return std::move(columns).error();
  std::vector<std::optional<column_rule>> rules(plan.columns.size());
  for (const auto& r : *columns) {
    auto rule = rule_of(r);
    if (const auto at = column_index(plan, rule.name)) rules[*at] = std::move(rule);
  }
  auto keys = read_unique_keys(c, plan);
  if (!keys) return std::move(keys).error();
  auto checks = read_check_constraints(c, plan, rules);
  if (!checks) return std::move(checks).error();
  return std::make_shared<const column_check>(std::move(rules), std::move(*keys), std::move(*checks));
}

auto skipped_duplicates(const relational::row_check& check, const relational::sink_plan& plan,
                        std::span<const record> rows, std::span<const record> warnings, std::uint64_t inserted)
    -> std::optional<std::vector<rejected_record>> {
  const auto* columns = dynamic_cast<const column_check*>(&check);
  if (columns == nullptr) return std::nullopt;
  return columns->skipped(plan, rows, warnings, inserted);
}

auto ascii_stored_as_is(const relational::row_check& check) -> std::vector<bool> {
  const auto* columns = dynamic_cast<const column_check*>(&check);
  return columns != nullptr ? columns->ascii_stored_as_is() : std::vector<bool>{};
}

}  // namespace pipeline::mysql::detail
