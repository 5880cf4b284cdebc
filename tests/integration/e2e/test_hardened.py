# SPDX-License-Identifier: ISC
"""The queue run under etc/postern-send.service's restrictions, without
systemd: PID 1 here is no systemd, so systemd-run cannot apply the unit.
What the unit does to the process is reproduced with util-linux instead:

- CapabilityBoundingSet= and AmbientCapabilities= (read from the unit):
  setpriv --bounding-set, --inh-caps, --ambient-caps, as root, the way
  systemd starts the service (no User=);
- ProtectSystem=strict, ProtectHome=read-only, ReadWritePaths=: a private
  mount namespace (unshare) where / is read-only and only the spool and the
  mail directory are bind-mounted writable;
- UMask=: the shell's umask.
Not reproduced: the seccomp filter (SystemCallFilter=@system-service and
the settings built on seccomp), PrivateTmp/PrivateDevices/ProtectProc.

The chain is the installed one: postern-send starts as root, becomes the
postern user (a passwd/group entry bind-mounted into the namespace only,
never on the host), sends over STARTTLS + AUTH to a real relay, and execs
a set-user-ID root postern-deliver (4750 root:postern) that creates one
mailbox (CAP_CHOWN, CAP_FOWNER), opens an existing one it does not own
(CAP_DAC_OVERRIDE) and becomes its owner (CAP_SETUID, CAP_SETGID). Two
controls show the test can fail: without CAP_CHOWN the new mailbox cannot
be given to its user, and with no_new_privs (setpriv --no-new-privs) the
set-user-ID bit is ignored and nothing is delivered."""

import json
import mailbox
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from pki import make_pki  # noqa: E402
from relay import Relay  # noqa: E402

BUILD = os.environ["POSTERN_BUILD"]
SOURCE = os.environ["POSTERN_SOURCE"]
POSTERN = os.path.join(BUILD, "postern")
UID, GID, MAIL = 64987, 64987, 8  # the namespace's postern user; group mail
RCPT = "daemon"                   # a local user other than postern
USER, PW = "alerts@example.com", "s3cret-pw"


def unit(name):
    values = {}
    with open(os.path.join(SOURCE, "etc", name)) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "[")) and "=" in line:
                k, v = line.split("=", 1)
                values.setdefault(k, []).append(v)
    return values


def default_config_path():
    r = subprocess.run(["meson", "introspect", "--buildoptions", BUILD], capture_output=True,
                       text=True, timeout=60)
    opts = {o["name"]: o["value"] for o in json.loads(r.stdout)}
    if opts.get("config_path"):
        return opts["config_path"]
    etc = opts["sysconfdir"]
    return os.path.join(etc if etc.startswith("/") else os.path.join(opts["prefix"], etc),
                        "postern.conf")


def setpriv_caps(names):
    return ",".join(["-all"] + ["+" + n.lower().removeprefix("cap_") for n in names])


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv") and shutil.which("unshare"),
                     "needs root, setpriv and unshare")
