# pipeline_add_component(): the one place a pipeline component target is defined.
#
#   pipeline_add_component(NAME <name> [INTERFACE]
#                          [SOURCES <cpp>...] [HEADER_DIR <dir under include/pipeline>]
#                          [LINK <public targets>...] [PRIVATE_LINK <targets>...]
#                          [DEPS_FILE <cmake file with this component's find_dependency calls>]
#                          [PC_REQUIRES <pkg-config modules its pipeline-<name>.pc requires>...])
#
# Creates pipeline_<name> with ALIAS pipeline::<name> and EXPORT_NAME <name>, links
# pipeline::core (except for core itself), declares its public headers as a FILE_SET so that
# they are installed only when the component is built, and records what the install step
# needs: one export set and one deps file per component (see PipelineInstall.cmake).
include_guard(GLOBAL)

set(PIPELINE_COMPONENTS "" CACHE INTERNAL "components built in this tree")

# Warnings and sanitizers are ours alone: PRIVATE, never pushed onto users.
function(pipeline_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                             -Wsign-conversion -Wnon-virtual-dtor)
    if(PIPELINE_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()

# AUTO/ON/OFF resolution: returns in <out> whether to build, fails when ON and not found.
function(pipeline_component_enabled name found out)
  string(TOUPPER "${name}" upper)
  set(mode "${PIPELINE_WITH_${upper}}")
  if(mode STREQUAL "OFF")
    message(STATUS "pipeline: component '${name}' disabled (PIPELINE_WITH_${upper}=OFF)")
    set(${out} FALSE PARENT_SCOPE)
  elseif(found)
    message(STATUS "pipeline: component '${name}' enabled")
    set(${out} TRUE PARENT_SCOPE)
  elseif(mode STREQUAL "ON")
    message(FATAL_ERROR "pipeline: PIPELINE_WITH_${upper}=ON but its dependencies were not found")
  else()
    message(STATUS "pipeline: component '${name}' skipped: dependencies not found")
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

function(pipeline_add_component)
  cmake_parse_arguments(arg "INTERFACE" "NAME;HEADER_DIR;DEPS_FILE" "SOURCES;LINK;PRIVATE_LINK;PC_REQUIRES" ${ARGN})
  set(target pipeline_${arg_NAME})
  if(arg_INTERFACE)
    add_library(${target} INTERFACE)
    set(scope INTERFACE)
  else()
    add_library(${target} ${arg_SOURCES})
    set(scope PUBLIC)
    pipeline_warnings(${target})
    set_target_properties(${target} PROPERTIES OUTPUT_NAME pipeline_${arg_NAME}
                                               VERSION ${PROJECT_VERSION}
                                               SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  endif()
  add_library(pipeline::${arg_NAME} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${arg_NAME})
  target_compile_features(${target} ${scope} cxx_std_20)

  set(base "${PROJECT_SOURCE_DIR}/include")
  if(arg_HEADER_DIR)
    file(GLOB_RECURSE headers CONFIGURE_DEPENDS "${base}/pipeline/${arg_HEADER_DIR}/*.hpp")
    if(arg_NAME STREQUAL "core")
      # The core owns the top-level headers and detail/, not the component folders.
      file(GLOB core_headers CONFIGURE_DEPENDS "${base}/pipeline/*.hpp")
      file(GLOB_RECURSE detail_headers CONFIGURE_DEPENDS "${base}/pipeline/detail/*.hpp")
      file(GLOB_RECURSE memory_headers CONFIGURE_DEPENDS "${base}/pipeline/memory/*.hpp")
      set(headers ${core_headers} ${detail_headers} ${memory_headers})
    endif()
    target_sources(${target} ${scope} FILE_SET HEADERS BASE_DIRS "${base}" FILES ${headers})
  endif()
  target_include_directories(${target} ${scope} "$<BUILD_INTERFACE:${base}>"
                                                "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
  if(NOT arg_NAME STREQUAL "core")
    target_link_libraries(${target} ${scope} pipeline::core)
  endif()
  if(arg_LINK)
    target_link_libraries(${target} ${scope} ${arg_LINK})
  endif()
  if(arg_PRIVATE_LINK)
    target_link_libraries(${target} PRIVATE ${arg_PRIVATE_LINK})
  endif()
  set_property(TARGET ${target} PROPERTY PIPELINE_DEPS_FILE "${arg_DEPS_FILE}")
  set_property(TARGET ${target} PROPERTY PIPELINE_PC_REQUIRES "${arg_PC_REQUIRES}")
  set(PIPELINE_COMPONENTS ${PIPELINE_COMPONENTS} ${arg_NAME} CACHE INTERNAL "components built in this tree")
endfunction()
