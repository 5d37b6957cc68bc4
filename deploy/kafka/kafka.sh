#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft: one process is broker and controller) for CI
# and for machines without Docker. Needs Java 17+ and Maven (to fetch the jars
# from Maven Central once) and Go (to build the readiness check).
#
#   deploy/kafka/kafka.sh start    fetch the jars if missing, format fresh storage, start,
#                                  wait until Kafka answers a metadata request
#   deploy/kafka/kafka.sh stop     stop it (no-op when not running)
#   deploy/kafka/kafka.sh status   exit 0 running and answering, 1 running but not answering,
#                                  3 not running
#   deploy/kafka/kafka.sh logs     tail the broker log
#
# Then: export KAFKA_BROKERS=127.0.0.1:19092
#
# Every start begins with empty storage (a new cluster id): tests use unique topic
# names, and nothing here is worth keeping. `start` on a running broker does nothing.
#
# Environment:
#   KAFKA_HOME             jars, data and logs (default ~/.cache/participation-kafka)
#   KAFKA_PORT             client listener on 127.0.0.1 (default 19092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener on 127.0.0.1 (default KAFKA_PORT+1)
#   KAFKA_HEAP_OPTS        JVM heap (default -Xms256m -Xmx512m)
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to answer (default 120)
#   KAFKA_VERSION          override the Kafka version pinned in deploy/kafka/pom.xml
#
# The jars are fetched again when pom.xml or KAFKA_VERSION changes.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

KAFKA_HOME=${KAFKA_HOME:-${HOME:-/tmp}/.cache/participation-kafka}
KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-120}

LIBS=$KAFKA_HOME/libs${KAFKA_VERSION:+-$KAFKA_VERSION}
RUN=$KAFKA_HOME/run-$KAFKA_PORT
PIDFILE=$RUN/kafka.pid
LOGFILE=$RUN/kafka.log
PING=$KAFKA_HOME/bin/kafkaping
BROKER=127.0.0.1:$KAFKA_PORT

say() { echo "kafka.sh: $*"; }
die() { echo "kafka.sh: error: $*" >&2; exit 1; }

need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# pid of our running broker, or nothing. The command line must name our run
# directory, so a recycled pid is never taken for the broker.
running_pid() {
	[[ -f $PIDFILE ]] || return 0
	local pid
	pid=$(cat "$PIDFILE")
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	local cmdline
	cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 0
	if [[ $cmdline == *"$RUN/server.properties"* ]]; then
		echo "$pid"
	fi
}

port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

fetch_libs() {
	local sum
	sum="$(sha256sum "$HERE/pom.xml" | cut -d' ' -f1) ${KAFKA_VERSION:-pom}"
	if [[ -f $LIBS/.pom.sha256 && $(cat "$LIBS/.pom.sha256") == "$sum" ]]; then
		return 0
	fi
	need mvn "install Maven (apt-get install -y maven)"
	say "fetching Kafka jars from Maven Central into $LIBS"
	local t0=$SECONDS
	rm -rf "$LIBS.tmp"
	mkdir -p "$KAFKA_HOME"
	if ! mvn -B -Dstyle.color=never -f "$HERE/pom.xml" ${KAFKA_VERSION:+"-Dkafka.version=$KAFKA_VERSION"} \
		dependency:copy-dependencies -DoutputDirectory="$LIBS.tmp" >"$KAFKA_HOME/mvn.log" 2>&1; then
		tail -n 40 "$KAFKA_HOME/mvn.log" >&2
		die "could not fetch the Kafka jars (mvn failed, full log in $KAFKA_HOME/mvn.log)"
	fi
	echo "$sum" >"$LIBS.tmp/.pom.sha256"
	rm -rf "$LIBS"
	mv "$LIBS.tmp" "$LIBS"
	say "fetched $(ls "$LIBS" | wc -l) jars in $((SECONDS - t0))s"
}

build_ping() {
	need go "install Go (see go.mod for the version)"
	mkdir -p "$(dirname "$PING")"
	(cd "$ROOT" && go build -o "$PING" ./deploy/kafka/kafkaping) || die "could not build deploy/kafka/kafkaping"
}

