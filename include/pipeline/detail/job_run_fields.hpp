#pragma once

// A job run's fields as text formats write them: one list, for the file job log's run files
// and the console's JSON, so that a field added to `job_run` reaches both. Times are
// ISO-8601 UTC text (detail/time_text.hpp); the reading side stays with each format.

#include <string_view>

#include <pipeline/detail/time_text.hpp>
#include <pipeline/job_run.hpp>

namespace pipeline::detail {

/// Calls `field(name, value)` once per field of `run`, in declaration order; a value is text
/// (a `std::string`, or a `std::string_view` for the state) or a `std::uint64_t` count or id.
template <class Field>
void for_each_job_run_field(const job_run& run, Field&& field) {
  field(std::string_view{"job"}, run.job);
  field(std::string_view{"id"}, run.id);
  field(std::string_view{"state"}, to_string(run.state));
  field(std::string_view{"owner"}, run.owner);
  field(std::string_view{"read"}, run.read);
  field(std::string_view{"written"}, run.written);
  field(std::string_view{"dead_lettered"}, run.dead_lettered);
  field(std::string_view{"retried"}, run.retried);
  field(std::string_view{"created"}, format_iso_time(run.created));
  field(std::string_view{"updated"}, format_iso_time(run.updated));
  field(std::string_view{"lease_until"}, format_iso_time(run.lease_until));
  field(std::string_view{"message"}, run.message);
}

}  // namespace pipeline::detail
