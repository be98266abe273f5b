#include <pipeline/mongodb/client.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "client_impl.hpp"
#include "document.hpp"
#include "errors.hpp"

namespace pipeline::mongodb {

namespace {

auto as_int32(std::chrono::milliseconds ms) -> std::int32_t {
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(ms.count(), 0, std::numeric_limits<std::int32_t>::max()));
}

// The option, unless the URI set it (the URI wins).
void default_option(mongoc_uri_t* uri, const char* name, std::chrono::milliseconds ms) {
  if (!mongoc_uri_has_option(uri, name)) mongoc_uri_set_option_as_int32(uri, name, as_int32(ms));
}

// The URI without our own query parameter `outage-budget-ms` (libmongoc would warn about an
// option it does not know), its value into `budget`. Throws std::invalid_argument when the
// value is not a number of milliseconds.
auto without_outage_budget(std::string_view uri, std::chrono::milliseconds& budget) -> std::string {
  constexpr std::string_view name = "outage-budget-ms=";
  const auto query = uri.find('?');
  if (query == std::string_view::npos) return std::string(uri);
  std::string kept(uri.substr(0, query + 1));
  std::string_view rest = uri.substr(query + 1);
  bool first = true;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.starts_with(name)) {
      const auto value = pair.substr(name.size());
      std::int64_t ms = -1;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
      if (ec != std::errc{} || end != value.data() + value.size() || ms < 0) {
        throw std::invalid_argument(
            fmt::format("mongodb::client: outage-budget-ms '{}' is not a number of milliseconds", value));
      }
      budget = std::chrono::milliseconds{ms};
      continue;
    }
    if (!first) kept += '&';
    kept += pair;
    first = false;
  }
  if (first) kept.pop_back();  // nothing left after the '?'
  return kept;
}

// "mongodb: host:port[,host:port…]" (the SRV name for mongodb+srv), for the outage log and
// errors: never the whole URI, which may hold a password.
auto server_name(const mongoc_uri_t* uri) -> std::string {
  std::string hosts;
  for (const auto* h = mongoc_uri_get_hosts(uri); h != nullptr; h = h->next) {
    if (!hosts.empty()) hosts += ',';
    hosts += static_cast<const char*>(h->host_and_port);
  }
  const char* srv = mongoc_uri_get_srv_hostname(uri);
  if (hosts.empty() && srv != nullptr) hosts = srv;
  return fmt::format("mongodb: {}", hosts);
}

}  // namespace

namespace detail {

collection_handle::collection_handle(client& c, std::string_view database, std::string_view collection)
    : client_(client_access::pool(c)),
      collection_(mongoc_client_get_collection(client_.get(), std::string(database).c_str(),
                                               std::string(collection).c_str())) {}

auto create_index(client& c, std::string_view database, std::string_view collection, const bson_t& keys,
                  std::string_view name, bool unique, const bson_t* partial) -> result<void> {
  return client_access::rerun(c, {}, [&]() -> result<void> {  // createIndexes repeated changes nothing
    collection_handle coll{c, database, collection};
    scoped_bson command;
    bson_append_utf8(command.get(), "createIndexes", -1, mongoc_collection_get_name(coll.get()), -1);
    bson_t indexes;
    bson_t index;
    BSON_APPEND_ARRAY_BEGIN(command.get(), "indexes", &indexes);
    BSON_APPEND_DOCUMENT_BEGIN(&indexes, "0", &index);
    BSON_APPEND_DOCUMENT(&index, "key", &keys);
    bson_append_utf8(&index, "name", -1, std::string(name).c_str(), -1);
    if (unique) BSON_APPEND_BOOL(&index, "unique", true);
    if (partial != nullptr) BSON_APPEND_DOCUMENT(&index, "partialFilterExpression", partial);
    bson_append_document_end(&indexes, &index);
    bson_append_array_end(command.get(), &indexes);
    scoped_bson reply;
    bson_error_t e;
    if (!mongoc_collection_write_command_with_opts(coll.get(), command.get(), nullptr, reply.get(), &e)) {
      return to_error(e, fmt::format("create index {} on {}.{}", name, database, collection));
    }
    return ok();
  });
}

auto distinct_texts(client& c, std::string_view database, std::string_view collection, const char* field)
    -> result<std::vector<std::string>> {
  return client_access::rerun(c, {}, [&]() -> result<std::vector<std::string>> {
    collection_handle coll{c, database, collection};
    scoped_bson command;
    bson_append_utf8(command.get(), "distinct", -1, collection.data(), static_cast<int>(collection.size()));
    BSON_APPEND_UTF8(command.get(), "key", field);
    scoped_bson reply;
    bson_error_t e;
    if (!mongoc_collection_read_command_with_opts(coll.get(), command.get(), nullptr, nullptr, reply.get(), &e)) {
      return to_error(e, fmt::format("read the {} values of {}.{}", field, database, collection));
    }
    std::vector<std::string> values;
    bson_iter_t array;
    bson_iter_t value;
    if (bson_iter_init_find(&array, reply.get(), "values") && BSON_ITER_HOLDS_ARRAY(&array) &&
        bson_iter_recurse(&array, &value)) {
      while (bson_iter_next(&value)) {
        if (!BSON_ITER_HOLDS_UTF8(&value)) {
          return permanent_error(fmt::format("a document of {}.{} has a {} that is not text", database, collection, field));
        }
        std::uint32_t length = 0;
        const char* text = bson_iter_utf8(&value, &length);
        values.emplace_back(text, length);
      }
    }
    std::sort(values.begin(), values.end());  // servers return distinct values in their own order
    return values;
  });
}

}  // namespace detail

