# SPDX-License-Identifier: ISC
"""--file and --command: the alias targets the queue runner hands over."""

import os
import pwd
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deliverlib import DeliverTest, message, read_mbox, sha256  # noqa: E402


class Targets(DeliverTest):
    def setUp(self):
        super().setUp()
        # As root, targets run as command_user (nobody): it must reach tmp.
        os.chmod(self.tmp, 0o755)
        self.out = os.path.join(self.tmp, "out")
        os.mkdir(self.out)
        os.chmod(self.out, 0o1777)

    def run_mode(self, *mode, data=None):
        return subprocess.run(self.args(*mode), input=message() if data is None else data,
                              capture_output=True, timeout=60)

    def test_file_appends_mbox(self):
        path = os.path.join(self.out, "archive")
        for _ in range(2):
            self.assertExit(self.run_mode("--file", path,
                                          data=b"Subject: a\r\n\r\nFrom x\r\n"), 0)
        msgs = read_mbox(path)
        self.assertEqual(len(msgs), 2)
        with open(path, "rb") as f:
            raw = f.read()
        self.assertIn(b"\n>From x\n", raw)
        self.assertTrue(raw.startswith(b"From sender@example.com "))
        if os.getuid() == 0:
            self.assertEqual(os.stat(path).st_uid, pwd.getpwnam("nobody").pw_uid)

    def test_file_refuses_symlink(self):
        victim = os.path.join(self.tmp, "victim")
        with open(victim, "w") as f:
            f.write("keep\n")
        h = sha256(victim)
        link = os.path.join(self.out, "link")
        os.symlink(victim, link)
        r = self.run_mode("--file", link)
        self.assertExit(r, 75)
        self.assertEqual(sha256(victim), h)

    def test_dev_null(self):
        self.assertExit(self.run_mode("--file", "/dev/null"), 0)

    def test_relative_file_is_usage_error(self):
        self.assertExit(self.run_mode("--file", "relative"), 64)

    def test_command_gets_message_and_clean_environment(self):
        dest = os.path.join(self.out, "got")
        env_dest = os.path.join(self.out, "env")
        cmd = "cat > %s; env > %s; id -u >> %s" % (dest, env_dest, env_dest)
        r = subprocess.run(self.args("--command", cmd), input=message(body="From a\r\n"),
                           capture_output=True, timeout=60,
                           env={"PATH": "/usr/bin:/bin", "SSLKEYLOGFILE": "/tmp/k",
                                "EVIL": "1"})
        self.assertExit(r, 0)
        with open(dest, "rb") as f:
            got = f.read()
        self.assertTrue(got.startswith(b"Return-Path: <sender@example.com>\n"))
        self.assertIn(b"\n\nFrom a\n", got)
        self.assertNotIn(b"\r", got)
        with open(env_dest) as f:
            env = f.read()
        self.assertNotIn("EVIL", env)
        self.assertNotIn("SSLKEYLOGFILE", env)
        self.assertIn("SENDER=sender@example.com", env)
        if os.getuid() == 0:
            self.assertEqual(env.strip().splitlines()[-1], str(pwd.getpwnam("nobody").pw_uid))

    def test_command_exit_codes(self):
        for cmd, code, text in [("cat >/dev/null; exit 0", 0, b""),
                                ("cat >/dev/null; echo 'try later' >&2; exit 75", 75,
                                 b"try later"),
                                ("echo 'no such list' >&2; echo second >&2; exit 1", 69,
                                 b"no such list"),
                                ("kill -9 $$", 75, b"signal")]:
            with self.subTest(cmd=cmd):
                r = self.run_mode("--command", cmd)
                self.assertExit(r, code)
                self.assertIn(text, r.stderr)
                # Only the first stderr line is reported (the command
                # text itself is quoted once).
                self.assertEqual(r.stderr.count(b"second"), cmd.count("second"))

    def test_command_timeout_kills_it(self):
        self.write_config(extra="command_timeout = 1s\n")
        pidfile = os.path.join(self.out, "pid")
        start = time.monotonic()
        r = self.run_mode("--command", "echo $$ > %s; exec sleep 100" % pidfile)
        self.assertExit(r, 75)
        self.assertIn(b"timed out", r.stderr)
        self.assertLess(time.monotonic() - start, 30)
        with open(pidfile) as f:
            pid = int(f.read())
        self.assertFalse(os.path.exists("/proc/%d" % pid) and
                         open("/proc/%d/stat" % pid).read().split()[2] != "Z")


if __name__ == "__main__":
    unittest.main(verbosity=2)
