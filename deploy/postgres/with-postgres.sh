#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...]
#
# Runs CMD with a PostgreSQL server to talk to, and exports its address as
# DATABASE_URL (plus libpq's PG* variables).
#
# - DATABASE_URL or PGHOST already set: runs CMD as it is, against that server.
# - Otherwise: starts a throwaway cluster in a temporary directory, runs CMD, and
#   removes the cluster afterwards, whatever CMD's outcome. It uses Debian's
#   pg_virtualenv when present, else initdb + pg_ctl from the newest
#   /usr/lib/postgresql/*/bin (or PATH); as root the server runs as the
#   `postgres` user (or `nobody`), since PostgreSQL refuses to run as root.
#
# The throwaway cluster runs with fsync=off, fine for tests. PG_DURABLE=1 keeps
# fsync and synchronous_commit on, for benchmarks (make bench).
# PG_WRAPPER=initdb skips pg_virtualenv (to test the fallback).
#
# Exit status: CMD's.
set -euo pipefail

if (($# == 0)); then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

if [[ -n ${DATABASE_URL:-} || -n ${PGHOST:-} ]]; then
	exec "$@"
fi

GUCS=(max_connections=400 shared_buffers=256MB)
if [[ ${PG_DURABLE:-} == 1 ]]; then
	GUCS+=(fsync=on synchronous_commit=on full_page_writes=on)
	echo "with-postgres: durable cluster (fsync=on, synchronous_commit=on)" >&2
else
	GUCS+=(fsync=off synchronous_commit=off full_page_writes=off)
fi

find_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	if [[ -n $d && -x $d/initdb ]]; then
		echo "$d"
		return
	fi
	if command -v pg_config >/dev/null 2>&1 && [[ -x $(pg_config --bindir)/initdb ]]; then
		pg_config --bindir
		return
	fi
	if command -v initdb >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
	fi
}

BINDIR=$(find_bindir)
if [[ -z $BINDIR ]]; then
	cat >&2 <<'MSG'
with-postgres: no PostgreSQL server found (no initdb under /usr/lib/postgresql/*/bin or on PATH).
  Install one:          apt-get install -y postgresql-15 postgresql-common   (Debian/Ubuntu)
  or use your own:      export DATABASE_URL=postgres://user:password@host:5432/db
                        (the user needs CREATEDB: each test gets a fresh database)
  or with Docker:       make up   (then export the DATABASE_URL docker-compose.yml shows)
MSG
	exit 1
fi

# --- pg_virtualenv (Debian's postgresql-common) ---------------------------------
if [[ ${PG_WRAPPER:-} != initdb ]] && command -v pg_virtualenv >/dev/null 2>&1 && { [[ $(id -u) != 0 ]] || id postgres >/dev/null 2>&1; }; then
	opts=(-t -v "$(basename "$(dirname "$BINDIR")")")
	for g in "${GUCS[@]}"; do opts+=(-o "$g"); done
	# pg_virtualenv exports PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE; add DATABASE_URL
	# shellcheck disable=SC2016 # expanded by the inner shell
	exec pg_virtualenv "${opts[@]}" bash -c '
		export DATABASE_URL="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$PGDATABASE?sslmode=disable"
		echo "with-postgres: throwaway PostgreSQL $PGVERSION at $PGHOST:$PGPORT (pg_virtualenv)" >&2
		exec "$@"' with-postgres "$@"
fi

# --- initdb + pg_ctl in a temporary directory --------------------------------------
# The server listens on a Unix socket in that directory only: no port to collide with.
DIR=$(mktemp -d -t with-postgres.XXXXXX)
chmod 755 "$DIR"
RUNAS=()
if [[ $(id -u) == 0 ]]; then
	user=postgres
	id "$user" >/dev/null 2>&1 || user=nobody
	chown "$user" "$DIR"
	RUNAS=(runuser -u "$user" --)
fi

cleanup() {
	local rc=$?
	"${RUNAS[@]}" "$BINDIR/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
	if ((rc != 0)) && [[ -f $DIR/server.log ]]; then
		echo "with-postgres: last lines of the server log:" >&2
		tail -n 20 "$DIR/server.log" >&2
	fi
	rm -rf "$DIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${RUNAS[@]}" "$BINDIR/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
	>"$DIR/initdb.log" 2>&1 || {
	cat "$DIR/initdb.log" >&2
	echo "with-postgres: initdb failed" >&2
	exit 1
}
{
	echo "listen_addresses = ''"
	echo "unix_socket_directories = '$DIR'"
	echo "port = 5432"
	for g in "${GUCS[@]}"; do echo "${g%%=*} = '${g#*=}'"; done
} >>"$DIR/data/postgresql.conf"
"${RUNAS[@]}" "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start >/dev/null || {
	echo "with-postgres: the server did not start" >&2
	exit 1
}

export PGHOST=$DIR PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
unset PGPASSWORD PGSERVICE PGHOSTADDR
export DATABASE_URL="postgres:///postgres?host=$DIR&port=5432&user=postgres&sslmode=disable"
echo "with-postgres: throwaway PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}') in $DIR (initdb)" >&2

# not exec: the trap must remove the cluster afterwards
set +e
"$@"
exit $?
