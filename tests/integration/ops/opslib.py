# SPDX-License-Identifier: ISC
"""Shared fixture for the operations tests: a temporary directory with a
config whose spool lives inside it, the built binaries, and free ports."""
import os
import shutil
import subprocess
import tempfile
import unittest

from relay import free_port  # noqa: F401  (re-exported for the ops tests)

BUILD = os.environ.get("POSTERN_BUILD", os.path.join(os.path.dirname(__file__), "../../../build"))
SOURCE = os.environ.get("POSTERN_SOURCE", os.path.join(os.path.dirname(__file__), "../../.."))
POSTERN = os.path.join(BUILD, "postern")


class OpsCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-ops-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.spool = os.path.join(self.tmp, "spool")
        os.makedirs(self.spool)
        self.conf = os.path.join(self.tmp, "postern.conf")
        self.write_conf()

    def write_conf(self, relay=""):
        with open(self.conf, "w") as f:
            f.write(f"{relay}[sender]\ndomain = example.org\n"
                    f"[local]\nmailbox = {self.tmp}/mail/%u\naliases = {self.tmp}/aliases\n"
                    f"[queue]\ndir = {self.spool}\n")

    def postern(self, *args, stdin=b"", **kw):
        return subprocess.run([POSTERN, "-C", self.conf, *args], input=stdin,
                              capture_output=True, timeout=120, **kw)

    def submit(self, rcpt="someone@example.com"):
        r = self.postern("-odq", "-i", rcpt, stdin=b"Subject: ops\n\nbody\n")
        self.assertEqual(r.returncode, 0, r.stderr)
