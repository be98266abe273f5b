#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pipeline::detail {

/// One entry of a distributed queue (a Redis stream entry, a row of a PostgreSQL queue table)
/// as a worker receives it: what `queue_source` decodes. A value type.
struct queue_entry {
  std::string id;
  std::string frame;             ///< the batch as the producer framed it (detail/frame.hpp)
  std::uint64_t deliveries = 1;  ///< how often it was delivered, this time included
  bool framed = true;            ///< false: the entry has no batch (not written by a producer)
  /// Where the entry's first record was first added: the id of the producer's entry and the
  /// record's index in it. The id and 0 for an entry as the producer wrote it; for the
  /// one-record entries a reclaimed entry is split into, the original's id and the index the
  /// record had there. Stays the same however often the record is redelivered or split.
  std::string origin;
  std::size_t origin_index = 0;
};

}  // namespace pipeline::detail
