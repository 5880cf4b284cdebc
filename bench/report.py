# SPDX-License-Identifier: ISC
"""Turns bench.py's results into bench/RESULTS.md and the ratio chart."""
import os
import subprocess

PEERS = ["msmtp", "dma", "nullmailer"]
QUEUEING = ["dma", "nullmailer"]
MIB = 1024
BUSY = "postern, runner at work"


def mib(kib):
    return "n/a" if not kib else f"{kib / MIB:.1f} MiB"


def fmt(x, nd=2, unit=""):
    if x is None:
        return "n/a"
    if isinstance(x, float):
        if abs(x) >= 100:
            return f"{x:.0f}{unit}"
        return f"{x:.{nd}f}{unit}"
    return f"{x}{unit}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def times(x):
    return "n/a" if x is None else f"{x:.2f}×"


def compute(r):
    """Every ratio the issue asks for; higher-is-better "advantage" ratios
    are peer/postern for costs and postern/peer for rates."""
    lat = r["latency"]
    fl = r["flush"]
    big = r["big"]
    fp = r["footprint"]
    floors = r["floors"]
    have = "postern" in lat and lat["postern"].get("median_ms") is not None
    p_lat = lat.get("postern", {}).get("median_ms")
    p_rate = fl.get("postern", {}).get("rate")
    p_rss = big.get("postern", {}).get("max_kib") if big.get("postern", {}).get("ok") else None
    p_start = fp.get("postern", {}).get("startup_ms")
    p_size = fp.get("postern", {}).get("total_bytes")
    adv = {}
    for peer in PEERS:
        adv[peer] = {
            "submission": ratio(lat.get(peer, {}).get("median_ms"), p_lat),
            "flush": ratio(p_rate, fl.get(peer, {}).get("rate")),
            "peak RSS": ratio(big.get(peer, {}).get("max_kib"), p_rss),
            "start-up": ratio(fp.get(peer, {}).get("startup_ms"), p_start),
            "size": ratio(fp.get(peer, {}).get("total_bytes"), p_size),
        }
    q_lats = [lat[p]["median_ms"] for p in QUEUEING if lat.get(p, {}).get("median_ms")]
    fastest_q = min(q_lats) if q_lats else None
    fastest_q_name = next((p for p in QUEUEING if lat.get(p, {}).get("median_ms") == fastest_q), None)
    rates = [(fl[p]["rate"], p) for p in PEERS if fl.get(p, {}).get("rate")]
    best_rate, best_rate_name = max(rates) if rates else (None, None)
    peer_rss = {p: big[p]["max_kib"] for p in PEERS if big.get(p, {}).get("max_kib")}
    curl = fp.get("postern", {}).get("curl_or_openssl")
    at_run = fp.get("postern", {}).get("loaded_at_run")
    if at_run is not None:
        curl = (curl or []) + [x for x in at_run
                               if any(k in x for k in ("libcurl", "libssl", "libcrypto"))]
    dist = {}  # tool -> distance to floors (cost/floor; lower is better)
    for t in ["postern"] + PEERS:
        dist[t] = {
            "submission / fsync floor": ratio(lat.get(t, {}).get("median_ms"), floors.get("fsync_ms")),
            "submission / exec'd floor": ratio(lat.get(t, {}).get("median_ms"),
                                               floors.get("exec_submit_floor_ms")),
            # The sink over as many connections as postern uses by default.
            "sink rate / flush rate": ratio(floors.get("sink_rate_n") or floors.get("sink_rate"),
                                            fl.get(t, {}).get("rate")),
            "start-up / static hello": ratio(fp.get(t, {}).get("startup_ms"),
                                             floors.get("exec_static_hello_ms")),
        }
    targets = []
    if have:
        v = ratio(fastest_q, p_lat)
        targets.append(("submission ≥ 2× faster than the fastest queueing peer"
                        f" ({fastest_q_name})", times(v), v is not None and v >= 2))
        v = dist["postern"]["submission / fsync floor"]
        targets.append(("submission within 2× of the fsync floor", times(v), v is not None and v <= 2))
        v = dist["postern"]["submission / exec'd floor"]
        targets.append(("submission within 2× of the exec'd submission floor (bench/submit_floor.c)",
                        times(v), v is not None and v <= 2))
        v = ratio(p_rate, best_rate)
        targets.append((f"flush ≥ 2× the best peer's messages/s ({best_rate_name})", times(v),
                        v is not None and v >= 2))
        v = dist["postern"]["sink rate / flush rate"]
        targets.append((f"flush within 2× of the sink's rate over the same number of connections"
                        f" ({floors.get('sink_connections')})", times(v), v is not None and v <= 2))
        pk = big.get("postern", {}).get("peak_kib", {})
        worst = max(pk.values()) if pk else None
        targets.append(("50 MB: every postern process ≤ 8 MiB peak RSS",
                        fmt(worst / MIB if worst else None, 1, " MiB"),
                        worst is not None and worst <= 8 * MIB))
        lowest = min(peer_rss.values()) if peer_rss else None
        v = ratio(lowest, worst)
        targets.append(("50 MB: postern's largest process below every peer's largest",
                        f"{fmt(worst / MIB if worst else None, 1)} vs "
                        f"{fmt(lowest / MIB if lowest else None, 1)} MiB",
                        worst is not None and lowest is not None and worst < lowest))
        v = ratio(lat.get("dma", {}).get("median_ms"),
                  lat.get(BUSY, {}).get("median_ms"))
        targets.append(("submission while a runner is at work ≥ 2× faster than dma", times(v),
                        v is not None and v >= 2))
        mem = big.get("postern", {}).get("mem", {})
        send_uss = mem.get("postern-send", {}).get("uss_kib")
        dma_l = big.get("dma", {}).get("largest") or {}
        targets.append(("50 MB: postern-send's private memory (USS) ≤ dma's largest process's",
                        f"{mib(send_uss)} vs {mib(dma_l.get('uss_kib'))}",
                        bool(send_uss and dma_l.get("uss_kib") and send_uss <= dma_l["uss_kib"])))
        targets.append(("50 MB: postern-send's private memory (USS) ≤ 4 MiB", mib(send_uss),
                        bool(send_uss and send_uss <= 4 * MIB)))
        targets.append(("submission program loads neither libcurl nor OpenSSL",
                        ", ".join(sorted(set(curl))) if curl else
                        "none loaded" if curl is not None else "n/a",
                        curl is not None and not curl))
    return {"have": have, "adv": adv, "dist": dist, "targets": targets,
            "fastest_q": fastest_q_name, "best_rate": best_rate_name}


