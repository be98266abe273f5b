#include <pipeline/metrics.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using pipeline::metrics_registry;

// Runs `body(thread_index)` on `n` threads at once and joins them.
template <class Body>
void on_threads(int n, Body body) {
  std::vector<std::jthread> threads;
  for (int t = 0; t < n; ++t) threads.emplace_back([&body, t] { body(t); });
}

void expect_invalid_argument(auto register_it, const std::string& message) {
  try {
    register_it();
    ADD_FAILURE() << "no exception, expected: " << message;
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(e.what(), message);
  }
}

TEST(metrics_registry, writes_the_exact_prometheus_text) {
  metrics_registry m;
  m.register_counter("pipeline_records_read_total", "Records read.", {{"stage", "load"}, {"pipeline", "orders"}})
      .inc(3);
  m.register_gauge("pipeline_queue_depth", "Batches waiting.").set(12);
  auto& duration = m.register_histogram("pipeline_batch_duration_seconds", "Time to process one batch.",
                                        {0.05, 0.5, 1}, {{"stage", "load"}});
  for (double v : {0.03125, 0.25, 0.5, 0.75, 3.0}) duration.observe(v);

  EXPECT_EQ(m.to_prometheus(),
            "# HELP pipeline_batch_duration_seconds Time to process one batch.\n"
            "# TYPE pipeline_batch_duration_seconds histogram\n"
            "pipeline_batch_duration_seconds_bucket{stage=\"load\",le=\"0.05\"} 1\n"
            "pipeline_batch_duration_seconds_bucket{stage=\"load\",le=\"0.5\"} 3\n"
            "pipeline_batch_duration_seconds_bucket{stage=\"load\",le=\"1\"} 4\n"
            "pipeline_batch_duration_seconds_bucket{stage=\"load\",le=\"+Inf\"} 5\n"
            "pipeline_batch_duration_seconds_sum{stage=\"load\"} 4.53125\n"
            "pipeline_batch_duration_seconds_count{stage=\"load\"} 5\n"
            "# HELP pipeline_queue_depth Batches waiting.\n"
            "# TYPE pipeline_queue_depth gauge\n"
            "pipeline_queue_depth 12\n"
            "# HELP pipeline_records_read_total Records read.\n"
            "# TYPE pipeline_records_read_total counter\n"
            "pipeline_records_read_total{pipeline=\"orders\",stage=\"load\"} 3\n");
}

TEST(metrics_registry, write_prometheus_appends) {
  metrics_registry m;
  m.register_counter("c_total", "");
  std::string out = "# before\n";
  m.write_prometheus(out);
  EXPECT_EQ(out, "# before\n# TYPE c_total counter\nc_total 0\n");
}

TEST(metrics_registry, series_of_a_family_share_one_header_sorted_by_labels) {
  metrics_registry m;
  m.register_counter("errors_total", "Errors.", {{"kind", "transient"}}).inc(2);
  m.register_counter("errors_total", "Errors.", {{"kind", "permanent"}}).inc();
  EXPECT_EQ(m.to_prometheus(),
            "# HELP errors_total Errors.\n"
            "# TYPE errors_total counter\n"
            "errors_total{kind=\"permanent\"} 1\n"
            "errors_total{kind=\"transient\"} 2\n");
}

TEST(metrics_registry, histogram_without_labels_has_only_le) {
  metrics_registry m;
  m.register_histogram("size_records", "", {}).observe(10);
  EXPECT_EQ(m.to_prometheus(),
            "# TYPE size_records histogram\n"
            "size_records_bucket{le=\"+Inf\"} 1\n"
            "size_records_sum 10\n"
            "size_records_count 1\n");
}

TEST(metrics_registry, special_floats_are_spelled_as_prometheus_reads_them) {
  metrics_registry m;
  m.register_gauge("g", "", {{"v", "nan"}}).set(std::numeric_limits<double>::quiet_NaN());
  m.register_gauge("g", "", {{"v", "neg"}}).set(-std::numeric_limits<double>::infinity());
  m.register_gauge("g", "", {{"v", "pos"}}).set(std::numeric_limits<double>::infinity());
  m.register_gauge("g", "", {{"v", "small"}}).set(1e-300);
  m.register_gauge("g", "", {{"v", "third"}}).set(1.0 / 3);
  EXPECT_EQ(m.to_prometheus(),
            "# TYPE g gauge\n"
            "g{v=\"nan\"} NaN\n"
            "g{v=\"neg\"} -Inf\n"
            "g{v=\"pos\"} +Inf\n"
            "g{v=\"small\"} 1e-300\n"
            "g{v=\"third\"} 0.3333333333333333\n");
}

