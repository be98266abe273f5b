#include <pipeline/console/console.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <pipeline/progress.hpp>

#include "assets.hpp"
#include "store_json.hpp"

namespace pipeline::admin {
namespace {

using json = nlohmann::json;

// Takes as long for any two strings of the same lengths, wherever they differ, so that the
// answer's timing does not tell how much of a guessed token was right.
auto equal_in_constant_time(std::string_view a, std::string_view b) -> bool {
  unsigned difference = a.size() == b.size() ? 0U : 1U;
  const auto n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0U;
    const auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0U;
    difference |= x ^ y;
  }
  return difference == 0;
}

auto http_status(const error& e) -> int {
  switch (e.kind) {
    case error_kind::invalid_input: return 400;
    case error_kind::not_found: return 404;
    case error_kind::conflict: return 409;
    default: return 502;  // the store failed
  }
}

void answer_json(httplib::Response& response, int status, const json& body) {
  response.status = status;
  response.set_content(json_text(body), "application/json");
}

void answer_error(httplib::Response& response, int status, std::string_view message) {
  answer_json(response, status, {{"error", message}});
}

// A query parameter, nullopt when absent or empty (an empty form field means "any").
auto parameter(const httplib::Request& request, std::string_view name) -> std::optional<std::string> {
  const std::string key(name);
  if (!request.has_param(key)) return std::nullopt;
  auto value = request.get_param_value(key);
  if (value.empty()) return std::nullopt;
  return value;
}

auto count_parameter(const httplib::Request& request, std::string_view name, std::size_t otherwise, std::size_t most)
    -> result<std::size_t> {
  const auto text = parameter(request, name);
  if (!text) return otherwise;
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || value == 0 || value > most) {
    return invalid_input_error(fmt::format("{} needs a number from 1 to {}, not '{}'", name, most, *text));
  }
  return value;
}

auto required_parameter(const httplib::Request& request, std::string_view name) -> result<std::string> {
  auto value = parameter(request, name);
  if (!value) return invalid_input_error(fmt::format("the parameter '{}' is missing", name));
  return std::move(*value);
}

auto filter_of(const httplib::Request& request) -> result<dead_letter_filter> {
  return parse_letter_filter([&](std::string_view name) { return parameter(request, name); });
}

// How many letters the reasons view reads at most: its counts say when they are partial.
constexpr std::size_t reasons_scan_limit = 10000;

}  // namespace

struct console::impl {
  // A store and the lock that gives it to one request at a time.
  struct served_store {
    std::string name;
    std::unique_ptr<store> source;
    std::vector<std::string> queues;
    std::mutex lock;
  };
  enum class access : std::uint8_t { read, change };
  using handler = std::function<result<json>(served_store&, const httplib::Request&)>;

  std::vector<std::unique_ptr<served_store>> stores;
  console_options options;
  // The progress meters of running runs, by (store, job, run id): each poll of the runs page
  // is a sample, so the rate is the meter's smoothed one.
  std::mutex meters_lock;
  std::map<std::tuple<std::string, std::string, std::uint64_t>, progress_meter> meters;

  // 0: allowed; else the HTTP status that refuses the request, with its reason.
  auto refusal(const httplib::Request& request, access needed) const -> std::pair<int, std::string_view> {
    if (needed == access::read && options.open_reads) return {0, {}};
    if (options.token.empty()) {
      return {403, needed == access::change ? "changes are off: the console has no token configured"
                                            : "reads are off: the console has no token and no open reads"};
    }
    constexpr std::string_view scheme = "Bearer ";
    const auto header = request.get_header_value("Authorization");
    if (header.starts_with(scheme) && equal_in_constant_time(std::string_view(header).substr(scheme.size()), options.token)) {
      return {0, {}};
    }
    return {401, "this needs Authorization: Bearer <token>"};
  }

  // Whether the request may go on; if not, answers it with the refusal.
  auto admitted(const httplib::Request& request, httplib::Response& response, access needed) const -> bool {
    const auto [status, why] = refusal(request, needed);
    if (status == 0) return true;
    if (status == 401) response.set_header("WWW-Authenticate", "Bearer");
    answer_error(response, status, why);
    return false;
  }

