# SPDX-License-Identifier: ISC
"""Crash consistency: messages are submitted and delivered (relay.py on
127.0.0.1 and local mbox delivery) while postern, postern-send and
postern-deliver are killed with SIGKILL

  1. at every step: an LD_PRELOAD shim (crashshim.c, compiled here with cc)
     raises SIGKILL before the k-th write/fsync/rename/unlink/ftruncate
     call of one program, for k = 1..K (K counted by a clean run);
  2. at random moments (seeded RNG: POSTERN_CRASH_SEED, printed).

After recovery (postern-send --flush with the relay up until nothing is
pending) the checker asserts: every message whose postern returned 0
reached each of its destinations (relay, mailbox) at least once; a
submission refused with an exit status was delivered nowhere; duplicates
only for messages whose runner or delivery agent was killed; no file left
in queue/ or failed/; dot files in incoming/ only from killed front ends;
the mailbox parses with mailbox.mbox and holds every message whole; no
bounce. Counts are printed at the end.
"""
import ctypes
import os
import random
import signal
import subprocess
import sys
import threading
import time
import unittest

from relay import Relay
import robustlib as rl

ROUNDS = int(os.environ.get("POSTERN_CRASH_ROUNDS", "12"))


def set_subreaper():
    """Orphaned postern-deliver children of a killed runner become ours,
    so that none outlives the test."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except Exception:
        pass


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                kids = [int(c) for c in f.read().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


class OrphanReaper(threading.Thread):
    """Reaps the postern-deliver children a killed runner left to us (we
    are the subreaper): a zombie holder of a dotlock looks alive to
    kill(pid, 0) and would make every later delivery wait. Only processes
    named postern-deliver are reaped, never a child subprocess waits for
    (the tests never start postern-deliver themselves while this runs)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.enabled = threading.Event()
        self.enabled.set()

    def run(self):
        me = os.getpid()
        while not self.stop.wait(0.005):
            if not self.enabled.is_set():
                continue
            for pid in descendants_direct(me):
                try:
                    with open("/proc/%d/stat" % pid) as f:
                        stat = f.read()
                except OSError:
                    continue
                comm = stat[stat.index("(") + 1:stat.rindex(")")]
                state = stat[stat.rindex(")") + 2]
                if comm == "postern-deliver" and state == "Z":
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        pass


def descendants_direct(pid):
    out = []
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def reap_orphans(timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.01)
    raise AssertionError("children still running after the test")


