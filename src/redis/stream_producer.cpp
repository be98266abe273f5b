#include <pipeline/redis/stream_producer.hpp>

#include <algorithm>
#include <cstdint>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "fields.hpp"
#include "stream_common.hpp"

namespace pipeline::redis {
namespace detail {

auto ensure_group(client& c, const stream_options& o) -> result<void> {
  auto r = c.command({"XGROUP", "CREATE", o.stream, o.group, "0", "MKSTREAM"});
  if (!r && r.error().message.rfind("BUSYGROUP", 0) != 0) return std::move(r).error();
  return ok();
}

auto read_group(client& c, const stream_options& o) -> result<group_info> {
  auto r = c.command({"XINFO", "GROUPS", o.stream});
  if (!r) return std::move(r).error();
  for (const auto& g : r->elements) {
    const auto* name = field(g.elements, "name");
    if (name == nullptr || *name != o.group) continue;
    group_info info;
    for (std::size_t i = 0; i + 1 < g.elements.size(); i += 2) {
      const auto& k = g.elements[i].str;
      const auto& v = g.elements[i + 1];
      if (k == "pending") info.depth.pending = static_cast<std::uint64_t>(v.integer);
      else if (k == "last-delivered-id") info.last_delivered = v.str;
      else if (k == "lag") {
        if (v.is_nil()) {
          auto len = c.command({"XLEN", o.stream});
          if (!len) return std::move(len).error();
          info.depth.lag = static_cast<std::uint64_t>(len->integer);
        } else {
          info.depth.lag = static_cast<std::uint64_t>(v.integer);
        }
      }
    }
    return info;
  }
  return not_found_error(fmt::format("stream '{}' has no consumer group '{}'", o.stream, o.group));
}

namespace {

// The stream id right after `id` ("ms-seq" → "ms-(seq+1)"), or nullopt when it does not parse.
auto id_after(const std::string& id) -> std::optional<std::string> {
  const auto dash = id.find('-');
  if (dash == std::string::npos) return std::nullopt;
  auto ms = to_int<std::uint64_t>(std::string_view(id).substr(0, dash));
  auto seq = to_int<std::uint64_t>(std::string_view(id).substr(dash + 1));
  if (!ms || !seq) return std::nullopt;
  return fmt::format("{}-{}", *ms, *seq + 1);
}

}  // namespace

auto trim_acknowledged(client& c, const stream_options& o) -> result<group_info> {
  // The group's last delivered id first, then the oldest pending entry: an entry delivered in
  // between has a larger id than both, so it is never below the MINID.
  auto info = read_group(c, o);
  if (!info) return std::move(info).error();
  auto min_id = id_after(info->last_delivered);
  if (!min_id || info->last_delivered == "0-0") return info;
  auto p = c.command({"XPENDING", o.stream, o.group});
  if (!p) return std::move(p).error();
  if (p->elements.size() >= 2 && p->elements[0].integer > 0 && !p->elements[1].is_nil()) min_id = p->elements[1].str;
  auto t = c.command({"XTRIM", o.stream, "MINID", *min_id});
  if (!t) return std::move(t).error();
  return info;
}

}  // namespace detail

namespace {

// KEYS[1]: the stream, KEYS[2]: this producer's key ("<seq> <last entry id>"); ARGV[1]: the
// sequence number of the first frame, ARGV[2]: max_depth (0: none), ARGV[3…]: the frames.
// Adds the frames whose numbers are above the one the key holds: a call sent again after its
// reply was lost (the client resends during an outage) adds nothing twice. Returns 'full'
// (adding nothing) while the stream holds max_depth entries or more, else one entry id per
// frame (for a frame added before, the last id the key names). The key expires a day after
// the last add (longer than any outage).
constexpr std::string_view add_script = R"lua(
local done = redis.call('GET', KEYS[2])
local last, last_id = 0, ''
if done then
  local space = string.find(done, ' ', 1, true)
  last = tonumber(string.sub(done, 1, space - 1))
  last_id = string.sub(done, space + 1)
end
local first, max_depth = tonumber(ARGV[1]), tonumber(ARGV[2])
local through = first + #ARGV - 3
if through > last and max_depth > 0 and redis.call('XLEN', KEYS[1]) >= max_depth then return 'full' end
local ids = {}
for i = 3, #ARGV do
  if first + i - 3 > last then last_id = redis.call('XADD', KEYS[1], '*', 'b', ARGV[i]) end
  ids[#ids + 1] = last_id
end
if through > last then redis.call('SET', KEYS[2], through .. ' ' .. last_id, 'EX', 86400) end
return ids
)lua";

// The ledger of an exactly-once producer: one hash per job, field "<partition>:<run>:<sequence>:<slice>",
// value "<bytes of start>:<start><end>" (positions are bytes).
auto ledger_field(const committed_batch& e) -> std::string {
  return fmt::format("{}:{}:{}:{}", e.partition, e.run, e.sequence, e.slice);
}

auto ledger_value(const committed_batch& e) -> std::string {
  return fmt::format("{}:{}{}", e.start.bytes().size(), e.start.bytes(), e.end.bytes());
}

auto parse_ledger_entry(std::string_view job, std::string_view field, std::string_view value)
    -> std::optional<committed_batch> {
  committed_batch e;
  e.job = std::string(job);
  std::uint64_t numbers[4] = {};
  for (auto& n : numbers) {
    const auto colon = field.find(':');
    auto parsed = detail::to_int<std::uint64_t>(field.substr(0, colon));
    if (!parsed) return std::nullopt;
    n = *parsed;
    field = colon == std::string_view::npos ? std::string_view{} : field.substr(colon + 1);
  }
  const auto colon = value.find(':');
  auto start_size = detail::to_int<std::size_t>(value.substr(0, colon));
  if (colon == std::string_view::npos || !start_size || *start_size > value.size() - colon - 1) return std::nullopt;
  if (numbers[0] > UINT32_MAX) return std::nullopt;
  e.partition = static_cast<std::uint32_t>(numbers[0]);
  e.run = numbers[1];
  e.sequence = numbers[2];
  e.slice = numbers[3];
  e.start = position{std::string(value.substr(colon + 1, *start_size))};
  e.end = position{std::string(value.substr(colon + 1 + *start_size))};
  return e;
}

// KEYS[1]: the stream, KEYS[2]: the job's ledger; ARGV[1]: the entry's field, ARGV[2]: its
// value, ARGV[3]: max_depth (0: none), ARGV[4…]: the frames. Adds the frames and the entry,
// unless the ledger holds the field: then returns 'held' (same value) or 'conflict' and adds
// nothing; 'full' (adding nothing) while the stream holds max_depth entries or more.
constexpr std::string_view add_committed_script = R"lua(
local held = redis.call('HGET', KEYS[2], ARGV[1])
if held then
  if held == ARGV[2] then return 'held' end
  return 'conflict'
end
local max_depth = tonumber(ARGV[3])
if max_depth > 0 and redis.call('XLEN', KEYS[1]) >= max_depth then return 'full' end
for i = 4, #ARGV do redis.call('XADD', KEYS[1], '*', 'b', ARGV[i]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 'added'
)lua";

// KEYS[1]: the job's ledger; ARGV[1], ARGV[2]: run and sequence. Deletes the entries at or
// below them in (run, sequence) order.
constexpr std::string_view forget_script = R"lua(
local run, sequence = tonumber(ARGV[1]), tonumber(ARGV[2])
local fields = redis.call('HKEYS', KEYS[1])
for _, f in ipairs(fields) do
  local _, r, s = string.match(f, '^(%d+):(%d+):(%d+):')
  r, s = tonumber(r), tonumber(s)
  if r and (r < run or (r == run and s <= sequence)) then redis.call('HDEL', KEYS[1], f) end
end
return #fields
)lua";

