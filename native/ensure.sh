#!/usr/bin/env bash
# Makes sure the native TimescaleDB of `make run-native` is running: a cluster of the
# native build (PostgreSQL 15.18 + TimescaleDB 2.28.3, job scheduler included) in DATA_DIR
# on 127.0.0.1:PORT, created on first use, with a database `ms5` holding the extension.
# As root the cluster runs as the `postgres` account (PostgreSQL refuses root).
# Usage: native/ensure.sh DATA_DIR PORT
set -euo pipefail
data_dir=${1:?usage: native/ensure.sh DATA_DIR PORT}
port=${2:?usage: native/ensure.sh DATA_DIR PORT}
here=$(cd "$(dirname "$0")" && pwd)
bin=$("$here/status.sh") || { echo "native: the native build is missing (see above); make deps builds it" >&2; exit 1; }
mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)
log="$data_dir.log"

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
  echo "native: creating a cluster in $data_dir"
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
  echo "native: starting TimescaleDB on 127.0.0.1:$port (data $data_dir, log $log)"
  as_owner "$bin/pg_ctl" -D "$data_dir" -l "$log" -o "-p $port" -w -t 60 start >/dev/null
fi
psql=("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -X -q -v ON_ERROR_STOP=1)
if [[ -z $("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'ms5'") ]]; then
  "${psql[@]}" -d postgres -c "CREATE DATABASE ms5"
fi
echo "native: ready: postgres://postgres@127.0.0.1:$port/ms5"
