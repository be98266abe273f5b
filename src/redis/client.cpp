// The one place hiredis is used: connecting, timeouts, reply conversion and error mapping.
#include <pipeline/redis/client.hpp>

#include <hiredis.h>
#include <sys/time.h>

#include <cerrno>
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
  for (auto transient : {"LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN", "READONLY", "OOM"}) {
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

struct client::state {
  std::mutex mutex;
  uri where;
  context_handle ctx;

  // The error a failed call left on the context; the context is dropped (hiredis cannot use
  // it again), so the next call reconnects.
  auto connection_error(std::string_view doing, std::chrono::milliseconds timeout) -> error {
    const int code = ctx ? ctx->err : REDIS_ERR_OTHER;
    std::string detail = ctx ? std::string(ctx->errstr) : std::string("no connection");
    std::string message;
    if (code == REDIS_ERR_IO && (detail.find("timed out") != std::string::npos ||
                                 detail.find("Resource temporarily unavailable") != std::string::npos)) {
      message = fmt::format("{} {}:{}: timed out after {} ms", doing, where.host, where.port, timeout.count());
    } else if (code == REDIS_ERR_EOF) {
      message = fmt::format("{} {}:{}: connection lost ({})", doing, where.host, where.port, detail);
    } else {
      message = fmt::format("{} {}:{}: {}", doing, where.host, where.port, detail);
    }
    ctx.reset();
    return error{code == REDIS_ERR_PROTOCOL ? error_kind::internal : error_kind::transient, std::move(message), code,
                 std::string(backend)};
  }
};

client::client(connection_options options, uri where) : options_(std::move(options)), state_(std::make_unique<state>()) {
  state_->where = std::move(where);
}

client::~client() = default;

namespace {

// Runs one command on a connected context: nullptr when the connection failed.
auto run_argv(redisContext* ctx, std::span<const std::string> args) -> reply_handle {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return reply_handle{static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data()))};
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

}  // namespace

auto client::connect(connection_options options) -> result<std::shared_ptr<client>> {
  auto where = parse_uri(options.uri);
  if (!where) throw std::invalid_argument(fmt::format("pipeline::redis::client: {}", where.error().message));
  if (options.connect_timeout.count() <= 0) throw std::invalid_argument("pipeline::redis::client: connect_timeout must be positive");
  if (options.command_timeout.count() <= 0) throw std::invalid_argument("pipeline::redis::client: command_timeout must be positive");
  std::shared_ptr<client> c{new client(std::move(options), std::move(*where))};
  std::scoped_lock lock{c->state_->mutex};
  if (auto opened = open_context(c->state_->where, c->options_, c->state_->ctx); !opened) return std::move(opened).error();
  return c;
}

auto client::command(std::initializer_list<std::string_view> args) -> result<reply> {
  std::vector<std::string> owned(args.begin(), args.end());
  return command(std::span<const std::string>{owned});
}

auto client::command(std::span<const std::string> args) -> result<reply> {
  return blocking_command(args, std::chrono::milliseconds{0});
}

auto client::blocking_command(std::span<const std::string> args, std::chrono::milliseconds wait) -> result<reply> {
  std::scoped_lock lock{state_->mutex};
  auto& s = *state_;
  const auto timeout = options_.command_timeout + wait;
  for (int hop = 0;; ++hop) {
    if (!s.ctx) {
      if (auto opened = open_context(s.where, options_, s.ctx); !opened) return std::move(opened).error();
      options_.log.info("redis: connected to {}:{}", s.where.host, s.where.port);
    }
    if (wait.count() > 0) redisSetTimeout(s.ctx.get(), to_timeval(timeout));
    auto r = run_argv(s.ctx.get(), args);
    if (!r) return s.connection_error(args.empty() ? "command" : args.front(), timeout);
    if (wait.count() > 0) redisSetTimeout(s.ctx.get(), to_timeval(options_.command_timeout));
    if (r->type != REDIS_REPLY_ERROR) return convert(r.get());
    const std::string_view message(r->str, r->len);
    auto to = parse_redirect(message);
    if (!to || hop == max_redirects) return reply_error(message);
    uri target = s.where;
    target.host = to->host;
    target.port = to->port;
    if (!to->ask) {
      // The slot lives on another node now: talk to that one from here on (the keys of one
      // queue or store share a hash tag, so one client keeps finding them there).
      options_.log.debug("redis: {} moved to {}:{}", args.empty() ? "" : args.front(), to->host, to->port);
      s.where = std::move(target);
      s.ctx.reset();
      continue;
    }
    // ASK: this command only, on the importing node, preceded by ASKING.
    context_handle once;
    if (auto opened = open_context(target, options_, once); !opened) return std::move(opened).error();
    const std::vector<std::string> asking{"ASKING"};
    auto a = run_argv(once.get(), asking);
    auto answer = a ? run_argv(once.get(), args) : reply_handle{};
    if (!answer) {
      return error{error_kind::transient, fmt::format("following ASK to {}:{}: {}", target.host, target.port, once->errstr),
                   once->err, std::string(backend)};
    }
    if (answer->type == REDIS_REPLY_ERROR) return reply_error(std::string_view(answer->str, answer->len));
    return convert(answer.get());
  }
}

auto client::pipeline(std::span<const std::vector<std::string>> commands) -> result<std::vector<reply>> {
  std::scoped_lock lock{state_->mutex};
  auto& s = *state_;
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (int hop = 0;; ++hop) {
    if (!s.ctx) {
      if (auto opened = open_context(s.where, options_, s.ctx); !opened) return std::move(opened).error();
      options_.log.info("redis: connected to {}:{}", s.where.host, s.where.port);
    }
    for (const auto& args : commands) {
      argv.clear();
      lens.clear();
      for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      if (redisAppendCommandArgv(s.ctx.get(), static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
        return s.connection_error("pipeline", options_.command_timeout);
      }
    }
    std::vector<reply> out;
    out.reserve(commands.size());
    std::optional<redirect> moved;
    for (std::size_t i = 0; i < commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(s.ctx.get(), &raw) != REDIS_OK || raw == nullptr) {
        return s.connection_error("pipeline", options_.command_timeout);
      }
      reply_handle r{static_cast<redisReply*>(raw)};
      out.push_back(convert(r.get()));
      if (out.back().kind == reply::type::error && !moved) moved = parse_redirect(out.back().str);
    }
    if (!moved) return out;
    // The commands of a pipeline share one slot (the callers' keys share a hash tag), so a
    // redirect means none of them ran there: send them all to the node that has the slot.
    if (moved->ask) return transient_error(fmt::format("redis: slot migrating to {}:{}; try again", moved->host, moved->port));
    if (hop == max_redirects) return transient_error("redis: too many MOVED redirects");
    s.where.host = moved->host;
    s.where.port = moved->port;
    s.ctx.reset();
  }
}

auto client::eval(std::string_view script, std::span<const std::string> keys, std::span<const std::string> args)
    -> result<reply> {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.emplace_back("EVAL");
  argv.emplace_back(script);
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return command(std::span<const std::string>{argv});
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