// The adds waiting to be sent, and the numbering. One group of adds is on the wire at a time
// (numbers must reach Redis in order): a caller that finds none sends every add waiting, as one
// script (the leader); the others wait for its answer. Only the leader touches the numbering.
struct pending_add {
  std::span<const std::string> frames;
  std::optional<result<std::string>> answer;  // set by the leader, read once `answered`
  bool taken = false;     // in the group on the wire: waits for its answer, whatever its stop
  bool answered = false;  // under the mutex
};

struct add_queue {
  // A failed add whose script may have run (its reply was lost): its numbers and callers'
  // frames, until the next group reads the producer's key and knows.
  struct in_doubt {
    std::uint64_t through = 0;
    std::vector<std::vector<std::string>> frames;
  };
  // The frames of a failed add that did reach the stream: a retry of them adds nothing (and
  // waits for the replicas again).
  struct landed {
    std::vector<std::string> frames;
    std::string id;
  };
  static constexpr std::size_t max_landed = 64;

  void remember_landed(std::vector<std::string> frames, std::string id) {
    landed_adds.push_back({std::move(frames), std::move(id)});
    if (landed_adds.size() > max_landed) landed_adds.pop_front();
  }

  std::mutex mutex;
  std::condition_variable_any answered;
  std::vector<pending_add*> waiting;
  bool sending = false;

