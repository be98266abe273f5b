# What pipeline::file needs from the consumer's system: one find_package() argument string per
# entry. nlohmann_json is a private, header-only dependency, but a static pipeline_file still
# names its target in the exported link interface, so it must be found.
set(_pipeline_component_deps "nlohmann_json 3")
