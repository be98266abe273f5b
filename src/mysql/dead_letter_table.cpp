#include <pipeline/mysql/dead_letter_table.hpp>

#include <array>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include <pipeline/detail/dead_letter_fingerprint.hpp>

#include "binding.hpp"
#include "checkpoint_table.hpp"
#include "row_reader.hpp"
#include "store_table.hpp"

namespace pipeline::mysql {
namespace {

auto as_bytes(std::string_view s) -> value {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return value{bytes{p, p + s.size()}};
}

auto int_of(const record& r, std::string_view name) -> std::int64_t {
  const auto* v = r.find(name);
  const auto* i = v != nullptr ? v->get_if<std::int64_t>() : nullptr;
  return i != nullptr ? *i : 0;
}

// The entry's identity for the unique key: its partition and position (hashed: a position
// may be long) with the shared fingerprint, so that a batch dead-lettered again after a
// crash adds nothing.
auto entry_of(const dead_letter& l, const std::string& fingerprint) -> std::string {
  return fmt::format("{}/{:016x}/{}", l.partition, pipeline::detail::fnv1a_64(l.pos.bytes()), fingerprint);
}

auto limit_value(std::size_t limit) -> value {
  return value{static_cast<std::int64_t>(std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max()))};
}

}  // namespace

dead_letter_table::dead_letter_table(std::shared_ptr<database> db, std::string table) noexcept
    : db_(std::move(db)), table_(std::move(table)) {}

auto dead_letter_table::open(std::shared_ptr<database> db, const dead_letter_table_options& options)
    -> result<dead_letter_table> {
  auto table = detail::create_store_table(
      db, options.table, "mysql::dead_letter_table::open", [](detail::connection& c, const std::string& quoted) {
        return c.execute(fmt::format(
            "CREATE TABLE IF NOT EXISTS {} (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, `payload` LONGBLOB, "
            "`kind` VARCHAR(32) NOT NULL, `message` BLOB, `native_code` BIGINT NOT NULL, `backend` VARBINARY(64), "
            "`attempts` BIGINT NOT NULL, `position` BLOB, `partition` BIGINT NOT NULL, `time` DATETIME(6) NOT NULL, "
            "`entry` VARBINARY(80) NOT NULL, UNIQUE KEY `entry` (`entry`)) ENGINE=InnoDB",
            quoted));
      });
  if (!table) return std::move(table).error();
  return dead_letter_table{std::move(db), std::move(*table)};
}

auto dead_letter_table::write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  if (letters.empty()) return ok();
  auto c = detail::database_access::borrow(*db_);
  if (!c) return std::move(c).error();
  return detail::in_transaction(**c, [&]() -> result<void> {
    auto st = (*c)->prepare(fmt::format(
        "INSERT INTO {} (`payload`, `kind`, `message`, `native_code`, `backend`, `attempts`, `position`, "
        "`partition`, `time`, `entry`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE `id` = `id`",
        table_));
    if (!st) return std::move(st).error();
    const auto fingerprints = pipeline::detail::dead_letter_fingerprints(letters);
    for (std::size_t i = 0; i < letters.size(); ++i) {
      const auto& l = letters[i];
      const std::array values{as_bytes(l.payload),
                              value{to_string(l.reason.kind)},
                              as_bytes(l.reason.message),
                              value{l.reason.native_code},
                              as_bytes(l.reason.backend),
                              value{static_cast<std::int64_t>(l.attempts)},
                              as_bytes(l.pos.bytes()),
                              value{static_cast<std::int64_t>(l.partition)},
                              value{std::chrono::floor<std::chrono::microseconds>(l.time)},
                              value{entry_of(l, fingerprints[i])}};
      auto bound = detail::parameters::bind(values);
      if (!bound) return std::move(bound).error();
      if (auto done = st->execute((*bound)->data(), fmt::format("dead letter {} of {} into {}", i, letters.size(),
                                                                table_));
          !done) {
        return done;
      }
    }
    return ok();
  });
}

auto dead_letter_table::read(std::int64_t after_id, std::size_t limit)
    -> result<std::vector<std::pair<std::int64_t, dead_letter>>> {
  auto c = detail::database_access::borrow(*db_);
  if (!c) return std::move(c).error();
  const std::array params{value{after_id}, limit_value(limit)};
  auto rows = detail::select_records(
      **c,
      fmt::format("SELECT `id`, `payload`, `kind`, `message`, `native_code`, `backend`, `attempts`, `position`, "
                  "`partition`, `time` FROM {} WHERE `id` > ? ORDER BY `id` LIMIT ?",
                  table_),
      params, fmt::format("reading dead letters from {}", table_));
  if (!rows) return std::move(rows).error();
  std::vector<std::pair<std::int64_t, dead_letter>> out;
  for (const auto& row : *rows) {
    const std::int64_t id = int_of(row, "id");
    const auto kind = parse_error_kind(detail::text_of(row.find("kind")));
    const auto* time = row.find("time")->get_if<timestamp>();
    if (!kind || time == nullptr) {
      return permanent_error(fmt::format("dead letter {} in {}: {} does not read back", id, table_, row));
    }
    dead_letter l;
    l.payload = detail::text_of(row.find("payload"));
    l.reason = error{*kind, detail::text_of(row.find("message")), int_of(row, "native_code"),
                     detail::text_of(row.find("backend"))};
    l.attempts = static_cast<std::uint32_t>(int_of(row, "attempts"));
    l.pos = position{detail::text_of(row.find("position"))};
    l.partition = static_cast<std::uint32_t>(int_of(row, "partition"));
    l.time = std::chrono::time_point_cast<std::chrono::system_clock::duration>(*time);
    out.emplace_back(id, std::move(l));
  }
  return out;
}

}  // namespace pipeline::mysql
