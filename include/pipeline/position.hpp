#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pipeline {

/// Where a source is: the point just after the last record handed out.
///
/// Opaque to the runner and the checkpoint stores, which only keep and compare for equality;
/// the source that made it is the only one that reads it (a last key, a byte offset, a stream
/// id, an encoded composite key). Serialised as its bytes, so any store can keep it.
/// An empty position means "the beginning". A value type; not synchronised.
///
///     auto p = pipeline::position::from_integer(41'999);   // keyset: last id read
///     auto last = p.to_integer();                           // std::optional<std::int64_t>
class position {
 public:
  position() = default;
  explicit position(std::string bytes) : bytes_(std::move(bytes)) {}

  /// A signed integer position (a last id, a byte offset), stored as decimal text so that it
  /// stays readable in a checkpoint table or file.
  [[nodiscard]] static auto from_integer(std::int64_t value) -> position;
  /// The integer back, or nullopt when this position was not made by `from_integer`.
  [[nodiscard]] auto to_integer() const -> std::optional<std::int64_t>;

  [[nodiscard]] auto bytes() const noexcept -> const std::string& { return bytes_; }
  [[nodiscard]] auto empty() const noexcept -> bool { return bytes_.empty(); }

  friend auto operator==(const position&, const position&) -> bool = default;

 private:
  std::string bytes_;
};

}  // namespace pipeline
