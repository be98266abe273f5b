// The one place hiredis is used: connecting, timeouts, reply conversion and error mapping.
#include <pipeline/redis/client.hpp>
#include <pipeline/redis/detail/slot.hpp>

#include <hiredis.h>
#include <sys/time.h>

#include <cerrno>
#include <algorithm>
#include <charconv>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace pipeline::redis {
namespace {

constexpr std::string_view backend = "redis";

auto to_timeval(std::chrono::milliseconds ms) -> timeval {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

auto from_hex(char c) -> int {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

auto percent_decode(std::string_view in, std::string& out) -> bool {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = from_hex(in[i + 1]);
    const int lo = from_hex(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

template <class Int>
auto parse_int(std::string_view s, Int& out) -> bool {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

auto convert(const redisReply* r) -> reply {
  reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.kind = reply::type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.kind = reply::type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.kind = reply::type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.kind = reply::type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.kind = reply::type::array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.kind = reply::type::nil;
  }
  return out;
}

struct reply_deleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using reply_handle = std::unique_ptr<redisReply, reply_deleter>;

struct context_deleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using context_handle = std::unique_ptr<redisContext, context_deleter>;

// A cluster node's answer for a key that lives elsewhere: "MOVED 3999 127.0.0.1:6381" (the
// slot moved for good) or "ASK 3999 127.0.0.1:6381" (this one command, during a migration).
struct redirect {
  bool ask = false;
  std::uint16_t slot = 0;
  std::string host;
  std::uint16_t port = 0;
};

auto parse_redirect(std::string_view message) -> std::optional<redirect> {
  redirect out;
  if (message.rfind("MOVED ", 0) == 0) {
    message.remove_prefix(6);
  } else if (message.rfind("ASK ", 0) == 0) {
    out.ask = true;
    message.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const auto space = message.find(' ');
  const auto colon = message.rfind(':');
  if (space == std::string_view::npos || colon == std::string_view::npos || colon < space) return std::nullopt;
  if (!parse_int(message.substr(0, space), out.slot) || out.slot >= detail::slot_count) return std::nullopt;
  out.host = std::string(message.substr(space + 1, colon - space - 1));
  if (!parse_int(message.substr(colon + 1), out.port) || out.host.empty()) return std::nullopt;
  return out;
}

// How many redirects one call follows before it gives up (a cluster being resharded).
constexpr int max_redirects = 5;

}  // namespace

auto parse_uri(std::string_view text) -> result<uri> {
  constexpr std::string_view scheme = "redis://";
  if (text.substr(0, scheme.size()) != scheme) {
    return invalid_input_error("redis URI must start with redis:// (rediss:// and unix sockets are not supported)");
  }
  std::string_view rest = text.substr(scheme.size());
  uri out;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      // "redis://secret@host" is the old form: the part before @ is the password.
      if (!percent_decode(userinfo, out.password)) return invalid_input_error("redis URI: bad %-escape in the password");
    } else {
      if (!percent_decode(userinfo.substr(0, colon), out.user)) return invalid_input_error("redis URI: bad %-escape in the user");
      if (!percent_decode(userinfo.substr(colon + 1), out.password)) {
        return invalid_input_error("redis URI: bad %-escape in the password");
      }
    }
  }
  std::string_view hostport = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    const auto db = rest.substr(slash + 1);
    if (!db.empty() && (!parse_int(db, out.db) || out.db < 0)) {
      return invalid_input_error(fmt::format("redis URI: db '{}' is not a non-negative integer", db));
    }
  }
  if (const auto colon = hostport.rfind(':'); colon != std::string_view::npos && hostport.find(']') == std::string_view::npos) {
    const auto port = hostport.substr(colon + 1);
    std::uint32_t p = 0;
    if (!parse_int(port, p) || p == 0 || p > 65535) {
      return invalid_input_error(fmt::format("redis URI: port '{}' is not in 1..65535", port));
    }
    out.port = static_cast<std::uint16_t>(p);
    hostport = hostport.substr(0, colon);
  }
  if (hostport.empty()) return invalid_input_error("redis URI: the host is empty");
  out.host = std::string(hostport);
  return out;
}

auto reply_error(std::string_view message) -> error {
  const auto word = message.substr(0, message.find(' '));
  const auto make = [&](error_kind kind, std::string text) { return error{kind, std::move(text), 0, std::string(backend)}; };
  // UNBLOCKED: a blocking read's stream was deleted under it (MIGRATE moves it to another
  // cluster node) or CLIENT UNBLOCK ended the wait; reading again finds out which.
  for (auto transient : {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN", "READONLY", "OOM", "UNBLOCKED"}) {
    if (word == transient) return make(error_kind::transient, std::string(message));
  }
  if (word == "NOAUTH" || word == "WRONGPASS" || message.find("AUTH") != std::string_view::npos ||
      message.find("invalid password") != std::string_view::npos) {
    return make(error_kind::permanent, fmt::format("authentication failed: {}", message));
  }
  if (message.find("syntax") != std::string_view::npos || message.find("wrong number of arguments") != std::string_view::npos ||
      message.find("not an integer") != std::string_view::npos || message.find("Invalid") != std::string_view::npos) {
    return make(error_kind::invalid_input, std::string(message));
  }
  return make(error_kind::permanent, std::string(message));
}

namespace {

// The argument vectors hiredis wants, pointing into `args`.
struct argv_view {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;

  explicit argv_view(std::span<const std::string> args) {
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
  }
  [[nodiscard]] auto count() const noexcept -> int { return static_cast<int>(argv.size()); }
};

// Runs one command on a connected context: nullptr when the connection failed.
auto run_argv(redisContext* ctx, std::span<const std::string> args) -> reply_handle {
  argv_view v{args};
  return reply_handle{static_cast<redisReply*>(redisCommandArgv(ctx, v.count(), v.argv.data(), v.lens.data()))};
}

// Sends `commands` in one round trip and reads their replies into `out`; false when the
// connection failed (the context cannot be used again).
auto round_trip(redisContext* ctx, std::span<const std::span<const std::string>> commands, std::vector<reply_handle>& out)
    -> bool {
  out.clear();
  for (const auto& args : commands) {
    argv_view v{args};
    if (redisAppendCommandArgv(ctx, v.count(), v.argv.data(), v.lens.data()) != REDIS_OK) return false;
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx, &raw) != REDIS_OK || raw == nullptr) return false;
    out.emplace_back(static_cast<redisReply*>(raw));
  }
  return true;
}

auto asking_command() -> std::span<const std::string> {
  static const std::string asking[] = {"ASKING"};
  return asking;
}

// Connects, authenticates and selects, with the connect timeout on every step.
auto open_context(const uri& where, const connection_options& options, context_handle& out) -> result<void> {
  const auto tv = to_timeval(options.connect_timeout);
  context_handle ctx{redisConnectWithTimeout(where.host.c_str(), where.port, tv)};
  if (!ctx) return error{error_kind::internal, "redis: out of memory allocating a context", 0, std::string(backend)};
  if (ctx->err != 0) {
    std::string detail = ctx->errstr;
    const bool timeout = detail.find("timed out") != std::string::npos ||
                         detail.find("Resource temporarily unavailable") != std::string::npos;
    return error{error_kind::transient,
                 timeout ? fmt::format("connecting to {}:{}: timed out after {} ms", where.host, where.port,
                                       options.connect_timeout.count())
                         : fmt::format("connecting to {}:{}: {}", where.host, where.port, detail),
                 ctx->err, std::string(backend)};
  }
  redisEnableKeepAlive(ctx.get());
  redisSetTimeout(ctx.get(), tv);
  const auto step = [&](std::vector<std::string> args, std::string_view what) -> result<void> {
    auto r = run_argv(ctx.get(), args);
    if (!r) {
      std::string detail = ctx->errstr;
      const bool timeout = ctx->err == REDIS_ERR_IO && (detail.find("timed out") != std::string::npos ||
                                                       detail.find("Resource temporarily unavailable") != std::string::npos);
      return error{error_kind::transient,
                   timeout ? fmt::format("{} on {}:{}: no reply within {} ms (is the server paused or overloaded?)", what,
                                         where.host, where.port, options.connect_timeout.count())
                           : fmt::format("{} on {}:{}: {}", what, where.host, where.port, detail),
                   ctx->err, std::string(backend)};
    }
    if (r->type == REDIS_REPLY_ERROR) {
      auto e = reply_error(std::string_view(r->str, r->len));
      e.message = fmt::format("{} on {}:{}: {}", what, where.host, where.port, e.message);
      return e;
    }
    return ok();
  };
  if (!where.password.empty()) {
    auto auth = where.user.empty() ? step({"AUTH", where.password}, "AUTH")
                                   : step({"AUTH", where.user, where.password}, "AUTH");
    if (!auth) {
      auto e = std::move(auth).error();
      if (e.kind != error_kind::transient) {
        e.kind = error_kind::permanent;  // a wrong password does not get better by retrying
        if (e.message.find("authentication failed") == std::string::npos) e.message = "authentication failed: " + e.message;
      }
      return e;
    }
  }
  if (where.db != 0) {
    if (auto s = step({"SELECT", std::to_string(where.db)}, "SELECT"); !s) return s;
  } else {
    // Proves the server answers (a paused server accepts TCP connections but never replies),
    // and reports NOAUTH now rather than on the first command.
    if (auto p = step({"PING"}, "PING"); !p) {
      auto e = std::move(p).error();
      if (e.message.find("authentication failed") != std::string::npos) e.kind = error_kind::permanent;
      return e;
    }
  }
  redisSetTimeout(ctx.get(), to_timeval(options.command_timeout));
  out = std::move(ctx);
  return ok();
}

// One server: a cluster node, or the one standalone server, and the client's connection to
// it, opened on first use and dropped after a connection error.
struct node {
  std::string host;
  std::uint16_t port = 0;
  context_handle ctx;
};

// A slot whose master the map does not know: its commands go to the node connected first.
constexpr std::uint16_t unknown_node = 0xffff;

}  // namespace

namespace {

// The words of the error replies a server gives while it is away for a while: loading its
// dataset after a restart, running a long script, failing over, migrating slots.
constexpr std::string_view outage_replies[] = {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN"};

// Whether `e` says the server is away (worth waiting out) rather than answering: a connection
// error (hiredis's code), or one of the replies above, alone or after open_context's "PING on
// host:port: ".
auto is_outage(const error& e) -> bool {
  if (e.kind != error_kind::transient) return false;
  if (e.native_code != 0) return true;
  const std::string_view m = e.message;
  return std::any_of(std::begin(outage_replies), std::end(outage_replies), [&](std::string_view word) {
    const auto at = m.find(word);
    return at != std::string_view::npos && (at == 0 || m.substr(0, at).ends_with(": ")) &&
           (at + word.size() == m.size() || m[at + word.size()] == ' ');
  });
}

}  // namespace

struct client::state {
  explicit state(uri server)
      : away(fmt::format("redis: {}:{}", server.host, server.port)), where(std::move(server)) {
    nodes.push_back(node{where.host, where.port, {}});
  }

