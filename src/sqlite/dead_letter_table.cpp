#include <pipeline/sqlite/dead_letter_table.hpp>

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <pipeline/detail/dead_letter_fingerprint.hpp>
#include <pipeline/detail/time_text.hpp>

#include "connection.hpp"
#include "store_table.hpp"

namespace pipeline::sqlite {
namespace {

// The entry in the current row of the SELECT in `read`, whose column 0 is the id.
auto read_letter(const detail::statement& st, std::int64_t id, std::string_view table) -> result<dead_letter> {
  const auto kind = parse_error_kind(st.column_bytes(2));
  const auto time = pipeline::detail::parse_iso_time(st.column_bytes(9));
  if (!kind || !time) {
    return permanent_error(fmt::format("dead letter {} in {}: {} '{}' does not read back", id, table,
                                       kind ? "time" : "kind", st.column_bytes(kind ? 9 : 2)));
  }
  dead_letter letter;
  letter.payload = std::string(st.column_bytes(1));
  letter.reason = error{*kind, std::string(st.column_bytes(3)), st.column_int64(4), std::string(st.column_bytes(5))};
  letter.attempts = static_cast<std::uint32_t>(st.column_int64(6));
  letter.pos = position{std::string(st.column_bytes(7))};
  letter.partition = static_cast<std::uint32_t>(st.column_int64(8));
  letter.time = std::chrono::time_point_cast<std::chrono::system_clock::duration>(*time);
  return letter;
}

}  // namespace

dead_letter_table::dead_letter_table(std::shared_ptr<database> db, std::string table) noexcept
    : db_(std::move(db)), table_(std::move(table)) {}

auto dead_letter_table::open(std::shared_ptr<database> db, const dead_letter_table_options& options)
    -> result<dead_letter_table> {
  auto table = detail::create_store_table(
      db, options.table, "sqlite::dead_letter_table::open",
      [&](detail::session& s, const std::string& quoted) -> result<void> {
        if (auto created = s.execute(fmt::format(
                R"(CREATE TABLE IF NOT EXISTS {} ("id" INTEGER PRIMARY KEY, "payload" BLOB, "kind" TEXT, )"
                R"("message" TEXT, "native_code" INTEGER, "backend" TEXT, "attempts" INTEGER, "position" BLOB, )"
                R"("partition" INTEGER, "time" TEXT, "fingerprint" TEXT))",
                quoted));
            !created) {
          return created;
        }
        // A table made before entries had fingerprints gets the column; its old rows keep NULL,
        // which the unique index treats as distinct.
        auto has = s.prepare(R"(SELECT COUNT(*) FROM pragma_table_info(?1) WHERE "name" = 'fingerprint')");
        if (!has) return std::move(has).error();
        has->bind_text(1, options.table);
        if (auto row = has->step("looking for the fingerprint column"); !row) return std::move(row).error();
        if (has->column_int64(0) == 0) {
          if (auto added = s.execute(fmt::format(R"(ALTER TABLE {} ADD COLUMN "fingerprint" TEXT)", quoted)); !added) {
            return added;
          }
        }
        return s.execute(fmt::format(
            R"(CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ("partition", "position", "fingerprint"))",
            detail::quoted_identifier(options.table + "_entry", "sqlite::dead_letter_table::open: index"), quoted));
      });
  if (!table) return std::move(table).error();
  return dead_letter_table{std::move(db), std::move(*table)};
}

auto dead_letter_table::write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  if (letters.empty()) return ok();
  detail::session s{*db_};
  return detail::in_transaction(s, [&]() -> result<void> {
    auto st = s.prepare(fmt::format(
        R"(INSERT INTO {} ("payload", "kind", "message", "native_code", "backend", "attempts", "position", )"
        R"("partition", "time", "fingerprint") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) )"
        R"(ON CONFLICT ("partition", "position", "fingerprint") DO NOTHING)",
        table_));
    if (!st) return std::move(st).error();
    const auto fingerprints = pipeline::detail::dead_letter_fingerprints(letters);
    for (std::size_t i = 0; i < letters.size(); ++i) {
      const auto& l = letters[i];
      st->bind_blob(1, l.payload);
      st->bind_text(2, to_string(l.reason.kind));
      st->bind_text(3, l.reason.message);
      st->bind_int64(4, l.reason.native_code);
      st->bind_text(5, l.reason.backend);
      st->bind_int64(6, l.attempts);
      st->bind_blob(7, l.pos.bytes());
      st->bind_int64(8, l.partition);
      st->bind_text(9, pipeline::detail::format_iso_time(l.time));
      st->bind_text(10, fingerprints[i]);
      if (auto done = st->step(fmt::format("dead letter {} of {} into {}", i, letters.size(), table_)); !done) {
        return std::move(done).error();
      }
      st->reset();
    }
    return ok();
  });
}

auto dead_letter_table::read(std::int64_t after_id, std::size_t limit)
    -> result<std::vector<std::pair<std::int64_t, dead_letter>>> {
  detail::session s{*db_};
  auto st = s.prepare(fmt::format(
      R"(SELECT "id", "payload", "kind", "message", "native_code", "backend", "attempts", "position", "partition", )"
      R"("time" FROM {} WHERE "id" > ?1 ORDER BY "id" LIMIT ?2)",
      table_));
  if (!st) return std::move(st).error();
  st->bind_int64(1, after_id);
  st->bind_int64(2, detail::limit_parameter(limit));
  return detail::collect_rows(*st, fmt::format("reading dead letters from {}", table_),
                              [&](const detail::statement& row) -> result<std::pair<std::int64_t, dead_letter>> {
                                const std::int64_t id = row.column_int64(0);
                                auto letter = read_letter(row, id, table_);
                                if (!letter) return std::move(letter).error();
                                return std::pair{id, std::move(*letter)};
                              });
}

}  // namespace pipeline::sqlite
