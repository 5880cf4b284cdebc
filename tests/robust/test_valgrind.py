# SPDX-License-Identifier: ISC
"""The three programs under valgrind (memcheck) on the main path: the
front end submits (plain and -t with a quoted-printable re-encoding), the
runner sends over STARTTLS + AUTH to a real relay and hands a local
recipient to postern-deliver (traced too). Any memcheck error or
definitely lost block fails the test (the ASan build covers the rest of
the suite)."""

import glob
import os
import shutil
import subprocess
import tempfile
import unittest

import pki as pki_mod
from relay import Relay

BUILD = os.environ["POSTERN_BUILD"]
VALGRIND = shutil.which("valgrind")
VG = [VALGRIND or "valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
      "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite", "--trace-children=yes",
      "--child-silent-after-fork=yes"]


@unittest.skipUnless(VALGRIND, "valgrind missing: run bash scripts/deps.sh")
class Valgrind(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-vg-")
        self.pki = pki_mod.make_pki(os.path.join(self.dir, "pki"))
        os.makedirs(os.path.join(self.dir, "mail"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_vg(self, args, stdin=b""):
        logs = os.path.join(self.dir, "vg.%p.log")
        r = subprocess.run(VG + ["--log-file=" + logs] + args, input=stdin,
                           capture_output=True, timeout=600)
        reports = ""
        for p in glob.glob(os.path.join(self.dir, "vg.*.log")):
            with open(p) as f:
                reports += f.read()
            os.unlink(p)
        self.assertNotEqual(r.returncode, 99, "memcheck errors:\n" + reports[:6000])
        self.assertEqual(reports.strip(), "", reports[:6000])
        return r

    def test_submit_send_deliver_clean(self):
        user = __import__("pwd").getpwuid(os.getuid()).pw_name
        secret = os.path.join(self.dir, "secret")
        with open(secret, "w") as f:
            f.write("pw\n")
        os.chmod(secret, 0o600)
        with Relay(tls="starttls", cert=self.pki.server, users={"u": "pw"}) as relay:
            conf = os.path.join(self.dir, "postern.conf")
            with open(conf, "w") as f:
                f.write(f"[relay]\nhost = 127.0.0.1\nport = {relay.port}\nca_file = {self.pki.ca}\n"
                        f"user = u\npassword_file = {secret}\ntimeout = 30s\n"
                        f"[sender]\ndomain = example.org\n"
                        f"[local]\nmailbox = {self.dir}/mail/%u\naliases = {self.dir}/none\n"
                        f"[queue]\ndir = {self.dir}/spool\n")
            r = self.run_vg([os.path.join(BUILD, "postern"), "-C", conf, "-odq", "-i",
                             "friend@example.net", user],
                            b"Subject: plain\n\nhello\n.\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = self.run_vg([os.path.join(BUILD, "postern"), "-C", conf, "-odq", "-t"],
                            b"To: friend@example.net\nBcc: other@example.net\nSubject: 8bit\n\n"
                            b"caf\xc3\xa9 " + b"x" * 1200 + b"\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = self.run_vg([os.path.join(BUILD, "postern-send"), "-C", conf, "--flush"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(relay.messages), 2)
        with open(os.path.join(self.dir, "mail", user), "rb") as f:
            self.assertIn(b"Subject: plain", f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
