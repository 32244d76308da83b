#!/usr/bin/env bash
# Makes sure the native TimescaleDB of `make run-native` is running: a cluster of the
# native build holding TimescaleDB VERSION (default 2.28.3 on PostgreSQL 15.18; 2.13.1 on
# the same PostgreSQL; 2.29.2 on PostgreSQL 18.6; job scheduler included) in DATA_DIR on
# 127.0.0.1:PORT, created on first use, with a database `ms5` holding the extension in
# that version. A data directory belongs to one PostgreSQL major and one version: the
# Makefile gives each version its own.
# As root the cluster runs as the `postgres` account (PostgreSQL refuses root).
# Usage: native/ensure.sh DATA_DIR PORT [VERSION]
set -euo pipefail
data_dir=${1:?usage: native/ensure.sh DATA_DIR PORT [VERSION]}
port=${2:?usage: native/ensure.sh DATA_DIR PORT [VERSION]}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=native/env.sh
source "$here/env.sh"
version=${3:-$TSDB_VERSION}
tier=$(native_tier_of "$version") || {
  echo "native: TimescaleDB $version is not in the native tier (it has: ${NATIVE_TSDB_VERSIONS[*]})" >&2
  exit 1
}
native_tier "$tier"
bin=$("$here/status.sh" "$version") ||
  { echo "native: TimescaleDB $version's build is missing (see above); make deps builds it" >&2; exit 1; }
mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)
log="$data_dir.log"

# A cluster of another PostgreSQL major (another version's data directory) would not start.
if [[ -f $data_dir/PG_VERSION && $(<"$data_dir/PG_VERSION") != "$TIER_PG_MAJOR" ]]; then
  echo "native: $data_dir holds a PostgreSQL $(<"$data_dir/PG_VERSION") cluster; TimescaleDB $version runs on PostgreSQL $TIER_PG_MAJOR:" >&2
  echo "        give it another NATIVE_DATA (make run-native TIMESCALEDB=$version picks .native/data-$version)" >&2
  exit 1
fi

as_owner() {
  if [[ $(id -u) == 0 ]]; then
    # su's login shell would start in the postgres account's home: stay where we are.
    su postgres -s /bin/bash -c "cd /tmp && $(printf '%q ' "$@")"
  else
    "$@"
  fi
}
if [[ $(id -u) == 0 ]]; then
  touch "$log"
  chown postgres: "$data_dir" "$log"
  if ! su postgres -s /bin/bash -c "test -w $(printf '%q' "$data_dir")"; then
    echo "native: the postgres account cannot reach $data_dir (a parent directory is closed to it);" >&2
    echo "        set NATIVE_DATA to a directory it can reach, e.g. NATIVE_DATA=/var/tmp/ms5-native make run-native" >&2
    exit 1
  fi
fi

if [[ ! -f $data_dir/PG_VERSION ]]; then
  echo "native: creating a PostgreSQL $TIER_PG_VERSION cluster in $data_dir"
  as_owner "$bin/initdb" -D "$data_dir" -U postgres --auth=trust -E UTF8 >/dev/null
  cat >>"$data_dir/postgresql.conf" <<CONF
# make run-native: TimescaleDB with its job scheduler, on loopback only.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$data_dir'
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
max_worker_processes = 32
timescaledb.max_background_workers = 16
CONF
fi

if as_owner "$bin/pg_ctl" -D "$data_dir" status >/dev/null 2>&1; then
  echo "native: already running (data $data_dir, log $log)"
else
  # Another server on the port (another version's cluster, say) would make the start fail.
  if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
    echo "native: another server already listens on 127.0.0.1:$port (another native version?" >&2
    echo "        make stop stops every native cluster; or choose another NATIVE_PORT)" >&2
    exit 1
  fi
  echo "native: starting TimescaleDB $version on PostgreSQL $TIER_PG_VERSION, 127.0.0.1:$port (data $data_dir, log $log)"
  as_owner "$bin/pg_ctl" -D "$data_dir" -l "$log" -o "-p $port" -w -t 60 start >/dev/null ||
    { tail -5 "$log" >&2; exit 1; }
fi
psql=("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -X -q -v ON_ERROR_STOP=1)
if [[ -z $("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'ms5'") ]]; then
  "${psql[@]}" -d postgres -c "CREATE DATABASE ms5"
fi
# The extension in the chosen version (the loader picks it per database). Older versions
# greet with a banner at WARNING level: errors only.
"${psql[@]}" -d ms5 -c "SET client_min_messages = error" \
  -c "CREATE EXTENSION IF NOT EXISTS timescaledb VERSION '$version'"
installed=$("${psql[@]}" -d ms5 -tAc "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
if [[ $installed != "$version" ]]; then
  echo "native: the database ms5 in $data_dir holds TimescaleDB $installed, not $version;" >&2
  echo "        give TimescaleDB $version another NATIVE_DATA" >&2
  exit 1
fi
echo "native: ready: postgres://postgres@127.0.0.1:$port/ms5 (TimescaleDB $version, PostgreSQL $TIER_PG_VERSION)"
