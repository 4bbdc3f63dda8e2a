#!/usr/bin/env bash
# The test broker: Apache Kafka 4.1.1 (KRaft, one node) from its jars on Maven Central.
#   tests/broker/kafka.sh install   fetch the jars into $BURSAR_KAFKA_DIR/libs (once per machine)
#   tests/broker/kafka.sh start     start a broker on free loopback ports; prints BOOTSTRAP=host:port
#   tests/broker/kafka.sh stop      stop it and delete its data
#   tests/broker/kafka.sh kill      kill -9 it, keeping its ports, configuration and data
#   tests/broker/kafka.sh restart   start it again after `kill`: same ports, same data
# BURSAR_KAFKA_DIR defaults to target/kafka in the repository. BURSAR_KAFKA_INSTANCE
# names a broker of its own (run directory run-NAME, same jars), so a test can
# kill and restart it without touching the shared one.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${BURSAR_KAFKA_DIR:-$root/target/kafka}"
libs="$dir/libs"
run="$dir/run${BURSAR_KAFKA_INSTANCE:+-$BURSAR_KAFKA_INSTANCE}"
log4j="-Dlog4j2.configurationFile=$root/tests/broker/log4j2.xml"

install() {
  if ls "$libs"/kafka_2.13-*.jar >/dev/null 2>&1; then return 0; fi
  mkdir -p "$libs"
  echo "kafka.sh: fetching Apache Kafka jars from Maven Central into $libs" >&2
  mvn -q -f "$root/tests/broker/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs" \
    || mvn -q -f "$root/tests/broker/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  install
  if [ -f "$run/broker.env" ]; then stop; fi
  mkdir -p "$run"
  local port cport data
  port=$(free_port); cport=$(free_port)
  while [ "$cport" = "$port" ]; do cport=$(free_port); done
  data="$(mktemp -d "${TMPDIR:-/tmp}/bursar-kafka.XXXXXX")"
  cat > "$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
# Abort a killed producer's open transaction soon after its transaction.timeout.ms.
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.cleaner.backoff.ms=1000
PROPS
  local cp="$libs/*"
  java $log4j -cp "$cp" kafka.tools.StorageTool format -t "$(java $log4j -cp "$cp" kafka.tools.StorageTool random-uuid)" \
    -c "$run/server.properties" >"$run/format.log" 2>&1
  : > "$run/broker.log"
  launch "$port" "$data"
}

# Starts the broker of $run/server.properties and waits until it answers.
launch() {
  local port="$1" data="$2" cp="$libs/*"
  nohup java -Xmx768m -XX:+UseSerialGC $log4j -cp "$cp" kafka.Kafka "$run/server.properties" >>"$run/broker.log" 2>&1 &
  local pid=$!
  printf 'BROKER_PID=%s\nBOOTSTRAP=127.0.0.1:%s\nDATA=%s\nPORT=%s\n' "$pid" "$port" "$data" "$port" > "$run/broker.env"
  for _ in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "kafka.sh: the broker exited; see $run/broker.log" >&2; tail -20 "$run/broker.log" >&2; return 1
    fi
    if java $log4j -cp "$cp" org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$port" --list >/dev/null 2>&1; then
      echo "BOOTSTRAP=127.0.0.1:$port"
      return 0
    fi
    sleep 0.5
  done
  echo "kafka.sh: the broker did not answer within 60 s; see $run/broker.log" >&2
  return 1
}

kill9() {
  [ -f "$run/broker.env" ] || { echo "kafka.sh: no broker to kill" >&2; return 1; }
  # shellcheck disable=SC1091
  . "$run/broker.env"
  kill -9 "$BROKER_PID" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.25; done
}

restart() {
  [ -f "$run/broker.env" ] || { echo "kafka.sh: no broker to restart" >&2; return 1; }
  # shellcheck disable=SC1091
  . "$run/broker.env"
  if kill -0 "$BROKER_PID" 2>/dev/null; then echo "kafka.sh: the broker still runs" >&2; return 1; fi
  launch "$PORT" "$DATA"
}

stop() {
  [ -f "$run/broker.env" ] || return 0
  # shellcheck disable=SC1091
  . "$run/broker.env"
  if kill "$BROKER_PID" 2>/dev/null; then
    for _ in $(seq 1 40); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$BROKER_PID" 2>/dev/null || true
  fi
  rm -rf "$DATA" "$run/broker.env"
  # A named instance leaves nothing behind.
  if [ -n "${BURSAR_KAFKA_INSTANCE:-}" ]; then rm -rf "$run"; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  kill) kill9 ;;
  restart) restart ;;
  *) echo "usage: $0 install|start|stop|kill|restart" >&2; exit 2 ;;
esac
