#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# The whole benchmark in one command, as root on Debian 12:
#
#     sudo bash bench/run.sh
#
# installs the Debian packages it needs, builds postern in release mode
# (build-bench/), unpacks msmtp, dma, nullmailer and postfix (for smtp-sink)
# into build-bench-peers/ without installing them (no MTA is replaced),
# measures everything interleaved in one run, and writes bench/RESULTS.md,
# bench/ratios.png and bench/results.json. /etc/dma, /etc/nullmailer and
# /var/spool/{dma,nullmailer} are set up for the run and restored after it.
#
# Knobs (environment): BENCH_ROUNDS (submission rounds, 40),
# BENCH_MESSAGES (flush size, 1000), BENCH_FLUSH_ROUNDS (2),
# BENCH_NO_POSTERN=1 (peers and floors only), BENCH_ONLY (parts, e.g.
# latency,big), BENCH_NOTE (a line for RESULTS.md, e.g. "machine shared"),
# BENCH_WORK (work directory, /tmp/postern-bench; the spools of postern
# and dma live there), BENCH_OUT (report path, bench/RESULTS.md; the chart
# and JSON are named after it, see below).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
[ "$(id -u)" = 0 ] || { echo "run.sh: run as root (sudo bash bench/run.sh)" >&2; exit 1; }
py=/usr/bin/python3
start=$(date +%s)

echo "== packages"
bash scripts/deps.sh
bash bench/deps.sh

echo "== postern (release build in build-bench/)"
postern_arg=(--postern "$here/build-bench")
if [ "${BENCH_NO_POSTERN:-0}" = 1 ]; then
    postern_arg=(--note "postern not measured: run with BENCH_NO_POSTERN=1")
else
    if [ ! -f build-bench/build.ninja ]; then
        meson setup build-bench --buildtype=release -Dwerror=false -Dtests=false -Dinstall_ownership=false >/dev/null
    fi
    if ! ninja -C build-bench >build-bench.log 2>&1; then
        echo "run.sh: postern does not build (build-bench.log); measuring the peers only" >&2
        tail -20 build-bench.log >&2
        postern_arg=(--note "postern not measured: it did not build (build-bench.log)")
    fi
fi

echo "== peers (apt-get download + dpkg -x into build-bench-peers/)"
peers="$here/build-bench-peers"
mkdir -p "$peers/debs"
for pkg in msmtp dma nullmailer postfix; do
    if ! ls "$peers/debs/${pkg}"_*.deb >/dev/null 2>&1; then
        (cd "$peers/debs" && apt-get download "$pkg" </dev/null >/dev/null 2>&1) || {
            apt-get update -qq </dev/null
            (cd "$peers/debs" && apt-get download "$pkg" </dev/null >/dev/null)
        }
    fi
    # One tree per package: nullmailer and postfix both ship usr/sbin/sendmail.
    if [ ! -d "$peers/$pkg/usr" ]; then
        mkdir -p "$peers/$pkg"
        dpkg -x "$peers/debs/${pkg}"_*.deb "$peers/$pkg"
    fi
done

echo "== measuring"
# bench.py restores the system paths itself; the trap covers a kill.
trap '"$py" "$here/bench/bench.py" --peers "$peers" --work "${BENCH_WORK:-/tmp/postern-bench}" --restore' EXIT
note_arg=()
[ -n "${BENCH_NOTE:-}" ] && note_arg=(--note "$BENCH_NOTE")
out=${BENCH_OUT:-bench/RESULTS.md}
# RESULTS-x.md goes with ratios-x.png and results-x.json; any other name
# NAME.md with ratios-NAME.png and results-NAME.json.
name=$(basename "${out%.md}")
case "$name" in RESULTS*) suffix=${name#RESULTS} ;; *) suffix=-$name ;; esac
"$py" bench/bench.py "${postern_arg[@]}" "${note_arg[@]}" --peers "$peers" \
    --work "${BENCH_WORK:-/tmp/postern-bench}" \
    --out "$out" --chart "$(dirname "$out")/ratios$suffix.png" \
    --json "$(dirname "$out")/results$suffix.json"
echo "== done in $(( $(date +%s) - start )) s: $out"
