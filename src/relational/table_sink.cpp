#include <algorithm>
#include <iterator>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include <pipeline/detail/identifier.hpp>

#include "relational/stores.hpp"

namespace pipeline::detail::relational {
namespace {

// The names of `option` quoted, after checking each is an identifier, unique, and (when
// `allowed` is given) one of `allowed`.
auto quoted_names(const dialect& d, std::string_view who, const std::vector<std::string>& names,
                  std::string_view option, const std::vector<std::string>* allowed) -> std::vector<std::string> {
  const auto what = fmt::format("{}: options.{}", who, option);
  require_column_names(names, what, allowed);
  std::vector<std::string> quoted;
  for (const auto& name : names) quoted.push_back(d.quote(name));
  return quoted;
}

// Column type text is spliced into CREATE TABLE, so it may hold nothing that ends a type:
// letters, digits, '_', spaces, commas and balanced parentheses ("DECIMAL(10, 2) NOT NULL").
auto is_column_type(std::string_view type) noexcept -> bool {
  int depth = 0;
  for (char c : type) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth < 0) return false;
    } else if (!is_identifier(std::string_view{&c, 1}) && !(c >= '0' && c <= '9') && c != ' ' && c != ',') {
      return false;
    }
  }
  return depth == 0 && type.find_first_not_of(' ') != std::string_view::npos;
}

void check_column_types(const table_sink_options& options, std::string_view who) {
  if (options.column_types.empty()) return;
  if (!options.create_table) {
    throw std::invalid_argument(fmt::format("{}: options.column_types is for options.create_table only", who));
  }
  for (const auto& [name, type] : options.column_types) {
    if (std::find(options.columns.begin(), options.columns.end(), name) == options.columns.end()) {
      throw std::invalid_argument(
          fmt::format("{}: options.column_types names {}, which is not in options.columns", who, value{name}));
    }
    if (!is_column_type(type)) {
      throw std::invalid_argument(fmt::format(
          "{}: options.column_types gives {} the type {}: only letters, digits, '_', spaces, commas and "
          "balanced parentheses are taken",
          who, value{name}, value{type}));
    }
  }
}

// CREATE TABLE IF NOT EXISTS from the options: each column typed by the user or the dialect.
auto create_table_sql(const dialect& d, const table_sink_options& options, std::string_view table) -> std::string {
  std::vector<std::string> definitions;
  for (const auto& name : options.columns) {
    const bool key = std::find(options.key_columns.begin(), options.key_columns.end(), name) !=
                     options.key_columns.end();
    const auto given = options.column_types.find(name);
    const std::string_view type = given != options.column_types.end() ? given->second : d.default_column_type(key);
    definitions.push_back(type.empty() ? d.quote(name) : fmt::format("{} {}", d.quote(name), type));
  }
  if (!options.key_columns.empty()) {
    std::vector<std::string> keys;
    for (const auto& k : options.key_columns) keys.push_back(d.quote(k));
    definitions.push_back(fmt::format("PRIMARY KEY ({})", fmt::join(keys, ", ")));
  }
  auto sql = fmt::format("CREATE TABLE IF NOT EXISTS {} ({})", table, fmt::join(definitions, ", "));
  if (!d.table_options().empty()) fmt::format_to(std::back_inserter(sql), " {}", d.table_options());
  return sql;
}

// A refusal of the data (the row's), not a failure of the call.
auto is_bad_data(const error& e) noexcept -> bool {
  return e.kind == error_kind::permanent || e.kind == error_kind::invalid_input;
}

}  // namespace

