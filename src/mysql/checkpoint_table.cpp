#include "checkpoint_table.hpp"

#include <array>
#include <limits>

#include <fmt/format.h>

#include <pipeline/record.hpp>

#include "row_reader.hpp"

namespace pipeline::mysql::detail {
namespace {

auto shown(std::string_view key) -> std::string { return fmt::format("{}", value{key}); }

auto key_value(std::string_view key) -> value {
  return value{bytes{reinterpret_cast<const std::byte*>(key.data()), reinterpret_cast<const std::byte*>(key.data()) + key.size()}};
}

}  // namespace

auto text_of(const value* v) -> std::string {
  if (v == nullptr) return {};
  if (const auto* b = v->get_if<bytes>()) return {reinterpret_cast<const char*>(b->data()), b->size()};
  if (const auto* s = v->get_if<std::string>()) return *s;
  return {};
}

auto create_checkpoint_table(connection& c, std::string_view table) -> result<void> {
  return c.execute(fmt::format(
      "CREATE TABLE IF NOT EXISTS {} (`key` VARBINARY(767) NOT NULL PRIMARY KEY, `position` LONGBLOB NOT NULL, "
      "`version` BIGINT NOT NULL, `updated_at` DATETIME(6) NOT NULL) ENGINE=InnoDB",
      table));
}

auto load_checkpoint(connection& c, std::string_view table, std::string_view key) -> result<checkpoint> {
  const auto context = fmt::format("loading checkpoint {} from {}", shown(key), table);
  const std::array params{key_value(key)};
  auto rows = select_records(c, fmt::format("SELECT `position`, `version` FROM {} WHERE `key` = ?", table), params,
                             context);
  if (!rows) return std::move(rows).error();
  if (rows->empty()) return checkpoint{};
  const auto& row = rows->front();
  const auto* version = row.find("version")->get_if<std::int64_t>();
  if (version == nullptr || *version < 1) {
    return permanent_error(fmt::format("{}: the stored version is {}, not a positive integer", context,
                                       *row.find("version")));
  }
  return checkpoint{position{text_of(row.find("position"))}, static_cast<std::uint64_t>(*version)};
}

auto save_checkpoint(connection& c, std::string_view table, std::string_view key, const position& pos,
                     std::uint64_t expected_version) -> result<saved_checkpoint> {
  if (expected_version >= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return conflict_error(fmt::format("checkpoint {} in {}: no stored version is {}", shown(key), table,
                                      expected_version));
  }
  const auto context = fmt::format("saving checkpoint {} in {}", shown(key), table);
  result<std::uint64_t> changed = 0;
  if (expected_version == 0) {
    // `key` = `key` changes nothing, so a row already there reports 0 affected rows.
    const std::array params{key_value(key), key_value(pos.bytes())};
    changed = execute_bound(c,
                            fmt::format("INSERT INTO {} (`key`, `position`, `version`, `updated_at`) VALUES "
                                        "(?, ?, 1, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE `key` = `key`",
                                        table),
                            params, context);
  } else {
    const std::array params{key_value(pos.bytes()), key_value(key),
                            value{static_cast<std::int64_t>(expected_version)}};
    changed = execute_bound(c,
                            fmt::format("UPDATE {} SET `position` = ?, `version` = `version` + 1, "
                                        "`updated_at` = UTC_TIMESTAMP(6) WHERE `key` = ? AND `version` = ?",
                                        table),
                            params, context);
  }
  if (!changed) return std::move(changed).error();
  if (*changed == 1) return saved_checkpoint{expected_version + 1, false};
  auto stored = load_checkpoint(c, table, key);
  if (!stored) return std::move(stored).error();
  if (stored->version == expected_version + 1 && stored->pos == pos) return saved_checkpoint{stored->version, true};
  return conflict_error(fmt::format("checkpoint {} in {} is at version {}, not {}", shown(key), table, stored->version,
                                    expected_version));
}

}  // namespace pipeline::mysql::detail
