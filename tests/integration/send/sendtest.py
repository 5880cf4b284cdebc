# SPDX-License-Identifier: ISC
"""Shared helpers for the postern-send integration tests: a temporary
spool and config, submission through the real front end, running
postern-send, and reading the spool back."""

import atexit
import glob
import os
import shutil
import subprocess
import tempfile
import unittest

import pki as pki_mod

BUILD = os.environ.get("POSTERN_BUILD", os.path.join(os.path.dirname(__file__), "../../../build"))
POSTERN = os.path.join(BUILD, "postern")
SEND = os.path.join(BUILD, "postern-send")

_pki = None


def pki():
    """One throwaway PKI per test process."""
    global _pki
    if _pki is None:
        d = tempfile.mkdtemp(prefix="postern-pki-")
        atexit.register(shutil.rmtree, d, True)
        _pki = pki_mod.make_pki(d)
    return _pki


def parse_env(text):
    """queue/ID.env -> dict with 'rcpts': [{state, kind, address, reply}]."""
    env = {"rcpts": []}
    for line in text.splitlines()[1:]:
        if line == "end":
            break
        key, _, value = line.partition(": ")
        if key == "rcpt":
            state, kind, addr = value.split(" ", 2)
            env["rcpts"].append({"state": state, "kind": kind, "address": addr, "reply": ""})
        elif key in ("reply", "orig"):
            env["rcpts"][-1][key] = value
        else:
            env[key] = value
    return env


class SendCase(unittest.TestCase):
    """A test with its own spool and config; relay settings per test."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-send-")
        self.spool = os.path.join(self.dir, "spool")
        self.conf = os.path.join(self.dir, "postern.conf")
        os.makedirs(self.spool)
        os.makedirs(os.path.join(self.dir, "mail"))
        self.aliases = os.path.join(self.dir, "aliases")
        with open(self.aliases, "w") as f:
            f.write("")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_conf(self, port, relay_extra="", other=""):
        with open(self.conf, "w") as f:
            f.write(f"[relay]\nhost = 127.0.0.1\nport = {port}\ntimeout = 3s\n{relay_extra}\n"
                    f"[sender]\ndomain = example.org\n"
                    f"[local]\naliases = {self.aliases}\nmailbox = {self.dir}/mail/%u\n"
                    f"[queue]\ndir = {self.spool}\nmin_backoff = 60\n{other}")

    def secret_file(self, text, mode=0o600):
        p = os.path.join(self.dir, "secret")
        with open(p, "w") as f:
            f.write(text + "\n")
        os.chmod(p, mode)
        return p

    def submit(self, rcpts, body=b"Subject: test\n\nhello\n", sender=None):
        """Queues a message with the real front end (-odq: no delivery attempt)."""
        args = [POSTERN, "-C", self.conf, "-odq", "-i"]
        if sender is not None:
            args += ["-f", sender]
        r = subprocess.run(args + ["--"] + list(rcpts), input=body, capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr.decode())

    def submit_many(self, messages, sender):
        """Queues [(rcpts, body)] in one SMTP session with the real front
        end (postern -bs -odq): one process for all of them, which keeps
        large fills quick under the sanitizer build. Checks each was queued."""
        lines = [b"HELO test.example"]
        for rcpts, body in messages:
            lines.append(f"MAIL FROM:<{sender}>".encode())
            lines += [f"RCPT TO:<{r}>".encode() for r in rcpts]
            lines.append(b"DATA")
            lines += [b"." + l if l.startswith(b".") else l for l in body.splitlines()]
            lines.append(b".")
        lines.append(b"QUIT")
        r = subprocess.run([POSTERN, "-C", self.conf, "-odq", "-bs"],
                           input=b"\r\n".join(lines) + b"\r\n", capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stdout.count(b" Ok: queued as "), len(messages), r.stdout.decode()[-2000:])

    def run_send(self, *args, env=None, check=True):
        r = subprocess.run([SEND, "-C", self.conf, *args], capture_output=True, env=env,
                           timeout=120)
        out = r.stderr.decode(errors="replace")
        if check:
            self.assertEqual(r.returncode, 0, out)
        return r.returncode, out

    def queued(self):
        """{id: env dict} of queue/*.env."""
        out = {}
        for p in sorted(glob.glob(os.path.join(self.spool, "queue", "*.env"))):
            with open(p) as f:
                out[os.path.basename(p)[:-4]] = parse_env(f.read())
        return out

    def incoming(self):
        return sorted(os.path.basename(p) for p in glob.glob(os.path.join(self.spool, "incoming", "*")))

    def mailbox(self, user):
        """The bytes of a local user's mbox in this test's mail directory."""
        p = os.path.join(self.dir, "mail", user)
        if not os.path.exists(p):
            return b""
        with open(p, "rb") as f:
            return f.read()

    def failed(self):
        return sorted(os.listdir(os.path.join(self.spool, "failed")))

    def queued_messages(self):
        """Raw message bytes of every queued message (after the drop header)."""
        out = []
        for p in sorted(glob.glob(os.path.join(self.spool, "queue", "*.msg"))):
            with open(p, "rb") as f:
                data = f.read()
            out.append(data[data.index(b"\n\n") + 2:])
        return out
