#!/usr/bin/env bash
# Runs the fbp-protocol conformance suite (fbp-test from npm fbp-protocol@0.9.8)
# against `imgflo runtime`, as fbp-config.json starts it. Prints a final
# "N passed, N failed" line; exits non-zero unless all 22 tests pass.
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
timeout --kill-after=5 120 ./node_modules/.bin/fbp-test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

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
echo "$passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -lt "$EXPECTED" ]; then
    exit 1
fi
