#!/usr/bin/env bash
# Browser tests of the testing and debug page (ui/index.html): Debian's headless
# Chromium, driven by playwright-core, against the real server binary.
# Screenshots land in target/ui-screenshots/. IMGFLO_BIN overrides the binary.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium (apt)"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq chromium >/dev/null
fi

echo "== npm ci (tests/ui)"
(cd tests/ui && npm ci --no-audit --no-fund --loglevel=error)

if [ -z "${IMGFLO_BIN:-}" ] && [ ! -x target/debug/imgflo ]; then
  echo "== cargo build --bin imgflo"
  cargo build --bin imgflo
fi

echo "== browser tests (node --test tests/ui)"
status=0
(cd tests/ui && node --test --test-reporter=tap ui.test.mjs) || status=$?
echo "screenshots: target/ui-screenshots/"
exit "$status"
