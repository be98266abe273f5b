#include <pipeline/metrics.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <variant>

#include <fmt/format.h>

namespace pipeline {
namespace {

enum class metric_type : std::uint8_t { counter, gauge, histogram };

auto type_name(metric_type t) -> std::string_view {
  switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
  }
  return "untyped";
}

// The series a histogram family writes besides its own name.
constexpr std::array<std::string_view, 3> histogram_suffixes{"_bucket", "_sum", "_count"};

auto is_alpha_or_underscore(char c) -> bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
auto is_digit(char c) -> bool { return c >= '0' && c <= '9'; }

void check_metric_name(std::string_view name) {
  auto first_ok = [](char c) { return is_alpha_or_underscore(c) || c == ':'; };
  auto rest_ok = [&](char c) { return first_ok(c) || is_digit(c); };
  if (name.empty() || !first_ok(name.front()) || !std::all_of(name.begin() + 1, name.end(), rest_ok)) {
    throw std::invalid_argument(fmt::format("name: \"{}\" is not a valid Prometheus metric name", name));
  }
}

// Validates and sorts the labels, so that the same set in any order is the same series.
auto canonical_labels(metric_labels labels, metric_type type) -> metric_labels {
  auto rest_ok = [](char c) { return is_alpha_or_underscore(c) || is_digit(c); };
  for (const auto& [label, v] : labels) {
    if (label.empty() || !is_alpha_or_underscore(label.front()) || !std::all_of(label.begin() + 1, label.end(), rest_ok)) {
      throw std::invalid_argument(fmt::format("labels: \"{}\" is not a valid Prometheus label name", label));
    }
    if (label.starts_with("__")) {
      throw std::invalid_argument(fmt::format("labels: \"{}\" starts with __, which Prometheus reserves", label));
    }
    if (type == metric_type::histogram && label == "le") {
      throw std::invalid_argument("labels: \"le\" is reserved for histogram buckets");
    }
  }
  std::sort(labels.begin(), labels.end());
  auto dup = std::adjacent_find(labels.begin(), labels.end(),
                                [](const auto& a, const auto& b) { return a.first == b.first; });
  if (dup != labels.end()) throw std::invalid_argument(fmt::format("labels: \"{}\" appears twice", dup->first));
  return labels;
}

auto checked_upper_bounds(std::vector<double> bounds) -> std::vector<double> {
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) {
      throw std::invalid_argument(fmt::format("upper_bounds: {} is not finite (the +Inf bucket is implicit)", bounds[i]));
    }
    if (i > 0 && !(bounds[i - 1] < bounds[i])) {
      throw std::invalid_argument(
          fmt::format("upper_bounds: must be strictly increasing, {} follows {}", bounds[i], bounds[i - 1]));
    }
  }
  return bounds;
}

// Floats as the Prometheus text parser reads them (Go's ParseFloat plus its spellings).
void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// `{a="x",b="y"}`, with `le` last for buckets (`le` is empty for other series); nothing when
// there are no labels at all.
void append_labels(std::string& out, const metric_labels& labels, std::string_view le) {
  if (labels.empty() && le.empty()) return;
  out += '{';
  bool first = true;
  auto append_one = [&](std::string_view name, std::string_view v) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    append_escaped(out, v, true);
    out += '"';
  };
  for (const auto& [name, v] : labels) append_one(name, v);
  if (!le.empty()) append_one("le", le);
  out += '}';
}

// The start of a sample line, up to the value: `name_suffix{labels} `.
void append_series(std::string& out, std::string_view name, std::string_view suffix, const metric_labels& labels,
                   std::string_view le = {}) {
  out += name;
  out += suffix;
  append_labels(out, labels, le);
  out += ' ';
}

// The lock-free promises in metrics.hpp.
static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<double>::is_always_lock_free);

}  // namespace

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(checked_upper_bounds(std::move(upper_bounds))), counts_(bounds_.size() + 1) {}

