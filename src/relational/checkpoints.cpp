#include <array>
#include <chrono>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "relational/stores.hpp"

namespace pipeline::detail::relational {
namespace {

// The key as people read it in a message: quoted, control characters escaped.
auto shown(std::string_view key) -> std::string { return fmt::format("{}", value{key}); }

}  // namespace

auto load_checkpoint(connection& c, std::string_view table, std::string_view key) -> result<checkpoint> {
  const auto& d = c.sql_dialect();
  auto st = c.prepare(fmt::format("SELECT {}, {} FROM {} WHERE {} = {}", d.quote("position"), d.quote("version"),
                                  table, d.quote("key"), d.placeholder(1)));
  if (!st) return std::move(st).error();
  auto& s = **st;
  s.bind_text(1, key);
  const auto context = fmt::format("loading checkpoint {} from {}", shown(key), table);
  if (auto done = s.execute(context); !done) return std::move(done).error();
  auto row = s.next_row();
  if (!row) return std::move(row).error();
  if (!*row) return checkpoint{};
  const auto version = s.int64_at(1);
  if (!version || *version < 1) {
    return permanent_error(fmt::format("{}: the stored version is {}, not a positive integer", context,
                                       version ? std::to_string(*version) : fmt::format("'{}'", s.text_at(1))));
  }
  return checkpoint{position{std::string(s.text_at(0))}, static_cast<std::uint64_t>(*version)};
}

auto save_checkpoint(connection& c, std::string_view table, std::string_view key, const position& pos,
                     std::uint64_t expected_version) -> result<saved_checkpoint> {
  // Stored versions are positive int64s; a larger expected one can match none of them.
  if (expected_version >= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return conflict_error(fmt::format("checkpoint {} in {}: no stored version is {}", shown(key), table,
                                      expected_version));
  }
  const auto& d = c.sql_dialect();
  const auto now = std::chrono::system_clock::now();
  std::unique_ptr<statement> st;
  if (expected_version == 0) {
    // An existing key changes nothing, and so reports no affected row.
    constexpr std::array<std::string_view, 4> columns{"key", "position", "version", "updated_at"};
    const std::vector<std::string> key_column{d.quote("key")};
    auto prepared = c.prepare(fmt::format("INSERT INTO {} ({}) VALUES ({}, {}, 1, {}){}", table,
                                          quoted_list(d, columns), d.placeholder(1), d.placeholder(2),
                                          d.placeholder(3), d.upsert_clause(table, key_column, key_column, {}, {})));
    if (!prepared) return std::move(prepared).error();
    st = std::move(*prepared);
    st->bind_text(1, key);
    st->bind_bytes(2, pos.bytes());
    st->bind_time(3, now);
  } else {
    const auto version = d.quote("version");
    auto prepared =
        c.prepare(fmt::format("UPDATE {} SET {} = {}, {} = {} + 1, {} = {} WHERE {} = {} AND {} = {}", table,
                              d.quote("position"), d.placeholder(1), version, version, d.quote("updated_at"),
                              d.placeholder(2), d.quote("key"), d.placeholder(3), version, d.placeholder(4)));
    if (!prepared) return std::move(prepared).error();
    st = std::move(*prepared);
    st->bind_bytes(1, pos.bytes());
    st->bind_time(2, now);
    st->bind_text(3, key);
    st->bind_int64(4, static_cast<std::int64_t>(expected_version));
  }
  if (auto done = st->execute(fmt::format("saving checkpoint {} in {}", shown(key), table)); !done) {
    return std::move(done).error();
  }
  if (st->affected_rows() == 1) return saved_checkpoint{expected_version + 1, false};
  // Another writer moved it, or (a lost reply) this very save did: say where it stands now.
  auto stored = load_checkpoint(c, table, key);
  if (!stored) return std::move(stored).error();
  if (d.commits_can_be_lost() && stored->version == expected_version + 1 && stored->pos == pos) {
    return saved_checkpoint{stored->version, true};
  }
  return conflict_error(fmt::format("checkpoint {} in {} is at version {}, not {}", shown(key), table,
                                    stored->version, expected_version));
}

}  // namespace pipeline::detail::relational
