#!/usr/bin/env bash
# Debian packages the benchmark needs besides postern's own build
# dependencies (scripts/deps.sh). Idempotent; run as root. Installs plain
# libraries and tools only, never an MTA: the peers (msmtp, dma, nullmailer,
# postfix) are unpacked by bench/run.sh with apt-get download + dpkg -x.
set -euo pipefail
pkgs=(time gnuplot-nox python3
      # shared libraries the unpacked peers link against
      libgsasl18 libsecret-1-0 libgnutls30 libssl3 libsasl2-2 libdb5.3 libicu72 libnsl2)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi
