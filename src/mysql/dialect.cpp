// pipeline::mysql as a dialect of the relational layer (src/relational/dialect.hpp): how
// MySQL/MariaDB spell the SQL and the store tables (InnoDB), and a connection (one borrowed
// from the pool for one operation) with its array-bound bulk insert path.
#include <pipeline/mysql/checkpoint_store.hpp>
#include <pipeline/mysql/dead_letter_table.hpp>
#include <pipeline/mysql/job_log.hpp>
#include <pipeline/mysql/table_sink.hpp>
#include <pipeline/mysql/write_mode.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>


#include "binding.hpp"
#include "connection.hpp"
#include "relational/adapter.hpp"
#include "row_check.hpp"
#include "row_reader.hpp"

namespace pipeline::mysql::detail {
namespace {

namespace relational = pipeline::detail::relational;

// CREATE TABLE of each store, {} standing for the quoted name.
auto table_definition(relational::store_table which) -> std::string_view {
  switch (which) {
    // Keys are compared byte for byte (no collation folds "A" into "a").
    case relational::store_table::checkpoints:
      return "CREATE TABLE IF NOT EXISTS {} (`key` VARBINARY(767) NOT NULL PRIMARY KEY, "
             "`position` LONGBLOB NOT NULL, `version` BIGINT NOT NULL, `updated_at` DATETIME(6) NOT NULL) "
             "ENGINE=InnoDB";
    // Message and position are bytes, so that any message (a server's, quoting a binary
    // value) is kept as it is.
    case relational::store_table::dead_letters:
      return "CREATE TABLE IF NOT EXISTS {} (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, `payload` LONGBLOB, "
             "`kind` VARCHAR(32) NOT NULL, `message` BLOB, `native_code` BIGINT NOT NULL, `backend` VARBINARY(64), "
             "`attempts` BIGINT NOT NULL, `position` BLOB, `partition` BIGINT NOT NULL, "
             "`time` DATETIME(6) NOT NULL, `entry` VARBINARY(80) NOT NULL, "
             "`job` VARBINARY(255) NOT NULL DEFAULT '', UNIQUE KEY `entry` (`entry`)) ENGINE=InnoDB";
    // One row per committed batch above the checkpoint (exactly-once mode); the key stays
    // within an index's 767 bytes.
    case relational::store_table::batches:
      return "CREATE TABLE IF NOT EXISTS {} (`job` VARBINARY(512) NOT NULL, `run` BIGINT NOT NULL, "
             "`sequence` BIGINT NOT NULL, `slice` BIGINT NOT NULL, `partition` BIGINT NOT NULL, "
             "`start_position` LONGBLOB NOT NULL, `end_position` LONGBLOB NOT NULL, "
             "PRIMARY KEY (`job`, `run`, `sequence`, `slice`)) ENGINE=InnoDB";
    case relational::store_table::job_runs: break;
  }
  return "CREATE TABLE IF NOT EXISTS {} (`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
         "`job` VARBINARY(255) NOT NULL, `state` VARCHAR(16) NOT NULL, `owner` VARBINARY(255) NOT NULL, "
         "`read` BIGINT NOT NULL, `written` BIGINT NOT NULL, `dead_lettered` BIGINT NOT NULL, "
         "`retried` BIGINT NOT NULL, `created` DATETIME(6) NOT NULL, `updated` DATETIME(6) NOT NULL, "
         "`lease_until` DATETIME(6) NOT NULL, `message` BLOB NOT NULL, KEY `by_job` (`job`, `id`)) ENGINE=InnoDB";
}

class mysql_dialect final : public relational::dialect {
 public:
  [[nodiscard]] auto name() const noexcept -> std::string_view override { return "mysql"; }
  [[nodiscard]] auto quote(std::string_view identifier) const -> std::string override {
    return fmt::format("`{}`", identifier);
  }
  [[nodiscard]] auto placeholder(std::size_t /*n*/) const -> std::string override { return "?"; }
  [[nodiscard]] auto insert_ignore(std::string_view into) const -> std::string override {
    return fmt::format("INSERT IGNORE {}", into);
  }
  // ON DUPLICATE KEY matches every unique key, so `keys` only choose the column of the
  // no-op assignment (`k` = `k` changes nothing, and the row counts as not affected).
  [[nodiscard]] auto upsert_clause(std::string_view /*table*/, const std::vector<std::string>& columns,
                                   const std::vector<std::string>& keys,
                                   const std::vector<std::string>& updates,
                                   const std::vector<std::string>& adds) const -> std::string override {
    std::vector<std::string> assignments;
    for (const auto& u : updates) assignments.push_back(fmt::format("{0} = VALUES({0})", u));
    for (const auto& a : adds) assignments.push_back(fmt::format("{0} = {0} + VALUES({0})", a));
    if (assignments.empty()) {
      assignments.push_back(fmt::format("{0} = {0}", keys.empty() ? columns.front() : keys.front()));
    }
    return fmt::format(" ON DUPLICATE KEY UPDATE {}", fmt::join(assignments, ", "));
  }
  [[nodiscard]] auto upsert_needs_keys() const noexcept -> bool override { return false; }
  // A connection killed as the server commits loses the reply, not the commit.
  [[nodiscard]] auto commits_can_be_lost() const noexcept -> bool override { return true; }
  // Bytes keep any value; an index needs a bounded type.
  [[nodiscard]] auto default_column_type(bool key) const -> std::string_view override {
    return key ? "VARBINARY(255)" : "LONGBLOB";
  }
  [[nodiscard]] auto table_options() const -> std::string_view override { return "ENGINE=InnoDB"; }

