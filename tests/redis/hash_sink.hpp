#pragma once
// An idempotent sink for the queue tests: each record is stored in a hash under its "id"
// (HSET, so writing it again changes nothing), and every write of an id is counted in
// "<key>:writes" so a test can see redeliveries. Thread-safe through the shared client.

#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <pipeline/record.hpp>
#include <pipeline/redis/client.hpp>
#include <pipeline/result.hpp>

namespace redis_test {

class hash_sink {
 public:
  using value_type = pipeline::record;

  hash_sink(std::shared_ptr<pipeline::redis::client> c, std::string key) : client_(std::move(c)), key_(std::move(key)) {}

  [[nodiscard]] auto write(std::span<const pipeline::record> records, std::stop_token stop) -> pipeline::result<void> {
    if (stop.stop_requested()) return pipeline::stopped_error();
    std::vector<std::vector<std::string>> commands;
    for (const auto& r : records) {
      const auto* id = r.find("id");
      if (id == nullptr || id->get_if<std::int64_t>() == nullptr) return pipeline::invalid_input_error("no integer id");
      const auto key = std::to_string(id->get<std::int64_t>());
      commands.push_back({"HSET", key_, key, fmt::format("{}", r)});
      commands.push_back({"HINCRBY", key_ + ":writes", key, "1"});
    }
    auto replies = client_->pipeline(commands);
    if (!replies) return std::move(replies).error();
    for (const auto& rep : *replies) {
      if (rep.kind == pipeline::redis::reply::type::error) return pipeline::redis::reply_error(rep.str);
    }
    return pipeline::ok();
  }

  [[nodiscard]] auto size() -> std::int64_t { return client_->command({"HLEN", key_}).value().integer; }
  [[nodiscard]] auto ids() -> std::vector<std::int64_t> {
    std::vector<std::int64_t> out;
    const auto keys = client_->command({"HKEYS", key_}).value();  // kept: the loop borrows it
    for (const auto& k : keys.elements) out.push_back(std::stoll(k.str));
    return out;
  }

 private:
  std::shared_ptr<pipeline::redis::client> client_;
  std::string key_;
};

}  // namespace redis_test
