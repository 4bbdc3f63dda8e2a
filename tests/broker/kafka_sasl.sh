#!/usr/bin/env bash
# A test broker with authentication, for tests/kafka_sasl.rs: Apache Kafka
# 4.1.1 (KRaft, one node) from the jars tests/broker/kafka.sh installs, with
#   SASL_PLAINTEXT (SCRAM-SHA-256),
#   SASL_SSL (SCRAM-SHA-256 over TLS, a self-signed certificate made here),
#   PLAINTEXT (for the test's own checks only).
#   tests/broker/kafka_sasl.sh start DIR USER PASSWORD   prints PLAIN=, SASL=, SSL=, CA= lines
#   tests/broker/kafka_sasl.sh stop DIR
# DIR holds the broker's config, data, certificate and log; stop deletes it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
libs="${BURSAR_KAFKA_DIR:-$root/target/kafka}/libs"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir="$1" user="$2" password="$3"
  "$root/tests/broker/kafka.sh" install
  mkdir -p "$dir/data"
  local plain sasl ssl cport store_pass admin_pass
  plain=$(free_port); sasl=$(free_port); ssl=$(free_port); cport=$(free_port)
  store_pass="$(openssl rand -hex 12)"; admin_pass="$(openssl rand -hex 12)"
  # A self-signed certificate for 127.0.0.1; the client trusts exactly it.
  keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 2 -dname CN=127.0.0.1 -ext SAN=IP:127.0.0.1 \
    -keystore "$dir/broker.p12" -storetype PKCS12 -storepass "$store_pass" -keypass "$store_pass" >/dev/null 2>&1
  keytool -exportcert -rfc -alias broker -keystore "$dir/broker.p12" -storepass "$store_pass" -file "$dir/ca.pem" >/dev/null 2>&1
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$plain,SASL_PLAINTEXT://127.0.0.1:$sasl,SASL_SSL://127.0.0.1:$ssl,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$plain,SASL_PLAINTEXT://127.0.0.1:$sasl,SASL_SSL://127.0.0.1:$ssl
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_pass";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_pass";
ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/broker.p12
ssl.keystore.password=$store_pass
ssl.key.password=$store_pass
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=2
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=2
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
  local cp="$libs/*"
  local log4j="-Dlog4j2.configurationFile=$root/tests/broker/log4j2.xml"
  java $log4j -cp "$cp" kafka.tools.StorageTool format -t "$(java $log4j -cp "$cp" kafka.tools.StorageTool random-uuid)" \
    -c "$dir/server.properties" --add-scram "SCRAM-SHA-256=[name=$user,password=$password]" \
    --add-scram "SCRAM-SHA-256=[name=admin,password=$admin_pass]" >"$dir/format.log" 2>&1
  nohup java -Xmx512m -XX:+UseSerialGC $log4j -cp "$cp" kafka.Kafka "$dir/server.properties" >"$dir/broker.log" 2>&1 &
  local pid=$!
  echo "$pid" > "$dir/broker.pid"
  for _ in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "kafka_sasl.sh: the broker exited; see $dir/broker.log" >&2; tail -20 "$dir/broker.log" >&2; return 1
    fi
    if java $log4j -cp "$cp" org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$plain" --list >/dev/null 2>&1; then
      printf 'PLAIN=127.0.0.1:%s\nSASL=127.0.0.1:%s\nSSL=127.0.0.1:%s\nCA=%s\n' "$plain" "$sasl" "$ssl" "$dir/ca.pem"
      return 0
    fi
    sleep 0.5
  done
  echo "kafka_sasl.sh: the broker did not answer within 60 s; see $dir/broker.log" >&2
  return 1
}

stop() {
  local dir="$1"
  [ -f "$dir/broker.pid" ] || return 0
  local pid
  pid="$(cat "$dir/broker.pid")"
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:?DIR}" "${3:?USER}" "${4:?PASSWORD}" ;;
  stop) stop "${2:?DIR}" ;;
  *) echo "usage: $0 start DIR USER PASSWORD | stop DIR" >&2; exit 2 ;;
esac
