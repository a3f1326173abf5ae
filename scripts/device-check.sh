#!/usr/bin/env bash
# One-shot check on a machine with a real GPU (e.g. the `device` tool's H100): builds the
# release binary, prints the adapter, runs the benchmark with the large grid, then the GPU
# test suite. Pass the card's peak bandwidth (GB/s) as $PEAK_GBS to print the share reached
# (H100 SXM 3350, H100 PCIe 2000, H200 4800).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
./target/release/secretome info
./target/release/secretome bench --large --seconds 3 ${PEAK_GBS:+--peak-gbs "$PEAK_GBS"}
cargo test --release
