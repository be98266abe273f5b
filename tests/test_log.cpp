#include <pipeline/log.hpp>

#include <fmt/format.h>  // the formatter below reuses fmt's own
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using pipeline::log_level;
using pipeline::logger;

// Counts how often it is formatted, to show that disabled levels format nothing.
struct counted {
  int* formatted;
};

struct captured {
  std::mutex mutex;
  std::vector<std::pair<log_level, std::string>> lines;

  auto callback() -> pipeline::log_callback {
    return [this](log_level level, std::string_view message) {
      std::lock_guard lock(mutex);
      lines.emplace_back(level, std::string(message));
    };
  }
};

}  // namespace

template <>
struct fmt::formatter<counted> : fmt::formatter<std::string_view> {
  auto format(const counted& c, format_context& ctx) const -> format_context::iterator {
    ++*c.formatted;
    return fmt::formatter<std::string_view>::format("counted", ctx);
  }
};

namespace {

TEST(logger, default_constructed_drops_everything) {
  logger log;
  EXPECT_FALSE(log.enabled(log_level::error));
  int formatted = 0;
  log.error("{}", counted{&formatted});
  EXPECT_EQ(formatted, 0);
}

TEST(logger, passes_the_level_and_the_formatted_message) {
  captured out;
  logger log{out.callback(), log_level::debug};
  log.log(log_level::warn, "read {} records from {}", 500, "orders");
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(out.lines[0], std::pair(log_level::warn, std::string("read 500 records from orders")));
}

TEST(logger, messages_below_the_minimum_are_neither_formatted_nor_passed) {
  captured out;
  logger log{out.callback(), log_level::warn};
  int formatted = 0;
  log.info("{}", counted{&formatted});
  log.debug("{}", counted{&formatted});
  EXPECT_EQ(formatted, 0);
  EXPECT_TRUE(out.lines.empty());
  log.error("{}", counted{&formatted});
  EXPECT_EQ(formatted, 1);
  EXPECT_EQ(out.lines.size(), 1u);
}

TEST(logger, minimum_level_defaults_to_info) {
  captured out;
  logger log{out.callback()};
  EXPECT_EQ(log.min_level(), log_level::info);
  EXPECT_FALSE(log.enabled(log_level::debug));
  EXPECT_TRUE(log.enabled(log_level::info));
}

TEST(logger, shorthands_use_their_level) {
  captured out;
  logger log{out.callback(), log_level::debug};
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  EXPECT_EQ(out.lines, (std::vector<std::pair<log_level, std::string>>{
                           {log_level::debug, "d"}, {log_level::info, "i"}, {log_level::warn, "w"}, {log_level::error, "e"}}));
}

TEST(logger, long_messages_are_passed_whole) {
  captured out;
  logger log{out.callback()};
  const std::string long_text(5000, 'x');
  log.info("<{}>", long_text);
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(out.lines[0].second, "<" + long_text + ">");
}

TEST(logger, callback_may_be_called_from_several_threads) {
  captured out;
  const logger log{out.callback()};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < 1000; ++i) log.info("thread {} line {}", t, i);
      });
    }
  }
  EXPECT_EQ(out.lines.size(), 4000u);
}

TEST(log_level, has_a_name_for_each_level) {
  EXPECT_EQ(fmt::format("{} {} {} {}", log_level::debug, log_level::info, log_level::warn, log_level::error),
            "debug info warn error");
}

TEST(stderr_log_callback, writes_one_line_per_message) {
  testing::internal::CaptureStderr();
  logger log{pipeline::stderr_log_callback()};
  log.warn("queue {} is full", "orders");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "pipeline warn: queue orders is full\n");
}

}  // namespace
