#!/usr/bin/env bash
# One-shot check on a machine with a real GPU (e.g. the `device` tool's H200): prints the
# adapter, runs the benchmark with the large grid and other workgroup counts, the heart at 1, 0.5
# and 0.25 mm, times the viewer's frame loop at 1 mm, then runs the GPU test suite. Pass the
# card's peak bandwidth (GB/s) as $PEAK_GBS to print the share reached (H100 SXM 3350, H100
# PCIe 2000, H200 4800).
#
# With cargo on the machine it builds the release binary and runs `cargo test --release`.
# Without (the device tool's machines have no Rust toolchain): run `scripts/device-pack.sh`
# here first, carry `devbin` (and `.gl`, the loaders: ../.library/device/README.md) and start
# the device command with
#   for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; PEAK_GBS=4800 scripts/device-check.sh
# About 6 minutes on an H200.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v cargo >/dev/null; then
    cargo build --release
    B=./target/release/secretome
else
    # The integration tests run the binary at the path cargo compiled into them (under the
    # checkout of the machine that built them, /work/main here).
    B=./devbin/secretome
    built=$(cat devbin/checkout)
    if [ "$PWD" != "$built" ]; then
        mkdir -p "$(dirname "$built")"
        ln -sfn "$PWD" "$built"
    fi
    mkdir -p target/debug
    cp devbin/secretome target/debug/secretome
fi
$B info
$B bench --large --seconds 1 --rounds 3 ${PEAK_GBS:+--peak-gbs "$PEAK_GBS"}
# Fewer or more workgroups per slab than the default (a quarter of the work units, at most
# 4096: the bandwidth question in docs/performance.md).
for g in 512 4096; do
    $B bench --sizes 256,512 --seconds 1 --no-cpu --groups "$g" ${PEAK_GBS:+--peak-gbs "$PEAK_GBS"}
done
# The heart on the brick grid (the 0.25 mm heart needs about 1 GiB).
$B bench --heart 1,0.5,0.25 --seconds 2 --rounds 3
# The heart refined around its depot (issue 17), with the cost against the unrefined one.
$B bench --heart 1 --finest 0.25,0.125,0.0625 --seconds 2 --rounds 3
# The viewer's frame loop at 1 mm without a window: frames/s while simulating at the default
# speed (0.5 simulated h/s) and flat out.
$B view --bench --spacing 1 --frames 600
$B view --bench --spacing 1 --frames 600 --speed 100
if command -v cargo >/dev/null; then
    cargo test --release
else
    ./devbin/libtests
    # The window test needs a display (Xvfb), which such machines lack.
    ./devbin/integration --skip viewer_window
fi