  pipeline::detail::outage_watch away;        // its own lock: tries take `mutex` one at a time, waits take none
  std::mutex mutex;
  uri where;                        // the node connect() was given; its AUTH and db serve every node
  std::vector<node> nodes;          // [0] is that node; cluster masters are added as the slot map names them
  std::vector<std::uint16_t> slots;  // on a cluster, slot → index in nodes; empty on a standalone server
  bool map_stale = false;            // a cluster node stopped answering: a replica may hold its slots now

  auto node_index(std::string_view host, std::uint16_t port) -> std::size_t {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].host == host && nodes[i].port == port) return i;
    }
    nodes.push_back(node{std::string(host), port, {}});
    return nodes.size() - 1;
  }

  // The node a command goes to: the master of its key's slot on a cluster, else the first.
  [[nodiscard]] auto route(std::span<const std::string> args) const -> std::size_t {
    if (slots.empty()) return 0;
    const auto key = detail::command_key(args);
    if (!key) return 0;
    const auto owner = slots[detail::key_slot(*key)];
    return owner == unknown_node ? 0 : owner;
  }
  [[nodiscard]] auto route(std::span<const std::vector<std::string>> commands) const -> std::size_t {
    for (const auto& args : commands) {
      if (detail::command_key(args)) return route(args);
    }
    return 0;
  }

  auto connection(std::size_t i, const connection_options& options) -> result<redisContext*> {
    auto& n = nodes[i];
    if (!n.ctx) {
      uri at = where;
      at.host = n.host;
      at.port = n.port;
      if (auto opened = open_context(at, options, n.ctx); !opened) {
        if (!slots.empty()) map_stale = true;
        return std::move(opened).error();
      }
      options.log.info("redis: connected to {}:{}", n.host, n.port);
    }
    return n.ctx.get();
  }

  // The error a failed call left on node i's context; the context is dropped (hiredis cannot
  // use it again), so the next call to that node reconnects.
  auto connection_error(std::size_t i, std::string_view doing, std::chrono::milliseconds timeout) -> error {
    auto& n = nodes[i];
    const int code = n.ctx ? n.ctx->err : REDIS_ERR_OTHER;
    std::string detail = n.ctx ? std::string(n.ctx->errstr) : std::string("no connection");
    std::string message;
    if (code == REDIS_ERR_IO && (detail.find("timed out") != std::string::npos ||
                                 detail.find("Resource temporarily unavailable") != std::string::npos)) {
      message = fmt::format("{} {}:{}: timed out after {} ms", doing, n.host, n.port, timeout.count());
    } else if (code == REDIS_ERR_EOF) {
      message = fmt::format("{} {}:{}: connection lost ({})", doing, n.host, n.port, detail);
    } else {
      message = fmt::format("{} {}:{}: {}", doing, n.host, n.port, detail);
    }
    n.ctx.reset();
    if (!slots.empty()) map_stale = true;
    return error{code == REDIS_ERR_PROTOCOL ? error_kind::internal : error_kind::transient, std::move(message), code,
                 std::string(backend)};
  }

  // Reads the slot map (CLUSTER SLOTS: ranges and their master) from node i. A standalone
  // server answers with an error reply, returned as it is, and `slots` stays as it was.
  auto read_slots(std::size_t i, const connection_options& options) -> result<void> {
    auto ctx = connection(i, options);
    if (!ctx) return std::move(ctx).error();
    static const std::string cluster_slots[] = {"CLUSTER", "SLOTS"};
    const auto r = run_argv(*ctx, cluster_slots);
    if (!r) return connection_error(i, "CLUSTER SLOTS", options.command_timeout);
    if (r->type == REDIS_REPLY_ERROR) return reply_error(std::string_view(r->str, r->len));
    if (r->type != REDIS_REPLY_ARRAY) return internal_error("redis: CLUSTER SLOTS did not answer an array");
    const std::string asked = nodes[i].host;  // a copy: node_index may grow `nodes`
    std::vector<std::uint16_t> map(detail::slot_count, unknown_node);
    for (std::size_t e = 0; e < r->elements; ++e) {
      const auto* range = r->element[e];
      if (range->type != REDIS_REPLY_ARRAY || range->elements < 3) continue;
      const auto* first = range->element[0];
      const auto* last = range->element[1];
      const auto* master = range->element[2];
      if (first->type != REDIS_REPLY_INTEGER || last->type != REDIS_REPLY_INTEGER || first->integer < 0 ||
          last->integer >= detail::slot_count || first->integer > last->integer || master->type != REDIS_REPLY_ARRAY ||
          master->elements < 2 || master->element[0]->type != REDIS_REPLY_STRING ||
          master->element[1]->type != REDIS_REPLY_INTEGER || master->element[1]->integer <= 0 ||
          master->element[1]->integer > 65535) {
        continue;
      }
      std::string_view host(master->element[0]->str, master->element[0]->len);
      if (host.empty() || host == "?") host = asked;  // an unknown endpoint: the node we asked
      const auto owner = static_cast<std::uint16_t>(node_index(host, static_cast<std::uint16_t>(master->element[1]->integer)));
      std::fill(map.begin() + first->integer, map.begin() + last->integer + 1, owner);
    }
    slots = std::move(map);
    return ok();
  }

  // After a node stopped answering, the map is read again from the first node that answers:
  // a failover promotes a replica, and only the map names it (the dead master sends no MOVED).
  void refresh_stale_map(const connection_options& options) {
    if (!map_stale) return;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (read_slots(i, options)) {
        map_stale = false;
        return;
      }
    }
    options.log.debug("redis: no cluster node answered CLUSTER SLOTS; the slot map is kept");
  }

  // A MOVED reply: `slot` is on node `owner` now. The rest of the map is read again from that
  // node (a resharding moves more than one slot), as far as it answers.
  void moved(std::uint16_t slot, std::size_t owner, const connection_options& options) {
    options.log.debug("redis: slot {} moved to {}:{}", slot, nodes[owner].host, nodes[owner].port);
    if (auto refreshed = read_slots(owner, options); !refreshed) {  // may add nodes: no references across it
      options.log.debug("redis: re-reading the slot map from {}:{}: {}", nodes[owner].host, nodes[owner].port,
                        refreshed.error().message);
    }
    if (slots.empty()) slots.assign(detail::slot_count, unknown_node);
    slots[slot] = static_cast<std::uint16_t>(owner);  // what MOVED said wins over a map that lags it
  }
};

