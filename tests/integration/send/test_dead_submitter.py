# SPDX-License-Identifier: ISC
"""Issue 10 part 5: files left by killed submitters. A front end writes
an unnamed file that gets its name only at the commit, so one killed
before it (SIGKILL, no clean-up) leaves nothing; where a named .ID had to
be used (a file system without O_TMPFILE), the writer keeps it locked and
the next run removes it once the lock is free. A file whose writer is
alive is never touched."""

import fcntl
import os
import signal
import subprocess
import time
import unittest

import relay
from sendtest import POSTERN, SendCase


class DeadSubmitter(SendCase):
    def start_writer(self, rcpt):
        p = subprocess.Popen([POSTERN, "-C", self.conf, "-odq", "-i", rcpt],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        p.stdin.write(b"Subject: half\n\n" + b"x" * 200000 + b"\n")
        p.stdin.flush()
        # The front end has read (and spooled) what it was given once its
        # file exists: wait for the open file in /proc, not for a time.
        spool_incoming = os.path.realpath(os.path.join(self.spool, "incoming"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            fds = os.path.join("/proc", str(p.pid), "fd")
            try:
                links = [os.readlink(os.path.join(fds, n)) for n in os.listdir(fds)]
            except OSError:
                links = []
            if any(l.startswith(spool_incoming + "/") for l in links):
                return p
            os.sched_yield()
        p.kill()
        self.fail("the front end never opened its drop file")

    def all_incoming(self):
        return sorted(os.listdir(os.path.join(self.spool, "incoming")))

    def test_killed_writer_leaves_nothing(self):
        with relay.Relay() as r:
            self.write_conf(r.port, "tls = none\nauth = none\n")
            p = self.start_writer("a@example.com")
            self.assertEqual(self.all_incoming(), [])   # nothing visible while written
            p.send_signal(signal.SIGKILL)
            p.wait()
            self.run_send("--flush")
            self.assertEqual(self.all_incoming(), [])
            self.assertEqual(r.messages, [])
            self.assertEqual(self.failed(), [])

    def test_live_writer_is_not_disturbed(self):
        with relay.Relay() as r:
            self.write_conf(r.port, "tls = none\nauth = none\n")
            p = self.start_writer("a@example.com")
            self.run_send("--flush")                   # a run while it writes
            p.stdin.write(b"the end\n")
            p.stdin.close()
            self.assertEqual(p.wait(timeout=60), 0, p.stderr.read())
            self.run_send("--flush")
            self.assertEqual(len(r.messages), 1)
            self.assertTrue(r.messages[0].data.endswith(b"the end\r\n"))

    def test_named_dot_files_dead_or_alive(self):
        # What a front end on a file system without O_TMPFILE leaves: a
        # named .ID, locked while its writer lives.
        with relay.Relay() as r:
            self.write_conf(r.port, "tls = none\nauth = none\n")
            self.run_send()                            # makes incoming/
            inc = os.path.join(self.spool, "incoming")
            dead = os.path.join(inc, ".6B0000000000000000000001")
            alive = os.path.join(inc, ".6B0000000000000000000002")
            young = os.path.join(inc, ".6B0000000000000000000003")
            for p in (dead, alive, young):
                with open(p, "wb") as f:
                    f.write(b"POSTERN-DROP 1\n")
            old = time.time() - 3600
            os.utime(dead, (old, old))
            os.utime(alive, (old, old))
            holder = open(alive, "rb")
            fcntl.flock(holder, fcntl.LOCK_EX)
            try:
                _, log = self.run_send()
                names = self.all_incoming()
            finally:
                holder.close()
            self.assertNotIn(os.path.basename(dead), names)
            self.assertIn("dead submitter", log)
            self.assertIn(os.path.basename(alive), names)   # its writer holds the lock
            self.assertIn(os.path.basename(young), names)   # may not have locked it yet


if __name__ == "__main__":
    unittest.main()
