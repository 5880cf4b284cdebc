#!/usr/bin/env bash
# Installs, upgrades and purges the Debian package in a throwaway Debian 12
# root made by mmdebstrap (never on this machine), and checks on the way:
# users, statoverride modes, spool modes, a non-root submission through the
# set-group-ID front end picked up and delivered by the cron line's command,
# units enabled, "remove" keeping queued mail, "purge" removing the spool,
# the user and the group. Network: the Debian archive only.
#
#   scripts/package-check.sh [OLD_REV]
#
# The new package is build-deb/postern_*.deb (scripts/package.sh); the old
# one is built here from OLD_REV (default: the commit before debian/ came
# in) with this debian/ and a lower version, so "upgrade" goes from the
# previous tree's programs to this one's. Needs root, mmdebstrap.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/build-deb"
[ "$(id -u)" = 0 ] || { echo "needs root (mmdebstrap chroot)"; exit 1; }
command -v mmdebstrap >/dev/null || bash "$here/scripts/deps.sh" mmdebstrap
new=$(ls "$out"/postern_*_*.deb 2>/dev/null | grep -v '~' | head -n 1 || true)
[ -n "$new" ] || { echo "no build-deb/postern_*.deb: run scripts/package.sh first"; exit 1; }
old_rev=${1:-$(git -C "$here" log --format=%H -n 1 --diff-filter=A -- debian/control)~1}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

