#!/usr/bin/env bash
# Installs Debian's Chromium for the real-browser tests (test/browser) unless it is already
# there. Idempotent, needs no stdin; run as root on Debian (CI runs it from .ci/run).
# The tests drive it with playwright-core, which downloads no browser of its own.
set -euo pipefail

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  exit 0
fi
echo "[install-chromium] installing chromium (Debian)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends chromium fonts-liberation </dev/null
test -x "$chromium" || { echo "[install-chromium] $chromium is still missing" >&2; exit 1; }