client::client(connection_options options, uri where)
    : options_(std::move(options)), state_(std::make_unique<state>(std::move(where))) {}

client::~client() = default;

template <class Attempt>
auto client::ride_out(const std::stop_token& stop, Attempt attempt) -> decltype(attempt()) {
  return pipeline::detail::wait_out(state_->away, options_.outage_budget, options_.reconnect, options_.log, stop, attempt,
                          is_outage);
}

auto client::connect(connection_options options, std::stop_token stop) -> result<std::shared_ptr<client>> {
  auto where = parse_uri(options.uri);
  if (!where) throw std::invalid_argument(fmt::format("pipeline::redis::client: {}", where.error().message));
  if (options.connect_timeout.count() <= 0) throw std::invalid_argument("pipeline::redis::client: connect_timeout must be positive");
  if (options.command_timeout.count() <= 0) throw std::invalid_argument("pipeline::redis::client: command_timeout must be positive");
  if (options.outage_budget.count() < 0) throw std::invalid_argument("pipeline::redis::client: outage_budget is negative");
  validate(options.reconnect);
  std::shared_ptr<client> c{new client(std::move(options), std::move(*where))};
  auto connected = c->ride_out(stop, [&]() -> result<void> {
    auto& s = *c->state_;
    std::scoped_lock lock{s.mutex};
    if (auto opened = open_context(s.where, c->options_, s.nodes.front().ctx); !opened) return opened;
    // A cluster node answers CLUSTER SLOTS with its map; a standalone server with an error, and
    // the client then talks to that one server only.
    if (auto discovered = s.read_slots(0, c->options_); discovered) {
      c->options_.log.debug("redis: {}:{} is a cluster node; {} masters hold the slots", s.where.host, s.where.port,
                            s.nodes.size());
    } else if (!s.nodes.front().ctx || is_outage(discovered.error())) {
      s.nodes.front().ctx.reset();
      return discovered;  // the connection failed, or the server is loading
    }
    return ok();
  });
  if (!connected) return std::move(connected).error();
  return c;
}