  auto store_of(const httplib::Request& request) -> result<served_store*> {
    const auto name = parameter(request, "store");
    if (!name && stores.size() == 1) return stores.front().get();
    if (!name) return invalid_input_error("the parameter 'store' is missing");
    for (auto& s : stores) {
      if (s->name == *name) return s.get();
    }
    return not_found_error(fmt::format("no store named '{}'", *name));
  }

  void route(httplib::Server& server, bool post, const std::string& path, access needed, handler body) {
    auto serve = [this, needed, body = std::move(body)](const httplib::Request& request, httplib::Response& response) {
      if (!admitted(request, response, needed)) return;
      auto s = store_of(request);
      if (!s) {
        answer_error(response, http_status(s.error()), s.error().message);
        return;
      }
      const std::lock_guard lock((*s)->lock);
      auto answer = body(**s, request);
      if (answer) {
        answer_json(response, 200, *answer);
      } else {
        answer_error(response, http_status(answer.error()), answer.error().message);
      }
    };
    if (post) {
      server.Post(path, std::move(serve));
    } else {
      server.Get(path, std::move(serve));
    }
  }

  auto progress_json(const std::string& store_name, const job_run& run) -> json {
    const auto key = std::make_tuple(store_name, run.job, run.id);
    const std::lock_guard lock(meters_lock);
    if (run.state != run_state::running) {
      meters.erase(key);
      return nullptr;
    }
    const auto now = std::chrono::steady_clock::now();
    auto found = meters.find(key);
    if (found == meters.end()) {
      // The first sample's rate is the run's average since it started.
      const auto age = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::max(std::chrono::system_clock::now() - run.created, std::chrono::system_clock::duration{1}));
      progress_meter_options meter_options;
      if (options.total_of) meter_options.total = options.total_of(run.job);
      found = meters.emplace(key, progress_meter{now - age, meter_options}).first;
    }
    const auto p = found->second.sample(run.read, now);
    return {{"done", p.done},
            {"total", p.total ? json(*p.total) : json(nullptr)},
            {"rate_per_second", p.rate_per_second},
            {"eta_seconds", p.eta ? json(p.eta->count()) : json(nullptr)}};
  }

  void mount(httplib::Server& server);
};

