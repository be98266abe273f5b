// The private pieces of pipeline::file (src/file), where the public types cannot reach a case:
// a read that fails once, a stop that arrives mid-batch, the text codecs' edges.
#include <cstddef>
#include <stop_token>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "batch_reader.hpp"
#include "byte_stream.hpp"
#include "json_record.hpp"
#include "text_codecs.hpp"

#include "file_test_support.hpp"

namespace {

using pipeline::error_kind;
using pipeline::position;
using pipeline::record;
namespace detail = pipeline::file::detail;

// Bytes in memory that can fail one read, or request a stop when read.
class scripted_stream final : public detail::byte_stream {
 public:
  explicit scripted_stream(std::string_view bytes) : bytes_(bytes) {}

  auto read_at(std::uint64_t offset, std::span<char> into) -> pipeline::result<std::size_t> override {
    if (reads_++ == fail_read_) return pipeline::transient_error("injected read failure");
    if (stop_ != nullptr) stop_->request_stop();
    return bytes_.read_at(offset, into);
  }
  auto size() -> pipeline::result<std::uint64_t> override { return bytes_.size(); }
  auto name() const -> std::string override { return "<scripted>"; }

  /// The read `n` reads from now fails (0: the next one).
  void fail_read_after(std::size_t n) { fail_read_ = reads_ + n; }
  void stop_on_read(std::stop_source& stop) { stop_ = &stop; }

 private:
  detail::memory_stream bytes_;
  std::size_t reads_ = 0;
  std::size_t fail_read_ = SIZE_MAX;
  std::stop_source* stop_ = nullptr;
};

auto limits(std::size_t batch_size, std::size_t buffer) -> detail::batch_limits {
  return {batch_size, 1 << 20, {.max_record_bytes = 1024, .buffer_bytes = buffer}};
}

TEST(batch_reader, after_a_read_error_the_next_call_reads_the_failed_batch_again) {
  scripted_stream in{"{\"i\":1}\n{\"i\":2}\n{\"i\":3}\n{\"i\":4}\n"};
  detail::batch_reader<detail::jsonl_format> reader{in, {}, limits(2, 4)};
  auto first = reader.next_batch({});
  ASSERT_TRUE(first && *first);
  in.fail_read_after(2);  // 4-byte reads: the batch fails in its second record
  auto failed = reader.next_batch({});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, error_kind::transient);
  auto again = reader.next_batch({});
  ASSERT_TRUE(again && *again);
  EXPECT_THAT((*again)->records, ::testing::ElementsAre(record{{"i", 3}}, record{{"i", 4}}));
  EXPECT_EQ((*again)->end, position{"32:5"});
}


TEST(batch_reader, a_stop_between_records_ends_the_batch_with_what_was_read) {
  scripted_stream in{"{\"i\":1}\n{\"i\":2}\n"};
  std::stop_source stop;
  in.stop_on_read(stop);
  detail::batch_reader<detail::jsonl_format> reader{in, {}, limits(10, 64)};
  auto cut = reader.next_batch(stop.get_token());
  ASSERT_TRUE(cut && *cut);
  EXPECT_THAT((*cut)->records, ::testing::ElementsAre(record{{"i", 1}}));
  EXPECT_EQ((*cut)->end, position{"8:2"});
  auto stopped = reader.next_batch(stop.get_token());
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().kind, error_kind::stopped);
}

TEST(positions, are_offset_colon_line_and_read_back) {
  EXPECT_EQ(detail::encode_position({1048576, 20311}), position{"1048576:20311"});
  auto back = detail::decode_position(position{"1048576:20311"}, "f");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, (detail::resume_point{1048576, 20311}));
  EXPECT_EQ(*detail::decode_position(position{}, "f"), detail::resume_point{});
  EXPECT_EQ(*detail::decode_position(position{"0"}, "f"), detail::resume_point{});
  for (const auto* bad : {"1", "1:", ":1", "1:1:1", "a:b", "3:5", "0:0", " 1:1", "18446744073709551616:1"}) {
    auto r = detail::decode_position(position{bad}, "f");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, error_kind::invalid_input) << bad;
  }
}

TEST(base64, round_trips_every_length_and_byte) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(detail::base64_decode(detail::base64_encode(bytes)), bytes) << i;
    bytes += static_cast<char>(i * 37);
  }
  EXPECT_EQ(detail::base64_encode("Man"), "TWFu");
  EXPECT_EQ(detail::base64_encode("Ma"), "TWE=");
  EXPECT_EQ(detail::base64_encode("M"), "TQ==");
}

TEST(base64, only_canonical_padded_text_decodes) {
  for (const auto* bad : {"TQ=", "TQ", "T===", "TR==", "TWF=", "TW=u", "TWFu====", "TW u", "TWFu\n"}) {
    EXPECT_EQ(detail::base64_decode(bad), std::nullopt) << bad;
  }
}

}  // namespace
