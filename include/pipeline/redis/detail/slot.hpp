#pragma once
// Redis Cluster's key → slot mapping (CRC16-XMODEM of the key, or of its `{hash tag}`, mod
// 16384), and which argument of a command is the key the client routes it by.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pipeline::redis::detail {

inline constexpr std::uint16_t slot_count = 16384;

/// CRC16 with polynomial 0x1021 and initial value 0 (XMODEM), as Redis Cluster uses it.
[[nodiscard]] constexpr auto crc16_xmodem(std::string_view bytes) noexcept -> std::uint16_t {
  std::uint32_t crc = 0;
  for (const char c : bytes) {
    crc ^= static_cast<std::uint32_t>(static_cast<unsigned char>(c)) << 8U;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x8000U) != 0 ? (crc << 1U) ^ 0x1021U : crc << 1U;
    crc &= 0xffffU;
  }
  return static_cast<std::uint16_t>(crc);
}

/// The part of `key` that is hashed: what lies between the first `{` and the first `}` after
/// it when that is not empty, else the whole key.
[[nodiscard]] constexpr auto hash_tag(std::string_view key) noexcept -> std::string_view {
  const auto open = key.find('{');
  if (open == std::string_view::npos) return key;
  const auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

/// The cluster slot of `key` (what `CLUSTER KEYSLOT key` answers).
[[nodiscard]] constexpr auto key_slot(std::string_view key) noexcept -> std::uint16_t {
  return static_cast<std::uint16_t>(crc16_xmodem(hash_tag(key)) % slot_count);
}

namespace slot_internal {

[[nodiscard]] constexpr auto iequals(std::string_view a, std::string_view b) noexcept -> bool {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

[[nodiscard]] constexpr auto is_one_of(std::string_view name, std::initializer_list<std::string_view> names) noexcept
    -> bool {
  for (const auto n : names) {
    if (iequals(name, n)) return true;
  }
  return false;
}

}  // namespace slot_internal

/// The key a command is routed by: args[1] for ordinary commands; the first key for
/// EVAL/EVALSHA/FCALL (none when numkeys is 0); the first stream after STREAMS for
/// XREAD/XREADGROUP; args[2] for XGROUP, XINFO, OBJECT and MEMORY USAGE. None for commands
/// without a key (PING, INFO, CONFIG, TIME, SCRIPT, CLUSTER, MIGRATE, MULTI, EXEC, …): the
/// client sends those to the node it connected to.
[[nodiscard]] inline auto command_key(std::span<const std::string> args) -> std::optional<std::string_view> {
  using slot_internal::is_one_of;
  if (args.size() < 2) return std::nullopt;
  const std::string_view name = args[0];
  if (is_one_of(name, {"PING", "ECHO", "INFO", "CONFIG", "TIME", "SCRIPT", "CLUSTER", "ASKING", "AUTH", "SELECT",
                       "HELLO", "CLIENT", "COMMAND", "DBSIZE", "FLUSHALL", "FLUSHDB", "MULTI", "EXEC", "DISCARD",
                       "WAIT", "SLOWLOG", "LATENCY", "MONITOR", "SAVE", "BGSAVE", "BGREWRITEAOF", "LASTSAVE",
                       "DEBUG", "READONLY", "READWRITE", "RESET", "QUIT", "ROLE", "SHUTDOWN", "ACL", "FUNCTION",
                       "MODULE", "PUBLISH", "SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "PUBSUB",
                       "RANDOMKEY", "SCAN", "KEYS", "SWAPDB", "REPLICAOF", "SLAVEOF", "MIGRATE", "LOLWUT"})) {
    return std::nullopt;
  }
  if (is_one_of(name, {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"})) {
    if (args.size() < 4 || args[2].empty() || args[2] == "0") return std::nullopt;
    return std::string_view{args[3]};
  }
  if (is_one_of(name, {"XREAD", "XREADGROUP"})) {
    for (std::size_t i = 1; i + 1 < args.size(); ++i) {
      if (slot_internal::iequals(args[i], "STREAMS")) return std::string_view{args[i + 1]};
    }
    return std::nullopt;
  }
  if (is_one_of(name, {"XGROUP", "XINFO", "OBJECT", "MEMORY"})) {
    if (args.size() < 3 || (slot_internal::iequals(name, "MEMORY") && !slot_internal::iequals(args[1], "USAGE"))) {
      return std::nullopt;
    }
    return std::string_view{args[2]};
  }
  return std::string_view{args[1]};
}

}  // namespace pipeline::redis::detail
