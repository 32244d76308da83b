#!/usr/bin/env bash
# Says where the native tier's binaries are: prints the bin directory and exits 0 when the
# prefix is built, else prints why not on stderr and exits 1. The test harness and the
# Makefile ask this script, so the location is declared once (native/env.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=native/env.sh
source "$here/env.sh"
if [[ -f $NATIVE_STAMP ]]; then
  echo "$NATIVE_BIN"
  exit 0
fi
if native_vendor_present; then
  echo "TimescaleDB $TSDB_VERSION is not built yet in $NATIVE_PREFIX (make deps builds it: native/build.sh)" >&2
else
  echo "$NATIVE_MISSING" >&2
fi
exit 1
