# What pipeline::testing needs from the consumer's system: one find_package() argument
# string per entry. The config file finds each QUIETly and reports the first that is missing.
set(_pipeline_component_deps "GTest")
