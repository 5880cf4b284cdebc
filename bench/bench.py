#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""postern against msmtp, dma and nullmailer, in one interleaved run.

Called by bench/run.sh, which installs the packages, builds postern in
release mode and unpacks the peers. Run as root: dma and nullmailer read
fixed paths under /etc and /var/spool, which this script sets up and
restores (see SystemPaths). bench/README.md explains the method.

    bench.py --postern BUILD_DIR --peers PEERS_DIR --out bench/RESULTS.md
             --chart bench/ratios.png [--json bench/results.json]
"""
import argparse
import datetime
import json
import os
import platform
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RCPT = "rcpt@example.net"
SENDER = "bench@example.com"
NOW = time.perf_counter


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Processes

class Runner:
    """Spawns programs with posix_spawn (vfork-like: the harness adds tens
    of microseconds, not a Python fork) and times them."""

    def __init__(self, errlog):
        self.errlog = errlog

    def spawn(self, argv, stdin="/dev/null", env=None):
        fa = [(os.POSIX_SPAWN_OPEN, 0, stdin, os.O_RDONLY, 0),
              (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
              (os.POSIX_SPAWN_OPEN, 2, self.errlog,
               os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)]
        return os.posix_spawn(argv[0], argv, env if env is not None else os.environ,
                              file_actions=fa)

    def timed(self, argv, stdin="/dev/null", env=None):
        t = NOW()
        pid = self.spawn(argv, stdin, env)
        _, st = os.waitpid(pid, 0)
        return NOW() - t, os.waitstatus_to_exitcode(st)

    def run(self, argv, stdin="/dev/null", env=None):
        return self.timed(argv, stdin, env)[1]


def wait_until(pred, timeout, step=0.002):
    end = NOW() + timeout
    while NOW() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --------------------------------------------------------------------------
def postern_connections():
    """postern's default [relay] connections, as etc/postern.conf shows it
    (the bench leaves the key out, so postern uses its default)."""
    with open(os.path.join(HERE, "..", "etc", "postern.conf")) as f:
        for line in f:
            if line.startswith(";connections ="):
                return int(line.split("=")[1].split(";")[0])
    return 1


def sink_cpu(pid):
    """CPU seconds (user + system) a process has used, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# The sink: Postfix's smtp-sink, counting sessions and messages (-c).

class Sink:
    def __init__(self, peers, port, log_path):
        self.port = port
        env = dict(os.environ, LD_LIBRARY_PATH=f"{peers}/postfix/usr/lib/postfix")
        argv = [f"{peers}/postfix/usr/sbin/smtp-sink", "-c"]
        if os.geteuid() == 0:
            argv += ["-u", "nobody"]
        argv += [f"127.0.0.1:{port}", "1024"]

        def more_fds():
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                     stderr=open(log_path, "ab"),
                                     preexec_fn=more_fds)
        self.sess = 0
        self.mesg = 0
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        if not wait_until(self._listening, 5):
            raise RuntimeError("smtp-sink did not start")

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            return True
        except OSError:
            return False

    def _read(self):
        fd = self.proc.stdout.fileno()
        buf = b""
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            buf += chunk
            parts = buf.split(b"\r")
            buf = parts[-1]
            last = None
            for p in reversed(parts[:-1]):
                if p.startswith(b"sess="):
                    last = p
                    break
            if last:
                f = dict(kv.split(b"=") for kv in last.split())
                with self.cond:
                    self.sess = int(f[b"sess"])
                    self.mesg = int(f[b"mesg"])
                    self.cond.notify_all()

    def counts(self):
        with self.cond:
            return self.sess, self.mesg

    def wait_mesg(self, target, timeout):
        with self.cond:
            return self.cond.wait_for(lambda: self.mesg >= target, timeout)

    def settle(self, quiet=0.3, timeout=30):
        """Wait until the session count stops moving (sessions are counted
        when they end)."""
        end = NOW() + timeout
        last = self.counts()
        t = NOW()
        while NOW() < end:
            time.sleep(0.05)
            c = self.counts()
            if c != last:
                last, t = c, NOW()
            elif NOW() - t >= quiet:
                break
        return last

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# --------------------------------------------------------------------------
# Fixed system paths of the peers: saved, set up, restored.

class SystemPaths:
    """dma reads /etc/dma/dma.conf; nullmailer reads /etc/nullmailer and
    /var/spool/nullmailer and execs nullmailer-queue, nullmailer-inject
    and its protocol modules at compiled-in paths. Whatever exists there is
    moved aside and put back at the end; what we create is removed. The
    record of what was moved lives in STATE so that `bench.py --restore`
    (called by run.sh's trap) can undo an interrupted run."""

    PATHS = ["/etc/dma", "/etc/nullmailer", "/var/spool/dma", "/var/spool/nullmailer",
             "/usr/sbin/nullmailer-queue", "/usr/bin/nullmailer-inject", "/usr/lib/nullmailer"]
    SUFFIX = ".postern-bench-saved"

    def __init__(self, state_file):
        self.state_file = state_file

    def take(self):
        state = {"saved": [], "created": []}
        for p in self.PATHS:
            if os.path.lexists(p):
                os.rename(p, p + self.SUFFIX)
                state["saved"].append(p)
            state["created"].append(p)
            with open(self.state_file, "w") as f:
                json.dump(state, f)

    @classmethod
    def restore(cls, state_file):
        try:
            with open(state_file) as f:
                state = json.load(f)
        except OSError:
            return
        for p in state["created"]:
            if os.path.islink(p) or os.path.isfile(p):
                os.unlink(p)
            elif os.path.isdir(p):
                shutil.rmtree(p)
        for p in state["saved"]:
            if os.path.lexists(p + cls.SUFFIX):
                os.rename(p + cls.SUFFIX, p)
        os.unlink(state_file)


