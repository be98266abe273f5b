#include <pipeline/console/store.hpp>

#include <charconv>
#include <filesystem>
#include <functional>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include <pipeline/detail/identifier.hpp>
#include <pipeline/detail/time_text.hpp>
#include <pipeline/detail/relational/checkpoint_store.hpp>
#include <pipeline/detail/relational/dead_letter_table.hpp>
#include <pipeline/detail/relational/job_log.hpp>
#ifdef PIPELINE_CONSOLE_WITH_SQLITE
#include <pipeline/sqlite/checkpoint_store.hpp>
#include <pipeline/sqlite/database.hpp>
#include <pipeline/sqlite/dead_letter_table.hpp>
#include <pipeline/sqlite/job_log.hpp>
#endif
#ifdef PIPELINE_CONSOLE_WITH_MYSQL
#include <pipeline/mysql/checkpoint_store.hpp>
#include <pipeline/mysql/database.hpp>
#include <pipeline/mysql/dead_letter_table.hpp>
#include <pipeline/mysql/job_log.hpp>
#endif
#ifdef PIPELINE_CONSOLE_WITH_POSTGRES
#include <pipeline/postgres/checkpoint_store.hpp>
#include <pipeline/postgres/database.hpp>
#include <pipeline/postgres/dead_letter_table.hpp>
#include <pipeline/postgres/job_log.hpp>
#endif
#ifdef PIPELINE_CONSOLE_WITH_MONGODB
#include <pipeline/mongodb/checkpoint_store.hpp>
#include <pipeline/mongodb/client.hpp>
#include <pipeline/mongodb/dead_letter_collection.hpp>
#include <pipeline/mongodb/job_log.hpp>
#endif
#ifdef PIPELINE_CONSOLE_WITH_FILE
#include <pipeline/file/checkpoint_store.hpp>
#include <pipeline/file/dead_letter_file.hpp>
#include <pipeline/file/job_log.hpp>
#endif
#ifdef PIPELINE_CONSOLE_WITH_REDIS
#include <pipeline/redis/checkpoint_store.hpp>
#include <pipeline/redis/client.hpp>
#include <pipeline/redis/dead_letter_stream.hpp>
#include <pipeline/redis/job_log.hpp>
#endif

namespace pipeline::admin {
namespace {

namespace relational = pipeline::detail::relational;

// The letter id just before `id`, to read after so that `id` comes first (nullopt inside:
// from the start), or nullopt when `id` is not one of the store's.
using previous_id = std::optional<std::optional<std::string>>;

// The letter `id` of `s`, read as the first one after `before`; `what` names the store's kind
// of id ("a row id") for a malformed one, `where` the store.
auto letter_at(store& s, std::string_view id, const previous_id& before, std::string_view what, std::string_view where)
    -> result<stored_dead_letter> {
  if (!before) return invalid_input_error(fmt::format("'{}' is not a dead letter id of {} ({})", id, where, what));
  auto page = s.read_letters({}, *before, 1);
  if (!page) return std::move(page).error();
  if (page->empty() || page->front().id != id) {
    return not_found_error(fmt::format("no dead letter with id {} in {}", id, where));
  }
  return std::move(page->front());
}

// A number from 1 (a row id, a line number): the one before it, or from the start for 1.
auto integer_id_before(std::string_view id) -> previous_id {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
  if (ec != std::errc{} || end != id.data() + id.size() || value < 1) return std::nullopt;
  if (value == 1) return std::optional<std::string>{};
  return std::optional<std::string>{std::to_string(value - 1)};
}

// A store's table, collection or file: its own name when given, else `table` (the command's
// store), else `fallback`, its default.
auto name_of(const std::string& own, const store_names& names, std::string fallback) -> std::string {
  if (!own.empty()) return own;
  if (!names.table.empty()) return names.table;
  return fallback;
}

// A store over an adapter's job log, checkpoint store and DLQ, which `Access` makes, or checks
// are there, for each command: `job_log(f)`, `checkpoints(f)` and `letters(f)` call `f` with
// that store, or return the error that kept it from being there; `id_before` is the adapter's
// letter id just before another (see `letter_at`), `id_kind` and `where` name its ids and the
// store in messages.
template <class Access>
class store_over final : public store {
 public:
  explicit store_over(Access access) : access_(std::move(access)) {}

