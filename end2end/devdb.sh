#!/usr/bin/env bash
# Starts a private devdb for a test run and waits until it listens; it exits by itself
# when PARENT_PID does. Its log is DATA_DIR.log. Extra arguments go to devdb/server.js
# (--init FILE). Usage: bash end2end/devdb.sh DATA_DIR PORT PARENT_PID [ARG...]
set -euo pipefail
data=${1:?usage: devdb.sh DATA_DIR PORT PARENT_PID [ARG...]}
port=${2:?usage: devdb.sh DATA_DIR PORT PARENT_PID [ARG...]}
parent=${3:?usage: devdb.sh DATA_DIR PORT PARENT_PID [ARG...]}
shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
log="$data.log"
node "$root/devdb/server.js" --data "$data" --port "$port" --parent-pid "$parent" "$@" \
  >"$log" 2>&1 &
# A new data folder runs initdb first: up to three minutes on a slow machine.
for _ in $(seq 1 900); do
  grep -q "listening on" "$log" 2>/dev/null && exit 0
  sleep 0.2
done
echo "devdb did not start:" >&2
cat "$log" >&2
exit 1