auto client::command(std::initializer_list<std::string_view> args, std::stop_token stop) -> result<reply> {
  std::vector<std::string> owned(args.begin(), args.end());
  return command(std::span<const std::string>{owned}, std::move(stop));
}

auto client::command(std::span<const std::string> args, std::stop_token stop) -> result<reply> {
  return blocking_command(args, std::chrono::milliseconds{0}, std::move(stop));
}

auto client::blocking_command(std::span<const std::string> args, std::chrono::milliseconds wait, std::stop_token stop)
    -> result<reply> {
  return ride_out(stop, [&] { return blocking_command_once(args, wait); });
}

auto client::blocking_command_once(std::span<const std::string> args, std::chrono::milliseconds wait) -> result<reply> {
  std::scoped_lock lock{state_->mutex};
  auto& s = *state_;
  const auto timeout = options_.command_timeout + wait;
  const std::string_view name = args.empty() ? std::string_view{"command"} : std::string_view{args.front()};
  s.refresh_stale_map(options_);
  std::size_t at = s.route(args);
  bool asking = false;
  std::vector<reply_handle> replies;
  std::string redirects;  // every answer that sent the command on, for the message when they run out
  for (int hop = 0;; ++hop) {
    auto ctx = s.connection(at, options_);
    if (!ctx) return std::move(ctx).error();
    if (wait.count() > 0) redisSetTimeout(*ctx, to_timeval(timeout));
    // After ASK: ASKING and the command, in one round trip, on the importing node.
    const std::span<const std::string> both[] = {asking_command(), args};
    if (!round_trip(*ctx, std::span{both}.subspan(asking ? 0 : 1), replies)) return s.connection_error(at, name, timeout);
    if (wait.count() > 0) redisSetTimeout(*ctx, to_timeval(options_.command_timeout));
    const auto* r = replies.back().get();
    if (r->type != REDIS_REPLY_ERROR) return convert(r);
    const std::string_view message(r->str, r->len);
    auto to = parse_redirect(message);
    if (!to) return reply_error(message);
    redirects += fmt::format("{}{}:{} answered {}", redirects.empty() ? "" : "; ", s.nodes[at].host, s.nodes[at].port,
                             message);
    if (hop == max_redirects) return transient_error(fmt::format("redis: {}: too many redirects ({})", name, redirects));
    at = s.node_index(to->host, to->port);
    asking = to->ask;
    if (asking) {
      options_.log.debug("redis: {} asked to {}:{} (slot {} migrating)", name, to->host, to->port, to->slot);
    } else {
      s.moved(to->slot, at, options_);
    }
  }
}