  auto jobs() -> result<std::vector<std::string>> override {
    return access_.job_log([](auto& log) { return log.jobs(); });
  }
  auto runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>> override {
    return access_.job_log([&](auto& log) { return log.runs(job, limit); });
  }
  auto checkpoint_keys() -> result<std::vector<std::string>> override {
    return access_.checkpoints([](auto& checkpoints) { return checkpoints.keys(); });
  }
  auto load_checkpoint(std::string_view key) -> result<checkpoint> override {
    return access_.checkpoints([&](auto& checkpoints) { return checkpoints.load(key); });
  }
  auto save_checkpoint(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t> override {
    return access_.checkpoints([&](auto& checkpoints) { return checkpoints.save(key, pos, expected_version); });
  }
  auto read_letters(const dead_letter_filter& filter, const std::optional<std::string>& after_id, std::size_t limit)
      -> result<std::vector<stored_dead_letter>> override {
    return access_.letters([&](auto& letters) { return letters.read(filter, after_id, limit, {}); });
  }
  auto letter(std::string_view id) -> result<stored_dead_letter> override {
    return letter_at(*this, id, Access::id_before(id), Access::id_kind, access_.where());
  }
  auto purge_letters(const dead_letter_filter& filter) -> result<std::size_t> override {
    return access_.letters([&](auto& letters) { return letters.purge(filter, {}); });
  }

 private:
  Access access_;
};

// The job log, checkpoint store and dead-letter table of a SQL adapter, each opened for a
// command once its table is known to exist, since the stores' `open` would create it.
template <class Database>
class relational_access {
 public:
  using table_exists = std::function<result<bool>(Database&, std::string_view table)>;
  static constexpr std::string_view id_kind = "a row id";
  static auto id_before(std::string_view id) -> previous_id { return integer_id_before(id); }

  relational_access(std::shared_ptr<Database> db, std::string where, store_names names, table_exists exists)
      : db_(std::move(db)), where_(std::move(where)), names_(std::move(names)), exists_(std::move(exists)) {}

  template <class F>
  auto job_log(F&& f) {
    return with<relational::job_log<Database>, relational::job_log_options>("job log", names_.job_log_table, f);
  }
  template <class F>
  auto checkpoints(F&& f) {
    return with<relational::checkpoint_store<Database>, relational::checkpoint_store_options>(
        "checkpoint", names_.checkpoint_table, f);
  }
  template <class F>
  auto letters(F&& f) {
    return with<relational::dead_letter_table<Database>, relational::dead_letter_table_options>(
        "dead letter", names_.dead_letter_table, f);
  }
  [[nodiscard]] auto where() const -> const std::string& { return where_; }

 private:
  // `f` on the store opened on its own table name, else `table`, else its default table.
  template <class Store, class Options, class F>
  auto with(std::string_view what, const std::string& own_table, F& f) -> decltype(f(std::declval<Store&>())) {
    Options options;
    options.table = name_of(own_table, names_, options.table);
    if (!pipeline::detail::is_identifier(options.table)) {
      return invalid_input_error(fmt::format("'{}' is not a table name", options.table));
    }
    auto exists = exists_(*db_, options.table);
    if (!exists) return std::move(exists).error();
    if (!*exists) {
      return not_found_error(fmt::format("no {} table '{}' in {}: pass --table", what, options.table, where_));
    }
    auto opened = Store::open(db_, options);
    if (!opened) return std::move(opened).error();
    return f(*opened);
  }