void console::impl::mount(httplib::Server& server) {
  // The page runs only its own script; nothing is framed or sniffed into another type.
  server.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                              {"X-Frame-Options", "DENY"},
                              {"Cache-Control", "no-store"},
                              {"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"}});
  server.Get("/", [](const httplib::Request&, httplib::Response& r) { r.set_content(std::string(console_page_html), "text/html; charset=utf-8"); });
  server.Get("/console.js", [](const httplib::Request&, httplib::Response& r) { r.set_content(std::string(console_page_js), "text/javascript; charset=utf-8"); });
  server.Get("/console.css", [](const httplib::Request&, httplib::Response& r) { r.set_content(std::string(console_page_css), "text/css; charset=utf-8"); });

  server.Get("/metrics", [this](const httplib::Request& request, httplib::Response& response) {
    if (!admitted(request, response, access::read)) {
      return;
    }
    if (options.metrics == nullptr) {
      answer_error(response, 404, "this console has no metrics registry");
    } else {
      response.set_content(options.metrics->to_prometheus(), "text/plain; version=0.0.4; charset=utf-8");
    }
  });

  server.Get("/api/stores", [this](const httplib::Request& request, httplib::Response& response) {
    if (!admitted(request, response, access::read)) return;
    json out = json::array();
    for (const auto& s : stores) out.push_back({{"name", s->name}, {"queues", s->queues}});
    answer_json(response, 200, {{"stores", out}, {"payload_limit", options.payload_limit}});
  });

  route(server, false, "/api/runs", access::read, [this](served_store& s, const httplib::Request& request) -> result<json> {
    auto limit = count_parameter(request, "limit", 5, 1000);
    if (!limit) return std::move(limit).error();
    std::vector<std::string> jobs;
    if (auto job = parameter(request, "job")) {
      jobs.push_back(*job);
    } else {
      auto all = s.source->jobs();
      if (!all) return std::move(all).error();
      jobs = std::move(*all);
    }
    json out = json::array();
    for (const auto& job : jobs) {
      auto runs = s.source->runs(job, *limit);
      if (!runs) return std::move(runs).error();
      for (const auto& run : *runs) {
        auto item = run_json(run);
        item["progress"] = progress_json(s.name, run);
        out.push_back(std::move(item));
      }
    }
    return out;
  });

  route(server, false, "/api/letters", access::read, [this](served_store& s, const httplib::Request& request) -> result<json> {
    auto filter = filter_of(request);
    if (!filter) return std::move(filter).error();
    auto limit = count_parameter(request, "limit", 100, 1000);
    if (!limit) return std::move(limit).error();
    auto letters = find_letters(*s.source, *filter, parameter(request, "text"), parameter(request, "after"), *limit);
    if (!letters) return std::move(letters).error();
    json out = json::array();
    for (const auto& l : *letters) out.push_back(letter_json(l, options.payload_limit));
    // `next`: the id to pass as `after` for the following page, null at the end.
    const bool full = letters->size() == *limit;
    return json{{"letters", out}, {"next", full ? json(letters->back().id) : json(nullptr)}};
  });

  route(server, false, "/api/reasons", access::read, [](served_store& s, const httplib::Request& request) -> result<json> {
    auto filter = filter_of(request);
    if (!filter) return std::move(filter).error();
    auto letters = find_letters(*s.source, *filter, parameter(request, "text"), std::nullopt, reasons_scan_limit + 1);
    if (!letters) return std::move(letters).error();
    const bool complete = letters->size() <= reasons_scan_limit;
    if (!complete) letters->pop_back();
    std::map<std::pair<std::string, std::string>, std::size_t> counts;
    for (const auto& l : *letters) ++counts[{std::string(to_string(l.letter.reason.kind)), l.letter.reason.message}];
    std::vector<std::pair<std::pair<std::string, std::string>, std::size_t>> by_count(counts.begin(), counts.end());
    std::ranges::stable_sort(by_count, std::ranges::greater{}, [](const auto& group) { return group.second; });
    json groups = json::array();
    for (const auto& [reason, count] : by_count) {
      groups.push_back({{"kind", reason.first}, {"message", reason.second}, {"count", count}});
    }
    return json{{"reasons", groups}, {"scanned", letters->size()}, {"complete", complete}};
  });

  route(server, false, "/api/letter", access::read, [](served_store& s, const httplib::Request& request) -> result<json> {
    auto id = required_parameter(request, "id");
    if (!id) return std::move(id).error();
    auto letter = s.source->letter(*id);
    if (!letter) return std::move(letter).error();
    return letter_json(*letter);
  });

  // The whole payload as bytes, for a link: text/plain and nosniff, so a payload holding
  // HTML is never rendered.
  server.Get("/api/letter/payload", [this](const httplib::Request& request, httplib::Response& response) {
    if (!admitted(request, response, access::read)) return;
    auto s = store_of(request);
    auto id = required_parameter(request, "id");
    if (!s || !id) {
      const auto& e = !s ? s.error() : id.error();
      answer_error(response, http_status(e), e.message);
      return;
    }
    const std::lock_guard lock((*s)->lock);
    auto letter = (*s)->source->letter(*id);
    if (!letter) {
      answer_error(response, http_status(letter.error()), letter.error().message);
      return;
    }
    response.set_content(letter->letter.payload, "text/plain; charset=utf-8");
  });

  route(server, false, "/api/checkpoints", access::read, [](served_store& s, const httplib::Request&) -> result<json> {
    auto keys = s.source->checkpoint_keys();
    if (!keys) return std::move(keys).error();
    return json(*keys);
  });

  route(server, false, "/api/checkpoint", access::read, [](served_store& s, const httplib::Request& request) -> result<json> {
    auto key = required_parameter(request, "key");
    if (!key) return std::move(key).error();
    auto cp = s.source->load_checkpoint(*key);
    if (!cp) return std::move(cp).error();
    if (cp->version == 0) return not_found_error(fmt::format("no checkpoint '{}'", *key));
    return json{{"key", *key}, {"position", shown_bytes(cp->pos.bytes())}, {"version", cp->version}};
  });

  route(server, true, "/api/checkpoint/reset", access::change, [](served_store& s, const httplib::Request& request) -> result<json> {
    auto key = required_parameter(request, "key");
    if (!key) return std::move(key).error();
    auto cp = s.source->load_checkpoint(*key);
    if (!cp) return std::move(cp).error();
    if (cp->version == 0) return not_found_error(fmt::format("no checkpoint '{}'", *key));
    // As the tool's reset: the new version fences off a process still running the job.
    auto version = s.source->save_checkpoint(*key, position{}, cp->version);
    if (!version) return std::move(version).error();
    return json{{"key", *key}, {"position", ""}, {"version", *version}};
  });

  route(server, true, "/api/purge", access::change, [](served_store& s, const httplib::Request& request) -> result<json> {
    if (parameter(request, "text")) return invalid_input_error("purge: text is not a store filter; purge by kind, partition, job or time");
    auto filter = filter_of(request);
    if (!filter) return std::move(filter).error();
    auto purged = s.source->purge_letters(*filter);
    if (!purged) return std::move(purged).error();
    return json{{"purged", *purged}};
  });

  route(server, true, "/api/replay", access::change, [](served_store& s, const httplib::Request& request) -> result<json> {
    auto queue = required_parameter(request, "queue");
    if (!queue) return std::move(queue).error();
    if (std::ranges::find(s.queues, *queue) == s.queues.end()) {
      return invalid_input_error(fmt::format("'{}' is not a queue of store '{}'", *queue, s.name));
    }
    if (auto id = parameter(request, "id")) {
      auto letter = s.source->letter(*id);
      if (!letter) return std::move(letter).error();
      auto moved = s.source->requeue_letters(std::span(&*letter, 1), *queue);
      if (!moved) return std::move(moved).error();
      return json{{"requeued", *moved}};
    }
    auto filter = filter_of(request);
    if (!filter) return std::move(filter).error();
    auto moved = requeue_matching(*s.source, *filter, parameter(request, "text"), *queue);
    if (!moved) return std::move(moved).error();
    return json{{"requeued", *moved}};
  });

  route(server, false, "/api/queue", access::read, [](served_store& s, const httplib::Request& request) -> result<json> {
    auto stream = required_parameter(request, "stream");
    if (!stream) return std::move(stream).error();
    auto status = s.source->queue(*stream);
    if (!status) return std::move(status).error();
    return queue_json(*status);
  });
}