namespace {

// For each command of a pipeline, the index of the MULTI whose transaction it belongs to
// (MULTI itself and its EXEC or DISCARD included); npos outside transactions.
auto transactions(std::span<const std::vector<std::string>> commands) -> std::vector<std::size_t> {
  std::vector<std::size_t> out(commands.size(), std::string::npos);
  std::size_t open = std::string::npos;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const std::string_view name = commands[i].empty() ? std::string_view{} : std::string_view{commands[i].front()};
    if (detail::slot_internal::iequals(name, "MULTI")) {
      open = i;
      out[i] = i;
    } else if (open != std::string::npos) {
      out[i] = open;
      if (detail::slot_internal::iequals(name, "EXEC") || detail::slot_internal::iequals(name, "DISCARD")) {
        open = std::string::npos;
      }
    }
  }
  return out;
}

}  // namespace

auto client::pipeline(std::span<const std::vector<std::string>> commands, std::stop_token stop)
    -> result<std::vector<reply>> {
  return ride_out(stop, [&] { return pipeline_once(commands); });
}

auto client::pipeline_once(std::span<const std::vector<std::string>> commands) -> result<std::vector<reply>> {
  std::scoped_lock lock{state_->mutex};
  auto& s = *state_;
  const auto in = transactions(commands);
  std::vector<reply> out(commands.size());
  std::vector<std::size_t> pending(commands.size());  // the commands (indices) to send this round
  for (std::size_t i = 0; i < pending.size(); ++i) pending[i] = i;
  s.refresh_stale_map(options_);
  std::size_t at = s.route(commands);
  bool asking = false;
  std::vector<std::span<const std::string>> sent;
  std::vector<std::size_t> sent_for;  // the index in `out` of each sent command's reply; npos for ASKING
  std::vector<reply_handle> replies;
  std::string redirects;  // every hop that sent commands on, for the message when they run out
  for (int hop = 0;; ++hop) {
    auto ctx = s.connection(at, options_);
    if (!ctx) return std::move(ctx).error();
    sent.clear();
    sent_for.clear();
    for (const auto i : pending) {
      // After ASK each command is preceded by ASKING; a transaction only by one before MULTI
      // (it holds until EXEC).
      if (asking && (in[i] == std::string::npos || in[i] == i)) {
        sent.push_back(asking_command());
        sent_for.push_back(std::string::npos);
      }
      sent.emplace_back(commands[i]);
      sent_for.push_back(i);
    }
    if (!round_trip(*ctx, sent, replies)) return s.connection_error(at, "pipeline", options_.command_timeout);
    for (std::size_t k = 0; k < replies.size(); ++k) {
      if (sent_for[k] != std::string::npos) out[sent_for[k]] = convert(replies[k].get());
    }
    // The redirected commands did not run; the others did and keep their replies.
    std::optional<redirect> to;
    std::vector<bool> again(commands.size(), false);
    for (const auto i : pending) {
      if (out[i].kind != reply::type::error) continue;
      if (auto r = parse_redirect(out[i].str)) {
        if (!to) to = std::move(r);
        again[i] = true;
      }
    }
    if (!to) return out;
    redirects += fmt::format("{}{}:{} sent to {}:{}", redirects.empty() ? "" : "; ", s.nodes[at].host, s.nodes[at].port,
                             to->host, to->port);
    if (hop == max_redirects) return transient_error(fmt::format("redis: pipeline: too many redirects ({})", redirects));
    // A transaction runs whole on one node: one whose queued commands were all redirected was
    // aborted (EXECABORT) and is sent again whole; one that a migration split cannot be.
    for (const auto i : pending) {
      if (!again[i] || in[i] == std::string::npos) continue;
      for (const auto j : pending) {
        if (in[j] != in[i]) continue;
        const bool queued = j != in[i] && !(j + 1 == commands.size() || in[j + 1] != in[i]);
        const bool closes = j != in[i] && !queued;  // EXEC, DISCARD, or the pipeline's end
        if (queued && !again[j]) {
          return transient_error(fmt::format("redis: pipeline: slot {} is migrating and a transaction's keys are on "
                                             "two nodes; try again", to->slot));
        }
        if (j == in[i] || closes) again[j] = true;
      }
    }
    pending.clear();
    for (std::size_t i = 0; i < commands.size(); ++i) {
      if (again[i]) pending.push_back(i);
    }
    at = s.node_index(to->host, to->port);
    asking = to->ask;
    if (asking) {
      options_.log.debug("redis: pipeline asked to {}:{} (slot {} migrating)", to->host, to->port, to->slot);
    } else {
      s.moved(to->slot, at, options_);
    }
  }
}

auto client::eval(std::string_view script, std::span<const std::string> keys, std::span<const std::string> args,
                  std::stop_token stop) -> result<reply> {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.emplace_back("EVAL");
  argv.emplace_back(script);
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return command(std::span<const std::string>{argv}, std::move(stop));
}

auto check_maxmemory_policy(client& c, const logger& log) -> result<std::string> {
  auto r = c.command({"CONFIG", "GET", "maxmemory-policy"});
  if (!r) {
    if (r.error().kind == error_kind::transient) return std::move(r).error();
    log.warn("redis: cannot read maxmemory-policy ({}); make sure it is noeviction, or Redis may evict queue entries",
             r.error().message);
    return std::string{};
  }
  std::string policy = r->elements.size() == 2 ? r->elements[1].str : std::string{};
  if (policy != "noeviction") {
    log.warn("redis: maxmemory-policy is '{}', not 'noeviction': under memory pressure Redis may evict queue "
             "entries and checkpoints, and records would be lost. Set maxmemory-policy noeviction.",
             policy);
  }
  return policy;
}

}  // namespace pipeline::redis