  std::shared_ptr<Database> db_;
  std::string where_;
  store_names names_;
  table_exists exists_;
};

#ifdef PIPELINE_CONSOLE_WITH_SQLITE
auto open_sqlite(std::string path, const store_names& names) -> result<std::unique_ptr<store>> {
  auto db = sqlite::database::open(path, {.create_if_missing = false});
  if (!db) return not_found_error(fmt::format("cannot open SQLite database {}: {}", path, db.error().message));
  const auto exists = [](sqlite::database& d, std::string_view table) -> result<bool> {
    // `table` is an identifier (checked before), so it can stand in the SQL text.
    auto count = sqlite::query_int64(
        d, fmt::format("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{}'", table));
    if (!count) return std::move(count).error();
    return count->at(0) > 0;
  };
  return std::make_unique<store_over<relational_access<sqlite::database>>>(
      relational_access<sqlite::database>(std::move(*db), path, names, exists));
}
#endif

#if defined(PIPELINE_CONSOLE_WITH_MYSQL) || defined(PIPELINE_CONSOLE_WITH_POSTGRES)
// A MySQL or PostgreSQL database: `current_schema` is the SQL function that names the
// schema its tables are looked up in (DATABASE(), current_schema()).
template <class Database, class Options>
auto open_server(std::string_view uri, std::string_view current_schema, const store_names& names)
    -> result<std::unique_ptr<store>> {
  Options options;
  options.outage_budget = std::chrono::milliseconds{0};  // an operator's tool answers at once
  std::shared_ptr<Database> db;
  try {
    auto opened = Database::open(uri, options);
    if (!opened) return std::move(opened).error();
    db = std::move(*opened);
  } catch (const std::invalid_argument& e) {
    return invalid_input_error(fmt::format("bad URI {}: {}", without_credentials(uri), e.what()));
  }
  const auto exists = [current_schema](Database& d, std::string_view table) -> result<bool> {
    // `table` is an identifier (checked before), so it can stand in the SQL text.
    auto count = query_int64(d, fmt::format("SELECT COUNT(*) FROM information_schema.tables "
                                            "WHERE table_schema = {} AND table_name = '{}'",
                                            current_schema, table));
    if (!count) return std::move(count).error();
    return count->at(0).value_or(0) > 0;
  };
  return std::make_unique<store_over<relational_access<Database>>>(
      relational_access<Database>(std::move(db), without_credentials(uri), names, exists));
}
#endif

#ifdef PIPELINE_CONSOLE_WITH_REDIS
// The stream id just before `id` ("ms-seq"), so that reading after it starts at `id`.
auto stream_id_before(std::string_view id) -> previous_id {
  const auto dash = id.find('-');
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
  const auto parse = [](std::string_view text, std::uint64_t& out) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
  };
  if (dash == std::string_view::npos || !parse(id.substr(0, dash), ms) || !parse(id.substr(dash + 1), seq)) {
    return std::nullopt;
  }
  if (seq > 0) return std::optional<std::string>{fmt::format("{}-{}", ms, seq - 1)};
  if (ms > 0) return std::optional<std::string>{fmt::format("{}-{}", ms - 1, UINT64_MAX)};
  return std::optional<std::string>{};  // 0-0: read from the start
}

// The job log, checkpoints and dead-letter stream of pipeline::redis under one prefix.
class redis_store final : public store {
 public:
  redis_store(std::shared_ptr<redis::client> client, std::string where, const store_names& names)
      : client_(std::move(client)),
        where_(std::move(where)),
        prefix_(names.prefix),
        log_(client_, {.prefix = names.prefix}),
        checkpoints_(client_, {.prefix = names.prefix}),
        letters_(client_, {.stream = names.prefix + ":dead"}) {}

