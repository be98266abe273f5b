#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/backoff.hpp>
#include <pipeline/log.hpp>
#include <pipeline/detail/outage.hpp>
#include <pipeline/result.hpp>

namespace pipeline::redis {

/// The parts of a `redis://[user:password@]host:port/db` URI.
struct uri {
  std::string host;
  std::uint16_t port = 6379;
  std::string user;      ///< empty: AUTH with the password only (the `default` user)
  std::string password;  ///< empty: no AUTH
  std::int64_t db = 0;   ///< SELECTed after connecting

  friend auto operator==(const uri&, const uri&) -> bool = default;
};

/// Parses `redis://[user:password@]host[:port][/db]`; user and password may be %-encoded.
/// A malformed URI (another scheme, a bad port or db, an empty host) is an `invalid_input`
/// error naming the problem; the password never appears in the message.
[[nodiscard]] auto parse_uri(std::string_view text) -> result<uri>;

/// How a client connects: where, how long it waits for a reply, and how long it waits out an
/// outage (a restart, a failover, a server loading its dataset) before giving up.
struct connection_options {
  std::string uri{"redis://127.0.0.1:6379/0"};
  std::chrono::milliseconds connect_timeout{2000};  ///< TCP connect, and AUTH/SELECT after it
  std::chrono::milliseconds command_timeout{5000};  ///< each reply (a blocking read adds its own wait)
  /// How long a call keeps trying while the server is away (see `client`): from the first
  /// failure of an outage, whichever call saw it. 0: never wait, the first failure is the error.
  std::chrono::milliseconds outage_budget{pipeline::detail::default_outage_budget};
  /// The waits between tries during an outage (`max_attempts` and `max_elapsed` are not used:
  /// `outage_budget` ends the waiting).
  backoff_options reconnect{pipeline::detail::default_reconnect_backoff};
  logger log{};
};

/// A reply from Redis, as a value (hiredis's `redisReply` stays inside src/redis/).
struct reply {
  enum class type : std::uint8_t { nil, string, status, integer, array, error };
  type kind = type::nil;
  std::string str;            ///< string, status and error replies
  std::int64_t integer = 0;   ///< integer replies
  std::vector<reply> elements;  ///< array replies

  [[nodiscard]] auto is_nil() const noexcept -> bool { return kind == type::nil; }
};

/// A connection to one Redis server, or one per master of a Redis Cluster, reconnected on demand.
///
/// Thread-safe: every call holds the client for its whole round trip (redirects included), so concurrent
/// callers are served one after another (use one client per thread that blocks, such as a
/// stream reader). Blocking, bounded by the timeouts: nothing waits forever on a server that
/// stopped answering.
///
/// Outages are waited out: a refused or timed-out connect, a timed-out reply, a lost connection,
/// and the replies LOADING, BUSY, TRYAGAIN, MASTERDOWN and CLUSTERDOWN (the server is
/// restarting, loading its dataset, running a long script, failing over) make the call connect
/// and send again, with backoff (`connection_options::reconnect`), until it succeeds or the
/// outage has lasted `outage_budget`; a call's `stop` ends the wait (`stopped`). The client logs
/// a warning when an outage starts ("unavailable …, waiting up to …") and when the server is
/// back ("… is back after 3.2 s"). The outage is the client's, not the call's: once its budget
/// is spent, each call tries once and fails at once, until one succeeds. Only then is it an
/// error: `transient`, naming how long the server was away and the last failure.
///
/// A command whose reply was lost (the connection broke after it was sent) is sent again: it
/// may run twice. What that means per command is the caller's to make harmless; this library's
/// own are (docs/adapters/redis.md): XACK, HSET, SET, DEL and XGROUP CREATE are idempotent;
/// XREADGROUP's lost entries stay pending and are reclaimed after the visibility timeout;
/// XAUTOCLAIM counts one more delivery; the producer's XADD, the checkpoint save and the DLQ
/// write are scripts that recognise their own repeat. A user's INCR or XADD with `*` may count
/// or add twice: make it idempotent or set `outage_budget` to 0.
///
/// Errors once waiting is over: a refused or timed-out connect, a timed-out reply and a lost
/// connection are `transient` (the connection is dropped and the next call connects again).
/// Error replies are classified: LOADING, BUSY, TRYAGAIN, MASTERDOWN, CLUSTERDOWN, READONLY,
/// OOM, UNBLOCKED (a blocking read whose stream was deleted, as a migration does) → `transient`;
/// NOAUTH, WRONGPASS and other AUTH failures → `permanent` ("authentication failed…");
/// WRONGTYPE and the rest → `permanent`; syntax and argument errors → `invalid_input`.
/// `native_code` is hiredis's error code for connection errors, 0 for error replies;
/// `backend` is "redis".
///
/// Redis Cluster: `connect` asks the node it is given for the slot map (`CLUSTER SLOTS`; a
/// standalone server refuses, and the client then talks to that one server only). Each
/// command goes to the master of its key's slot (CRC16 of the key or of its `{hash tag}`, mod
/// 16384), over a connection per node opened on first use; the key is args[1], the first key
/// of EVAL/EVALSHA, the first stream after STREAMS of XREAD/XREADGROUP, args[2] of XGROUP and
/// XINFO. Commands without a key (PING, INFO, CONFIG, CLUSTER, SCRIPT, MIGRATE, EVAL with no
/// key, …) go to the node `connect` was given. A `MOVED` reply (the command did not run)
/// re-reads the slot map from the node it names and resends the command there; an `ASK` reply
/// (the slot is migrating) sends ASKING and the command to the importing node, once, leaving
/// the map as it is. At most 5 redirects per call, then a `transient` error; TRYAGAIN (a
/// multi-key command during a migration) is `transient` too. After a connection error on a
/// cluster node, the next call first re-reads the map from the first node that answers, so
/// once a failover has promoted a replica, a retry reaches it.
///
/// The commands of one `pipeline` must share a slot (keys under one hash tag). Under `MOVED`
/// they are all resent to the new master; under `ASK`, the commands that were asked away are
/// resent, in order, each after ASKING, to the importing node and their replies take their
/// places; a MULTI…EXEC block is resent whole, and is a `transient` error when a migration has
/// left its keys on two nodes.
///
///     auto c = pipeline::redis::client::connect({.uri = "redis://:secret@127.0.0.1:6379/2"}).value();
///     auto n = c->command({"INCR", "visits"});   // reply{integer}
class client {
 public:
  /// Connects, authenticates and selects the db, waiting out an outage as the class comment
  /// says (a server that is down or loading at start is waited for). Throws
  /// std::invalid_argument when the URI is malformed, a timeout is not positive, the budget is
  /// negative or `reconnect` describes no schedule.
  [[nodiscard]] static auto connect(connection_options options, std::stop_token stop = {})
      -> result<std::shared_ptr<client>>;

