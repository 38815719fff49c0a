#!/usr/bin/env python3
"""Tables for bench/http.sh: reads the run's work dir (runs.txt, metrics snapshots, env.txt,
server.log) and writes the markdown report, also printed on stdout.

Usage: report.py WORK_DIR RESULTS_MD
"""

import os
import re
import sys
from collections import Counter

# The original imgflo-server's stress-test budgets (spec/stresstests.yaml, see
# shared/docs/peers.md §3.5): mean ms per request at each concurrency.
PROMISE_CACHED = {1: 20, 10: 200, 100: 2000, 1000: 10000}
PROMISE_PROCESS = {1: 1200, 4: 2000, 16: 6000}
# Peers' figures as given in the benchmark brief, for this kind of machine (2 cores).
THUMBOR_CACHED = (1213, 205)  # req/s at c=100, p99 ms
NGINX_PEER = (14159, 12)  # req/s at c=100, p99 ms (85 KB file)
THUMBOR_PROCESS_C2 = 21.0  # images/s, large.jpg -> width 800, concurrency 2
PILLOW_SIMD_C2 = 34.0  # images/s, same operation


def parse_kv(line):
    return dict(tok.split("=", 1) for tok in line.split() if "=" in tok)


def load_runs(work):
    runs = []
    with open(os.path.join(work, "runs.txt")) as f:
        for line in f:
            if not line.strip():
                continue
            r = parse_kv(line)
            r["c"] = int(r["c"])
            r["ok"] = "requests" in r
            for k in ("requests", "duration_us", "bytes", "connect", "read", "write", "status", "timeout",
                      "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "c_p50_us", "c_p90_us", "c_p99_us",
                      "c_p999_us", "c_max_us", "recorded", "interval_us", "negative", "cpu_ticks"):
                if k in r:
                    r[k] = int(float(r[k]))
            for k in ("mean_us", "stdev_us", "c_mean_us", "c_stdev_us"):
                if k in r:
                    r[k] = float(r[k])
            if r["ok"]:
                r["rps"] = r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0
                # Closed loop: each connection always has one request out, so the mean latency is at
                # most connections / throughput (Little's law; the difference is time spent in wrk).
                r["little_us"] = r["c"] / r["rps"] * 1e6 if r["rps"] else 0.0
                r["exact"] = "mean_us" in r
                if not r["exact"]:
                    for k in ("p50_us", "p90_us", "p99_us", "p999_us", "max_us"):
                        r[k] = None
                    r["mean_us"] = r["little_us"]
                    r["stdev_us"] = None
            r["metrics"] = metrics_delta(work, r["id"])
            runs.append(r)
    return runs


METRIC_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)$")


def read_metrics(path):
    out = {}
    try:
        with open(path) as f:
            for line in f:
                m = METRIC_RE.match(line.strip())
                if m and not line.startswith("#"):
                    try:
                        out[m.group(1)] = float(m.group(2))
                    except ValueError:
                        pass
    except OSError:
        return None
    return out


def metrics_delta(work, run_id):
    before = read_metrics(os.path.join(work, "metrics", run_id + ".before"))
    after = read_metrics(os.path.join(work, "metrics", run_id + ".after"))
    if before is None or after is None:
        return None
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v - before.get(k, 0.0)}


def ms(us):
    return us / 1000.0


