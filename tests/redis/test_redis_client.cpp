// The connection: URIs, authentication, timeouts, classification and reconnecting, against
// real servers (the suite's, and private ones the tests pause, protect or restart).
#include <pipeline/redis/client.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <stop_token>
#include <thread>
#include <stdexcept>
#include <string>

#include "redis/redis_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using pipeline::error_kind;
using pipeline::redis::client;
using pipeline::redis::parse_uri;

TEST(redis_uri, host_port_and_db_are_parsed) {
  auto u = parse_uri("redis://127.0.0.1:16379/3").value();
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 16379);
  EXPECT_EQ(u.db, 3);
  EXPECT_TRUE(u.user.empty());
  EXPECT_TRUE(u.password.empty());
}

TEST(redis_uri, port_and_db_default_to_6379_and_0) {
  auto u = parse_uri("redis://cache.internal").value();
  EXPECT_EQ(u.host, "cache.internal");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.db, 0);
}

TEST(redis_uri, user_and_percent_encoded_password_are_decoded) {
  auto u = parse_uri("redis://etl:p%40ss%3Aword@h:1/0").value();
  EXPECT_EQ(u.user, "etl");
  EXPECT_EQ(u.password, "p@ss:word");
  auto legacy = parse_uri("redis://:secret@h").value();
  EXPECT_TRUE(legacy.user.empty());
  EXPECT_EQ(legacy.password, "secret");
}

TEST(redis_uri, malformed_uris_are_invalid_input_without_the_password) {
  for (const char* bad : {"http://h:1/0", "redis://", "redis://h:0/0", "redis://h:70000/0", "redis://h:x/0",
                          "redis://h:1/-1", "redis://h:1/db", "redis://u:p%zz@h:1/0"}) {
    auto r = parse_uri(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, error_kind::invalid_input) << bad;
  }
  auto r = parse_uri("redis://u:topsecret@h:0/0");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("topsecret"), std::string::npos);
}

TEST(redis_client, a_malformed_uri_throws_at_construction) {
  EXPECT_THROW((void)client::connect({.uri = "mysql://h/0"}), std::invalid_argument);
}

TEST(redis_client, commands_round_trip_binary_values) {
  auto c = redis_test::connect();
  const auto key = pipeline::test::unique_name("bin");
  const std::string value{"a\0b\r\n\xff", 6};
  const std::vector<std::string> set{"SET", key, value};
  ASSERT_TRUE(c->command(set));
  auto got = c->command({"GET", key});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->str, value);
}

TEST(redis_client, the_db_of_the_uri_is_selected) {
  auto uri = redis_test::suite_uri();
  uri = uri.substr(0, uri.rfind('/')) + "/5";
  auto c = redis_test::connect(uri);
  auto info = c->command({"CLIENT", "INFO"});
  ASSERT_TRUE(info);
  EXPECT_NE(info->str.find(" db=5 "), std::string::npos) << info->str;
}

TEST(redis_client, a_closed_port_is_a_transient_error_naming_the_address) {
  const auto port = redis_test::free_port();
  const auto start = std::chrono::steady_clock::now();
  auto c = client::connect({.uri = fmt::format("redis://127.0.0.1:{}/0", port), .connect_timeout = 1000ms,
                            .outage_budget = 0ms});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, error_kind::transient);
  EXPECT_NE(c.error().message.find(fmt::format("127.0.0.1:{}", port)), std::string::npos) << c.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(redis_client, a_wrong_password_is_a_permanent_authentication_error) {
  redis_test::private_server server{{"--requirepass", "right-one"}};
  auto c = client::connect({.uri = fmt::format("redis://:wrong-one@127.0.0.1:{}/0", server.port())});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, error_kind::permanent);
  EXPECT_NE(c.error().message.find("authentication failed"), std::string::npos) << c.error().message;
  EXPECT_EQ(c.error().message.find("wrong-one"), std::string::npos);
  auto good = client::connect({.uri = fmt::format("redis://:right-one@127.0.0.1:{}/0", server.port())});
  EXPECT_TRUE(good) << good.error().message;
}

TEST(redis_client, no_password_for_a_protected_server_is_a_permanent_authentication_error) {
  redis_test::private_server server{{"--requirepass", "right-one"}};
  auto c = client::connect({.uri = server.uri()});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, error_kind::permanent);
  EXPECT_NE(c.error().message.find("NOAUTH"), std::string::npos) << c.error().message;
}

TEST(redis_client, a_paused_server_times_out_instead_of_hanging) {
  redis_test::private_server server;
  auto c = client::connect({.uri = server.uri(), .connect_timeout = 300ms, .command_timeout = 300ms,
                            .outage_budget = 0ms}).value();
  server.pause();
  const auto start = std::chrono::steady_clock::now();
  auto r = c->command({"PING"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::transient);
  EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
  // A new connection to the paused server times out too (TCP connects; no reply comes).
  auto fresh = client::connect({.uri = server.uri(), .connect_timeout = 300ms, .command_timeout = 300ms,
                                .outage_budget = 0ms});
  ASSERT_FALSE(fresh);
  EXPECT_EQ(fresh.error().kind, error_kind::transient);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  server.resume();
  EXPECT_TRUE(c->command({"PING"})) << "the client reconnects once the server answers again";
}

TEST(redis_client, a_lost_connection_is_transient_and_the_next_call_reconnects) {
  redis_test::private_server server;
  auto c = client::connect({.uri = server.uri(), .connect_timeout = 300ms, .outage_budget = 0ms}).value();
  ASSERT_TRUE(c->command({"SET", "k", "v"}));
  server.kill();
  auto lost = c->command({"GET", "k"});
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().kind, error_kind::transient);
  server.start();
  auto back = c->command({"PING"});
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->str, "PONG");
}

