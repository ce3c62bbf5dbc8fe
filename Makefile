# coursebench — two commands on a fresh machine: `make demo` and `make test`.
# Each creates/updates .venv and installs what it needs (Debian packages too, as root).

PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
PIP         := $(PY) -m pip
EXTRAS      ?= all,dev
# Debian packages: what the demo needs, and what the test suite needs on top.
DEMO_DEBS   := bubblewrap util-linux
TEST_DEBS   := $(DEMO_DEBS) docker.io docker-compose debootstrap postgresql chromium fonts-dejavu-core wrk nodejs npm
PYTEST_ARGS ?=

.PHONY: help install sysdeps-demo sysdeps-test demo test lint notebooks bench images clean

help:
	@echo "make demo    run the sample course end to end (installs what it needs)"
	@echo "make test    run the test suite (installs what it needs, as root: Debian packages too)"
	@echo "make lint    ruff, and the dependency contracts (lint-imports, see .importlinter)"
	@echo "make notebooks  build every notebook from its jupytext source (_src/*.py); lint checks them"
	@echo "make bench   benchmarks (ratios against the obvious alternative)"
	@echo "make images  build the Docker images (see docker/README.md)"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[$(EXTRAS)]'
	@touch $@

sysdeps-demo:
	@scripts/sysdeps.sh $(DEMO_DEBS)

sysdeps-test:
	@scripts/sysdeps.sh $(TEST_DEBS)

demo: install sysdeps-demo
	$(VENV)/bin/coursebench demo $(DEMO_ARGS)

test: install sysdeps-test hub-deps
	PY=$(PY) scripts/run-tests.sh $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check coursebench leaderboard tests benchmarks
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/coursebench notebooks build --check

notebooks: install
	$(VENV)/bin/coursebench notebooks build

bench: install sysdeps-test
	$(PY) benchmarks/run.py $(BENCH_ARGS)

images: install sysdeps-test
	$(PY) -m coursebench.images build --all

clean:
	rm -rf build .pytest_cache .ruff_cache

-include mk/*.mk
