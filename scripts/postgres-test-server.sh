#!/usr/bin/env bash
# A throwaway PostgreSQL server for dlkit-tune's tests, listening on 127.0.0.1 only, trust
# authentication, everything inside one folder.
#
#   scripts/postgres-test-server.sh start DIR [PORT]   # default port 54329; prints the export line
#   scripts/postgres-test-server.sh stop DIR
#
# `eval "$(scripts/postgres-test-server.sh start /tmp/pg)"` sets DLKIT_TEST_POSTGRES. Needs
# Debian's postgresql package (initdb and pg_ctl under /usr/lib/postgresql/*/bin). As root the
# server runs as the `postgres` user (PostgreSQL refuses to run as root), so DIR's parents
# must be readable by that user (a folder under /tmp is).
set -euo pipefail

usage() {
  echo "usage: $0 start DIR [PORT] | stop DIR" >&2
  exit 2
}

[ $# -ge 2 ] || usage
command="$1"
dir="$2"
port="${3:-54329}"
role=dlkit
database=dlkit_test

bin=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
  [ -x "$candidate/initdb" ] && bin="$candidate"
done
if [ -z "$bin" ]; then
  if command -v initdb >/dev/null 2>&1; then
    bin="$(dirname "$(command -v initdb)")"
  else
    echo "initdb not found: install PostgreSQL (apt-get install postgresql)" >&2
    exit 1
  fi
fi

# Runs a command as the server's owner: `postgres` when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$command" in
  start)
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [ "$(id -u)" = 0 ]; then
      chown postgres: "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" --auth=trust --username=postgres \
        --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c max_connections=200" \
        start >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    fi
    psql=("$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
    if [ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" != 1 ]; then
      "${psql[@]}" -c "CREATE ROLE $role LOGIN"
    fi
    if [ "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" != 1 ]; then
      "${psql[@]}" -c "CREATE DATABASE $database OWNER $role"
    fi
    echo "export DLKIT_TEST_POSTGRES=postgresql://$role@127.0.0.1:$port/$database"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    ;;
  *)
    usage
    ;;
esac
