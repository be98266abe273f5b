#pragma once

// A pooled connection as the relational layer's `connection` (for its shared SQL: the batch
// ledger) together with the libpq connection under it (for this adapter's own statements, in
// the same transaction). Private to src/postgres.

#include <memory>
#include <stop_token>

#include "connection.hpp"
#include "relational/dialect.hpp"

namespace pipeline::postgres::detail {

struct relational_lease {
  std::unique_ptr<pipeline::detail::relational::connection> relational;  // owns the pooled lease
  connection* native = nullptr;  ///< the same connection, valid while `relational` is
};

/// A connection of `db`'s pool (an outage waited out, up to `stop`), held until the lease goes.
[[nodiscard]] auto borrow_relational(database& db, const std::stop_token& stop) -> result<relational_lease>;

}  // namespace pipeline::postgres::detail