def fmt_ms(us):
    if us is None:
        return "n/a"
    v = ms(us)
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_rate(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def fmt_factor(x):
    if x >= 100:
        return f"{x:,.0f}×"
    return f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"


def socket_errors(r):
    parts = [f"{k} {r[k]}" for k in ("connect", "read", "write", "timeout") if r.get(k)]
    return ", ".join(parts) if parts else "0"


def server_statuses(r, route):
    d = r["metrics"]
    if d is None:
        return "n/a"
    statuses = []
    for k, v in sorted(d.items()):
        m = re.match(r'imgflo_http_requests_total\{route="([^"]*)",status="(\d+)"\}', k)
        if m and m.group(1) == route:
            statuses.append(f"{m.group(2)}: {int(v):,}")
    cache = []
    for k, v in sorted(d.items()):
        m = re.match(r'imgflo_cache_requests_total\{outcome="([^"]*)"\}', k)
        if m:
            cache.append(f"{m.group(1)} {int(v):,}")
    processed = d.get("imgflo_processed_total", 0)
    if processed:
        cache.append(f"processed {int(processed):,}")
    s = ", ".join(statuses) or "none"
    if cache:
        s += " (" + ", ".join(cache) + ")"
    return s


def cpu_ms_per_req(r, hz):
    if not r.get("requests"):
        return "n/a"
    return f"{r['cpu_ticks'] * 1000.0 / hz / r['requests']:.3f}" if r["cpu_ticks"] else "<1 tick"


def by(runs, target):
    return {r["c"]: r for r in runs if r["target"] == target and r["ok"]}


def lat_cells(r):
    """mean, p50, p99, max (per request) and wrk's corrected p99."""
    mean = fmt_ms(r["mean_us"]) + ("" if r["exact"] else " (c/rps)")
    return (f"{mean} | {fmt_ms(r['p50_us'])} | {fmt_ms(r['p99_us'])} | {fmt_ms(r['max_us'])} | "
            f"{fmt_ms(r.get('c_p99_us'))}")


def factor(promise_ms, r):
    if not promise_ms or not r["mean_us"]:
        return "n/a"
    return fmt_factor(promise_ms / ms(r["mean_us"]))


def main():
    work, out_path = sys.argv[1], sys.argv[2]
    env = {}
    with open(os.path.join(work, "env.txt")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            env[k] = v
    hz = os.sysconf("SC_CLK_TCK")
    runs = load_runs(work)
    failed = [r for r in runs if not r["ok"]]
    hot = by(runs, "imgflo-301")
    cache = by(runs, "imgflo-cache")
    n301 = by(runs, "nginx-301")
    nsame = by(runs, "nginx-same")
    n85 = by(runs, "nginx-85k")
    proc = by(runs, "imgflo-process")
    hot_bytes = int(env["hot_bytes"])

    # The server's log.
    lines = []
    try:
        with open(os.path.join(work, "server.log"), errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip()]
    except OSError:
        pass
    info_lines = sum(1 for ln in lines if " INFO " in ln)
    bad = [ln for ln in lines if (" WARN " in ln or " ERROR " in ln) and "no API keys configured" not in ln]
    log_level = env.get("log_level", "unset")
    log_desc = (f"`IMGFLO_LOG={log_level}`" if log_level != "unset" else "`IMGFLO_LOG` unset (the binary's default)")
    log_desc += (f"; it wrote {len(lines):,} log lines ({int(env.get('log_bytes', 0)) / 1e6:,.0f} MB) to stderr, "
                 f"here a file, {info_lines:,} of them INFO")
    if info_lines > 1000:
        log_desc += " (one per request: that default costs CPU in every run below)"

    L = []
    w = L.append
    w("# imgflo HTTP benchmark")
    w("")
    w("Written by `bench/http.sh`: one run on a shared, noisy machine. Compare columns of the same run, not runs")
    w("of different days. **wrk (the load generator), the imgflo server and nginx all share the same "
      f"{env['cores']} cores**, so every figure is what the server does with part of the machine; at high")
    w("request rates wrk takes about as much CPU as the server.")
    w("")
    w(f"- date: {env['date']}; machine: {env['cpu']}, {env['cores']} cores, {env['kernel']}; load average "
      f"{env.get('load_start', '?')} before the runs, {env.get('load_end', '?')} after (other work on the machine "
      "shows here)")
    w(f"- imgflo {env['imgflo_rev']}, {env['rustc']}; server with default workers ({env['cores']}, one per core), "
      f"temp data dir; {log_desc}")
    w(f"- {env['wrk']}, threads = min(2, concurrency), keep-alive; {env['duration']} s per cached/nginx run, "
      f"{env['proc_duration']} s per processing run; open-file limit {env['nofile']}")
    w(f"- nginx {env['nginx']}, worker_processes {env['nginx_workers']}, access_log off, sendfile on, "
      "keepalive_requests 1000000 (config: `bench/http/nginx.conf.in`)")
    w("- **latency columns** (ms): mean, p50, p99, max are per request, as made (time from writing the request to "
      "the end of the response). wrk 4 itself reports latencies \"corrected\" for coordinated omission (it adds "
      "synthetic samples for every stall longer than twice the mean interval, i.e. what a constant-rate client "
      "would have seen); `bench/http/stats.lua` undoes that correction to get the per-request figures, and the "
      "column \"wrk p99\" keeps wrk's corrected p99 (on this VM, millisecond scheduling stalls make it much "
      "larger at low concurrency). Where the histogram could not be read, the mean is connections / req/s "
      "(marked c/rps), an upper bound")
    w("- \"non-2xx/3xx\" is wrk's count of responses with another status; \"socket errors\" are wrk's "
      "connect/read/write/timeout counts; \"server saw\" is the difference of the server's `/metrics` "
      "before and after the run (statuses of the route, cache outcomes); \"CPU ms/req\" is the server "
      "process's (for nginx: master + workers) user+system CPU time over the run divided by the requests")
    w("- factor = the original's promised mean latency / our mean latency (above 1: faster than promised)")
    w("")

    # ---- 1. cached hit, 301 ----
    w(f"## 1. Cached hit: `GET {env['hot_path']}` → 301")
    w("")
    w("The response the original's stress budgets are for (`spec/stresstests.yaml`: the same graph URL requested "
      "again once cached). The 301 carries `Location: http://127.0.0.1:<port>/cache/<key>`; wrk does not follow it.")
    w("")
    w("| concurrency | req/s | mean ms | p50 ms | p99 ms | max ms | wrk p99 ms | non-2xx/3xx | socket errors | "
      "server saw | CPU ms/req | original's promise, mean ms | factor |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|")
    for c, r in sorted(hot.items()):
        p = PROMISE_CACHED.get(c)
        w(f"| {c} | {fmt_rate(r['rps'])} | {lat_cells(r)} | {r['status']} | {socket_errors(r)} | "
          f"{server_statuses(r, 'graph')} | {cpu_ms_per_req(r, hz)} | {p if p else 'n/a'} | {factor(p, r)} |")
    w("")

    # ---- 2. cached bytes ----
    w(f"## 2. Cached bytes: `GET {env['cache_path']}` → 200, {hot_bytes:,} bytes")
    w("")
    w("The file the 301 points to (the original served it from S3; no budget was set for it).")
    w("")
    w("| concurrency | req/s | MB/s | mean ms | p50 ms | p99 ms | max ms | wrk p99 ms | non-2xx/3xx | "
      "socket errors | server saw | CPU ms/req |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|")
    for c, r in sorted(cache.items()):
        mbs = r["bytes"] / (r["duration_us"] / 1e6) / 1e6 if r["duration_us"] else 0
        w(f"| {c} | {fmt_rate(r['rps'])} | {mbs:,.0f} | {lat_cells(r)} | {r['status']} | {socket_errors(r)} | "
          f"{server_statuses(r, 'cache')} | {cpu_ms_per_req(r, hz)} |")
    w("")

    # ---- 3. nginx side by side ----
    w("## 3. nginx side by side (same run, interleaved with the imgflo runs per concurrency)")
    w("")
    w("Three nginx targets: `return 301` (the same kind of answer as imgflo's cached hit), the same "
      f"{hot_bytes:,} bytes imgflo serves from `/cache/`, and an 85 KiB file (87,040 bytes: the large.jpg → "
      f"width 800 output, {int(env['large800_bytes']):,} bytes, cut or zero-padded), the size of the peers' nginx "
      "figure. Cells: req/s, per-request p99 ms. Ratio = imgflo req/s / nginx req/s.")
    w("")
    w("| concurrency | imgflo 301 | nginx 301 | ratio | imgflo /cache/ | nginx same bytes | ratio | nginx 85 KiB | "
      "imgflo 301 / nginx 85 KiB |")
    w("|---:|---|---|---:|---|---|---:|---|---:|")

    def cell(r):
        return f"{fmt_rate(r['rps'])}, p99 {fmt_ms(r['p99_us'])}" if r else "n/a"

    def ratio(a, b):
        return f"{a['rps'] / b['rps']:.2f}" if a and b and b["rps"] else "n/a"

    for c in sorted(set(hot) | set(n301) | set(cache) | set(nsame) | set(n85)):
        a, b, cc, d, e = hot.get(c), n301.get(c), cache.get(c), nsame.get(c), n85.get(c)
        w(f"| {c} | {cell(a)} | {cell(b)} | {ratio(a, b)} | {cell(cc)} | {cell(d)} | {ratio(cc, d)} | {cell(e)} | "
          f"{ratio(a, e)} |")
    w("")
    w("Server CPU per request (ms), same runs:")
    w("")
    w("| concurrency | imgflo 301 | nginx 301 | imgflo /cache/ | nginx same bytes | nginx 85 KiB |")
    w("|---:|---:|---:|---:|---:|---:|")
    for c in sorted(set(hot) | set(n301) | set(cache) | set(nsame) | set(n85)):
        cells = [cpu_ms_per_req(x[c], hz) if c in x else "n/a" for x in (hot, n301, cache, nsame, n85)]
        w(f"| {c} | " + " | ".join(cells) + " |")
    w("")
    nerr = [r for r in runs if r["target"].startswith("nginx") and r["ok"]
            and (r["status"] or r["connect"] or r["read"] or r["write"] or r["timeout"])]
    if nerr:
        w("nginx errors: " + "; ".join(f"{r['target']} c={r['c']}: non-2xx/3xx {r['status']}, socket {socket_errors(r)}"
                                      for r in nerr))
    else:
        w("nginx: no non-2xx/3xx responses and no socket errors in any run.")
    w("")
    w("Peers at concurrency 100, as given in the benchmark brief for this kind of machine (2 cores; these figures "
      "are not in `shared/docs/peers.md`, whose §3 has no cached-hit numbers, and how their p99 was measured is "
      "not stated), beside this run:")
    w("")
    w("| server | req/s at c=100 | p99 ms | wrk p99 ms | ratio to nginx |")
    w("|---|---:|---:|---:|---:|")
    w(f"| thumbor, cached (brief) | {THUMBOR_CACHED[0]:,} | {THUMBOR_CACHED[1]} | | "
      f"{THUMBOR_CACHED[0] / NGINX_PEER[0]:.3f} (to the brief's nginx) |")
    w(f"| nginx, 85 KB file (brief) | {NGINX_PEER[0]:,} | {NGINX_PEER[1]} | | 1 |")
    if 100 in hot:
        r = hot[100]
        rn = f"{r['rps'] / n85[100]['rps']:.3f} (to this run's nginx 85 KiB)" if 100 in n85 else "n/a"
        w(f"| imgflo cached 301 (this run) | {fmt_rate(r['rps'])} | {fmt_ms(r['p99_us'])} | "
          f"{fmt_ms(r.get('c_p99_us'))} | {rn} |")
    if 100 in cache:
        r = cache[100]
        rn = f"{r['rps'] / nsame[100]['rps']:.3f} (to this run's nginx, same bytes)" if 100 in nsame else "n/a"
        w(f"| imgflo /cache/ {hot_bytes // 1024} KiB (this run) | {fmt_rate(r['rps'])} | {fmt_ms(r['p99_us'])} | "
          f"{fmt_ms(r.get('c_p99_us'))} | {rn} |")
    if 100 in n85:
        r = n85[100]
        w(f"| nginx 85 KiB (this run) | {fmt_rate(r['rps'])} | {fmt_ms(r['p99_us'])} | "
          f"{fmt_ms(r.get('c_p99_us'))} | 1 |")
    w("")

    # ---- 4. processing ----
    w("## 4. Uncached processing: `GET /graph/passthrough.jpg?input=files/large.jpg&width=800&ignored=<unique>`")
    w("")
    w("large.jpg (4224x3168, 1.6 MB) → width 800, JPEG; every request has its own `ignored` value (wrk script "
      "`bench/http/unique.lua`), so each one is a cache miss, processed before the 301 is sent. images/s = "
      "completed requests / run time; requests still in flight when wrk stops are not counted, but the script "
      "waits for the server's jobs to finish before the next run. \"server job ms\" is the mean of the server's "
      "`imgflo_processing_seconds` over the run, which runs from the job's start (input read, waiting for a "
      "worker, decode, graph, encode, cache write).")
    w("")
    w("| concurrency | images/s | mean ms | p50 ms | p99 ms | max ms | wrk p99 ms | non-2xx/3xx | socket errors | "
      "server saw | server job ms | CPU ms/image | original's promise, mean ms | factor |")
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|")
    for c, r in sorted(proc.items()):
        p = PROMISE_PROCESS.get(c)
        d = r["metrics"] or {}
        n = d.get('imgflo_processing_seconds_count{graph="passthrough"}', 0)
        s = d.get('imgflo_processing_seconds_sum{graph="passthrough"}', 0)
        pm = f"{s / n * 1000:.0f}" if n else "n/a"
        w(f"| {c} | {fmt_rate(r['rps'])} | {lat_cells(r)} | {r['status']} | {socket_errors(r)} | "
          f"{server_statuses(r, 'graph')} | {pm} | {cpu_ms_per_req(r, hz)} | {p if p else 'n/a'} | "
          f"{factor(p, r)} |")
    w("")
    w("Peers for this operation at concurrency 2, as given in the brief for this kind of machine: thumbor "
      f"{THUMBOR_PROCESS_C2:g} images/s, Pillow-SIMD {PILLOW_SIMD_C2:g} images/s.")
    if 2 in proc:
        r = proc[2]
        w(f"This run at concurrency 2: {fmt_rate(r['rps'])} images/s, "
          f"{r['rps'] / THUMBOR_PROCESS_C2:.2f}× thumbor's and {r['rps'] / PILLOW_SIMD_C2:.2f}× Pillow-SIMD's "
          "(with wrk on the same cores, though wrk is nearly idle here).")
    w("For context, `shared/docs/peers.md` §3.2 (2024, AWS c7i.large, 2 vCPU, about 2K JPEG sources fit into "
      "512×512, 2 clients): imgproxy 79.6 req/s, thumbor 51.6, imagor 21.3; those sources are smaller than "
      "large.jpg (13.4 MP).")
    w("")

    # ---- anything odd ----
    w("## Anything odd")
    w("")
    notes = []
    for r in failed:
        notes.append(f"{r['target']} c={r['c']}: wrk printed no figures (see the run's output)")
    for r in runs:
        if not r["ok"]:
            continue
        if r["status"]:
            notes.append(f"{r['target']} c={r['c']}: {r['status']:,} responses were not 2xx/3xx")
        if r["connect"] or r["read"] or r["write"] or r["timeout"]:
            notes.append(f"{r['target']} c={r['c']}: socket errors {socket_errors(r)}")
        if r.get("negative"):
            notes.append(f"{r['target']} c={r['c']}: undoing wrk's correction gave {r['negative']} negative counts "
                         "(the per-request figures are approximate)")
        if r["exact"] and r.get("recorded") is not None and r["recorded"] != r["requests"] - r["timeout"]:
            notes.append(f"{r['target']} c={r['c']}: recovered histogram holds {r['recorded']:,} requests, wrk "
                         f"counted {r['requests']:,}")
        if r["exact"] and r["p99_us"] and r["max_us"] > 10 * r["p99_us"] and r["max_us"] > 20_000:
            notes.append(f"{r['target']} c={r['c']}: latency outlier, max {fmt_ms(r['max_us'])} ms against "
                         f"p99 {fmt_ms(r['p99_us'])} ms (p99.9 {fmt_ms(r['p999_us'])} ms)")
        d = r["metrics"]
        if d is not None and r["target"].startswith("imgflo"):
            route = "cache" if r["target"] == "imgflo-cache" else "graph"
            expect = "200" if route == "cache" else "301"
            seen = Counter()
            for k, v in d.items():
                m = re.match(r'imgflo_http_requests_total\{route="([^"]*)",status="(\d+)"\}', k)
                if m and m.group(1) == route:
                    seen[m.group(2)] += int(v)
            other = {s: n for s, n in seen.items() if s != expect}
            if other:
                notes.append(f"{r['target']} c={r['c']}: the server answered " +
                             ", ".join(f"{n:,}× {s}" for s, n in sorted(other.items())) + f" besides {expect}")
            if r["target"] == "imgflo-301":
                misses = d.get('imgflo_cache_requests_total{outcome="miss"}', 0)
                if misses:
                    notes.append(f"imgflo-301 c={r['c']}: {int(misses)} cache misses on the warmed URL")
            if r["target"] == "imgflo-process":
                hits = d.get('imgflo_cache_requests_total{outcome="hit"}', 0)
                coal = d.get('imgflo_cache_requests_total{outcome="coalesced"}', 0)
                errs = d.get("imgflo_processing_errors_total", 0)
                if hits or coal or errs:
                    notes.append(f"imgflo-process c={r['c']}: {int(hits)} cache hits, {int(coal)} coalesced, "
                                 f"{int(errs)} processing errors (all should be 0)")
    if bad:
        kinds = Counter(re.sub(r"^\S+\s+", "", ln)[:200] for ln in bad)
        notes.append(f"server log: {len(bad):,} WARN/ERROR lines besides the start-up notice; most common: " +
                     "; ".join(f"{n:,}× `{k}`" for k, n in kinds.most_common(5)))
    if not notes:
        notes.append("nothing flagged: every imgflo response had the expected status (301, or 200 for /cache/), "
                     "no socket errors, no per-request latency above 10× the run's p99 (and 20 ms), no WARN/ERROR "
                     "in the server log besides the start-up notice that no API keys are configured")
    for n in notes:
        w(f"- {n}")
    w("")

    # ---- all runs ----
    w("## All runs")
    w("")
    w("Per-request latencies in ms; \"c/rps\" is connections / req/s (the closed-loop bound on the mean); the last "
      "three latency columns are wrk's corrected figures.")
    w("")
    w("| run | target | c | requests | req/s | mean | stdev | p50 | p90 | p99 | p99.9 | max | c/rps | "
      "wrk mean | wrk p99 | wrk p99.9 | non-2xx/3xx | socket errors | server CPU s |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in runs:
        if not r["ok"]:
            w(f"| {r['id'][:2]} | {r['target']} | {r['c']} | failed |" + " |" * 15)
            continue
        w(f"| {r['id'][:2]} | {r['target']} | {r['c']} | {r['requests']:,} | {fmt_rate(r['rps'])} | "
          f"{fmt_ms(r['mean_us']) if r['exact'] else 'n/a'} | {fmt_ms(r['stdev_us'])} | {fmt_ms(r['p50_us'])} | "
          f"{fmt_ms(r['p90_us'])} | {fmt_ms(r['p99_us'])} | {fmt_ms(r['p999_us'])} | {fmt_ms(r['max_us'])} | "
          f"{fmt_ms(r['little_us'])} | {fmt_ms(r.get('c_mean_us'))} | {fmt_ms(r.get('c_p99_us'))} | "
          f"{fmt_ms(r.get('c_p999_us'))} | {r['status']} | {socket_errors(r)} | {r['cpu_ticks'] / hz:.1f} |")
    w("")

    text = "\n".join(L)
    with open(out_path, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
