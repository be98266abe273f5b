#include "connection.hpp"

#include <errmsg.h>
#include <mysqld_error.h>

#include <climits>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>

#include <pipeline/detail/identifier.hpp>

namespace pipeline::mysql::detail {
namespace {

// Connector/C wants its library set up once, before threads use it.
void init_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (mysql_library_init(0, nullptr, nullptr) != 0) throw std::runtime_error("mysql_library_init failed");
  });
}

auto seconds_option(std::chrono::seconds s) -> unsigned int {
  return static_cast<unsigned int>(std::min<std::int64_t>(s.count(), UINT_MAX));
}

}  // namespace

auto kind_of(unsigned int code) noexcept -> error_kind {
  switch (code) {
    case CR_CONNECTION_ERROR:     // 2002
    case CR_CONN_HOST_ERROR:      // 2003
    case CR_SERVER_GONE_ERROR:    // 2006
    case CR_SERVER_LOST:          // 2013
    case CR_SERVER_LOST_EXTENDED: // 2055
    case ER_CON_COUNT_ERROR:      // 1040 too many connections
    case ER_SERVER_SHUTDOWN:      // 1053
    case ER_NET_READ_ERROR:       // 1158
    case ER_NET_READ_INTERRUPTED: // 1159
    case ER_NET_ERROR_ON_WRITE:   // 1160
    case ER_NET_WRITE_INTERRUPTED:// 1161
    case ER_LOCK_WAIT_TIMEOUT:    // 1205
    case ER_LOCK_DEADLOCK:        // 1213
    case ER_OPTION_PREVENTS_STATEMENT:  // 1290, e.g. --read-only during a failover
    case ER_QUERY_INTERRUPTED:    // 1317
    case ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION:  // 1792
    case 1836:                    // ER_READ_ONLY_MODE
    case ER_CONNECTION_KILLED:    // 1927
      return error_kind::transient;
    default:
      return error_kind::permanent;
  }
}

auto breaks_connection(unsigned int code) noexcept -> bool {
  switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case CR_COMMANDS_OUT_OF_SYNC:  // the protocol state is unknown: start afresh
    case ER_SERVER_SHUTDOWN:
    case ER_NET_READ_ERROR:
    case ER_NET_READ_INTERRUPTED:
    case ER_NET_ERROR_ON_WRITE:
    case ER_NET_WRITE_INTERRUPTED:
    case ER_CONNECTION_KILLED:
      return true;
    default:
      return false;
  }
}

auto is_outage(const error& e) noexcept -> bool {
  if (e.kind != error_kind::transient || e.backend != "mysql") return false;
  switch (e.native_code) {
    case CR_CONNECTION_ERROR:      // 2002 refused (socket): down, or not listening yet
    case CR_CONN_HOST_ERROR:       // 2003 refused (TCP)
    case CR_SERVER_GONE_ERROR:     // 2006
    case CR_SERVER_LOST:           // 2013, also during the handshake of a server still starting
    case CR_SERVER_LOST_EXTENDED:  // 2055
    case ER_SERVER_SHUTDOWN:       // 1053
    case ER_NET_READ_ERROR:        // 1158
    case ER_NET_READ_INTERRUPTED:  // 1159
    case ER_NET_ERROR_ON_WRITE:    // 1160
    case ER_NET_WRITE_INTERRUPTED: // 1161
    case ER_CONNECTION_KILLED:     // 1927, as a shutting-down server ends its sessions
      return true;
    default:
      return false;
  }
}

auto make_error(unsigned int code, std::string_view message, std::string_view context) -> error {
  return error{kind_of(code), fmt::format("{}: {}", context, message), static_cast<std::int64_t>(code), "mysql"};
}

statement::~statement() {
  if (st_ != nullptr) mysql_stmt_close(st_);
}

auto statement::failure(std::string_view context) -> error {
  const unsigned int code = mysql_stmt_errno(st_);
  owner_->note(code);
  return make_error(code, mysql_stmt_error(st_), context);
}

