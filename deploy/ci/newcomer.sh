#!/usr/bin/env bash
# The newcomer's first run, for real: as root, a fresh clone under a directory
# the PostgreSQL user cannot enter (mode 0700, like root's home) serves with
# `make run` alone — embedded PostgreSQL and Kafka — answers /readyz, opens a
# campaign with the banner's token, serves both front ends at the banner's links,
# and the banner says where the cluster lives. CI runs it (.ci/run); it needs
# root and the embedded ports 54329 and 9092 free. The default HTTP and metrics
# ports (8080, 9090) are used when free, as a newcomer's would be; others when not.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
if [[ $(id -u) != 0 ]]; then
	echo "newcomer: must run as root (it checks what root's make run does)" >&2
	exit 1
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
is_free() { python3 -c 'import socket,sys; s=socket.socket(); s.bind(("0.0.0.0", int(sys.argv[1])))' "$1" 2>/dev/null; }

home=$(mktemp -d "${NEWCOMER_PARENT:-/root}/newcomer.XXXXXX")
chmod 0700 "$home"
git clone -q "$PWD" "$home/participation"
log=$home/run.log
unset DATABASE_URL KAFKA_BROKERS JWT_SECRET PII_KEY DATA_DIR HTTP_ADDR METRICS_ADDR PUBLIC_BASE_URL \
	DATABASE_URL_FILE JWT_SECRET_FILE PII_KEY_FILE
port=8080
if is_free 8080 && is_free 9090; then
	echo "newcomer: make run alone, default ports"
else
	port=$(free_port)
	export HTTP_ADDR=127.0.0.1:$port METRICS_ADDR=127.0.0.1:$(free_port)
	echo "newcomer: 8080 or 9090 is taken here: HTTP_ADDR=$HTTP_ADDR METRICS_ADDR=$METRICS_ADDR"
fi
(
	cd "$home/participation"
	exec setsid make run >"$log" 2>&1
) &
pid=$!
relocated=""
cleanup() {
	kill -TERM -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	# make is gone, but the service it started may still be shutting down and
	# writing its embedded broker's files: rm would race it.
	for _ in $(seq 1 100); do
		kill -0 -- "-$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	rm -rf "$home" 2>/dev/null || { sleep 1; rm -rf "$home"; }
	[[ -n $relocated && -d $relocated ]] && rm -rf "$(dirname "$relocated")"
	return 0
}
trap cleanup EXIT

for _ in $(seq 1 300); do
	curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
	kill -0 "$pid" 2>/dev/null || { echo "newcomer: make run stopped:"; tail -30 "$log"; exit 1; }
	sleep 1
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { echo "newcomer: not ready after 300 s:"; tail -30 "$log"; exit 1; }

relocated=$(sed -n 's/^  PostgreSQL data  \([^ ]*\) .*/\1/p' "$log")
if [[ -z $relocated || ! -f $relocated/PG_VERSION ]]; then
	echo "newcomer: the banner does not say where the cluster lives (or it is not there):"; cat "$log"; exit 1
fi
token=$(sed -n 's/^  export TOKEN=//p' "$log")
status=$(curl -s -o "$home/opened.json" -w '%{http_code}' -X POST "http://127.0.0.1:$port/api/v1/events" \
	-H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
	-d '{"title":"newcomer","startsAt":"2026-01-01T00:00:00+09:00","endsAt":"2030-01-01T00:00:00+09:00","announceAt":"2030-01-02T00:00:00+09:00"}')
if [[ $status != 201 ]]; then
	echo "newcomer: opening a campaign answered $status"; tail -30 "$log"; exit 1
fi
# the front ends at the banner's link and at a campaign's customer link
# (the browser tests drive them; this checks a fresh clone serves them)
owner_link=$(sed -n 's|^  \(http://[^ ]*/owner/\)#token=.*|\1|p' "$log")
event_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["eventId"])' "$home/opened.json")
for page in "${owner_link/localhost/127.0.0.1}" "http://127.0.0.1:$port/p/$event_id?from=INSTAGRAM"; do
	body=$(curl -fsS "$page") || { echo "newcomer: $page did not answer"; exit 1; }
	grep -q '<script type="module"' <<<"$body" || { echo "newcomer: $page is not the page:"; head -20 <<<"$body"; exit 1; }
done
echo "newcomer: make run as root from $home (mode 0700) serves the API, the owner dashboard and the customer page; its cluster lives in $relocated"
