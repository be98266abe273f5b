#include "lease_record.hpp"

#include <atomic>
#include <charconv>
#include <chrono>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include <pipeline/job_log.hpp>

namespace pipeline::detail {
namespace {

auto parse_number(std::string_view text, auto& out) -> bool {
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && p == text.data() + text.size();
}

class live_leases {
 public:
  auto next_token() -> std::uint64_t { return ++last_; }
  void add(std::uint64_t token) {
    std::scoped_lock lock{mutex_};
    live_.insert(token);
  }
  void remove(std::uint64_t token) {
    std::scoped_lock lock{mutex_};
    live_.erase(token);
  }
  auto contains(std::uint64_t token) -> bool {
    std::scoped_lock lock{mutex_};
    return live_.contains(token);
  }

 private:
  std::atomic<std::uint64_t> last_{0};
  std::mutex mutex_;
  std::set<std::uint64_t> live_;
};

auto leases_here() -> live_leases& {
  static live_leases leases;
  return leases;
}

}  // namespace

auto encode_lease(std::string_view kind, const lease_record& lease) -> position {
  auto text = fmt::format("{}\n{}\n{}\n{}", kind, lease.owner, lease.token, lease.until_ms);
  for (const auto field : lease.extra) text += fmt::format("\n{}", field);
  return position{std::move(text)};
}

auto decode_lease(std::string_view kind, std::string_view bytes) -> std::optional<lease_record> {
  std::vector<std::string_view> lines;
  while (true) {
    const auto end = bytes.find('\n');
    lines.push_back(bytes.substr(0, end));
    if (end == std::string_view::npos) break;
    bytes.remove_prefix(end + 1);
  }
  if (lines.size() < 4 || lines[0] != kind) return std::nullopt;
  lease_record lease;
  lease.owner = std::string(lines[1]);
  if (!parse_number(lines[2], lease.token) || !parse_number(lines[3], lease.until_ms)) return std::nullopt;
  for (std::size_t i = 4; i < lines.size(); ++i) {
    if (!parse_number(lines[i], lease.extra.emplace_back())) return std::nullopt;
  }
  return lease;
}

auto next_lease_token() -> std::uint64_t { return leases_here().next_token(); }
void lease_held(std::uint64_t token) { leases_here().add(token); }
void lease_dropped(std::uint64_t token) { leases_here().remove(token); }

auto judge_lease(const lease_record& holder, std::string_view own_owner, std::int64_t now_ms) -> lease_verdict {
  if (holder.until_ms == 0) return {};
  const bool this_process = holder.owner == own_owner;
  const bool alive = this_process ? leases_here().contains(holder.token) : owner_may_be_alive(holder.owner);
  if (alive && (this_process || holder.until_ms > now_ms)) {
    return {.live = true, .this_process = this_process, .why = {}};
  }
  return {.live = false,
          .this_process = this_process,
          .why = alive          ? "it ran out"
                 : this_process ? "an earlier holder in this process did not give it back"
                                : "its process is gone"};
}

auto wall_now_ms() -> std::int64_t {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace pipeline::detail
