#include <algorithm>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <pipeline/detail/dead_letter_fingerprint.hpp>
#include <pipeline/detail/identifier.hpp>

#include "relational/stores.hpp"

namespace pipeline::detail::relational {

auto checked_table(bool has_db, const dialect& d, std::string_view type, std::string_view table) -> std::string {
  const auto who = fmt::format("{}::{}::open", d.name(), type);
  if (!has_db) throw std::invalid_argument(fmt::format("{}: db is null", who));
  require_identifier(table, fmt::format("{}: options.table", who));
  return d.quote(table);
}

auto limit_parameter(std::size_t n) noexcept -> std::int64_t {
  return static_cast<std::int64_t>(std::min(n, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())));
}

auto quoted_list(const dialect& d, std::span<const std::string_view> names) -> std::string {
  std::string out;
  for (auto name : names) {
    if (!out.empty()) out += ", ";
    out += d.quote(name);
  }
  return out;
}

auto placeholders(const dialect& d, std::size_t first, std::size_t count) -> std::string {
  std::string out;
  for (std::size_t n = first; n < first + count; ++n) {
    if (!out.empty()) out += ", ";
    out += d.placeholder(n);
  }
  return out;
}

auto on_conflict_clause(std::string_view stored, const std::vector<std::string>& keys,
                        const std::vector<std::string>& updates, const std::vector<std::string>& adds) -> std::string {
  std::vector<std::string> assignments;
  for (const auto& u : updates) assignments.push_back(fmt::format("{0} = excluded.{0}", u));
  for (const auto& a : adds) assignments.push_back(fmt::format("{0} = {1}{0} + excluded.{0}", a, stored));
  if (assignments.empty()) return fmt::format(" ON CONFLICT ({}) DO NOTHING", fmt::join(keys, ", "));
  return fmt::format(" ON CONFLICT ({}) DO UPDATE SET {}", fmt::join(keys, ", "), fmt::join(assignments, ", "));
}

auto bounded_dead_letter_identity(const dead_letter& letter, std::string_view fingerprint) -> std::string {
  return fmt::format("{}/{:016x}/{}", letter.partition, fnv1a_64(letter.pos.bytes()), fingerprint);
}

}  // namespace pipeline::detail::relational
