#include <pipeline/mysql/database.hpp>

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

namespace pipeline::mysql {
namespace {

[[noreturn]] void malformed(std::string_view why) {
  throw std::invalid_argument(fmt::format("mysql URI: {} (expected mysql://user:password@host:port/db)", why));
}

auto hex_digit(char c) -> int {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoded; a NUL would cut the C string Connector/C is given, so it is refused.
auto decoded(std::string_view part, std::string_view what) -> std::string {
  std::string out;
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (part[i] != '%') {
      out += part[i];
      continue;
    }
    if (i + 2 >= part.size()) malformed(fmt::format("a truncated %-escape in the {}", what));
    const int hi = hex_digit(part[i + 1]);
    const int lo = hex_digit(part[i + 2]);
    if (hi < 0 || lo < 0) malformed(fmt::format("a bad %-escape in the {}", what));
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (out.find('\0') != std::string::npos) malformed(fmt::format("the {} holds a NUL", what));
  return out;
}

// The parts of the URI, and its query parameters into `tls` and `outage_budget` where given.
auto parse_uri(std::string_view uri, tls_options* tls, std::chrono::milliseconds* outage_budget) -> endpoint {
  constexpr std::string_view scheme = "mysql://";
  if (!uri.starts_with(scheme)) malformed("it does not start with mysql://");
  std::string_view rest = uri.substr(scheme.size());
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  endpoint e;
  // The password may hold '@' only percent-encoded; the last '@' ends the credentials.
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = credentials.find(':');
    e.user = decoded(credentials.substr(0, colon), "user");
    if (colon != std::string_view::npos) e.password = decoded(credentials.substr(colon + 1), "password");
  }
  std::string_view hostport = rest;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    e.database = decoded(rest.substr(slash + 1), "database");
  }
  if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    const auto port = hostport.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
      malformed(fmt::format("port '{}' is not 1-65535", port));
    }
    e.port = static_cast<std::uint16_t>(value);
    hostport = hostport.substr(0, colon);
  }
  if (hostport.empty()) malformed("no host");
  e.host = decoded(hostport, "host");
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto key = pair.substr(0, eq);
    const auto val = eq == std::string_view::npos ? std::string{} : decoded(pair.substr(eq + 1), key);
    if (key == "outage-budget-ms") {
      std::int64_t ms = -1;
      auto [end, ec] = std::from_chars(val.data(), val.data() + val.size(), ms);
      if (ec != std::errc{} || end != val.data() + val.size() || ms < 0) {
        malformed(fmt::format("outage-budget-ms '{}' is not a number of milliseconds", val));
      }
      if (outage_budget != nullptr) *outage_budget = std::chrono::milliseconds{ms};
      continue;
    }
    if (tls == nullptr) continue;
    if (key == "ssl-ca") tls->ca = val;
    else if (key == "ssl-cert") tls->cert = val;
    else if (key == "ssl-key") tls->key = val;
    else if (key == "ssl-mode" && val == "REQUIRED") tls->required = true;
    else if (key == "ssl-mode" && val == "VERIFY_IDENTITY") tls->required = tls->verify_server_cert = true;
    else malformed(fmt::format("unknown parameter '{}'", pair));
  }
  return e;
}

}  // namespace

auto endpoint::parse(std::string_view uri, tls_options* tls) -> endpoint { return parse_uri(uri, tls, nullptr); }

auto endpoint::parse(std::string_view uri, database_options* options) -> endpoint {
  return options == nullptr ? parse_uri(uri, nullptr, nullptr) : parse_uri(uri, &options->tls, &options->outage_budget);
}

}  // namespace pipeline::mysql
