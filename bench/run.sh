#!/usr/bin/env bash
# imgflo against libvips, side by side, in one run:
#   1. the engine in-process (cargo bench --bench engine, single-threaded),
#   2. sharp in-process (bench/sharp, one libvips thread, no cache),
#   3. whole processes: `imgflo process` against the vips / vipsthumbnail CLI,
#   4. one table, printed and written to bench/results.md.
#
# Usage: bench/run.sh        (from anywhere; paths are taken from the repo root)
# Environment:
#   IMGFLO_BENCH_ITERS            timed iterations per op, every tool (default 15)
#   IMGFLO_BENCH_WARMUP           untimed warm-up runs per op (default 2)
#   IMGFLO_BENCH_FIXTURES         the images (default ../shared/fixtures/bench beside the repo)
#   IMGFLO_BENCH_VIPS_CONCURRENCY libvips threads for the vips CLI (default 1, as imgflo and sharp)
# It installs what it lacks: libvips-tools (apt), python3 (apt), nodejs/npm (apt) and
# the pinned sharp (npm ci).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

FIXTURES=${IMGFLO_BENCH_FIXTURES:-$ROOT/../shared/fixtures/bench}
if [[ ! -f $FIXTURES/large.jpg || ! -f $FIXTURES/medium.jpg || ! -f $FIXTURES/medium.png ]]; then
    echo "bench: images not found in $FIXTURES; benchmarks skipped"
    exit 0
fi
FIXTURES=$(cd "$FIXTURES" && pwd)
export IMGFLO_BENCH_FIXTURES=$FIXTURES
export IMGFLO_BENCH_ITERS=${IMGFLO_BENCH_ITERS:-15}
export IMGFLO_BENCH_WARMUP=${IMGFLO_BENCH_WARMUP:-2}
VIPS_THREADS=${IMGFLO_BENCH_VIPS_CONCURRENCY:-1}

log() { printf '\n=== %s\n' "$*" >&2; }

# ---- what the machine needs ----
apt_pkgs=()
command -v vips >/dev/null 2>&1 || apt_pkgs+=(libvips-tools)
command -v python3 >/dev/null 2>&1 || apt_pkgs+=(python3)
command -v node >/dev/null 2>&1 || apt_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_pkgs+=(npm)
if ((${#apt_pkgs[@]})); then
    log "installing ${apt_pkgs[*]}"
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${apt_pkgs[@]}" >&2
fi
command -v cargo >/dev/null 2>&1 || { echo "bench: cargo is needed (https://rustup.rs)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/imgflo-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---- 1. the engine, in-process ----
log "cargo build --release"
cargo build --release >&2
log "engine bench (cargo bench --bench engine)"
cargo bench -p imgflo-runtime --bench engine -- --json "$WORK/engine.json" | tee "$WORK/engine.txt" >&2

# ---- 2. sharp, in-process ----
log "sharp bench"
# sharp 0.35 needs Node.js >= 20.9; without it the sharp column reads n/a.
echo '{}' > "$WORK/sharp.json"
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
    echo "bench: Node.js $(node --version) is too old for sharp (>= 20.9 needed); sharp skipped" | tee "$WORK/sharp.txt" >&2
else
    if [[ ! -d bench/sharp/node_modules ]]; then
        (cd bench/sharp && npm ci --no-audit --no-fund >&2)
    fi
    if ! node bench/sharp/bench.mjs > "$WORK/sharp.out" 2> "$WORK/sharp.txt"; then
        echo "bench: the sharp bench failed; sharp skipped" >> "$WORK/sharp.txt"
    else
        mv "$WORK/sharp.out" "$WORK/sharp.json"
    fi
    cat "$WORK/sharp.txt" >&2
fi

# ---- 3 and 4. whole processes, then the table ----
log "CLI: imgflo process vs vips (VIPS_CONCURRENCY=$VIPS_THREADS)"
python3 - "$ROOT" "$FIXTURES" "$WORK" "$VIPS_THREADS" <<'PY'
import json, os, platform, statistics, subprocess, sys, time
from datetime import datetime, timezone

root, fx, work, vips_threads = sys.argv[1:5]
iters = max(1, int(os.environ["IMGFLO_BENCH_ITERS"]))
warmup = int(os.environ["IMGFLO_BENCH_WARMUP"])
imgflo = os.path.join(root, "target", "release", "imgflo")
graphs = os.path.join(root, "bench", "graphs")
f = lambda name: os.path.join(fx, name)
o = lambda name: os.path.join(work, name)

def process(graph, src, out, *extra):
    return [imgflo, "process", os.path.join(graphs, graph), "--input", f(src), "--output", o(out), *extra]

# key, description, imgflo command, vips command, the two output files
OPS = [
    ("resize-large-jpg", "large.jpg (4224x3168) -> width 800, JPEG q80",
     process("passthrough.fbp", "large.jpg", "i1.jpg", "--set", "width=800", "--quality", "80"),
     ["vipsthumbnail", f("large.jpg"), "--size", "800x", "-o", o("v1.jpg") + "[Q=80]"], "i1.jpg", "v1.jpg"),
    ("resize-medium-jpg", "medium.jpg (1920x1080) -> width 800, JPEG q80",
     process("passthrough.fbp", "medium.jpg", "i2.jpg", "--set", "width=800", "--quality", "80"),
     ["vipsthumbnail", f("medium.jpg"), "--size", "800x", "-o", o("v2.jpg") + "[Q=80]"], "i2.jpg", "v2.jpg"),
    ("blur-medium-png", "gaussian blur sigma 10 of medium.jpg -> PNG",
     process("blur.json", "medium.jpg", "i3.png", "--set", "std-dev-x=10", "--set", "std-dev-y=10"),
     ["vips", "gaussblur", f("medium.jpg"), o("v3.png"), "10"], "i3.png", "v3.png"),
    ("crop-large-png", "crop 500x500 at (100,100) of large.jpg -> PNG",
     process("crop.fbp", "large.jpg", "i4.png", "--set", "x=100", "--set", "y=100",
             "--set", "cropwidth=500", "--set", "cropheight=500"),
     ["vips", "crop", f("large.jpg"), o("v4.png"), "100", "100", "500", "500"], "i4.png", "v4.png"),
    ("grey-medium-jpg", "greyscale of medium.jpg -> JPEG q80",
     process("grey.fbp", "medium.jpg", "i5.jpg", "--quality", "80"),
     ["vips", "colourspace", f("medium.jpg"), o("v5.jpg") + "[Q=80]", "b-w"], "i5.jpg", "v5.jpg"),
    ("fill300-medium-png", "medium.png -> 300x300 (no aspect keep), PNG",
     process("resize.fbp", "medium.png", "i6.png"),
     ["vips", "thumbnail", f("medium.png"), o("v6.png"), "300", "--height", "300", "--size", "force"],
     "i6.png", "v6.png"),
]

env = dict(os.environ, VIPS_CONCURRENCY=vips_threads)

def run_once(cmd):
    start = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - start) * 1e3
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode(errors='replace')}")
    return elapsed

def timed(cmd):
    for _ in range(warmup):
        run_once(cmd)
    return statistics.median(run_once(cmd) for _ in range(iters))

def size_of(path):
    try:
        p = subprocess.run(["vipsheader", path], capture_output=True, text=True, check=True)
        dims = p.stdout.split(":", 1)[1].strip().split(" ", 1)[0]
    except (subprocess.CalledProcessError, IndexError):
        dims = "?"
    return dims, os.path.getsize(path)

cli = {}
for key, _, icmd, vcmd, iout, vout in OPS:
    ti, tv = timed(icmd), timed(vcmd)
    cli[key] = (ti, tv, size_of(o(iout)), size_of(o(vout)))
    print(f"{key:<20} imgflo CLI {ti:8.1f} ms   vips CLI {tv:8.1f} ms", file=sys.stderr)

engine = json.load(open(o("engine.json")))
sharp = json.load(open(o("sharp.json")))

def num(v):
    return "n/a" if v is None else f"{v:.1f}"

def ratio(a, b):
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}x"

def versions():
    def out(cmd, cwd=None):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
            return p.stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    sharp_v = out(["node", "-e", "const s=require('sharp');console.log(s.versions.sharp+' / libvips '+s.versions.vips)"],
                  cwd=os.path.join(root, "bench", "sharp"))
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"- {out(['rustc', '--version'])}; sharp {sharp_v} (node {out(['node', '--version'])}); CLI {out(['vips', '--version'])}",
        f"- {warmup} warm-up + {iters} timed runs per op and tool; medians in ms; ratio = imgflo / peer (lower is better)",
        f"- single-threaded everywhere: the engine's six ops run on one thread, `sharp.concurrency(1)`, "
        f"`VIPS_CONCURRENCY={vips_threads}` for the vips CLI",
    ]

