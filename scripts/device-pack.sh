#!/usr/bin/env bash
# Packs what scripts/device-check.sh needs on a GPU machine without a Rust toolchain into
# devbin/ (ignored by git; about 32 MB stripped): the release binary and the test binaries
# (debug profile, as `cargo test` builds them). Carry `devbin` in the device call.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
exe() { # the test executable cargo reports for a target
    cargo test --no-run --message-format=json "$@" 2>/dev/null \
        | grep -o '"executable":"[^"]*"' | grep -v '"executable":null' | tail -n 1 | cut -d'"' -f4
}
mkdir -p devbin
cp target/release/secretome devbin/secretome
cp "$(exe --lib)" devbin/libtests
cp "$(exe --test integration)" devbin/integration
strip devbin/secretome devbin/libtests devbin/integration
pwd >devbin/checkout
du -sh devbin
