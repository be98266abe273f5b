#include "byte_stream.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cstring>

namespace pipeline::file::detail {

auto file_stream::ensure_open() -> result<void> {
  if (fd_) return ok();
  auto fd = open_file(path_, O_RDONLY);
  if (!fd) return std::move(fd).error();
  fd_ = std::move(*fd);
  return ok();
}

auto file_stream::read_at(std::uint64_t offset, std::span<char> into) -> result<std::size_t> {
  if (auto opened = ensure_open(); !opened) return std::move(opened).error();
  return detail::read_at(fd_, into.data(), into.size(), offset, path_);
}

auto file_stream::size() -> result<std::uint64_t> {
  if (auto opened = ensure_open(); !opened) return std::move(opened).error();
  return file_size(fd_, path_);
}

auto memory_stream::read_at(std::uint64_t offset, std::span<char> into) -> result<std::size_t> {
  if (offset >= bytes_.size()) return std::size_t{0};
  const auto n = std::min(into.size(), bytes_.size() - static_cast<std::size_t>(offset));
  std::memcpy(into.data(), bytes_.data() + offset, n);
  return n;
}

}  // namespace pipeline::file::detail
