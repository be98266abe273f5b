#pragma once

/// The contract suites, for users who write their own sources, sinks, checkpoint stores and
/// dead-letter queues: instantiate the ones your adapter models in your GoogleTest binary
/// and link `pipeline::testing`. docs/custom-adapters.md walks through one.

#include <pipeline/testing/checkpoint_store_contract.hpp>
#include <pipeline/testing/dead_letter_sink_contract.hpp>
#include <pipeline/testing/dead_letter_store_contract.hpp>
#include <pipeline/testing/job_log_store_contract.hpp>
#include <pipeline/testing/sink_contract.hpp>
#include <pipeline/testing/source_contract.hpp>
#include <pipeline/testing/transactional_sink_contract.hpp>
