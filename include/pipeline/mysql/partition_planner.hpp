#pragma once

#include <pipeline/detail/partition_planner.hpp>
#include <pipeline/mysql/keyset_source.hpp>

namespace pipeline::mysql {

// plan_key_ranges, plan_date_intervals and restrict_to (its values marked `?`),
// as pipeline/detail/partition_planner.hpp documents them.
using pipeline::detail::plan_date_intervals, pipeline::detail::plan_key_ranges;
inline constexpr pipeline::detail::restrict_to_partition<database> restrict_to{};

}  // namespace pipeline::mysql
