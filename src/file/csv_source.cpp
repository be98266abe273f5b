#include <pipeline/file/csv_source.hpp>

#include <stdexcept>

#include "csv_format.hpp"
#include "file_source.hpp"

namespace pipeline::file {
namespace {

auto make_format(const csv_source_options& o) -> detail::csv_format {
  if (o.delimiter == '"' || o.delimiter == '\r' || o.delimiter == '\n') {
    throw std::invalid_argument("csv_source: delimiter must not be a quote, CR or LF");
  }
  if (o.max_fields == 0) throw std::invalid_argument("csv_source: max_fields must be > 0");
  return detail::csv_format{o.delimiter, o.has_header, o.max_fields};
}

}  // namespace

template class detail::file_source_base<detail::csv_format, record>;

csv_source::csv_source(csv_source_options options)
    : file_source_base(detail::make_source_state(options.path, make_format(options),
                                                 detail::checked_limits("csv_source", options))) {}

}  // namespace pipeline::file