console::console(std::vector<console_store> stores, console_options options) : impl_(std::make_unique<impl>()) {
  if (stores.empty()) throw std::invalid_argument("pipeline::admin::console: no stores");
  std::set<std::string> names;
  for (auto& s : stores) {
    if (!s.source) throw std::invalid_argument(fmt::format("pipeline::admin::console: store '{}' is null", s.name));
    if (!names.insert(s.name).second) {
      throw std::invalid_argument(fmt::format("pipeline::admin::console: two stores named '{}'", s.name));
    }
    auto served = std::make_unique<impl::served_store>();
    served->name = std::move(s.name);
    served->source = std::move(s.source);
    served->queues = std::move(s.queues);
    impl_->stores.push_back(std::move(served));
  }
  impl_->options = std::move(options);
}

console::~console() = default;

auto console::listen(std::uint16_t port, std::stop_token stop, std::string_view host) -> result<void> {
  httplib::Server server;
  impl_->mount(server);
  const std::string address(host);
  const int bound = port == 0 ? server.bind_to_any_port(address) : (server.bind_to_port(address, port) ? port : -1);
  if (bound < 0) return transient_error(fmt::format("console: cannot listen on {}:{}", host, port));
  if (impl_->options.on_listening) impl_->options.on_listening(static_cast<std::uint16_t>(bound));
  std::atomic<bool> served{false};
  std::thread serving([&] {
    server.listen_after_bind();
    served = true;
  });
  std::mutex m;
  std::condition_variable_any woken;
  {
    std::unique_lock lock(m);
    woken.wait(lock, stop, [] { return false; });
  }
  // `stop` does nothing until the serving thread is inside its accept loop: ask until it ends.
  while (!served) {
    server.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  serving.join();
  return ok();
}

}  // namespace pipeline::admin
