#!/usr/bin/env bash
# Says where the native tier's binaries are. The test harness and the Makefile ask this
# script, so the locations are declared once (native/env.sh).
#
# Usage: native/status.sh [pg15 | pg18 | VERSION | --list]
#   (none)    the default tier's bin directory (PostgreSQL 15.18 + TimescaleDB 2.28.3)
#   pg15|pg18 that tier's bin directory
#   VERSION   the bin directory of the tier holding that TimescaleDB version (2.28.3,
#             2.13.1, 2.29.2), when that version is built
#   --list    one line per available tier: `<tier> <bin dir> <TimescaleDB versions>`,
#             its default version first
# Prints the answer and exits 0; else prints why not on stderr and exits 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=native/env.sh
source "$here/env.sh"

# Prints why a TimescaleDB version is not usable, on stderr.
why_not() {
  if native_inputs_present "$1"; then
    native_tier "$(native_tier_of "$1")"
    echo "TimescaleDB $1 is not built yet in $TIER_PREFIX (make deps builds it: native/build.sh)" >&2
  else
    echo "$NATIVE_MISSING" >&2
  fi
}

arg=${1:-$TSDB_VERSION}
case $arg in
  --list)
    found=0
    for tier in "${NATIVE_TIERS[@]}"; do
      native_tier "$tier"
      [[ -f $TIER_STAMP ]] || continue
      versions=()
      for version in "${TIER_TSDB[@]}"; do
        [[ -f $(native_tsdb_stamp "$version") ]] && versions+=("$version")
      done
      echo "$tier $TIER_BIN ${versions[*]}"
      found=1
    done
    if ((found == 0)); then
      for tier in "${NATIVE_TIERS[@]}"; do
        native_tier "$tier"
        printf '%s: ' "$tier" >&2
        why_not "${TIER_TSDB[0]}"
      done
      exit 1
    fi
    exit 0
    ;;
  pg[0-9]*)
    native_tier "$arg" || { echo "unknown tier '$arg' (tiers: ${NATIVE_TIERS[*]})" >&2; exit 1; }
    version=${TIER_TSDB[0]}
    ;;
  *)
    tier=$(native_tier_of "$arg") || {
      echo "unknown TimescaleDB version '$arg' (the native tier has ${NATIVE_TSDB_VERSIONS[*]})" >&2
      exit 1
    }
    native_tier "$tier"
    version=$arg
    ;;
esac
if [[ -f $TIER_STAMP && -f $(native_tsdb_stamp "$version") ]]; then
  echo "$TIER_BIN"
  exit 0
fi
why_not "$version"
exit 1
