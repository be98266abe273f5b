# What pipeline::redis needs from the consumer's system: one find_package() argument string per
# entry. hiredis is private and found through pkg-config (Debian's HiredisConfig.cmake fails
# without a version and has no imported target); a static pipeline_redis names
# PkgConfig::HIREDIS in its exported link interface, so the consumer defines it the same way.
set(_pipeline_component_deps "PkgConfig")
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND AND NOT TARGET PkgConfig::HIREDIS)
  pkg_check_modules(HIREDIS QUIET IMPORTED_TARGET hiredis)
endif()
