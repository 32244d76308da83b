# Sourced by the native tier's scripts: one place for the versions, the vendored inputs
# and where the build lives.
#
# MS5_VENDOR_DIR   the vendored sources (default: ../shared/vendor beside the clone)
# MS5_NATIVE_CACHE where built prefixes live, outside the clone so that a fresh clone
#                  reuses them (default: /var/cache/ms5-console as root, because the
#                  cluster then runs as `postgres`, which cannot read /root; else
#                  $XDG_CACHE_HOME/ms5-console)

TSDB_VERSION=2.28.3
PG_VERSION=15.18
PG_MAJOR=15

_native_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MS5_VENDOR_DIR=${MS5_VENDOR_DIR:-$_native_root/../shared/vendor}
TSDB_TARBALL=$MS5_VENDOR_DIR/timescaledb-$TSDB_VERSION.tar.gz
PG_VENDOR=$MS5_VENDOR_DIR/postgresql-$PG_VERSION

if [[ -z ${MS5_NATIVE_CACHE:-} ]]; then
  if [[ $(id -u) == 0 ]]; then
    MS5_NATIVE_CACHE=/var/cache/ms5-console
  else
    MS5_NATIVE_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/ms5-console
  fi
fi
NATIVE_PREFIX=$MS5_NATIVE_CACHE/timescaledb-$TSDB_VERSION-pg$PG_VERSION
NATIVE_BIN=$NATIVE_PREFIX/usr/lib/postgresql/$PG_MAJOR/bin
# Written last by build.sh: its presence means the prefix is complete.
NATIVE_STAMP=$NATIVE_PREFIX/.built

# Sets NATIVE_MISSING to why the vendored inputs are unusable; true when they are usable.
native_vendor_present() {
  NATIVE_MISSING=""
  if [[ ! -f $TSDB_TARBALL ]]; then
    NATIVE_MISSING="$TSDB_TARBALL not found (set MS5_VENDOR_DIR, or MS5_TEST_TIMESCALEDB_URL to use your own TimescaleDB)"
  elif ! compgen -G "$PG_VENDOR/postgresql-${PG_MAJOR}_*.deb" >/dev/null; then
    NATIVE_MISSING="no PostgreSQL $PG_VERSION packages in $PG_VENDOR"
  fi
  [[ -z $NATIVE_MISSING ]]
}
