# SPDX-License-Identifier: ISC
"""Concurrency: 200 submissions from 20 concurrent postern processes while
3 postern-send --flush runners loop and the relay flaps (a timer thread
switches relay.py's faults every 150-400 ms between: healthy, "421" to
MAIL, a "421" greeting, and a drop after the final dot, the one fault
that makes a transfer unconfirmed). At the end, with the relay healthy,
the queue is flushed until empty and the checker asserts: every message
reached the relay (accepted or in the dropped-after-dot list) at least
once; a message that arrived more than once has a "possible duplicate"
log line for its queue id; queue/, failed/ and incoming/ are empty.
Seeded RNG: POSTERN_CONC_SEED (printed)."""
import os
import random
import re
import subprocess
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from relay import Relay
import robustlib as rl

SUBMITTERS = 20
MESSAGES = 200
RUNNERS = 3
FAULTS = [None, None, ("mail", "421 4.3.2 flapping"), ("greeting", "421 4.3.2 flapping"),
          ("drop_after_dot", True)]
MSGID_RE = re.compile(rb"Message-ID: <([0-9A-F]+)@")


class Concurrency(unittest.TestCase):
    def test_concurrent_submit_and_flush_with_flapping_relay(self):
        seed = int(os.environ.get("POSTERN_CONC_SEED", str(int(time.time() * 1000) % 1000000)))
        print("concurrency seed: %d" % seed, flush=True)
        rng = random.Random(seed)
        relay = Relay().start()
        self.addCleanup(relay.stop)
        w = rl.World(relay.port, prefix="postern-conc-")
        self.addCleanup(w.cleanup)
        log = os.path.join(w.dir, "postern.log")
        with open(w.conf, "a") as f:
            f.write("[log]\ntarget = %s\n" % log)

        # The relay flaps on a timer thread.
        stop_flap = threading.Event()
        flaps = [0]

        def flap():
            while not stop_flap.wait(rng.uniform(0.15, 0.4)):
                fault = rng.choice(FAULTS)
                relay.faults.clear()
                if fault:
                    relay.faults[fault[0]] = fault[1]
                flaps[0] += 1
            relay.faults.clear()

        flapper = threading.Thread(target=flap, daemon=True)
        flapper.start()
        self.addCleanup(flapper.join, 5)
        self.addCleanup(stop_flap.set)

        # Three runners loop until the submitters are done.
        submitting = threading.Event()
        submitting.set()
        runner_runs = [0]
        procs = set()
        lock = threading.Lock()

        def run(args, **kw):
            p = subprocess.Popen(args, **kw)
            with lock:
                procs.add(p)
            return p

        def runner():
            while submitting.is_set():
                p = run([rl.SEND, "-C", w.conf, "--flush"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
                p.wait(120)
                with lock:
                    runner_runs[0] += 1
                    procs.discard(p)

        def kill_all():
            with lock:
                for p in procs:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
        self.addCleanup(kill_all)

        runners = [threading.Thread(target=runner, daemon=True) for _ in range(RUNNERS)]
        for t in runners:
            t.start()

        def submit(i):
            # Ten waves of 20, one per relay state: the queue meets every fault.
            rl.wait_for(lambda: flaps[0] >= i // SUBMITTERS, 60, "flap %d" % (i // SUBMITTERS))
            tok = "t%d" % i
            p = run([rl.POSTERN, "-C", w.conf, "-odq", "-i", "--", "dest-%s@example.com" % tok],
                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, err = p.communicate(rl.message(tok), timeout=60)
            with lock:
                procs.discard(p)
            return tok, p.returncode, err.decode(errors="replace")

        with ThreadPoolExecutor(SUBMITTERS) as ex:
            results = list(ex.map(submit, range(MESSAGES)))
        refused = [(t, rc, e) for t, rc, e in results if rc != 0]
        self.assertEqual(refused, [], "submissions failed")
        # Let the runners and the flapping relay work on the queue a little.
        rl.wait_for(lambda: flaps[0] >= MESSAGES // SUBMITTERS + 3, 60, "more flaps")
        submitting.clear()
        for t in runners:
            t.join(120)
            self.assertFalse(t.is_alive())
        stop_flap.set()
        flapper.join(5)
        relay.faults.clear()
        w.recover(rounds=10)

        # Check.
        with relay.lock:
            arrived = [m.data for m in relay.messages] + [m.data for m in relay.lost]
        copies = {}
        ids = {}
        for data in arrived:
            toks = rl.TOKEN_RE.findall(data)
            self.assertEqual(len(toks), 1, data[:200])
            tok = toks[0].decode()
            copies[tok] = copies.get(tok, 0) + 1
            m = MSGID_RE.search(data)
            self.assertIsNotNone(m, data[:300])
            ids[tok] = m.group(1).decode()
            self.assertTrue(rl.intact(data, tok, 3), "torn message %s" % tok)
        missing = [t for t, _, _ in results if t not in copies]
        self.assertEqual(missing, [], "LOST messages")
        with open(log, errors="replace") as f:
            logtext = f.read()
        dups = {t: n for t, n in copies.items() if n > 1}
        unlogged = [t for t in dups if not re.search(re.escape(ids[t]) + r".*possible duplicate", logtext)]
        self.assertEqual(unlogged, [], "duplicates without a 'possible duplicate' log line")
        self.assertEqual(w.listing("queue"), [])
        self.assertEqual(w.listing("failed"), [])
        self.assertEqual(w.listing("incoming"), [])
        print("concurrency summary: seed=%d messages=%d runner passes=%d flaps=%d "
              "relay accepted=%d dropped-after-dot=%d duplicates=%d (all logged)" % (
                  seed, len(results), runner_runs[0], flaps[0], len(relay.messages),
                  len(relay.lost), sum(n - 1 for n in dups.values())), flush=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