  auto jobs() -> result<std::vector<std::string>> override {
    if (auto present = require_key(prefix_ + ":runs:next", "job log"); !present) return std::move(present).error();
    return log_.jobs();
  }
  auto runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>> override {
    if (auto present = require_key(prefix_ + ":runs:next", "job log"); !present) return std::move(present).error();
    return log_.runs(job, limit);
  }
  auto checkpoint_keys() -> result<std::vector<std::string>> override { return checkpoints_.keys(); }
  auto load_checkpoint(std::string_view key) -> result<checkpoint> override { return checkpoints_.load(key); }
  auto save_checkpoint(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t> override {
    return checkpoints_.save(key, pos, expected_version);
  }
  auto read_letters(const dead_letter_filter& filter, const std::optional<std::string>& after_id, std::size_t limit)
      -> result<std::vector<stored_dead_letter>> override {
    if (auto present = require_key(prefix_ + ":dead", "dead letter stream"); !present) return std::move(present).error();
    return letters_.read(filter, after_id, limit, {});
  }
  auto letter(std::string_view id) -> result<stored_dead_letter> override {
    return letter_at(*this, id, stream_id_before(id), "a stream id", where_);
  }
  auto purge_letters(const dead_letter_filter& filter) -> result<std::size_t> override {
    if (auto present = require_key(prefix_ + ":dead", "dead letter stream"); !present) return std::move(present).error();
    return letters_.purge(filter, {});
  }
  auto requeue_letters(std::span<const stored_dead_letter> letters, std::string_view queue)
      -> result<std::size_t> override {
    return letters_.requeue(letters, std::string(queue), {});
  }
  auto queue(std::string_view stream) -> result<queue_status> override;

 private:
  auto require_key(const std::string& key, std::string_view what) -> result<void> {
    auto exists = client_->command({"EXISTS", key});
    if (!exists) return std::move(exists).error();
    if (exists->integer == 0) {
      return not_found_error(fmt::format("no {} '{}' in {}: pass --prefix", what, key, where_));
    }
    return ok();
  }

  std::shared_ptr<redis::client> client_;
  std::string where_;
  std::string prefix_;
  redis::job_log log_;
  redis::checkpoint_store checkpoints_;
  redis::dead_letter_stream letters_;
};

// The fields of an XINFO reply (a flat array of names and values) by name.
auto reply_fields(const redis::reply& r) -> std::map<std::string, const redis::reply*, std::less<>> {
  std::map<std::string, const redis::reply*, std::less<>> fields;
  for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) fields.emplace(r.elements[i].str, &r.elements[i + 1]);
  return fields;
}

auto integer_field(const std::map<std::string, const redis::reply*, std::less<>>& fields, std::string_view name)
    -> std::optional<std::uint64_t> {
  const auto found = fields.find(name);
  if (found == fields.end() || found->second->kind != redis::reply::type::integer) return std::nullopt;
  return static_cast<std::uint64_t>(found->second->integer);
}

auto text_field(const std::map<std::string, const redis::reply*, std::less<>>& fields, std::string_view name)
    -> std::string {
  const auto found = fields.find(name);
  return found == fields.end() ? std::string{} : found->second->str;
}

auto redis_store::queue(std::string_view stream) -> result<queue_status> {
  const std::string key(stream);
  if (auto present = require_key(key, "stream"); !present) return std::move(present).error();
  queue_status status;
  status.stream = key;
  auto info = client_->command({"XINFO", "STREAM", key});
  if (!info) return std::move(info).error();
  status.length = integer_field(reply_fields(*info), "length").value_or(0);
  auto groups = client_->command({"XINFO", "GROUPS", key});
  if (!groups) return std::move(groups).error();
  for (const auto& group_reply : groups->elements) {
    const auto fields = reply_fields(group_reply);
    stream_group group;
    group.name = text_field(fields, "name");
    group.pending = integer_field(fields, "pending").value_or(0);
    group.lag = integer_field(fields, "lag");  // Redis 7; nil while it cannot tell
    group.last_delivered_id = text_field(fields, "last-delivered-id");
    auto consumers = client_->command({"XINFO", "CONSUMERS", key, group.name});
    if (!consumers) return std::move(consumers).error();
    for (const auto& consumer_reply : consumers->elements) {
      const auto consumer_fields = reply_fields(consumer_reply);
      group.consumers.push_back(
          {.name = text_field(consumer_fields, "name"),
           .pending = integer_field(consumer_fields, "pending").value_or(0),
           .idle = std::chrono::milliseconds(integer_field(consumer_fields, "idle").value_or(0))});
    }
    status.groups.push_back(std::move(group));
  }
  return status;
}

auto open_redis(std::string_view uri, const store_names& names) -> result<std::unique_ptr<store>> {
  if (auto parsed = redis::parse_uri(uri); !parsed) return std::move(parsed).error();
  // An operator's tool answers at once: no waiting out an outage.
  auto client = redis::client::connect({.uri = std::string(uri), .outage_budget = std::chrono::milliseconds{0}});
  if (!client) return std::move(client).error();
  return std::make_unique<redis_store>(std::move(*client), without_credentials(uri), names);
}
#endif

#ifdef PIPELINE_CONSOLE_WITH_MONGODB
// The ObjectId (24 hex digits) just before `id`, so that reading after it starts at `id`.
auto object_id_before(std::string_view id) -> previous_id {
  if (id.size() != 24 || id.find_first_not_of("0123456789abcdef") != std::string_view::npos) return std::nullopt;
  std::string before(id);
  for (auto digit = before.rbegin(); digit != before.rend(); ++digit) {
    if (*digit != '0') {  // borrow stops here
      *digit = *digit == 'a' ? '9' : static_cast<char>(*digit - 1);
      return std::optional<std::string>{std::move(before)};
    }
    *digit = 'f';
  }
  return std::optional<std::string>{};  // 000…0: read from the start
}

// The job log, checkpoint store and dead-letter collection of pipeline::mongodb in the URI's
// database; the names of store_names are collections here. Each command checks that its
// collection exists first, since the stores' `open` would create it.
class mongodb_access {
 public:
  static constexpr std::string_view id_kind = "an ObjectId, 24 hex digits";
  static auto id_before(std::string_view id) -> previous_id { return object_id_before(id); }

