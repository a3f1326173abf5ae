#!/usr/bin/env bash
# Builds the viewer for the browser into web/dist/ (index.html, secretome.js, secretome_bg.wasm):
# a static folder any file server can serve (scripts/web-serve.sh). Needs the wasm32 target
# and wasm-bindgen-cli at the version Cargo.toml pins:
#   rustup target add wasm32-unknown-unknown
#   cargo install wasm-bindgen-cli --version 0.2.130
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${WEB_PROFILE:-release}
want=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
if ! command -v wasm-bindgen >/dev/null; then
  echo "error: wasm-bindgen not found: cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi
have=$(wasm-bindgen --version | awk '{print $2}')
if [ "$have" != "$want" ]; then
  echo "error: wasm-bindgen $have, but Cargo.toml pins $want: cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "error: the wasm32 target is missing: rustup target add wasm32-unknown-unknown" >&2
  exit 1
fi
flag=()
[ "$profile" = release ] && flag=(--release)
cargo build "${flag[@]}" --target wasm32-unknown-unknown --bin secretome
target=${CARGO_TARGET_DIR:-target}
rm -rf web/dist.part && mkdir -p web/dist.part
wasm-bindgen --target web --no-typescript --out-dir web/dist.part \
  "$target/wasm32-unknown-unknown/$profile/secretome.wasm"
cp web/index.html web/dist.part/
rm -rf web/dist && mv web/dist.part web/dist
wasm=$(stat -c %s web/dist/secretome_bg.wasm)
gz=$(gzip -9 -c web/dist/secretome_bg.wasm | wc -c)
echo "web/dist: secretome_bg.wasm $((wasm / 1024)) KiB ($((gz / 1024)) KiB gzip), secretome.js $(($(stat -c %s web/dist/secretome.js) / 1024)) KiB"