class HardenedRun(unittest.TestCase):
    def setUp(self):
        self.svc = unit("postern-send.service")
        self.dir = tempfile.mkdtemp(prefix="postern-hard-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o755)
        d = self.dir
        self.spool, self.mail = os.path.join(d, "spool"), os.path.join(d, "mail")
        for sub in ("incoming", "queue", "failed"):
            os.makedirs(os.path.join(self.spool, sub))
            os.chown(os.path.join(self.spool, sub), UID, GID)
            os.chmod(os.path.join(self.spool, sub), 0o1730 if sub == "incoming" else 0o700)
        os.makedirs(self.mail)
        os.chown(self.mail, 0, MAIL)
        os.chmod(self.mail, 0o2775)  # like Debian's /var/mail
        # The installed layout: set-user-ID root deliver, runnable by group
        # postern only; a build.ninja beside them makes them find each other.
        self.bin = os.path.join(d, "bin")
        os.makedirs(self.bin)
        for p in ("postern-send", "postern-deliver"):
            shutil.copy(os.path.join(BUILD, p), self.bin)
        open(os.path.join(self.bin, "build.ninja"), "w").close()
        deliver = os.path.join(self.bin, "postern-deliver")
        os.chown(deliver, 0, GID)
        os.chmod(deliver, 0o4750)
        self.pki = make_pki(os.path.join(d, "pki"))
        os.chmod(os.path.join(d, "pki"), 0o755)
        self.secret = os.path.join(d, "secret")
        with open(self.secret, "w") as f:
            f.write(PW + "\n")
        os.chown(self.secret, UID, GID)
        os.chmod(self.secret, 0o600)
        self.etc = os.path.join(d, "etc")
        os.makedirs(self.etc)
        self.aliases = os.path.join(d, "aliases")
        with open(self.aliases, "w") as f:
            f.write("postmaster: root\n")
        for name, extra in (("passwd", f"postern:x:{UID}:{GID}:postern:/nonexistent:"
                                       "/usr/sbin/nologin\n"),
                            ("group", f"postern:x:{GID}:\n")):
            with open("/etc/" + name) as f:
                text = f.read()
            with open(os.path.join(d, name), "w") as f:
                f.write(text + extra)
            os.chmod(os.path.join(d, name), 0o644)

    def write_conf(self, port):
        with open(os.path.join(self.etc, "postern.conf"), "w") as f:
            f.write(f"[relay]\nhost = 127.0.0.1\nport = {port}\ntls = starttls\n"
                    f"ca_file = {self.pki.ca}\nuser = {USER}\npassword_file = {self.secret}\n"
                    f"timeout = 10s\n[sender]\nfrom = {USER}\ndomain = box.example\n"
                    f"[local]\naliases = {self.aliases}\nmailbox = {self.mail}/%u\n"
                    f"mail_group = mail\n[queue]\ndir = {self.spool}\nmin_backoff = 1s\n")
        os.chmod(os.path.join(self.etc, "postern.conf"), 0o644)

    def submit(self, *rcpts):
        r = subprocess.run([POSTERN, "-C", os.path.join(self.etc, "postern.conf"), "-odq", "-i",
                            *rcpts], input=b"Subject: hardened\n\nbody\n", capture_output=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)

    def run_hardened(self, caps=None, no_new_privs=False):
        # --flush: the second control must not depend on the clock passing
        # min_backoff since the first one deferred the message.
        caps = caps if caps is not None else " ".join(self.svc["CapabilityBoundingSet"]).split()
        self.assertEqual(self.svc.get("AmbientCapabilities"), [""])
        self.assertEqual(self.svc["ProtectSystem"], ["strict"])
        self.assertEqual(self.svc["ReadWritePaths"], ["/var/spool/postern -/var/mail"])
        umask = self.svc["UMask"][0]
        confdir = os.path.dirname(default_config_path())
        # ReadWritePaths=/var/spool/postern /var/mail, here the test's own.
        script = (
            'set -e\n'
            'mount --bind "$D/spool" "$D/spool"\n'
            'mount --bind "$D/mail" "$D/mail"\n'
            'mount --bind "$D/etc" "$CONFDIR"\n'
            'mount --bind "$D/passwd" /etc/passwd\n'
            'mount --bind "$D/group" /etc/group\n'
            'mount -o remount,bind,ro /\n'
            f'umask {umask}\n'
            'exec setpriv --bounding-set="$CAPS" --inh-caps=-all --ambient-caps=-all $NNP '
            '"$D/bin/postern-send" --flush\n')
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "D": self.dir, "CONFDIR": confdir,
               "CAPS": setpriv_caps(caps), "NNP": "--no-new-privs" if no_new_privs else ""}
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "--",
                               "/bin/sh", "-c", script], env=env, capture_output=True,
                              timeout=120)

    def mbox(self):
        path = os.path.join(self.mail, RCPT)
        if not os.path.exists(path):
            return []
        box = mailbox.mbox(path)
        try:
            return list(box)
        finally:
            box.close()

    def test_relay_and_local_delivery_under_the_unit_restrictions(self):
        self.assertEqual(sorted(" ".join(self.svc["CapabilityBoundingSet"]).split()),
                         ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETGID",
                          "CAP_SETUID"])
        self.assertEqual(self.svc["NoNewPrivileges"], ["no"])
        self.assertNotIn("User", self.svc)
        with Relay(tls="starttls", cert=self.pki.server, users={USER: PW}) as relay:
            self.write_conf(relay.port)
            self.submit("friend@example.net", RCPT)  # creates the mailbox
            self.submit(RCPT)                        # opens the existing one
            r = self.run_hardened()
            err = r.stderr.decode(errors="replace")
            self.assertEqual(r.returncode, 0, err)
            self.assertEqual([m.rcpt_tos for m in relay.messages], [["friend@example.net"]], err)
            self.assertTrue(relay.auths and relay.auths[0][2] and relay.auths[0][3],
                            relay.auths)  # authenticated, over TLS
        msgs = self.mbox()
        self.assertEqual(len(msgs), 2, err)
        self.assertEqual(msgs[0]["Subject"], "hardened")
        st = os.stat(os.path.join(self.mail, RCPT))
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777),
                         (pwd.getpwnam(RCPT).pw_uid, MAIL, 0o660))
        # The spool is empty, and the run was made as postern.
        self.assertEqual(os.listdir(os.path.join(self.spool, "incoming")), [])
        self.assertEqual(os.listdir(os.path.join(self.spool, "queue")), [])

    def test_controls_fewer_capabilities_or_no_new_privs_break_local_delivery(self):
        caps = [c for c in " ".join(self.svc["CapabilityBoundingSet"]).split()
                if c != "CAP_CHOWN"]
        with Relay(tls="starttls", cert=self.pki.server, users={USER: PW}) as relay:
            self.write_conf(relay.port)
            self.submit(RCPT)
            r = self.run_hardened(caps=caps)
            self.assertEqual(self.mbox(), [], r.stderr)
            self.assertIn(b"status=deferred (postern-deliver: fchown ", r.stderr)
            queued = os.listdir(os.path.join(self.spool, "queue"))
            self.assertTrue(any(n.endswith(".env") for n in queued), r.stderr)  # deferred
            r = self.run_hardened(no_new_privs=True)
            self.assertEqual(self.mbox(), [], r.stderr)
            self.assertIn(b"status=deferred (postern-deliver: open ", r.stderr)
            self.assertIn(b"Permission denied", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