auto plan_sink(bool has_db, const dialect& d, const table_sink_options& options) -> sink_plan {
  const auto who = fmt::format("{}::table_sink::open", d.name());
  auto table = checked_table(has_db, d, "table_sink", options.table);
  require_identifier(options.checkpoint_table, fmt::format("{}: options.checkpoint_table", who));
  require_identifier(options.batch_table, fmt::format("{}: options.batch_table", who));
  if (options.columns.empty()) throw std::invalid_argument(fmt::format("{}: options.columns is empty", who));
  if (options.rows_per_statement == 0) {
    throw std::invalid_argument(fmt::format("{}: options.rows_per_statement is 0", who));
  }
  const auto columns = quoted_names(d, who, options.columns, "columns", nullptr);
  const auto keys = quoted_names(d, who, options.key_columns, "key_columns", &options.columns);
  const auto updates = quoted_names(d, who, options.update_columns, "update_columns", &options.columns);
  const auto adds = quoted_names(d, who, options.add_columns, "add_columns", &options.columns);
  check_column_types(options, who);

  const auto into =
      fmt::format("INTO {} ({}) VALUES ({})", table, fmt::join(columns, ", "), placeholders(d, 1, columns.size()));
  auto sql = options.mode == write_mode::insert_ignore ? d.insert_ignore(into) : fmt::format("INSERT {}", into);
  if (options.mode != write_mode::upsert) {
    if (!updates.empty() || !adds.empty() || (!keys.empty() && !options.create_table)) {
      throw std::invalid_argument(fmt::format(
          "{}: options.update_columns and add_columns are for write_mode::upsert only, and so are key_columns "
          "unless options.create_table is set",
          who));
    }
  } else {
    if (keys.empty() && d.upsert_needs_keys()) {
      throw std::invalid_argument(fmt::format("{}: upsert needs options.key_columns", who));
    }
    require_apart(options.update_columns, "update_columns", options.key_columns, "key_columns", who);
    require_apart(options.add_columns, "add_columns", options.key_columns, "key_columns", who);
    require_apart(options.update_columns, "update_columns", options.add_columns, "add_columns", who);
    sql += d.upsert_clause(table, columns, keys, updates, adds);
  }
  const bool plain_insert = options.mode == write_mode::insert;
  auto skip_duplicates_sql = plain_insert ? d.insert_ignore(into) : std::string{};
  return sink_plan{std::move(sql),
                   std::move(table),
                   options.table,
                   options.columns,
                   options.rows_per_statement,
                   d.quote(options.checkpoint_table),
                   options.checkpoint_table,
                   d.quote(options.batch_table),
                   options.batch_table,
                   nullptr,
                   plain_insert,
                   plain_insert || !options.add_columns.empty(),
                   std::move(skip_duplicates_sql)};
}

auto open_sink(connection& c, const table_sink_options& options, sink_plan& plan) -> result<void> {
  if (options.create_table) {
    if (auto created = c.execute(create_table_sql(c.sql_dialect(), options, plan.table)); !created) return created;
  }
  for (const auto& sql : {plan.sql, plan.skip_duplicates_sql}) {
    if (sql.empty()) continue;
    if (auto prepared = c.prepare(sql); !prepared) return std::move(prepared).error();
  }
  auto check = c.read_row_check(plan);
  if (!check) return std::move(check).error();
  plan.check = std::move(*check);
  return ok();
}

auto write_rows(connection& c, const sink_plan& plan, std::span<const record> records, const std::stop_token& stop,
                const transaction_step* also) -> result<void> {
  return in_transaction(c, [&]() -> result<void> {
    if (!records.empty()) {
      if (auto rows = c.insert_rows(plan, records, stop); !rows) return rows;
    }
    return run_step(c, also);
  });
}

auto write_rows_each(connection& c, const sink_plan& plan, std::span<const record> records,
                     const std::stop_token& stop, const transaction_step* also)
    -> result<std::vector<rejected_record>> {
  return in_transaction(c, [&]() -> result<std::vector<rejected_record>> {
    auto refused = records.empty() ? result<std::vector<rejected_record>>{std::vector<rejected_record>{}}
                                   : c.insert_each(plan, records, stop);
    if (!refused) return refused;
    if (auto step = run_step(c, also); !step) return std::move(step).error();
    return refused;
  });
}

namespace {

// `rows` less the ones `held` names (in index order), and where each kept row stands in
// `rows`; copied only when some are held.
class kept_rows {
 public:
  kept_rows(std::span<const record> rows, const std::vector<rejected_record>& held) : rows_(rows) {
    if (held.empty()) return;
    auto next = held.begin();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (next != held.end() && next->index == i) {
        ++next;
        continue;
      }
      kept_.push_back(rows[i]);
      origin_.push_back(i);
    }
    rows_ = kept_;
  }
  [[nodiscard]] auto rows() const noexcept -> std::span<const record> { return rows_; }
  [[nodiscard]] auto origin(std::size_t i) const noexcept -> std::size_t { return origin_.empty() ? i : origin_[i]; }

 private:
  std::span<const record> rows_;
  std::vector<record> kept_;
  std::vector<std::size_t> origin_;
};

// Both lists in index order, as one.
auto merged(std::vector<rejected_record> a, std::vector<rejected_record> b) -> std::vector<rejected_record> {
  std::vector<rejected_record> all;
  all.reserve(a.size() + b.size());
  std::merge(std::make_move_iterator(a.begin()), std::make_move_iterator(a.end()), std::make_move_iterator(b.begin()),
             std::make_move_iterator(b.end()), std::back_inserter(all),
             [](const auto& x, const auto& y) { return x.index < y.index; });
  return all;
}

