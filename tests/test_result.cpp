#include <pipeline/result.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

namespace {

auto parse_positive(int v) -> pipeline::result<int> {
  if (v <= 0) return pipeline::invalid_input_error("not positive");
  return v;
}

TEST(result, holds_a_value) {
  auto r = parse_positive(3);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 3);
  EXPECT_EQ(r.value(), 3);
}

TEST(result, holds_an_error_with_its_kind) {
  auto r = parse_positive(-1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::invalid_input);
  EXPECT_EQ(r.error().message, "not positive");
  EXPECT_EQ(r.value_or(7), 7);
}

TEST(result, value_on_error_throws_with_the_error) {
  auto r = parse_positive(0);
  try {
    (void)r.value();
    FAIL() << "value() did not throw";
  } catch (const pipeline::bad_result_access& e) {
    EXPECT_EQ(e.error().kind, pipeline::error_kind::invalid_input);
    EXPECT_NE(std::string(e.what()).find("not positive"), std::string::npos);
  }
}

TEST(result, move_only_values_move_out) {
  pipeline::result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  auto p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

TEST(result, void_result_is_ok_or_error) {
  pipeline::result<void> good = pipeline::ok();
  pipeline::result<void> bad = pipeline::transient_error("timeout");
  EXPECT_TRUE(good);
  EXPECT_NO_THROW(good.value());
  EXPECT_FALSE(bad);
  EXPECT_TRUE(bad.error().retryable());
  EXPECT_THROW(bad.value(), pipeline::bad_result_access);
}

TEST(error, only_transient_is_retryable) {
  EXPECT_TRUE(pipeline::transient_error("x").retryable());
  EXPECT_FALSE(pipeline::permanent_error("x").retryable());
  EXPECT_FALSE(pipeline::invalid_input_error("x").retryable());
  EXPECT_FALSE(pipeline::conflict_error("x").retryable());
  EXPECT_FALSE(pipeline::stopped_error().retryable());
  EXPECT_FALSE(pipeline::internal_error("x").retryable());
}

TEST(error, every_kind_reads_back_from_its_name_and_nothing_else_does) {
  for (const auto kind : {pipeline::error_kind::transient, pipeline::error_kind::permanent,
                          pipeline::error_kind::invalid_input, pipeline::error_kind::conflict,
                          pipeline::error_kind::not_found, pipeline::error_kind::stopped,
                          pipeline::error_kind::internal}) {
    EXPECT_EQ(pipeline::parse_error_kind(pipeline::to_string(kind)), kind);
  }
  for (const auto* other : {"", "Transient", "unknown", "transient ", "retry"}) {
    EXPECT_EQ(pipeline::parse_error_kind(other), std::nullopt) << other;
  }
}

TEST(error, formats_with_kind_message_and_native_code) {
  pipeline::error e{pipeline::error_kind::transient, "deadlock found", 1213, "mysql"};
  EXPECT_EQ(fmt::format("{}", e), "transient: deadlock found (mysql 1213)");
  EXPECT_EQ(fmt::format("{}", pipeline::permanent_error("dup")), "permanent: dup");
}

}  // namespace
