#!/usr/bin/env bash
# pg-test.sh: a throwaway PostgreSQL cluster for tests.
#
#   eval "$(scripts/pg-test.sh start)"   # starts one; exports DIGITPAD_TEST_POSTGRES and DIGITPAD_PGTEST_DIR
#   scripts/pg-test.sh env [DIR]         # prints the export lines again
#   scripts/pg-test.sh stop [DIR]        # stops it and removes its directory (DIR defaults to $DIGITPAD_PGTEST_DIR)
#
# The cluster lives in a temp directory, listens on 127.0.0.1 on a free port with trust authentication, and runs
# as the postgres user when started by root (initdb refuses root). Debian's postgresql is installed if missing.
# Everything but the export lines goes to stderr, so `eval "$(...)"` is safe.
set -euo pipefail

log() { echo "pg-test: $*" >&2; }

find_bin() {
	for d in /usr/lib/postgresql/*/bin; do
		if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then
			echo "$d"
		fi
	done | sort -V | tail -n 1
}

install_postgres() {
	if [ "$(id -u)" != 0 ]; then
		log "PostgreSQL is not installed and we are not root: apt-get install postgresql first"
		exit 1
	fi
	log "installing Debian postgresql"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y --no-install-recommends postgresql >&2
}

# as_owner runs a command as the cluster owner.
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

free_port() {
	# Probe random ports below the kernel's ephemeral range (an outgoing connection's local port there refuses a
	# probe but still blocks the bind: it happened once, at 48174); a connection refused means nobody listens.
	low=32768
	if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then
		read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	fi
	span=$((low - 20000))
	[ "$span" -gt 1000 ] || { low=30000; span=10000; }
	i=0
	while [ $i -lt 100 ]; do
		port=$(( ($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % span) + low - span ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
		i=$((i + 1))
	done
	log "no free port found"
	exit 1
}

print_env() {
	dir=$1
	port=$(cat "$dir/port")
	echo "export DIGITPAD_PGTEST_DIR='$dir'"
	echo "export DIGITPAD_TEST_POSTGRES='postgres://postgres@127.0.0.1:$port/digitpad_test?sslmode=disable'"
}

start() {
	bin=$(find_bin)
	if [ -z "$bin" ]; then
		install_postgres
		bin=$(find_bin)
	fi
	[ -n "$bin" ] || { log "pg_ctl not found after installing postgresql"; exit 1; }
	dir=$(mktemp -d "${TMPDIR:-/tmp}/digitpad-pg.XXXXXX")
	chmod 755 "$dir"
	if [ "$(id -u)" = 0 ]; then
		chown postgres "$dir"
	fi
	as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		rm -rf "$dir"
		exit 1
	}
	echo "$bin" >"$dir/bin"
	# fsync stays on: the tests measure durable commits. The socket goes in our dir, not /var/run/postgresql.
	# A port taken between the probe and the bind gets another try on another port.
	attempt=1
	while :; do
		port=$(free_port)
		echo "$port" >"$dir/port"
		if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >&2; then
			break
		fi
		cat "$dir/server.log" >&2
		if [ $attempt -ge 3 ] || ! grep -q "could not bind" "$dir/server.log"; then
			rm -rf "$dir"
			exit 1
		fi
		log "port $port was taken; trying another"
		attempt=$((attempt + 1))
	done
	as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres digitpad_test >&2
	log "cluster in $dir on 127.0.0.1:$port"
	print_env "$dir"
}

stop() {
	dir=${1:-${DIGITPAD_PGTEST_DIR:-}}
	if [ -z "$dir" ] || [ ! -f "$dir/port" ]; then
		log "stop: no cluster directory given (argument or DIGITPAD_PGTEST_DIR)"
		exit 1
	fi
	bin=$(cat "$dir/bin")
	as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
	rm -rf "$dir"
	log "removed $dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
env)
	dir=${2:-${DIGITPAD_PGTEST_DIR:-}}
	[ -n "$dir" ] && [ -f "$dir/port" ] || { log "env: no cluster directory"; exit 1; }
	print_env "$dir"
	;;
*)
	echo "usage: $0 start | stop [DIR] | env [DIR]" >&2
	exit 2
	;;
esac
