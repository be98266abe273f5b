#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <span>
#include <stop_token>
#include <string>

#include <pipeline/error.hpp>
#include <pipeline/position.hpp>
#include <pipeline/result.hpp>

namespace pipeline {

/// A record that could not be processed, with everything needed to understand and replay it.
///
/// The payload is bytes, not `T`: a line that failed to parse never became a `T`, and a DLQ
/// table or stream must hold entries of any pipeline. Records that did become a `T` are
/// encoded by the runner (with a codec, or as text). A value type.
///
/// `job` comes last so that older code that builds a letter field by field still compiles;
/// letters built without it (a source's rejects) get the job's name from the runner.
struct dead_letter {
  std::string payload;         ///< the record's bytes (raw line, encoded record, JSON…)
  error reason;                ///< kind, message and native code of the last failure
  std::uint32_t attempts = 0;  ///< how many times it was tried (0: rejected by the source)
  position pos;                ///< where it came from (line number, key, offset…)
  std::uint32_t partition = 0;
  std::chrono::system_clock::time_point time{};  ///< when it was dead-lettered
  std::string job{};           ///< the job that dead-lettered it (`runner_options::name`); empty if unknown

  friend auto operator==(const dead_letter&, const dead_letter&) -> bool = default;
};

/// Where dead letters go: `write` stores all of them or fails.
///
/// A record counts as done once it is in the sink *or* here, so a DLQ that cannot write
/// fails the batch (it is retried or the run fails); it never loses the entry silently.
/// Implementations must accept concurrent `write` calls from several workers.
template <class D>
concept dead_letter_sink = requires(D& d, std::span<const dead_letter> letters, std::stop_token stop) {
  { d.write(letters, stop) } -> std::same_as<result<void>>;
};

}  // namespace pipeline
