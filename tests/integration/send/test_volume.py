# SPDX-License-Identifier: ISC
"""Many messages: one queue run sends them all over ONE connection, and
two concurrent runs send each message exactly once."""

import collections
import re
import subprocess
import sys
import threading
import time
import unittest

import relay
from sendtest import POSTERN, SEND, SendCase

SENDER = "sender@example.net"


class Volume(SendCase):
    def fill(self, n):
        for i in range(n):
            self.submit([f"r{i % 7}@example.com"], sender=SENDER,
                        body=f"Subject: msg {i}\nX-Seq: {i}\n\nbody {i}\n".encode())

    def seqs(self, r):
        return [int(re.search(rb"X-Seq: (\d+)", m.data).group(1)) for m in r.messages]

    def test_1000_messages_one_connection(self):
        n = 1000
        with relay.Relay() as r:
            self.write_conf(r.port, "tls = none\n")
            self.fill(n)
            t0 = time.monotonic()
            self.run_send("--flush")
            took = time.monotonic() - t0
            self.assertEqual(r.connections, 1)
            self.assertEqual(sorted(self.seqs(r)), list(range(n)))
            self.assertEqual(self.queued(), {})
            self.assertEqual(self.incoming(), [])
            print(f"\n{n} messages in {took:.2f}s: {n / took:.0f} msgs/s over "
                  f"{r.connections} connection", file=sys.stderr)

    def test_two_concurrent_flushes_send_each_once(self):
        n = 300
        with relay.Relay() as r:
            self.write_conf(r.port, "tls = none\n")
            self.fill(n)
            procs = [subprocess.Popen([SEND, "-C", self.conf, "--flush"],
                                      stderr=subprocess.PIPE) for _ in range(2)]
            for p in procs:
                _, err = p.communicate(timeout=120)
                self.assertEqual(p.returncode, 0, err.decode())
            counts = collections.Counter(self.seqs(r))
            self.assertEqual(sorted(counts), list(range(n)))
            self.assertEqual(set(counts.values()), {1})
            self.assertEqual(self.queued(), {})
            self.assertEqual(self.incoming(), [])

    def test_submission_during_a_run_goes_next(self):
        # A runner at work holds the busy-runner lock, so a submission
        # starts none; the runner takes the new message up after the one it
        # is on, not after the rest of its run (SPEC: within a second).
        with relay.Relay() as r:
            self.write_conf(r.port, "tls = none\n")
            self.fill(3)
            r.faults["mail"] = "451 4.3.0 try later"   # three waiting in queue/
            self.run_send()
            self.assertEqual(len(self.queued()), 3)
            del r.faults["mail"]
            in_data, go = threading.Event(), threading.Event()

            def hold_first(m):
                # Runs in the relay's thread: holds the first final reply
                # until the test has submitted (bounded, so a bug fails).
                if b"X-Seq: 0" in m.data:
                    in_data.set()
                    go.wait(60)
                return None
            r.faults["data"] = hold_first
            run = subprocess.Popen([SEND, "-C", self.conf, "--flush"], stderr=subprocess.PIPE)
            self.assertTrue(in_data.wait(60), "the run never reached the first message")
            sub = subprocess.run([POSTERN, "-C", self.conf, "-i", "-v", "new@example.com"],
                                 input=b"Subject: new\nX-Seq: 99\n\nnew\n",
                                 capture_output=True, timeout=60)
            go.set()
            _, err = run.communicate(timeout=120)
            self.assertEqual(sub.returncode, 0, sub.stderr)
            self.assertIn(b"a runner is at work", sub.stderr)
            self.assertEqual(run.returncode, 0, err.decode())
            self.assertEqual(self.seqs(r), [0, 99, 1, 2], err.decode())
            self.assertEqual(self.queued(), {})
            self.assertEqual(self.incoming(), [])


if __name__ == "__main__":
    unittest.main()
