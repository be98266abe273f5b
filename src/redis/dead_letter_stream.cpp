#include <pipeline/redis/dead_letter_stream.hpp>

#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "fields.hpp"

namespace pipeline::redis {
namespace {

auto to_letter(const std::string& id, const std::vector<reply>& f) -> result<dead_letter> {
  using detail::field;
  const auto bad = [&](std::string_view what) {
    return permanent_error(fmt::format("dead-letter stream entry {} is not a dead letter: {}", id, what));
  };
  const auto *payload = field(f, "payload"), *kind = field(f, "kind"), *message = field(f, "message"),
             *code = field(f, "code"), *backend = field(f, "backend"), *attempts = field(f, "attempts"),
             *pos = field(f, "pos"), *partition = field(f, "partition"), *time = field(f, "time");
  if (!payload || !kind || !message || !code || !backend || !attempts || !pos || !partition || !time) {
    return bad("a field is missing");
  }
  dead_letter l;
  l.payload = *payload;
  const auto known = parse_error_kind(*kind);
  if (!known) return bad("unknown kind");
  l.reason.kind = *known;
  l.reason.message = *message;
  l.reason.backend = *backend;
  auto c = detail::to_int<std::int64_t>(*code);
  auto a = detail::to_int<std::uint32_t>(*attempts);
  auto p = detail::to_int<std::uint32_t>(*partition);
  auto t = detail::time_of(*time);
  if (!c || !a || !p || !t) return bad("a number does not parse");
  l.reason.native_code = *c;
  l.attempts = *a;
  l.partition = *p;
  l.time = *t;
  l.pos = position{*pos};
  return l;
}

}  // namespace

dead_letter_stream::dead_letter_stream(std::shared_ptr<client> c, dead_letter_stream_options options)
    : client_(std::move(c)), stream_(std::move(options.stream)) {
  if (!client_) throw std::invalid_argument("pipeline::redis::dead_letter_stream: client is null");
  if (stream_.empty()) throw std::invalid_argument("pipeline::redis::dead_letter_stream: stream is empty");
}

auto dead_letter_stream::write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> {
  if (stop.stop_requested()) return stopped_error();
  if (letters.empty()) return ok();
  std::vector<std::vector<std::string>> commands;
  commands.reserve(letters.size() + 2);
  commands.push_back({"MULTI"});
  for (const auto& l : letters) {
    commands.push_back({"XADD", stream_, "*", "payload", l.payload, "kind", std::string(to_string(l.reason.kind)),
                        "message", l.reason.message, "code", std::to_string(l.reason.native_code), "backend",
                        l.reason.backend, "attempts", std::to_string(l.attempts), "pos", l.pos.bytes(), "partition",
                        std::to_string(l.partition), "time", detail::time_text(l.time)});
  }
  commands.push_back({"EXEC"});
  auto replies = client_->pipeline(commands);
  if (!replies) return std::move(replies).error();
  for (const auto& r : *replies) {
    if (r.kind == reply::type::error) return reply_error(r.str);
  }
  if (replies->back().is_nil()) return transient_error("dead-letter stream: the transaction was aborted");
  return ok();
}

auto dead_letter_stream::read(const std::string& after_id, std::size_t limit)
    -> result<std::vector<std::pair<std::string, dead_letter>>> {
  std::vector<std::pair<std::string, dead_letter>> out;
  if (limit == 0) return out;
  const auto count = std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max());
  const std::vector<std::string> args{"XRANGE", stream_, "(" + after_id, "+", "COUNT", std::to_string(count)};
  auto r = client_->command(args);
  if (!r) return std::move(r).error();
  for (const auto& entry : r->elements) {
    if (entry.elements.size() != 2) return internal_error("dead-letter stream: XRANGE returned an unexpected reply");
    auto l = to_letter(entry.elements[0].str, entry.elements[1].elements);
    if (!l) return std::move(l).error();
    out.emplace_back(entry.elements[0].str, std::move(*l));
  }
  return out;
}

auto dead_letter_stream::size() -> result<std::size_t> {
  auto r = client_->command({"XLEN", stream_});
  if (!r) return std::move(r).error();
  return static_cast<std::size_t>(r->integer);
}

}  // namespace pipeline::redis
