#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Run one command and report the peak RSS of every process it starts.

    runtree.py [--stdin FILE] [--stop-file F] [--timeout S] -- CMD ARG...

The helper makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so
processes that daemonize (dma -q forks one deliverer per message and
detaches) are re-parented to it instead of init. Every 2 ms it walks its
descendants through /proc/PID/task/*/children and records each one's VmHWM
(peak resident set); it reaps every child with wait4(), whose ru_maxrss
covers the last moments the sampler may have missed. It returns when the
command and every descendant have exited. When --stop-file appears, the
command gets SIGTERM (used for nullmailer-send, a daemon).

Prints one JSON object: rc, wall_top (command's own run time), wall_tree
(until the last descendant exited), procs: [{pid, name, hwm_kib, rss_kib,
pss_kib, uss_kib, dirty_kib}]. RSS counts every resident page, shared library pages
included; so each sample also reads /proc/PID/smaps_rollup: Rss, Pss
(shared pages divided among their users) and USS (Private_Clean +
Private_Dirty: what the box would get back if the process exited) and
Private_Dirty alone. Each is
the largest value seen over the samples (0 for a process too short-lived
to be sampled).
"""
import ctypes
import json
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out.extend(int(x) for x in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return out


def status(pid):
    name, hwm = None, None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Name:"):
                    name = line.split(None, 1)[1].strip()
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
                    break
    except OSError:
        return None, None
    try:
        name = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        pass
    return name, hwm


def rollup(pid):
    """(rss, pss, uss, private dirty) in KiB from /proc/PID/smaps_rollup, or None."""
    v = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                k, _, rest = line.partition(":")
                if k in ("Rss", "Pss", "Private_Clean", "Private_Dirty"):
                    v[k] = int(rest.split()[0])
    except (OSError, ValueError):
        return None
    if "Rss" not in v:
        return None  # a zombie or a kernel thread: no mappings
    return (v["Rss"], v.get("Pss", 0), v.get("Private_Clean", 0) + v.get("Private_Dirty", 0),
            v.get("Private_Dirty", 0))


def main():
    args = sys.argv[1:]
    stdin = "/dev/null"
    stop_file = None
    timeout = 300.0
    while args and args[0] != "--":
        opt = args.pop(0)
        if opt == "--stdin":
            stdin = args.pop(0)
        elif opt == "--stop-file":
            stop_file = args.pop(0)
        elif opt == "--timeout":
            timeout = float(args.pop(0))
        else:
            sys.exit(f"runtree: unknown option {opt}")
    cmd = args[1:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("runtree: prctl(PR_SET_CHILD_SUBREAPER) failed")
    me = os.getpid()
    procs = {}  # pid -> [name, hwm_kib, rss_kib, pss_kib, uss_kib, dirty_kib]

    def note(pid, name, hwm, mem=None):
        entry = procs.setdefault(pid, [name, 0, 0, 0, 0, 0])
        if name and entry[0] != name:
            # exec() replaced the image: a new program, a new peak.
            if entry[1]:
                procs[f"{pid}:{entry[0]}"] = list(entry)
            entry[0], entry[1:] = name, [0, 0, 0, 0, 0]
        if hwm:
            entry[1] = max(entry[1], hwm)
        if mem:
            for i, x in enumerate(mem):
                entry[2 + i] = max(entry[2 + i], x)

    t0 = time.perf_counter()
    top = os.posix_spawn(cmd[0], cmd, os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, stdin, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
    ])
    rc = None
    wall_top = None
    stopped = False
    while True:
        # Sample every descendant.
        todo = children(me)
        seen = []
        while todo:
            pid = todo.pop()
            seen.append(pid)
            name, hwm = status(pid)
            if hwm is not None:  # None: a zombie, its memory is gone
                note(pid, name, hwm, rollup(pid))
            todo.extend(children(pid))
        # Reap.
        while True:
            try:
                pid, st, ru = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                pid = -1
                break
            if pid == 0:
                break
            # ru_maxrss also covers the children this process reaped
            # itself, so it is used only for a process the sampler
            # never saw (lived under 2 ms).
            entry = procs.get(pid)
            if entry is None or not entry[1]:
                note(pid, entry[0] if entry else None, ru.ru_maxrss)
            if pid == top:
                rc = os.waitstatus_to_exitcode(st)
                wall_top = time.perf_counter() - t0
        if pid == -1 and rc is not None:
            break
        now = time.perf_counter() - t0
        if stop_file and not stopped and rc is None and os.path.exists(stop_file):
            os.kill(top, signal.SIGTERM)
            stopped = True
        if now > timeout:
            for p in seen:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        time.sleep(0.002)
    wall_tree = time.perf_counter() - t0
    out = {"rc": rc, "wall_top": wall_top, "wall_tree": wall_tree,
           "procs": [{"pid": str(k), "name": v[0], "hwm_kib": v[1], "rss_kib": v[2],
                      "pss_kib": v[3], "uss_kib": v[4], "dirty_kib": v[5]}
                     for k, v in procs.items()]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
