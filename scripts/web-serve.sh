#!/usr/bin/env bash
# Serves web/dist/ (scripts/web-build.sh) at http://localhost:${1:-8080}/ with Python's file
# server. Any static server does: the page needs no server of its own.
set -euo pipefail
cd "$(dirname "$0")/../web/dist"
echo "http://localhost:${1:-8080}/  (lessons: ?lesson=paracrine_remote.toml, coarser: ?spacing=2)"
exec python3 -m http.server "${1:-8080}" --bind 127.0.0.1
