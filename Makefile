# Every target does its own setup on a fresh machine: system packages, virtualenv, database.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help system-deps install devstack test lint typecheck unit e2e acceptance demo up bench clean

help:
	@echo "make demo   run a 500-contact campaign end to end against the simulator"
	@echo "make test   lint, type-check and run the whole test suite on real Postgres and Redis"
	@echo "make up     run API, worker, beat and simulator for development"
	@echo "make bench  run the benchmarks"

system-deps:
	@missing=""; \
	command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	{ command -v node && command -v npm; } >/dev/null || missing="$$missing nodejs npm"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v tmux >/dev/null || missing="$$missing tmux"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "please install:$$missing" >&2; exit 1; fi; \
	  echo "installing system packages:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: system-deps $(STAMP)

devstack: install
	$(BIN)/orchestrator devstack up

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy --strict orchestrator workers tests ops

test: devstack lint typecheck
	$(BIN)/pytest -q

e2e: devstack
	$(BIN)/pytest -q -m e2e

acceptance: devstack
	$(BIN)/pytest -q -m acceptance

demo: devstack
	$(BIN)/orchestrator demo

up: devstack
	$(BIN)/orchestrator up

bench: devstack
	$(BIN)/python -m ops.bench.run

clean:
	-$(BIN)/orchestrator devstack down
	rm -rf $(VENV) .devstack .cache .pytest_cache .mypy_cache .ruff_cache
