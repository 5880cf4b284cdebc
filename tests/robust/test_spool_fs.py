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

from relay import Relay, free_port

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


@unittest.skipUnless(can_mount(), "needs root and tmpfs mounts")
class FullSpoolStrandsNothing(unittest.TestCase):
    """Issue 10 part 1: a spool that fills while the relay is down; every
    message accepted with exit 0 is delivered exactly once when the relay
    comes back, with no human step, and failed/ stays empty."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-full-")
        self.spool = os.path.join(self.dir, "spool")
        os.makedirs(self.spool)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", self.spool], check=True)
        self.port = free_port()
        self.relay = None

    def tearDown(self):
        if self.relay:
            self.relay.stop()
        subprocess.run(["umount", "-l", self.spool], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_conf(self, queue_extra=""):
        self.conf = os.path.join(self.dir, "postern.conf")
        with open(self.conf, "w") as f:
            f.write(f"[relay]\nhost = 127.0.0.1\nport = {self.port}\ntls = none\n"
                    f"auth = none\ntimeout = 5s\n[local]\naliases = {self.dir}/none\n"
                    f"mailbox = {self.dir}/mail/%u\n[queue]\ndir = {self.spool}\n"
                    f"min_backoff = 1s\n{queue_extra}")

    def fill(self, rcpts, odi, lines):
        """Submits numbered messages until the front end refuses one."""
        accepted = []
        for n in range(1000):
            body = (f"Subject: fill {n}\nMessage-ID: <fill-{n}@test>\n\n".encode() +
                    (b"x" * 60 + b"\n") * lines)
            args = [POSTERN, "-C", self.conf, "-odi" if odi else "-odq", "-i", *rcpts]
            r = subprocess.run(args, input=body, capture_output=True, timeout=60)
            if r.returncode != 0:
                self.assertEqual(r.returncode, 75, r.stderr)
                self.assertIn(self.spool.encode(), r.stderr)
                return accepted, r.stderr.decode()
            accepted.append(f"<fill-{n}@test>")
        self.fail("the 1 MiB spool never filled")

    def files(self, sub):
        d = os.path.join(self.spool, sub)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def delivered_ids(self, rcpt=None):
        out = []
        for m in self.relay.messages:
            if rcpt and rcpt not in m.rcpt_tos:
                continue
            for line in m.data.split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    out.append(line.split(b":", 1)[1].strip().decode())
        return sorted(out)

    def test_relay_down_while_the_spool_fills(self):
        self.write_conf()
        # Each submission is attempted at once (-odi) against a relay that
        # is not there, so the runner defers it while the spool fills.
        # Small messages: on tmpfs each file takes a page, so the last
        # submission can take the page the runner's state record needed.
        accepted, why = self.fill(["friend@example.net"], odi=True, lines=5)
        self.assertGreater(len(accepted), 3)
        self.relay = Relay(tls=None, port=self.port)
        self.relay.start()
        r = subprocess.run([SEND, "-C", self.conf, "--flush"], capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.delivered_ids(), sorted(accepted), r.stderr.decode())
        self.assertEqual(self.files("failed"), [])
        self.assertEqual(self.files("queue"), [])
        self.assertEqual(self.files("incoming"), [])
        self.assertIn("min_free", why)   # refused before the runner's reserve

    def test_partly_sent_state_is_saved_from_the_reserve(self):
        # One recipient is taken, the other greylisted: that state must be
        # recorded even though submissions have filled the spool, or the
        # first recipient would get the message again.
        self.write_conf("min_free = 256k\n")
        self.relay = Relay(tls=None, port=self.port)
        self.relay.start()
        self.relay.faults["rcpt"] = {"b@example.net": "451 4.7.1 greylisted"}
        accepted, _ = self.fill(["a@example.net", "b@example.net"], odi=False, lines=300)
        r = subprocess.run([SEND, "-C", self.conf, "--flush"], capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(b"not saved", r.stderr)
        self.assertEqual(len(self.files("queue")), 2 * len(accepted))  # ID.msg + ID.env
        self.relay.faults.clear()
        r = subprocess.run([SEND, "-C", self.conf, "--flush"], capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.delivered_ids("a@example.net"), sorted(accepted))
        self.assertEqual(self.delivered_ids("b@example.net"), sorted(accepted))
        self.assertEqual(len(self.relay.messages), 2 * len(accepted))
        self.assertEqual(self.files("failed"), [])
        self.assertEqual(self.files("queue"), [])

    def test_no_room_for_state_waits_instead_of_sending_twice(self):
        # With the reserve turned off the spool can fill to the last
        # block: a message with two recipients is then not attempted at
        # all (it could not record that one was served), and once there
        # is room again each recipient gets it exactly once.
        self.write_conf("min_free = 0\n")
        self.relay = Relay(tls=None, port=self.port)
        self.relay.start()
        self.relay.faults["rcpt"] = {"b@example.net": "451 4.7.1 greylisted"}
        room = os.path.join(self.spool, "room")          # given back later
        with open(room, "wb") as f:
            f.write(b"r" * 256 * 1024)
        accepted, _ = self.fill(["a@example.net", "b@example.net"], odi=False, lines=5)
        ballast = os.path.join(self.spool, "ballast")
        fd = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o600)   # the last free blocks
        try:
            while True:
                os.write(fd, b"x" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        r = subprocess.run([SEND, "-C", self.conf, "--flush"], capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.relay.messages, [], r.stderr)
        self.assertIn(b"not attempted until its state can be saved", r.stderr)
        os.unlink(ballast)
        os.unlink(room)
        logs = []
        for _ in range(2):
            r = subprocess.run([SEND, "-C", self.conf, "--flush"], capture_output=True,
                               timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            logs.append(r.stderr.decode()[-3000:])
            self.relay.faults.clear()
        self.assertEqual(self.delivered_ids("a@example.net"), sorted(accepted), logs)
        self.assertEqual(self.delivered_ids("b@example.net"), sorted(accepted))
        # Some may have gone to both in one transaction once space was back.
        self.assertEqual(sum(len(m.rcpt_tos) for m in self.relay.messages), 2 * len(accepted))
        self.assertEqual(self.files("failed"), [])
        self.assertEqual(self.files("queue"), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
