#!/usr/bin/env bash
# Builds the release the way `cargo leptos build --release` does, without cargo-leptos
# (building it took 17 of the first `make run`'s 31 minutes on 2 cores): the server
# binary into target/release and the site into target/site (the WASM through the
# wasm-bindgen CLI and npm's wasm-opt (Debian's binaryen 108 corrupts the reference-types
# table and hydration fails), the JS glue and the CSS minified by npm's esbuild,
# the public files beside them, content hashes in the names listed in
# target/release/hash.txt, where Leptos looks for them beside the binary).
# Every setting comes from [[workspace.metadata.leptos]] in Cargo.toml, so `cargo leptos
# watch` keeps working for developers who have it. Nothing is redone when nothing changed.
# The binary carries the site inside itself (rust-embed), unpacked at its start unless
# MS5_SITE_ROOT names a directory: `make dist` packs that one file.
# Usage: site/build.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools="$root/vendor/node_modules/.bin"
for tool in wasm-bindgen "$tools/wasm-opt" "$tools/esbuild"; do
  command -v "$tool" >/dev/null || { echo "site/build.sh: $tool is missing: run 'make deps'" >&2; exit 3; }
done

# The project's Leptos settings, as shell variables (leptos_output_name, leptos_site_root, ...).
eval "$(python3 - <<'EOF'
import shlex, tomllib
with open("Cargo.toml", "rb") as f:
    leptos = tomllib.load(f)["workspace"]["metadata"]["leptos"][0]
for key, value in leptos.items():
    if isinstance(value, list):
        value = " ".join(value)
    print(f"leptos_{key.replace('-', '_')}={shlex.quote(str(value))}")
EOF
)"
name=$leptos_output_name
site=$leptos_site_root
pkg=$leptos_site_pkg_dir
# The environment cargo-leptos gives both builds: Leptos reads some of it at compile time.
export LEPTOS_OUTPUT_NAME=$name LEPTOS_SITE_ROOT=$site LEPTOS_SITE_PKG_DIR=$pkg \
  LEPTOS_SITE_ADDR=$leptos_site_addr LEPTOS_RELOAD_PORT=$leptos_reload_port \
  LEPTOS_LIB_DIR=frontend LEPTOS_BIN_DIR=server LEPTOS_JS_MINIFY=true \
  LEPTOS_HASH_FILES=true LEPTOS_HASH_FILE_NAME=hash.txt

lib=${leptos_lib_package//-/_}
wasm="target/wasm32-unknown-unknown/$leptos_lib_profile_release/$lib.wasm"

# The site from the WASM, the stylesheet and the public files, built in a staging folder
# that then replaces the old site whole.
assemble() {
  local stage
  stage=$(mktemp -d "$root/target/site.XXXXXX")
  # shellcheck disable=SC2064 # the folder is known now
  trap "rm -rf '$stage'" EXIT
  mkdir -p "$stage/$pkg"
  wasm-bindgen --target=web --no-typescript --out-name="$name" --out-dir="$stage/$pkg" "$wasm"
  mv "$stage/$pkg/${name}_bg.wasm" "$stage/$pkg/$name.wasm"
  # shellcheck disable=SC2086 # the features are separate arguments
  "$tools/wasm-opt" $leptos_wasm_opt_features "$stage/$pkg/$name.wasm" -o "$stage/$pkg/$name.wasm"
  "$tools/esbuild" "$stage/$pkg/$name.js" --minify --format=esm --log-level=warning \
    --outfile="$stage/$pkg/$name.min.js"
  mv "$stage/$pkg/$name.min.js" "$stage/$pkg/$name.js"
  "$tools/esbuild" "$leptos_style_file" --minify --log-level=warning --outfile="$stage/$pkg/$name.css"
  cp -a "$leptos_assets_dir/." "$stage/"

  # Content hashes in the names (MD5, URL-safe base64 without padding, as cargo-leptos),
  # listed in hash.txt: in the site (the binary carries it) and beside the binary.
  python3 - "$stage/$pkg" "$name" "$stage/hash.txt" <<'EOF'
import base64, hashlib, os, sys
folder, name, listing = sys.argv[1:]
with open(listing, "w") as out:
    for ext in ("js", "wasm", "css"):
        path = os.path.join(folder, f"{name}.{ext}")
        with open(path, "rb") as f:
            digest = hashlib.md5(f.read()).digest()
        tag = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        os.rename(path, os.path.join(folder, f"{name}.{tag}.{ext}"))
        out.write(f"{ext}: {tag}\n")
EOF

  # Each file precompressed beside itself (the console serves name.br / name.gz to
  # browsers that accept them, and removes siblings older than their file: each sibling
  # gets its file's exact time, which brotli would round down to the second).
  find "$stage" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \) -print0 |
    while IFS= read -r -d '' file; do
      gzip -9 -k -f -n "$file" && brotli -q 11 -k -f "$file" && touch -r "$file" "$file.gz" "$file.br"
    done

  rm -rf "$site.old"
  if [[ -d $site ]]; then mv "$site" "$site.old"; fi
  mkdir -p target/release
  cp "$stage/hash.txt" target/release/hash.txt
  mv "$stage" "$site"
  rm -rf "$site.old"
  touch target/site.built
  echo "site: built $site ($(du -sh "$site" | cut -f1))"
}

# SITE_BUILD_TIMINGS=1: cargo's report of where the compile time goes (target/cargo-timings).
timings=()
[[ -n ${SITE_BUILD_TIMINGS:-} ]] && timings=(--timings)
cargo build --package="$leptos_lib_package" --lib --target=wasm32-unknown-unknown \
  --profile="$leptos_lib_profile_release" "${timings[@]}"
# The site is current when nothing it is made of is newer than its stamp.
if [[ -f target/site.built && -f target/release/hash.txt ]] &&
  [[ -z $(find "$wasm" "$leptos_style_file" "$leptos_assets_dir" "$0" Cargo.toml -newer target/site.built -print -quit) ]]; then
  echo "site: $site is current"
else
  assemble
fi
# The binary carries the site (unpacked at its start unless MS5_SITE_ROOT is set): one
# file to install.
cargo build --package="$leptos_bin_package" --bin="$leptos_bin_package" --release \
  --features=embedded-site "${timings[@]}"
