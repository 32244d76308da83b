#!/usr/bin/env bash
# Packs the release into one tarball: target/dist/ms5-console-VERSION-x86_64-linux.tar.gz
# with the binary (its site inside), the example settings (every variable, commented),
# the systemd unit and how to install. Run after site/build.sh (`make dist` does both).
# Prints the tarball's path.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
binary=target/release/ms5-console
[[ -x $binary ]] || { echo "dist/pack.sh: $binary is missing: run 'make dist'" >&2; exit 3; }
version=$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["package"]["version"])')
name="ms5-console-$version-$(uname -m)-linux"
stage=$(mktemp -d "$root/target/dist.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name"
install -m 0755 "$binary" "$stage/$name/ms5-console"
strip "$stage/$name/ms5-console" 2>/dev/null || true
install -m 0644 env.example "$stage/$name/console.env.example"
install -m 0644 dist/ms5-console.service "$stage/$name/ms5-console.service"
install -m 0644 dist/INSTALL.md "$stage/$name/README.md"
mkdir -p target/dist
tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "target/dist/$name.tar.gz" "$name"
echo "$root/target/dist/$name.tar.gz"
