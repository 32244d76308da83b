#!/usr/bin/env bash
# Stops the native TimescaleDB of `make run-native`. Usage: native/stop.sh DATA_DIR
set -euo pipefail
data_dir=${1:?usage: native/stop.sh DATA_DIR}
here=$(cd "$(dirname "$0")" && pwd)
if [[ ! -f $data_dir/postmaster.pid ]]; then
  echo "native: not running"
  exit 0
fi
bin=$("$here/status.sh")
if [[ $(id -u) == 0 ]]; then
  su postgres -s /bin/bash -c "cd /tmp && $(printf '%q ' "$bin/pg_ctl" -D "$(cd "$data_dir" && pwd)" -m fast stop)"
else
  "$bin/pg_ctl" -D "$data_dir" -m fast stop
fi
