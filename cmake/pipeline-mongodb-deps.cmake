# What pipeline::mongodb needs from the consumer's system: one find_package() argument string per
# entry. libmongoc is a private dependency, but a static pipeline_mongodb still names its target
# in the exported link interface, so it must be found.
set(_pipeline_component_deps "mongoc-1.0 1.23 CONFIG")
