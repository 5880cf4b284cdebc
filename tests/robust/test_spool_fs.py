# SPDX-License-Identifier: ISC
"""The spool on a real file system that fills up or turns read-only
under a running queue (a small tmpfs, remounted read-only), as root only:
submission fails with 75 naming the path and leaves nothing behind; the
runner logs why, keeps every message, and once the file system is back
delivers each exactly once."""

import os
import shutil
import subprocess
import tempfile
import unittest

from relay import Relay

BUILD = os.environ["POSTERN_BUILD"]
POSTERN = os.path.join(BUILD, "postern")
SEND = os.path.join(BUILD, "postern-send")


def can_mount():
    if os.geteuid() != 0:
        return False
    d = tempfile.mkdtemp(prefix="postern-mnt-probe-")
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", d],
                            capture_output=True).returncode == 0
        if ok:
            subprocess.run(["umount", d], capture_output=True)
        return ok
    finally:
        os.rmdir(d)


@unittest.skipUnless(can_mount(), "needs root and tmpfs mounts")
class SpoolFileSystem(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-fs-")
        self.spool = os.path.join(self.dir, "spool")
        os.makedirs(self.spool)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", self.spool], check=True)
        self.relay = Relay(tls=None)
        self.relay.start()
        self.conf = os.path.join(self.dir, "postern.conf")
        with open(self.conf, "w") as f:
            f.write(f"[relay]\nhost = 127.0.0.1\nport = {self.relay.port}\ntls = none\n"
                    f"auth = none\ntimeout = 5s\n[local]\naliases = {self.dir}/none\n"
                    f"mailbox = {self.dir}/mail/%u\n[queue]\ndir = {self.spool}\n")

    def tearDown(self):
        self.relay.stop()
        subprocess.run(["umount", "-l", self.spool], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def submit(self, body):
        return subprocess.run([POSTERN, "-C", self.conf, "-odq", "-i", "friend@example.net"],
                              input=body, capture_output=True, timeout=60)

    def files(self, sub):
        d = os.path.join(self.spool, sub)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def test_full_then_read_only_then_back(self):
        # Fill the spool until a submission is refused.
        body = b"Subject: fill\n\n" + b"x" * 200000 + b"\n"
        accepted, refused = 0, None
        for _ in range(40):
            r = self.submit(body)
            if r.returncode != 0:
                refused = r
                break
            accepted += 1
        self.assertIsNotNone(refused, "the 2 MB spool never filled")
        self.assertEqual(refused.returncode, 75, refused.stderr)
        self.assertIn(self.spool.encode(), refused.stderr)
        self.assertEqual([n for n in self.files("incoming") if n.startswith(".")], [],
                         "a refused submission left its partial file")
        self.assertEqual(len(self.files("incoming")), accepted)

        # Read-only under the queue: nothing can be picked up or removed.
        subprocess.run(["mount", "-o", "remount,ro", self.spool], check=True)
        r = subprocess.run([SEND, "-C", self.conf, "--flush"], capture_output=True, timeout=120)
        self.assertNotIn(r.returncode, (-6, -11), r.stderr)  # no crash
        self.assertIn(b"Read-only file system", r.stderr)
        r = self.submit(b"Subject: ro\n\nx\n")
        self.assertEqual(r.returncode, 75, r.stderr)
        self.assertIn(b"Read-only file system", r.stderr)

        # Back: every accepted message is delivered exactly once.
        subprocess.run(["mount", "-o", "remount,rw", self.spool], check=True)
        for _ in range(3):
            r = subprocess.run([SEND, "-C", self.conf, "--flush"], capture_output=True,
                               timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            if not self.files("incoming") and not self.files("queue"):
                break
        self.assertEqual(self.files("queue"), [])
        self.assertEqual(len(self.relay.messages), accepted)


if __name__ == "__main__":
    unittest.main(verbosity=2)
