#!/usr/bin/env bash
# The release tarball as a user meets it (issue #28): packed by dist/pack.sh, unpacked
# into an empty folder outside the clone, its binary started there with no MS5_SITE_ROOT
# (it serves the site it carries, unpacked into its own cache folder) and no target/
# within reach, then Playwright walks every page against it (each hydrates under the
# Content-Security-Policy and fits a laptop's and a phone's width).
# Usage: bash end2end/dist.sh (after `make build-release`)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tarball=$("$root/dist/pack.sh")
place=$(mktemp -d /tmp/ms5-dist.XXXXXX)
trap 'rm -rf "$place"' EXIT
tar -C "$place" -xzf "$tarball"
unpacked=$(find "$place" -mindepth 1 -maxdepth 1 -type d)
for file in ms5-console console.env.example ms5-console.service README.md; do
  [[ -f $unpacked/$file ]] || { echo "dist: $file is missing from $tarball" >&2; exit 1; }
done
echo "dist: $(basename "$tarball") ($(du -h "$tarball" | cut -f1)): $(cd "$unpacked" && ls | tr '\n' ' ')"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cd "$root/end2end"
E2E_PORT=$port E2E_CONSOLE="$unpacked/ms5-console" E2E_WORK="$place/work" \
  npx playwright test tests/csp.spec.ts tests/screens.spec.ts
# The site was unpacked where the binary's cache is, not read from the clone.
ls "$place"/work/cache/ms5-console/site-*/pkg/ms5-console.*.wasm >/dev/null
echo "dist: the unpacked tarball served every page from the site it carries"
