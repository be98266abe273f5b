#pragma once

/// pipeline's version, as numbers for the preprocessor and as text.
#define PIPELINE_VERSION_MAJOR 0
#define PIPELINE_VERSION_MINOR 1
#define PIPELINE_VERSION_PATCH 0

namespace pipeline {
inline constexpr const char* version_string = "0.1.0";
}  // namespace pipeline
