#include <pipeline/file/jsonl_source.hpp>

#include "file_source.hpp"
#include "json_record.hpp"

namespace pipeline::file {

template class detail::file_source_base<detail::jsonl_format, record>;

jsonl_source::jsonl_source(jsonl_source_options options)
    : file_source_base(detail::make_source_state(
          options.path, detail::jsonl_format{},
          detail::checked_limits("jsonl_source", options.path, options.batch_size, options.max_record_bytes,
                                 options.read_buffer_bytes))) {}

}  // namespace pipeline::file
