# SPDX-License-Identifier: ISC
"""SPEC "Privileges and trust", seen from an ordinary user (nobody): the
set-group-ID front end refuses -C, -q, -v and --check; nobody can list the
drop directory, read the queue or the relay secret, and mailq says so.
Needs root to build the installed layout (group mail stands in for
postdrop, root for the postern user); CI runs as root."""

import os
import shutil
import subprocess
import tempfile
import unittest

BUILD = os.environ["POSTERN_BUILD"]
POSTERN = os.path.join(BUILD, "postern")
NOBODY, NOGROUP, MAIL = 65534, 65534, 8


def as_nobody():
    os.setgroups([])
    os.setgid(NOGROUP)
    os.setuid(NOBODY)


@unittest.skipUnless(os.geteuid() == 0, "needs root to set up set-id files and switch users")
class Privileges(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-priv-")
        os.chmod(self.dir, 0o755)
        self.spool = os.path.join(self.dir, "spool")
        os.makedirs(os.path.join(self.spool, "incoming"))
        os.makedirs(os.path.join(self.spool, "queue"))
        os.chown(os.path.join(self.spool, "incoming"), 0, MAIL)
        os.chmod(os.path.join(self.spool, "incoming"), 0o1730)
        os.chmod(os.path.join(self.spool, "queue"), 0o700)
        self.secret = os.path.join(self.dir, "secret")
        with open(self.secret, "w") as f:
            f.write("hunter2\n")
        os.chmod(self.secret, 0o600)
        self.conf = os.path.join(self.dir, "postern.conf")
        with open(self.conf, "w") as f:
            f.write(f"[relay]\nhost = 127.0.0.1\nuser = u\npassword_file = {self.secret}\n"
                    f"[queue]\ndir = {self.spool}\n")
        os.chmod(self.conf, 0o644)
        # A message someone queued, as the runner stores it.
        with open(os.path.join(self.spool, "queue", "6B0240700D2BB6F98C629BEA.msg"), "w") as f:
            f.write("POSTERN-DROP 1\nsize: 000000000010\n\nSubject: private\n")
        self.setgid_copy = os.path.join(self.dir, "postern")
        shutil.copy(POSTERN, self.setgid_copy)
        os.chown(self.setgid_copy, 0, MAIL)
        os.chmod(self.setgid_copy, 0o2755)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_nobody(self, args, stdin=b""):
        return subprocess.run(args, input=stdin, capture_output=True, timeout=60,
                              preexec_fn=as_nobody)

    def test_setgid_front_end_refuses_privileged_flags(self):
        probe = self.run_nobody([self.setgid_copy, "--version"])
        self.assertEqual(probe.returncode, 0, probe.stderr)
        cases = [
            (["-C", self.conf, "-odq", "root"], "-C"),
            (["-q"], "-q"),
            (["-v", "-odq", "root"], "-v"),
            (["--check"], "--check"),
        ]
        for args, flag in cases:
            with self.subTest(flag=flag):
                r = self.run_nobody([self.setgid_copy] + args, b"Subject: x\n\nbody\n")
                self.assertEqual(r.returncode, 77, r.stderr)
                self.assertIn(flag.encode(), r.stderr)
        # Nothing reached the spool.
        self.assertEqual(os.listdir(os.path.join(self.spool, "incoming")), [])

    def test_nobody_cannot_read_the_queue_or_the_secret(self):
        def try_read():
            for path in (os.path.join(self.spool, "incoming"),):
                try:
                    os.listdir(path)
                    os._exit(1)
                except PermissionError:
                    pass
            for path in (os.path.join(self.spool, "queue", "6B0240700D2BB6F98C629BEA.msg"),
                         self.secret):
                try:
                    open(path).read()
                    os._exit(2)
                except PermissionError:
                    pass
            os._exit(0)
        pid = os.fork()
        if pid == 0:
            try:
                as_nobody()
                try_read()
            finally:
                os._exit(3)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)

        # mailq says why instead of showing an empty queue.
        r = self.run_nobody([POSTERN, "-C", self.conf, "-bp"])
        self.assertEqual(r.returncode, 77, r.stdout + r.stderr)
        self.assertIn(b"permission denied", r.stderr.lower())
        self.assertNotIn(b"private", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
