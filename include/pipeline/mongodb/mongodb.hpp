#pragma once

/// pipeline::mongodb: a client (connection pool from a mongodb:// URI), a cursor source
/// resumable by key, bulk insert and upsert sinks with per-document failures, a checkpoint
/// store, a dead-letter collection and a job log. Link `pipeline::mongodb`; libmongoc's
/// headers stay out of these. docs/adapters/mongodb.md describes mappings and guarantees.

#include <pipeline/mongodb/checkpoint_store.hpp>
#include <pipeline/mongodb/client.hpp>
#include <pipeline/mongodb/collection_sink.hpp>
#include <pipeline/mongodb/collection_source.hpp>
#include <pipeline/mongodb/dead_letter_collection.hpp>
#include <pipeline/mongodb/job_log.hpp>