void histogram::observe(double v) noexcept {
  // NaN compares false with every bound, so lower_bound would put it first; it belongs in +Inf.
  const auto bucket = std::isnan(v) ? bounds_.size()
                                    : static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                                               bounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

auto histogram::cumulative_counts() const -> std::vector<std::uint64_t> {
  std::vector<std::uint64_t> out;
  out.reserve(counts_.size());
  std::uint64_t total = 0;
  for (const auto& c : counts_) out.push_back(total += c.load(std::memory_order_relaxed));
  return out;
}

auto histogram::count() const noexcept -> std::uint64_t {
  std::uint64_t total = 0;
  for (const auto& c : counts_) total += c.load(std::memory_order_relaxed);
  return total;
}

struct metrics_registry::state {
  using metric = std::variant<std::unique_ptr<counter>, std::unique_ptr<gauge>, std::unique_ptr<histogram>>;

  struct family {
    metric_type type;
    std::string help;
    std::vector<double> upper_bounds;  // histograms only
    std::map<metric_labels, metric> series;
  };

  // Finds or creates the series; `make` builds a new metric, before anything is inserted so
  // that a throwing constructor leaves the registry unchanged.
  template <class M, class Make>
  auto get_or_add(std::string_view name, std::string_view help, metric_type type, metric_labels labels,
                  const std::vector<double>& upper_bounds, Make make) -> M& {
    check_metric_name(name);
    labels = canonical_labels(std::move(labels), type);
    std::lock_guard lock(mutex);
    auto it = families.find(name);
    if (it == families.end()) {
      check_histogram_clash(name, type);
      auto created = make();
      M& ref = *created;
      family f{type, std::string(help), upper_bounds, {}};
      f.series.emplace(std::move(labels), std::move(created));
      families.emplace(std::string(name), std::move(f));
      return ref;
    }
    family& f = it->second;
    if (f.type != type) {
      throw std::invalid_argument(
          fmt::format("name: \"{}\" is already a {}, not a {}", name, type_name(f.type), type_name(type)));
    }
    if (f.help != help) {
      throw std::invalid_argument(fmt::format("help: \"{}\" was registered with another help text", name));
    }
    if (f.upper_bounds != upper_bounds) {
      throw std::invalid_argument(fmt::format("upper_bounds: \"{}\" was registered with other buckets", name));
    }
    auto series = f.series.find(labels);
    if (series == f.series.end()) series = f.series.emplace(std::move(labels), make()).first;
    return *std::get<std::unique_ptr<M>>(series->second);
  }

  // A histogram `h` writes h_bucket, h_sum and h_count: no other family may use those names.
  void check_histogram_clash(std::string_view name, metric_type type) const {
    for (std::string_view suffix : histogram_suffixes) {
      if (type == metric_type::histogram) {
        if (families.contains(fmt::format("{}{}", name, suffix))) {
          throw std::invalid_argument(fmt::format("name: histogram \"{}\" would write \"{}{}\", already registered",
                                                  name, name, suffix));
        }
      } else if (name.ends_with(suffix)) {
        auto stem = families.find(name.substr(0, name.size() - suffix.size()));
        if (stem != families.end() && stem->second.type == metric_type::histogram) {
          throw std::invalid_argument(
              fmt::format("name: \"{}\" is a series of the histogram \"{}\"", name, stem->first));
        }
      }
    }
  }

  mutable std::mutex mutex;
  std::map<std::string, family, std::less<>> families;
};

metrics_registry::metrics_registry() : state_(std::make_unique<state>()) {}
metrics_registry::~metrics_registry() = default;

auto metrics_registry::register_counter(std::string_view name, std::string_view help, metric_labels labels)
    -> counter& {
  return state_->get_or_add<counter>(name, help, metric_type::counter, std::move(labels), {},
                                     [] { return std::make_unique<counter>(); });
}

auto metrics_registry::register_gauge(std::string_view name, std::string_view help, metric_labels labels) -> gauge& {
  return state_->get_or_add<gauge>(name, help, metric_type::gauge, std::move(labels), {},
                                   [] { return std::make_unique<gauge>(); });
}

auto metrics_registry::register_histogram(std::string_view name, std::string_view help,
                                          std::vector<double> upper_bounds, metric_labels labels) -> histogram& {
  return state_->get_or_add<histogram>(name, help, metric_type::histogram, std::move(labels), upper_bounds,
                                       [&] { return std::make_unique<histogram>(upper_bounds); });
}

void metrics_registry::write_prometheus(std::string& out) const {
  std::lock_guard lock(state_->mutex);
  auto it = std::back_inserter(out);
  for (const auto& [name, f] : state_->families) {
    if (!f.help.empty()) {
      fmt::format_to(it, "# HELP {} ", name);
      append_escaped(out, f.help, false);
      out += '\n';
    }
    fmt::format_to(it, "# TYPE {} {}\n", name, type_name(f.type));
    for (const auto& [labels, m] : f.series) {
      if (const auto* c = std::get_if<std::unique_ptr<counter>>(&m)) {
        append_series(out, name, "", labels);
        fmt::format_to(it, "{}\n", (*c)->value());
      } else if (const auto* g = std::get_if<std::unique_ptr<gauge>>(&m)) {
        append_series(out, name, "", labels);
        append_double(out, (*g)->value());
        out += '\n';
      } else {
        const histogram& h = *std::get<std::unique_ptr<histogram>>(m);
        const auto counts = h.cumulative_counts();
        std::string le;
        for (std::size_t i = 0; i < counts.size(); ++i) {
          le.clear();
          append_double(le, i < f.upper_bounds.size() ? f.upper_bounds[i] : std::numeric_limits<double>::infinity());
          append_series(out, name, "_bucket", labels, le);
          fmt::format_to(it, "{}\n", counts[i]);
        }
        append_series(out, name, "_sum", labels);
        append_double(out, h.sum());
        out += '\n';
        // The +Inf bucket, so that _count agrees with the buckets written just above.
        append_series(out, name, "_count", labels);
        fmt::format_to(it, "{}\n", counts.back());
      }
    }
  }
}

auto metrics_registry::to_prometheus() const -> std::string {
  std::string out;
  write_prometheus(out);
  return out;
}

}  // namespace pipeline
