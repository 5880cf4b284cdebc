#!/usr/bin/env bash
# Builds the Debian package from a clean clone of the committed tree
# (dpkg-buildpackage -us -uc -b) and runs lintian on the .deb and the
# .changes. Results land in build-deb/: postern_*.deb, *.changes,
# lintian.txt. Exits non-zero on a build failure or any lintian error or
# warning. Needs: dpkg-dev, debhelper, lintian and the build dependencies
# (bash scripts/package.sh --deps installs them; scripts/deps.sh has most).
#   scripts/package.sh [--deps] [REV]   (REV: a commit, default HEAD)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/build-deb"
if [ "${1:-}" = --deps ]; then
    shift
    bash "$here/scripts/deps.sh" dpkg-dev debhelper lintian fakeroot
fi
rev=${1:-HEAD}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q --no-hardlinks "$here" "$work/postern"
git -C "$work/postern" checkout -q "$rev"
mkdir -p "$out"
rm -f "$out"/postern_* "$out"/postern-dbgsym_* "$out"/lintian.txt

echo "== dpkg-buildpackage -us -uc -b ($(git -C "$work/postern" log -1 --format=%h "$rev"))"
(cd "$work/postern" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
    tail -n 40 "$out/build.log"; echo "package build failed (build-deb/build.log)"; exit 1; }
cp "$work"/postern_* "$out"/
cp "$work"/postern-dbgsym_* "$out"/ 2>/dev/null || true
ls -l "$out"/*.deb

echo "== lintian"
changes=$(ls "$out"/postern_*.changes)
lintian --info --display-info --pedantic --show-overrides "$out"/postern_*.deb "$changes" \
    | tee "$out/lintian.txt" || true
errors=$(grep -c '^E: ' "$out/lintian.txt" || true)
warnings=$(grep -c '^W: ' "$out/lintian.txt" || true)
echo "lintian: $errors errors, $warnings warnings"
[ "$errors" -eq 0 ] && [ "$warnings" -eq 0 ]