write_config() {
	cat >"$RUN/server.properties" <<PROPS
# written by deploy/kafka/kafka.sh; rewritten on every start
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$RUN/data

auto.create.topics.enable=true
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
PROPS
}

log_tail() {
	if [[ -f $LOGFILE ]]; then
		echo "---- last 40 lines of $LOGFILE ----" >&2
		tail -n 40 "$LOGFILE" >&2
		echo "----" >&2
	fi
}

cmd_start() {
	local pid
	pid=$(running_pid)
	if [[ -n $pid ]]; then
		build_ping
		if "$PING" -brokers "$BROKER" -timeout 5s >/dev/null; then
			say "already running (pid $pid) on $BROKER"
			return 0
		fi
		die "a broker (pid $pid) runs but does not answer on $BROKER; try: $0 stop && $0 start"
	fi
	for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
		if port_open "$port"; then
			die "127.0.0.1:$port is already in use by another process; set KAFKA_PORT (and KAFKA_CONTROLLER_PORT)"
		fi
	done
	need java "install Java 17+ (apt-get install -y openjdk-17-jre-headless)"

	local t0=$SECONDS
	fetch_libs
	build_ping &
	local ping_build=$!

	rm -rf "$RUN"
	mkdir -p "$RUN/data"
	write_config
	# a cluster id is a random UUID in URL-safe base64 without padding
	local cluster_id
	cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
	java -Xmx256m -Dlog4j2.configurationFile="$HERE/log4j2.properties" -cp "$LIBS/*" \
		kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$RUN/server.properties" \
		>"$RUN/format.log" 2>&1 || { cat "$RUN/format.log" >&2; die "formatting the storage failed"; }

	# setsid: the broker must not die with the shell that started it (or its job control)
	# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several options
	setsid java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
		-Dlog4j2.configurationFile="$HERE/log4j2.properties" \
		-cp "$LIBS/*" kafka.Kafka "$RUN/server.properties" \
		>"$LOGFILE" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$PIDFILE"
	say "started pid $pid, log $LOGFILE"

	wait "$ping_build" || die "could not build the readiness check"
	local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
	until "$PING" -brokers "$BROKER" -timeout 2s >/dev/null 2>&1; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$PIDFILE"
			log_tail
			die "the broker exited during start-up"
		fi
		if ((SECONDS >= deadline)); then
			log_tail
			"$PING" -brokers "$BROKER" -timeout 2s || true
			cmd_stop >&2 || true
			die "the broker did not answer on $BROKER within ${KAFKA_START_TIMEOUT}s"
		fi
		sleep 0.5
	done
	# the service relies on topics being created on first use
	"$PING" -brokers "$BROKER" -timeout 10s -autocreate kafka-sh-selftest || {
		log_tail
		die "the broker answers but producing to a new topic failed"
	}
	say "ready on $BROKER after $((SECONDS - t0))s ($(kafka_version))"
}

kafka_version() {
	local jars=("$LIBS"/kafka-clients-*.jar)
	local jar=${jars[0]##*/kafka-clients-}
	echo "Kafka ${jar%.jar}"
}

cmd_stop() {
	local pid
	pid=$(running_pid)
	if [[ -z $pid ]]; then
		rm -f "$PIDFILE"
		say "not running"
		return 0
	fi
	say "stopping pid $pid"
	kill -TERM "$pid" 2>/dev/null || true
	local i
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "still running after 30s, killing"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$PIDFILE"
	say "stopped"
}

cmd_status() {
	local pid
	pid=$(running_pid)
	if [[ -z $pid ]]; then
		say "not running"
		return 3
	fi
	[[ -x $PING ]] || build_ping
	if "$PING" -brokers "$BROKER" -timeout 5s; then
		say "running (pid $pid) on $BROKER, $(kafka_version), log $LOGFILE"
		return 0
	fi
	say "running (pid $pid) but not answering on $BROKER; log $LOGFILE"
	return 1
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
logs) tail -n "${2:-100}" "$LOGFILE" ;;
*)
	echo "usage: $0 start|stop|status|logs [N]" >&2
	exit 2
	;;
esac
