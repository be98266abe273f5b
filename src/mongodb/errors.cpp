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

// libmongoc's own codes (MONGOC_ERROR_STREAM_*, MONGOC_ERROR_SERVER_SELECTION_FAILURE) and the
// server's share one number space in `native_code`; the ones below are transient only in the
// domain named (a server code 3 or 5 is permanent), so kind and code together are unambiguous.
auto is_outage(const error& e) noexcept -> bool {
  if (e.kind != error_kind::transient || e.backend != "mongodb") return false;
  switch (e.native_code) {
    case MONGOC_ERROR_STREAM_NAME_RESOLUTION:  // stream: the host name did not resolve
    case MONGOC_ERROR_STREAM_SOCKET:           // stream: the connection broke (reset, closed, timed out)
    case MONGOC_ERROR_STREAM_CONNECT:          // stream: the connect was refused
    case MONGOC_ERROR_STREAM_NOT_ESTABLISHED:  // stream: no connection; also the server's HostUnreachable (6)
    case MONGOC_ERROR_SERVER_SELECTION_FAILURE:  // no server answered within serverSelectionTimeoutMS
    case 7:      // HostNotFound
    case 89:     // NetworkTimeout
    case 91:     // ShutdownInProgress
    case 133:    // FailedToSatisfyReadPreference: no primary yet
    case 189:    // PrimarySteppedDown
    case 9001:   // SocketException
    case 10107:  // NotWritablePrimary
    case 11600:  // InterruptedAtShutdown
    case 11602:  // InterruptedDueToReplStateChange
    case 13435:  // NotPrimaryNoSecondaryOk
    case 13436:  // NotPrimaryOrSecondary
      return true;
    default:
      return false;
  }
}

auto never_sent(const error& e) noexcept -> bool {
  return is_outage(e) && (e.native_code == MONGOC_ERROR_SERVER_SELECTION_FAILURE ||
                          e.native_code == MONGOC_ERROR_STREAM_CONNECT ||
                          e.native_code == MONGOC_ERROR_STREAM_NAME_RESOLUTION);
}

auto server_error(std::int64_t code, std::string_view message, std::string_view what) -> error {
  return error{kind_of_server_code(code), fmt::format("{}: {}", what, message), code, "mongodb"};
}

}  // namespace pipeline::mongodb::detail
