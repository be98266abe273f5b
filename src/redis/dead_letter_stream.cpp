#include <pipeline/redis/dead_letter_stream.hpp>

#include <algorithm>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string_view>

#include <pipeline/detail/dead_letter_fingerprint.hpp>
#include <pipeline/detail/frame.hpp>
#include <pipeline/redis/detail/slot.hpp>

#include <fmt/format.h>

#include "fields.hpp"

namespace pipeline::redis {
namespace {

auto to_letter(const std::string& id, const std::vector<reply>& f) -> result<dead_letter> {
  using detail::field;
  const auto bad = [&](std::string_view what) {
    return permanent_error(fmt::format("dead-letter stream entry {} is not a dead letter: {}", id, what));
  };
  const auto *payload = field(f, "payload"), *kind = field(f, "kind"), *message = field(f, "message"),
             *code = field(f, "code"), *backend = field(f, "backend"), *attempts = field(f, "attempts"),
             *pos = field(f, "pos"), *partition = field(f, "partition"), *time = field(f, "time"),
             *job = field(f, "job");
  if (!payload || !kind || !message || !code || !backend || !attempts || !pos || !partition || !time) {
    return bad("a field is missing");
  }
  dead_letter l;
  l.payload = *payload;
  const auto known = parse_error_kind(*kind);
  if (!known) return bad("unknown kind");
  l.reason.kind = *known;
  l.reason.message = *message;
  l.reason.backend = *backend;
  auto c = detail::to_int<std::int64_t>(*code);
  auto a = detail::to_int<std::uint32_t>(*attempts);
  auto p = detail::to_int<std::uint32_t>(*partition);
  auto t = detail::time_of(*time);
  if (!c || !a || !p || !t) return bad("a number does not parse");
  l.reason.native_code = *c;
  l.attempts = *a;
  l.partition = *p;
  l.time = *t;
  l.pos = position{*pos};
  if (job != nullptr) l.job = *job;  // entries from before letters had a job have none
  return l;
}

// A failed replay's record in the replays hash: "<attempts> <kind> <code> <backend length>:<backend><message>",
// so that the message may hold any byte. Written by `record_failures` below.
auto apply_replay_record(std::string_view id, std::string_view text, dead_letter& l) -> result<void> {
  const auto bad = [&] {
    return permanent_error(fmt::format("dead-letter stream: the replay record of entry {} does not parse", id));
  };
  const auto word = [&]() -> std::optional<std::string_view> {
    const auto end = text.find(' ');
    if (end == std::string_view::npos) return std::nullopt;
    const auto w = text.substr(0, end);
    text.remove_prefix(end + 1);
    return w;
  };
  const auto attempts = word();
  const auto kind = word();
  const auto code = word();
  const auto colon = text.find(':');
  if (!attempts || !kind || !code || colon == std::string_view::npos) return bad();
  const auto a = detail::to_int<std::uint32_t>(*attempts);
  const auto k = parse_error_kind(*kind);
  const auto c = detail::to_int<std::int64_t>(*code);
  const auto backend_size = detail::to_int<std::size_t>(text.substr(0, colon));
  text.remove_prefix(colon + 1);
  if (!a || !k || !c || !backend_size || *backend_size > text.size()) return bad();
  l.attempts = *a;
  l.reason = error{*k, std::string(text.substr(*backend_size)), *c, std::string(text.substr(0, *backend_size))};
  return ok();
}

// KEYS: the stream and the replays hash; ARGV, per failure: id, kind, code, backend, message.
// Atomic, so that two replays recording a failure of one entry raise its attempts twice.
// Attempts start from the last replay record, else from the entry's own field.
constexpr std::string_view record_failures = R"lua(
for i = 1, #ARGV, 5 do
  local entry = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
  if #entry == 1 then
    local attempts = 0
    local prior = redis.call('HGET', KEYS[2], ARGV[i])
    if prior then
      attempts = tonumber(string.match(prior, '^(%d+)'))
    else
      local f = entry[1][2]
      for j = 1, #f, 2 do
        if f[j] == 'attempts' then attempts = tonumber(f[j + 1]) end
      end
    end
    redis.call('HSET', KEYS[2], ARGV[i], string.format('%d %s %s %d:', attempts + 1, ARGV[i + 1], ARGV[i + 2],
               #ARGV[i + 3]) .. ARGV[i + 3] .. ARGV[i + 4])
  end
end
return 0
)lua";

// KEYS: the stream and the replays hash; ARGV: entry ids. The identities stay in their set,
// so a letter dead-lettered again after it was resolved is not added back.
constexpr std::string_view delete_entries = R"lua(
for i = 1, #ARGV do
  redis.call('XDEL', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
end
return 0
)lua";

// KEYS: the queue stream, the DLQ stream and its replays hash; ARGV: pairs of entry id and frame.
// An entry XDEL finds is added to the queue; one already gone (requeued or purged by someone
// else meanwhile) is not. -1: no queue stream.
constexpr std::string_view requeue_entries = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local moved = 0
for i = 1, #ARGV, 2 do
  if redis.call('XDEL', KEYS[2], ARGV[i]) == 1 then
    redis.call('HDEL', KEYS[3], ARGV[i])
    redis.call('XADD', KEYS[1], '*', 'b', ARGV[i + 1])
    moved = moved + 1
  end
end
return moved
)lua";

// Per letter, ARGV holds its identity, its place ("<partition>:<length>:<position>") and then
// its 10 field values. Atomic (one script), so of writers racing with one letter, in any
// processes, exactly one adds it. XADD comes before SADD: should XADD fail, the identity is
// not kept and a retry adds the letter; should SADD fail after it, a retry adds it twice (at
// least once, never lost). Sent again after a lost reply, it adds nothing.
constexpr std::string_view add_new_letters = R"lua(
local added = 0
for i = 1, #ARGV, 12 do
  if redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then
    redis.call('XADD', KEYS[1], '*', 'payload', ARGV[i + 2], 'kind', ARGV[i + 3], 'message', ARGV[i + 4],
               'code', ARGV[i + 5], 'backend', ARGV[i + 6], 'attempts', ARGV[i + 7], 'pos', ARGV[i + 8],
               'partition', ARGV[i + 9], 'time', ARGV[i + 10], 'job', ARGV[i + 11])
    redis.call('SADD', KEYS[2], ARGV[i])
    redis.call('SADD', KEYS[3], ARGV[i + 1])
    added = added + 1
  end
end
return added
)lua";

// Where a letter's record was: partition and length-prefixed position (it may hold any byte).
auto place_of(std::uint32_t partition, const position& pos) -> std::string {
  return fmt::format("{}:{}:{}", partition, pos.bytes().size(), pos.bytes());
}

// The stream `stream_` and its companion keys, through `client_`.
class stream_dead_letters final : public pipeline::detail::dead_letter_backend {
 public:
  stream_dead_letters(std::shared_ptr<client> c, dead_letter_stream_options options)
      : client_(std::move(c)), stream_(std::move(options.stream)) {
    if (!client_) throw std::invalid_argument("pipeline::redis::dead_letter_stream: client is null");
    if (stream_.empty()) throw std::invalid_argument("pipeline::redis::dead_letter_stream: stream is empty");
    identities_ = detail::companion_key(stream_, "ids", "pipeline::redis::dead_letter_stream");
    replays_ = detail::companion_key(stream_, "replays", "pipeline::redis::dead_letter_stream");
    places_ = detail::companion_key(stream_, "places", "pipeline::redis::dead_letter_stream");
  }

  auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> override {
    if (stop.stop_requested()) return stopped_error();
    if (letters.empty()) return ok();
    const auto fingerprints = pipeline::detail::dead_letter_fingerprints(letters);
    std::vector<std::string> args;
    args.reserve(letters.size() * 12);
    for (std::size_t i = 0; i < letters.size(); ++i) {
      const auto& l = letters[i];
      auto place = place_of(l.partition, l.pos);
      args.push_back(fmt::format("{}:{}", place, fingerprints[i]));
      args.push_back(std::move(place));
      args.insert(args.end(), {l.payload, std::string(to_string(l.reason.kind)), l.reason.message,
                               std::to_string(l.reason.native_code), l.reason.backend, std::to_string(l.attempts),
                               l.pos.bytes(), std::to_string(l.partition), detail::time_text(l.time), l.job});
    }
    const std::vector<std::string> keys{stream_, identities_, places_};
    auto added = client_->eval(add_new_letters, keys, args, stop);
    if (!added) return std::move(added).error();
    return ok();
  }

  auto read(const dead_letter_filter& filter, const std::optional<std::string>& after_id, std::size_t limit,
            std::stop_token stop) -> result<std::vector<stored_dead_letter>> override {
    std::vector<stored_dead_letter> out;
    std::string after = after_id.value_or("0-0");
    // The filter is applied here, on pages of the stream: a stream has no index on its fields.
    const std::size_t page = std::max<std::size_t>(limit, 100);
    while (out.size() < limit) {
      if (stop.stop_requested()) return stopped_error();
      auto entries = read(after, page);
      if (!entries) return std::move(entries).error();
      if (entries->empty()) break;
      after = entries->back().first;
      std::vector<std::string> ids;
      for (const auto& e : *entries) ids.push_back(e.first);
      // The replay records of the page, in one HMGET.
      std::vector<std::string> args{"HMGET", replays_};
      args.insert(args.end(), ids.begin(), ids.end());
      auto records = client_->command(args);
      if (!records) return std::move(records).error();
      for (std::size_t i = 0; i < entries->size() && out.size() < limit; ++i) {
        auto& [id, letter] = (*entries)[i];
        if (i < records->elements.size() && !records->elements[i].is_nil()) {
          if (auto applied = apply_replay_record(id, records->elements[i].str, letter); !applied) {
            return std::move(applied).error();
          }
        }
        if (filter.matches(letter)) out.push_back({std::move(id), std::move(letter)});
      }
    }
    return out;
  }

