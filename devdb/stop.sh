#!/usr/bin/env bash
# Stops the development devdb started by ensure.sh. Usage: devdb/stop.sh DATA_DIR
set -euo pipefail
pid_file="${1:?usage: devdb/stop.sh DATA_DIR}.pid"
if [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  kill -TERM "$(cat "$pid_file")"
  for _ in $(seq 1 50); do kill -0 "$(cat "$pid_file")" 2>/dev/null || break; sleep 0.2; done
  echo "devdb: stopped"
else
  echo "devdb: not running"
fi
rm -f "$pid_file"
