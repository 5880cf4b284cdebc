# SPDX-License-Identifier: ISC
"""Shared fixture for the postern front end's integration tests.

Each test gets a temporary directory with a config whose spool and
mailboxes live inside it, and runs $POSTERN_BUILD/postern with -C.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ.get("POSTERN_BUILD", os.path.join(os.path.dirname(__file__), "../../../build"))
POSTERN = os.path.join(BUILD, "postern")


class SubmitTest(unittest.TestCase):
    extra_config = ""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-itest-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.spool = os.path.join(self.tmp, "spool")
        self.conf = self.write_config(self.extra_config)

    def write_config(self, extra="", name="postern.conf"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write("[queue]\ndir = %s\n[local]\nmailbox = %s/mail/%%u\naliases = %s/aliases\n"
                    "[sender]\ndomain = example.org\n%s" % (self.spool, self.tmp, self.tmp, extra))
        return path

    def run_postern(self, args, stdin=b"", argv0=None, conf=None, **kw):
        """Runs postern -C conf args (as argv0 if given); returns CompletedProcess."""
        cmd = [argv0 or POSTERN, "-C", conf or self.conf] + list(args)
        return subprocess.run(cmd, input=stdin, capture_output=True, timeout=120,
                              executable=POSTERN, **kw)

    def incoming(self):
        d = os.path.join(self.spool, "incoming")
        if not os.path.isdir(d):
            return []
        return sorted(os.listdir(d))

    def only_message(self):
        """The one committed drop file: (drop header dict, rcpts, message bytes)."""
        names = self.incoming()
        self.assertEqual(len(names), 1, names)
        self.assertFalse(names[0].startswith("."), names)
        with open(os.path.join(self.spool, "incoming", names[0]), "rb") as f:
            data = f.read()
        head, _, msg = data.partition(b"\n\n")
        fields, rcpts = {}, []
        for line in head.decode().split("\n")[1:]:
            k, _, v = line.partition(": ")
            if k == "rcpt":
                rcpts.append(v)
            else:
                fields[k] = v
        self.assertEqual(int(fields["size"]), len(msg))
        self.assertTrue(msg.endswith(b"\r\n"))
        # Canonical form: every LF is preceded by CR, no bare CR.
        self.assertEqual(msg.count(b"\n"), msg.count(b"\r\n"))
        self.assertEqual(msg.count(b"\r"), msg.count(b"\r\n"))
        return fields, rcpts, msg

    @staticmethod
    def split_message(msg):
        """(list of (name, raw field bytes), body bytes) of a CRLF message."""
        head, _, body = msg.partition(b"\r\n\r\n")
        fields = []
        for line in head.split(b"\r\n"):
            if line[:1] in (b" ", b"\t") and fields:
                fields[-1] = (fields[-1][0], fields[-1][1] + b"\r\n" + line)
            else:
                fields.append((line.split(b":", 1)[0].decode(), line))
        return fields, body

    def header_values(self, msg, name):
        fields, _ = self.split_message(msg)
        return [raw.split(b":", 1)[1].strip() for n, raw in fields if n.lower() == name.lower()]

    def assertFails(self, r, code, text):
        self.assertEqual(r.returncode, code, r.stderr)
        self.assertIn(text, r.stderr.decode(errors="replace"))
        self.assertEqual([n for n in self.incoming() if not n.startswith(".")], [])
