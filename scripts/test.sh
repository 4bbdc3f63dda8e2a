#!/usr/bin/env bash
# Every test of bursar. Installs the test broker (Apache Kafka from Maven
# Central) when missing, starts one broker for the run, runs every test
# target, and stops the broker.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v docker-compose >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  # Debian's docker-compose parses the file without a Docker engine.
  (apt-get update -qq && apt-get install -y -qq docker-compose) >/dev/null 2>&1 || true
fi
if command -v docker-compose >/dev/null 2>&1; then
  echo "== docker-compose config"
  docker-compose -f docker-compose.yml config -q
elif docker compose version >/dev/null 2>&1; then
  echo "== docker compose config"
  docker compose -f docker-compose.yml config -q
else
  echo "== docker-compose not installed: docker-compose.yml syntax not checked"
fi

# The report's browser test needs Chromium; the alert rules are checked by
# promtool (Debian's prometheus package) when present.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  if [ ! -x /usr/bin/chromium ]; then
    echo "== installing chromium (the report's browser test)"
    (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 || echo "chromium could not be installed"
  fi
  if ! command -v promtool >/dev/null 2>&1; then
    (apt-get install -y -qq prometheus || (apt-get update -qq && apt-get install -y -qq prometheus)) >/dev/null 2>&1 || echo "prometheus (promtool) could not be installed"
  fi
fi

if command -v python3 >/dev/null 2>&1 && ! python3 -c "import duckdb" >/dev/null 2>&1; then
  # DuckDB reads the Parquet and CSV outputs back (tests/parquet_roundtrip.rs).
  python3 -m pip install --quiet duckdb >/dev/null 2>&1 || echo "duckdb could not be installed"
fi

echo "== broker"
if [ -z "${BURSAR_TEST_BOOTSTRAP:-}" ]; then
  tests/broker/kafka.sh install
  line="$(tests/broker/kafka.sh start)"
  trap 'tests/broker/kafka.sh stop' EXIT
  export BURSAR_TEST_BOOTSTRAP="${line#BOOTSTRAP=}"
fi
echo "Apache Kafka at $BURSAR_TEST_BOOTSTRAP"

echo "== cargo test"
cargo test --release --lib --bins --tests "$@"
