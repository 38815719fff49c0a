#!/usr/bin/env bash
# Runs every suite in this folder twice against one `imgflo runtime` (started here,
# from the repository root, read-only): with the real fbp-spec CLI (npm
# fbp-spec@0.8.0, pinned by package-lock.json) and with `imgflo spec --address`.
# fbp-spec can exit 0 after a crash and can hang, so it runs under a timeout and
# its ✓/✗/SKIP lines are counted against the number of cases in the suites.
# Prints "fbp-spec: N passed, N failed" and our runner's line; non-zero on any
# failure or missing result.
set -uo pipefail
cd "$(dirname "$0")"
PORT=${FBP_SPEC_PORT:-3572}
BIN=../target/debug/imgflo

if [ -z "${FBP_NO_BUILD:-}" ] || [ ! -x "$BIN" ]; then
    (cd .. && cargo build --bin imgflo) || { echo "fbp-spec: 0 passed, 1 failed"; exit 1; }
fi
if [ ! -d node_modules/fbp-spec ]; then
    npm ci --no-audit --no-fund || { echo "fbp-spec: 0 passed, 1 failed"; exit 1; }
fi
expected=$("$BIN" spec . --count) || { echo "cannot read the suites"; exit 1; }

log=$(mktemp -d)
(cd .. && exec target/debug/imgflo runtime --port "$PORT" --read-only --graphs-dir graphs \
    --data-dir target/fbp-spec-var >"$log/runtime.out" 2>"$log/runtime.err") &
runtime=$!
trap 'kill "$runtime" 2>/dev/null; wait "$runtime" 2>/dev/null; rm -rf "$log"' EXIT
for _ in $(seq 100); do
    grep -q "listening" "$log/runtime.out" 2>/dev/null && break
    kill -0 "$runtime" 2>/dev/null || { cat "$log/runtime.err"; echo "the runtime did not start"; exit 1; }
    sleep 0.1
done

timeout --kill-after=5 600 ./node_modules/.bin/fbp-spec --address "ws://127.0.0.1:$PORT" \
    --command-timeout 20 . 2>&1 | tee "$log/fbp-spec.out"
status=${PIPESTATUS[0]}
passed=$(grep -c '✓' "$log/fbp-spec.out")
failed=$(grep -c '✗' "$log/fbp-spec.out")
skipped=$(grep -c 'SKIP' "$log/fbp-spec.out")
seen=$((passed + failed + skipped))
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "fbp-spec timed out"
fi
if [ "$seen" -lt "$expected" ]; then
    echo "fbp-spec reported $seen of $expected cases"
    failed=$((failed + expected - seen))
fi
echo "fbp-spec: $((passed + skipped)) passed, $failed failed"
result=0
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
    result=1
fi

echo "== imgflo spec over the protocol"
if ! timeout --kill-after=5 600 "$BIN" spec . --address "ws://127.0.0.1:$PORT"; then
    result=1
fi
exit $result
