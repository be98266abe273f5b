#include <pipeline/redis/dead_letter_stream.hpp>

#include <limits>
#include <stdexcept>
#include <string_view>

#include <pipeline/detail/dead_letter_fingerprint.hpp>
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
             *pos = field(f, "pos"), *partition = field(f, "partition"), *time = field(f, "time");
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
  return l;
}

// Per letter, ARGV holds its identity and then its 9 field values. Atomic (one script), so
// of writers racing with one letter, in any processes, exactly one adds it. XADD comes before
// SADD: should XADD fail, the identity is not kept and a retry adds the letter; should SADD
// fail after it, a retry adds it twice (at least once, never lost).
constexpr std::string_view add_new_letters = R"lua(
local added = 0
for i = 1, #ARGV, 10 do
  if redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then
    redis.call('XADD', KEYS[1], '*', 'payload', ARGV[i + 1], 'kind', ARGV[i + 2], 'message', ARGV[i + 3],
               'code', ARGV[i + 4], 'backend', ARGV[i + 5], 'attempts', ARGV[i + 6], 'pos', ARGV[i + 7],
               'partition', ARGV[i + 8], 'time', ARGV[i + 9])
    redis.call('SADD', KEYS[2], ARGV[i])
    added = added + 1
  end
end
return added
)lua";

// The identity set's key: in the stream's cluster slot, so that one script can use both.
auto identities_key(const std::string& stream) -> std::string {
  auto key = detail::hash_tag(stream) != stream ? stream + ":ids" : "{" + stream + "}:ids";
  if (detail::key_slot(key) != detail::key_slot(stream)) {
    throw std::invalid_argument(fmt::format(
        "pipeline::redis::dead_letter_stream: no identity set key shares the slot of stream '{}'; "
        "name it with a hash tag, like '{{orders}}:dead'", stream));
  }
  return key;
}

}  // namespace

dead_letter_stream::dead_letter_stream(std::shared_ptr<client> c, dead_letter_stream_options options)
    : client_(std::move(c)), stream_(std::move(options.stream)) {
  if (!client_) throw std::invalid_argument("pipeline::redis::dead_letter_stream: client is null");
  if (stream_.empty()) throw std::invalid_argument("pipeline::redis::dead_letter_stream: stream is empty");
  identities_ = identities_key(stream_);
}

auto dead_letter_stream::write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  if (letters.empty()) return ok();
  const auto fingerprints = pipeline::detail::dead_letter_fingerprints(letters);
  std::vector<std::string> args;
  args.reserve(letters.size() * 10);
  for (std::size_t i = 0; i < letters.size(); ++i) {
    const auto& l = letters[i];
    // Length-prefixed position, since it may hold any byte.
    args.push_back(fmt::format("{}:{}:{}:{}", l.partition, l.pos.bytes().size(), l.pos.bytes(), fingerprints[i]));
    args.insert(args.end(), {l.payload, std::string(to_string(l.reason.kind)), l.reason.message,
                             std::to_string(l.reason.native_code), l.reason.backend, std::to_string(l.attempts),
                             l.pos.bytes(), std::to_string(l.partition), detail::time_text(l.time)});
  }
  const std::vector<std::string> keys{stream_, identities_};
  auto added = client_->eval(add_new_letters, keys, args);
  if (!added) return std::move(added).error();
  return ok();
}

auto dead_letter_stream::read(const std::string& after_id, std::size_t limit)
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

auto dead_letter_stream::size() -> result<std::size_t> {
  auto r = client_->command({"XLEN", stream_});
  if (!r) return std::move(r).error();
  return static_cast<std::size_t>(r->integer);
}

}  // namespace pipeline::redis
