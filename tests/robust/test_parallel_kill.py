# SPDX-License-Identifier: ISC
"""A queue run over four relay connections killed (SIGKILL) while all four
carry a message: the relay holds the final reply of a message once four
sessions are between MAIL FROM and the end of their data, and the runner
is killed while it waits. After a recovery flush every message reached
the relay, whole; only the messages that were on the wire at the kill may
arrive twice (at most one per connection); queue/, failed/ and incoming/
are empty."""
import os
import signal
import subprocess
import threading
import unittest

from relay import Relay
import robustlib as rl

MESSAGES = 60


class ParallelKill(unittest.TestCase):
    def test_kill_with_four_transfers_in_flight(self):
        relay = Relay().start()
        self.addCleanup(relay.stop)
        w = rl.World(relay.port, prefix="postern-pkill-")
        self.addCleanup(w.cleanup)
        with open(w.conf) as f:
            conf = f.read()
        with open(w.conf, "w") as f:
            f.write(conf.replace("connections = %d" % rl.CONNECTIONS, "connections = 4"))
        tokens = ["tk%d" % i for i in range(MESSAGES)]
        for tok in tokens:
            r = subprocess.run([rl.POSTERN, "-C", w.conf, "-odq", "-i", "--",
                                "dest-%s@example.com" % tok], input=rl.message(tok),
                               capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)

        held, go = threading.Event(), threading.Event()

        def hold(m):
            # Runs in the relay's thread, which it stops: the other
            # connections' data waits in the kernel, their replies unsent.
            with relay.lock:
                four = relay.txns == 4
            if four and not held.is_set():
                held.set()
                go.wait(60)
            return None
        relay.faults["data"] = hold
        run = subprocess.Popen([rl.SEND, "-C", w.conf, "--flush"], stderr=subprocess.PIPE)
        self.addCleanup(lambda: run.poll() is None and run.kill())
        if not held.wait(60):
            run.kill()
            self.fail("the run never had four transactions under way: %s"
                      % run.communicate()[1][-2000:])
        run.send_signal(signal.SIGKILL)
        run.wait(30)
        run.stderr.close()
        go.set()
        del relay.faults["data"]

        outs = w.recover()
        copies = rl.relay_copies(relay)
        self.assertEqual(sorted(copies), sorted(tokens), "\n".join(outs))
        for tok, got in copies.items():
            for data in got:
                self.assertTrue(rl.intact(data, tok, 3), data[:300])
        twice = [t for t, got in copies.items() if len(got) > 1]
        self.assertLessEqual(len(twice), 4, twice)
        self.assertEqual(w.pending(), [])
        self.assertEqual(w.listing("failed"), [])
        print("parallel kill: %d messages, %d sent twice, %d connections" % (
            MESSAGES, len(twice), relay.connections), flush=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
