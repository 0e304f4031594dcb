# The two commands: `make run` starts the local stack and places a demo call; `make test` runs every test (CI).
# `make quick` is the default run while you work: lint and every test not marked slow, in about a minute.
# `make compat` runs the SDK compatibility matrix and the unchanged third-party apps (one venv per SDK version).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# checkov pins packaging<24, which pytest 9 cannot share, so it gets a venv of its own (tests/infra/tools.py).
CHECKOV_VENV := .venv-checkov
# The app's own code, type-checked with mypy --strict (the SDK's types come in through TYPE_CHECKING imports).
STRICT := shared handlers function_app.py

.PHONY: run demo test quick slow compat lint bench fuzz bootstrap chromium clean

# ARGS passes flags to the stack: `make demo ARGS=--time-scale=0.2`, `make run ARGS="--devhost-port 7072"`.
run: bootstrap
	$(PY) -m devhost.stack $(ARGS)

demo: bootstrap
	$(PY) -m devhost.stack --exit-after-demo $(ARGS)

# Every test but the SDK matrix (make compat): the default run plus the slow ones (-m here overrides pyproject's).
test: lint chromium $(CHECKOV_VENV)/.installed
	CHECKOV_VENV=$(CHECKOV_VENV) $(PY) -m pytest -m "not compat" $(PYTEST_ARGS)

quick: lint
	$(PY) -m pytest $(PYTEST_ARGS)

slow: bootstrap chromium $(CHECKOV_VENV)/.installed
	CHECKOV_VENV=$(CHECKOV_VENV) $(PY) -m pytest -m slow $(PYTEST_ARGS)

compat: bootstrap
	$(PY) -m pytest -m compat tests/compat $(PYTEST_ARGS)

# ruff; mypy on the tools ([tool.mypy] files: emulator, devhost, receiver, bench, fuzz); mypy --strict on the app.
lint: bootstrap
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m mypy --strict $(STRICT)

bench: bootstrap
	$(PY) -m bench

# At least 10,000 generated requests on every route; fails on any 5xx or exception text in a body (FUZZ_ARGS).
fuzz: bootstrap
	$(PY) -m fuzz $(FUZZ_ARGS)

bootstrap: $(VENV)/.installed node_modules/.installed

# Debian's chromium for the web page's browser test (tests/e2e/test_web_page.py), installed when apt-get can (root);
# otherwise that one test is skipped and says why.
chromium:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "chromium not installed (needs root and apt-get); the browser test will be skipped"; }

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
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .pytest_cache .ruff_cache .mypy_cache
