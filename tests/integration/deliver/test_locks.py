# SPDX-License-Identifier: ISC
"""Locking as Debian's readers expect: a held dotlock or fcntl lock is
waited for, then the delivery goes through or defers with 75 after
lock_timeout (notes/reliability.md 3.2, test 49). Where the recipient may
not create the dot lock at all (a 0755 root:root spool), the fcntl lock
alone is taken (issue 10)."""

import fcntl
import os
import pwd
import stat
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


class SpoolWithoutDotlocks(DeliverTest):
    """The mailbox directory is 0755 root:root (as root; the test's own
    directory made 0555 when unprivileged) and holds a mailbox the user
    owns, mode 0600: the user can append to it but never create
    USER.lock beside it."""

    def setUp(self):
        super().setUp()
        self.user = "nobody" if os.getuid() == 0 else ME
        pw = pwd.getpwnam(self.user)
        self.box = self.mbox(self.user)
        with open(self.box, "w"):
            pass
        os.chmod(self.box, 0o600)
        if os.getuid() == 0:
            os.chown(self.box, pw.pw_uid, pw.pw_gid)
            os.chown(self.maildir, 0, 0)
            os.chmod(self.maildir, 0o755)
            os.chmod(self.tmp, 0o755)  # like /var: the user may pass through
        else:
            os.chmod(self.maildir, 0o555)
            self.addCleanup(os.chmod, self.maildir, 0o755)
        self.lock = self.box + ".lock"
        self.victim = os.path.join(self.tmp, "victim")
        with open(self.victim, "w") as f:
            f.write("precious\n")

    def plant(self, make):
        """Puts something at USER.lock, which only root (or the owner of
        the directory) can."""
        os.chmod(self.maildir, 0o755)
        make()
        if os.getuid() != 0:
            os.chmod(self.maildir, 0o555)

    def test_delivered_under_the_fcntl_lock_alone(self):
        for i in range(2):
            r = self.deliver(self.user, data=("Subject: n%d\r\n\r\nbody %d\r\n"
                                              % (i, i)).encode())
            self.assertExit(r, 0)
            self.assertIn(b"under the fcntl lock alone", r.stderr)
        # Nothing left beside the mailbox: no lock, no temporary .lk file.
        self.assertEqual(os.listdir(self.maildir), [self.user])
        st = os.stat(self.box)
        self.assertEqual(st.st_uid, pwd.getpwnam(self.user).pw_uid)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(self.mailx_count(self.box), 2)
        self.assertEqual(self.snail_count(self.box), 2)
        self.assertEqual([m["Subject"] for m in read_mbox(self.box)], ["n0", "n1"])

    def test_held_fcntl_lock_is_waited_for_then_deferred(self):
        before = sha256(self.box)
        with open(self.box, "r+") as f:
            fcntl.lockf(f, fcntl.LOCK_EX)  # a POSIX lock, as bsd-mailx takes
            start = time.monotonic()
            p = self.start(self.user)
            wait_for(lambda: is_waiting(p.pid), what="the lock wait", proc=p)
            self.assertIsNone(p.poll())
            out, err = p.communicate(timeout=30)
            waited = time.monotonic() - start
        self.assertEqual(p.returncode, 75, err)
        self.assertIn(b"locked", err)
        self.assertGreaterEqual(waited, 2.5)  # lock_timeout = 3s
        self.assertEqual(sha256(self.box), before)
        # Free again: the next delivery goes through.
        self.assertExit(self.deliver(self.user), 0)
        self.assertEqual(self.mailx_count(self.box), 1)

    def test_held_dotlock_is_still_waited_for_then_deferred(self):
        def make():
            with open(self.lock, "w") as f:
                f.write("%d\n" % os.getpid())
        self.plant(make)
        r = self.deliver(self.user)
        self.assertExit(r, 75)
        self.assertIn(b"locked", r.stderr)
        self.assertEqual(os.path.getsize(self.box), 0)
        with open(self.lock) as f:
            self.assertEqual(f.read(), "%d\n" % os.getpid())

    def test_symlink_at_the_lock_name_is_not_followed(self):
        self.plant(lambda: os.symlink(self.victim, self.lock))
        r = self.deliver(self.user)
        self.assertExit(r, 75)
        self.assertIn(b"locked", r.stderr)
        self.assertEqual(os.path.getsize(self.box), 0)
        with open(self.victim) as f:
            self.assertEqual(f.read(), "precious\n")
        self.assertTrue(os.path.islink(self.lock))


if __name__ == "__main__":
    unittest.main(verbosity=2)
