# SPDX-License-Identifier: ISC
"""Locking as Debian's readers expect: a held dotlock or fcntl lock is
waited for, then the delivery goes through or defers with 75 after
lock_timeout (notes/reliability.md 3.2, test 49)."""

import fcntl
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deliverlib import ME, DeliverTest, is_waiting, read_mbox, sha256, wait_for  # noqa: E402


class Locks(DeliverTest):
    def setUp(self):
        super().setUp()
        self.assertExit(self.deliver(ME), 0)  # the mailbox exists
        self.before = sha256(self.mbox())
        self.lock = self.mbox() + ".lock"

    def hold_dotlock(self, pid):
        with open(self.lock, "w") as f:
            f.write("%d\n" % pid)

    def test_held_dotlock_is_waited_for(self):
        self.hold_dotlock(os.getpid())
        p = self.start(ME)
        wait_for(lambda: is_waiting(p.pid), what="the lock wait", proc=p)
        # Still waiting, nothing written yet.
        self.assertIsNone(p.poll())
        self.assertEqual(sha256(self.mbox()), self.before)
        os.unlink(self.lock)
        p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(len(read_mbox(self.mbox())), 2)
        self.assertFalse(os.path.exists(self.lock))

    def test_held_dotlock_times_out_with_75(self):
        self.hold_dotlock(os.getpid())
        start = time.monotonic()
        r = self.deliver(ME)
        self.assertExit(r, 75)
        self.assertIn(b"locked", r.stderr)
        self.assertGreaterEqual(time.monotonic() - start, 2.5)
        self.assertEqual(sha256(self.mbox()), self.before)
        # The foreign lock is left in place.
        with open(self.lock) as f:
            self.assertEqual(f.read(), "%d\n" % os.getpid())

    def test_stale_dotlock_of_a_dead_process_is_broken(self):
        dead = subprocess.Popen(["/bin/true"])
        dead.wait()
        self.hold_dotlock(dead.pid)
        r = self.deliver(ME)
        self.assertExit(r, 0)
        self.assertIn(b"stale lock", r.stderr)
        self.assertEqual(len(read_mbox(self.mbox())), 2)
        self.assertFalse(os.path.exists(self.lock))

    def test_old_dotlock_without_pid_is_broken(self):
        self.hold_dotlock(0)
        old = time.time() - 400
        os.utime(self.lock, (old, old))
        self.assertExit(self.deliver(ME), 0)
        self.assertEqual(len(read_mbox(self.mbox())), 2)

    def test_held_fcntl_lock_is_waited_for(self):
        with open(self.mbox(), "r+") as f:
            fcntl.lockf(f, fcntl.LOCK_EX)
            p = self.start(ME)
            wait_for(lambda: is_waiting(p.pid), what="the lock wait", proc=p)
            self.assertIsNone(p.poll())
            self.assertEqual(sha256(self.mbox()), self.before)
            fcntl.lockf(f, fcntl.LOCK_UN)
            p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(len(read_mbox(self.mbox())), 2)

    def test_held_fcntl_lock_times_out_with_75(self):
        with open(self.mbox(), "r+") as f:
            fcntl.lockf(f, fcntl.LOCK_EX)
            r = self.deliver(ME)
        self.assertExit(r, 75)
        self.assertIn(b"locked", r.stderr)
        self.assertEqual(sha256(self.mbox()), self.before)
        self.assertFalse(os.path.exists(self.lock))


if __name__ == "__main__":
    unittest.main(verbosity=2)
