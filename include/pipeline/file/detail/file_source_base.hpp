#pragma once

#include <memory>
#include <optional>
#include <stop_token>

#include <pipeline/batch.hpp>
#include <pipeline/position.hpp>
#include <pipeline/result.hpp>

namespace pipeline::file::detail {

/// The reading state of a file source in format F: the file and a reader over it (defined in
/// src/file, so that no parser shows in a public header).
template <class Format>
struct file_source_state;

/// What `csv_source`, `jsonl_source` and `dead_letter_file_source` share: a seekable source of
/// T over a file in Format. Each of them only adds its options; the members are defined and
/// instantiated in the library. Move-only.
template <class Format, class T>
class file_source_base {
 public:
  using value_type = T;

  file_source_base(file_source_base&&) noexcept;
  auto operator=(file_source_base&&) noexcept -> file_source_base&;
  ~file_source_base();

  /// The next batch, `std::nullopt` once the file is read to its end, or an error.
  [[nodiscard]] auto next_batch(std::stop_token stop) -> result<std::optional<batch<T>>>;
  /// Resumes after a batch's `end`; the empty position or "0" starts over.
  [[nodiscard]] auto seek(const position& pos) -> result<void>;

 protected:
  explicit file_source_base(std::unique_ptr<file_source_state<Format>> state) noexcept;

 private:
  std::unique_ptr<file_source_state<Format>> state_;
};

}  // namespace pipeline::file::detail