// A restart within the outage budget is waited out: the call succeeds once the server is back,
// and the client says when it started waiting and how long the server was away.
TEST(redis_client, a_restart_within_the_outage_budget_is_waited_out) {
  redis_test::private_server server;
  redis_test::captured_log log;
  auto c = client::connect({.uri = server.uri(), .connect_timeout = 300ms, .log = log.logger()}).value();
  ASSERT_TRUE(c->command({"SET", "k", "v"}));
  server.kill();
  std::jthread restart{[&] {
    std::this_thread::sleep_for(1s);
    server.start();
  }};
  const auto start = std::chrono::steady_clock::now();
  auto r = c->command({"PING"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->str, "PONG");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_EQ(log.count("waiting up to 300.0 s for it to come back"), 1u);
  EXPECT_EQ(log.count("is back after"), 1u);
}

TEST(redis_client, a_server_away_longer_than_the_budget_is_a_transient_error_saying_so) {
  redis_test::private_server server;
  auto c = client::connect({.uri = server.uri(), .connect_timeout = 300ms, .outage_budget = 700ms}).value();
  server.kill();
  const auto start = std::chrono::steady_clock::now();
  auto r = c->command({"PING"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, error_kind::transient);
  EXPECT_NE(r.error().message.find("longer than the outage budget"), std::string::npos) << r.error().message;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 650ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  // The budget is the outage's: the next call tries once and fails at once.
  const auto again = std::chrono::steady_clock::now();
  EXPECT_FALSE(c->command({"PING"}));
  EXPECT_LT(std::chrono::steady_clock::now() - again, 1s);
  server.start();
  EXPECT_TRUE(c->command({"PING"})) << "the client reconnects once the server is back";
}

TEST(redis_client, stop_ends_the_wait_for_a_server_that_is_down) {
  const auto port = redis_test::free_port();
  std::stop_source stop;
  std::jthread stopper{[&] {
    std::this_thread::sleep_for(300ms);
    stop.request_stop();
  }};
  const auto start = std::chrono::steady_clock::now();
  auto c = client::connect({.uri = fmt::format("redis://127.0.0.1:{}/0", port), .connect_timeout = 200ms},
                           stop.get_token());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, error_kind::stopped);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(redis_client, a_server_that_stops_answering_for_a_while_is_waited_for) {
  // DEBUG SLEEP blocks the server: replies time out, a failed try and a wait, not an error.
  // (LOADING at connect and mid-run: fault.redis_restart.)
  redis_test::private_server server{{"--enable-debug-command", "yes"}};
  auto c = client::connect({.uri = server.uri(), .connect_timeout = 300ms, .command_timeout = 300ms}).value();
  std::jthread sleeper{[&] { (void)redis_test::connect(server.uri())->command({"DEBUG", "SLEEP", "1.5"}); }};
  std::this_thread::sleep_for(200ms);
  auto r = c->command({"PING"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->str, "PONG");
}

TEST(redis_client, error_replies_are_classified) {
  auto c = redis_test::connect();
  const auto key = pipeline::test::unique_name("str");
  ASSERT_TRUE(c->command({"SET", key, "text"}));
  auto wrongtype = c->command({"LPUSH", key, "x"});
  ASSERT_FALSE(wrongtype);
  EXPECT_EQ(wrongtype.error().kind, error_kind::permanent);
  EXPECT_NE(wrongtype.error().message.find("WRONGTYPE"), std::string::npos);
  auto syntax = c->command({"SET", key, "v", "NOT-AN-OPTION"});
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().kind, error_kind::invalid_input);
  auto not_int = c->command({"INCR", key});
  ASSERT_FALSE(not_int);
  EXPECT_EQ(not_int.error().kind, error_kind::invalid_input);
  for (const char* transient : {"LOADING Redis is loading the dataset in memory", "BUSY Redis is busy running a script",
                                "TRYAGAIN Multiple keys request during rehashing of slot",
                                "UNBLOCKED the stream key no longer exists"}) {
    EXPECT_EQ(pipeline::redis::reply_error(transient).kind, error_kind::transient) << transient;
  }
  EXPECT_EQ(pipeline::redis::reply_error("WRONGPASS invalid username-password pair").kind, error_kind::permanent);
}

TEST(redis_client, a_policy_other_than_noeviction_is_warned_about) {
  redis_test::private_server server{{"--maxmemory-policy", "allkeys-lru"}};
  auto c = client::connect({.uri = server.uri()}).value();
  std::string warned;
  pipeline::logger log{[&](pipeline::log_level, std::string_view m) { warned = m; }};
  EXPECT_EQ(pipeline::redis::check_maxmemory_policy(*c, log).value(), "allkeys-lru");
  EXPECT_NE(warned.find("noeviction"), std::string::npos) << warned;
  warned.clear();
  ASSERT_TRUE(c->command({"CONFIG", "SET", "maxmemory-policy", "noeviction"}));
  EXPECT_EQ(pipeline::redis::check_maxmemory_policy(*c, log).value(), "noeviction");
  EXPECT_TRUE(warned.empty());
}

}  // namespace
