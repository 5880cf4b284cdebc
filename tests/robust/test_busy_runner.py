# SPDX-License-Identifier: ISC
"""A submission while a runner is finishing (docs/DESIGN.md, "Kicking the
runner"). An LD_PRELOAD shim (pauseshim.c, compiled here with cc) holds
postern-send at the moment it lets go of the busy-runner lock, the
test submits a message then, and lets the runner go on:

  - held just before the release (the lock is still held): the front end
    starts no runner, and the paused runner, started as `--id` for another
    message, delivers the new one before it exits;
  - held just after the release (its last look at incoming/ still to
    come): the front end starts a runner of its own; the message is
    delivered exactly once, whichever runner takes it.

Synchronised through FIFOs, never on time."""
import os
import subprocess
import tempfile
import threading
import unittest

from relay import Relay
import robustlib as rl

BUSY = b"a runner is at work"


def build_shim(tmpdir):
    out = os.path.join(tmpdir, "pauseshim.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", out,
                    os.path.join(rl.HERE, "pauseshim.c"), "-ldl"], check=True)
    return out


class BusyRunner(unittest.TestCase):
    def setUp(self):
        self.relay = Relay().start()
        self.addCleanup(self.relay.stop)
        self.w = rl.World(self.relay.port, prefix="postern-busy-")
        self.addCleanup(self.w.cleanup)
        self.tmp = tempfile.mkdtemp(prefix="pause-", dir=self.w.dir)
        self.shim = build_shim(self.tmp)
        os.mkfifo(os.path.join(self.tmp, "paused"))
        os.mkfifo(os.path.join(self.tmp, "go"))

    def submit(self, token, *flags):
        r = subprocess.run([rl.POSTERN, "-C", self.w.conf, *flags, "-i", "rcpt@example.net"],
                           input=rl.message(token), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stderr

    def queued_id(self):
        (qid,) = [n for n in self.w.listing("incoming") if not n.startswith(".")]
        return qid

    def start_paused_runner(self, at, *args):
        # Under ASan the shim is preloaded before the sanitizer runtime.
        env = dict(os.environ, LD_PRELOAD=self.shim, POSTERN_PAUSE_AT=at,
                   POSTERN_PAUSE_DIR=self.tmp,
                   ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
        p = subprocess.Popen([rl.SEND, "-C", self.w.conf, "-v", *args], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        got = []

        def wait_paused():
            with open(os.path.join(self.tmp, "paused"), "rb") as f:
                got.append(f.read(1))

        t = threading.Thread(target=wait_paused, daemon=True)
        t.start()
        t.join(60)
        self.assertEqual(got, [b"p"], "runner did not reach the lock release: %r"
                         % (p.poll(), ))
        return p

    def go(self, p):
        with open(os.path.join(self.tmp, "go"), "wb"):
            pass
        _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        return err

    def delivered(self):
        return {k: len(v) for k, v in rl.relay_copies(self.relay).items()}

    def test_submission_while_the_lock_is_still_held(self):
        self.submit("tbusy1", "-odq")
        first = self.queued_id()
        p = self.start_paused_runner("before", "--id", first)
        self.assertEqual(self.delivered(), {"tbusy1": 1})
        err = self.submit("tbusy2", "-v")
        self.assertIn(BUSY, err)
        second = self.queued_id()  # committed, and no runner started for it
        runner_log = self.go(p)
        self.assertIn(second.encode() + b": to=<rcpt@example.net>", runner_log)
        self.assertEqual(self.delivered(), {"tbusy1": 1, "tbusy2": 1})
        self.assertEqual(self.w.pending(), [])

    def test_submission_after_the_release(self):
        self.submit("tfree1", "-odq")
        p = self.start_paused_runner("after")
        err = self.submit("tfree2", "-v")
        self.assertNotIn(BUSY, err)
        self.go(p)
        rl.wait_for(lambda: "tfree2" in self.delivered() and not self.w.pending(),
                    what="the second message delivered")
        self.assertEqual(self.delivered(), {"tfree1": 1, "tfree2": 1})


if __name__ == "__main__":
    unittest.main()