  mongodb_access(std::shared_ptr<mongodb::client> client, std::string where, const store_names& names)
      : client_(std::move(client)),
        where_(std::move(where)),
        job_log_collection_(name_of(names.job_log_table, names, mongodb::job_log_options{}.collection)),
        checkpoint_collection_(name_of(names.checkpoint_table, names, mongodb::checkpoint_store_options{}.collection)),
        letter_collection_(name_of(names.dead_letter_table, names, mongodb::dead_letter_collection_options{}.collection)),
        letters_(client_, {.database = client_->uri_database(), .collection = letter_collection_}) {}

  template <class F>
  auto job_log(F&& f) {
    return with<mongodb::job_log, mongodb::job_log_options>("job log", job_log_collection_, f);
  }
  template <class F>
  auto checkpoints(F&& f) {
    return with<mongodb::checkpoint_store, mongodb::checkpoint_store_options>("checkpoint", checkpoint_collection_, f);
  }
  template <class F>
  auto letters(F&& f) -> decltype(f(std::declval<mongodb::dead_letter_collection&>())) {
    if (auto present = require("dead letter", letter_collection_); !present) return std::move(present).error();
    return f(letters_);
  }
  [[nodiscard]] auto where() const -> const std::string& { return where_; }

 private:
  // `f` on the store opened on `collection`.
  template <class Store, class Options, class F>
  auto with(std::string_view what, const std::string& collection, F& f) -> decltype(f(std::declval<Store&>())) {
    if (auto present = require(what, collection); !present) return std::move(present).error();
    Options options;
    options.database = client_->uri_database();
    options.collection = collection;
    auto opened = Store::open(client_, options);
    if (!opened) return std::move(opened).error();
    return f(*opened);
  }
  auto require(std::string_view what, const std::string& collection) -> result<void> {
    auto exists = client_->has_collection(client_->uri_database(), collection);
    if (!exists) return std::move(exists).error();
    if (!*exists) return not_found_error(fmt::format("no {} collection '{}' in {}: pass --table", what, collection, where_));
    return ok();
  }

  std::shared_ptr<mongodb::client> client_;
  std::string where_;
  std::string job_log_collection_;
  std::string checkpoint_collection_;
  std::string letter_collection_;
  mongodb::dead_letter_collection letters_;
};

auto open_mongodb(std::string_view uri, const store_names& names) -> result<std::unique_ptr<store>> {
  std::shared_ptr<mongodb::client> client;
  try {
    mongodb::client_options options;
    options.outage_budget = std::chrono::milliseconds{0};  // an operator's tool answers at once
    client = mongodb::client::open(uri, options);
  } catch (const std::invalid_argument& e) {
    return invalid_input_error(fmt::format("bad URI {}: {}", without_credentials(uri), e.what()));
  }
  if (client->uri_database().empty()) {
    return invalid_input_error(
        fmt::format("{}: name the database in the URI (mongodb://host:port/DB)", without_credentials(uri)));
  }
  return std::make_unique<store_over<mongodb_access>>(mongodb_access(std::move(client), without_credentials(uri), names));
}
#endif

#ifdef PIPELINE_CONSOLE_WITH_FILE
// The job log, checkpoint store and dead-letter file of pipeline::file in one directory: the
// names of store_names are a subdirectory (job log, checkpoints) and a file (dead letters)
// there. Each command checks that its entry exists first, since the stores make theirs. A
// purge is dead_letter_file's: a rewrite under the file's lock, safe beside a job that writes.
class file_access {
 public:
  static constexpr std::string_view id_kind = "a line number";
  static auto id_before(std::string_view id) -> previous_id { return integer_id_before(id); }