  client(const client&) = delete;
  auto operator=(const client&) -> client& = delete;
  ~client();

  /// Sends one command (binary-safe arguments) and returns its reply; an error reply is an error.
  [[nodiscard]] auto command(std::span<const std::string> args, std::stop_token stop = {}) -> result<reply>;
  [[nodiscard]] auto command(std::initializer_list<std::string_view> args, std::stop_token stop = {}) -> result<reply>;

  /// A command whose server side may block up to `wait` (XREADGROUP … BLOCK): the reply
  /// timeout is `wait` plus the command timeout.
  [[nodiscard]] auto blocking_command(std::span<const std::string> args, std::chrono::milliseconds wait,
                                      std::stop_token stop = {}) -> result<reply>;

  /// Sends all commands in one round trip and returns every reply in order; error replies are
  /// returned as `reply::type::error` elements, not as an error (only the connection can fail).
  /// After a lost connection the whole pipeline is sent again (the commands before the break
  /// may run twice).
  [[nodiscard]] auto pipeline(std::span<const std::vector<std::string>> commands, std::stop_token stop = {})
      -> result<std::vector<reply>>;

  /// Runs a Lua script (EVAL) with `keys` and `args`.
  [[nodiscard]] auto eval(std::string_view script, std::span<const std::string> keys, std::span<const std::string> args,
                          std::stop_token stop = {}) -> result<reply>;

  [[nodiscard]] auto options() const noexcept -> const connection_options& { return options_; }

 private:
  struct state;
  client(connection_options options, uri where);
  // Runs `attempt` (one try, under the client's lock) until it succeeds, fails for another
  // reason than an outage, the outage budget is spent or `stop` fires.
  template <class Attempt>
  auto ride_out(const std::stop_token& stop, Attempt attempt) -> decltype(attempt());
  auto blocking_command_once(std::span<const std::string> args, std::chrono::milliseconds wait) -> result<reply>;
  auto pipeline_once(std::span<const std::vector<std::string>> commands) -> result<std::vector<reply>>;

  connection_options options_;
  std::unique_ptr<state> state_;
};

/// The error an error reply stands for, classified as `client` describes.
[[nodiscard]] auto reply_error(std::string_view message) -> error;

/// Reads `CONFIG GET maxmemory-policy` and warns on `log` unless it is `noeviction` (Redis may
/// otherwise evict queue entries and lose records). Returns the policy; a server that refuses
/// CONFIG is a warning too, and an empty policy.
[[nodiscard]] auto check_maxmemory_policy(client& c, const logger& log) -> result<std::string>;

}  // namespace pipeline::redis
