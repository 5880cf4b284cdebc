# SPDX-License-Identifier: ISC
"""SPEC: postern-deliver must never leave a half-written message in a
mailbox. A write error is rolled back at once; a delivery killed in the
middle of its append (SIGKILL, OOM killer) cannot roll back, so it leaves
its dot lock with its pid and where its message starts. Whoever takes
the lock next cuts the partial message off: the root parent that saw its
delivery child killed (it repairs before it reports the failure), or, when
the whole unprivileged process was killed, the next delivery. Checked by killing postern-deliver at several of its write calls
(crashshim.c) and reading the mailbox back with Python's mailbox module
and bsd-mailx."""

import mailbox
import os
import shutil
import subprocess
import tempfile
import unittest

import robustlib as rl

MAILX = os.path.join(os.environ.get("POSTERN_SOURCE", ""), "build-peers", "usr", "bin",
                     "bsd-mailx")


class TornMailbox(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-torn-")
        self.shim = rl.build_shim(self.dir)
        os.makedirs(os.path.join(self.dir, "mail"))
        self.conf = os.path.join(self.dir, "postern.conf")
        with open(self.conf, "w") as f:
            f.write(f"[local]\nmailbox = {self.dir}/mail/%u\nlock_timeout = 5s\n"
                    f"[queue]\ndir = {self.dir}/spool\n")
        self.box = os.path.join(self.dir, "mail", rl.ME)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def deliver(self, subject, body, kill_at=None):
        env = None
        if kill_at is not None:
            once = os.path.join(self.dir, "killed-%d" % kill_at)
            env = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": self.shim,
                   "POSTERN_CRASH_PROG": "postern-deliver", "POSTERN_CRASH_AT": str(kill_at),
                   "POSTERN_CRASH_ONCE": once,
                   # In the sanitizer build the shim comes before ASan's
                   # runtime in the library list; tell ASan that is fine.
                   "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
                   ":verify_asan_link_order=0",
                   "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
        # A regular file on stdin is read in place (no copy, so no write
        # calls before the mailbox's): the k-th counted call is an append.
        path = os.path.join(self.dir, "msg")
        with open(path, "wb") as f:
            f.write(b"Subject: " + subject + b"\n\n" + body)
        with open(path, "rb") as f:
            return subprocess.run([rl.DELIVER, "-C", self.conf, "-f", "a@example.org", rl.ME],
                                  stdin=f, capture_output=True, env=env, timeout=60)

    def subjects(self):
        box = mailbox.mbox(self.box)
        try:
            return [m["Subject"] for m in box]
        finally:
            box.close()

    def test_killed_append_is_cut_off(self):
        """Killed at each of its first 40 counted calls (pid into the dot
        lock, the message's start noted in it, then the appends and the
        fsync): the mailbox never keeps a partial message."""
        big = b"".join(b"line %d of a long cron report\n" % i for i in range(60000))
        repaired = 0
        for k in range(1, 41):
            with self.subTest(kill_at=k):
                if os.path.exists(self.box):
                    os.unlink(self.box)
                self.assertEqual(self.deliver(b"first", b"hello\n").returncode, 0)
                killed = self.deliver(b"big", big, kill_at=k)
                if killed.returncode == 0:
                    continue  # k is past the last counted call
                if os.geteuid() == 0:
                    # The parent saw its child killed and repaired at once.
                    self.assertEqual(self.subjects(), ["first"], killed.stderr)
                    cut = b"removed the partial message" in killed.stderr
                    r = self.deliver(b"after", b"third\n")
                else:
                    r = self.deliver(b"after", b"third\n")
                    cut = b"removed the partial message" in r.stderr
                repaired += cut
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(self.subjects(), ["first", "after"])
                if os.access(MAILX, os.X_OK):
                    out = subprocess.run([MAILX, "-f", self.box], input=b"x\n",
                                         capture_output=True, timeout=60,
                                         env={"HOME": self.dir, "MAILRC": "/dev/null",
                                              "PATH": "/usr/bin:/bin"}).stdout
                    self.assertIn(b": 2 messages", out)
        # The kills did land inside appends, and those were cut off.
        self.assertGreater(repaired, 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)