  file_access(std::filesystem::path directory, const store_names& names)
      : directory_(std::move(directory)),
        where_(directory_.string()),
        job_log_name_(name_of(names.job_log_table, names, "jobs")),
        checkpoint_name_(name_of(names.checkpoint_table, names, "checkpoints")),
        letter_name_(name_of(names.dead_letter_table, names, "dead_letters.jsonl")),
        log_(directory_ / job_log_name_),
        checkpoints_(directory_ / checkpoint_name_),
        letters_(directory_ / letter_name_) {}

  template <class F>
  auto job_log(F&& f) -> decltype(f(std::declval<file::job_log&>())) {
    if (auto present = require("job log directory", job_log_name_); !present) return std::move(present).error();
    return f(log_);
  }
  template <class F>
  auto checkpoints(F&& f) -> decltype(f(std::declval<file::checkpoint_store&>())) {
    if (auto present = require("checkpoint directory", checkpoint_name_); !present) return std::move(present).error();
    return f(checkpoints_);
  }
  template <class F>
  auto letters(F&& f) -> decltype(f(std::declval<file::dead_letter_file&>())) {
    if (auto present = require("dead letter file", letter_name_); !present) return std::move(present).error();
    return f(letters_);
  }
  [[nodiscard]] auto where() const -> const std::string& { return where_; }

 private:
  // `name` in the directory, one name and no path, so that no --table reaches outside it.
  auto require(std::string_view what, const std::string& name) -> result<void> {
    const std::filesystem::path entry(name);
    if (name.empty() || entry.has_parent_path() || name == "." || name == "..") {
      return invalid_input_error(fmt::format("'{}' is not a name in the directory (a file or directory name)", name));
    }
    std::error_code ec;
    if (!std::filesystem::exists(directory_ / entry, ec)) {
      return not_found_error(fmt::format("no {} '{}' in {}: pass --table", what, name, where_));
    }
    return ok();
  }