client::client(std::unique_ptr<impl> state) noexcept : impl_(std::move(state)) {}
client::~client() = default;

auto client::open(std::string_view uri_text, const client_options& options) -> std::shared_ptr<client> {
  if (options.max_pool_size == 0) throw std::invalid_argument("mongodb::client: max_pool_size must be > 0");
  client_options with_uri = options;
  const auto libmongoc_uri = without_outage_budget(uri_text, with_uri.outage_budget);
  if (with_uri.outage_budget.count() < 0) throw std::invalid_argument("mongodb::client: outage_budget is negative");
  validate(with_uri.reconnect);
  detail::ensure_initialised();
  bson_error_t e;
  const detail::uri_ptr uri{mongoc_uri_new_with_error(libmongoc_uri.c_str(), &e)};
  if (!uri) throw std::invalid_argument(fmt::format("mongodb::client: invalid URI: {}", static_cast<const char*>(e.message)));
  default_option(uri.get(), MONGOC_URI_CONNECTTIMEOUTMS, options.connect_timeout);
  default_option(uri.get(), MONGOC_URI_SERVERSELECTIONTIMEOUTMS, options.server_selection_timeout);
  default_option(uri.get(), MONGOC_URI_SOCKETTIMEOUTMS, options.socket_timeout);
  if (!mongoc_uri_has_option(uri.get(), MONGOC_URI_APPNAME) && !options.app_name.empty()) {
    mongoc_uri_set_appname(uri.get(), options.app_name.c_str());
  }
  // With a URI that asks for TLS, the pool takes the tls* options from it.
  detail::pool_ptr pool{mongoc_client_pool_new_with_error(uri.get(), &e)};
  if (!pool) throw std::invalid_argument(fmt::format("mongodb::client: {}", static_cast<const char*>(e.message)));
  // Version 2: server errors carry the server's code in the MONGOC_ERROR_SERVER domain.
  mongoc_client_pool_set_error_api(pool.get(), MONGOC_ERROR_API_VERSION_2);
  mongoc_client_pool_max_size(pool.get(), static_cast<std::uint32_t>(
      std::min<std::size_t>(options.max_pool_size, std::numeric_limits<std::uint32_t>::max())));
  auto server = server_name(uri.get());
  const char* database = mongoc_uri_get_database(uri.get());
  return std::shared_ptr<client>(new client(std::make_unique<impl>(std::move(pool), std::move(with_uri), std::move(server),
                                                                   database == nullptr ? "" : database)));
}

auto client::ping(std::stop_token stop) -> result<void> {
  return detail::client_access::rerun(*this, stop, [&]() -> result<void> {
    detail::pooled_client c{impl_->pool.get()};
    detail::scoped_bson command;
    BSON_APPEND_INT32(command.get(), "ping", 1);
    detail::scoped_bson reply;
    bson_error_t e;
    if (!mongoc_client_command_simple(c.get(), "admin", command.get(), nullptr, reply.get(), &e)) {
      return detail::to_error(e, "ping");
    }
    return ok();
  });
}

auto client::drop_database(std::string_view name) -> result<void> {
  return detail::client_access::rerun(*this, {}, [&]() -> result<void> {  // a dropped database stays dropped
    detail::pooled_client c{impl_->pool.get()};
    mongoc_database_t* db = mongoc_client_get_database(c.get(), std::string(name).c_str());
    bson_error_t e;
    const bool dropped = mongoc_database_drop_with_opts(db, nullptr, &e);
    mongoc_database_destroy(db);
    // 26 NamespaceNotFound: nothing to drop.
    if (!dropped && !(e.domain == MONGOC_ERROR_SERVER && e.code == 26)) {
      return detail::to_error(e, fmt::format("drop database {}", name));
    }
    return ok();
  });
}

auto client::count(std::string_view database, std::string_view collection, std::string_view filter_json)
    -> result<std::int64_t> {
  auto filter = detail::parse_json(filter_json, "the count filter");
  if (!filter) return std::move(filter).error();
  return detail::client_access::rerun(*this, {}, [&]() -> result<std::int64_t> {
    detail::collection_handle coll{*this, database, collection};
    bson_error_t e;
    const auto n = mongoc_collection_count_documents(coll.get(), filter->get(), nullptr, nullptr, nullptr, &e);
    if (n < 0) return detail::to_error(e, fmt::format("count {}.{}", database, collection));
    return n;
  });
}

auto client::has_collection(std::string_view database, std::string_view collection) -> result<bool> {
  return detail::client_access::rerun(*this, {}, [&]() -> result<bool> {
    detail::pooled_client c{impl_->pool.get()};
    mongoc_database_t* db = mongoc_client_get_database(c.get(), std::string(database).c_str());
    bson_error_t e{};
    const bool found = mongoc_database_has_collection(db, std::string(collection).c_str(), &e);
    mongoc_database_destroy(db);
    // false with an error code is a failed listCollections, not an absent collection
    if (!found && e.code != 0) return detail::to_error(e, fmt::format("look for collection {}.{}", database, collection));
    return found;
  });
}

auto client::uri_database() const noexcept -> const std::string& { return impl_->database; }

}  // namespace pipeline::mongodb
