#include <pipeline/file/jsonl_source.hpp>

#include <stdexcept>

#include "file_source.hpp"
#include "json_record.hpp"

namespace pipeline::file {
namespace {

auto make_format(const jsonl_source_options& o) -> detail::jsonl_format {
  if (o.max_members == 0) throw std::invalid_argument("jsonl_source: max_members must be > 0");
  if (o.max_depth == 0) throw std::invalid_argument("jsonl_source: max_depth must be > 0");
  return detail::jsonl_format{{o.max_members, o.max_depth, o.numbers_out_of_range}};
}

}  // namespace

template class detail::file_source_base<detail::jsonl_format, record>;

jsonl_source::jsonl_source(jsonl_source_options options)
    : file_source_base(detail::make_source_state(options.path, make_format(options),
                                                 detail::checked_limits("jsonl_source", options))) {}

}  // namespace pipeline::file