TEST(metrics_registry, label_values_escape_backslash_quote_and_newline) {
  metrics_registry m;
  m.register_counter("c_total", "", {{"path", "C:\\dir\n\"x\""}});
  EXPECT_EQ(m.to_prometheus(), "# TYPE c_total counter\nc_total{path=\"C:\\\\dir\\n\\\"x\\\"\"} 0\n");
}

TEST(metrics_registry, help_escapes_backslash_and_newline_but_not_quote) {
  metrics_registry m;
  m.register_gauge("g", "a \\ b\n\"c\"");
  EXPECT_EQ(m.to_prometheus(), "# HELP g a \\\\ b\\n\"c\"\n# TYPE g gauge\ng 0\n");
}

TEST(metrics_registry, same_name_and_labels_return_the_same_metric) {
  metrics_registry m;
  auto& a = m.register_counter("c_total", "C.", {{"x", "1"}, {"y", "2"}});
  auto& b = m.register_counter("c_total", "C.", {{"y", "2"}, {"x", "1"}});
  EXPECT_EQ(&a, &b);
  auto& h1 = m.register_histogram("h", "H.", {1, 2});
  auto& h2 = m.register_histogram("h", "H.", {1, 2});
  EXPECT_EQ(&h1, &h2);
}

TEST(metrics_registry, references_stay_valid_as_more_are_registered) {
  metrics_registry m;
  auto& first = m.register_counter("first_total", "");
  for (int i = 0; i < 1000; ++i) m.register_gauge(fmt::format("g{}", i), "", {{"i", std::to_string(i)}});
  first.inc(5);
  EXPECT_EQ(m.register_counter("first_total", "").value(), 5u);
}

TEST(metrics_registry, same_name_with_another_type_throws) {
  metrics_registry m;
  m.register_counter("x", "");
  expect_invalid_argument([&] { m.register_gauge("x", ""); }, "name: \"x\" is already a counter, not a gauge");
}

TEST(metrics_registry, same_name_with_another_help_throws) {
  metrics_registry m;
  m.register_counter("x", "One.");
  expect_invalid_argument([&] { m.register_counter("x", "Two.", {{"a", "b"}}); },
                          "help: \"x\" was registered with another help text");
}

TEST(metrics_registry, same_histogram_with_other_buckets_throws) {
  metrics_registry m;
  m.register_histogram("h", "", {1, 2});
  expect_invalid_argument([&] { m.register_histogram("h", "", {1, 3}, {{"a", "b"}}); },
                          "upper_bounds: \"h\" was registered with other buckets");
}

TEST(metrics_registry, invalid_metric_names_throw) {
  metrics_registry m;
  for (const char* name : {"", "1abc", "a-b", "a b", "caf\xc3\xa9", "a{"}) {
    expect_invalid_argument([&] { m.register_counter(name, ""); },
                            fmt::format("name: \"{}\" is not a valid Prometheus metric name", name));
  }
  for (const char* name : {"a", "_a", ":a", "a:b_c9", "__a"}) EXPECT_NO_THROW(m.register_counter(name, ""));
}

TEST(metrics_registry, invalid_label_names_throw) {
  metrics_registry m;
  for (const char* label : {"", "1a", "a:b", "a-b"}) {
    expect_invalid_argument([&] { m.register_counter("c", "", {{label, "v"}}); },
                            fmt::format("labels: \"{}\" is not a valid Prometheus label name", label));
  }
  expect_invalid_argument([&] { m.register_counter("c", "", {{"__name__", "v"}}); },
                          "labels: \"__name__\" starts with __, which Prometheus reserves");
  expect_invalid_argument([&] { m.register_counter("c", "", {{"a", "1"}, {"b", "2"}, {"a", "3"}}); },
                          "labels: \"a\" appears twice");
  expect_invalid_argument([&] { m.register_histogram("h", "", {1}, {{"le", "1"}}); },
                          "labels: \"le\" is reserved for histogram buckets");
  EXPECT_NO_THROW(m.register_counter("c", "", {{"le", "1"}, {"_a", "2"}}));
}

TEST(metrics_registry, a_failed_registration_leaves_nothing_behind) {
  metrics_registry m;
  EXPECT_THROW(m.register_histogram("h", "", {2, 1}), std::invalid_argument);
  EXPECT_EQ(m.to_prometheus(), "");
  EXPECT_NO_THROW(m.register_gauge("h", ""));
}

