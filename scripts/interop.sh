#!/usr/bin/env bash
# The interoperability suite alone (meson suite 'interop', tests/interop/):
# postern against real Postfix and exim relays, postern-deliver under
# Postfix. Run as root on Debian 12: installs what it needs (scripts/deps.sh:
# libraries and tools, never an MTA), builds, downloads the MTA packages
# with apt-get download into build-interop/ and unpacks them there (never
# installed), runs each server in its own mount namespace on a port chosen
# at run time, and prints the run time and "N passed, N failed".
# scripts/test.sh runs the same tests as part of the whole suite.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/deps.sh || { echo "dependency install failed"; echo "0 passed, 1 failed"; exit 1; }
bash scripts/build.sh || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
start=$(date +%s)
meson test -C build --suite interop --print-errorlogs --num-processes 2 </dev/null
rc=$?
log=build/meson-logs/testlog.json
p=$(grep -c '"result": "OK"' "$log" || true)
s=$(grep -c '"result": "SKIP"' "$log" || true)
f=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
echo "interop run time: $(( $(date +%s) - start )) s"
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
