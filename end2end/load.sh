#!/usr/bin/env bash
# HTTP load on the release console (issue #14): wrk (Debian's) with LOAD_CONNECTIONS
# connections (50) for LOAD_SECONDS (20) against each of: the hypertable metrics as an API
# token, the overview page as a signed-in session, Prometheus as a token, and — the anchor,
# measured in the same run — the public health check, which touches neither the database
# nor a credential. Prints p50 / p90 / p95 / p99, requests per second and errors (any
# answer but 2xx, and socket errors). The console runs on a private devdb with the e2e
# demo data, as `make run` serves it; with LOAD_DATABASE_URL, on that database instead
# (for example a native cluster holding 50,000 chunks), and then the database's own count
# of transactions during the runs is printed too (psql). Usage: bash end2end/load.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${LOAD_SECONDS:-20}
connections=${LOAD_CONNECTIONS:-50}
[[ "$seconds" =~ ^[0-9]+$ ]] && (( seconds >= 1 && seconds <= 3600 )) ||
  { echo "LOAD_SECONDS: expected a whole number of seconds from 1 to 3600, got '$seconds'" >&2; exit 2; }
[[ "$connections" =~ ^[0-9]+$ ]] && (( connections >= 1 && connections <= 1000 )) ||
  { echo "LOAD_CONNECTIONS: expected a whole number from 1 to 1000, got '$connections'" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: make load installs it" >&2; exit 3; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
out="$root/target/load"
mkdir -p "$out"
export E2E_PASSWORD='load test passphrase for the console' E2E_WORK="$out/work"
if [[ -n "${LOAD_DATABASE_URL:-}" ]]; then
  command -v psql >/dev/null || { echo "LOAD_DATABASE_URL needs psql to count transactions" >&2; exit 3; }
  # The same accounts as serve.sh makes, then the console on that database.
  for role in admin; do
    printf '%s\n' "$E2E_PASSWORD" | DATABASE_URL="$LOAD_DATABASE_URL" MS5_ENV=development \
      "$root/target/release/ms5-console" users add --role "$role" "e2e-$role" >/dev/null 2>&1 || true
  done
  DATABASE_URL="$LOAD_DATABASE_URL" MS5_ENV=development MS5_LISTEN_ADDR="127.0.0.1:$port" \
    MS5_SITE_ROOT="$root/target/site" MS5_MONITOR_INTERVAL_SECONDS=5 \
    "$root/target/release/ms5-console" serve >"$out/console.log" 2>&1 &
else
  bash "$root/end2end/serve.sh" "$port" >"$out/console.log" 2>&1 &
fi
console=$!
trap 'kill "$console" 2>/dev/null || true; wait "$console" 2>/dev/null || true' EXIT

# A session cookie and an admin token, made the way the pages make them.
creds=$(python3 "$root/end2end/credentials.py" "$base" load)
read -r cookie token <<<"$creds"
# wrk counts only 4xx/5xx as errors: a session that did not take would measure redirects.
for check in "/ Cookie: ms5_session=$cookie" "/metrics Authorization: Bearer $token"; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "${check#* }" "$base${check%% *}")
  [[ "$status" == 200 ]] || { echo "${check%% *} answered $status, not 200: no load run" >&2; exit 1; }
done

report="$out/report.lua"
cat >"$report" <<'LUA'
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("  p50 %.1f ms, p90 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms; %d requests, %.0f req/s, %d errors\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.requests,
    summary.requests / (summary.duration / 1e6), errors))
end
LUA

transactions() {
  psql -X -A -t -d "$LOAD_DATABASE_URL" -c \
    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
}
rss() {
  ps -o rss= -p "$(pgrep -f "release/ms5-console serve" | head -1)" | awk '{printf "%.0f MiB RSS", $1/1024}'
}
echo "server: $(rss) before the runs"
# PostgreSQL publishes an idle backend's statistics up to 10 s late: wait that out on both
# sides, or the set-up's own transactions land in the count.
if [[ -n "${LOAD_DATABASE_URL:-}" ]]; then sleep 11; before=$(transactions); fi
# The console's own count of credential look-ups (every instance exports it).
lookups() {
  curl -s -H "Authorization: Bearer $token" "$base/metrics" | awk '
    /^ms5_credential_checks_total\{answered_by="database"\}/ { d = $2 }
    /^ms5_credential_checks_total\{answered_by="cache"\}/ { c = $2 }
    /^ms5_session_record_reads_total / { r = $2 }
    END { printf "%d %d %d\n", d, c, r }'
}
read -r lookups_before hits_before reads_before <<<"$(lookups)"

run() {
  local what=$1 path=$2; shift 2
  echo "$what ($path): $connections connections, $seconds s"
  wrk --threads 2 --connections "$connections" --duration "${seconds}s" --timeout 10s \
    --script "$report" "$@" "$base$path" | grep -E '^  p50|Non-2xx|Socket errors' || true
}
run "anchor: health, no database, no credential" /api/v1/monitoring/health
run "REST: hypertable metrics as a token" /api/v1/monitoring/metrics/hypertables \
  --header "Authorization: Bearer $token"
run "page: the overview as a session" / --header "Cookie: ms5_session=$cookie"
run "Prometheus as a token" /metrics --header "Authorization: Bearer $token"
echo "server: $(rss) after the runs"
read -r lookups_after hits_after reads_after <<<"$(lookups)"
echo "credentials: $(( lookups_after - lookups_before )) database look-ups and $(( reads_after - reads_before )) session record reads; $(( hits_after - hits_before )) answered by the cache (the closing scrape's own check included)"
if [[ -n "${LOAD_DATABASE_URL:-}" ]]; then
  sleep 11
  echo "database: $(( $(transactions) - before - 1 )) transactions during the four runs (the console's background work and the requests together)"
fi

# Time to interactive in Chromium, cold and warm, with the same session.
echo "browser: time to interactive of the overview (min / median / max of ${TTI_RUNS:-5} visits)"
(cd "$root/end2end" && node tti.js "$base" "$cookie" "${TTI_RUNS:-5}")
