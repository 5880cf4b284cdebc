# SPDX-License-Identifier: ISC
"""Shared fixtures for the postern-deliver integration tests.

Every test gets a temporary directory with its own postern.conf
([local] mailbox = TMP/mail/%u, lock_timeout = 3s) and delivers as the
current user (root in CI). Real mail readers (bsd-mailx, s-nail) read
what was written. Nothing here sleeps to synchronise: waits poll a
condition with a deadline.
"""

import hashlib
import mailbox
import os
import platform
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import unittest

BUILD = os.environ.get("POSTERN_BUILD", "")
SOURCE = os.environ.get("POSTERN_SOURCE", "")
DELIVER = os.path.join(BUILD, "postern-deliver")
BSD_MAILX = os.path.join(SOURCE, "build-peers", "usr", "bin", "bsd-mailx")
S_NAIL = "/usr/bin/s-nail"
ME = pwd.getpwuid(os.getuid()).pw_name

# System calls a waiting postern-deliver sleeps in: a blocking fcntl
# (F_OFD_SETLKW) or the ~1 s pause between dotlock attempts.
_WAIT_SYSCALLS = {
    "x86_64": {72, 35, 230},   # fcntl, nanosleep, clock_nanosleep
    "aarch64": {25, 101, 115},
}.get(platform.machine(), set())


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def wait_for(cond, timeout=20.0, what="condition", proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError("process exited (%s) before %s" % (proc.returncode, what))
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def _descendants(pid):
    """pid and its descendants (a root run forks one child per user)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def is_waiting(pid):
    """True when pid or a child of it is blocked in a lock-wait system call."""
    for p in _descendants(pid):
        try:
            with open("/proc/%d/syscall" % p) as f:
                first = f.read().split()[0]
        except (OSError, IndexError):
            continue
        if first.isdigit() and int(first) in _WAIT_SYSCALLS:
            return True
    return False


def message(subject="test", body="hello\r\n"):
    return ("From: sender@example.com\r\nTo: %s\r\nSubject: %s\r\n\r\n%s"
            % (ME, subject, body)).encode()


def read_mbox(path):
    """The messages of an mbox, parsed by Python's mailbox module."""
    box = mailbox.mbox(path, create=False)
    try:
        return [m for m in box]
    finally:
        box.close()


def unquote_mboxrd(text):
    """Reverses mboxrd quoting: one '>' less on every ^>+From  line."""
    out = []
    for line in text.split("\n"):
        stripped = line.lstrip(">")
        if line.startswith(">") and stripped.startswith("From "):
            line = line[1:]
        out.append(line)
    return "\n".join(out)


class DeliverTest(unittest.TestCase):
    mailbox_template = None  # default: TMP/mail/%u

    def setUp(self):
        if not os.access(DELIVER, os.X_OK):
            self.fail("postern-deliver not built at " + DELIVER)
        self.tmp = tempfile.mkdtemp(prefix="postern-deliver-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.maildir = os.path.join(self.tmp, "mail")
        os.mkdir(self.maildir)
        self.procs = []
        self.addCleanup(self._stop_procs)
        self.wrapper = []
        self.write_config()

    def write_config(self, extra="", mailbox=None):
        mailbox = mailbox or self.mailbox_template or os.path.join(self.maildir, "%u")
        self.conf = os.path.join(self.tmp, "postern.conf")
        with open(self.conf, "w") as f:
            f.write("[local]\nmailbox = %s\nlock_timeout = 3s\n%s" % (mailbox, extra))

    def _stop_procs(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()

    def mbox(self, user=ME):
        return os.path.join(self.maildir, user)

    def give_home(self, user, home):
        """From now on postern-deliver sees home as user's home directory:
        it runs in a private mount namespace (unshare -m) with a copy of
        /etc/passwd bind-mounted over the real one. Root only; nothing
        outside that namespace changes."""
        if os.getuid() != 0 or not shutil.which("unshare"):
            self.skipTest("needs root and unshare to give a user a temporary home")
        lines = []
        with open("/etc/passwd") as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                if fields[0] == user:
                    fields[5] = home
                lines.append(":".join(fields) + "\n")
        passwd = os.path.join(self.tmp, "passwd")
        with open(passwd, "w") as f:
            f.writelines(lines)
        os.chmod(passwd, 0o644)
        self.wrapper = ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                        'mount --bind "$0" /etc/passwd && exec "$@"', passwd]

    def args(self, *rest, sender="sender@example.com"):
        a = self.wrapper + [DELIVER, "-C", self.conf]
        if sender is not None:
            a += ["-f", sender]
        return a + list(rest)

    def deliver(self, *users, data=None, sender="sender@example.com", preexec=None, extra=()):
        data = message() if data is None else data
        return subprocess.run(self.args(*extra, "--", *users, sender=sender), input=data,
                              capture_output=True, timeout=60, preexec_fn=preexec)

    def start(self, *users, data=None, extra=()):
        """Starts a delivery without waiting; the message is on a file."""
        path = os.path.join(self.tmp, "msg-%d" % len(self.procs))
        with open(path, "wb") as f:
            f.write(message() if data is None else data)
        with open(path, "rb") as stdin:
            p = subprocess.Popen(self.args(*extra, "--", *users), stdin=stdin,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(p)
        return p

    def assertExit(self, proc, code):
        self.assertEqual(proc.returncode, code,
                         "exit %s, stderr: %r" % (proc.returncode, proc.stderr))

    # Real readers.

    def mailx_count(self, path):
        """Messages bsd-mailx counts on opening ("FILE": N messages ...)."""
        if not os.access(BSD_MAILX, os.X_OK):
            self.skipTest("bsd-mailx not unpacked (bash scripts/deps.sh)")
        env = {"HOME": self.tmp, "MAILRC": "/dev/null", "PATH": "/usr/bin:/bin"}
        # "x" leaves the mailbox untouched.
        r = subprocess.run([BSD_MAILX, "-f", path], input=b"x\n", capture_output=True,
                           env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r'^"[^"]*": (\d+) messages?', r.stdout.decode(errors="replace"), re.M)
        self.assertIsNotNone(m, r.stdout)
        return int(m.group(1))

    def snail(self, path, *commands):
        env = {"HOME": self.tmp, "PATH": "/usr/bin:/bin", "LC_ALL": "C"}
        args = [S_NAIL, "-:/", "-R", "-N", "-Sttycharset=utf-8"]
        for c in commands:
            args += ["-Y", c]
        args += ["-Y", "x", "-f", path]
        r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode(errors="replace")

    def snail_count(self, path):
        env = {"HOME": self.tmp, "PATH": "/usr/bin:/bin", "LC_ALL": "C"}
        r = subprocess.run([S_NAIL, "-:/", "-R", "-H", "-f", path], stdin=subprocess.DEVNULL,
                           capture_output=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return len([l for l in r.stdout.decode(errors="replace").splitlines() if l.strip()])

    def snail_body(self, path, n):
        """Body of message n as s-nail prints it (raw, still quoted)."""
        out = self.snail(path, "Print %d" % n)
        after_marker = out.split("\n", 2)[2] if out.startswith("s-nail") else out
        head, _, body = after_marker.partition("\n\n")
        self.assertIn("Return-Path:", head)
        return body
