#include "errors.hpp"

#include <fmt/format.h>

namespace pipeline::mongodb::detail {

auto kind_of_server_code(std::int64_t code) noexcept -> error_kind {
  switch (code) {
    // The server or the network between: another attempt may meet a healthy primary.
    case 6:      // HostUnreachable
    case 7:      // HostNotFound
    case 50:     // MaxTimeMSExpired
    case 64:     // WriteConcernFailed (wtimeout)
    case 89:     // NetworkTimeout
    case 91:     // ShutdownInProgress
    case 112:    // WriteConflict
    case 133:    // FailedToSatisfyReadPreference
    case 189:    // PrimarySteppedDown
    case 262:    // ExceededTimeLimit
    case 9001:   // SocketException
    case 10107:  // NotWritablePrimary
    case 11600:  // InterruptedAtShutdown
    case 11602:  // InterruptedDueToReplStateChange
    case 13388:  // StaleConfig
    case 13435:  // NotPrimaryNoSecondaryOk
    case 13436:  // NotPrimaryOrSecondary
      return error_kind::transient;
    case 121:  // DocumentValidationFailure: the document breaks the collection's validator
      return error_kind::invalid_input;
    default:  // 11000 duplicate key, 2 BadValue, 13 Unauthorized, …
      return error_kind::permanent;
  }
}

auto to_error(const bson_error_t& e, std::string_view what) -> error {
  auto kind = error_kind::permanent;
  switch (e.domain) {
    case MONGOC_ERROR_STREAM:            // connection refused, reset, socket timeout
    case MONGOC_ERROR_SERVER_SELECTION:  // no server answered in time
      kind = error_kind::transient;
      break;
    case MONGOC_ERROR_SERVER:
    case MONGOC_ERROR_WRITE_CONCERN:
    case MONGOC_ERROR_QUERY:
      kind = kind_of_server_code(e.code);
      break;
    case MONGOC_ERROR_BSON:
      kind = error_kind::invalid_input;
      break;
    case MONGOC_ERROR_COMMAND:
      // Client-side validation (a key with '$' or '.', invalid UTF-8) is about the document.
      kind = e.code == MONGOC_ERROR_COMMAND_INVALID_ARG ? error_kind::invalid_input : kind_of_server_code(e.code);
      break;
    default:  // client, protocol, auth, TLS setup
      kind = error_kind::permanent;
      break;
  }
  return error{kind, fmt::format("{}: {}", what, static_cast<const char*>(e.message)), e.code, "mongodb"};
}

auto server_error(std::int64_t code, std::string_view message, std::string_view what) -> error {
  return error{kind_of_server_code(code), fmt::format("{}: {}", what, message), code, "mongodb"};
}

}  // namespace pipeline::mongodb::detail
