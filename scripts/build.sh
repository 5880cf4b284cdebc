#!/usr/bin/env bash
# Configures and builds postern into ./build (an unprivileged test build:
# no ownership changes at install; -O2 with assertions, without debug
# information, which takes a third of the compile time: the sanitizer
# build of scripts/test.sh has it, and `meson configure build -Ddebug=true`
# adds it here).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
if [ ! -f build/build.ninja ]; then
    meson setup build -Dinstall_ownership=false -Ddebug=false >/dev/null
fi
ninja -C build >/dev/null
