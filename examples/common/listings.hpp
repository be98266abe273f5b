#pragma once
// The real-estate listings shared by the examples that load them (03 into SQLite, 06 into
// MongoDB): a deterministic messy CSV (about 1% bad rows, one 10 MB line), the normaliser that
// turns a CSV row into a typed listing or an invalid_input error, and helpers to summarise and
// check the dead letters. Header-only, so each example stays a standalone project.

#include <pipeline/pipeline.hpp>

#include <chrono>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace listings {

// --- the input: deterministic, about 1% bad -------------------------------------------

enum class defect { none, missing_fields, bad_price, impossible_date, invalid_utf8, huge_line };

inline auto defect_of(std::int64_t id, std::int64_t rows) -> defect {
  if (id == rows / 2) return defect::huge_line;  // one 10 MB line
  if (id % 331 == 0) return defect::missing_fields;
  if (id % 257 == 0) return defect::bad_price;
  if (id % 199 == 0) return defect::impossible_date;
  if (id % 503 == 0) return defect::invalid_utf8;
  return defect::none;
}

inline void generate(const std::filesystem::path& input, std::int64_t rows) {
  static constexpr const char* cities[] = {"Lisboa", "Porto", "Faro", "Braga", "Coimbra", "\"Vila Nova\", Gaia"};
  const auto tmp = std::filesystem::path(input).concat(".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << "id,city,price,listed_on,bedrooms\n";
    for (std::int64_t id = 1; id <= rows; ++id) {
      std::string city = cities[id % 6];
      if (city.find('"') != std::string::npos) city = "\"\"\"Vila Nova\"\", Gaia\"";  // quoted, with quotes inside
      switch (defect_of(id, rows)) {
        case defect::missing_fields: out << id << ',' << city << '\n'; break;
        case defect::bad_price: out << id << ',' << city << ",12O 000.00,2024-05-01,2\n"; break;
        case defect::impossible_date: out << id << ',' << city << ",99000.00,2024-02-30,2\n"; break;
        case defect::invalid_utf8: out << id << ",Lisb\xff\xfe" << "a,150000.00,2024-03-03,1\n"; break;
        case defect::huge_line: out << id << ',' << std::string(10 << 20, 'x') << ",1.00,2024-01-01,1\n"; break;
        case defect::none:
          out << id << ',' << city << ',' << 50'000 + id % 900'000 << '.' << id % 100 / 10 << id % 10 << ",2024-"
              << (1 + id % 12 < 10 ? "0" : "") << 1 + id % 12 << '-' << (1 + id % 28 < 10 ? "0" : "") << 1 + id % 28
              << ',' << id % 6 << '\n';
      }
    }
  }
  std::filesystem::rename(tmp, input);  // a killed generator never leaves a half input
}

// --- validate and normalise ------------------------------------------------------------

inline auto text_of(const pipeline::record& r, std::string_view field) -> pipeline::result<std::string_view> {
  const auto* v = r.find(field);
  const auto* s = v != nullptr ? v->get_if<std::string>() : nullptr;
  if (s == nullptr) return pipeline::invalid_input_error(fmt::format("field '{}' is missing", field));
  return std::string_view{*s};
}

inline auto integer(std::string_view text, std::string_view what) -> pipeline::result<std::int64_t> {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return pipeline::invalid_input_error(fmt::format("{} '{}' is not a whole number", what, text));
  }
  return v;
}

inline auto valid_utf8(std::string_view s) -> bool {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += n;
  }
  return true;
}

