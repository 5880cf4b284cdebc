#!/bin/sh
# SPDX-License-Identifier: ISC
# meson install script (meson.add_install_script): sendmail links, the
# spool directories and, optionally, ownership and set-id modes.
#
#   install.sh OWNERSHIP(0|1) SPOOL_DIR LINKS(0|1)
#
# meson sets MESON_INSTALL_DESTDIR_PREFIX (prefix inside DESTDIR),
# MESON_INSTALL_PREFIX and DESTDIR. Everything is made below $DESTDIR, so
# a package build (DESTDIR set, OWNERSHIP=0) needs no privileges; the
# package's postinst then does what OWNERSHIP=1 does here.
#
# WARNING: with OWNERSHIP=1 this gives postern set-group-ID postdrop and
# postern-deliver set-user-ID root. The set-id bits are set only after
# the right owner and group are in place (chown clears them anyway), and
# never when the postern user or the postdrop group is missing.
set -eu

ownership=${1:-0}
spool=${2:-/var/spool/postern}
links=${3:-1}
destdir=${DESTDIR:-}
dprefix=${MESON_INSTALL_DESTDIR_PREFIX:?run me from meson install}

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

sbin="$dprefix/sbin"
postern="$sbin/postern"
deliver="$dprefix/libexec/postern/postern-deliver"
if [ ! -e "$deliver" ]; then
    # A non-default libexecdir: the program is still somewhere below.
    found=$(find "$dprefix" -name postern-deliver -type f 2>/dev/null | head -n 1)
    [ -n "$found" ] && deliver=$found
fi

# sendmail(8) compatibility names: the front end picks its mode from
# argv[0], so plain symlinks are enough.
if [ "$links" = 1 ]; then
    mkdir -p "$sbin" "$dprefix/lib"
    for name in sendmail mailq newaliases; do
        ln -sfn postern "$sbin/$name"
    done
    ln -sfn ../sbin/postern "$dprefix/lib/sendmail"
    say "links: sendmail mailq newaliases -> postern, lib/sendmail -> ../sbin/postern"
fi

root="$destdir$spool"
mkdir -p "$root/incoming" "$root/queue" "$root/failed"

if [ "$ownership" != 1 ]; then
    say "ownership changes skipped (install_ownership=false)"
    exit 0
fi

# Users are created on the running system only: a DESTDIR install is a
# package build, whose postinst creates them.
if [ -z "$destdir" ]; then
    if ! getent group postdrop >/dev/null; then
        groupadd --system postdrop
        say "created group postdrop"
    fi
    if ! getent passwd postern >/dev/null; then
        useradd --system --user-group --no-create-home --home-dir "$spool" \
            --shell /usr/sbin/nologin postern
        say "created user postern"
    fi
fi
getent group postdrop >/dev/null || die "group postdrop is missing: create it first"
getent passwd postern >/dev/null || die "user postern is missing: create it first"
pgroup=$(id -gn postern)

[ -f "$postern" ] || die "$postern is not installed"
[ -f "$deliver" ] || die "postern-deliver is not installed"

# chown first: it clears set-id bits, so the modes come after it.
chown root:postdrop "$postern"
chmod 2755 "$postern"
chown "root:$pgroup" "$deliver"
chmod 4750 "$deliver"

chown root:root "$root"
chmod 0755 "$root"
chown postern:postdrop "$root/incoming"
chmod 1730 "$root/incoming"
for d in queue failed; do
    chown "postern:$pgroup" "$root/$d"
    chmod 0700 "$root/$d"
done
say "ownership and modes set (postern 2755 root:postdrop, postern-deliver 4750 root:$pgroup)"
