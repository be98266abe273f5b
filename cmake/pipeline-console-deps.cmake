# What pipeline::console needs from the consumer's system: one find_package() argument string
# per entry. cpp-httplib (through pkg-config) and nlohmann_json are private, but a static
# pipeline_console names their targets in its exported link interface, so the consumer defines
# them the same way; the adapters it was built over come with their own components.
set(_pipeline_component_deps "PkgConfig" "nlohmann_json 3")
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND AND NOT TARGET PkgConfig::cpp_httplib)
  pkg_check_modules(cpp_httplib QUIET IMPORTED_TARGET GLOBAL cpp-httplib)
endif()
