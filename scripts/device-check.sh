#!/usr/bin/env bash
# One-shot check on a machine with a real GPU (e.g. the `device` tool's H100): builds the
# release binary, prints the adapter, runs the benchmark with the large grid and other
# workgroup counts, the heart at 1, 0.5 and 0.25 mm, times the viewer's frame loop at 1 mm,
# then runs the GPU test suite. Pass the card's
# peak bandwidth (GB/s) as $PEAK_GBS to print the share reached (H100 SXM 3350, H100 PCIe
# 2000, H200 4800).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
./target/release/secretome info
./target/release/secretome bench --large --seconds 1 --rounds 3 ${PEAK_GBS:+--peak-gbs "$PEAK_GBS"}
# Fewer or more workgroups per slab than the default 4096 (the bandwidth question in
# docs/performance.md: more invocations in flight, or longer runs of bricks each).
for g in 1024 16384; do
    ./target/release/secretome bench --sizes 256,512 --seconds 2 --no-cpu --groups "$g" \
        ${PEAK_GBS:+--peak-gbs "$PEAK_GBS"}
done
# The heart on the brick grid (the 0.25 mm heart needs about 1 GiB).
./target/release/secretome bench --heart 1,0.5,0.25 --seconds 2 --rounds 3
# The viewer's frame loop at 1 mm without a window: frames/s while simulating at the default
# speed (0.5 simulated h/s) and flat out.
./target/release/secretome view --bench --spacing 1 --frames 600
./target/release/secretome view --bench --spacing 1 --frames 600 --speed 100
cargo test --release