  std::string key;  // where Redis keeps the last number done and its entry id
  std::uint64_t next = 1;
  std::optional<in_doubt> doubt;
  std::deque<landed> landed_adds;
};

class stream_producer_backend final : public pipeline::detail::entry_producer_backend {
 public:
  stream_producer_backend(std::shared_ptr<client> c, stream_options options)
      : client_(std::move(c)), options_(std::move(options)) {
    adds_.key = detail::companion_key(options_.stream, "producer:" + detail::unique_name(),
                                      "pipeline::redis::stream_producer");
  }

  auto add(const std::string& frame, std::stop_token stop) -> result<std::string> override {
    return add_numbered(std::span{&frame, 1}, stop);
  }

  auto add_all(std::span<const std::string> frames, std::stop_token stop) -> result<void> override {
    if (frames.empty()) return ok();
    auto added = add_numbered(frames, stop);
    if (!added) return std::move(added).error();
    return ok();
  }

  auto add_committed(std::span<const std::string> frames, const committed_batch& entry, std::stop_token stop)
      -> result<void> override {
    std::vector<std::string> args;
    args.reserve(frames.size() + 3);
    args.push_back(ledger_field(entry));
    args.push_back(ledger_value(entry));
    args.push_back(std::to_string(options_.max_depth));
    args.insert(args.end(), frames.begin(), frames.end());
    const std::vector<std::string> keys{options_.stream, ledger_key(entry.job)};
    auto r = eval_when_room(add_committed_script, keys, args, stop);
    if (!r) return std::move(r).error();
    if (r->str == "conflict") {
      return conflict_error(fmt::format("stream '{}': batch {} of job '{}' is in the ledger with other positions",
                                        options_.stream, args.front(), entry.job));
    }
    return wait_for_replicas(stop);  // a batch the ledger held waits too: its first add may not have
  }

