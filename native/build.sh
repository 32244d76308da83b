#!/usr/bin/env bash
# Builds the native test tier: Debian's PostgreSQL 15.18 packages unpacked into a private
# prefix, and TimescaleDB 2.28.3 compiled from its public source and installed into that
# same prefix. Nothing of the system's PostgreSQL is touched, no root is needed, and a
# second run with the prefix complete does nothing.
#
# Usage: native/build.sh [--optional]   (prints the prefix on its last line)
#   --optional: when the vendored sources are absent, say so and succeed (make deps).
# Environment: MS5_VENDOR_DIR (default ../shared/vendor beside the clone),
#              MS5_NATIVE_CACHE (see native/env.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=native/env.sh
source "$here/env.sh"

if [[ -f $NATIVE_STAMP ]]; then
  echo "native tier: TimescaleDB $TSDB_VERSION on PostgreSQL $PG_VERSION already built in $NATIVE_PREFIX"
  exit 0
fi
if ! native_vendor_present; then
  if [[ ${1:-} == --optional ]]; then
    echo "native tier: not built: $NATIVE_MISSING"
    exit 0
  fi
  echo "native tier: cannot build: $NATIVE_MISSING" >&2
  exit 2
fi
for tool in cmake make gcc dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "native tier: '$tool' is missing (make deps installs it)" >&2; exit 2; }
done

started=$(date +%s)
echo "native tier: building TimescaleDB $TSDB_VERSION for PostgreSQL $PG_VERSION into $NATIVE_PREFIX (about 5 minutes, once)"
# Build in a scratch directory beside the prefix and rename at the end, so an interrupted
# build never leaves a prefix that looks complete.
work="$NATIVE_PREFIX.building-$$"
rm -rf "$work"
mkdir -p "$work/prefix" "$work/src"
trap 'rm -rf "$work"' EXIT

for deb in "$PG_VENDOR"/*.deb; do
  dpkg-deb -x "$deb" "$work/prefix"
done
tar -xzf "$TSDB_TARBALL" -C "$work/src" --strip-components=1

# Debian's pg_config reports paths relative to where it sits, so the unpacked copy
# answers with paths inside the scratch prefix; after the rename it answers with the
# final ones. TimescaleDB installs where pg_config says.
pg_config="$work/prefix/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"
[[ $("$pg_config" --version) == "PostgreSQL $PG_VERSION"* ]] || {
  echo "native tier: $pg_config reports $("$pg_config" --version), expected $PG_VERSION" >&2
  exit 1
}
(
  cd "$work/src"
  ./bootstrap -DPG_CONFIG="$pg_config" \
    -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF \
    -DGENERATE_DOWNGRADE_SCRIPT=OFF -DCMAKE_BUILD_TYPE=Release -DUSE_TELEMETRY=OFF \
    >"$work/bootstrap.log" 2>&1 || { tail -30 "$work/bootstrap.log" >&2; exit 1; }
  cd build
  make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; exit 1; }
  make install >"$work/install.log" 2>&1 || { tail -20 "$work/install.log" >&2; exit 1; }
)
rm -rf "$work/src"
ls "$work/prefix/usr/lib/postgresql/$PG_MAJOR/lib/timescaledb-$TSDB_VERSION.so" >/dev/null

rm -rf "$NATIVE_PREFIX"
mv "$work/prefix" "$NATIVE_PREFIX"
# The cluster runs as the unprivileged `postgres` account when the tests run as root:
# everything in the prefix must be readable and traversable by it.
chmod -R a+rX "$NATIVE_PREFIX"
printf 'timescaledb %s\npostgresql %s\nbuilt %s in %ss\n' \
  "$TSDB_VERSION" "$PG_VERSION" "$(date -u +%FT%TZ)" "$(($(date +%s) - started))" >"$NATIVE_STAMP"
echo "native tier: built in $(($(date +%s) - started)) s"
echo "$NATIVE_PREFIX"
