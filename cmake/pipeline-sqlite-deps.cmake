# What pipeline::sqlite needs from the consumer's system: one find_package() argument string per
# entry. SQLite3 is a private dependency, but a static pipeline_sqlite still names its target in
# the exported link interface, so it must be found (CMake's own FindSQLite3 module).
set(_pipeline_component_deps "SQLite3 3.24")
