#include <array>
#include <chrono>

#include <fmt/format.h>

#include <pipeline/detail/dead_letter_fingerprint.hpp>

#include "relational/stores.hpp"

namespace pipeline::detail::relational {
namespace {

// The columns every dialect's table has, in the order they are written and read after "id".
constexpr std::array<std::string_view, 9> letter_columns{"payload",  "kind",     "message",   "native_code", "backend",
                                                         "attempts", "position", "partition", "time"};

// The entry in the current row of the SELECT in `select_dead_letters`; column 0 is the id.
auto read_letter(const statement& st, std::int64_t id, std::string_view table) -> result<dead_letter> {
  const auto kind = parse_error_kind(st.text_at(2));
  const auto time = st.time_at(9);
  if (!kind || !time) {
    return permanent_error(fmt::format("dead letter {} in {}: {} '{}' does not read back", id, table,
                                       kind ? "time" : "kind", st.text_at(kind ? 9 : 2)));
  }
  dead_letter letter;
  letter.payload = std::string(st.text_at(1));
  letter.reason = error{*kind, std::string(st.text_at(3)), st.int64_at(4).value_or(0), std::string(st.text_at(5))};
  letter.attempts = static_cast<std::uint32_t>(st.int64_at(6).value_or(0));
  letter.pos = position{std::string(st.text_at(7))};
  letter.partition = static_cast<std::uint32_t>(st.int64_at(8).value_or(0));
  letter.time = std::chrono::time_point_cast<std::chrono::system_clock::duration>(*time);
  return letter;
}

}  // namespace

auto insert_dead_letters(connection& c, std::string_view table, std::span<const dead_letter> letters)
    -> result<void> {
  const auto& d = c.sql_dialect();
  std::vector<std::string_view> columns(letter_columns.begin(), letter_columns.end());
  columns.push_back(d.dead_letter_identity_column());
  const auto key = d.dead_letter_key();
  auto st = c.prepare(fmt::format("INSERT INTO {} ({}) VALUES ({}){}", table, quoted_list(d, columns),
                                  placeholders(d, 1, columns.size()), d.upsert_clause(key, key, {}, {})));
  if (!st) return std::move(st).error();
  auto& s = **st;
  const auto fingerprints = dead_letter_fingerprints(letters);
  for (std::size_t i = 0; i < letters.size(); ++i) {
    const auto& l = letters[i];
    s.bind_bytes(1, l.payload);
    s.bind_text(2, to_string(l.reason.kind));
    s.bind_text(3, l.reason.message);
    s.bind_int64(4, l.reason.native_code);
    s.bind_text(5, l.reason.backend);
    s.bind_int64(6, l.attempts);
    s.bind_bytes(7, l.pos.bytes());
    s.bind_int64(8, l.partition);
    s.bind_time(9, l.time);
    s.bind_text(10, d.dead_letter_identity(l, fingerprints[i]));
    if (auto done = s.execute(fmt::format("dead letter {} of {} into {}", i, letters.size(), table)); !done) {
      return done;
    }
  }
  return ok();
}

auto select_dead_letters(connection& c, std::string_view table, std::int64_t after_id, std::size_t limit)
    -> result<std::vector<std::pair<std::int64_t, dead_letter>>> {
  const auto& d = c.sql_dialect();
  const auto id = d.quote("id");
  auto st = c.prepare(fmt::format("SELECT {}, {} FROM {} WHERE {} > {} ORDER BY {} LIMIT {}", id,
                                  quoted_list(d, letter_columns), table, id, d.placeholder(1), id, d.placeholder(2)));
  if (!st) return std::move(st).error();
  auto& s = **st;
  s.bind_int64(1, after_id);
  s.bind_int64(2, limit_parameter(limit));
  if (auto done = s.execute(fmt::format("reading dead letters from {}", table)); !done) return std::move(done).error();
  return collect_rows(s, [&](const statement& row) -> result<std::pair<std::int64_t, dead_letter>> {
    const std::int64_t letter_id = row.int64_at(0).value_or(0);
    auto letter = read_letter(row, letter_id, table);
    if (!letter) return std::move(letter).error();
    return std::pair{letter_id, std::move(*letter)};
  });
}

}  // namespace pipeline::detail::relational