def write(r, out, chart, work):
    c = compute(r)
    m = r["meta"]
    tools = [t for t in ["postern"] + PEERS if t in r["latency"] or t in r["footprint"]]
    lat_tools = tools[:1] + ([BUSY] if BUSY in r["latency"] else []) + tools[1:]
    L = []
    a = L.append
    a("# postern benchmark results")
    a("")
    a("Generated by `sudo bash bench/run.sh` (method and caveats: [README.md](README.md)). "
      "Do not edit by hand.")
    a("")
    a(f"- Run: {m.get('date')}, Debian {m.get('debian')}, kernel {m.get('kernel')}, "
      f"{m.get('cpus')} × {m.get('cpu')}, spool file system {m.get('fs')}")
    a("- Versions: " + ", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items()))
    p = m.get("params", {})
    a(f"- Parameters: {p.get('rounds')} interleaved submission rounds, "
      f"{p.get('messages')} messages × {p.get('flush_rounds')} interleaved flush rounds; "
      "every figure is a median")
    for n in r.get("notes", []):
        a(f"- **{n}**")
    a("")
    a(f"![ratios]({os.path.basename(chart)})")
    a("")
    a("## Targets")
    a("")
    if c["targets"]:
        a("| target | measured | met |")
        a("|---|---|---|")
        for name, val, ok in c["targets"]:
            met = "yes" if ok else "not measured" if val.startswith("n/a") else "**no**"
            a(f"| {name} | {val} | {met} |")
    else:
        a("postern was not measured in this run: no target can be judged (see the notes above).")
    a("")

    a("## 1. Submission latency (2 KB cron message, `sendmail -i rcpt`, relay reachable)")
    a("")
    a("What the caller waits for: msmtp holds the SMTP session; dma, nullmailer and "
      "postern queue and start a delivery in the background.")
    a("")
    a(f"`{BUSY}`: the same submission while the harness holds the busy-runner lock, as a "
      "working postern-send does: the front end commits, finds the lock held and starts "
      "nothing (the runner at work picks the message up before it exits).")
    a("")
    a("| tool | median | p10 | p90 | runs | ÷ postern |")
    a("|---|---|---|---|---|---|")
    for t in lat_tools:
        x = r["latency"].get(t, {})
        rr = c["adv"].get(t, {}).get("submission") if t not in ("postern", BUSY) else \
            ratio(x.get("median_ms"), r["latency"]["postern"].get("median_ms")) if c["have"] \
            else None
        a(f"| {t} | {fmt(x.get('median_ms'), 2, ' ms')} | {fmt(x.get('p10_ms'), 2, ' ms')} | "
          f"{fmt(x.get('p90_ms'), 2, ' ms')} | {x.get('n', 'n/a')}"
          f"{' (' + str(x['failures']) + ' failed)' if x.get('failures') else ''} | {times(rr)} |")
    a("")

    a(f"## 2. Flush throughput ({p.get('messages')} queued 2 KB messages to the sink)")
    a("")
    a("msmtp has no queue: its row is that many sequential invocations. postern uses its "
      f"default `[relay] connections` ({r['floors'].get('sink_connections')}).")
    a("")
    a("| tool | messages/s | time | SMTP connections | queue-only submit | postern ÷ tool |")
    a("|---|---|---|---|---|---|")
    for t in tools:
        x = r["flush"].get(t, {})
        rr = c["adv"].get(t, {}).get("flush") if t != "postern" else 1.0 if c["have"] else None
        a(f"| {t} | {fmt(x.get('rate'), 1)} | {fmt(x.get('seconds'), 2, ' s')} | "
          f"{fmt(x.get('connections'))} | {fmt(x.get('queue_ms'), 2, ' ms')} | {times(rr)} |")
    a("")
    fl = r["flush"].get("postern", {})
    f = r["floors"]
    sf = f.get("spool_floor") or {}
    if fl.get("rate"):
        a("Where the flush floor is: CPU time per message (user + system), the machine's "
          f"{r['meta'].get('cpus')} cores shared by client and sink.")
        a("")
        a("| what | per message |")
        a("|---|---|")
        a(f"| postern-send, all its threads | {fmt(fl.get('cpu_us'), 0, ' µs')} |")
        a(f"| smtp-sink while postern flushes | {fmt(fl.get('sink_cpu_us'), 0, ' µs')} |")
        a(f"| smtp-source and smtp-sink over {f.get('sink_connections')} connections "
          f"({fmt(f.get('sink_rate_n'), 0, ' messages/s')}) | "
          f"{fmt(f.get('sink_source_cpu_us_n'), 0, ' µs')} |")
        cf = f.get("curl_flush") or {}
        a(f"| libcurl alone over {cf.get('connections')} connections, no spool "
          f"(bench/curl_flush.c, {fmt(cf.get('rate'), 0, ' messages/s')}) | "
          f"{fmt(cf.get('cpu_us'), 0, ' µs')}, the sink {fmt(cf.get('sink_cpu_us'), 0, ' µs')} |")
        a(f"| spool floor: open, flock, fstat, read, rename, unlink, close "
          f"(bench/spool_floor.c) | {fmt(sf.get('cpu_us'), 0, ' µs')} CPU, "
          f"{fmt(sf.get('wall_us'), 0, ' µs')} wall |")
        a("")

    a("## 3. One 50 MB message (submit queue-only, then deliver)")
    a("")
    a("| tool | submit wall | end-to-end wall | peak RSS of each process | largest | tool ÷ postern |")
    a("|---|---|---|---|---|---|")
    for t in tools:
        x = r["big"].get(t, {})
        per = ", ".join(f"{k} {v / MIB:.1f} MiB" for k, v in
                        sorted(x.get("peak_kib", {}).items(), key=lambda kv: -kv[1]))
        rr = c["adv"].get(t, {}).get("peak RSS") if t != "postern" else 1.0 if c["have"] else None
        okmark = "" if x.get("ok", True) else " (**failed**)"
        a(f"| {t}{okmark} | {fmt(x.get('submit_s'), 2, ' s')} | {fmt(x.get('total_s'), 2, ' s')} | "
          f"{per or 'n/a'} | {fmt(x['max_kib'] / MIB if x.get('max_kib') else None, 1, ' MiB')} | "
          f"{times(rr)} |")
    a("")

    a("### Memory of each tool's largest process on the 50 MB message")
    a("")
    a("RSS counts every resident page, shared library pages included; PSS divides shared "
      "pages among the processes that map them; USS (Private_Clean + Private_Dirty) is what "
      "the box gets back when the process exits. Largest values over the samples of "
      "/proc/PID/smaps_rollup (every 2 ms, bench/runtree.py); \"largest\" is the process with "
      "the most USS. A library page counts as private only while no other process maps it, "
      "so USS moves with what else runs on the box; Private_Dirty (\"of which dirty\": "
      "relocated data, heap, stacks) does not. The libcurl floor is bench/curl_floor.c: a C "
      "program that only links "
      "libcurl and sends the message the way libcurl's SMTP example does.")
    a("")
    a("| tool | largest process | peak RSS | RSS | PSS | USS | of which dirty | USS of every process |")
    a("|---|---|---|---|---|---|---|---|")
    rows = [(t, r["big"].get(t, {})) for t in tools]
    if r.get("big_floor"):
        rows.append(("libcurl floor", r["big_floor"]))
    for t, x in rows:
        lg = x.get("largest") or {}
        allp = ", ".join(f"{k} {mib(v['uss_kib'])}" for k, v in
                         sorted(x.get("mem", {}).items(), key=lambda kv: -kv[1]["uss_kib"]))
        peak = x.get("peak_kib", {}).get(lg.get("name")) if x.get("peak_kib") else None
        a(f"| {t}{'' if x.get('ok', True) else ' (**failed**)'} | {lg.get('name', 'n/a')} | "
          f"{mib(peak)} | {mib(lg.get('rss_kib'))} | {mib(lg.get('pss_kib'))} | "
          f"{mib(lg.get('uss_kib'))} | {mib(lg.get('dirty_kib'))} | {allp or 'n/a'} |")
    a("")
    th = r.get("tls_hold") or {}
    if th:
        a("Over STARTTLS (certificate verified against a CA file), to the test relay "
          "(tests/integration/relay.py), which reads the client's smaps_rollup after the final "
          "dot and only then replies: the client has sent all 50 MB and waits, at its steady "
          "state (no sampling, no timing). Median of 3 interleaved runs.")
        a("")
        a("| client | RSS | PSS | USS | of which dirty |")
        a("|---|---|---|---|---|")
        for k, v in th.items():
            a(f"| {k}{'' if v.get('ok') else ' (**failed**)'} | {mib(v.get('rss_kib'))} | "
              f"{mib(v.get('pss_kib'))} | {mib(v.get('uss_kib'))} | {mib(v.get('dirty_kib'))} |")
        a("")

    a("## 4. Footprint")
    a("")
    a("| tool | programs (stripped) | total | Debian package | libraries loaded by the submission "
      "program | start-up | libcurl/OpenSSL |")
    a("|---|---|---|---|---|---|---|")
    for t in tools:
        x = r["footprint"].get(t, {})
        progs = ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in x.get("program_bytes", {}).items())
        a(f"| {t} | {progs or 'n/a'} | "
          f"{fmt(x['total_bytes'] / 1024 if x.get('total_bytes') else None, 0, ' KiB')} | "
          f"{fmt(x.get('package_kib'), 0, ' KiB')} | {x.get('nlibs', 'n/a')} | "
          f"{fmt(x.get('startup_ms'), 2, ' ms')} | "
          f"{', '.join(x.get('curl_or_openssl') or []) or ('none' if x else 'n/a')} |")
    a("")
    pf = r["footprint"].get("postern", {})
    if pf.get("libs"):
        a(f"postern's front end links: {', '.join(pf['libs'])}.")
        if pf.get("loaded_at_run") is not None:
            a(f"Mapped during a real submission (LD_DEBUG): {', '.join(pf['loaded_at_run'])}.")
        a("")
    a("Start-up: `PROGRAM -Z` (an unknown flag: load, initialise, parse, exit), "
      "median of interleaved runs.")
    a("")

    a("## 5. Floors on this machine, and each tool's distance to them")
    a("")
    f = r["floors"]
    a("Measured interleaved with the tools (these are the floors the ratios use), and alone "
      "before the tools ran (other work on the machine shows as the difference):")
    a("")
    a(f"- write 2 KB + fsync + rename + directory fsync, in process: "
      f"**{fmt(f.get('fsync_ms'), 3, ' ms')}** (alone: {fmt(f.get('fsync_ms_alone'), 3, ' ms')})")
    a(f"- smtp-sink over one persistent connection (smtp-source -d): "
      f"**{fmt(f.get('sink_rate'), 0, ' messages/s')}** "
      f"(alone: {fmt(f.get('sink_rate_alone'), 0, ' messages/s')}); over "
      f"{f.get('sink_connections')} (smtp-source -d -s {f.get('sink_connections')}): "
      f"**{fmt(f.get('sink_rate_n'), 0, ' messages/s')}**")
    a(f"- spawning a static hello world through the same harness (no fsync): "
      f"**{fmt(f.get('exec_static_hello_in_latency_ms'), 3, ' ms')}**")
    sf = f.get("exec_submit_floor_ms")
    dma = r["latency"].get("dma", {}).get("median_ms")
    a(f"- the exec'd submission floor (bench/submit_floor.c: a dynamically linked program that "
      f"reads the message from stdin, writes, fsyncs and renames it and fsyncs the directory, "
      f"through the same harness): **{fmt(sf, 3, ' ms')}**"
      + (f"; dma takes {times(ratio(dma, sf))} as long: the most any queueing sendmail "
         f"could gain over dma on this machine" if sf and dma else ""))
    a("")
    a("| tool | submission ÷ fsync floor | submission ÷ exec'd submission floor | "
      f"sink rate over {f.get('sink_connections')} connections ÷ flush rate | "
      "start-up ÷ static hello |")
    a("|---|---|---|---|---|")
    for t in tools:
        d = c["dist"][t]
        exec_floor = d["submission / exec'd floor"]
        a(f"| {t} | {times(d['submission / fsync floor'])} | {times(exec_floor)} | "
          f"{times(d['sink rate / flush rate'])} | {times(d['start-up / static hello'])} |")
    a("")
    with open(out, "w") as fh:
        fh.write("\n".join(L))
    chart_png(r, c, chart, work)