  auto resolve(std::span<const std::string> ids, std::stop_token stop) -> result<void> override {
    if (stop.stop_requested()) return stopped_error();
    if (ids.empty()) return ok();
    const std::vector<std::string> keys{stream_, replays_};
    auto done = client_->eval(delete_entries, keys, ids);
    if (!done) return std::move(done).error();
    return ok();
  }

  auto record_failure(std::span<const failed_replay> failures, std::stop_token stop) -> result<void> override {
    if (stop.stop_requested()) return stopped_error();
    if (failures.empty()) return ok();
    std::vector<std::string> args;
    args.reserve(failures.size() * 5);
    for (const auto& f : failures) {
      args.insert(args.end(), {f.id, std::string(to_string(f.reason.kind)), std::to_string(f.reason.native_code),
                               f.reason.backend, f.reason.message});
    }
    const std::vector<std::string> keys{stream_, replays_};
    auto done = client_->eval(record_failures, keys, args);
    if (!done) return std::move(done).error();
    return ok();
  }

  auto purge(const dead_letter_filter& filter, std::stop_token stop) -> result<std::size_t> override {
    std::size_t removed = 0;
    std::optional<std::string> after;
    for (;;) {
      auto matching = read(filter, after, 500, stop);
      if (!matching) return std::move(matching).error();
      if (matching->empty()) return removed;
      std::vector<std::string> ids;
      for (const auto& m : *matching) ids.push_back(m.id);
      if (auto deleted = resolve(ids, {}); !deleted) return std::move(deleted).error();
      removed += ids.size();
      after = ids.back();
    }
  }

