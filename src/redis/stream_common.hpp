#pragma once
// What producer and consumer share: creating the group, reading the group's depth.

#include <string>

#include <pipeline/redis/client.hpp>
#include <pipeline/redis/stream_options.hpp>
#include <pipeline/result.hpp>

namespace pipeline::redis::detail {

/// XGROUP CREATE … 0 MKSTREAM; an existing group is fine.
[[nodiscard]] auto ensure_group(client& c, const stream_options& o) -> result<void>;

/// The group's lag and pending count (XINFO GROUPS; lag falls back to XLEN when Redis does
/// not know it, an upper bound), and its last delivered id.
struct group_info {
  stream_depth depth;
  std::string last_delivered{"0-0"};
};
[[nodiscard]] auto read_group(client& c, const stream_options& o) -> result<group_info>;

/// Trims every entry that is acknowledged: XTRIM MINID at the lower of the oldest pending
/// entry and the entry after the group's last delivered id. Safe from any client at any time.
/// Returns the group as read before trimming.
[[nodiscard]] auto trim_acknowledged(client& c, const stream_options& o) -> result<group_info>;

}  // namespace pipeline::redis::detail
