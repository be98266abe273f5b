#include <pipeline/redis/stream_consumer.hpp>

#include <algorithm>
#include <string_view>
#include <stdexcept>

#include <fmt/format.h>

#include <pipeline/detail/frame.hpp>

#include "fields.hpp"
#include "stream_common.hpp"

namespace pipeline::redis {
namespace {

// [[id, [field, value…]]…] → entries, each delivered once so far.
auto to_entries(const std::vector<reply>& list) -> std::vector<stream_entry> {
  std::vector<stream_entry> out;
  for (const auto& e : list) {
    if (e.elements.size() != 2) continue;  // an entry deleted while pending comes back nil
    stream_entry entry;
    entry.id = e.elements[0].str;
    const auto& fields = e.elements[1].elements;
    if (const auto* b = detail::field(fields, "b")) entry.frame = *b;
    else entry.framed = false;
    // A split entry says where its record came from (see stream_consumer::split).
    const auto* origin = detail::field(fields, "o");
    const auto* index = detail::field(fields, "i");
    const auto at = index != nullptr ? detail::to_int<std::size_t>(*index) : std::nullopt;
    entry.origin = origin != nullptr && at ? *origin : entry.id;
    entry.origin_index = origin != nullptr && at ? *at : 0;
    out.push_back(std::move(entry));
  }
  return out;
}

auto is_nogroup(const error& e) -> bool { return e.message.rfind("NOGROUP", 0) == 0; }

}  // namespace

stream_consumer::stream_consumer(std::shared_ptr<client> reader, std::shared_ptr<client> acker, stream_options options)
    : reader_(std::move(reader)), acker_(std::move(acker)), options_(std::move(options)) {
  if (options_.metrics != nullptr) {
    const metric_labels labels{{"stream", options_.stream}, {"group", options_.group}};
    depth_gauge_ = &options_.metrics->register_gauge("pipeline_redis_stream_depth",
                                                     "Entries not yet delivered to any worker (lag)", labels);
    pending_gauge_ = &options_.metrics->register_gauge("pipeline_redis_stream_pending",
                                                       "Entries delivered and not yet acknowledged", labels);
  }
}

auto stream_consumer::open(const connection_options& connection, stream_options options)
    -> result<std::unique_ptr<stream_consumer>> {
  if (options.stream.empty() || options.group.empty()) {
    throw std::invalid_argument("pipeline::redis::stream_consumer: stream and group must not be empty");
  }
  if (options.max_deliveries == 0 || options.read_count == 0 || options.block.count() <= 0 ||
      options.visibility_timeout.count() <= 0 || options.trim_interval.count() < 0) {
    throw std::invalid_argument(
        "pipeline::redis::stream_consumer: max_deliveries, read_count, block and visibility_timeout must be positive");
  }
  if (options.consumer.empty()) options.consumer = detail::unique_name();
  auto reader = client::connect(connection);
  if (!reader) return std::move(reader).error();
  auto acker = client::connect(connection);
  if (!acker) return std::move(acker).error();
  if (auto policy = check_maxmemory_policy(**reader, options.log); !policy) return std::move(policy).error();
  if (auto g = detail::ensure_group(**reader, options); !g) return std::move(g).error();
  return std::unique_ptr<stream_consumer>{new stream_consumer(std::move(*reader), std::move(*acker), std::move(options))};
}

auto stream_consumer::wait_until_acknowledged(std::stop_token stop) -> result<void> {
  return tracked_.wait_until_all_acknowledged(stop);
}

auto stream_consumer::claim(std::stop_token stop) -> result<std::optional<stream_entry>> {
  const auto idle = std::to_string(options_.visibility_timeout.count());
  // Look before claiming: waiting for this consumer's entries to be acknowledged is only
  // worth it when some entry is idle.
  const std::vector<std::string> peek{"XPENDING", options_.stream, options_.group, "IDLE", idle, "-", "+", "1"};
  auto oldest = reader_->command(peek, stop);
  if (!oldest) return std::move(oldest).error();
  if (oldest->elements.empty() || oldest->elements[0].elements.size() != 4) {
    next_claim_ = std::chrono::steady_clock::now() + std::max(options_.visibility_timeout / 2, std::chrono::milliseconds{50});
    return std::optional<stream_entry>{};
  }
  if (auto drained = wait_until_acknowledged(stop); !drained) return std::move(drained).error();
  const auto& id = oldest->elements[0].elements[0].str;
  const std::vector<std::string> args{"XAUTOCLAIM", options_.stream, options_.group, options_.consumer, idle, id,
                                      "COUNT", "1"};
  auto r = reader_->command(args, stop);
  if (!r) return std::move(r).error();
  if (r->elements.size() < 2) return internal_error("XAUTOCLAIM returned an unexpected reply");
  auto entries = to_entries(r->elements[1].elements);
  if (entries.empty()) return std::optional<stream_entry>{};  // taken by another worker, or deleted
  auto& e = entries.front();
  // XAUTOCLAIM does not say how often an entry was delivered; XPENDING for it does (the claim
  // counted as one more delivery).
  auto p = reader_->command({"XPENDING", options_.stream, options_.group, e.id, e.id, "1"}, stop);
  if (!p) return std::move(p).error();
  if (!p->elements.empty() && p->elements[0].elements.size() == 4) {
    e.deliveries = static_cast<std::uint64_t>(std::max<std::int64_t>(2, p->elements[0].elements[3].integer));
  }
  options_.log.info("redis: {} reclaimed entry {} of {} (delivery {}), idle for over {} ms", options_.consumer, e.id,
                    options_.stream, e.deliveries, options_.visibility_timeout.count());
  auto split_up = split(e);
  if (!split_up) return std::move(split_up).error();
  if (*split_up) return std::optional<stream_entry>{};
  return std::optional{std::move(e)};
}

auto stream_consumer::split(const stream_entry& e) -> result<bool> {
  // Acknowledged only if still pending: an entry another worker finished meanwhile is not
  // added again. Each new entry keeps its record's origin (o: the producer's entry, i: the
  // index there), so that a record has one position, and its dead letter one identity in
  // the DLQ, whether it was handled before the crash, after it, or both.
  static constexpr std::string_view script = R"(
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
local first = tonumber(ARGV[4])
for i = 5, #ARGV do redis.call('XADD', KEYS[1], '*', 'b', ARGV[i], 'o', ARGV[3], 'i', tostring(first + i - 5)) end
return #ARGV - 4)";
  if (!e.framed) return false;
  std::vector<std::string> args{options_.group, e.id, e.origin, std::to_string(e.origin_index)};
  pipeline::detail::frame_reader reader{e.frame};
  while (auto bytes = reader.next()) {
    std::string single;
    pipeline::detail::frame_append(single, *bytes);
    args.push_back(std::move(single));
  }
  if (reader.bad() || args.size() < 6) return false;  // one record, or a frame stream_source rejects
  const std::vector<std::string> keys{options_.stream};
  auto r = reader_->eval(script, keys, args);
  if (!r) return std::move(r).error();
  options_.log.info("redis: split reclaimed entry {} of {} into {} entries of one record", e.id, options_.stream,
                    r->integer);
  return true;
}

auto stream_consumer::closed_and_drained() -> result<bool> {
  auto closed = reader_->command({"EXISTS", options_.stream + ":closed"});
  if (!closed) return std::move(closed).error();
  if (closed->integer == 0) return false;
  auto info = detail::read_group(*reader_, options_);
  if (!info) return std::move(info).error();
  depth_gauge_->set(static_cast<double>(info->depth.lag));
  pending_gauge_->set(static_cast<double>(info->depth.pending));
  return info->depth.total() == 0;
}

auto stream_consumer::read(std::stop_token stop) -> result<std::optional<std::vector<stream_entry>>> {
  const std::vector<std::string> args{"XREADGROUP", "GROUP", options_.group,   options_.consumer,
                                      "COUNT",      std::to_string(options_.read_count), "BLOCK",
                                      std::to_string(options_.block.count()), "STREAMS", options_.stream, ">"};
  if (suspect_in_flight_) {
    // Nothing else is read while a reclaimed entry is in flight (see the class comment).
    if (auto done = wait_until_acknowledged(stop); !done) return std::move(done).error();
    suspect_in_flight_ = false;
  }
  for (;;) {
    if (stop.stop_requested()) return stopped_error();
    if (std::chrono::steady_clock::now() >= next_claim_) {
      auto claimed = claim(stop);
      if (!claimed && is_nogroup(claimed.error())) {
        // The stream or group is gone (a server restarted without persistence, or deleted by
        // hand): recreate the group; what the stream still holds is delivered again.
        options_.log.warn("redis: consumer group '{}' of '{}' is missing; creating it again", options_.group,
                          options_.stream);
        if (auto g = detail::ensure_group(*reader_, options_); !g) return std::move(g).error();
        continue;
      }
      if (!claimed) return std::move(claimed).error();
      if (*claimed) {
        suspect_in_flight_ = true;
        return std::optional{std::vector<stream_entry>{std::move(**claimed)}};
      }
    }
    auto r = reader_->blocking_command(args, options_.block, stop);
    if (!r) {
      if (!is_nogroup(r.error())) return std::move(r).error();
      if (auto g = detail::ensure_group(*reader_, options_); !g) return std::move(g).error();
      continue;
    }
    if (!r->is_nil() && !r->elements.empty() && r->elements[0].elements.size() == 2) {
      auto entries = to_entries(r->elements[0].elements[1].elements);
      if (!entries.empty()) return std::optional{std::move(entries)};
    }
    {
      // Idle: trim what the last acknowledgements left, or a producer waiting on max_depth
      // would wait for entries that are done.
      trim_when_due();
    }
    auto done = closed_and_drained();
    if (!done) return std::move(done).error();
    if (*done) return std::optional<std::vector<stream_entry>>{};
  }
}

auto stream_consumer::track(std::vector<std::string> ids) -> std::uint64_t { return tracked_.track(std::move(ids)); }

auto stream_consumer::ack_through(std::uint64_t number) -> result<void> {
  auto acked = tracked_.acknowledge_through(number, [&](const std::vector<std::string>& ids) -> result<void> {
    std::vector<std::string> args{"XACK", options_.stream, options_.group};
    args.insert(args.end(), ids.begin(), ids.end());
    auto r = acker_->command(args);
    if (!r) return std::move(r).error();
    return ok();
  });
  if (!acked) return acked;
  trim_when_due();
  return ok();
}

auto stream_consumer::depth() -> result<stream_depth> {
  auto info = detail::read_group(*acker_, options_);
  if (!info) return std::move(info).error();
  depth_gauge_->set(static_cast<double>(info->depth.lag));
  pending_gauge_->set(static_cast<double>(info->depth.pending));
  return info->depth;
}

auto stream_consumer::trim() -> result<void> {
  auto info = detail::trim_acknowledged(*acker_, options_);
  if (!info) return std::move(info).error();
  depth_gauge_->set(static_cast<double>(info->depth.lag));
  pending_gauge_->set(static_cast<double>(info->depth.pending));
  return ok();
}

void stream_consumer::trim_when_due() {
  std::scoped_lock lock{trim_mutex_};
  if (std::chrono::steady_clock::now() < next_trim_) return;
  next_trim_ = std::chrono::steady_clock::now() + options_.trim_interval;
  if (auto t = trim(); !t) options_.log.warn("redis: trimming {} failed: {}", options_.stream, t.error().message);
}

}  // namespace pipeline::redis
