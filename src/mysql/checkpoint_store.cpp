#include <pipeline/mysql/checkpoint_store.hpp>

#include <utility>

#include "checkpoint_table.hpp"
#include "store_table.hpp"

namespace pipeline::mysql {

checkpoint_store::checkpoint_store(std::shared_ptr<database> db, std::string table) noexcept
    : db_(std::move(db)), table_(std::move(table)) {}

auto checkpoint_store::open(std::shared_ptr<database> db, const checkpoint_store_options& options)
    -> result<checkpoint_store> {
  auto table = detail::create_store_table(db, options.table, "mysql::checkpoint_store::open",
                                          &detail::create_checkpoint_table);
  if (!table) return std::move(table).error();
  return checkpoint_store{std::move(db), std::move(*table)};
}

auto checkpoint_store::load(std::string_view key) -> result<checkpoint> {
  auto c = detail::database_access::borrow(*db_);
  if (!c) return std::move(c).error();
  return detail::load_checkpoint(**c, table_, key);
}

auto checkpoint_store::save(std::string_view key, const position& pos, std::uint64_t expected_version)
    -> result<std::uint64_t> {
  auto c = detail::database_access::borrow(*db_);
  if (!c) return std::move(c).error();
  auto saved = detail::save_checkpoint(**c, table_, key, pos, expected_version);
  if (!saved) return std::move(saved).error();
  return saved->version;
}

}  // namespace pipeline::mysql
