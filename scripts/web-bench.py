#!/usr/bin/env python3
"""Measures the web viewer in headless Chromium on its software WebGPU adapter (SwiftShader):
for each voxel edge, the page (web/dist, from scripts/web-build.sh) is opened with
?spacing=H&capture=N; after N frames it posts its status bar (adapter, grid, frame time,
steps/s, simulated time, load to first frame), which is printed with the wasm's size.

    python3 scripts/web-bench.py [--frames 60] [--spacing 2 1] [--size 1280x800]

Compare with the desktop viewer on the same machine:
    xvfb-run -a target/release/secretome view --screenshot /tmp/d.png --frames 60 --spacing 2 --size 1280x800
"""
import argparse
import gzip
import http.server
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST = os.path.join(ROOT, "web", "dist")
FLAGS = [
    "--headless=new", "--no-sandbox", "--enable-unsafe-webgpu", "--enable-features=Vulkan",
    "--use-vulkan=swiftshader", "--use-angle=swiftshader", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run",
]


def serve(results):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=DIST, **k)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            self.rfile.read(n)
            self.send_response(200)
            self.end_headers()
            results.put(self.headers.get("X-Figures", ""))

        def log_message(self, *a):
            pass

    Handler.extensions_map[".wasm"] = "application/wasm"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--spacing", type=float, nargs="+", default=[2.0, 1.0])
    ap.add_argument("--size", default="1280x800")
    ap.add_argument("--timeout", type=float, default=900)
    a = ap.parse_args()
    wasm = os.path.join(DIST, "secretome_bg.wasm")
    if not os.path.isfile(wasm):
        sys.exit(f"{wasm}: no web build (run scripts/web-build.sh)")
    chromium = shutil.which("chromium") or sys.exit("chromium: not found (apt-get install chromium)")
    raw = os.path.getsize(wasm)
    with open(wasm, "rb") as f:
        gz = len(gzip.compress(f.read(), 9))
    print(f"wasm {raw / 1024:.0f} KiB, {gz / 1024:.0f} KiB gzip")
    results = queue.Queue()
    server = serve(results)
    port = server.server_address[1]
    w, h = a.size.split("x")
    for spacing in a.spacing:
        profile = tempfile.mkdtemp(prefix="secretome-chromium-")
        url = f"http://127.0.0.1:{port}/?spacing={spacing}&capture={a.frames}"
        p = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile}",
                              f"--window-size={w},{h}", url],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            print(f"{spacing} mm, {a.frames} frames: {results.get(timeout=a.timeout)}")
        except queue.Empty:
            print(f"{spacing} mm: no answer within {a.timeout:.0f} s")
        finally:
            p.kill()
            p.wait()
            shutil.rmtree(profile, ignore_errors=True)
    server.shutdown()


if __name__ == "__main__":
    main()
