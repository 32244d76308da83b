#!/usr/bin/env bash
# Makes sure the development devdb is running: starts it (under its supervisor, detached,
# so it outlives this command) unless it already answers, then waits until it is ready.
# Usage: devdb/ensure.sh DATA_DIR PORT
set -euo pipefail
data_dir=${1:?usage: devdb/ensure.sh DATA_DIR PORT}
port=${2:?usage: devdb/ensure.sh DATA_DIR PORT}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$data_dir"
pid_file="$data_dir.pid"
log="$data_dir.log"

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

if [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  if answers; then
    echo "devdb: already running on 127.0.0.1:$port (pid $(cat "$pid_file"), log $log)"
    exit 0
  fi
elif answers; then
  echo "devdb: port $port is taken by another program; set DEVDB_PORT to a free port" >&2
  exit 1
fi

echo "devdb: starting TimescaleDB on 127.0.0.1:$port (data $data_dir, log $log)"
nohup setsid node "$here/supervise.js" --data "$data_dir" --port "$port" >>"$log" 2>&1 &
echo $! >"$pid_file"
for _ in $(seq 1 600); do
  if answers; then
    echo "devdb: ready"
    exit 0
  fi
  if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    echo "devdb: failed to start; last lines of $log:" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "devdb: not ready after 120 s; see $log" >&2
exit 1
