# One command each: `make demo` (see it work) and `make test` (the whole suite, as CI runs it).
# Needs python3 (3.11+), java (17+) and mvn; as root, the rest is installed when missing.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STATE_DIR := $(or $(INGEST_STATE_DIR),.ingest)
# `make test` runs on a stack of its own, never the one `make demo` and `make stack-up` use.
TEST_STATE_DIR := $(abspath $(or $(INGEST_TEST_STATE_DIR),.ingest-test))
PYTEST_ARGS ?=
APT_TEST_PACKAGES := chromium prometheus

.PHONY: help venv demo test test-deps lint stack-up stack-down bench bench-scale

help:
	@echo "make demo        virtualenv, local stack, then the demo (service + sample events)"
	@echo "make test        virtualenv, test tools, local stack, then the whole test suite"
	@echo "make lint        ruff check, ruff format --check, mypy --strict"
	@echo "make bench       the end-to-end benchmark, v1 then v3 writers (2,000,000 events each; BENCH_ARGS='--events 20000')"
	@echo "make bench-scale the read and write side over 5 years of national history (BENCH_SCALE_ARGS='--years 1')"
	@echo "make stack-up    start the local Kafka + Postgres (ingest stack up)"
	@echo "make stack-down  stop them (ingest stack down)"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@if ! $(PYTHON) -c 'import ensurepip' 2>/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "installing python3-venv (apt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[stack,test]'
	touch $(STAMP)

# System packages the tests drive (headless Chromium, prometheus/promtool, and a PostgreSQL
# built with SSL for the secure stack: `postgresql`, found in /usr/lib/postgresql/<major>/bin
# unless INGEST_STACK_POSTGRES_BIN names one), installed from apt when missing and running as
# root; services are kept from starting during the install.
test-deps:
	@missing=""; \
	for pkg in $(APT_TEST_PACKAGES); do command -v $$pkg >/dev/null || missing="$$missing $$pkg"; done; \
	if [ -z "$${INGEST_STACK_POSTGRES_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then \
	  missing="$$missing postgresql"; \
	fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "missing:$$missing (install them, e.g. apt-get install$$missing; tests needing them skip)"; \
	  else \
	    echo "installing$$missing (apt)"; \
	    guard=""; if [ ! -e /usr/sbin/policy-rc.d ]; then \
	      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; guard=1; fi; \
	    apt-get update -qq; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	    if [ -n "$$guard" ]; then rm -f /usr/sbin/policy-rc.d; fi; \
	  fi; \
	fi

stack-up: venv
	$(BIN)/ingest stack up $(STACK_ARGS)

stack-down: venv
	$(BIN)/ingest stack down

# The whole suite against a real stack of its own (with its schema registry, under
# .ingest-test/ or INGEST_TEST_STATE_DIR), its addresses exported from its stack.env; the
# stack is stopped afterwards, whatever the outcome, and the demo's stack is never touched.
test: venv test-deps
	export INGEST_STATE_DIR="$(TEST_STATE_DIR)"; \
	$(BIN)/ingest stack up --registry; \
	status=0; \
	( set -a; . "$$INGEST_STATE_DIR/stack.env"; set +a; $(BIN)/pytest $(PYTEST_ARGS) ) || status=$$?; \
	$(BIN)/ingest stack down || echo "make test: could not stop the stack in $$INGEST_STATE_DIR" >&2; \
	exit $$status

demo: venv stack-up
	$(BIN)/ingest demo

lint: venv
	$(BIN)/ruff check ingest consumers tests examples
	$(BIN)/ruff format --check ingest consumers tests examples
	$(BIN)/mypy

# End to end on the real stack: ours (1 and 2 processes) vs a naive consumer vs the COPY ceiling.
BENCH_ARGS ?=
bench: venv stack-up
	set -a; . $(STATE_DIR)/stack.env; set +a; \
	$(BIN)/python -m tests.bench.run_bench --writers v1,v3 $(BENCH_ARGS)

# How the cost grows with years of data (the targets must hold on national volumes): N years of
# synthetic history by COPY, then ingest, refresh, status page, scrape, exports and a quality
# report against an empty database.
BENCH_SCALE_ARGS ?=
bench-scale: venv stack-up
	set -a; . $(STATE_DIR)/stack.env; set +a; \
	$(BIN)/python -m tests.bench.run_scale $(BENCH_SCALE_ARGS)
