#!/usr/bin/env bash
# HTTP benchmark of `imgflo server` (a benchmark, not a test), with nginx side by side, in one run:
#   1. cached hits: GET /graph/passthrough.jpg?input=files/medium.jpg&width=800 (the 301 the original
#      promised latencies for) and GET /cache/<key> (the bytes), wrk at concurrency 1/10/100/1000;
#   2. nginx on the same machine in the same run: a 301, the same bytes, and an 85 KiB file;
#   3. uncached processing: a distinct URL per request (large.jpg -> width 800, JPEG) at 1/2/4/16;
#   4. tables, printed and written to bench/http-results.md.
#
# Usage: bench/http.sh   (from anywhere; paths are taken from the repo root)
# Environment:
#   IMGFLO_BENCH_FIXTURES          the images (default ../shared/fixtures/bench beside the repo)
#   IMGFLO_HTTP_DURATION           seconds per cached/nginx wrk run (default 10)
#   IMGFLO_HTTP_PROC_DURATION      seconds per processing wrk run (default 15)
#   IMGFLO_HTTP_CONCURRENCY        cached-hit concurrencies (default "1 10 100 1000")
#   IMGFLO_HTTP_PROC_CONCURRENCY   processing concurrencies (default "1 2 4 16")
#   IMGFLO_HTTP_NGINX_WORKERS      nginx worker_processes (default auto)
#   IMGFLO_HTTP_RESULTS            where the report goes (default bench/http-results.md)
#   IMGFLO_LOG                     passed to the server as is (unset: the binary's default level)
# It installs what it lacks (apt): wrk, nginx-light (or nginx), curl, python3.
# All load goes to 127.0.0.1; wrk, imgflo and nginx share the machine's cores.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
HERE=$ROOT/bench/http

FIXTURES=${IMGFLO_BENCH_FIXTURES:-$ROOT/../shared/fixtures/bench}
if [[ ! -f $FIXTURES/large.jpg || ! -f $FIXTURES/medium.jpg ]]; then
    echo "bench/http: images not found in $FIXTURES; benchmark skipped" >&2
    exit 0
fi
FIXTURES=$(cd "$FIXTURES" && pwd)
DURATION=${IMGFLO_HTTP_DURATION:-10}
PROC_DURATION=${IMGFLO_HTTP_PROC_DURATION:-15}
CACHED_CONC=${IMGFLO_HTTP_CONCURRENCY:-1 10 100 1000}
PROC_CONC=${IMGFLO_HTTP_PROC_CONCURRENCY:-1 2 4 16}
NGINX_WORKERS=${IMGFLO_HTTP_NGINX_WORKERS:-auto}
RESULTS=${IMGFLO_HTTP_RESULTS:-$ROOT/bench/http-results.md}

log() { printf '\n=== %s\n' "$*" >&2; }

