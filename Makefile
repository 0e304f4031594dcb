# The two commands: `make run` starts the local stack and places a demo call; `make test` runs every test.
# `make compat` runs the SDK compatibility matrix and the unchanged third-party apps (one venv per SDK version);
# `make slow` the long benchmark smoke runs (pytest -m slow). CI runs all three.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# checkov pins packaging<24, which pytest 9 cannot share, so it gets a venv of its own (tests/infra/tools.py).
CHECKOV_VENV := .venv-checkov

.PHONY: run demo test compat slow lint bench fuzz bootstrap clean

run: bootstrap
	$(PY) -m devhost.stack

demo: bootstrap
	$(PY) -m devhost.stack --exit-after-demo

test: bootstrap $(CHECKOV_VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	CHECKOV_VENV=$(CHECKOV_VENV) $(PY) -m pytest $(PYTEST_ARGS)

compat: bootstrap
	$(PY) -m pytest -m compat tests/compat $(PYTEST_ARGS)

slow: bootstrap
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

lint: bootstrap
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: bootstrap
	$(PY) -m bench

# At least 10,000 generated requests on every route; fails on any 5xx or exception text in a body (FUZZ_ARGS).
fuzz: bootstrap
	$(PY) -m fuzz $(FUZZ_ARGS)

bootstrap: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(CHECKOV_VENV)/.installed: tests/infra/requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/infra/requirements-checkov.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .pytest_cache .ruff_cache
