# hiretext: `make run` serves the demo, `make test` checks everything. Both set themselves up.
SHELL := /bin/bash
PYTHON_BOOT ?= $(shell for p in python3.13 /root/.pyenv/versions/3.13.0/bin/python3.13 python3.12; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: node-deps run test lint typecheck test-sqlite test-postgres bench bench-smoke bench-deps setup clean

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON_BOOT)" || { echo "Python 3.12+ is required (python3.13 recommended)." >&2; exit 1; }
	$(PYTHON_BOOT) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# Test-only Node packages (Prism, the Twilio API mock), pinned by tests/mocks/package-lock.json.
NODE_STAMP := tests/mocks/node_modules/.installed-stamp
$(NODE_STAMP): tests/mocks/package.json tests/mocks/package-lock.json
	cd tests/mocks && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

node-deps: $(NODE_STAMP)

run: $(STAMP)
	PORT=$(PORT) $(BIN)/hiretext demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy hiretext config bench

test-sqlite: $(STAMP)
	env -u DATABASE_URL $(BIN)/pytest -q -n 2 $(PYTEST_ARGS)

test-postgres: $(STAMP)
	DATABASE_URL=$(PG_URL) HIRETEXT_EXPECT_POSTGRES=1 $(BIN)/pytest -q -n 2 $(PYTEST_ARGS)

test: $(STAMP) node-deps
	./scripts/ensure-system-deps
	$(MAKE) --no-print-directory lint typecheck
	env -u DATABASE_URL $(BIN)/hiretext makemigrations --check --dry-run
	$(MAKE) --no-print-directory test-sqlite test-postgres bench-smoke

# Benchmarks (BENCHMARKS.md): wrk from Debian (installed when root), the segment-counting
# peers from npm (pinned by bench/node/package-lock.json) and PyPI (the `bench` extra).
BENCH_NODE_STAMP := bench/node/node_modules/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-installed-stamp
$(BENCH_NODE_STAMP): bench/node/package.json bench/node/package-lock.json
	cd bench/node && npm ci --no-audit --no-fund --loglevel=error
	touch $(BENCH_NODE_STAMP)

$(BENCH_STAMP): $(STAMP) pyproject.toml constraints.txt
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench-deps: $(BENCH_STAMP) $(BENCH_NODE_STAMP)
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }; \
	  else echo "wrk is missing: sudo apt-get install wrk" >&2; exit 1; fi; }

bench: bench-deps
	$(BIN)/python -m bench

# On both databases: each has paths of its own (prepared statements, pipelines, LISTEN).
bench-smoke: bench-deps
	env -u DATABASE_URL $(BIN)/python -m bench --smoke
	DATABASE_URL=$(PG_URL) $(BIN)/python -m bench --smoke

clean:
	rm -rf $(VENV) var staticfiles