  auto committed(std::string_view job, std::stop_token stop) -> result<std::vector<committed_batch>> override {
    auto r = client_->command({"HGETALL", ledger_key(job)}, stop);
    if (!r) return std::move(r).error();
    std::vector<committed_batch> out;
    for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) {
      auto e = parse_ledger_entry(job, r->elements[i].str, r->elements[i + 1].str);
      if (!e) {
        return permanent_error(fmt::format("stream '{}': ledger entry '{}' of job '{}' does not parse", options_.stream,
                                           r->elements[i].str, job));
      }
      out.push_back(std::move(*e));
    }
    return out;
  }

  auto forget(std::string_view job, std::uint64_t run, std::uint64_t through, std::stop_token stop)
      -> result<void> override {
    const std::vector<std::string> keys{ledger_key(job)};
    const std::vector<std::string> args{std::to_string(run), std::to_string(through)};
    auto r = client_->eval(forget_script, keys, args, stop);
    if (!r) return std::move(r).error();
    return ok();
  }

  auto close() -> result<void> override {
    auto r = client_->command({"SET", options_.stream + ":closed", "1"});
    if (!r) return std::move(r).error();
    return ok();
  }

  auto depth() -> result<stream_depth> {
    auto info = detail::read_group(*client_, options_);
    if (!info) return std::move(info).error();
    return info->depth;
  }

  [[nodiscard]] auto options() const noexcept -> const stream_options& { return options_; }

 private:
  // Runs an add script again, after waiting for room, while it answers 'full'.
  auto eval_when_room(std::string_view script, const std::vector<std::string>& keys,
                      const std::vector<std::string>& args, const std::stop_token& stop) -> result<reply> {
    for (;;) {
      auto r = client_->eval(script, keys, args, stop);
      if (!r || r->kind == reply::type::array || r->str != "full") return r;
      if (auto room = wait_for_room(stop); !room) return std::move(room).error();
    }
  }

  auto wait_for_room(const std::stop_token& stop) -> result<void> {
    // Polls XLEN: acknowledged entries are trimmed by the workers, so the length is the work
    // left (plus at most one trim interval of acknowledged entries).
    std::mutex m;
    std::condition_variable_any cv;
    auto wait = std::chrono::milliseconds{1};
    for (;;) {
      if (stop.stop_requested()) return stopped_error();
      auto len = client_->command({"XLEN", options_.stream}, stop);
      if (!len) return std::move(len).error();
      if (static_cast<std::uint64_t>(len->integer) < options_.max_depth) return ok();
      // Full: trim what the workers have acknowledged (they trim too, but only now and then).
      auto trimmed = detail::trim_acknowledged(*client_, options_);
      if (!trimmed) return std::move(trimmed).error();
      len = client_->command({"XLEN", options_.stream}, stop);
      if (!len) return std::move(len).error();
      if (static_cast<std::uint64_t>(len->integer) < options_.max_depth) return ok();
      std::unique_lock lock{m};
      cv.wait_for(lock, stop, wait, [] { return false; });
      wait = std::min(wait * 2, std::chrono::milliseconds{100});
    }
  }

  auto add_numbered(std::span<const std::string> frames, const std::stop_token& stop) -> result<std::string> {
    pending_add me{frames, std::nullopt, false, false};
    auto& q = adds_;
    std::unique_lock lock{q.mutex};
    q.waiting.push_back(&me);
    while (!me.answered) {
      if (me.taken) {
        q.answered.wait(lock, [&] { return me.answered; });
        continue;
      }
      if (stop.stop_requested()) {
        std::erase(q.waiting, &me);
        return stopped_error();
      }
      if (q.sending) {
        q.answered.wait(lock, stop, [&] { return me.taken || !q.sending; });
        continue;
      }
      q.sending = true;
      auto group = std::exchange(q.waiting, {});
      for (auto* p : group) p->taken = true;
      lock.unlock();
      send_group(group, me, stop);
      lock.lock();
      for (auto* p : group) p->answered = true;
      q.sending = false;
      q.answered.notify_all();
    }
    return std::move(*me.answer);
  }

  void send_group(std::span<pending_add* const> group, const pending_add& leader, const std::stop_token& stop) {
    auto& q = adds_;
    const auto answer_all = [&](std::span<pending_add* const> callers, const error& e) {
      for (auto* p : callers) {
        // Only the leader's stop ends a group: the others were not stopped and may try again.
        if (e.kind == error_kind::stopped && p != &leader) {
          p->answer.emplace(
              transient_error(fmt::format("stream '{}': the add it was sent with was stopped", options_.stream)));
        } else {
          p->answer.emplace(e);
        }
      }
    };
    if (q.doubt) {
      if (auto known = resolve_doubt(stop); !known) return answer_all(group, known.error());
    }
    // The retries of adds that failed after reaching the stream add nothing (they wait for
    // the replicas with the others).
    std::vector<pending_add*> to_add;
    std::vector<std::pair<pending_add*, add_queue::landed>> retried;
    for (auto* p : group) {
      const auto same = std::find_if(q.landed_adds.begin(), q.landed_adds.end(), [&](const add_queue::landed& l) {
        return std::equal(l.frames.begin(), l.frames.end(), p->frames.begin(), p->frames.end());
      });
      if (same == q.landed_adds.end()) {
        to_add.push_back(p);
        continue;
      }
      retried.emplace_back(p, std::move(*same));
      q.landed_adds.erase(same);
    }
    std::vector<std::string> args{std::to_string(q.next), std::to_string(options_.max_depth)};
    for (const auto* p : to_add) args.insert(args.end(), p->frames.begin(), p->frames.end());
    const auto frames = args.size() - 2;
    const auto through = q.next + frames - 1;
    const std::vector<std::string> keys{options_.stream, q.key};
    const auto in_doubt = [&](const error& e) {
      // The script may have run: the next group reads the key before numbering anything.
      q.doubt = add_queue::in_doubt{through, {}};
      for (const auto* p : to_add) q.doubt->frames.emplace_back(p->frames.begin(), p->frames.end());
      answer_all(to_add, e);
    };
    std::vector<std::string> ids;  // one per caller in `to_add`: the id of its last entry
    if (frames > 0) {
      auto r = eval_when_room(add_script, keys, args, stop);
      if (!r) return in_doubt(r.error());
      if (r->elements.size() != frames) {
        return in_doubt(internal_error(fmt::format("stream '{}': the add script answered {} ids for {} frames",
                                                   options_.stream, r->elements.size(), frames)));
      }
      q.next = through + 1;
      std::size_t at = 0;
      for (const auto* p : to_add) {
        at += p->frames.size();
        ids.push_back(std::move(r->elements[at - 1].str));
      }
    }
    if (auto replicated = wait_for_replicas(stop); !replicated) {
      // On the primary, not yet on enough replicas: a retry adds nothing and waits again.
      for (std::size_t i = 0; i < to_add.size(); ++i) {
        q.remember_landed({to_add[i]->frames.begin(), to_add[i]->frames.end()}, std::move(ids[i]));
      }
      for (auto& retry : retried) q.remember_landed(std::move(retry.second.frames), std::move(retry.second.id));
      answer_all(to_add, replicated.error());
      for (auto& retry : retried) answer_all(std::span{&retry.first, 1}, replicated.error());
      return;
    }
    for (std::size_t i = 0; i < to_add.size(); ++i) to_add[i]->answer.emplace(std::move(ids[i]));
    for (auto& retry : retried) retry.first->answer.emplace(std::move(retry.second.id));
  }

  auto resolve_doubt(const std::stop_token& stop) -> result<void> {
    auto& q = adds_;
    auto done = client_->command({"GET", q.key}, stop);
    if (!done) return std::move(done).error();
    std::uint64_t last = 0;
    std::string last_id;
    if (!done->is_nil()) {
      const auto space = done->str.find(' ');
      auto parsed = detail::to_int<std::uint64_t>(std::string_view(done->str).substr(0, space));
      if (!parsed || space == std::string::npos) {
        return permanent_error(
            fmt::format("stream '{}': producer key '{}' holds '{}'", options_.stream, q.key, done->str));
      }
      last = *parsed;
      last_id = done->str.substr(space + 1);
    }
    // A script runs whole or not at all: the failed add either is all on the stream (its
    // numbers are done; a retry of its frames must add nothing) or none of it is (its numbers
    // are free).
    if (last >= q.doubt->through) {
      q.next = q.doubt->through + 1;
      for (auto& frames : q.doubt->frames) q.remember_landed(std::move(frames), last_id);
    }
    q.doubt.reset();
    return ok();
  }

  auto wait_for_replicas(const std::stop_token& stop) -> result<void> {
    if (options_.wait_replicas == 0) return ok();
    auto r = client_->command(
        {"WAIT", std::to_string(options_.wait_replicas), std::to_string(options_.replica_timeout.count())}, stop);
    if (!r) return std::move(r).error();
    if (r->integer < static_cast<std::int64_t>(options_.wait_replicas)) {
      return transient_error(fmt::format("stream '{}': {} of {} replicas acknowledged the add within {} ms",
                                         options_.stream, r->integer, options_.wait_replicas,
                                         options_.replica_timeout.count()));
    }
    return ok();
  }

  auto ledger_key(std::string_view job) const -> std::string {
    return detail::companion_key(options_.stream, fmt::format("ledger:{}", job), "pipeline::redis::stream_producer");
  }

  std::shared_ptr<client> client_;
  stream_options options_;
  add_queue adds_;
};

}  // namespace

stream_producer::stream_producer(std::shared_ptr<pipeline::detail::entry_producer_backend> backend,
                                 const stream_options& options) noexcept
    : basic_entry_producer(std::move(backend)), options_(&options) {}

auto stream_producer::open(std::shared_ptr<client> c, stream_options options) -> result<stream_producer> {
  if (!c) throw std::invalid_argument("pipeline::redis::stream_producer: client is null");
  if (options.stream.empty() || options.group.empty()) {
    throw std::invalid_argument("pipeline::redis::stream_producer: stream and group must not be empty");
  }
  if (auto policy = check_maxmemory_policy(*c, options.log); !policy) return std::move(policy).error();
  if (auto g = detail::ensure_group(*c, options); !g) return std::move(g).error();
  if (auto d = c->command({"DEL", options.stream + ":closed"}); !d) return std::move(d).error();
  auto backend = std::make_shared<stream_producer_backend>(std::move(c), std::move(options));
  const auto& held = backend->options();
  return stream_producer{std::move(backend), held};
}

auto stream_producer::depth() -> result<stream_depth> {
  return static_cast<stream_producer_backend&>(backend()).depth();
}

}  // namespace pipeline::redis