// A CSV row (all strings) becomes a typed warehouse row, or an invalid_input error that the
// runner dead-letters with its message.
inline auto normalise(const pipeline::record& row) -> pipeline::result<pipeline::record> {
  auto id_text = text_of(row, "id");
  auto city = text_of(row, "city");
  auto price = text_of(row, "price");
  auto date = text_of(row, "listed_on");
  auto bedrooms_text = text_of(row, "bedrooms");
  for (const auto* r : {&id_text, &city, &price, &date, &bedrooms_text}) {
    if (!*r) return r->error();
  }
  auto id = integer(*id_text, "id");
  if (!id) return id.error();
  if (city->empty() || !valid_utf8(*city)) return pipeline::invalid_input_error("city is empty or not UTF-8");
  const auto dot = price->find('.');
  auto units = integer(price->substr(0, dot), "price");
  auto cents = dot == std::string_view::npos ? pipeline::result<std::int64_t>{0} : integer(price->substr(dot + 1), "price cents");
  if (!units || !cents || (dot != std::string_view::npos && price->size() - dot != 3)) {
    return pipeline::invalid_input_error(fmt::format("price '{}' is not a decimal with 2 places", *price));
  }
  if (date->size() != 10 || (*date)[4] != '-' || (*date)[7] != '-') {
    return pipeline::invalid_input_error(fmt::format("date '{}' is not YYYY-MM-DD", *date));
  }
  auto y = integer(date->substr(0, 4), "year");
  auto m = integer(date->substr(5, 2), "month");
  auto d = integer(date->substr(8, 2), "day");
  if (!y || !m || !d ||
      !std::chrono::year_month_day{std::chrono::year{static_cast<int>(*y)}, std::chrono::month{static_cast<unsigned>(*m)},
                                   std::chrono::day{static_cast<unsigned>(*d)}}
           .ok()) {
    return pipeline::invalid_input_error(fmt::format("date '{}' does not exist", *date));
  }
  auto bedrooms = integer(*bedrooms_text, "bedrooms");
  if (!bedrooms || *bedrooms < 0 || *bedrooms > 50) return pipeline::invalid_input_error("bedrooms is not 0-50");
  // Moved into place (a braced record{{…}} copies each entry out of its initializer list):
  // this runs once per row.
  std::vector<pipeline::record::entry> listing;
  listing.reserve(5);
  listing.emplace_back("id", *id);
  listing.emplace_back("city", std::string(*city));
  listing.emplace_back("price_cents", *units * 100 + *cents);
  listing.emplace_back("listed_on", std::string(*date));
  listing.emplace_back("bedrooms", *bedrooms);
  return pipeline::record::from_fields(std::move(listing));
}

// --- dead letters ----------------------------------------------------------------------

// "date '2024-02-30' does not exist" -> "date '…' does not exist", "line 512: 3 fields" ->
// "line N: N fields": dead letters grouped by reason.
inline auto reason_of(const std::string& message) -> std::string {
  std::string out;
  bool quoted = false;
  for (std::size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    const bool digit = c >= '0' && c <= '9';
    const bool starts_number = digit && (i == 0 || message[i - 1] == ' ' || message[i - 1] == '(');
    if (c == '\'') {
      out += quoted ? "…'" : "'";
      quoted = !quoted;
    } else if (quoted) {
      continue;
    } else if (starts_number) {
      out += 'N';
      while (i + 1 < message.size() && message[i + 1] >= '0' && message[i + 1] <= '9') ++i;
    } else {
      out += c;
    }
  }
  return out;
}

// The leading number of a dead letter's payload: the id, for raw CSV lines and for records.
inline auto id_in(std::string_view payload) -> std::optional<std::int64_t> {
  const auto first = payload.find_first_of("0123456789");
  if (first == std::string_view::npos) return std::nullopt;
  std::int64_t id = 0;
  std::from_chars(payload.data() + first, payload.data() + payload.size(), id);
  return id;
}

// What the DLQ holds after a run: entries, counts by reason, and (to verify) the listing ids.
struct dead_letter_summary {
  std::size_t entries = 0;
  std::map<std::string, std::size_t> reasons;
  std::set<std::int64_t> ids;
};

// Pages through a DLQ with `read(after, limit)` (pages of {cursor, dead_letter}; the cursor is
// the store's own, an integer or a string) keeping counts only, so memory stays flat however
// many records were dead-lettered; the ids too when `keep_ids`.
template <class Cursor, class Read>
auto summarise_dead_letters(Read read, bool keep_ids) -> dead_letter_summary {
  dead_letter_summary summary;
  for (Cursor after{};;) {
    auto page = read(after, 1000).value();
    if (page.empty()) break;
    after = page.back().first;
    for (const auto& [cursor, letter] : page) {
      ++summary.entries;
      ++summary.reasons[reason_of(letter.reason.message)];
      if (keep_ids) {
        if (auto listing = id_in(letter.payload)) summary.ids.insert(*listing);
      }
    }
  }
  return summary;
}

// The run report, then the dead letters in `where` by reason.
inline void print_report(const pipeline::run_report& report, const dead_letter_summary& dead, std::string_view where) {
  fmt::print("{}: read {} written {} dead-lettered {} retried {} in {:.1f} s ({:.0f} records/s); job run {}\n",
             to_string(report.status), report.read, report.written, report.dead_lettered, report.retried,
             std::chrono::duration<double>(report.duration).count(), report.rate_per_second(), report.job_run_id);
  if (report.failure) fmt::print("failure: {}\n", *report.failure);
  fmt::print("dead letters in {}, by reason:\n", where);
  for (const auto& [reason, n] : dead.reasons) fmt::print("  {:>7}  {}\n", n, reason);
}

}  // namespace listings
