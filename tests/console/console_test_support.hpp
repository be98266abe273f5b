#pragma once
// What the console's tests share: a console served on a free port, and the requests they send.

#include <chrono>
#include <future>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <pipeline/console/console.hpp>

namespace console_test {

using json = nlohmann::json;
using namespace std::chrono_literals;

inline constexpr std::string_view token = "s3cret-token";

// A console serving on a free port on a thread of its own, stopped and joined at the end.
class served_console {
 public:
  served_console(std::vector<pipeline::admin::console_store> stores, pipeline::admin::console_options options)
      : web_(std::move(stores), with_port_report(std::move(options))),
        serving_([this](std::stop_token stop) { served_ = web_.listen(0, stop); }) {
    port_ = port_promise_.get_future().get();
  }
  ~served_console() {
    serving_.request_stop();
    serving_.join();
  }
  served_console(const served_console&) = delete;
  auto operator=(const served_console&) -> served_console& = delete;

  [[nodiscard]] auto client() const -> httplib::Client {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10s);
    return c;
  }

 private:
  auto with_port_report(pipeline::admin::console_options options) -> pipeline::admin::console_options {
    options.on_listening = [this](std::uint16_t port) { port_promise_.set_value(port); };
    return options;
  }

  std::promise<std::uint16_t> port_promise_;
  pipeline::admin::console web_;
  pipeline::result<void> served_;
  std::uint16_t port_ = 0;
  std::jthread serving_;
};

inline auto bearer(std::string_view t) -> httplib::Headers { return {{"Authorization", fmt::format("Bearer {}", t)}}; }

inline auto body_json(const httplib::Result& r) -> json {
  EXPECT_TRUE(r) << "no answer";
  return r ? json::parse(r->body) : json{};
}

}  // namespace console_test
