# The two commands: `make demo` runs the app on a local stack with one demo call; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo stack test lint bench bootstrap clean

demo: bootstrap
	$(PY) -m devhost.stack --demo

stack: bootstrap
	$(PY) -m devhost.stack

test: bootstrap
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

lint: bootstrap
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: bootstrap
	$(PY) -m bench

bootstrap: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
