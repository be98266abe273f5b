#include <pipeline/version.hpp>

#include <gtest/gtest.h>

#include <string>

// The header and the CMake project version must not drift apart.
TEST(version, header_matches_the_cmake_project_version) {
  EXPECT_EQ(std::string(pipeline::version_string), PIPELINE_EXPECTED_VERSION);
  EXPECT_EQ(std::to_string(PIPELINE_VERSION_MAJOR) + "." + std::to_string(PIPELINE_VERSION_MINOR) + "." +
                std::to_string(PIPELINE_VERSION_PATCH),
            PIPELINE_EXPECTED_VERSION);
}