  [[nodiscard]] auto create_store_table(relational::connection& c, relational::store_table which,
                                        std::string_view /*table*/, std::string_view quoted) const
      -> result<void> override {
    auto created = c.execute(fmt::format(fmt::runtime(table_definition(which)), quoted));
    if (!created || which != relational::store_table::dead_letters) return created;
    // A table made before letters had a job gets the column; its old rows read back with none.
    return relational::add_column_if_missing(c, quoted, "job", "VARBINARY(255) NOT NULL DEFAULT ''");
  }

  // A position may be longer than an index takes: the identity is the partition, the
  // position's hash and the shared fingerprint in one bounded column.
  [[nodiscard]] auto dead_letter_identity_column() const -> std::string_view override { return "entry"; }
  [[nodiscard]] auto dead_letter_identity(const dead_letter& letter, std::string_view fingerprint) const
      -> std::string override {
    return relational::bounded_dead_letter_identity(letter, fingerprint);
  }
  [[nodiscard]] auto dead_letter_key() const -> std::vector<std::string> override { return {"`entry`"}; }
};

const mysql_dialect the_dialect;

// "YYYY-MM-DD HH:MM:SS.ffffff", for a timestamp in a column sent as text.
auto time_text(const MYSQL_TIME& m) -> std::string {
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", m.year, m.month, m.day, m.hour, m.minute, m.second,
                     m.second_part);
}

// One column of a chunk of rows, bound column-wise for array binding: `indicators` marks the
// NULLs; fixed-size values sit in an array, variable ones are pointers and lengths.
struct column_array {
  std::vector<const value*> fields;  // each row's value of the column; null: the row has none
  std::vector<char> indicators;
  std::vector<std::int64_t> ints;
  std::vector<double> doubles;
  std::vector<MYSQL_TIME> times;
  std::vector<std::string> texts;  // values converted to text (a column of mixed kinds)
  // Connector/C reads variable-length values, and MYSQL_TIMEs (no fixed pack length there),
  // through an array of pointers.
  std::vector<const void*> pointers;
  std::vector<unsigned long> lengths;
};

// The kind a column is sent as: the kind its non-null values share (bool counted as
// int64), or string when they differ.
auto column_kind(const std::vector<const value*>& fields) -> value_kind {
  std::optional<value_kind> kind;
  for (const value* v : fields) {
    if (v == nullptr || v->is_null()) continue;
    auto k = v->kind() == value_kind::boolean ? value_kind::int64 : v->kind();
    if (!kind) kind = k;
    else if (*kind != k) return value_kind::string;
  }
  return kind.value_or(value_kind::null);
}

auto as_int(const value& v) -> std::int64_t {
  if (const auto* b = v.get_if<bool>()) return *b ? 1 : 0;
  return *v.get_if<std::int64_t>();
}

// Whether `s` is ASCII only (8 bytes at a time).
auto is_ascii(std::string_view s) noexcept -> bool {
  std::uint64_t seen = 0;
  std::size_t i = 0;
  for (; i + sizeof seen <= s.size(); i += sizeof seen) {
    std::uint64_t word = 0;
    std::memcpy(&word, s.data() + i, sizeof word);
    seen |= word;
  }
  for (; i < s.size(); ++i) seen |= static_cast<unsigned char>(s[i]);
  return (seen & 0x8080808080808080ULL) == 0;
}

// Fills `col` and `bind` for rows [0, n) of `rows`, column `at` of `plan`'s statement; an
// `invalid_input` error names a value the server could not hold as it is. With
// `ascii_as_is` (row_check.hpp's `ascii_stored_as_is`), text that is all ASCII is bound as
// bytes: stored the same, without the server's conversion from utf8mb4.
auto bind_column(std::span<const record> rows, const relational::sink_plan& plan, std::size_t at, bool ascii_as_is,
                 column_array& col, MYSQL_BIND& bind) -> result<void> {
  const std::size_t n = rows.size();
  const std::string& name = plan.columns[at];
  std::memset(&bind, 0, sizeof bind);
  col.fields.resize(n);
  for (std::size_t i = 0; i < n; ++i) col.fields[i] = plan.value_of(rows[i], at);
  col.indicators.assign(n, STMT_INDICATOR_NONE);
  const value_kind kind = column_kind(col.fields);
  const auto bad = [&](std::size_t row, const value& v, std::string_view why) {
    return invalid_input_error(fmt::format("row {} of {}: field \"{}\" {} {}", row, n, name, v, why));
  };
  const auto each = [&](auto&& put) -> result<void> {
    for (std::size_t i = 0; i < n; ++i) {
      const value* v = col.fields[i];
      if (v == nullptr || v->is_null()) {
        col.indicators[i] = STMT_INDICATOR_NULL;
        continue;
      }
      if (auto done = put(i, *v); !done) return done;
    }
    return ok();
  };
  result<void> filled = ok();
  switch (kind) {
    case value_kind::null:
    case value_kind::boolean:
    case value_kind::int64:
      col.ints.assign(n, 0);
      filled = each([&](std::size_t i, const value& v) -> result<void> {
        col.ints[i] = as_int(v);
        return ok();
      });
      bind.buffer_type = MYSQL_TYPE_LONGLONG;
      bind.buffer = col.ints.data();
      break;
    case value_kind::float64:
      col.doubles.assign(n, 0);
      filled = each([&](std::size_t i, const value& v) -> result<void> {
        const double d = *v.get_if<double>();
        if (!std::isfinite(d)) return bad(i, v, "is not finite, which MySQL cannot store");
        col.doubles[i] = d;
        return ok();
      });
      bind.buffer_type = MYSQL_TYPE_DOUBLE;
      bind.buffer = col.doubles.data();
      break;
    case value_kind::datetime:
      col.times.assign(n, MYSQL_TIME{});
      col.pointers.assign(n, nullptr);
      filled = each([&](std::size_t i, const value& v) -> result<void> {
        auto m = to_mysql_time(*v.get_if<timestamp>());
        if (!m) return bad(i, v, "is outside the years 0000-9999 that DATETIME holds");
        col.times[i] = *m;
        col.pointers[i] = &col.times[i];
        return ok();
      });
      bind.buffer_type = MYSQL_TYPE_DATETIME;
      bind.buffer = col.pointers.data();
      break;
    case value_kind::string:
    case value_kind::binary:
      col.pointers.assign(n, nullptr);
      col.lengths.assign(n, 0);
      col.texts.assign(n, std::string{});
      filled = each([&](std::size_t i, const value& v) -> result<void> {
        if (const auto* s = v.get_if<std::string>()) {
          col.pointers[i] = s->empty() ? "" : s->data();
          col.lengths[i] = s->size();
          ascii_as_is = ascii_as_is && is_ascii(*s);
          return ok();
        }
        if (const auto* b = v.get_if<bytes>()) {
          ascii_as_is = false;
          col.pointers[i] = b->empty() ? "" : static_cast<const void*>(b->data());
          col.lengths[i] = b->size();
          return ok();
        }
        // A column of mixed kinds: this value as text, which the server converts.
        if (const auto* t = v.get_if<timestamp>()) {
          auto m = to_mysql_time(*t);
          if (!m) return bad(i, v, "is outside the years 0000-9999 that DATETIME holds");
          col.texts[i] = time_text(*m);
        } else if (const auto* d = v.get_if<double>()) {
          if (!std::isfinite(*d)) return bad(i, v, "is not finite, which MySQL cannot store");
          col.texts[i] = fmt::format("{}", *d);
        } else {
          col.texts[i] = std::to_string(as_int(v));
        }
        col.pointers[i] = col.texts[i].data();
        col.lengths[i] = col.texts[i].size();
        return ok();
      });
      bind.buffer_type = kind == value_kind::binary || ascii_as_is ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
      bind.buffer = col.pointers.data();
      bind.length = col.lengths.data();
      break;
  }
  bind.u.indicator = col.indicators.data();
  return filled;
}

// The rows in chunks of `rows_per_statement`, each sent as one array-bound execution
// (STMT_ATTR_ARRAY_SIZE) of `sql`, a prepared INSERT of `plan`'s columns; `after_chunk(st)`
// (returning a `result<void>`) follows each execution.
template <class AfterChunk>
auto insert_chunks(connection& c, std::string_view sql, const relational::sink_plan& plan,
                   std::span<const record> records, const std::stop_token& stop, AfterChunk&& after_chunk)
    -> result<void> {
  auto st = c.prepare(sql);
  if (!st) return std::move(st).error();
  std::vector<column_array> columns(plan.columns.size());
  std::vector<MYSQL_BIND> binds(plan.columns.size());
  auto ascii_as_is = plan.check != nullptr ? ascii_stored_as_is(*plan.check) : std::vector<bool>{};
  ascii_as_is.resize(plan.columns.size(), false);
  for (std::size_t first = 0; first < records.size(); first += plan.rows_per_statement) {
    if (stop.stop_requested()) return stopped_error();
    const auto chunk = records.subspan(first, std::min(plan.rows_per_statement, records.size() - first));
    for (std::size_t i = 0; i < plan.columns.size(); ++i) {
      if (auto bound = bind_column(chunk, plan, i, ascii_as_is[i], columns[i], binds[i]); !bound) {
        auto e = std::move(bound).error();
        e.message = fmt::format("into {} (rows from {}): {}", plan.table, first, e.message);
        return e;
      }
    }
    auto size = static_cast<unsigned int>(chunk.size());
    if (mysql_stmt_attr_set(st->get(), STMT_ATTR_ARRAY_SIZE, &size) != 0) {
      return st->failure("setting STMT_ATTR_ARRAY_SIZE");
    }
    const auto context = fmt::format("inserting rows {}-{} of {} into {}", first, first + chunk.size() - 1,
                                     records.size(), plan.table);
    if (auto done = st->execute(binds.data(), context); !done) return done;
    if (auto done = after_chunk(*st); !done) return done;
  }
  return ok();
}

auto as_bytes(std::string_view s) -> value {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return value{bytes{p, p + s.size()}};
}

using mysql_statement = statement;  // inside the class below, `statement` is its base

// A prepared statement with its parameters kept as values until `execute`; a query's rows
// are read whole (the stores read small results) and handed out one at a time.
class relational_statement final : public relational::statement {
 public:
  explicit relational_statement(mysql_statement st) noexcept : st_(std::move(st)) {}

