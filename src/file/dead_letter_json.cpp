#include "dead_letter_json.hpp"

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <pipeline/detail/time_text.hpp>

#include "json_record.hpp"
#include "text_codecs.hpp"

namespace pipeline::file::detail {
namespace {

using json = nlohmann::ordered_json;  // for writing: members in the documented order

// An entry is one flat object of ten members: read with the JSONL reader (linear, no tree),
// refusing nesting and more members than an entry could sensibly carry.
constexpr json_read_limits entry_limits{.max_members = 64, .max_depth = 1, .numbers = out_of_range::reject};

auto bad_member(std::string_view name, std::string_view what) -> error {
  return invalid_input_error(fmt::format("dead letter: member \"{}\" is missing or not {}", name, what));
}

auto text_member(const record& doc, std::string_view name) -> result<std::string> {
  const auto* v = doc.find(name);
  const auto* text = v == nullptr ? nullptr : v->get_if<std::string>();
  if (text == nullptr) return bad_member(name, "a string");
  return *text;
}

auto base64_member(const record& doc, std::string_view name) -> result<std::string> {
  auto text = text_member(doc, name);
  if (!text) return std::move(text).error();
  auto decoded = base64_decode(*text);
  if (!decoded) return bad_member(name, "base64");
  return std::move(*decoded);
}

template <std::integral T>
auto integer_member(const record& doc, std::string_view name) -> result<T> {
  const auto* v = doc.find(name);
  const auto* n = v == nullptr ? nullptr : v->get_if<std::int64_t>();
  if (n == nullptr || !std::in_range<T>(*n)) {
    return bad_member(name, fmt::format("an integer that fits in {} bits", sizeof(T) * 8));
  }
  return static_cast<T>(*n);
}

auto kind_member(const record& doc) -> result<error_kind> {
  auto name = text_member(doc, "kind");
  if (!name) return std::move(name).error();
  if (const auto kind = parse_error_kind(*name)) return *kind;
  return bad_member("kind", "the name of an error kind");
}

auto time_member(const record& doc) -> result<std::chrono::system_clock::time_point> {
  auto text = text_member(doc, "time");
  if (!text) return std::move(text).error();
  const auto t = pipeline::detail::parse_iso_time(*text);
  if (!t) return bad_member("time", "an ISO-8601 UTC time");
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(*t);
}

}  // namespace

void append_dead_letter_json(const dead_letter& letter, std::string& out) {
  const json entry = {
      {"payload", base64_encode(letter.payload)},
      {"kind", to_string(letter.reason.kind)},
      {"message", letter.reason.message},
      {"native_code", letter.reason.native_code},
      {"backend", letter.reason.backend},
      {"attempts", letter.attempts},
      {"position", base64_encode(letter.pos.bytes())},
      {"partition", letter.partition},
      {"time", pipeline::detail::format_iso_time(letter.time)},
      {"job", letter.job},
  };
  out += entry.dump(-1, ' ', false, json::error_handler_t::replace);
  out += '\n';
}

auto parse_dead_letter_json(std::string_view text) -> result<dead_letter> {
  auto parsed = parse_json_record(text, entry_limits);
  if (!parsed) return invalid_input_error(fmt::format("dead letter: {}", parsed.error().message));
  const record& doc = *parsed;
  auto payload = base64_member(doc, "payload");
  auto kind = kind_member(doc);
  auto message = text_member(doc, "message");
  auto native_code = integer_member<std::int64_t>(doc, "native_code");
  auto backend = text_member(doc, "backend");
  auto attempts = integer_member<std::uint32_t>(doc, "attempts");
  auto pos = base64_member(doc, "position");
  auto partition = integer_member<std::uint32_t>(doc, "partition");
  auto time = time_member(doc);
  // The first member that is wrong, in the order they are written.
  for (const error* e : {payload ? nullptr : &payload.error(), kind ? nullptr : &kind.error(),
                         message ? nullptr : &message.error(), native_code ? nullptr : &native_code.error(),
                         backend ? nullptr : &backend.error(), attempts ? nullptr : &attempts.error(),
                         pos ? nullptr : &pos.error(), partition ? nullptr : &partition.error(),
                         time ? nullptr : &time.error()}) {
    if (e != nullptr) return *e;
  }
  // Optional: files written before letters had a job have none.
  std::string job;
  if (doc.contains("job")) {
    auto member = text_member(doc, "job");
    if (!member) return std::move(member).error();
    job = std::move(*member);
  }
  return dead_letter{std::move(*payload),
                     error{*kind, std::move(*message), *native_code, std::move(*backend)},
                     *attempts,
                     position{std::move(*pos)},
                     *partition,
                     *time,
                     std::move(job)};
}

}  // namespace pipeline::file::detail
