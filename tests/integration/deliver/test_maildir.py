# SPDX-License-Identifier: ISC
"""Maildir delivery, read back by s-nail (SPEC "Local delivery")."""

import os
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
