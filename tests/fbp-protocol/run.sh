#!/usr/bin/env bash
# Runs the fbp-protocol conformance suite (fbp-test from npm fbp-protocol@0.9.8)
# against `imgflo runtime`, as fbp-config.json starts it, then the Flowhub-like
# fbp-client scenario (scenario.js: previews, schema validation of every message,
# the saved graph served over HTTP). Prints "N passed, N failed" for each; exits
# non-zero unless all 22 conformance tests and the whole scenario pass.
set -uo pipefail
cd "$(dirname "$0")"
EXPECTED=22

# Cargo rebuilds only what changed; FBP_NO_BUILD=1 tests the binary as it is.
if [ -z "${FBP_NO_BUILD:-}" ] || [ ! -x ../../target/debug/imgflo ]; then
    (cd ../.. && cargo build --bin imgflo) || { echo "0 passed, $EXPECTED failed"; exit 1; }
fi
if [ ! -d node_modules/fbp-protocol ]; then
    npm ci --no-audit --no-fund || { echo "0 passed, $EXPECTED failed"; exit 1; }
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# fbp-config.json starts the runtime --read-only on the repo's graphs/: the
# suite's edits must leave that directory exactly as it was.
graphs_state() { (cd ../../graphs && find . -type f -exec md5sum {} + | sort); }
graphs_before=$(graphs_state)
timeout --kill-after=5 120 ./node_modules/.bin/fbp-test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
sleep 0.5 # past the runtime's save delay, had it saved anything
if [ "$(graphs_state)" != "$graphs_before" ]; then
    echo "--read-only runtime changed graphs/:" >&2
    diff <(echo "$graphs_before") <(graphs_state) >&2
    status=1
fi

passed=$(sed -n 's/^[[:space:]]*\([0-9][0-9]*\) passing.*/\1/p' "$log" | tail -n1)
failed=$(sed -n 's/^[[:space:]]*\([0-9][0-9]*\) failing.*/\1/p' "$log" | tail -n1)
passed=${passed:-0}
failed=${failed:-0}
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "fbp-test timed out" >&2
fi
if [ $((passed + failed)) -lt "$EXPECTED" ]; then
    failed=$((EXPECTED - passed))
fi
echo "fbp-test: $passed passed, $failed failed"
result=0
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -lt "$EXPECTED" ]; then
    result=1
fi

echo "== fbp-client scenario"
if ! timeout --kill-after=5 180 node scenario.js; then
    result=1
fi
exit $result
