#include <pipeline/mysql/keyset_source.hpp>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include <pipeline/codec.hpp>

#include "binding.hpp"
#include "connection.hpp"
#include "row_reader.hpp"

namespace pipeline::mysql {
namespace {

constexpr std::string_view who = "mysql::keyset_source::open";

// The `?` of a filter outside quoted strings and names: the parameters it takes.
auto placeholders(std::string_view sql) -> std::size_t {
  std::size_t count = 0;
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == '\\' && quote != '`') ++i;
      else if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"' || c == '`') {
      quote = c;
    } else if (c == '?') {
      ++count;
    }
  }
  return count;
}

auto quoted_list(const std::vector<std::string>& names, std::string_view what) -> std::vector<std::string> {
  std::vector<std::string> out;
  for (const auto& n : names) out.push_back(detail::quoted_identifier(n, what));
  return out;
}

}  // namespace

keyset_source::keyset_source(std::shared_ptr<database> db, keyset_source_options options, std::string first_sql,
                             std::string next_sql) noexcept
    : db_(std::move(db)), options_(std::move(options)), first_sql_(std::move(first_sql)), next_sql_(std::move(next_sql)) {}

auto keyset_source::open(std::shared_ptr<database> db, keyset_source_options options) -> result<keyset_source> {
  detail::require_database(db, who);
  const auto table = detail::quoted_identifier(options.table, fmt::format("{}: options.table", who));
  if (options.key_columns.empty()) throw std::invalid_argument(fmt::format("{}: options.key_columns is empty", who));
  if (options.batch_size == 0) throw std::invalid_argument(fmt::format("{}: options.batch_size is 0", who));
  const auto keys = quoted_list(options.key_columns, fmt::format("{}: options.key_columns", who));
  auto columns = options.columns;
  if (!columns.empty()) {
    for (const auto& k : options.key_columns) {
      if (std::find(columns.begin(), columns.end(), k) == columns.end()) columns.push_back(k);
    }
  }
  const auto projected = quoted_list(columns, fmt::format("{}: options.columns", who));
  if (placeholders(options.filter) != options.filter_parameters.size()) {
    throw std::invalid_argument(fmt::format("{}: options.filter has {} '?' but {} filter_parameters are given", who,
                                            placeholders(options.filter), options.filter_parameters.size()));
  }
  const auto select = projected.empty() ? std::string{"*"} : fmt::format("{}", fmt::join(projected, ", "));
  const auto filter = options.filter.empty() ? std::string{} : fmt::format("({})", options.filter);
  const auto order = fmt::format("ORDER BY {} LIMIT ?", fmt::join(keys, ", "));
  std::vector<std::string_view> marks(keys.size(), "?");
  const auto after = keys.size() == 1 ? fmt::format("{} > ?", keys.front())
                                      : fmt::format("({}) > ({})", fmt::join(keys, ", "), fmt::join(marks, ", "));
  auto first_sql = fmt::format("SELECT {} FROM {}{}{} {}", select, table, filter.empty() ? "" : " WHERE ", filter, order);
  auto next_sql = fmt::format("SELECT {} FROM {} WHERE {}{}{} {}", select, table, after,
                              filter.empty() ? "" : " AND ", filter, order);
  {
    auto c = detail::database_access::borrow(*db);
    if (!c) return std::move(c).error();
    if (auto prepared = (*c)->prepare(next_sql); !prepared) return std::move(prepared).error();
  }
  options.columns = std::move(columns);
  return keyset_source{std::move(db), std::move(options), std::move(first_sql), std::move(next_sql)};
}

auto keyset_source::seek(const position& p) -> result<void> {
  if (p.empty()) {
    last_key_.reset();
    exhausted_ = false;
    return ok();
  }
  auto key = record_codec{}.decode(p.bytes());
  if (!key) return invalid_input_error(fmt::format("mysql::keyset_source::seek: {}", key.error().message));
  bool fits = key->size() == options_.key_columns.size();
  for (const auto& k : options_.key_columns) fits = fits && key->contains(k);
  if (!fits) {
    return invalid_input_error(fmt::format("mysql::keyset_source::seek: position {} is not a key of ({})", *key,
                                           fmt::join(options_.key_columns, ", ")));
  }
  last_key_ = std::move(*key);
  exhausted_ = false;
  return ok();
}

namespace {

// One page of rows as read: the batch, how many rows it covers (dead-lettered ones too) and
// the key of the last.
struct keyset_page {
  batch<record> rows;
  std::size_t read = 0;
  std::optional<record> key;
};

}  // namespace

auto keyset_source::next_batch(std::stop_token stop) -> result<std::optional<batch<record>>> {
  if (stop.stop_requested()) return stopped_error();
  if (exhausted_) return std::optional<batch<record>>{};
  std::vector<value> params;
  if (last_key_) {
    for (const auto& k : options_.key_columns) params.push_back(*last_key_->find(k));
  }
  params.insert(params.end(), options_.filter_parameters.begin(), options_.filter_parameters.end());
  params.emplace_back(static_cast<std::int64_t>(
      std::min<std::size_t>(options_.batch_size, std::numeric_limits<std::int64_t>::max())));

  const auto& sql = last_key_ ? next_sql_ : first_sql_;
  const auto context = fmt::format("reading {} by key", options_.table);
  // A page whose connection was lost is read again whole, on a new one: a read may be repeated.
  auto page = detail::database_access::read(*db_, stop, [&](detail::connection& c) -> result<keyset_page> {
    auto st = c.prepare(sql);
    if (!st) return std::move(st).error();
    auto bound = detail::parameters::bind(params);
    if (!bound) return std::move(bound).error();
    if (auto done = st->execute((*bound)->data(), context); !done) return std::move(done).error();
    auto rows = detail::statement_rows::open(*st, context);
    if (!rows) return std::move(rows).error();

    keyset_page p;
    auto& out = p.rows;
    out.records.reserve(options_.batch_size);
    out.positions.reserve(options_.batch_size);
    std::size_t& read = p.read;
    std::optional<record>& key = p.key;
    key = last_key_;
    std::string before;  // the key before the row read next, encoded: that row's own position
    if (key) record_codec{}.encode(*key, before);
    for (std::optional<error> problem;;) {
      auto row = rows->next(problem);
      if (!row) return std::move(row).error();
      if (!*row) break;
      ++read;
      record k;
      for (const auto& name : options_.key_columns) {
        const value* v = (*row)->find(name);
        if (v == nullptr) return internal_error(fmt::format("{}: key column {} is not in the row", context, name));
        k.set(name, *v);
      }
      key = std::move(k);
      std::string encoded;
      record_codec{}.encode(*key, encoded);
      if (problem) {
        out.rejected.push_back(dead_letter{fmt::format("{}", **row), std::move(*problem), 0, position{encoded}, 0,
                                           std::chrono::system_clock::now()});
      } else {
        out.records.push_back(std::move(**row));
        out.positions.emplace_back(std::move(before));
      }
      before = std::move(encoded);
    }
    return p;
  });
  if (!page) return std::move(page).error();
  auto& [out, read, key] = *page;
  if (read < options_.batch_size) exhausted_ = true;
  if (read == 0) return std::optional<batch<record>>{};
  std::string encoded;
  record_codec{}.encode(*key, encoded);
  out.end = position{std::move(encoded)};
  last_key_ = std::move(key);
  return std::optional<batch<record>>{std::move(out)};
}

}  // namespace pipeline::mysql
