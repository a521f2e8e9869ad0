#!/usr/bin/env bash
# Set up a virtualenv with stance and everything its tests need, from scratch.
# torch==2.13.0 goes first: it resolves to a local CPU wheel; any other torch pulls GBs of CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet torch==2.13.0
.venv/bin/pip install --quiet -e ".[dev]"
