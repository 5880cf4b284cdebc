# SPDX-License-Identifier: ISC
"""End to end: real mail clients (bsd-mailx, s-nail) hand mail to the
built postern, which queues it, starts postern-send by itself, and the
message ends up at a real relay (aiosmtpd) or in a mailbox that a real
mail reader lists. Nothing here calls postern-send directly: the
submission must trigger the attempt (SPEC, Programs)."""

import mailbox
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from relay import Relay

BUILD = os.environ["POSTERN_BUILD"]
SOURCE = os.environ["POSTERN_SOURCE"]
POSTERN = os.path.join(BUILD, "postern")
MAILX = os.path.join(SOURCE, "build-peers", "usr", "bin", "bsd-mailx")
SNAIL = "/usr/bin/s-nail"
USER = __import__("pwd").getpwuid(os.getuid()).pw_name


def wait_for(cond, what, timeout=20.0):
    """Polls cond() until true; the deadline only bounds a failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class EndToEnd(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-e2e-")
        self.relay = Relay(tls=None)
        self.relay.start()
        self.mail = os.path.join(self.dir, "mail")
        os.makedirs(self.mail)
        self.aliases = os.path.join(self.dir, "aliases")
        self.write_aliases("postmaster: root\n")
        self.conf = os.path.join(self.dir, "postern.conf")
        with open(self.conf, "w") as f:
            f.write(f"[relay]\nhost = 127.0.0.1\nport = {self.relay.port}\ntls = none\n"
                    f"auth = none\ntimeout = 5s\n"
                    f"[sender]\ndomain = box.example\n"
                    f"[local]\naliases = {self.aliases}\nmailbox = {self.mail}/%u\n"
                    f"[queue]\ndir = {self.dir}/spool\n")
        # Mail clients run "sendmail"; this one is postern with our config.
        self.sendmail = os.path.join(self.dir, "sendmail")
        with open(self.sendmail, "w") as f:
            f.write(f"#!/bin/sh\nexec {POSTERN} -C {self.conf} \"$@\"\n")
        os.chmod(self.sendmail, 0o755)
        self.env = {"HOME": self.dir, "PATH": "/usr/bin:/bin", "LC_ALL": "C",
                    "MAILRC": "/dev/null"}

    def tearDown(self):
        self.relay.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_aliases(self, text):
        with open(self.aliases, "w") as f:
            f.write(text)

    def mbox_messages(self, user):
        path = os.path.join(self.mail, user)
        if not os.path.exists(path):
            return []
        return list(mailbox.mbox(path))

    def queue_empty(self):
        spool = os.path.join(self.dir, "spool")
        return all(not os.listdir(os.path.join(spool, d))
                   for d in ("incoming", "queue") if os.path.isdir(os.path.join(spool, d)))

    def mailx_count(self, path):
        r = subprocess.run([MAILX, "-f", path], input=b"x\n", capture_output=True,
                           env=self.env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        first = r.stdout.decode(errors="replace").splitlines()
        line = [l for l in first if l.startswith('"')]
        self.assertTrue(line, r.stdout)
        return int(line[0].split(": ")[1].split()[0])

    def test_submission_starts_delivery_to_the_relay(self):
        """A plain submission (no -q, no -odq) reaches the relay by itself."""
        r = subprocess.run([POSTERN, "-C", self.conf, "-i", "friend@example.net"],
                           input=b"Subject: kick\n\nhello\n", capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(lambda: len(self.relay.messages) == 1, "the relay to receive the message")
        m = self.relay.messages[0]
        self.assertEqual(m.rcpt_tos, ["friend@example.net"])
        self.assertIn(b"Subject: kick", m.data)
        wait_for(self.queue_empty, "the queue to empty")

    def test_bsd_mailx_to_root_lands_in_the_mailbox(self):
        if not os.access(MAILX, os.X_OK):
            self.fail("bsd-mailx not unpacked: run bash scripts/deps.sh")
        # bsd-mailx takes the MTA's path from its "sendmail" variable.
        rc = os.path.join(self.dir, "mailrc")
        with open(rc, "w") as f:
            f.write(f"set sendmail={self.sendmail}\n")
        r = subprocess.run([MAILX, "-s", "disk full", USER], input=b"/ is 100% full\n",
                           env=dict(self.env, MAILRC=rc), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(lambda: len(self.mbox_messages(USER)) == 1, "the mailbox to get the message")
        msg = self.mbox_messages(USER)[0]
        self.assertEqual(msg["Subject"], "disk full")
        self.assertIn("/ is 100% full", msg.get_payload())
        self.assertEqual(self.mailx_count(os.path.join(self.mail, USER)), 1)
        self.assertEqual(len(self.relay.messages), 0)

    def test_s_nail_with_root_aliased_off_the_box_goes_to_the_relay(self):
        """/etc/aliases "root: admin@example.com" gets root's mail off the box."""
        self.write_aliases(f"postmaster: root\n{USER}: admin@example.com\n")
        r = subprocess.run([SNAIL, "-:/", "-Smta=" + self.sendmail, "-s", "cron output",
                            USER], input=b"job done\n", env=self.env, capture_output=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(lambda: len(self.relay.messages) == 1, "the relay to receive the message")
        m = self.relay.messages[0]
        self.assertEqual(m.rcpt_tos, ["admin@example.com"])
        self.assertIn(b"Subject: cron output", m.data)
        self.assertIn(b"job done", m.data)
        self.assertEqual(self.mbox_messages(USER), [])

    def test_s_nail_reads_a_cron_mail_delivered_locally(self):
        cron = (b"From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@box> ls -a\n"
                b"MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
                b"Content-Transfer-Encoding: 8bit\n\n.\n..\nFrom the job\n")
        r = subprocess.run([POSTERN, "-C", self.conf, "-FCronDaemon", "-i", "-B8BITMIME",
                            "-oem", USER], input=cron, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(lambda: len(self.mbox_messages(USER)) == 1, "the mailbox to get the message")
        path = os.path.join(self.mail, USER)
        r = subprocess.run([SNAIL, "-:/", "-R", "-N", "-Y", "Print 1", "-Y", "x", "-f", path],
                           stdin=subprocess.DEVNULL, capture_output=True, env=self.env,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode(errors="replace")
        self.assertIn("Subject: Cron <root@box> ls -a", out)
        # The lone-dot line of the job's output survived (no -i misparse),
        # and the From line in the body was quoted once (mboxrd).
        body = out.split("\n\n", 1)[1]
        self.assertIn("\n.\n..\n>From the job", "\n" + body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
