# SPDX-License-Identifier: ISC
"""Shared parts of the interoperability tests: one real relay per test
class (mta.Postfix, mta.Exim), a fresh postern spool and config per test
(sendtest.SendCase), and the reply texts of tests/interop/replies.md.

Run a test file directly (python3 test_postfix.py) or through meson
(suite 'interop'); main() exits 77 (meson's skip) when the server cannot
be had on this machine (not root, packages not downloadable)."""

import email
import email.policy
import os
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "send"))

import mta  # noqa: E402
from sendtest import POSTERN, SEND, SendCase, pki  # noqa: E402

BUILD = os.path.dirname(POSTERN)
DELIVER = os.path.join(BUILD, "postern-deliver")
USER, PW = "alerts@example.test", "interop-Pw-1"
REPLIES = os.path.join(HERE, "replies.md")


def replies():
    """{(server, case): reply} from the table in replies.md."""
    out = {}
    with open(REPLIES) as f:
        for line in f:
            m = re.match(r"^\| *(\w+) *\| *([\w-]+) *\|[^|]*\| *`(.*)` *\|", line)
            if m:
                out[(m.group(1), m.group(2))] = m.group(3)
    return out


def wait_for(pred, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # poll interval


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.compat32)


class RelayCase(SendCase):
    """A test class with one real relay (cls.server_class) for all its tests."""

    server_class = None
    server_extra = None
    server = None

    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.sdir = tempfile.mkdtemp(prefix=f"postern-interop-{cls.server_class.name}-")
        os.chmod(cls.sdir, 0o755)
        try:
            cls.server = cls.server_class(cls.sdir, pki(), {USER: PW}, cls.extra_config())
        except mta.Unavailable as e:
            raise unittest.SkipTest(str(e))
        cls.server.start()

    @classmethod
    def extra_config(cls):
        return cls.server_extra

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.stop()
        import shutil
        if not os.environ.get("POSTERN_INTEROP_KEEP"):
            shutil.rmtree(cls.sdir, ignore_errors=True)

    def setUp(self):
        super().setUp()
        os.chmod(self.dir, 0o755)
        self.token = f"{self.id().rsplit('.', 1)[-1]}-{os.getpid()}-{time.monotonic_ns()}"

    def relay_conf(self, password=PW, relay_extra="", other="", sender="", auth=True):
        creds = (f"user = {USER}\npassword_file = {self.secret_file(password)}\n"
                 if auth else "auth = none\n")
        with open(self.conf, "w") as f:
            f.write(f"[relay]\nhost = 127.0.0.1\nport = {self.server.port}\ntimeout = 20s\n"
                    f"ca_file = {pki().ca}\n{creds}{relay_extra}\n"
                    f"[sender]\nfrom = {sender or USER}\ndomain = example.org\n"
                    f"[local]\naliases = {self.aliases}\nmailbox = {self.dir}/mail/%u\n"
                    f"[queue]\ndir = {self.spool}\nmin_backoff = 60\n{other}")

    def postern(self, args, body, check=True):
        r = subprocess.run([POSTERN, "-C", self.conf, "-odq", *args], input=body,
                           capture_output=True)
        if check:
            self.assertEqual(r.returncode, 0, r.stderr.decode())
        return r

    def relayed(self, box="sink", n=1, timeout=30):
        """Messages with this test's token in the relay's mailbox (waits for n)."""
        tok = self.token.encode()
        return wait_for(lambda: (lambda ms: ms if len(ms) >= n else None)(
            [m for m in self.server.mailbox(box) if tok in m]), timeout,
            f"{n} message(s) with {self.token} in {box}")

    def local_box(self, user="root"):
        p = os.path.join(self.dir, "mail", user)
        if not os.path.exists(p):
            return b""
        with open(p, "rb") as f:
            return f.read()

    def mailq(self):
        r = subprocess.run([POSTERN, "-C", self.conf, "-bp"], capture_output=True)
        return r.stdout.decode(errors="replace")

    def only_rcpt_reply(self):
        q = self.queued()
        self.assertEqual(len(q), 1, q)
        (env,) = q.values()
        return env


def main():
    """unittest.main, but exit 77 when every test was skipped."""
    prog = unittest.main(exit=False)
    r = prog.result
    if r.skipped and len(r.skipped) >= r.testsRun and r.wasSuccessful():
        print("all skipped:", r.skipped[0][1], file=sys.stderr)
        sys.exit(77)
    sys.exit(0 if r.wasSuccessful() else 1)