class Crash(unittest.TestCase):
    def setUp(self):
        set_subreaper()
        self.seed = int(os.environ.get("POSTERN_CRASH_SEED", str(int(time.time() * 1000) % 1000000)))
        print("crash test seed: %d (POSTERN_CRASH_SEED=%d reproduces)" % (self.seed, self.seed), flush=True)
        self.rng = random.Random(self.seed)
        self.relay = Relay().start()
        self.addCleanup(self.relay.stop)
        self.w = rl.World(self.relay.port, prefix="postern-crash-")
        self.addCleanup(self.w.cleanup)
        self.shim = rl.build_shim(self.w.dir)
        self.ledger = {}   # token -> {"remote", "local", "rc", "killed", "lines"}
        self.risky = set()  # tokens exposed to a killed runner or delivery agent
        self.stats = {"runs": 0, "kills": 0, "front_kills": 0, "send_kills": 0, "deliver_kills": 0}
        self.n = 0
        self.addCleanup(reap_orphans)
        self.reaper = OrphanReaper()
        self.reaper.start()
        self.addCleanup(self.reaper.join, 5)
        self.addCleanup(self.reaper.stop.set)

    # --- helpers
    def shim_env(self, prog, at=0, count=None):
        env = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": self.shim, "POSTERN_CRASH_PROG": prog,
               "POSTERN_CRASH_AT": str(at),
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0",
               "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "")}
        if count:
            env["POSTERN_CRASH_COUNT"] = count
        return env

    def new_token(self, remote=True, local=False, lines=3):
        self.n += 1
        tok = "t%d" % self.n
        self.ledger[tok] = {"remote": remote, "local": local, "rc": None, "killed": False,
                            "lines": lines}
        return tok

    def rcpts(self, tok):
        e = self.ledger[tok]
        return (["dest-%s@example.com" % tok] if e["remote"] else []) + ([rl.ME] if e["local"] else [])

    def submit(self, tok, env=None, kill_after=None):
        """postern -odq; returns its status (negative: killed by signal)."""
        p = subprocess.Popen([rl.POSTERN, "-C", self.w.conf, "-odq", "-i", "--"] + self.rcpts(tok),
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env)
        timer = None
        if kill_after is not None:
            timer = threading.Timer(kill_after, lambda: p.kill())
            timer.start()
        try:
            p.communicate(rl.message(tok, self.ledger[tok]["lines"]), timeout=60)
        except BrokenPipeError:
            p.wait(60)
        finally:
            if timer:
                timer.cancel()
        self.stats["runs"] += 1
        self.ledger[tok]["rc"] = p.returncode
        if p.returncode == -signal.SIGKILL:
            self.ledger[tok]["killed"] = True
            self.stats["kills"] += 1
            self.stats["front_kills"] += 1
        return p.returncode

    def count_calls(self, prog, args, stdin=b""):
        cf = os.path.join(self.w.dir, "count-%s" % prog)
        if os.path.exists(cf):
            os.unlink(cf)
        r = subprocess.run(args, input=stdin, capture_output=True, env=self.shim_env(prog, 0, cf),
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
        with open(cf) as f:
            counts = [int(x) for x in f.read().split()]
        self.assertTrue(counts and counts[0] > 0, "%s made no counted call" % prog)
        return counts[0]

    def pending_tokens(self):
        """Tokens submitted with status 0 or killed that have not reached
        every destination yet."""
        relay = rl.relay_copies(self.relay)
        box, _ = self.w.mailbox_copies()
        out = set()
        for tok, e in self.ledger.items():
            if e["rc"] == 0 or e["killed"]:
                if (e["remote"] and tok not in relay) or (e["local"] and tok not in box):
                    out.add(tok)
        return out

    # --- phases
    def phase_front_end_steps(self):
        tok = self.new_token(remote=True, local=True)
        k_max = self.count_calls("postern", [rl.POSTERN, "-C", self.w.conf, "-odq", "-i", "--"]
                                 + self.rcpts(tok), rl.message(tok, 3))
        self.ledger[tok]["rc"] = 0
        for k in range(1, k_max + 1):
            tok = self.new_token(remote=True, local=(k % 2 == 0))
            rc = self.submit(tok, env=self.shim_env("postern", k))
            self.assertEqual(rc, -signal.SIGKILL, "postern not killed at call %d of %d" % (k, k_max))
            # A killed front end leaves nothing: its file had no name yet.
            dots = [n for n in self.w.listing("incoming") if n.startswith(".")]
            self.assertEqual(dots, [])
        print("front end: %d counted calls, killed at each" % k_max, flush=True)
        self.w.recover()

    def phase_runner_steps(self):
        tok = self.new_token(remote=True, local=True)
        self.assertEqual(self.submit(tok), 0)
        k_max = self.count_calls("postern-send", [rl.SEND, "-C", self.w.conf, "--flush"])
        for k in range(1, k_max + 1):
            tok = self.new_token(remote=True, local=True)
            self.assertEqual(self.submit(tok), 0)
            r = subprocess.run([rl.SEND, "-C", self.w.conf, "--flush"], capture_output=True,
                               env=self.shim_env("postern-send", k), timeout=120)
            self.stats["runs"] += 1
            self.assertEqual(r.returncode, -signal.SIGKILL, "postern-send not killed at call %d" % k)
            self.stats["kills"] += 1
            self.stats["send_kills"] += 1
            self.risky.add(tok)
            reap_orphans()
            self.w.recover()
        print("runner: %d counted calls, killed at each" % k_max, flush=True)

    def phase_deliver_steps(self):
        """postern-deliver run directly (the runner clears LD_PRELOAD from
        its children's environment), with a message big enough for several
        write calls."""
        self.reaper.enabled.clear()
        lines = 30000
        tok = self.new_token(remote=False, local=True, lines=lines)
        msg = rl.message(tok, lines)
        args = [rl.DELIVER, "-C", self.w.conf, "-f", "sender@example.org", rl.ME]
        k_max = self.count_calls("postern-deliver", args, msg)
        self.ledger[tok]["rc"] = 0
        for k in range(1, k_max + 1):
            tok = self.new_token(remote=False, local=True, lines=lines)
            r = subprocess.run(args, input=rl.message(tok, lines), capture_output=True,
                               env=self.shim_env("postern-deliver", k), timeout=120)
            self.stats["runs"] += 1
            # postern-deliver forks a writer: the shim kills whichever
            # process makes the k-th call; a parent that sees its writer
            # killed exits 75.
            self.assertIn(r.returncode, (-signal.SIGKILL, 75, 0), "call %d: %s" % (
                k, r.stderr.decode(errors="replace")))
            self.ledger[tok]["rc"] = r.returncode
            if r.returncode == 0:
                # Fewer counted calls this time (the count run may have
                # had a stale lock to repair): delivered, not killed.
                continue
            self.ledger[tok]["killed"] = True
            self.stats["kills"] += 1
            self.stats["deliver_kills"] += 1
            try:
                self.w.mailbox_copies()  # raises on a torn or merged message
            except AssertionError as e:
                raise AssertionError("after a kill at call %d of %d: %s" % (k, k_max, e))
        print("delivery agent: %d counted calls, killed at each" % k_max, flush=True)

    def phase_random(self):
        for rnd in range(ROUNDS):
            for _ in range(self.rng.randint(2, 5)):
                tok = self.new_token(remote=self.rng.random() < 0.8, local=self.rng.random() < 0.4,
                                     lines=self.rng.choice([3, 3, 2000]))
                if not (self.ledger[tok]["remote"] or self.ledger[tok]["local"]):
                    self.ledger[tok]["remote"] = True
                kill = self.rng.uniform(0, 0.012) if self.rng.random() < 0.4 else None
                self.submit(tok, kill_after=kill)
            exposed = self.pending_tokens()
            p = subprocess.Popen([rl.SEND, "-C", self.w.conf, "--flush"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            kill_send = self.rng.uniform(0, 0.04) if self.rng.random() < 0.6 else None
            kill_deliver = self.rng.random() < 0.4
            started = time.monotonic()
            killed_any = False
            while p.poll() is None:
                self.assertLess(time.monotonic() - started, 120, "postern-send --flush hangs")
                if kill_deliver:
                    # Only delivery agents: a sanitizer build's runner has
                    # helper tasks (LeakSanitizer's tracer) that must live.
                    for c in descendants(p.pid):
                        if comm(c) != "postern-deliver":
                            continue
                        try:
                            os.kill(c, signal.SIGKILL)
                            killed_any = True
                            self.stats["kills"] += 1
                            self.stats["deliver_kills"] += 1
                        except ProcessLookupError:
                            pass
                if kill_send is not None and time.monotonic() - started >= kill_send:
                    p.kill()
                    killed_any = True
                    self.stats["kills"] += 1
                    self.stats["send_kills"] += 1
                    break
                time.sleep(0.001)
            p.wait(120)
            self.stats["runs"] += 1
            if killed_any:
                self.risky |= exposed
        reap_orphans()
        self.w.recover()

    def check(self):
        relay = rl.relay_copies(self.relay)
        box, bounces = self.w.mailbox_copies()
        self.assertEqual(bounces, [], "unexpected bounces")
        losses, dups, bad = [], {}, []
        for tok, e in self.ledger.items():
            for dest, seen in (("remote", relay), ("local", box)):
                if not e[dest]:
                    continue
                copies = seen.get(tok, [])
                for c in copies:
                    if not rl.intact(c, tok, e["lines"]):
                        bad.append((tok, dest))
                if e["rc"] == 0 and not copies:
                    losses.append((tok, dest))
                if e["rc"] not in (0, None) and not e["killed"] and copies:
                    bad.append((tok, dest, "delivered after a refused submission"))
                if len(copies) > 1:
                    dups[(tok, dest)] = len(copies)
        for tok in seen_tokens(relay, box):
            self.assertIn(tok, self.ledger, "unknown token delivered")
        self.assertEqual(losses, [], "LOST messages (postern returned 0)")
        self.assertEqual(bad, [], "torn or wrongly delivered messages")
        unexplained = {k: v for k, v in dups.items() if k[0] not in self.risky}
        self.assertEqual(unexplained, {}, "duplicates without a killed runner/agent")
        self.assertEqual(self.w.listing("queue"), [], "stray files in queue/")
        self.assertEqual(self.w.listing("failed"), [], "messages in failed/")
        incoming = self.w.listing("incoming")
        self.assertEqual(incoming, [], "killed front ends leave nothing in incoming/")
        msgs = sum(1 for e in self.ledger.values())
        ok = sum(1 for e in self.ledger.values() if e["rc"] == 0)
        print("crash summary: seed=%d runs=%d kills=%d (front end %d, runner %d, delivery %d) "
              "messages=%d (accepted %d) duplicates=%d losses=%d leftover dot files=%d" % (
                  self.seed, self.stats["runs"], self.stats["kills"], self.stats["front_kills"],
                  self.stats["send_kills"], self.stats["deliver_kills"], msgs, ok,
                  sum(v - 1 for v in dups.values()), len(losses), len(incoming)), flush=True)

    def test_crash_consistency(self):
        self.phase_front_end_steps()
        self.phase_runner_steps()
        self.phase_random()
        self.check()

    def test_deliver_steps(self):
        """postern-deliver killed before each of its calls: the mailbox
        must hold only whole messages (SPEC: never leave a half-written
        message in a mailbox)."""
        self.phase_deliver_steps()
        self.check()


def seen_tokens(*maps):
    out = set()
    for m in maps:
        out |= set(m)
    return out


if __name__ == "__main__":
    unittest.main(verbosity=2)
