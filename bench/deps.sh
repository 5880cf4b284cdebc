#!/usr/bin/env bash
# Debian packages the benchmark needs besides postern's own build
# dependencies, installed through scripts/deps.sh. Idempotent; run as
# root. Plain libraries and tools only, never an MTA: the peers (msmtp,
# dma, nullmailer, postfix) are unpacked by bench/run.sh with apt-get
# download + dpkg -x.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
exec bash "$here/scripts/deps.sh" time gnuplot-nox python3 \
    libgsasl18 libsecret-1-0 libgnutls30 libssl3 libsasl2-2 libdb5.3 libicu72 libnsl2
