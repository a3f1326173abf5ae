#!/usr/bin/env bash
# The solver's tests inside a real browser (tests/web/main.rs): headless Chromium with WebGPU
# on its software adapter (SwiftShader), driven by wasm-bindgen-test-runner through
# chromedriver. Needs no GPU, no display and no XDG_RUNTIME_DIR; the Chromium flags are in
# webdriver.json beside Cargo.toml. Then the page itself: the web build (scripts/web-build.sh)
# opened in headless Chromium sends a picture of itself, checked as the desktop window's
# (tests/integration/web_page.rs). Extra arguments go to the first `cargo test` (after `--`:
# a test name, or `--nocapture` to see the figures the tests log). Fails, naming what to
# install, when a tool is missing: it never skips.
#
#   scripts/web-test.sh
#   scripts/web-test.sh -- --nocapture
#   WASM_BINDGEN_TEST_TIMEOUT=1800 scripts/web-test.sh -- default_lesson
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
CHROMEDRIVER="${CHROMEDRIVER:-$(command -v chromedriver || true)}"
if [[ -z "$CHROMEDRIVER" || ! -x "$CHROMEDRIVER" ]]; then
    missing+=("chromedriver (Debian/Ubuntu: apt-get install chromium-driver)")
fi
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
    && ! command -v google-chrome >/dev/null; then
    missing+=("chromium (Debian/Ubuntu: apt-get install chromium)")
fi
wasm_bindgen_version=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' Cargo.toml)
if ! command -v wasm-bindgen-test-runner >/dev/null; then
    missing+=("wasm-bindgen-test-runner (cargo install wasm-bindgen-cli --version ${wasm_bindgen_version})")
fi
if command -v rustup >/dev/null \
    && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    missing+=("the wasm32 target (rustup target add wasm32-unknown-unknown)")
fi
if ((${#missing[@]})); then
    echo "web-test.sh: cannot run the browser tests; missing:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 2
fi
runner_version=$(wasm-bindgen-test-runner --version | awk '{print $2}')
if [[ -n "$wasm_bindgen_version" && "$runner_version" != "$wasm_bindgen_version" ]]; then
    echo "web-test.sh: wasm-bindgen-test-runner is $runner_version but Cargo.toml pins" \
        "wasm-bindgen $wasm_bindgen_version (cargo install wasm-bindgen-cli --version" \
        "$wasm_bindgen_version)" >&2
    exit 2
fi

export CHROMEDRIVER
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
# The runner's limit for the whole page (its default, 20 s, is too short for SwiftShader).
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-900}"
cargo test --target wasm32-unknown-unknown --test web "$@"
scripts/web-build.sh
cargo test --test integration web_page -- --ignored --nocapture
