#!/usr/bin/env bash
# Configures and builds postern into ./build (an unprivileged test build:
# no ownership changes at install).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
if [ ! -f build/build.ninja ]; then
    meson setup build -Dinstall_ownership=false >/dev/null
fi
ninja -C build >/dev/null
