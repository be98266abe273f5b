#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <pipeline/record.hpp>
#include <pipeline/record_mapping.hpp>
#include <pipeline/result.hpp>

namespace pipeline {

/// How values of T become bytes and back, to travel on a distributed queue or into a DLQ.
///
/// `encode` appends the encoding of one value to `out`; `decode` reads exactly one encoding
/// (the queue frames them) and returns an invalid_input error for anything it cannot read,
/// never crashing or reading out of bounds on hostile bytes.
///
///     pipeline::record_codec c;
///     std::string wire;
///     c.encode(r, wire);
///     pipeline::result<pipeline::record> back = c.decode(wire);
template <class C, class T>
concept codec = requires(C& c, const T& v, std::string& out, std::string_view in) {
  c.encode(v, out);
  { c.decode(in) } -> std::same_as<result<T>>;
};

/// A compact, versioned binary encoding of a `record`.
///
/// Stateless and thread-safe. Layout (version 1), all integers little-endian:
///
///     version     1 byte, = 1
///     count       varint (unsigned LEB128, minimal, at most 10 bytes): number of fields
///     count × {   name: varint length + UTF-8 bytes (not validated)
///                 tag: 1 byte; 0 null, 1 false, 2 true, 3 int64, 4 float64, 5 string,
///                      6 bytes, 7 timestamp
///                 payload: int64, timestamp (µs since the epoch): 8 bytes two's complement;
///                          float64: 8 bytes IEEE-754 bits (NaN payloads kept);
///                          string, bytes: varint length + the bytes; none otherwise }
///
/// Decoding rejects, as invalid_input with the reason and byte offset: empty or truncated
/// input, another version, unknown tags, overlong or non-minimal varints, lengths and counts
/// larger than the bytes left (checked before anything is allocated), duplicate names and
/// trailing bytes. So every accepted input is the one encoding of its record.
class record_codec {
 public:
  static constexpr std::uint8_t format_version = 1;

  void encode(const record& r, std::string& out) const;
  [[nodiscard]] auto decode(std::string_view in) const -> result<record>;
};

static_assert(codec<record_codec, record>);

/// A codec for any struct with a `record_mapping`: `to_record`, then `record_codec`.
///
/// Stateless and thread-safe. Decoding fails as `record_codec::decode` or `from_record` do.
///
///     pipeline::mapped_codec<user> c;
///     c.encode(user{7, "a@example.com", {}}, wire);
template <mapped_record T>
  requires std::default_initializable<T>
class mapped_codec {
 public:
  void encode(const T& v, std::string& out) const { record_codec{}.encode(to_record(v), out); }

  [[nodiscard]] auto decode(std::string_view in) const -> result<T> {
    auto r = record_codec{}.decode(in);
    if (!r) return std::move(r).error();
    return from_record<T>(*r);
  }
};

}  // namespace pipeline