old=$(ls "$out"/postern_*~prev*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$old" ]; then
    echo "== building the old package from $(git -C "$here" log -1 --format='%h %s' "$old_rev" | cut -c1-60)"
    git clone -q "$here" "$work/old"
    git -C "$work/old" checkout -q "$old_rev"
    cp -r "$here/debian" "$work/old/"
    # A tree from before the install options installs no units: drop what
    # its meson does not know.
    if ! grep -q systemdsystemunitdir "$work/old/meson_options.txt"; then
        sed -i -e '/-Dinstall_cron\|-Dsystemdsystemunitdir\|-Dsysusersdir\|-Dtmpfilesdir/d' \
            -e '/^override_dh_installsystemd:/,/^$/d' "$work/old/debian/rules"
        sed -i 's/-Dlibexecdir=libexec \\/-Dlibexecdir=libexec/' "$work/old/debian/rules"
    fi
    version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
    { printf 'postern (%s) unstable; urgency=medium\n\n  * Previous tree, for the upgrade check.\n\n -- postern developers <postern@example.org>  %s\n\n' \
        "${version%-*}~prev1-1" "$(date -R)"; cat "$here/debian/changelog"; } > "$work/old/debian/changelog.new"
    mv "$work/old/debian/changelog.new" "$work/old/debian/changelog"
    (cd "$work/old" && dpkg-buildpackage -us -uc -b) >"$out/build-old.log" 2>&1 || {
        tail -n 30 "$out/build-old.log"; echo "old package build failed"; exit 1; }
    cp "$work"/postern_*~prev1-1_*.deb "$out"/
    old=$(ls "$out"/postern_*~prev*.deb | head -n 1)
fi
echo "old: $(basename "$old")"
echo "new: $(basename "$new")"
cp "$old" "$work/old.deb"
cp "$new" "$work/new.deb"

cat > "$work/check.sh" <<'CHECK'
#!/bin/sh
# Runs inside the throwaway root.
set -eu
export DEBIAN_FRONTEND=noninteractive
ok() { echo "ok: $*"; }
die() { echo "FAIL: $*"; exit 1; }
mode() { stat -c '%a %U:%G' "$1"; }
expect() { [ "$(mode "$1")" = "$2" ] || die "$1 is $(mode "$1"), want $2"; ok "$1 $2"; }

apt-get install -y -q /tmp/old.deb >/tmp/apt-old.log 2>&1 || { tail -20 /tmp/apt-old.log; die "install old"; }
ok "installed $(dpkg-query -W -f='${Version}' postern)"
getent passwd postern >/dev/null || die "no user postern"
getent group postdrop >/dev/null || die "no group postdrop"
expect /usr/sbin/postern "2755 root:postdrop"
expect /usr/libexec/postern/postern-deliver "4750 root:postern"
expect /var/spool/postern "755 root:root"
expect /var/spool/postern/incoming "1730 postern:postdrop"
expect /var/spool/postern/queue "700 postern:postern"
for l in /usr/sbin/sendmail /usr/sbin/mailq /usr/sbin/newaliases /usr/lib/sendmail; do
    [ "$(readlink -f $l)" = /usr/sbin/postern ] || die "$l"
done
ok "sendmail, mailq, newaliases, /usr/lib/sendmail -> postern"

# A message queued under the old version (no relay configured: it waits).
echo "queued before the upgrade" | sendmail -odq someone@example.net

apt-get install -y -q /tmp/new.deb >/tmp/apt-new.log 2>&1 || { tail -20 /tmp/apt-new.log; die "upgrade"; }
ok "upgraded to $(dpkg-query -W -f='${Version}' postern)"
expect /usr/sbin/postern "2755 root:postdrop"
expect /usr/libexec/postern/postern-deliver "4750 root:postern"
dpkg-statoverride --list | grep postern
[ -L /etc/systemd/system/paths.target.wants/postern-send.path ] || die "postern-send.path not enabled"
[ -L /etc/systemd/system/timers.target.wants/postern-queue.timer ] || die "postern-queue.timer not enabled"
[ ! -e /etc/systemd/system/sockets.target.wants/postern-smtp.socket ] || die "smtp socket enabled"
ok "postern-send.path and postern-queue.timer enabled, postern-smtp.socket not"
[ -f /usr/lib/sysusers.d/postern.conf ] && [ -f /usr/lib/tmpfiles.d/postern.conf ] || die "sysusers/tmpfiles"
grep -q 'postern-send' /etc/cron.d/postern || die "cron line"
ok "sysusers.d, tmpfiles.d, /etc/cron.d/postern installed"
[ "$(ls /var/spool/postern/incoming | wc -l)" = 1 ] || die "the queued message did not survive the upgrade"
ok "queued message kept across the upgrade"

# A non-root user submits through the set-group-ID front end; the cron
# line's command (as cron would run it here: no systemd) picks it up and
# postern-deliver (set-user-ID root) writes root's mailbox.
adduser --quiet --disabled-password --gecos "" alice >/dev/null
su alice -s /bin/sh -c 'printf "Subject: from alice\n\nhello root\n" | /usr/sbin/sendmail root' || die "alice's submission"
ok "alice submitted (exit 0)"
line=$(grep -v '^#' /etc/cron.d/postern | grep postern-send)
cmd=$(echo "$line" | cut -d' ' -f7-)
user=$(echo "$line" | cut -d' ' -f6)
su -s /bin/sh "$user" -c "$cmd" || die "cron line: $cmd"
ok "cron line ran as $user: $cmd"
grep -q '^Subject: from alice' /var/mail/root || die "root's mailbox lacks alice's mail"
ok "alice's mail in /var/mail/root ($(mode /var/mail/root))"
mailq | grep -q 'someone@example.net' || die "mailq"
ok "mailq lists the waiting message: $(mailq | head -n 1)"
postern --status || true
postern --status --prometheus | grep '^postern_queue_messages'

apt-get remove -y -q postern >/dev/null 2>&1 || die "remove"
[ -n "$(ls /var/spool/postern/queue /var/spool/postern/incoming)" ] || die "remove lost queued mail"
getent passwd postern >/dev/null || die "remove deleted the user"
ok "removed; queued mail kept: $(ls /var/spool/postern/queue /var/spool/postern/incoming | tr '\n' ' ')"
dpkg --purge postern >/dev/null 2>&1 || die "purge"
[ ! -e /var/spool/postern ] || die "purge left the spool"
! getent passwd postern >/dev/null || die "purge left user postern"
! getent group postern >/dev/null || die "purge left group postern"
! getent group postdrop >/dev/null || die "purge left group postdrop"
! dpkg-statoverride --list | grep -q postern || die "purge left statoverrides"
[ ! -e /etc/systemd/system/paths.target.wants/postern-send.path ] || die "purge left the unit enabled"
ok "purged: no spool, no user, no groups, no statoverrides, no enabled units"
echo "package check: all passed"
CHECK

echo "== mmdebstrap bookworm (throwaway root)"
mmdebstrap --quiet --variant=apt --include=adduser,init-system-helpers,ca-certificates \
    --customize-hook="copy-in $work/old.deb $work/new.deb $work/check.sh /tmp" \
    --customize-hook='chroot "$1" sh /tmp/check.sh' \
    bookworm "$work/root" 2>&1 | tee "$out/package-check.txt"
grep -q '^package check: all passed' "$out/package-check.txt"
