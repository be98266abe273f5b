#pragma once

#include <pipeline/detail/partition_planner.hpp>
#include <pipeline/postgres/keyset_source.hpp>

namespace pipeline::postgres {

// plan_key_ranges, plan_date_intervals (dates: a DATE, TIMESTAMP or TIMESTAMPTZ column) and
// restrict_to (its values marked `$n+1` … after the filter's own `$1` … `$n`), as
// pipeline/detail/partition_planner.hpp documents them.
using pipeline::detail::plan_date_intervals, pipeline::detail::plan_key_ranges;
inline constexpr pipeline::detail::restrict_to_partition<database> restrict_to{};

}  // namespace pipeline::postgres
