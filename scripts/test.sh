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
