# What pipeline::postgres needs from the consumer's system. Debian's libpq-dev has a pkg-config
# file (its FindPostgreSQL module would also want the server headers), so it is found here
# with pkg_check_modules; a static pipeline_postgres names PkgConfig::libpq in its exported
# link interface.
set(_pipeline_component_deps "PkgConfig")
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND AND NOT TARGET PkgConfig::libpq)
  pkg_check_modules(libpq QUIET IMPORTED_TARGET GLOBAL libpq>=14)
endif()
if(NOT TARGET PkgConfig::libpq)
  set(_pipeline_deps_ok FALSE)
  set(_pipeline_missing "libpq (pkg-config)")
endif()