auto statement::execute(MYSQL_BIND* params, std::string_view context) -> result<void> {
  if (params != nullptr && mysql_stmt_bind_param(st_, params) != 0) return failure(context);
  if (mysql_stmt_execute(st_) != 0) return failure(context);
  return ok();
}

auto connection::open(const endpoint& where, const database_options& options) -> result<std::unique_ptr<connection>> {
  init_library();
  MYSQL* mysql = mysql_init(nullptr);
  if (mysql == nullptr) return transient_error("mysql_init: out of memory");
  std::unique_ptr<connection> c{new connection(mysql)};  // closes on every path from here

  const unsigned int connect = seconds_option(options.connect_timeout);
  const unsigned int read = seconds_option(options.read_timeout);
  const unsigned int write = seconds_option(options.write_timeout);
  const my_bool local_infile = options.local_infile ? 1 : 0;
  mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &connect);
  mysql_options(mysql, MYSQL_OPT_READ_TIMEOUT, &read);
  mysql_options(mysql, MYSQL_OPT_WRITE_TIMEOUT, &write);
  mysql_options(mysql, MYSQL_OPT_LOCAL_INFILE, &local_infile);
  mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const auto& tls = options.tls;
  if (!tls.ca.empty()) mysql_options(mysql, MYSQL_OPT_SSL_CA, tls.ca.c_str());
  if (!tls.cert.empty()) mysql_options(mysql, MYSQL_OPT_SSL_CERT, tls.cert.c_str());
  if (!tls.key.empty()) mysql_options(mysql, MYSQL_OPT_SSL_KEY, tls.key.c_str());
  if (tls.required) {
    const my_bool on = 1;
    mysql_options(mysql, MYSQL_OPT_SSL_ENFORCE, &on);
  }
  if (tls.verify_server_cert) {
    const my_bool on = 1;
    mysql_options(mysql, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
  }
  if (mysql_real_connect(mysql, where.host.c_str(), where.user.c_str(), where.password.c_str(),
                         where.database.empty() ? nullptr : where.database.c_str(), where.port, nullptr, 0) ==
      nullptr) {
    const unsigned int code = mysql_errno(mysql);
    auto e = make_error(code, mysql_error(mysql), fmt::format("connecting to {}:{}", where.host, where.port));
    // A refused or timed-out connect may work later; a wrong password or database will not.
    return e;
  }
  // UTC for TIMESTAMP columns; strict mode so that a value that does not fit fails its row
  // (and reaches the DLQ) instead of being cut or zeroed with a warning; every warning of a
  // statement kept (the table sink reads which rows an INSERT IGNORE skipped from them).
  if (auto set = c->execute("SET time_zone = '+00:00', "
                            "sql_mode = CONCAT_WS(',', @@sql_mode, 'STRICT_ALL_TABLES'), max_error_count = 65535");
      !set) {
    return std::move(set).error();
  }
  return c;
}

connection::~connection() { mysql_close(mysql_); }

void connection::note(unsigned int code) noexcept {
  if (breaks_connection(code)) broken_ = true;
}

auto connection::failure(std::string_view context) -> error {
  const unsigned int code = mysql_errno(mysql_);
  note(code);
  return make_error(code, mysql_error(mysql_), context);
}

auto connection::query(std::string_view sql, std::string_view context) -> result<void> {
  if (mysql_real_query(mysql_, sql.data(), sql.size()) != 0) return failure(context);
  return ok();
}

auto connection::prepare(std::string_view sql) -> result<statement> {
  MYSQL_STMT* st = mysql_stmt_init(mysql_);
  if (st == nullptr) return failure("mysql_stmt_init");
  statement s{st, *this};
  if (mysql_stmt_prepare(st, sql.data(), sql.size()) != 0) return s.failure(fmt::format("preparing {}", sql));
  return s;
}

auto quoted_identifier(std::string_view name, std::string_view what) -> std::string {
  pipeline::detail::require_identifier(name, what);
  return fmt::format("`{}`", name);
}

void require_database(const std::shared_ptr<database>& db, std::string_view what) {
  if (db == nullptr) throw std::invalid_argument(fmt::format("{}: db is null", what));
}

}  // namespace pipeline::mysql::detail
