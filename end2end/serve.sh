#!/usr/bin/env bash
# Starts the console for the browser tests: a private devdb (copied from the test
# template, on a free port) with demo data, then the release build of the console (what `make run` serves).
# Usage: bash serve.sh PORT (E2E_WORK: its working folder, target/e2e by default;
# E2E_CONSOLE: another binary, run from its own folder with the site it carries, as
# end2end/dist.sh runs the unpacked release tarball)
set -euo pipefail
port=${1:?usage: serve.sh PORT}
root=$(cd "$(dirname "$0")/.." && pwd)
work="${E2E_WORK:-$root/target/e2e}"
rm -rf "$work" && mkdir -p "$work"
db_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The integration tests' template (initdb and extension done) makes start-up fast.
if [[ -f "$root/target/devdb-template/PG_VERSION" ]]; then
  cp -a "$root/target/devdb-template" "$work/devdb"
fi
# devdb exits by itself when this script (which becomes the console) exits.
# --init adds a table with the longest names PostgreSQL allows (long_names.sql).
bash "$root/end2end/devdb.sh" "$work/devdb" "$db_port" $$ --init "$root/end2end/long_names.sql"

export DATABASE_URL="postgres://postgres@127.0.0.1:$db_port/postgres?sslmode=disable"
export MS5_ENV=development MS5_LISTEN_ADDR="127.0.0.1:$port"
console="${E2E_CONSOLE:-}"
if [[ -n $console ]]; then
  # Nothing of the clone within reach: its own folder, its own cache for the site.
  cd "$(dirname "$console")"
  unset MS5_SITE_ROOT
  export XDG_CACHE_HOME="$work/cache"
else
  console="$root/target/release/ms5-console"
  export MS5_SITE_ROOT="$root/target/site"
fi
export MS5_DEMO_DAYS=120 MS5_DEMO_EQUIPMENT=4 MS5_DEMO_SAMPLE_SECONDS=3600 MS5_MONITOR_INTERVAL_SECONDS=5
export MS5_STORAGE_BUDGET="1 GB"
# Demo data first, so every test sees the finished demo.
"$console" demo-data >"$work/demo.log"
# One account per role with a known password (tests/fixtures/accounts.ts), created the
# way an operator creates the first admin: the password on standard input.
for role in viewer operator admin; do
  printf '%s\n' "${E2E_PASSWORD:?}" |
    "$console" users add --role "$role" "e2e-$role" >>"$work/demo.log"
done
exec "$console" serve