  void bind_int64(int index, std::int64_t v) override { put(index, value{v}); }
  // The stores' text columns are binary (VARBINARY, BLOB): sent as bytes, which no charset
  // check or conversion touches.
  void bind_text(int index, std::string_view v) override { put(index, as_bytes(v)); }
  void bind_bytes(int index, std::string_view v) override { put(index, as_bytes(v)); }
  void bind_time(int index, std::chrono::system_clock::time_point t) override {
    put(index, value{std::chrono::floor<std::chrono::microseconds>(t)});
  }
  void bind_value(int index, const value& v) override { put(index, v); }

  [[nodiscard]] auto execute(std::string_view context) -> result<void> override {
    rows_.clear();
    next_ = 0;
    auto bound = parameters::bind(params_);
    if (!bound) return std::move(bound).error();
    if (auto done = st_.execute((*bound)->data(), context); !done) return done;
    if (mysql_stmt_field_count(st_.get()) == 0) return ok();
    auto rows = fetch_records(st_, context);
    if (!rows) return std::move(rows).error();
    rows_ = std::move(*rows);
    return ok();
  }
  [[nodiscard]] auto next_row() -> result<bool> override {
    if (next_ >= rows_.size()) return false;
    current_ = &rows_[next_++];
    return true;
  }
  [[nodiscard]] auto affected_rows() const -> std::uint64_t override { return st_.affected_rows(); }
  [[nodiscard]] auto last_insert_id() const -> std::uint64_t override { return mysql_stmt_insert_id(st_.get()); }
  [[nodiscard]] auto int64_at(int column) const -> std::optional<std::int64_t> override {
    const auto* i = at(column).get_if<std::int64_t>();
    return i != nullptr ? std::optional{*i} : std::nullopt;
  }
  [[nodiscard]] auto text_at(int column) const -> std::string_view override {
    const auto& v = at(column);
    if (const auto* b = v.get_if<bytes>()) return {reinterpret_cast<const char*>(b->data()), b->size()};
    if (const auto* s = v.get_if<std::string>()) return *s;
    return {};
  }
  [[nodiscard]] auto time_at(int column) const -> std::optional<timestamp> override {
    const auto* t = at(column).get_if<timestamp>();
    return t != nullptr ? std::optional{*t} : std::nullopt;
  }

