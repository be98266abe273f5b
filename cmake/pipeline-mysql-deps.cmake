# What pipeline::mysql needs from the consumer's system. libmariadb (MariaDB Connector/C) has
# no CMake package on Debian, only pkg-config, so it is found here with pkg_check_modules; a
# static pipeline_mysql names PkgConfig::libmariadb in its exported link interface.
set(_pipeline_component_deps "PkgConfig")
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND AND NOT TARGET PkgConfig::libmariadb)
  pkg_check_modules(libmariadb QUIET IMPORTED_TARGET GLOBAL libmariadb>=3.1)
endif()
if(NOT TARGET PkgConfig::libmariadb)
  set(_pipeline_deps_ok FALSE)
  set(_pipeline_missing "libmariadb (pkg-config)")
endif()
