#include <pipeline/redis/job_log.hpp>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "fields.hpp"

namespace pipeline::redis {
namespace {

// KEYS: next-id counter, run key prefix, the job's id set, this create's key. ARGV: the fields
// as field/value pairs. The create's key (a name of its own per call, expiring after a day)
// holds the id: a create the client sends again after its reply was lost returns that run
// instead of creating another.
constexpr std::string_view create_script = R"lua(
local done = redis.call('GET', KEYS[4])
if done then return tonumber(done) end
local id = redis.call('INCR', KEYS[1])
local key = KEYS[2] .. id
redis.call('HSET', key, 'id', id, unpack(ARGV))
redis.call('ZADD', KEYS[3], id, id)
redis.call('SET', KEYS[4], id, 'EX', 86400)
return id
)lua";

// KEYS: the run key, the job's id set; ARGV[1] the id, then field/value pairs.
// A run that changes job moves to the new job's set.
constexpr std::string_view update_script = R"lua(
local old = redis.call('HGET', KEYS[1], 'job')
if not old then return 0 end
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
if old ~= redis.call('HGET', KEYS[1], 'job') then
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
end
return 1
)lua";

// KEYS: the job's id set; ARGV: run key prefix, how many. Newest first.
constexpr std::string_view runs_script = R"lua(
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local out = {}
for i, id in ipairs(ids) do out[i] = redis.call('HGETALL', ARGV[1] .. id) end
return out
)lua";

auto fields_of(const job_run& r) -> std::vector<std::string> {
  return {"job",     r.job,
          "state",   std::string(to_string(r.state)),
          "owner",   r.owner,
          "read",    std::to_string(r.read),
          "written", std::to_string(r.written),
          "dead_lettered", std::to_string(r.dead_lettered),
          "retried", std::to_string(r.retried),
          "created", detail::time_text(r.created),
          "updated", detail::time_text(r.updated),
          "lease_until", detail::time_text(r.lease_until),
          "message", r.message};
}

auto to_run(const std::vector<reply>& f) -> result<job_run> {
  using detail::field;
  const auto* id = field(f, "id");
  const auto bad = [&](std::string_view what) {
    return permanent_error(fmt::format("redis job log: run {} does not read back: {}", id ? *id : "?", what));
  };
  const auto *job = field(f, "job"), *state = field(f, "state"), *owner = field(f, "owner"), *read = field(f, "read"),
             *written = field(f, "written"), *dead = field(f, "dead_lettered"), *retried = field(f, "retried"),
             *created = field(f, "created"), *updated = field(f, "updated"), *lease = field(f, "lease_until"),
             *message = field(f, "message");
  if (!id || !job || !state || !owner || !read || !written || !dead || !retried || !created || !updated || !lease ||
      !message) {
    return bad("a field is missing");
  }
  job_run r;
  auto i = detail::to_int<std::uint64_t>(*id);
  auto s = parse_run_state(*state);
  auto n1 = detail::to_int<std::uint64_t>(*read), n2 = detail::to_int<std::uint64_t>(*written),
       n3 = detail::to_int<std::uint64_t>(*dead), n4 = detail::to_int<std::uint64_t>(*retried);
  auto t1 = detail::time_of(*created), t2 = detail::time_of(*updated), t3 = detail::time_of(*lease);
  if (!i || !s || !n1 || !n2 || !n3 || !n4 || !t1 || !t2 || !t3) return bad("a value does not parse");
  r.id = *i;
  r.job = *job;
  r.state = *s;
  r.owner = *owner;
  r.read = *n1;
  r.written = *n2;
  r.dead_lettered = *n3;
  r.retried = *n4;
  r.created = *t1;
  r.updated = *t2;
  r.lease_until = *t3;
  r.message = *message;
  return r;
}

}  // namespace

job_log::job_log(std::shared_ptr<client> c, job_log_options options)
    : client_(std::move(c)), prefix_(std::move(options.prefix)) {
  if (!client_) throw std::invalid_argument("pipeline::redis::job_log: client is null");
  if (prefix_.empty()) throw std::invalid_argument("pipeline::redis::job_log: prefix is empty");
}

auto job_log::create(const job_run& run) -> result<std::uint64_t> {
  const std::vector<std::string> keys{prefix_ + ":runs:next", prefix_ + ":run:", prefix_ + ":runs:" + run.job,
                                     prefix_ + ":runs:created:" + detail::unique_name()};
  auto r = client_->eval(create_script, keys, fields_of(run));
  if (!r) return std::move(r).error();
  return static_cast<std::uint64_t>(r->integer);
}

auto job_log::update(const job_run& run) -> result<void> {
  const auto key = fmt::format("{}:run:{}", prefix_, run.id);
  auto old_job = client_->command({"HGET", key, "job"});
  if (!old_job) return std::move(old_job).error();
  const std::vector<std::string> keys{key, prefix_ + ":runs:" + run.job, prefix_ + ":runs:" + old_job->str};
  auto args = fields_of(run);
  args.insert(args.begin(), std::to_string(run.id));
  auto r = client_->eval(update_script, keys, args);
  if (!r) return std::move(r).error();
  if (r->integer == 0) return not_found_error(fmt::format("redis job log: no run with id {}", run.id));
  return ok();
}

auto job_log::runs(std::string_view job, std::size_t limit) -> result<std::vector<job_run>> {
  std::vector<job_run> out;
  if (limit == 0) return out;
  const auto count = std::min<std::size_t>(limit, std::size_t{1} << 40);
  const std::vector<std::string> keys{fmt::format("{}:runs:{}", prefix_, job)};
  const std::vector<std::string> args{prefix_ + ":run:", std::to_string(count)};
  auto r = client_->eval(runs_script, keys, args);
  if (!r) return std::move(r).error();
  for (const auto& hash : r->elements) {
    auto run = to_run(hash.elements);
    if (!run) return std::move(run).error();
    out.push_back(std::move(*run));
  }
  return out;
}

auto job_log::jobs() -> result<std::vector<std::string>> {
  // Each job's runs are a sorted set `<prefix>:runs:<job>`; the id counter and the create
  // markers under the same prefix are strings, which TYPE leaves out.
  return detail::scan_names(*client_, prefix_ + ":runs:", "zset");
}

}  // namespace pipeline::redis