TEST(metrics_registry, names_written_by_a_histogram_cannot_be_registered) {
  metrics_registry m;
  m.register_histogram("h", "", {1});
  expect_invalid_argument([&] { m.register_counter("h_count", ""); },
                          "name: \"h_count\" is a series of the histogram \"h\"");
  expect_invalid_argument([&] { m.register_gauge("h_bucket", ""); },
                          "name: \"h_bucket\" is a series of the histogram \"h\"");
  m.register_gauge("g_sum", "");
  expect_invalid_argument([&] { m.register_histogram("g", "", {1}); },
                          "name: histogram \"g\" would write \"g_sum\", already registered");
}

TEST(metrics_registry, concurrent_registration_yields_one_metric) {
  metrics_registry m;
  std::vector<pipeline::counter*> seen(8);
  on_threads(8, [&](int t) {
    auto& c = m.register_counter("shared_total", "Shared.", {{"k", "v"}});
    c.inc();
    seen[static_cast<std::size_t>(t)] = &c;
  });
  for (auto* c : seen) EXPECT_EQ(c, seen.front());
  EXPECT_EQ(seen.front()->value(), 8u);
}

TEST(metrics_registry, scraping_while_updating_is_safe) {
  metrics_registry m;
  auto& c = m.register_counter("c_total", "");
  auto& h = m.register_histogram("h", "", {1, 2});
  std::atomic<bool> done{false};
  std::jthread scraper([&] {
    while (!done.load()) EXPECT_FALSE(m.to_prometheus().empty());
  });
  on_threads(2, [&](int t) {
    for (int i = 0; i < 20'000; ++i) {
      c.inc();
      h.observe(t);
      if (i % 1000 == 0) m.register_gauge(fmt::format("g{}_{}", t, i), "");
    }
  });
  done = true;
  EXPECT_EQ(c.value(), 40'000u);
}

TEST(counter, concurrent_increments_sum_exactly) {
  pipeline::counter c;
  on_threads(8, [&](int t) {
    for (int i = 0; i < 100'000; ++i) c.inc(static_cast<std::uint64_t>(t + 1));
  });
  EXPECT_EQ(c.value(), 100'000u * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8));
}

TEST(gauge, set_inc_and_dec) {
  pipeline::gauge g;
  g.set(10);
  g.inc();
  g.inc(2.5);
  g.dec(0.5);
  EXPECT_EQ(g.value(), 13.0);
}

TEST(gauge, concurrent_inc_and_dec_cancel_out) {
  pipeline::gauge g;
  on_threads(8, [&](int t) {
    for (int i = 0; i < 50'000; ++i) t % 2 ? g.inc(1) : g.dec(1);
  });
  EXPECT_EQ(g.value(), 0.0);
}

TEST(histogram, a_value_on_a_bound_goes_in_that_bucket) {
  pipeline::histogram h{{1, 2}};
  h.observe(1);
  h.observe(1.5);
  h.observe(2.0000001);
  EXPECT_EQ(h.cumulative_counts(), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(h.count(), 3u);
}

TEST(histogram, nan_goes_to_the_inf_bucket) {
  pipeline::histogram h{{1}};
  h.observe(std::numeric_limits<double>::quiet_NaN());
  h.observe(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(h.cumulative_counts(), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_TRUE(std::isnan(h.sum()));
}

TEST(histogram, bounds_must_be_finite_and_strictly_increasing) {
  expect_invalid_argument([] { pipeline::histogram h{{1, 1}}; },
                          "upper_bounds: must be strictly increasing, 1 follows 1");
  expect_invalid_argument([] { pipeline::histogram h{{2, 1}}; },
                          "upper_bounds: must be strictly increasing, 1 follows 2");
  expect_invalid_argument([] { pipeline::histogram h{{1, std::numeric_limits<double>::infinity()}}; },
                          "upper_bounds: inf is not finite (the +Inf bucket is implicit)");
  expect_invalid_argument([] { pipeline::histogram h{{std::numeric_limits<double>::quiet_NaN()}}; },
                          "upper_bounds: nan is not finite (the +Inf bucket is implicit)");
}

TEST(histogram, concurrent_observations_count_exactly) {
  pipeline::histogram h{{10, 100}};
  on_threads(4, [&](int) {
    for (int i = 0; i < 100'000; ++i) h.observe(i % 200);
  });
  EXPECT_EQ(h.count(), 400'000u);
  EXPECT_EQ(h.cumulative_counts(), (std::vector<std::uint64_t>{4 * 500 * 11, 4 * 500 * 101, 400'000}));
  EXPECT_EQ(h.sum(), 4.0 * 500 * (199 * 200 / 2));
}

}  // namespace
