#!/usr/bin/env bash
# A first start as `make run` makes it, checked for noise: a new embedded database, the
# release console with its defaults (development profile, demo data loaded in the
# background), until the demo is ready and the first catalog passes and samples are done.
# The start went well, so the log must hold no WARN or ERROR line: a newcomer reads those
# as failures. Prints the log's level counts; fails naming the lines that should not be.
# Usage: bash end2end/first_start.sh (FIRST_START_WORK: its folder, target/first-start)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="${FIRST_START_WORK:-$root/target/first-start}"
rm -rf "$work" && mkdir -p "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
db_port=$(free_port)
port=$(free_port)

# A new data folder, as on a fresh machine (no template: initdb and the extension too).
bash "$root/end2end/devdb.sh" "$work/devdb" "$db_port" $$

# What `make run` exports, and nothing else of the test suites' settings.
export DATABASE_URL="postgres://postgres@127.0.0.1:$db_port/postgres?sslmode=disable"
export MS5_ENV=development MS5_STORAGE_BUDGET="1 GB" MS5_LISTEN_ADDR="127.0.0.1:$port"
# The site the binary carries, unpacked as on a user's machine (into this folder).
export XDG_CACHE_HOME="$work/cache"
unset RUST_LOG MS5_SITE_ROOT
log="$work/console.log"
"$root/target/release/ms5-console" serve >"$log" 2>&1 &
console=$!
trap 'kill $console 2>/dev/null || true' EXIT

started=$(date +%s)
until grep -q "demo data ready" "$log"; do
  if ! kill -0 $console 2>/dev/null; then
    echo "first start: the console stopped:" >&2
    cat "$log" >&2
    exit 1
  fi
  if (($(date +%s) - started > 600)); then
    echo "first start: no 'demo data ready' within 10 minutes" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  sleep 1
done
ready=$(($(date +%s) - started))
# The background tasks' first rounds after the demo: catalog passes, the storage sampler.
sleep 15
kill -INT $console
wait $console || true
trap - EXIT

# tracing's lines: "<time>  LEVEL target: message", coloured; a message may span lines.
plain="$work/console.plain.log"
sed 's/\x1b\[[0-9;]*m//g' "$log" >"$plain"
noise=$(grep -E '^[0-9TZ:.-]+ +(WARN|ERROR) ' "$plain" || true)
counts=$(grep -oE '^[0-9TZ:.-]+ +(TRACE|DEBUG|INFO|WARN|ERROR) ' "$plain" | awk '{print $2}' | sort | uniq -c | tr '\n' ' ')
echo "first start: demo ready after ${ready} s; log lines by level: ${counts:-none}"
if [[ -n $noise ]]; then
  echo "first start: a start that went well logged warnings or errors:" >&2
  printf '%s\n' "$noise" >&2
  exit 1
fi
