#include <pipeline/redis/checkpoint_store.hpp>

#include <charconv>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "fields.hpp"

namespace pipeline::redis {
namespace {

// Compare-and-set in one script, so no other client runs between the read and the write.
// Returns {1, new_version} or {0, stored_version}. Versions stay below 2^53 (Lua numbers).
// A save found done already (one version up, at this position) is this save sent again after
// its reply was lost (the client resends during an outage): it succeeds with that version.
constexpr std::string_view save_script = R"lua(
local stored = redis.call('HGET', KEYS[1], 'version')
local v = 0
if stored then v = tonumber(stored) end
if v == nil then return redis.error_reply('checkpoint version is not a number: ' .. stored) end
if v == tonumber(ARGV[2]) + 1 and redis.call('HGET', KEYS[1], 'pos') == ARGV[1] then return {1, v} end
if v ~= tonumber(ARGV[2]) then return {0, v} end
redis.call('HSET', KEYS[1], 'pos', ARGV[1], 'version', v + 1)
return {1, v + 1}
)lua";

auto parse_version(const reply& r, std::uint64_t& out) -> bool {
  const auto& s = r.str;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc{} && p == s.data() + s.size();
}

// The checkpoints under one prefix: the backend of `checkpoint_store`.
class checkpoint_hashes final : public pipeline::detail::checkpoint_backend {
 public:
  checkpoint_hashes(std::shared_ptr<client> c, std::string prefix) : client_(std::move(c)), prefix_(std::move(prefix)) {
    if (!client_) throw std::invalid_argument("pipeline::redis::checkpoint_store: client is null");
    if (prefix_.empty()) throw std::invalid_argument("pipeline::redis::checkpoint_store: prefix is empty");
  }

  auto load(std::string_view key) -> result<checkpoint> override {
    const std::vector<std::string> args{"HMGET", key_of(key), "pos", "version"};
    auto r = client_->command(args);
    if (!r) return std::move(r).error();
    if (r->elements.size() != 2) return internal_error("redis checkpoint: HMGET returned an unexpected reply");
    checkpoint cp;
    if (r->elements[1].is_nil()) return cp;
    if (!parse_version(r->elements[1], cp.version) || cp.version == 0) {
      return permanent_error(fmt::format("redis checkpoint '{}': stored version '{}' is not a positive integer",
                                         key_of(key), r->elements[1].str));
    }
    cp.pos = position{r->elements[0].str};
    return cp;
  }

  auto save(std::string_view key, const position& pos, std::uint64_t expected_version)
      -> result<std::uint64_t> override {
    const std::vector<std::string> keys{key_of(key)};
    const std::vector<std::string> args{pos.bytes(), std::to_string(expected_version)};
    auto r = client_->eval(save_script, keys, args);
    if (!r) return std::move(r).error();
    if (r->elements.size() != 2) return internal_error("redis checkpoint: the save script returned an unexpected reply");
    const auto stored = static_cast<std::uint64_t>(r->elements[1].integer);
    if (r->elements[0].integer != 1) {
      return conflict_error(fmt::format("checkpoint '{}' is at version {}, not {}: another process saved it", key,
                                        stored, expected_version));
    }
    return stored;
  }

  auto keys() -> result<std::vector<std::string>> override {
    return detail::scan_names(*client_, prefix_ + ":checkpoint:", "hash");
  }

 private:
  auto key_of(std::string_view key) const -> std::string {
    return fmt::format("{}:checkpoint:{}", prefix_, key);
  }

  std::shared_ptr<client> client_;
  std::string prefix_;
};

}  // namespace

checkpoint_store::checkpoint_store(std::shared_ptr<client> c, checkpoint_store_options options)
    : basic_checkpoint_store(std::make_shared<checkpoint_hashes>(std::move(c), std::move(options.prefix))) {}

}  // namespace pipeline::redis
