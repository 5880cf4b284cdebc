#!/usr/bin/env bash
# The demo: installs what is needed, builds, then sends one message through
# postern to a real local relay (aiosmtpd, STARTTLS + AUTH) and delivers a
# cron-style root mail into a mailbox that bsd-mailx lists. Everything
# happens in a temporary directory; no system file is touched.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/deps.sh
bash scripts/build.sh
exec /usr/bin/python3 scripts/demo.py "$here/build" "$here"