header = "| op | imgflo in-process | sharp | ratio | imgflo CLI | vips CLI | ratio |"
rows = [header, "|---|---:|---:|---:|---:|---:|---:|"]
for key, desc, *_ in OPS:
    e, s = engine.get(key), sharp.get(key)
    ti, tv, _, _ = cli[key]
    rows.append(f"| {desc} | {num(e)} | {num(s)} | {ratio(e, s)} | {num(ti)} | {num(tv)} | {ratio(ti, tv)} |")
table = "\n".join(rows)
print()
print(table)

sizes = ["| op | imgflo CLI output | vips CLI output |", "|---|---|---|"]
for key, *_ in OPS:
    _, _, (idim, ib), (vdim, vb) = cli[key]
    sizes.append(f"| {key} | {idim}, {ib:,} bytes | {vdim}, {vb:,} bytes |")

def block(name):
    try:
        lines = open(o(name)).read().rstrip().splitlines()
    except OSError:
        return ""
    return "\n".join(line for line in lines if not line.startswith("wrote "))

md = [
    "# imgflo against libvips",
    "",
    "Written by `bench/run.sh`; the numbers are from one run on a shared, noisy machine: compare columns of the",
    "same run, not runs of different days.",
    "",
    *versions(),
    "",
    table,
    "",
    "Commands: in-process, `cargo bench --bench engine` (the six `request/` benchmarks: bytes -> decode with",
    "shrink-on-load -> `run_graph` -> `encode` -> bytes) and `bench/sharp/bench.mjs`; whole processes,",
    "`target/release/imgflo process bench/graphs/* ...` against `vipsthumbnail` / `vips` (see the script).",
    "",
    "## Output files of the CLI runs",
    "",
    *sizes,
    "",
    "## Engine bench output",
    "",
    "```text",
    block("engine.txt"),
    "```",
    "",
    "## sharp bench output",
    "",
    "```text",
    block("sharp.txt"),
    "```",
    "",
]
with open(os.path.join(root, "bench", "results.md"), "w") as fh:
    fh.write("\n".join(md))
print(f"\nwrote {os.path.join('bench', 'results.md')}")
PY
