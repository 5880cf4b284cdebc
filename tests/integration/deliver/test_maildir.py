# SPDX-License-Identifier: ISC
"""Maildir delivery, read back by s-nail (SPEC "Local delivery"); a
Maildir that does not exist yet is made by the recipient, never through
a symbolic link (issue 10)."""

import os
import pwd
import stat
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deliverlib import ME, DeliverTest  # noqa: E402


class Maildir(DeliverTest):
    def setUp(self):
        super().setUp()
        self.md = os.path.join(self.tmp, "md-%u")
        self.write_config(mailbox=self.md + "/")
        self.md = self.md.replace("%u", ME)

    def test_delivery_readable_by_snail(self):
        for i in range(3):
            data = ("Subject: md%d\r\n\r\nFrom line stays\r\nbody %d\r\n" % (i, i)).encode()
            self.assertExit(self.deliver(ME, data=data), 0)
        for sub in ("tmp", "new", "cur"):
            self.assertTrue(os.path.isdir(os.path.join(self.md, sub)))
        self.assertEqual(os.listdir(os.path.join(self.md, "tmp")), [])
        names = os.listdir(os.path.join(self.md, "new"))
        self.assertEqual(len(names), 3)
        for n in names:
            self.assertNotIn(":", n)
            with open(os.path.join(self.md, "new", n), "rb") as f:
                raw = f.read()
            self.assertNotIn(b"\r", raw)
            self.assertTrue(raw.startswith(b"Return-Path: <sender@example.com>\nDelivered-To: "))
            self.assertIn(b"\n\nFrom line stays\n", raw)  # no quoting in Maildir
        self.assertEqual(self.snail_count("maildir://" + self.md), 3)
        out = self.snail("maildir://" + self.md, "Print 1")
        self.assertIn("From line stays", out)

    def test_maildir_prefix_in_config(self):
        self.write_config(mailbox="maildir:" + os.path.join(self.tmp, "box"))
        self.assertExit(self.deliver(ME), 0)
        self.assertEqual(len(os.listdir(os.path.join(self.tmp, "box", "new"))), 1)


class MissingMaildir(DeliverTest):
    """mailbox = maildir:%h/Maildir for a user whose home exists but who
    never had mail. As root the recipient is nobody, with a temporary
    home (DeliverTest.give_home)."""

    def setUp(self):
        super().setUp()
        self.user = "nobody"
        self.pw = pwd.getpwnam(self.user)
        os.chmod(self.tmp, 0o755)
        self.home = os.path.join(self.tmp, "home")
        os.mkdir(self.home, 0o755)
        self.elsewhere = os.path.join(self.tmp, "elsewhere")
        os.mkdir(self.elsewhere, 0o777)
        if os.getuid() == 0:
            # Both the user's: only the refusal to follow a link can stop
            # a directory from being made through one.
            os.chown(self.home, self.pw.pw_uid, self.pw.pw_gid)
            os.chown(self.elsewhere, self.pw.pw_uid, self.pw.pw_gid)
        self.give_home(self.user, self.home)

    def assertMadeByUser(self, path):
        st = os.lstat(path)
        self.assertTrue(stat.S_ISDIR(st.st_mode), path)
        self.assertEqual(st.st_uid, self.pw.pw_uid, path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700, path)

    def test_maildir_is_made_and_read_by_snail(self):
        self.write_config(mailbox="maildir:%h/Maildir")
        r = self.deliver(self.user, data=b"Subject: first\r\n\r\nwelcome\r\n")
        self.assertExit(r, 0)
        md = os.path.join(self.home, "Maildir")
        for sub in ("", "tmp", "new", "cur"):
            self.assertMadeByUser(os.path.join(md, sub))
        self.assertEqual(len(os.listdir(os.path.join(md, "new"))), 1)
        self.assertEqual(os.listdir(os.path.join(md, "tmp")), [])
        self.assertEqual(self.snail_count("maildir://" + md), 1)
        self.assertIn("welcome", self.snail("maildir://" + md, "Print 1"))

    def test_nested_missing_directories_are_made(self):
        self.write_config(mailbox="maildir:%h/Mail/Inbox/")
        self.assertExit(self.deliver(self.user), 0)
        self.assertMadeByUser(os.path.join(self.home, "Mail"))
        md = os.path.join(self.home, "Mail", "Inbox")
        self.assertMadeByUser(md)
        self.assertEqual(self.snail_count("maildir://" + md), 1)

    def test_missing_home_is_not_created(self):
        gone = os.path.join(self.tmp, "gone")
        self.give_home(self.user, gone)
        self.write_config(mailbox="maildir:%h/Maildir")
        r = self.deliver(self.user)
        self.assertExit(r, 75)
        self.assertIn(("home directory %s does not exist" % gone).encode(), r.stderr)
        self.assertFalse(os.path.exists(gone))

    def test_symlink_on_the_way_is_not_followed(self):
        # ~/Mail points elsewhere; ~/Mail/Maildir would be made through it.
        os.symlink(self.elsewhere, os.path.join(self.home, "Mail"))
        self.write_config(mailbox="maildir:%h/Mail/Maildir")
        r = self.deliver(self.user)
        self.assertExit(r, 75)
        self.assertIn(b"symbolic link", r.stderr)
        self.assertEqual(os.listdir(self.elsewhere), [])

    def test_dangling_symlink_at_the_maildir_is_not_followed(self):
        target = os.path.join(self.elsewhere, "made-through-link")
        os.symlink(target, os.path.join(self.home, "Maildir"))
        self.write_config(mailbox="maildir:%h/Maildir")
        r = self.deliver(self.user)
        self.assertExit(r, 75)
        self.assertIn(b"symbolic link", r.stderr)
        self.assertFalse(os.path.lexists(target))
        self.assertEqual(os.listdir(self.elsewhere), [])


class MissingParents(DeliverTest):
    """Without %h (and without root): missing directories below the
    deepest existing one are made too."""

    def test_missing_parents_of_a_maildir(self):
        md = os.path.join(self.tmp, "a", "b", "Maildir")
        self.write_config(mailbox="maildir:" + md)
        self.assertExit(self.deliver(ME), 0)
        for d in (os.path.join(self.tmp, "a"), os.path.join(self.tmp, "a", "b"), md):
            self.assertEqual(stat.S_IMODE(os.lstat(d).st_mode), 0o700, d)
        self.assertEqual(self.snail_count("maildir://" + md), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
