# SPDX-License-Identifier: ISC
"""Unsafe mailboxes are refused and nothing is written anywhere
(notes/reliability.md 2.4, tests 53, 54)."""

import os
import pwd
import stat
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deliverlib import ME, DeliverTest, read_mbox, sha256  # noqa: E402


class UnsafeMailbox(DeliverTest):
    def setUp(self):
        super().setUp()
        self.victim = os.path.join(self.tmp, "victim")
        with open(self.victim, "w") as f:
            f.write("precious\n")
        os.chmod(self.victim, 0o600)
        self.victim_hash = sha256(self.victim)

    def listing(self):
        return sorted(os.listdir(self.maildir)), sorted(os.listdir(self.tmp))

    def check_refused(self, why):
        before = self.listing()
        r = self.deliver(ME)
        self.assertExit(r, 75)
        self.assertIn(why.encode(), r.stderr)
        self.assertEqual(sha256(self.victim), self.victim_hash)
        st = os.stat(self.victim)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        # Nothing created (no lock, no temporary file) anywhere.
        self.assertEqual(self.listing(), before)

    def test_symlink(self):
        os.symlink(self.victim, self.mbox())
        self.check_refused("symbolic link")

    def test_dangling_symlink_creates_nothing(self):
        target = os.path.join(self.tmp, "created-through-link")
        os.symlink(target, self.mbox())
        self.check_refused("symbolic link")
        self.assertFalse(os.path.exists(target))

    def test_hard_link(self):
        os.link(self.victim, self.mbox())
        self.check_refused("hard links")

    def test_fifo_does_not_hang(self):
        os.mkfifo(self.mbox())
        self.check_refused("FIFO")

    def test_directory(self):
        os.mkdir(self.mbox())
        self.check_refused("directory")

    @unittest.skipUnless(os.getuid() == 0, "needs root to chown")
    def test_foreign_owner(self):
        with open(self.mbox(), "w") as f:
            f.write("")
        nobody = pwd.getpwnam("nobody")
        os.chown(self.mbox(), nobody.pw_uid, nobody.pw_gid)
        self.check_refused("owned by uid %d" % nobody.pw_uid)
        self.assertEqual(os.path.getsize(self.mbox()), 0)


@unittest.skipUnless(os.getuid() == 0, "root only: mailbox creation for other users")
class RootCreation(DeliverTest):
    def test_created_mailbox_belongs_to_the_user(self):
        self.assertExit(self.deliver(ME), 0)
        st = os.stat(self.mbox())
        self.assertEqual(st.st_uid, os.getuid())
        try:
            import grp
            mail = grp.getgrnam("mail").gr_gid
            self.assertEqual(st.st_gid, mail)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        except KeyError:
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)

    def test_delivery_to_another_user_writes_as_that_user(self):
        # /var/mail-like directory: sticky and world-writable so the
        # dotlock can be made by the user after root is dropped.
        os.chmod(self.maildir, 0o1777)
        os.chmod(self.tmp, 0o755)
        user = pwd.getpwnam("daemon")
        r = self.deliver("daemon")
        self.assertExit(r, 0)
        box = self.mbox("daemon")
        st = os.stat(box)
        self.assertEqual(st.st_uid, user.pw_uid)
        self.assertIn(stat.S_IMODE(st.st_mode), (0o660, 0o600))
        self.assertEqual(len(read_mbox(box)), 1)
        self.assertFalse(os.path.exists(box + ".lock"))
        # A second delivery appends as that user.
        self.assertExit(self.deliver("daemon"), 0)
        self.assertEqual(len(read_mbox(box)), 2)

    def test_world_writable_directory_without_sticky_bit_is_refused(self):
        os.chmod(self.maildir, 0o777)
        r = self.deliver(ME)
        self.assertExit(r, 75)
        self.assertIn(b"sticky", r.stderr)
        self.assertEqual(os.listdir(self.maildir), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