def chart_png(r, c, chart, work):
    dat = f"{work}/chart"
    os.makedirs(dat, exist_ok=True)
    metrics = ["submission", "flush", "peak RSS", "start-up", "size"]
    with open(f"{dat}/adv.dat", "w") as fh:
        fh.write("metric " + " ".join(PEERS) + "\n")
        for mname in metrics:
            vals = [c["adv"][p][mname] for p in PEERS]
            fh.write(f'"{mname}" ' + " ".join("NaN" if v is None else f"{v:.4f}" for v in vals) + "\n")
    dists = ["submission / fsync floor", "submission / exec'd floor", "sink rate / flush rate",
             "start-up / static hello"]
    tools = ["postern"] + PEERS
    with open(f"{dat}/dist.dat", "w") as fh:
        fh.write("metric " + " ".join(tools) + "\n")
        short = {"submission / fsync floor": "submit ÷ fsync", "submission / exec'd floor":
                 "submit ÷ exec'd floor", "sink rate / flush rate": "sink ÷ flush",
                 "start-up / static hello": "start-up ÷ hello"}
        for dname in dists:
            vals = [c["dist"][t][dname] for t in tools]
            fh.write(f'"{short[dname]}" ' + " ".join("NaN" if v is None else f"{v:.4f}" for v in vals) + "\n")
    def lowest(vals, floor):
        vals = [v for v in vals if v]
        return min([floor] + [v / 1.5 for v in vals])
    lo_adv = lowest([v for p in PEERS for v in c["adv"][p].values()], 0.25)
    lo_dist = lowest([v for t in tools for v in c["dist"][t].values()], 0.5)
    left_title = ("postern's advantage over each peer (× , higher is better; target 2× for "
                  "submission and flush)" if c["have"] else "postern not measured in this run")
    colours = {"postern": "#cc3311", "msmtp": "#4477aa", "dma": "#66ccee", "nullmailer": "#228833"}
    cols = [(i + 2, t) for i, t in enumerate(tools)
            if any(c["dist"][t][d] is not None for d in dists)]
    parts = []
    for k, (col, t) in enumerate(cols):
        src = f'"{dat}/dist.dat"' if k == 0 else '""'
        xt = ":xtic(1)" if k == 0 else ""
        parts.append(f'{src} using {col}{xt} title columnheader({col}) lc rgb "{colours[t]}"')
    right_plot = "plot " + ", \\\n     ".join(parts)
    if c["have"]:
        left_plot = f"""plot "{dat}/adv.dat" using 2:xtic(1) title columnheader(2) lc rgb "#4477aa", \\
     "" using 3 title columnheader(3) lc rgb "#66ccee", \\
     "" using 4 title columnheader(4) lc rgb "#228833"
"""
    else:
        left_plot = """set label 9 "postern was not measured in this run (see RESULTS.md)" at graph 0.5, graph 0.5 center
unset logscale y
set yrange [0:1]
set xrange [0:1]
plot NaN notitle
unset label 9
set xrange [*:*]
set logscale y 2"""
    gp = f"""
set terminal pngcairo size 1500,600 font "DejaVu Sans,10"
set output "{chart}"
set multiplot layout 1,2
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 2
set grid ytics
set key top right
set xtics nomirror
set title "{left_title}"
set ylabel "ratio (log scale)"
set yrange [{lo_adv}:*]
set arrow 1 from graph 0, first 2 to graph 1, first 2 nohead dt 2 lw 2 lc rgb "red"
set arrow 2 from graph 0, first 1 to graph 1, first 1 nohead lw 1 lc rgb "black"
{left_plot}
unset arrow 1
unset arrow 2
set title "distance to this machine's floor (×, lower is better; postern's target ≤ 2×)"
set yrange [{lo_dist}:*]
set arrow 3 from graph 0, first 2 to graph 1, first 2 nohead dt 2 lw 2 lc rgb "red"
set arrow 4 from graph 0, first 1 to graph 1, first 1 nohead lw 1 lc rgb "black"
{right_plot}
unset multiplot
"""
    with open(f"{dat}/chart.gp", "w") as fh:
        fh.write(gp)
    res = subprocess.run(["gnuplot", f"{dat}/chart.gp"], capture_output=True, text=True)
    if res.returncode != 0:
        print("gnuplot failed:", res.stderr)