 private:
  void put(int index, value v) {
    const auto i = static_cast<std::size_t>(index - 1);
    if (params_.size() <= i) params_.resize(i + 1);
    params_[i] = std::move(v);
  }
  [[nodiscard]] auto at(int column) const -> const value& { return std::next(current_->begin(), column)->second; }

  mysql_statement st_;
  std::vector<value> params_;
  std::vector<record> rows_;
  std::size_t next_ = 0;
  const record* current_ = nullptr;
};

// A pooled connection, given back (or closed, if it broke) when this goes.
class relational_connection final : public relational::connection {
 public:
  explicit relational_connection(lease c) noexcept : c_(std::move(c)) {}

  [[nodiscard]] auto sql_dialect() const noexcept -> const relational::dialect& override { return the_dialect; }
  [[nodiscard]] auto execute(std::string_view sql) -> result<void> override { return c_->execute(sql); }
  [[nodiscard]] auto prepare(std::string_view sql) -> result<std::unique_ptr<relational::statement>> override {
    auto st = c_->prepare(sql);
    if (!st) return std::move(st).error();
    return std::make_unique<relational_statement>(std::move(*st));
  }
  [[nodiscard]] auto begin() -> result<void> override { return c_->execute("START TRANSACTION"); }
  [[nodiscard]] auto commit() -> result<void> override { return c_->execute("COMMIT"); }
  // A lost connection has rolled back already, and is closed rather than reused.
  void rollback() noexcept override {
    if (!c_->broken()) (void)c_->execute("ROLLBACK");
  }
  [[nodiscard]] auto insert_rows(const relational::sink_plan& plan, std::span<const record> rows,
                                 const std::stop_token& stop) -> result<void> override {
    return insert_chunks(*c_, plan.sql, plan, rows, stop, [](const mysql_statement&) { return ok(); });
  }
  // INSERT IGNORE, then the warnings of each chunk (the server keeps only the last
  // statement's): the rows skipped, when every warning is a duplicate key the row check can
  // pin on one row. Connections keep up to 65,535 warnings (max_error_count).
  [[nodiscard]] auto insert_skipping_duplicates(const relational::sink_plan& plan, std::span<const record> rows,
                                                const std::stop_token& stop)
      -> result<std::optional<std::vector<rejected_record>>> override {
    std::uint64_t inserted = 0;
    std::vector<record> warnings;
    bool all_warnings_read = true;
    const auto read_warnings = [&](const mysql_statement& st) -> result<void> {
      inserted += st.affected_rows();
      const auto raised = static_cast<std::size_t>(mysql_stmt_warning_count(st.get()));
      if (raised == 0) return ok();
      auto shown = query_records(*c_, "SHOW WARNINGS", 0);
      if (!shown) return std::move(shown).error();
      all_warnings_read = all_warnings_read && shown->size() == raised;
      std::move(shown->begin(), shown->end(), std::back_inserter(warnings));
      return ok();
    };
    if (auto sent = insert_chunks(*c_, plan.skip_duplicates_sql, plan, rows, stop, read_warnings); !sent) {
      return std::move(sent).error();
    }
    if (warnings.empty() && inserted == rows.size()) return std::optional{std::vector<rejected_record>{}};
    if (plan.check == nullptr || !all_warnings_read) return std::optional<std::vector<rejected_record>>{};
    return skipped_duplicates(*plan.check, plan, rows, warnings, inserted);
  }
  [[nodiscard]] auto read_row_check(const relational::sink_plan& plan)
      -> result<std::shared_ptr<const relational::row_check>> override {
    return detail::read_row_check(*c_, plan);
  }
  // The check's refusals cost no round trip; the rest goes in bulk, and row by row only when
  // the server refuses something the check could not see.
  [[nodiscard]] auto insert_each(const relational::sink_plan& plan, std::span<const record> rows,
                                 const std::stop_token& stop) -> result<std::vector<rejected_record>> override {
    return relational::insert_checked_rows(*this, plan, rows, stop);
  }

 private:
  lease c_;
};

}  // namespace
}  // namespace pipeline::mysql::detail

// The shared stores and sink for mysql::database: their members reach the database through
// its `backend` (a connection borrowed from the pool for one operation), so they are
// instantiated here, beside it.
PIPELINE_RELATIONAL_POOLED_ADAPTER(mysql);