# --------------------------------------------------------------------------
# The tools

class Tool:
    name = "?"
    queueing = True

    def __init__(self, bench):
        self.b = bench
        self.env = dict(os.environ)

    def submit_argv(self, queue_only=False):
        raise NotImplementedError

    def before_submit(self):
        """Called before a timed submission (latency)."""

    def after_submit(self):
        """Called after it, before waiting for the delivery."""

    def queue_count(self):
        return 0

    def set_deferred(self, on):
        pass

    def start_flush(self):
        """Returns a pid to wait for, or None."""
        raise NotImplementedError

    def end_flush(self):
        pass

    def flush_tree_argv(self):
        """argv for runtree.py for the 50 MB delivery, and a stop file."""
        raise NotImplementedError

    programs = []       # (label, path) for footprint
    package = None      # Debian package name
    entry = None        # the submission program
    version = ""


def count_files(d, pred=lambda n: not n.startswith(".")):
    try:
        return sum(1 for n in os.listdir(d) if pred(n))
    except FileNotFoundError:
        return 0


class Postern(Tool):
    name = "postern"
    package = None

    def __init__(self, bench, build):
        super().__init__(bench)
        w = bench.work
        self.bin = f"{build}/postern"
        self.spool = f"{w}/postern/spool"
        self.conf = f"{w}/postern/postern.conf"
        os.makedirs(self.spool, exist_ok=True)
        os.makedirs(f"{w}/postern/mail", exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(f"""[relay]
host = 127.0.0.1
port = {bench.sink.port}
tls = none
auth = none
[sender]
from = {SENDER}
[queue]
dir = {self.spool}
[local]
mailbox = {w}/postern/mail/%u
""")
        self.send_bin = f"{build}/postern-send"
        self.programs = [("postern", self.bin), ("postern-send", self.send_bin),
                         ("postern-deliver", f"{build}/postern-deliver")]
        self.entry = self.bin
        try:
            self.version = subprocess.run(["git", "-C", HERE, "describe", "--always", "--dirty"],
                                          capture_output=True, text=True).stdout.strip()
        except OSError:
            self.version = "?"

    def submit_argv(self, queue_only=False):
        return [self.bin, "-C", self.conf] + (["-odq"] if queue_only else []) + ["-i", RCPT]

    def queue_count(self):
        n = count_files(f"{self.spool}/incoming")
        n += count_files(f"{self.spool}/queue", lambda x: x.endswith(".msg"))
        return n

    def start_flush(self):
        return self.b.run.spawn([self.bin, "-C", self.conf, "-q"])

    def flush_tree_argv(self):
        return [self.bin, "-C", self.conf, "-q"], None


class PosternBusy(Postern):
    """postern's submission while a runner is at work: the harness holds
    the busy-runner lock (flock LOCK_EX on the spool's queue/, what a
    working postern-send holds) during the timed submission, so the front
    end commits, finds the lock held and starts nothing. Then the harness
    lets go and runs postern-send itself, as the runner at work would have
    picked the message up before exiting (not timed)."""
    name = "postern, runner at work"

    def __init__(self, bench, base):
        Tool.__init__(self, bench)
        self.__dict__.update({k: v for k, v in base.__dict__.items() if k != "name"})
        self.lock_fd = None

    def before_submit(self):
        import fcntl
        self.lock_fd = os.open(f"{self.spool}/queue", os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self.lock_fd, fcntl.LOCK_EX)

    def after_submit(self):
        os.close(self.lock_fd)
        self.lock_fd = None
        self.b.run.run([self.send_bin, "-C", self.conf])


class Msmtp(Tool):
    name = "msmtp"
    queueing = False
    package = "msmtp"

    def __init__(self, bench):
        super().__init__(bench)
        p = bench.peers
        self.bin = f"{p}/msmtp/usr/bin/msmtp"
        self.rc = f"{bench.work}/msmtprc"
        with open(self.rc, "w") as f:
            f.write(f"""defaults
auth off
tls off
account bench
host 127.0.0.1
port {bench.sink.port}
from {SENDER}
account default : bench
""")
        os.chmod(self.rc, 0o600)
        self.programs = [("msmtp", self.bin)]
        self.entry = self.bin

    def submit_argv(self, queue_only=False):
        return [self.bin, "-C", self.rc, "-i", RCPT]


class Dma(Tool):
    name = "dma"
    package = "dma"

    def __init__(self, bench):
        super().__init__(bench)
        p = bench.peers
        self.bin = f"{p}/dma/usr/sbin/dma"
        self.spool = f"{bench.work}/dma-spool"
        os.makedirs(self.spool, exist_ok=True)
        # dma runs its queue as group mail (it is setgid mail when installed).
        shutil.chown(self.spool, "root", "mail")
        os.chmod(self.spool, 0o2775)
        os.makedirs("/etc/dma", exist_ok=True)
        self.programs = [("dma", self.bin), ("dma-mbox-create", f"{p}/dma/usr/lib/dma/dma-mbox-create")]
        self.entry = self.bin
        self.set_deferred(False)

    def set_deferred(self, on):
        with open("/etc/dma/dma.conf", "w") as f:
            f.write(f"SMARTHOST 127.0.0.1\nPORT {self.b.sink.port}\nSPOOLDIR {self.spool}\n"
                    f"MAILNAME example.com\nNULLCLIENT\n" + ("DEFER\n" if on else ""))

    def submit_argv(self, queue_only=False):
        return [self.bin, "-i", RCPT]

    def queue_count(self):
        return count_files(self.spool, lambda n: n.startswith("Q"))

    def start_flush(self):
        return self.b.run.spawn([self.bin, "-q"])

    def flush_tree_argv(self):
        return [self.bin, "-q"], None


class Nullmailer(Tool):
    name = "nullmailer"
    package = "nullmailer"

    def __init__(self, bench):
        super().__init__(bench)
        p = f"{bench.peers}/nullmailer"
        self.root = p
        self.bin = f"{p}/usr/sbin/sendmail"
        self.send = f"{p}/usr/sbin/nullmailer-send"
        os.symlink(f"{p}/usr/sbin/nullmailer-queue", "/usr/sbin/nullmailer-queue")
        os.symlink(f"{p}/usr/bin/nullmailer-inject", "/usr/bin/nullmailer-inject")
        os.symlink(f"{p}/usr/lib/nullmailer", "/usr/lib/nullmailer")
        os.makedirs("/etc/nullmailer")
        with open("/etc/nullmailer/remotes", "w") as f:
            f.write(f"127.0.0.1 smtp --port={bench.sink.port}\n")
        with open("/etc/nullmailer/defaultdomain", "w") as f:
            f.write("example.com\n")
        q = "/var/spool/nullmailer"
        for d in ("", "/queue", "/tmp", "/failed"):
            os.makedirs(q + d, exist_ok=True)
            shutil.chown(q + d, "mail", "root")
            os.chmod(q + d, 0o750 if d else 0o755)
        os.mkfifo(f"{q}/trigger", 0o622)
        shutil.chown(f"{q}/trigger", "mail", "root")
        os.chmod(f"{q}/trigger", 0o622)
        self.daemon = None
        self.programs = [("sendmail", self.bin),
                         ("nullmailer-inject", f"{p}/usr/bin/nullmailer-inject"),
                         ("nullmailer-queue", f"{p}/usr/sbin/nullmailer-queue"),
                         ("nullmailer-send", self.send),
                         ("smtp", f"{p}/usr/lib/nullmailer/smtp")]
        self.entry = self.bin
        self.send_argv = ["/usr/bin/setpriv", "--reuid", "mail", "--regid", "mail",
                          "--clear-groups", self.send]
        self.set_deferred(False)

    def set_deferred(self, on):
        if on and self.daemon:
            os.kill(self.daemon, signal.SIGTERM)
            os.waitpid(self.daemon, 0)
            self.daemon = None
        elif not on and not self.daemon:
            self.daemon = self.b.run.spawn(self.send_argv)
            time.sleep(0.2)  # let it open the trigger fifo

    def submit_argv(self, queue_only=False):
        return [self.bin, "-i", RCPT]

    def queue_count(self):
        return count_files("/var/spool/nullmailer/queue")

    def start_flush(self):
        self.daemon = self.b.run.spawn(self.send_argv)
        return None

    def end_flush(self):
        self.set_deferred(True)

    def flush_tree_argv(self):
        return self.send_argv, f"{self.b.work}/stop-nullmailer-send"

    def shutdown(self):
        self.set_deferred(True)


# --------------------------------------------------------------------------
# Messages

def make_message(path, size, subject):
    """A cron-style message (no Date, no Message-ID, bare From), LF line ends,
    of exactly `size` bytes."""
    head = (f"From: root (Cron Daemon)\nTo: {RCPT}\nSubject: {subject}\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=US-ASCII\n"
            "Content-Transfer-Encoding: 7bit\nX-Cron-Env: <SHELL=/bin/sh>\n"
            "X-Cron-Env: <HOME=/root>\nX-Cron-Env: <LOGNAME=root>\n\n").encode()
    line = b"2024-01-01 03:00:01 backup: copied /var/lib/data to /srv/backup (ok)\n"
    with open(path, "wb") as f:
        f.write(head)
        left = size - len(head)
        chunk = line * 4096
        while left > len(chunk):
            f.write(chunk)
            left -= len(chunk)
        body = (line * (left // len(line) + 1))[:left - 1] + b"\n"
        f.write(body)


def median(xs):
    return statistics.median(xs) if xs else None


def rollup(pid):
    """(Rss, Pss, USS = Private_Clean + Private_Dirty, Private_Dirty) in KiB."""
    v = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, rest = line.partition(":")
            if k in ("Rss", "Pss", "Private_Clean", "Private_Dirty"):
                v[k] = int(rest.split()[0])
    return v["Rss"], v["Pss"], v["Private_Clean"] + v["Private_Dirty"], v["Private_Dirty"]


def per_program(procs):
    """Peak RSS (VmHWM) per program name, and the largest Rss, Pss and USS
    sampled from smaps_rollup (a program run several times: its largest)."""
    per, mem = {}, {}
    for p in procs:
        if not p["name"] or p["name"] in ("setpriv",):
            continue
        per[p["name"]] = max(per.get(p["name"], 0), p["hwm_kib"])
        if not p.get("rss_kib"):
            continue  # never sampled (lived under 2 ms, or seen only by a short name)
        m = mem.setdefault(p["name"], {"rss_kib": 0, "pss_kib": 0, "uss_kib": 0, "dirty_kib": 0})
        for k in m:
            m[k] = max(m[k], p.get(k, 0))
    return per, mem


def largest(mem):
    """The program with the most private memory."""
    if not mem:
        return None
    name = max(mem, key=lambda k: (mem[k]["uss_kib"], mem[k]["rss_kib"]))
    return dict(mem[name], name=name)


# --------------------------------------------------------------------------
# The benchmark

class Bench:
    def __init__(self, a):
        self.a = a
        self.peers = os.path.abspath(a.peers)
        self.work = a.work
        self.run = Runner(f"{self.work}/stderr.log")
        self.results = {"meta": {}, "latency": {}, "flush": {}, "big": {}, "big_floor": {},
                        "tls_hold": {},
                        "footprint": {}, "floors": {}, "notes": []}

    # -- set-up ------------------------------------------------------------
    def setup(self):
        self.sink = Sink(self.peers, free_port(), f"{self.work}/sink.log")
        self.hello = self.static_hello()
        self.submit_floor = self.build_floor("submit_floor", "submission floor")
        self.curl_floor = self.build_floor("curl_floor", "libcurl floor", "-lcurl")
        self.msg = f"{self.work}/msg-2k.eml"
        make_message(self.msg, 2048, "Cron <root@host> /usr/local/bin/backup")
        self.tools = []
        self.postern = None
        for n in self.a.note or []:
            self.results["notes"].append(n)
        if self.a.postern:
            p = Postern(self, os.path.abspath(self.a.postern))
            ok, why = self.check_postern(p)
            if ok:
                self.postern = p
                self.tools.append(p)
            else:
                self.results["notes"].append(f"postern not measured: {why}")
                log("postern not functional:", why)
        self.tools += [Msmtp(self), Dma(self), Nullmailer(self)]
        for t in self.tools:
            if t.package:
                t.version = self.deb_field(t.package, "Version")

    def deb_field(self, pkg, field):
        import glob
        debs = glob.glob(f"{self.peers}/debs/{pkg}_*.deb")
        if not debs:
            return "?"
        return subprocess.run(["dpkg-deb", "-f", debs[0], field], capture_output=True,
                              text=True).stdout.strip()

    def check_postern(self, p):
        if not os.access(p.bin, os.X_OK):
            return False, f"{p.bin} missing"
        t, rc = self.run.timed(p.submit_argv(queue_only=True), self.msg)
        if rc != 0:
            return False, f"`postern -odq` exited {rc}"
        _, m0 = self.sink.counts()
        t, rc = self.run.timed([p.bin, "-C", p.conf, "-q"])
        if rc != 0 or not self.sink.wait_mesg(m0 + 1, 10) or p.queue_count():
            return False, f"`postern -q` exited {rc} without delivering"
        return True, ""

    # -- 1. submission latency -------------------------------------------
    def latency(self):
        rounds = self.a.rounds
        tools = list(self.tools)
        if self.postern:
            tools.insert(1, PosternBusy(self, self.postern))
        times = {t.name: [] for t in tools}
        fails = {t.name: 0 for t in tools}
        fs, hello, floor, floor_fails = [], [], [], 0
        floor_dir = f"{self.work}/submit-floor-spool"
        os.makedirs(floor_dir, exist_ok=True)
        # The exec'd submission floor takes its turn among the tools, so
        # that it follows the same kind of neighbour as they do.
        slots = tools + (["submit floor"] if self.submit_floor else [])
        for r in range(rounds + 1):
            order = slots[r % len(slots):] + slots[:r % len(slots)]
            # The in-process floors, in the same rounds as the tools.
            f = self.fsync_sample(3)
            if self.hello:
                h, _ = self.run.timed([self.hello])
            if r > 0:
                fs += f
                if self.hello:
                    hello.append(h)
            for t in order:
                if t == "submit floor":
                    sf, rc = self.run.timed([self.submit_floor, floor_dir], self.msg)
                    for name in os.listdir(floor_dir):  # as a runner would
                        os.unlink(f"{floor_dir}/{name}")
                    if rc != 0:
                        floor_fails += 1
                    elif r > 0:
                        floor.append(sf)
                    time.sleep(0.02)
                    continue
                _, m0 = self.sink.counts()
                t.before_submit()
                dt, rc = self.run.timed(t.submit_argv(), self.msg)
                t.after_submit()
                delivered = self.sink.wait_mesg(m0 + 1, 10) and \
                    wait_until(lambda: t.queue_count() == 0, 10)
                if rc != 0 or not delivered:
                    fails[t.name] += 1
                elif r > 0:  # round 0 warms the caches
                    times[t.name].append(dt)
                time.sleep(0.02)
        self.sink.settle()
        self.results["floors"]["fsync_ms"] = median(fs) * 1e3
        if hello:
            self.results["floors"]["exec_static_hello_in_latency_ms"] = median(hello) * 1e3
        if floor:
            self.results["floors"]["exec_submit_floor_ms"] = median(floor) * 1e3
        if floor_fails:
            self.results["notes"].append(f"the exec'd submission floor failed {floor_fails} "
                                         f"time(s) (see {self.work}/stderr.log)")
        for t in tools:
            xs = times[t.name]
            self.results["latency"][t.name] = {
                "median_ms": median(xs) * 1e3 if xs else None,
                "p10_ms": sorted(xs)[len(xs) // 10] * 1e3 if xs else None,
                "p90_ms": sorted(xs)[len(xs) * 9 // 10] * 1e3 if xs else None,
                "n": len(xs), "failures": fails[t.name]}
            log(f"latency {t.name}: {self.results['latency'][t.name]}")

    # -- 2. flush throughput ---------------------------------------------
    def flush_one(self, t, n):
        s0, m0 = self.sink.settle()
        if not t.queueing:
            start = NOW()
            bad = 0
            for _ in range(n):
                _, rc = self.run.timed(t.submit_argv(), self.msg)
                bad += rc != 0
            ok = self.sink.wait_mesg(m0 + n, 30)
            el = NOW() - start
            s1, m1 = self.sink.settle()
            return {"seconds": el, "rate": n / el, "connections": s1 - s0,
                    "delivered": m1 - m0, "ok": ok and not bad, "queue_ms": None}
        t.set_deferred(True)
        qt = []
        bad = 0
        for _ in range(n):
            dt, rc = self.run.timed(t.submit_argv(queue_only=True), self.msg)
            qt.append(dt)
            bad += rc != 0
        queued = t.queue_count()
        s0, m0 = self.sink.settle(quiet=0.2)
        sink0 = sink_cpu(self.sink.proc.pid)
        start = NOW()
        pid = t.start_flush()
        ok = self.sink.wait_mesg(m0 + n, 120)
        ok = ok and wait_until(lambda: t.queue_count() == 0, 60, 0.001)
        cpu = None
        if pid:
            _, _, ru = os.wait4(pid, 0)
            cpu = ru.ru_utime + ru.ru_stime
        el = NOW() - start
        sink1 = sink_cpu(self.sink.proc.pid)
        t.end_flush()
        t.set_deferred(False)
        s1, m1 = self.sink.settle()
        return {"seconds": el, "rate": n / el, "connections": s1 - s0, "delivered": m1 - m0,
                "ok": ok and not bad and queued == n, "queued": queued,
                "queue_ms": median(qt) * 1e3,
                # CPU of the process the harness started and the children
                # it waited for (postern: postern-send, all its threads;
                # dma and nullmailer hand the work to a daemon, not counted).
                "cpu_us": cpu / n * 1e6 if cpu is not None else None,
                "sink_cpu_us": (sink1 - sink0) / n * 1e6 if sink0 is not None and sink1 is not None
                else None}

    def flush(self):
        n = self.a.messages
        runs = {t.name: [] for t in self.tools}
        conns = postern_connections()
        samples = {1: [], conns: []}
        for r in range(self.a.flush_rounds):
            order = self.tools[r % len(self.tools):] + self.tools[:r % len(self.tools)]
            for k in samples:
                x = self.sink_rate_sample(k)
                log(f"flush: sink rate over {k} connection(s) {x}")
                if x:
                    samples[k].append(x)
            for t in order:
                res = self.flush_one(t, n)
                log(f"flush {t.name} round {r}: {res}")
                runs[t.name].append(res)
        f = self.results["floors"]
        rates = [x["rate"] for x in samples[1]]
        f["sink_rate"] = median(rates)
        f["sink_connections"] = conns
        f["sink_rate_n"] = median([x["rate"] for x in samples[conns]])
        f["sink_source_cpu_us_n"] = median([x["cpu_us"] for x in samples[conns]])
        f["spool_floor"] = self.spool_floor(n)
        f["curl_flush"] = self.curl_flush(n, conns)
        for t in self.tools:
            rs = [x for x in runs[t.name] if x["ok"]]
            self.results["flush"][t.name] = {
                "messages": n,
                "rate": median([x["rate"] for x in rs]) if rs else None,
                "seconds": median([x["seconds"] for x in rs]) if rs else None,
                "connections": median([x["connections"] for x in rs]) if rs else None,
                "queue_ms": median([x["queue_ms"] for x in rs]) if rs and t.queueing else None,
                "cpu_us": median([x["cpu_us"] for x in rs if x.get("cpu_us")]) if rs else None,
                "sink_cpu_us": median([x["sink_cpu_us"] for x in rs if x.get("sink_cpu_us")])
                if rs else None,
                "rounds": runs[t.name]}

    # -- 3. one 50 MB message ---------------------------------------------
    def tree(self, argv, stdin="/dev/null", stop_file=None):
        cmd = ["/usr/bin/python3", f"{HERE}/runtree.py", "--stdin", stdin]
        if stop_file:
            cmd += ["--stop-file", stop_file]
        out = subprocess.run(cmd + ["--"] + argv, capture_output=True, text=True)
        return json.loads(out.stdout)

    def big(self):
        path = f"{self.work}/msg-50m.eml"
        make_message(path, 50 * 1024 * 1024, "50 MB")
        for t in self.tools:
            s0, m0 = self.sink.settle()
            procs = []
            start = NOW()
            if t.queueing:
                t.set_deferred(True)
                sub = self.tree(t.submit_argv(queue_only=True), path)
                procs += [dict(p, stage="submit") for p in sub["procs"]]
                argv, stop = t.flush_tree_argv()
                holder = {}
                th = threading.Thread(target=lambda: holder.update(r=self.tree(argv, stop_file=stop)))
                th.start()
                ok = self.sink.wait_mesg(m0 + 1, 120) and \
                    wait_until(lambda: t.queue_count() == 0, 60)
                if stop:
                    open(stop, "w").close()
                th.join()
                if stop:
                    os.unlink(stop)
                if isinstance(t, Nullmailer):
                    t.daemon = None
                fl = holder["r"]
                procs += [dict(p, stage="deliver") for p in fl["procs"]]
                t.set_deferred(False)
                submit_s = sub["wall_top"]
                rc = sub["rc"]
            else:
                sub = self.tree(t.submit_argv(), path)
                procs += [dict(p, stage="submit+deliver") for p in sub["procs"]]
                ok = self.sink.wait_mesg(m0 + 1, 120)
                submit_s = sub["wall_top"]
                rc = sub["rc"]
            total = NOW() - start
            per, mem = per_program(procs)
            self.results["big"][t.name] = {
                "ok": bool(ok and rc == 0), "submit_s": submit_s, "total_s": total,
                "peak_kib": per, "max_kib": max(per.values()) if per else None,
                "mem": mem, "largest": largest(mem), "procs": procs}
            log(f"50MB {t.name}: ok={ok} rc={rc} submit={submit_s:.3f}s total={total:.3f}s {mem}")
        crlf = f"{self.work}/msg-50m-crlf.eml"
        if self.curl_floor:
            # The floor sends what postern sends: the message with CRLF line
            # ends (libcurl sends the bytes as they are; relay.py refuses
            # bare LF lines that long).
            with open(path, "rb") as src, open(crlf, "wb") as dst:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    dst.write(chunk.replace(b"\n", b"\r\n"))
            # The libcurl floor, the same message to the same sink.
            s0, m0 = self.sink.settle()
            start = NOW()
            r = self.tree([self.curl_floor, f"smtp://127.0.0.1:{self.sink.port}/bench.example",
                           SENDER, RCPT, crlf])
            ok = self.sink.wait_mesg(m0 + 1, 120) and r["rc"] == 0
            per, mem = per_program(r["procs"])
            self.results["big_floor"] = {"ok": ok, "total_s": NOW() - start, "mem": mem,
                                         "peak_kib": per, "largest": largest(mem)}
            log(f"50MB libcurl floor: ok={ok} {mem}")
        self.tls_hold(path, crlf)
        os.unlink(path)
        if os.path.exists(crlf):
            os.unlink(crlf)

    def tls_hold(self, path, crlf):
        """postern-send and the libcurl floor over STARTTLS (verified
        against a throwaway CA given as the CA file) to the test relay
        (tests/integration/relay.py), which reads the client's
        smaps_rollup after the final dot, before it replies: the client has
        sent the whole message and waits, at its steady state. No timing
        is involved in the synchronisation."""
        sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
        try:
            from relay import Relay
            import pki as pkimod
        except ImportError as e:
            self.results["notes"].append(f"TLS memory not measured: {e}")
            return
        d = f"{self.work}/pki"
        os.makedirs(d, exist_ok=True)
        pk = pkimod.make_pki(d)
        relay = Relay(tls="starttls", cert=pk.server).start()
        seen = {}
        target = {}

        def at_final_dot(msg):
            pid = target.get("pid")
            seen[target.get("name")] = rollup(pid) if pid else None
            return "250 2.0.0 Ok: discarded"

        relay.faults["data"] = at_final_dot
        out = {}
        try:
            runs = []
            if self.postern:
                p = self.postern
                conf = f"{self.work}/postern/postern-tls.conf"
                with open(p.conf) as f:
                    text = f.read()
                text = text.replace(f"port = {self.sink.port}", f"port = {relay.port}")
                text = text.replace("tls = none", f"tls = starttls\nca_file = {pk.ca}")
                with open(conf, "w") as f:
                    f.write(text)
                runs.append(("postern-send", [p.bin, "-C", conf, "-odq", "-i", RCPT],
                             [p.send_bin, "-C", conf, "--flush"]))
            if self.curl_floor:
                runs.append(("libcurl floor", None,
                             [self.curl_floor, f"smtp://127.0.0.1:{relay.port}/bench.example",
                              SENDER, RCPT, crlf, pk.ca]))
            # Three interleaved rounds, median of each figure: USS moves
            # with what else maps the same library pages at that instant.
            got = {name: [] for name, _, _ in runs}
            for _ in range(3):
                for name, queue, argv in runs:
                    if queue:
                        self.run.run(queue, path)
                    target.clear()
                    seen.clear()
                    target["name"] = name
                    pid = self.run.spawn(argv)
                    target["pid"] = pid
                    _, st = os.waitpid(pid, 0)
                    m = seen.get(name)
                    if os.waitstatus_to_exitcode(st) == 0 and m:
                        got[name].append(m)
            for name, ms in got.items():
                keys = ("rss_kib", "pss_kib", "uss_kib", "dirty_kib")
                out[name] = {"ok": len(ms) == 3, "runs": len(ms)}
                out[name].update({k: median([m[i] for m in ms]) if ms else None
                                  for i, k in enumerate(keys)})
                log(f"50MB over TLS, held at the final reply: {name} {out[name]}")
        finally:
            relay.stop()
        self.results["tls_hold"] = out

    # -- 4. footprint -------------------------------------------------------
    def footprint(self):
        hello = self.hello
        progs_argv = {}
        for t in self.tools:
            sizes = {}
            for label, path in t.programs:
                if not os.path.exists(path):
                    continue
                tmp = f"{self.work}/stripped"
                r = subprocess.run(["strip", "-o", tmp, path], capture_output=True)
                sizes[label] = os.path.getsize(tmp if r.returncode == 0 else path)
                if os.path.exists(tmp):
                    os.unlink(tmp)
            ldd = subprocess.run(["ldd", t.entry], capture_output=True, text=True).stdout
            libs = [ln.split()[0] for ln in ldd.splitlines()
                    if ln.strip() and "linux-vdso" not in ln]
            bad = [lib for lib in libs if any(k in lib for k in ("libcurl", "libssl", "libcrypto"))]
            self.results["footprint"][t.name] = {
                "program_bytes": sizes, "total_bytes": sum(sizes.values()),
                "package_kib": int(self.deb_field(t.package, "Installed-Size")) if t.package else None,
                "libs": libs, "nlibs": len(libs), "curl_or_openssl": bad}
            progs_argv[t.name] = [t.entry, "-Z"]  # unknown flag: start, parse, exit
        if hello:
            progs_argv["static hello"] = [hello]
        # Start-up time, interleaved.
        st = {k: [] for k in progs_argv}
        for r in range(self.a.startup_rounds + 5):
            for k, argv in progs_argv.items():
                dt, _ = self.run.timed(argv)
                if r >= 5:
                    st[k].append(dt)
        for k, xs in st.items():
            if k == "static hello":
                self.results["floors"]["exec_static_hello_ms"] = median(xs) * 1e3
            else:
                self.results["footprint"][k]["startup_ms"] = median(xs) * 1e3
        if self.postern:
            self.results["footprint"]["postern"]["loaded_at_run"] = self.loaded_at_run()

    def loaded_at_run(self):
        """Every shared object the front end maps during a real submission
        (LD_DEBUG also shows dlopen()ed ones, which ldd cannot)."""
        out = f"{self.work}/lddebug"
        env = dict(os.environ, LD_DEBUG="files", LD_DEBUG_OUTPUT=out)
        self.run.run(self.postern.submit_argv(queue_only=True), self.msg, env)
        libs = set()
        import glob
        for fn in glob.glob(out + ".*"):
            with open(fn) as f:
                for ln in f:
                    if "file=" in ln and "generating link map" in ln:
                        libs.add(ln.split("file=")[1].split()[0].rstrip(";"))
            os.unlink(fn)
        # Deliver what we just queued so the queue is empty again.
        self.run.run([self.postern.bin, "-C", self.postern.conf, "-q"])
        return sorted(libs)

    def build_floor(self, name, what, *libs):
        """Builds bench/NAME.c (cc -O2, dynamically linked, as Debian
        programs are) into the work directory; None, with a note, when it
        does not build."""
        exe = f"{self.work}/{name.replace('_', '-')}"
        r = subprocess.run(["cc", "-O2", "-o", exe, f"{HERE}/{name}.c", *libs],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.results["notes"].append(f"{what} not built: " + r.stderr.strip()[-200:])
            return None
        return exe

    def static_hello(self):
        src = f"{self.work}/hello.c"
        exe = f"{self.work}/hello"
        with open(src, "w") as f:
            f.write('#include <unistd.h>\nint main(void){write(1,"hello\\n",6);return 0;}\n')
        r = subprocess.run(["cc", "-O2", "-static", "-o", exe, src], capture_output=True)
        return exe if r.returncode == 0 else None

    # -- 5. floors ------------------------------------------------------------
    def fsync_sample(self, count):
        """write 2 KB + fsync + rename + fsync(dir), in process, in the
        spool's file system; returns the times."""
        d = f"{self.work}/fsync-floor"
        os.makedirs(d, exist_ok=True)
        dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        data = os.urandom(2048)
        xs = []
        for i in range(count):
            self.fsync_seq = getattr(self, "fsync_seq", 0) + 1
            name = f"{d}/m{self.fsync_seq}"
            t = NOW()
            fd = os.open(f"{d}/.tmp", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, data)
            os.fsync(fd)
            os.close(fd)
            os.rename(f"{d}/.tmp", name)
            os.fsync(dfd)
            xs.append(NOW() - t)
        os.close(dfd)
        return xs

    def sink_rate_sample(self, sessions=1):
        """The sink over persistent connections: smtp-source -d sends the
        next message on the same session, over `sessions` at once. Returns
        {"rate", "cpu_us": smtp-source's and the sink's CPU per message}."""
        env = dict(os.environ, LD_LIBRARY_PATH=f"{self.peers}/postfix/usr/lib/postfix")
        n = self.a.messages
        s0, m0 = self.sink.settle(quiet=0.2)
        c0, k0 = children_cpu(), sink_cpu(self.sink.proc.pid)
        t = NOW()
        r = subprocess.run([f"{self.peers}/postfix/usr/sbin/smtp-source", "-d", "-s", str(sessions),
                            "-m", str(n), "-l", "2048", "-f", SENDER, "-t", RCPT,
                            f"127.0.0.1:{self.sink.port}"], env=env, capture_output=True)
        dt = NOW() - t
        ok = self.sink.wait_mesg(m0 + n, 10)
        c1, k1 = children_cpu(), sink_cpu(self.sink.proc.pid)
        if r.returncode != 0 or not ok:
            return None
        cpu = (c1 - c0) + ((k1 - k0) if k0 is not None and k1 is not None else 0)
        return {"rate": n / dt, "cpu_us": cpu / n * 1e6}

    def curl_flush(self, n, threads):
        """bench/curl_flush.c: libcurl alone sending n messages to the sink
        over `threads` connections, nothing of postern: the client's floor."""
        exe = self.build_floor("curl_flush", "libcurl flush floor", "-lcurl", "-lpthread")
        if not exe:
            return None
        crlf = f"{self.work}/msg-2k.crlf"
        with open(self.msg, "rb") as fi, open(crlf, "wb") as fo:
            fo.write(fi.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        xs = []
        for _ in range(3):
            s0, m0 = self.sink.settle(quiet=0.2)
            k0 = sink_cpu(self.sink.proc.pid)
            out = subprocess.run([exe, f"smtp://127.0.0.1:{self.sink.port}/bench.example", SENDER,
                                  RCPT, crlf, str(n), str(threads)], capture_output=True, text=True)
            ok = self.sink.wait_mesg(m0 + n, 10)
            k1 = sink_cpu(self.sink.proc.pid)
            if out.returncode == 0 and ok:
                cpu, wall = out.stdout.split()
                xs.append((float(cpu), 1e6 / float(wall),
                           (k1 - k0) / n * 1e6 if k0 is not None and k1 is not None else None))
        if not xs:
            return None
        return {"cpu_us": median([x[0] for x in xs]), "rate": median([x[1] for x in xs]),
                "sink_cpu_us": median([x[2] for x in xs if x[2] is not None]),
                "connections": threads}

    def spool_floor(self, n):
        """bench/spool_floor.c on the spool's file system: the file-system
        work of delivering n messages at the first attempt, nothing else."""
        exe = self.build_floor("spool_floor", "spool floor")
        if not exe:
            return None
        xs = []
        for i in range(3):
            d = f"{self.work}/spool-floor.{i}"
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            out = subprocess.run([exe, d, str(n)], capture_output=True, text=True)
            shutil.rmtree(d, ignore_errors=True)
            if out.returncode == 0:
                cpu, wall = out.stdout.split()
                xs.append((float(cpu), float(wall)))
        if not xs:
            return None
        return {"cpu_us": median([x[0] for x in xs]), "wall_us": median([x[1] for x in xs])}

    def floors(self):
        """The floors measured alone, back to back; the ones the ratios use
        are measured interleaved with the tools (latency() and flush()),
        so that they see the same load as the tools."""
        self.fsync_sample(10)
        xs = self.fsync_sample(self.a.fsync_rounds)
        self.results["floors"]["fsync_ms_alone"] = median(xs) * 1e3
        rates = [x["rate"] for x in (self.sink_rate_sample() for _ in range(2)) if x]
        self.results["floors"]["sink_rate_alone"] = median(rates)
        log(f"floors: {self.results['floors']}")

    # -- meta -------------------------------------------------------------
    def meta(self):
        m = self.results["meta"]
        m["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        m["kernel"] = platform.release()
        m["cpus"] = os.cpu_count()
        try:
            with open("/proc/cpuinfo") as f:
                m["cpu"] = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
        except (OSError, StopIteration):
            m["cpu"] = "?"
        fs = subprocess.run(["df", "--output=fstype", self.work], capture_output=True, text=True)
        m["fs"] = fs.stdout.split()[-1] if fs.stdout else "?"
        try:
            with open("/etc/debian_version") as f:
                m["debian"] = f.read().strip()
        except OSError:
            m["debian"] = "?"
        m["versions"] = {t.name: t.version for t in self.tools}
        m["params"] = {"rounds": self.a.rounds, "messages": self.a.messages,
                       "flush_rounds": self.a.flush_rounds}

    def shutdown(self):
        for t in getattr(self, "tools", []):
            if hasattr(t, "shutdown"):
                try:
                    t.shutdown()
                except Exception as e:  # noqa: BLE001 - best effort at exit
                    log("shutdown", t.name, e)
        if hasattr(self, "sink"):
            self.sink.stop()


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--postern", help="postern build directory (omit: peers only)")
    ap.add_argument("--peers", required=True)
    ap.add_argument("--work", default="/tmp/postern-bench")
    ap.add_argument("--out", default=f"{HERE}/RESULTS.md")
    ap.add_argument("--chart", default=f"{HERE}/ratios.png")
    ap.add_argument("--json", default=f"{HERE}/results.json")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 40)))
    ap.add_argument("--messages", type=int, default=int(os.environ.get("BENCH_MESSAGES", 1000)))
    ap.add_argument("--flush-rounds", type=int, default=int(os.environ.get("BENCH_FLUSH_ROUNDS", 2)))
    ap.add_argument("--startup-rounds", type=int, default=200)
    ap.add_argument("--fsync-rounds", type=int, default=200)
    ap.add_argument("--only", default=os.environ.get("BENCH_ONLY", "latency,flush,big,footprint,floors"))
    ap.add_argument("--note", action="append", help="a line for RESULTS.md")
    ap.add_argument("--restore", action="store_true", help="undo an interrupted run's system changes")
    a = ap.parse_args()
    state = f"{a.work}.state"
    if a.restore:
        SystemPaths.restore(state)
        return
    if os.geteuid() != 0:
        sys.exit("bench.py: run as root (dma and nullmailer use fixed system paths)")
    SystemPaths.restore(state)  # a previous run killed before its clean-up
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    os.chmod(a.work, 0o755)
    sysp = SystemPaths(state)
    b = Bench(a)

    def on_signal(sig, _frame):
        raise KeyboardInterrupt(f"signal {sig}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        sysp.take()
        b.setup()
        b.meta()
        only = a.only.split(",")
        t0 = NOW()
        for part in ("floors", "footprint", "latency", "flush", "big"):
            if part in only:
                log(f"-- {part} ({NOW() - t0:.0f}s)")
                getattr(b, part)()
        log(f"measured in {NOW() - t0:.0f}s")
    finally:
        b.shutdown()
        SystemPaths.restore(state)
    with open(a.json, "w") as f:
        json.dump(b.results, f, indent=1)
    import report
    report.write(b.results, a.out, a.chart, a.work)


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()