  std::filesystem::path directory_;
  std::string where_;
  std::string job_log_name_;
  std::string checkpoint_name_;
  std::string letter_name_;
  file::job_log log_;
  file::checkpoint_store checkpoints_;
  file::dead_letter_file letters_;
};

auto open_directory(std::string_view path, const store_names& names) -> result<std::unique_ptr<store>> {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return not_found_error(fmt::format("no directory {}", path));
  return std::make_unique<store_over<file_access>>(file_access(std::filesystem::path(path), names));
}
#endif

// Unused in a build that has every adapter.
[[maybe_unused]] auto missing_adapter(std::string_view uri, std::string_view adapter) -> error {
  return invalid_input_error(
      fmt::format("{}: this pipeline-admin was built without pipeline::{}", without_credentials(uri), adapter));
}

}  // namespace

auto without_credentials(std::string_view uri) -> std::string {
  const auto scheme_end = uri.find("://");
  const auto at = uri.rfind('@');
  if (scheme_end == std::string_view::npos || at == std::string_view::npos || at < scheme_end) return std::string(uri);
  return fmt::format("{}{}", uri.substr(0, scheme_end + 3), uri.substr(at + 1));
}

auto find_letters(store& s, const dead_letter_filter& filter, const std::optional<std::string>& text,
                  std::optional<std::string> after_id, std::size_t limit) -> result<std::vector<stored_dead_letter>> {
  std::vector<stored_dead_letter> letters;
  while (letters.size() < limit) {
    // Without a text filter every letter read is kept: read no more than is wanted.
    auto page = s.read_letters(filter, after_id, text ? 500 : limit - letters.size());
    if (!page) return std::move(page).error();
    if (page->empty()) break;
    after_id = page->back().id;
    for (auto& stored : *page) {
      const auto& l = stored.letter;
      if (text && l.payload.find(*text) == std::string::npos && l.reason.message.find(*text) == std::string::npos) {
        continue;
      }
      if (letters.size() < limit) letters.push_back(std::move(stored));
    }
  }
  return letters;
}

auto parse_letter_filter(const std::function<std::optional<std::string>(std::string_view)>& field)
    -> result<dead_letter_filter> {
  dead_letter_filter filter;
  if (auto kind = field("kind")) {
    filter.kind = parse_error_kind(*kind);
    if (!filter.kind) return invalid_input_error(fmt::format("kind: no error kind '{}'", *kind));
  }
  if (auto partition = field("partition")) {
    std::uint32_t n = 0;
    const auto [end, ec] = std::from_chars(partition->data(), partition->data() + partition->size(), n);
    if (ec != std::errc{} || end != partition->data() + partition->size()) {
      return invalid_input_error(fmt::format("partition needs a number below 2^32, not '{}'", *partition));
    }
    filter.partition = n;
  }
  for (auto [name, member] : {std::pair{"since", &dead_letter_filter::from}, std::pair{"until", &dead_letter_filter::to}}) {
    if (auto text = field(name)) {
      // A date alone is its midnight.
      const auto t = pipeline::detail::parse_iso_time(text->size() == 10 ? *text + "T00:00:00Z" : *text);
      if (!t) {
        return invalid_input_error(
            fmt::format("{} needs a UTC time such as 2026-05-01T12:00:00Z, not '{}'", name, *text));
      }
      filter.*member = std::chrono::time_point_cast<std::chrono::system_clock::duration>(*t);
    }
  }
  filter.job = field("job");
  return filter;
}

auto requeue_matching(store& s, const dead_letter_filter& filter, const std::optional<std::string>& text,
                      std::string_view queue) -> result<std::size_t> {
  std::size_t moved = 0;
  std::optional<std::string> after;
  for (;;) {
    auto page = find_letters(s, filter, text, after, 500);
    if (!page) return std::move(page).error();
    if (page->empty()) return moved;
    after = page->back().id;
    auto done = s.requeue_letters(*page, queue);
    if (!done) return std::move(done).error();
    moved += *done;
  }
}

auto open_store(std::string_view uri, const store_names& names) -> result<std::unique_ptr<store>> {
  if (uri.starts_with("sqlite:") || uri.ends_with(".db")) {
    auto path = std::string(uri.starts_with("sqlite:") ? uri.substr(7) : uri);
#ifdef PIPELINE_CONSOLE_WITH_SQLITE
    if (path.empty()) return invalid_input_error("sqlite: needs a file path");
    return open_sqlite(std::move(path), names);
#else
    return missing_adapter(uri, "sqlite");
#endif
  }
  if (uri.starts_with("mysql://")) {
#ifdef PIPELINE_CONSOLE_WITH_MYSQL
    return open_server<mysql::database, mysql::database_options>(uri, "DATABASE()", names);
#else
    return missing_adapter(uri, "mysql");
#endif
  }
  if (uri.starts_with("postgresql://") || uri.starts_with("postgres://")) {
#ifdef PIPELINE_CONSOLE_WITH_POSTGRES
    return open_server<postgres::database, postgres::database_options>(uri, "current_schema()", names);
#else
    return missing_adapter(uri, "postgres");
#endif
  }
  if (uri.starts_with("redis://")) {
#ifdef PIPELINE_CONSOLE_WITH_REDIS
    return open_redis(uri, names);
#else
    return missing_adapter(uri, "redis");
#endif
  }
  if (uri.starts_with("mongodb://") || uri.starts_with("mongodb+srv://")) {
#ifdef PIPELINE_CONSOLE_WITH_MONGODB
    return open_mongodb(uri, names);
#else
    return missing_adapter(uri, "mongodb");
#endif
  }
  std::error_code ec;
  if (uri.starts_with("file:") || std::filesystem::is_directory(uri, ec)) {
    const auto path = uri.starts_with("file:") ? uri.substr(5) : uri;
#ifdef PIPELINE_CONSOLE_WITH_FILE
    if (path.empty()) return invalid_input_error("file: needs a directory");
    return open_directory(path, names);
#else
    return missing_adapter(uri, "file");
#endif
  }
  return invalid_input_error(fmt::format(
      "'{}' is not a store URI: sqlite:PATH (or a path ending in .db), mysql://…, postgresql://…, redis://…, "
      "mongodb://…/DB, file:DIR (or a directory)",
      without_credentials(uri)));
}

}  // namespace pipeline::admin