// The rows of `sent` that the database refuses found one statement each, by index in `rows`.
auto insert_one_by_one(connection& c, const sink_plan& plan, const kept_rows& sent, std::size_t total,
                       const std::stop_token& stop) -> result<std::vector<rejected_record>> {
  std::vector<rejected_record> refused;
  for (std::size_t i = 0; i < sent.rows().size(); ++i) {
    if (stop.stop_requested()) return stopped_error();
    auto one = c.insert_rows(plan, sent.rows().subspan(i, 1), stop);
    if (one) continue;
    auto e = std::move(one).error();
    if (!is_bad_data(e)) return e;
    e.message = fmt::format("row {} of {}: {}", sent.origin(i), total, e.message);
    refused.push_back({sent.origin(i), std::move(e)});
  }
  return refused;
}

}  // namespace

auto insert_checked_rows(connection& c, const sink_plan& plan, std::span<const record> rows,
                         const std::stop_token& stop) -> result<std::vector<rejected_record>> {
  auto held = plan.check != nullptr ? plan.check->refused(plan, rows) : std::vector<rejected_record>{};
  std::optional<kept_rows> sent;  // in place: it may point into itself
  sent.emplace(rows, held);
  if (sent->rows().empty()) return held;
  if (auto marked = c.execute("SAVEPOINT pipeline_rows"); !marked) return std::move(marked).error();
  const auto undo = [&] { return c.execute("ROLLBACK TO SAVEPOINT pipeline_rows"); };
  // Rows given back as refused, renumbered from `sent` to `rows` and named by that number.
  const auto refused_of_sent = [&](std::vector<rejected_record> refused) {
    for (auto& r : refused) {
      r.index = sent->origin(r.index);
      r.reason.message = fmt::format("row {} of {}: {}", r.index, rows.size(), r.reason.message);
    }
    return refused;
  };
  // Sends what is left in bulk: true when the database took it, false when it refused some
  // row (and the savepoint undid the statement).
  const auto bulk_taken = [&]() -> result<bool> {
    auto bulk = c.insert_rows(plan, sent->rows(), stop);
    if (bulk) return true;
    if (!is_bad_data(bulk.error())) return std::move(bulk).error();
    if (auto back = undo(); !back) return std::move(back).error();
    return false;
  };
  // A plain INSERT is most often refused for a duplicate key: where the database can skip
  // those and say which it skipped, one statement does it all, and a clean batch costs what
  // a plain bulk does.
  if (plan.refuses_duplicates) {
    auto skipped = c.insert_skipping_duplicates(plan, sent->rows(), stop);
    if (skipped && *skipped) return merged(std::move(held), refused_of_sent(std::move(**skipped)));
    if (!skipped && !is_bad_data(skipped.error())) return std::move(skipped).error();
    if (auto back = undo(); !back) return std::move(back).error();
  } else if (auto taken = bulk_taken(); !taken || *taken) {
    if (!taken) return std::move(taken).error();
    return held;
  }
  // Otherwise one query finds the duplicate keys, and the rest goes in bulk once more.
  if (plan.refuses_duplicates && plan.check != nullptr) {
    auto duplicates = plan.check->duplicates(c, plan, sent->rows());
    if (!duplicates) return std::move(duplicates).error();
    if (!duplicates->empty()) {
      held = merged(std::move(held), refused_of_sent(std::move(*duplicates)));
      sent.emplace(rows, held);
      if (sent->rows().empty()) return held;
      auto taken = bulk_taken();
      if (!taken) return std::move(taken).error();
      if (*taken) return held;
    }
  }
  // Something else the check could not see (a foreign key, a trigger): each row alone. A
  // failed statement is undone by itself (InnoDB's statement rollback), so the good rows
  // before it stay, and no row is sent more than three times.
  auto by_database = insert_one_by_one(c, plan, *sent, rows.size(), stop);
  if (!by_database) return std::move(by_database).error();
  return merged(std::move(held), std::move(*by_database));
}

auto write_rows_with_checkpoint(connection& c, const sink_plan& plan, std::span<const record> records,
                                std::string_view key, const position& pos, std::uint64_t expected_version,
                                const std::stop_token& stop) -> result<std::uint64_t> {
  // Before the transaction: DDL commits implicitly in some databases (MySQL).
  const auto& d = c.sql_dialect();
  if (auto created = d.create_store_table(c, store_table::checkpoints, plan.checkpoint_name, plan.checkpoint_table);
      !created) {
    return std::move(created).error();
  }
  return in_transaction(c, [&]() -> result<std::uint64_t> {
    // The fence first: a stale writer is turned away before it sends a row.
    auto saved = save_checkpoint(c, plan.checkpoint_table, key, pos, expected_version);
    if (!saved) return std::move(saved).error();
    // A retry of a write whose COMMIT landed unseen: its rows are in already.
    if (saved->already_stored || records.empty()) return saved->version;
    if (auto rows = c.insert_rows(plan, records, stop); !rows) return std::move(rows).error();
    return saved->version;
  });
}

}  // namespace pipeline::detail::relational
