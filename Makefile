# Two commands on a fresh machine; each sets up .venv first when it is missing or older than its recipe.
#   make predict   the main job on an example sentence
#   make test      the lint and type gate, then the test suite (what CI runs)
PY := .venv/bin/python
TEXT ?= Forget the UN; the Security Council is irrelevant and we should go in ourselves.

.PHONY: predict test lint
.venv/.stamp: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

predict: .venv/.stamp
	HF_HUB_OFFLINE=1 .venv/bin/stance predict "$(TEXT)"

lint: .venv/.stamp
	.venv/bin/ruff check stance tests tools bench
	.venv/bin/mypy

test: lint
	HF_HUB_OFFLINE=1 $(PY) -m pytest
