// expect: entry_consumer
// A queue's worker role needs a consumer that acknowledges what it read (`ack_through`): one
// that only reads would redeliver every entry forever.
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <pipeline/log.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/memory_sink.hpp>
#include <pipeline/queue_roles.hpp>
#include <pipeline/record.hpp>

struct reads_only {
  struct settings {
    std::uint32_t max_deliveries = 5;
    std::string consumer;
    pipeline::logger log;
  };
  using entries = std::optional<std::vector<pipeline::detail::queue_entry>>;
  auto read(std::stop_token /*stop*/) -> pipeline::result<entries> { return entries{}; }
  auto track(std::vector<std::string> /*ids*/) -> std::uint64_t { return 1; }
  [[nodiscard]] auto name() const -> const std::string& { return settings_.consumer; }
  [[nodiscard]] auto options() const -> const settings& { return settings_; }
  settings settings_;
};

auto misuse(reads_only& consumer, pipeline::memory_sink<pipeline::record>& sink, pipeline::memory_dlq& dlq) {
  return pipeline::run_worker<pipeline::record>(consumer, [](const pipeline::record& r) { return r; }, sink, dlq, {});
}
