#include <pipeline/codec.hpp>

#include <bit>
#include <cstddef>
#include <vector>

#include <fmt/format.h>

namespace pipeline {
namespace {

// Values of the type tag byte; part of the wire format, never renumber.
enum class tag : std::uint8_t {
  null = 0,
  false_value = 1,
  true_value = 2,
  int64 = 3,
  float64 = 4,
  string = 5,
  bytes = 6,
  timestamp = 7,
};

void put_byte(std::string& out, std::uint8_t b) { out += static_cast<char>(b); }

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    put_byte(out, static_cast<std::uint8_t>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  put_byte(out, static_cast<std::uint8_t>(v));
}

void put_fixed64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i, v >>= 8) put_byte(out, static_cast<std::uint8_t>(v & 0xff));
}

void put_length_prefixed(std::string& out, const char* data, std::size_t size) {
  put_varint(out, size);
  out.append(data, size);
}

void put_value(std::string& out, const value& v) {
  switch (v.kind()) {
    case value_kind::null: put_byte(out, static_cast<std::uint8_t>(tag::null)); break;
    case value_kind::boolean:
      put_byte(out, static_cast<std::uint8_t>(*v.get_if<bool>() ? tag::true_value : tag::false_value));
      break;
    case value_kind::int64:
      put_byte(out, static_cast<std::uint8_t>(tag::int64));
      put_fixed64(out, static_cast<std::uint64_t>(*v.get_if<std::int64_t>()));
      break;
    case value_kind::float64:
      put_byte(out, static_cast<std::uint8_t>(tag::float64));
      put_fixed64(out, std::bit_cast<std::uint64_t>(*v.get_if<double>()));
      break;
    case value_kind::string: {
      const auto& s = *v.get_if<std::string>();
      put_byte(out, static_cast<std::uint8_t>(tag::string));
      put_length_prefixed(out, s.data(), s.size());
      break;
    }
    case value_kind::binary: {
      const auto& b = *v.get_if<bytes>();
      put_byte(out, static_cast<std::uint8_t>(tag::bytes));
      put_length_prefixed(out, reinterpret_cast<const char*>(b.data()), b.size());
      break;
    }
    case value_kind::datetime:
      put_byte(out, static_cast<std::uint8_t>(tag::timestamp));
      put_fixed64(out, static_cast<std::uint64_t>(v.get_if<timestamp>()->time_since_epoch().count()));
      break;
  }
}

// Reads the input front to back; every read checks the bytes left before touching them.
class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}

  [[nodiscard]] auto left() const noexcept -> std::size_t { return in_.size() - pos_; }

  [[nodiscard]] auto fail(std::size_t at, std::string_view reason) const -> error {
    return invalid_input_error(fmt::format("record_codec: {} at byte {}", reason, at));
  }

  auto byte(std::string_view what) -> result<std::uint8_t> {
    if (left() < 1) return truncated(what);
    return static_cast<std::uint8_t>(in_[pos_++]);
  }

  auto varint(std::string_view what) -> result<std::uint64_t> {
    const std::size_t start = pos_;
    std::uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
      if (left() < 1) return truncated(what);
      const auto b = static_cast<std::uint8_t>(in_[pos_++]);
      // The tenth byte holds bit 63 only; anything more would overflow.
      if (shift == 63 && b > 1) return fail(start, fmt::format("{} overflows 64 bits", what));
      v |= std::uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) {
        // A trailing zero byte encodes nothing: rejected so that each value has one encoding.
        if (b == 0 && shift != 0) return fail(start, fmt::format("{} is not minimally encoded", what));
        return v;
      }
    }
  }

  auto fixed64(std::string_view what) -> result<std::uint64_t> {
    if (left() < 8) return truncated(what);
    std::uint64_t v = 0;
    for (unsigned i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<std::uint8_t>(in_[pos_ + i])} << (8 * i);
    pos_ += 8;
    return v;
  }

  // A varint length, then that many bytes; the length is checked against what is left.
  auto length_prefixed(std::string_view what) -> result<std::string_view> {
    const std::size_t start = pos_;
    auto n = varint(what);
    if (!n) return std::move(n).error();
    if (*n > left()) {
      return fail(start, fmt::format("{} {} runs past the end ({} bytes left)", what, *n, left()));
    }
    const auto size = static_cast<std::size_t>(*n);
    std::string_view s = in_.substr(pos_, size);
    pos_ += size;
    return s;
  }

  [[nodiscard]] auto pos() const noexcept -> std::size_t { return pos_; }

 private:
  auto truncated(std::string_view what) const -> error {
    return fail(pos_, fmt::format("input truncated reading {}", what));
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

auto read_value(reader& in) -> result<value> {
  const std::size_t start = in.pos();
  auto t = in.byte("type tag");
  if (!t) return std::move(t).error();
  switch (static_cast<tag>(*t)) {
    case tag::null: return value{};
    case tag::false_value: return value{false};
    case tag::true_value: return value{true};
    case tag::int64: {
      auto n = in.fixed64("int64");
      if (!n) return std::move(n).error();
      return value{static_cast<std::int64_t>(*n)};
    }
    case tag::timestamp: {
      auto n = in.fixed64("timestamp");
      if (!n) return std::move(n).error();
      return value{timestamp{std::chrono::microseconds{static_cast<std::int64_t>(*n)}}};
    }
    case tag::float64: {
      auto n = in.fixed64("float64");
      if (!n) return std::move(n).error();
      return value{std::bit_cast<double>(*n)};
    }
    case tag::string: {
      auto s = in.length_prefixed("string length");
      if (!s) return std::move(s).error();
      return value{std::string(*s)};
    }
    case tag::bytes: {
      auto s = in.length_prefixed("bytes length");
      if (!s) return std::move(s).error();
      const auto* data = reinterpret_cast<const std::byte*>(s->data());
      return value{bytes(data, data + s->size())};
    }
  }
  return in.fail(start, fmt::format("unknown type tag {:#04x}", *t));
}

}  // namespace

void record_codec::encode(const record& r, std::string& out) const {
  put_byte(out, format_version);
  put_varint(out, r.size());
  for (const auto& [name, v] : r) {
    put_length_prefixed(out, name.data(), name.size());
    put_value(out, v);
  }
}

auto record_codec::decode(std::string_view in) const -> result<record> {
  reader r(in);
  if (in.empty()) return r.fail(0, "empty input");
  auto version = r.byte("version");
  if (*version != format_version) {
    return r.fail(0, fmt::format("unsupported version {} (this build reads {})", *version, format_version));
  }
  const std::size_t count_at = r.pos();
  auto count = r.varint("field count");
  if (!count) return std::move(count).error();
  // Each field takes at least two bytes (name length, tag), so a larger count is forged;
  // refusing it here also keeps the reserve below bounded by the input size.
  if (*count > r.left() / 2) {
    return r.fail(count_at, fmt::format("field count {} is more than {} bytes can hold", *count, r.left()));
  }
  std::vector<record::entry> fields;
  fields.reserve(static_cast<std::size_t>(*count));
  for (std::uint64_t i = 0; i < *count; ++i) {
    auto name = r.length_prefixed("field name length");
    if (!name) return std::move(name).error();
    auto v = read_value(r);
    if (!v) return std::move(v).error();
    fields.emplace_back(std::string(*name), std::move(*v));
  }
  if (r.left() != 0) return r.fail(r.pos(), fmt::format("{} bytes of trailing data", r.left()));
  return record::from_fields(std::move(fields));
}

}  // namespace pipeline
