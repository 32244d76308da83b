#!/usr/bin/env bash
# Stops the native TimescaleDB clusters of `make run-native`, whichever version each runs:
# each data directory is stopped with the pg_ctl of its PostgreSQL major. Arguments that
# are not running clusters (absent, stopped, not directories) are passed over.
# Usage: native/stop.sh DATA_DIR...
set -euo pipefail
(($#)) || { echo "usage: native/stop.sh DATA_DIR..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=native/env.sh
source "$here/env.sh"

stopped=0 seen=" "
for data_dir in "$@"; do
  [[ -d $data_dir && -f $data_dir/postmaster.pid && -f $data_dir/PG_VERSION ]] || continue
  data_dir=$(cd "$data_dir" && pwd -P)
  [[ $seen == *" $data_dir "* ]] && continue
  seen+="$data_dir "
  major=$(<"$data_dir/PG_VERSION")
  bin=""
  for tier in "${NATIVE_TIERS[@]}"; do
    native_tier "$tier"
    if [[ $TIER_PG_MAJOR == "$major" ]]; then
      bin=$("$here/status.sh" "$tier") || exit 1
    fi
  done
  [[ -n $bin ]] || { echo "native: $data_dir is a PostgreSQL $major cluster, which no native tier runs" >&2; exit 1; }
  if [[ $(id -u) == 0 ]]; then
    su postgres -s /bin/bash -c "cd /tmp && $(printf '%q ' "$bin/pg_ctl" -D "$data_dir" -m fast stop)"
  else
    "$bin/pg_ctl" -D "$data_dir" -m fast stop
  fi
  stopped=1
done
((stopped)) || echo "native: not running"
