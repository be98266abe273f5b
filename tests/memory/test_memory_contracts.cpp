// The library's own in-memory adapters pass the same contract suites users run.
#include <pipeline/memory/memory_checkpoint_store.hpp>
#include <pipeline/memory/memory_dlq.hpp>
#include <pipeline/memory/memory_job_log.hpp>
#include <pipeline/memory/memory_sink.hpp>
#include <pipeline/memory/vector_source.hpp>
#include <pipeline/testing/testing.hpp>

#include <memory>
#include <optional>
#include <string>

namespace {

struct vector_source_factory {
  using source_type = pipeline::vector_source<std::string>;
  auto make_source(std::size_t count) -> std::unique_ptr<source_type> {
    std::vector<std::string> rows;
    for (std::size_t i = 0; i < count; ++i) rows.push_back(make_record(i));
    return std::make_unique<source_type>(std::move(rows), 32);
  }
  static auto make_record(std::size_t i) -> std::string { return "row-" + std::to_string(i); }
};

struct memory_sink_factory {
  using sink_type = pipeline::memory_sink<std::string>;
  static constexpr bool idempotent = false;
  static constexpr bool thread_safe = true;
  auto make_sink() -> std::unique_ptr<sink_type> {
    auto s = std::make_unique<sink_type>();
    s->fail_records([](const std::string& r) -> std::optional<pipeline::error> {
      if (r.starts_with("bad-")) return pipeline::invalid_input_error("refused: " + r);
      return std::nullopt;
    });
    last_ = s.get();
    return s;
  }
  static auto make_record(std::size_t i) -> std::string { return "row-" + std::to_string(i); }
  static auto make_bad_record(std::size_t i) -> std::string { return "bad-" + std::to_string(i); }
  auto stored() const -> std::vector<std::string> { return last_->records(); }

 private:
  sink_type* last_ = nullptr;
};

struct memory_checkpoint_store_factory {
  using store_type = pipeline::memory_checkpoint_store;
  static auto make_store() -> std::unique_ptr<store_type> { return std::make_unique<store_type>(); }
};

struct memory_dlq_factory {
  using dlq_type = pipeline::memory_dlq;
  static constexpr auto time_precision = std::chrono::nanoseconds{1};
  auto make_dlq() -> std::unique_ptr<dlq_type> {
    auto d = std::make_unique<dlq_type>();
    last_ = d.get();
    return d;
  }
  auto stored() const -> std::vector<pipeline::dead_letter> { return last_->entries(); }

 private:
  dlq_type* last_ = nullptr;
};

struct memory_job_log_factory {
  using store_type = pipeline::memory_job_log;
  static auto make_store() -> std::unique_ptr<store_type> { return std::make_unique<store_type>(); }
};

}  // namespace

namespace pipeline::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(vector_source, source_contract, ::testing::Types<vector_source_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(memory_sink, sink_contract, ::testing::Types<memory_sink_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(memory_sink, per_record_sink_contract, ::testing::Types<memory_sink_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(memory_checkpoint_store, checkpoint_store_contract,
                               ::testing::Types<memory_checkpoint_store_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(memory_dlq, dead_letter_sink_contract, ::testing::Types<memory_dlq_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(memory_dlq, dead_letter_store_contract, ::testing::Types<memory_dlq_factory>);
INSTANTIATE_TYPED_TEST_SUITE_P(memory_job_log, job_log_store_contract, ::testing::Types<memory_job_log_factory>);
}  // namespace pipeline::testing
