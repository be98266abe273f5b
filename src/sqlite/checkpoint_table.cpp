#include <pipeline/detail/time_text.hpp>

#include "checkpoint_table.hpp"

#include <chrono>
#include <limits>
#include <string>

#include <fmt/format.h>

#include <pipeline/record.hpp>

namespace pipeline::sqlite::detail {
namespace {

// The key as people read it in a message: quoted, control characters escaped.
auto shown(std::string_view key) -> std::string { return fmt::format("{}", value{key}); }

}  // namespace

auto create_checkpoint_table(session& s, std::string_view table) -> result<void> {
  return s.execute(fmt::format(
      R"(CREATE TABLE IF NOT EXISTS {} ("key" TEXT PRIMARY KEY, "position" BLOB NOT NULL, )"
      R"("version" INTEGER NOT NULL, "updated_at" TEXT))",
      table));
}

auto load_checkpoint(session& s, std::string_view table, std::string_view key) -> result<checkpoint> {
  auto st = s.prepare(fmt::format(R"(SELECT "position", "version" FROM {} WHERE "key" = ?1)", table));
  if (!st) return std::move(st).error();
  st->bind_text(1, key);
  const auto context = fmt::format("loading checkpoint {} from {}", shown(key), table);
  auto row = st->step(context);
  if (!row) return std::move(row).error();
  if (!*row) return checkpoint{};
  const std::int64_t version = st->column_int64(1);
  if (version < 1) {
    return permanent_error(fmt::format("{}: the stored version is {}, not a positive integer", context, version));
  }
  return checkpoint{position{std::string(st->column_bytes(0))}, static_cast<std::uint64_t>(version)};
}

auto save_checkpoint(session& s, std::string_view table, std::string_view key, const position& pos,
                     std::uint64_t expected_version) -> result<std::uint64_t> {
  // Stored versions are positive int64s; a larger expected one can match none of them.
  if (expected_version >= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return conflict_error(fmt::format("checkpoint {} in {}: no stored version is {}", shown(key), table,
                                      expected_version));
  }
  const auto sql = expected_version == 0
                       ? fmt::format(R"(INSERT INTO {} ("key", "position", "version", "updated_at") )"
                                     R"(VALUES (?1, ?2, 1, ?3) ON CONFLICT ("key") DO NOTHING)",
                                     table)
                       : fmt::format(R"(UPDATE {} SET "position" = ?2, "version" = "version" + 1, )"
                                     R"("updated_at" = ?3 WHERE "key" = ?1 AND "version" = ?4)",
                                     table);
  {
    auto st = s.prepare(sql);
    if (!st) return std::move(st).error();
    st->bind_text(1, key);
    st->bind_blob(2, pos.bytes());
    st->bind_text(3, pipeline::detail::format_iso_time(std::chrono::system_clock::now()));
    if (expected_version != 0) st->bind_int64(4, static_cast<std::int64_t>(expected_version));
    if (auto done = st->step(fmt::format("saving checkpoint {} in {}", shown(key), table)); !done) {
      return std::move(done).error();
    }
  }
  if (s.changes() == 1) return expected_version + 1;
  // Another writer moved it: say where it stands now.
  auto stored = load_checkpoint(s, table, key);
  if (!stored) return std::move(stored).error();
  return conflict_error(fmt::format("checkpoint {} in {} is at version {}, not {}", shown(key), table,
                                    stored->version, expected_version));
}

}  // namespace pipeline::sqlite::detail