# ---- what the machine needs ----
SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi
apt_install() {
    # Tries the local package lists first; updates them only when that fails.
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "$@" >&2 && return 0
    "${SUDO[@]}" apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "$@" >&2
}
pkgs=()
command -v wrk >/dev/null 2>&1 || pkgs+=(wrk)
command -v curl >/dev/null 2>&1 || pkgs+=(curl)
command -v python3 >/dev/null 2>&1 || pkgs+=(python3)
if ((${#pkgs[@]})); then
    log "installing ${pkgs[*]}"
    apt_install "${pkgs[@]}"
fi
NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
if [[ -z $NGINX ]]; then
    log "installing nginx-light"
    apt_install nginx-light || apt_install nginx
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi
command -v cargo >/dev/null 2>&1 || { echo "bench/http: cargo is needed (https://rustup.rs)" >&2; exit 1; }

log "cargo build --release"
cargo build --release >&2
BIN=$ROOT/target/release/imgflo

# ---- temp dirs, and cleanup of everything this script starts ----
WORK=$(mktemp -d "${TMPDIR:-/tmp}/imgflo-http-bench.XXXXXX")
SERVER_PID=
NGINX_PID=
stop() { # pid
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    set +e
    [[ -n $SERVER_PID ]] && stop "$SERVER_PID"
    [[ -n $NGINX_PID ]] && stop "$NGINX_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1000 connections on each side, plus the server's files.
if [[ $(ulimit -n) != unlimited ]] && (($(ulimit -n) < 8192)); then
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 8192 2>/dev/null || true
fi
NOFILE=$(ulimit -n)
if [[ $NOFILE != unlimited ]] && ((NOFILE < 2100)); then
    echo "bench/http: warning: open-file limit $NOFILE is too low for concurrency 1000" >&2
fi

mkdir -p "$WORK/files" "$WORK/data" "$WORK/metrics" "$WORK/nginx/root" "$WORK/wrk"
cp "$FIXTURES/large.jpg" "$FIXTURES/medium.jpg" "$WORK/files/"

# ---- the server ----
log "starting imgflo server (default workers)"
"$BIN" server --host 127.0.0.1 --port 0 --data-dir "$WORK/data" --graphs-dir "$ROOT/graphs" \
    --files-dir "$WORK/files" >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
PORT=
for _ in $(seq 300); do
    PORT=$(sed -n 's#^imgflo server listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p' "$WORK/server.out")
    [[ -n $PORT ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
if [[ -z $PORT ]]; then
    echo "bench/http: the server did not start" >&2
    cat "$WORK/server.err" >&2
    exit 1
fi
BASE=http://127.0.0.1:$PORT
echo "imgflo server on $BASE (pid $SERVER_PID)" >&2

# GET once; prints "<status> <Location>".
get_status() { curl -s -o /dev/null --max-time 60 -w '%{http_code} %{redirect_url}\n' "$1"; }

HOT_PATH="/graph/passthrough.jpg?input=files/medium.jpg&width=800"
HOT_URL=$BASE$HOT_PATH
log "warming $HOT_PATH"
read -r st loc < <(get_status "$HOT_URL")
[[ $st == 301 ]] || { echo "bench/http: warm-up answered $st, not 301" >&2; cat "$WORK/server.err" >&2; exit 1; }
read -r st2 loc2 < <(get_status "$HOT_URL")
[[ $st2 == 301 && $loc2 == "$loc" ]] || { echo "bench/http: repeat answered $st2 $loc2" >&2; exit 1; }
CACHE_URL=$BASE${loc#"$BASE"}
curl -s --max-time 30 -o "$WORK/nginx/root/same.jpg" "$CACHE_URL"
HOT_BYTES=$(stat -c %s "$WORK/nginx/root/same.jpg")
echo "cached result: $CACHE_URL ($HOT_BYTES bytes)" >&2

# The 85 KiB file for nginx (the size of the peers' nginx figure): the large.jpg -> width 800 output
# cut or zero-padded to exactly 87,040 bytes (nginx does not look inside).
read -r st loc < <(get_status "$BASE/graph/passthrough.jpg?input=files/large.jpg&width=800&ignored=nginx-file")
[[ $st == 301 ]] || { echo "bench/http: large.jpg warm-up answered $st" >&2; exit 1; }
curl -s --max-time 30 -o "$WORK/large800.jpg" "$BASE${loc#"$BASE"}"
LARGE800_BYTES=$(stat -c %s "$WORK/large800.jpg")
head -c 87040 "$WORK/large800.jpg" >"$WORK/nginx/root/85k.jpg"
truncate -s 87040 "$WORK/nginx/root/85k.jpg"

# ---- nginx ----
NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
NOFILE_NGINX=$NOFILE
[[ $NOFILE_NGINX == unlimited ]] && NOFILE_NGINX=65536
sed -e "s#@PREFIX@#$WORK/nginx#g" -e "s#@PORT@#$NGINX_PORT#g" -e "s#@ROOT@#$WORK/nginx/root#g" \
    -e "s#@WORKERS@#$NGINX_WORKERS#g" -e "s#@NOFILE@#$NOFILE_NGINX#g" \
    "$HERE/nginx.conf.in" >"$WORK/nginx/nginx.conf"
# Workers run as nobody when started by root: they must be able to read the root.
chmod 755 "$WORK" "$WORK/nginx" "$WORK/nginx/root"
chmod 644 "$WORK/nginx/root/"*.jpg
log "starting nginx on 127.0.0.1:$NGINX_PORT (worker_processes $NGINX_WORKERS)"
"$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" \
    >"$WORK/nginx/stdout" 2>&1 &
NGINX_PID=$!
NGINX_BASE=http://127.0.0.1:$NGINX_PORT
for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "$NGINX_BASE/85k.jpg" && break
    kill -0 "$NGINX_PID" 2>/dev/null || break
    sleep 0.1
done
if ! [[ $(get_status "$NGINX_BASE/85k.jpg") == "200 "* ]]; then
    echo "bench/http: nginx did not start" >&2
    cat "$WORK/nginx/stdout" "$WORK/nginx/error.log" >&2 || true
    exit 1
fi

# ---- runs ----
cat "$HERE/stats.lua" >"$WORK/stats.lua"
cat "$HERE/stats.lua" "$HERE/unique.lua" >"$WORK/unique.lua"

cpu_ticks() { # pid: user+system clock ticks of the process and its children (nginx workers)
    local p total=0 t
    for p in "$1" $(pgrep -P "$1" || true); do
        t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
        total=$((total + t))
    done
    echo "$total"
}
wait_idle() { # until the server has no job queued or running (60 s at most)
    local m
    for _ in $(seq 600); do
        m=$(curl -s --max-time 5 "$BASE/metrics" || true)
        if grep -q '^imgflo_jobs_in_flight 0$' <<<"$m" && grep -q '^imgflo_queue_depth 0$' <<<"$m"; then
            return 0
        fi
        sleep 0.1
    done
    echo "bench/http: warning: the server still has jobs after 60 s" >&2
}
RUN_NO=0
# run_wrk SECTION TARGET PID URL CONCURRENCY SECONDS TIMEOUT SCRIPT [script args...]
run_wrk() {
    local section=$1 target=$2 pid=$3 url=$4 c=$5 secs=$6 timeout=$7 script=$8
    shift 8
    local threads=$((c < 2 ? c : 2)) id cpu0 cpu1
    RUN_NO=$((RUN_NO + 1))
    id=$(printf '%02d-%s-c%s' "$RUN_NO" "$target" "$c")
    printf '%-28s c=%-5s %ss ... ' "$target" "$c" "$secs" >&2
    if [[ $pid == "$SERVER_PID" ]]; then curl -s --max-time 10 "$BASE/metrics" >"$WORK/metrics/$id.before"; fi
    cpu0=$(cpu_ticks "$pid")
    WRK_CONNECTIONS=$c wrk -t"$threads" -c"$c" -d"${secs}s" --timeout "${timeout}s" -s "$script" "$url" -- "$@" \
        >"$WORK/wrk/$id.txt" 2>&1 || echo "wrk failed: $(tail -1 "$WORK/wrk/$id.txt")" >&2
    if [[ $pid == "$SERVER_PID" ]]; then
        # Jobs still running when wrk stopped finish first, so that they count in this run's
        # server figures and take no CPU from the next run.
        wait_idle
        curl -s --max-time 10 "$BASE/metrics" >"$WORK/metrics/$id.after"
    fi
    cpu1=$(cpu_ticks "$pid")
    local stats
    stats=$(grep '^WRKSTATS ' "$WORK/wrk/$id.txt" | head -1 || true)
    printf 'id=%s section=%s target=%s c=%s threads=%s secs=%s cpu_ticks=%s %s\n' \
        "$id" "$section" "$target" "$c" "$threads" "$secs" "$((cpu1 - cpu0))" "${stats#WRKSTATS }" >>"$WORK/runs.txt"
    awk '{for (i = 1; i <= NF; i++) if ($i ~ /^(requests|status|timeout|mean_us|p99_us|c_p99_us)=/) printf "%s ", $i; print ""}' \
        <<<"$stats" >&2
    sleep 1
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "cached hits and nginx, ${DURATION}s per run (imgflo and nginx interleaved per concurrency)"
: >"$WORK/runs.txt"
for c in $CACHED_CONC; do
    run_wrk cached imgflo-301 "$SERVER_PID" "$HOT_URL" "$c" "$DURATION" 10 "$WORK/stats.lua"
    run_wrk cached nginx-301 "$NGINX_PID" "$NGINX_BASE/redirect" "$c" "$DURATION" 10 "$WORK/stats.lua"
    run_wrk cached imgflo-cache "$SERVER_PID" "$CACHE_URL" "$c" "$DURATION" 10 "$WORK/stats.lua"
    run_wrk cached nginx-same "$NGINX_PID" "$NGINX_BASE/same.jpg" "$c" "$DURATION" 10 "$WORK/stats.lua"
    run_wrk cached nginx-85k "$NGINX_PID" "$NGINX_BASE/85k.jpg" "$c" "$DURATION" 10 "$WORK/stats.lua"
done

log "uncached processing, ${PROC_DURATION}s per run, a distinct URL per request"
PROC_URL="$BASE/graph/passthrough.jpg?input=files/large.jpg&width=800&ignored="
for c in $PROC_CONC; do
    run_wrk processing imgflo-process "$SERVER_PID" "$PROC_URL" "$c" "$PROC_DURATION" 30 "$WORK/unique.lua" "c$c"
done

# ---- the report ----
sed -e 's/\x1b\[[0-9;]*m//g' "$WORK/server.err" >"$WORK/server.log"
{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "cores=$(nproc)"
    echo "kernel=$(uname -sr)"
    echo "rustc=$(rustc --version)"
    echo "imgflo_rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- server src runtime 2>/dev/null || echo ' (with uncommitted changes in server/src/runtime)')"
    echo "wrk=$(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
    echo "nginx=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
    echo "nginx_workers=$NGINX_WORKERS"
    echo "nofile=$NOFILE"
    echo "load_start=$LOAD_START"
    echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "log_level=${IMGFLO_LOG:-unset}"
    echo "log_lines=$(wc -l <"$WORK/server.log")"
    echo "log_bytes=$(stat -c %s "$WORK/server.err")"
    echo "duration=$DURATION"
    echo "proc_duration=$PROC_DURATION"
    echo "hot_bytes=$HOT_BYTES"
    echo "large800_bytes=$LARGE800_BYTES"
    echo "hot_path=$HOT_PATH"
    echo "cache_path=${CACHE_URL#"$BASE"}"
} >"$WORK/env.txt"
python3 "$HERE/report.py" "$WORK" "$RESULTS"
echo "bench/http: written $RESULTS" >&2
