#include <pipeline/redis/counter_store.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "fields.hpp"

namespace pipeline::redis {
namespace {

// KEYS: live, flushing, flush_id, flush_seq. Returns {id, field, value, field, value…}.
constexpr std::string_view begin_script = R"lua(
if redis.call('EXISTS', KEYS[2]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('SET', KEYS[3], redis.call('INCR', KEYS[4]))
end
local out = {tonumber(redis.call('GET', KEYS[3]))}
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all do out[#out + 1] = all[i] end
return out
)lua";

// KEYS: flushing, flush_id; ARGV[1]: the id being confirmed.
constexpr std::string_view confirm_script = R"lua(
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
)lua";

}  // namespace

// One thread at a time sends (the leader); the adds that arrive meanwhile wait here and the
// next leader, one of them, sends them all in one pipeline.
struct counter_store::add_queue {
  struct waiter {
    std::string_view key;
    std::int64_t delta;
    std::optional<result<std::int64_t>> answer;
  };
  std::mutex mutex;
  std::condition_variable answered;
  std::vector<waiter*> waiting;
  bool sending = false;
};

counter_store::counter_store(std::shared_ptr<client> c, counter_store_options options)
    : client_(std::move(c)), adds_(std::make_shared<add_queue>()) {
  if (!client_) throw std::invalid_argument("pipeline::redis::counter_store: client is null");
  if (options.name.empty()) throw std::invalid_argument("pipeline::redis::counter_store: name is empty");
  live_ = options.name + ":live";
  flushing_ = options.name + ":flushing";
  flush_id_ = options.name + ":flush_id";
  flush_seq_ = options.name + ":flush_seq";
}

auto counter_store::add(std::string_view key, std::int64_t delta) -> result<std::int64_t> {
  add_queue::waiter me{key, delta, std::nullopt};
  auto& q = *adds_;
  std::unique_lock lock{q.mutex};
  q.waiting.push_back(&me);
  while (!me.answer) {
    if (q.sending) {
      q.answered.wait(lock);
      continue;
    }
    q.sending = true;
    const auto batch = std::exchange(q.waiting, {});
    lock.unlock();
    std::vector<std::vector<std::string>> commands;
    commands.reserve(batch.size());
    for (const auto* w : batch) commands.push_back({"HINCRBY", live_, std::string(w->key), std::to_string(w->delta)});
    auto replies = client_->pipeline(commands);
    lock.lock();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!replies) batch[i]->answer.emplace(replies.error());
      else if ((*replies)[i].kind == reply::type::error) batch[i]->answer.emplace(reply_error((*replies)[i].str));
      else batch[i]->answer.emplace((*replies)[i].integer);
    }
    q.sending = false;
    q.answered.notify_all();
  }
  return std::move(*me.answer);
}

auto counter_store::get(std::string_view key) -> result<std::int64_t> {
  auto r = client_->command({"HGET", live_, key});
  if (!r) return std::move(r).error();
  if (r->is_nil()) return std::int64_t{0};
  auto v = detail::to_int<std::int64_t>(r->str);
  if (!v) return permanent_error(fmt::format("counter '{}' holds '{}', not an integer", key, r->str));
  return *v;
}

auto counter_store::begin_flush() -> result<counter_flush> {
  const std::vector<std::string> keys{live_, flushing_, flush_id_, flush_seq_};
  auto r = client_->eval(begin_script, keys, {});
  if (!r) return std::move(r).error();
  counter_flush f;
  if (r->elements.empty()) return internal_error("counter flush: unexpected reply");
  f.id = static_cast<std::uint64_t>(r->elements[0].integer);
  for (std::size_t i = 1; i + 1 < r->elements.size(); i += 2) {
    auto v = detail::to_int<std::int64_t>(r->elements[i + 1].str);
    if (!v) return permanent_error(fmt::format("counter '{}' holds '{}', not an integer", r->elements[i].str, r->elements[i + 1].str));
    f.counts.emplace_back(r->elements[i].str, *v);
  }
  return f;
}

auto counter_store::confirm_flush(std::uint64_t id) -> result<void> {
  const std::vector<std::string> keys{flushing_, flush_id_};
  const std::vector<std::string> args{std::to_string(id)};
  auto r = client_->eval(confirm_script, keys, args);
  if (!r) return std::move(r).error();
  if (r->integer != 1) return conflict_error(fmt::format("counter flush {} is not the pending flush", id));
  return ok();
}

}  // namespace pipeline::redis
