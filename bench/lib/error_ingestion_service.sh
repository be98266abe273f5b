# Shared by bench/error_ingestion_load.sh and bench/soak.sh (source it): builds a Release
# error_ingestion in build/example, starts it on a free port, stops it with its final flush and
# checks MySQL against the requests it accepted. Needs the URIs of scripts/services.sh.
: "${PIPELINE_REDIS_TEST_URI:?run it under scripts/services.sh --only redis,mysql --}"
: "${PIPELINE_MYSQL_TEST_URI:?run it under scripts/services.sh --only redis,mysql --}"
# SERVICE_BIN: another build of the service to measure (a baseline built from an older commit).
service_bin=${SERVICE_BIN:-build/example/examples/08_error_ingestion/error_ingestion}
service_pid=
service_url=
service_prefix=
service_log=$(mktemp)
trap '[[ -n $service_pid ]] && kill "$service_pid" 2>/dev/null; rm -f "$service_log"' EXIT

build_service() {
  cmake -S . -B build/example -G Ninja -DCMAKE_BUILD_TYPE=Release -DPIPELINE_BUILD_TESTS=OFF \
        -DPIPELINE_BUILD_EXAMPLES=ON -DPIPELINE_WITH_TESTING=OFF -DPIPELINE_WITH_REDIS=ON -DPIPELINE_WITH_MYSQL=ON >/dev/null
  cmake --build build/example --target error_ingestion >/dev/null
}

start_service() {  # prefix, then error_ingestion options
  service_prefix=$1; shift
  : >"$service_log"  # a second service must not be taken for started by the first one's line
  "$service_bin" --listen 127.0.0.1:0 --prefix "$service_prefix" "$@" >"$service_log" 2>&1 & service_pid=$!
  for ((i = 0; i < 200; i++)); do grep -q "listening on" "$service_log" && break; sleep 0.05; done
  service_url=$(grep -o "http://[0-9.:]*" "$service_log") || { cat "$service_log" >&2; return 1; }
}

# SIGTERM (the service stops taking requests, drains its stream, flushes), then checks that
# MySQL counts exactly what the service accepted. Returns non-zero when anything is off.
stop_and_check_service() {
  local accepted status=0
  accepted=$(curl -s "$service_url/metrics" | sed -n 's/^error_ingestion_events_accepted_total \([0-9]*\)$/\1/p')
  kill -TERM "$service_pid"
  wait "$service_pid" || status=1
  service_pid=
  echo "the service accepted $accepted requests"
  "$service_bin" --prefix "$service_prefix" --check-total "$accepted" || status=1
  return $status
}