  // The members of dead_letter_stream itself.
  auto read(const std::string& after_id, std::size_t limit)
      -> result<std::vector<std::pair<std::string, dead_letter>>> {
    std::vector<std::pair<std::string, dead_letter>> out;
    if (limit == 0) return out;
    const auto count = std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max());
    const std::vector<std::string> args{"XRANGE", stream_, "(" + after_id, "+", "COUNT", std::to_string(count)};
    auto r = client_->command(args);
    if (!r) return std::move(r).error();
    for (const auto& entry : r->elements) {
      if (entry.elements.size() != 2) return internal_error("dead-letter stream: XRANGE returned an unexpected reply");
      auto l = to_letter(entry.elements[0].str, entry.elements[1].elements);
      if (!l) return std::move(l).error();
      out.emplace_back(entry.elements[0].str, std::move(*l));
    }
    return out;
  }

  auto requeue(std::span<const stored_dead_letter> letters, const std::string& queue, std::stop_token stop)
      -> result<std::size_t> {
    if (stop.stop_requested()) return stopped_error();
    if (letters.empty()) return std::size_t{0};
    std::vector<std::string> args;
    args.reserve(letters.size() * 2);
    for (const auto& l : letters) {
      std::string frame;
      pipeline::detail::frame_append(frame, l.letter.payload);
      args.push_back(l.id);
      args.push_back(std::move(frame));
    }
    const std::vector<std::string> keys{queue, stream_, replays_};
    auto moved = client_->eval(requeue_entries, keys, args);
    if (!moved) return std::move(moved).error();
    if (moved->integer < 0) {
      return not_found_error(fmt::format("no queue stream '{}' to requeue dead letters to", queue));
    }
    return static_cast<std::size_t>(moved->integer);
  }

  auto holds(std::uint32_t partition, std::span<const position> positions, std::stop_token stop)
      -> result<std::vector<bool>> {
    std::vector<bool> out(positions.size(), false);
    if (positions.empty()) return out;
    std::vector<std::string> args{"SMISMEMBER", places_};
    for (const auto& p : positions) args.push_back(place_of(partition, p));
    auto r = client_->command(args, std::move(stop));
    if (!r) return std::move(r).error();
    if (r->elements.size() != positions.size()) {
      return internal_error("dead-letter stream: SMISMEMBER returned an unexpected reply");
    }
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = r->elements[i].integer == 1;
    return out;
  }

  auto size() -> result<std::size_t> {
    auto r = client_->command({"XLEN", stream_});
    if (!r) return std::move(r).error();
    return static_cast<std::size_t>(r->integer);
  }

 private:
  std::shared_ptr<client> client_;
  std::string stream_;
  std::string identities_;  // the set of the identities of the letters stored
  std::string replays_;     // the hash of failed replays' attempts and reasons, by entry id
  std::string places_;      // the set of the places (partition, position) of the letters stored
};

}  // namespace

dead_letter_stream::dead_letter_stream(std::shared_ptr<client> c, dead_letter_stream_options options)
    : basic_dead_letter_store(std::make_shared<stream_dead_letters>(std::move(c), std::move(options))) {}

auto dead_letter_stream::read(const std::string& after_id, std::size_t limit)
    -> result<std::vector<std::pair<std::string, dead_letter>>> {
  return static_cast<stream_dead_letters&>(backend()).read(after_id, limit);
}

auto dead_letter_stream::requeue(std::span<const stored_dead_letter> letters, const std::string& queue,
                                 std::stop_token stop) -> result<std::size_t> {
  return static_cast<stream_dead_letters&>(backend()).requeue(letters, queue, std::move(stop));
}

auto dead_letter_stream::holds(std::uint32_t partition, std::span<const position> positions, std::stop_token stop)
    -> result<std::vector<bool>> {
  return static_cast<stream_dead_letters&>(backend()).holds(partition, positions, std::move(stop));
}

auto dead_letter_stream::size() -> result<std::size_t> { return static_cast<stream_dead_letters&>(backend()).size(); }


}  // namespace pipeline::redis
