#!/usr/bin/env bash
# Fuzz the running service with schemathesis against api/openapi.yaml, every
# check on, the stateful phase included (OpenAPI links), and fail on any
# failure or 5xx. Needs DATABASE_URL (a server where it may create a database;
# with-postgres.sh provides one) and KAFKA_BROKERS (CI: the real broker).
#   SCHEMATHESIS_VERSION  the PyPI version installed into .work/fuzz/venv
#   FUZZ_MAX_EXAMPLES     examples per operation and phase (default 40)
#   FUZZ_MAX_TIME         seconds the whole run may take (default 300)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

: "${DATABASE_URL:?set DATABASE_URL (run under deploy/postgres/with-postgres.sh)}"
: "${KAFKA_BROKERS:?set KAFKA_BROKERS (a real broker: make kafka)}"
SCHEMATHESIS_VERSION=${SCHEMATHESIS_VERSION:-4.32.5}
work=${FUZZ_WORK:-.work/fuzz}
mkdir -p "$work"
work=$(cd "$work" && pwd)

# schemathesis in a virtualenv of its own, pinned (Python ≥ 3.9)
venv=$work/venv
if ! "$venv/bin/st" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$venv/bin/st" --version

# a database of its own on the given server, and a topic of its own
db=fuzz_$(date +%s)_$$
psql -q -d "$DATABASE_URL" -c "CREATE DATABASE $db"
base_url=${DATABASE_URL%%\?*}
query=${DATABASE_URL#"$base_url"}
app_url="${base_url%/*}/$db$query"

go build -o "$work/participation" ./cmd/participation
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL=$app_url KAFKA_TOPIC=fuzz-$db HTTP_ADDR=127.0.0.1:$port METRICS_ADDR=127.0.0.1:$mport
export PUBLIC_BASE_URL=http://127.0.0.1:$port
unset DATABASE_URL_FILE JWT_SECRET_FILE PII_KEY_FILE # a variable and its _FILE both set is refused
export JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
export PII_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
# one client IP sends everything: the per-IP limit would answer 429s only
export RATE_LIMIT_PER_IP=${RATE_LIMIT_PER_IP:-10000/s,20000}
# and one owner's token: likewise for the per-owner limit
export RATE_LIMIT_PER_OWNER=${RATE_LIMIT_PER_OWNER:-10000/s,20000}
"$work/participation" serve >"$work/serve.log" 2>&1 &
serve=$!
trap 'kill "$serve" 2>/dev/null || true; wait "$serve" 2>/dev/null || true' EXIT
# up to 2 min: on a loaded CI machine the start (migrations, the topic on the
# real broker, the consumer groups joining) has taken more than 30 s
for _ in $(seq 1 600); do
	curl -fsS "http://$HTTP_ADDR/readyz" >/dev/null 2>&1 && break
	kill -0 "$serve" 2>/dev/null || { tail -30 "$work/serve.log"; exit 1; }
	sleep 0.2
done
curl -fsS "http://$HTTP_ADDR/readyz" >/dev/null || { echo "serve not ready after 2 min"; tail -30 "$work/serve.log"; exit 1; }
token=$("$work/participation" token --owner fuzz-owner --ttl 2h | tail -1)

# every check (schemathesis.toml says where the stateful phase's links come from)
# one worker: with two threads, hypothesis' lambda descriptions (ast parsing)
# raced once here and ended the run with a runtime error of the tool itself
set +e
SCHEMATHESIS_HOOKS=hooks PYTHONPATH=deploy/fuzz "$venv/bin/st" --config-file deploy/fuzz/schemathesis.toml run api/openapi.yaml --url "http://$HTTP_ADDR" \
	--checks all \
	--phases examples,coverage,fuzzing,stateful \
	--header "Authorization: Bearer $token" \
	--max-examples "${FUZZ_MAX_EXAMPLES:-40}" \
	--max-time "${FUZZ_MAX_TIME:-300}" \
	--workers 1 \
	--seed "${FUZZ_SEED:-$RANDOM}" \
	--generation-database none \
	--request-timeout 20 \
	--report junit --report-dir "$work/report" \
	--no-color "$@"
rc=$?
set -e
# no 5xx at all, even one schemathesis did not count as a failure
if grep -E '\bstatus=5[0-9][0-9]\b' "$work/serve.log" >/dev/null; then
	echo "serve answered 5xx:"; grep -E '\bstatus=5[0-9][0-9]\b' "$work/serve.log" | head -20
	rc=1
fi
exit $rc
