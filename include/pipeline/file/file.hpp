#pragma once

/// pipeline::file, for those who prefer one include: streaming CSV and JSON Lines sources, a
/// JSON Lines sink with exactly-once resume, a checkpoint store and a job log in a directory,
/// and a dead-letter queue in a file with a source to read it back. Link `pipeline::file`.
/// docs/adapters/file.md describes each.

#include <pipeline/file/checkpoint_store.hpp>
#include <pipeline/file/csv_source.hpp>
#include <pipeline/file/dead_letter_file.hpp>
#include <pipeline/file/dead_letter_file_source.hpp>
#include <pipeline/file/job_log.hpp>
#include <pipeline/file/jsonl_sink.hpp>
#include <pipeline/file/jsonl_source.hpp>
#include <pipeline/file/out_of_range.hpp>
