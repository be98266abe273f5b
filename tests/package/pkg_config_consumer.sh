#!/bin/sh
# Builds and runs the consumer program with nothing but pkg-config and a compiler.
# $1: install prefix, $2: C++ compiler, $3: source dir of the consumer, $4: scratch dir
set -eu
pc=$(dirname "$(find "$1" -name pipeline-core.pc | head -n 1)")
export PKG_CONFIG_PATH="$pc"
"$2" -std=c++20 -o "$4/pkg_config_consumer" "$3/main.cpp" $(pkg-config --cflags --libs pipeline-core)
LD_LIBRARY_PATH="$(pkg-config --variable=libdir pipeline-core)" "$4/pkg_config_consumer"
# A component whose library is static links what it uses privately (sqlite3) through its
# Requires, with a plain `pkg-config --libs`.
"$2" -std=c++20 -o "$4/pkg_config_consumer_sqlite" "$3/sqlite.cpp" $(pkg-config --cflags --libs pipeline-sqlite)
"$4/pkg_config_consumer_sqlite"
