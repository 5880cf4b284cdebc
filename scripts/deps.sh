#!/usr/bin/env bash
# Installs what building and testing postern needs, from Debian packages
# only, plus any package named as an argument (bench/deps.sh adds its
# own). Idempotent; run as root. Never installs another MTA: bsd-mailx
# depends on one, so it is unpacked into build/peers instead.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

pkgs=(g++ meson ninja-build pkg-config libcurl4-openssl-dev libssl-dev libinih-dev
      doctest-dev python3 python3-aiosmtpd python3-prometheus-client openssl s-nail mandoc liblockfile1 util-linux clang-format valgrind
      clang-14 libclang-rt-14-dev
      # What the interop suite's unpacked Postfix and exim need that is not
      # an MTA (tests/interop/mta.py downloads the MTAs themselves).
      sasl2-bin libsasl2-modules libsasl2-modules-db libidn12 libgnutls-dane0 libnsl2 libicu72)
missing=()
for p in "${pkgs[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
fi

# bsd-mailx, unpacked (not installed: it would pull in exim4).
peers="$here/build-peers"
if [ ! -x "$peers/usr/bin/bsd-mailx" ]; then
    mkdir -p "$peers/debs"
    (cd "$peers/debs" && apt-get download bsd-mailx </dev/null >/dev/null 2>&1) || {
        apt-get update -qq </dev/null
        (cd "$peers/debs" && apt-get download bsd-mailx </dev/null >/dev/null)
    }
    for d in "$peers"/debs/*.deb; do dpkg -x "$d" "$peers"; done
fi
