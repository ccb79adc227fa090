# LiênThông — every developer and CI entry point. `make run` and `make test` set up a fresh
# machine by themselves (Debian packages, Kafka jars, Python venv, generated stubs).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROTOS = $(shell find protos -name '*.proto' | sort)
PYTEST_ARGS ?=

.PHONY: help setup install-infra proto run down status demo test test-unit bench lint format demo-data clean

help:  ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: install-infra $(VENV)/.installed proto  ## install everything that is missing (idempotent)

install-infra:
	@infra/local/install.sh

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "python     installing the environment into $(VENV) (log: $(VENV)/pip.log)"
	@{ $(BIN)/pip install --disable-pip-version-check --upgrade pip setuptools wheel && \
	   $(BIN)/pip install --disable-pip-version-check -e '.[dev]'; } > $(VENV)/pip.log 2>&1 \
	 || { tail -40 $(VENV)/pip.log; echo "pip install failed; full log in $(VENV)/pip.log"; exit 1; }
	@touch $@

proto: $(VENV)/.installed  ## generate Python stubs from protos/
	@$(BIN)/python -m grpc_tools.protoc -Iprotos --python_out=protos --pyi_out=protos \
		--grpc_python_out=protos $(PROTOS)

run: setup  ## start infrastructure and every service (dev profile), seed the demo province
	@infra/local/up.sh dev
	@eval "$$(infra/local/env.sh dev)"; \
	 $(BIN)/lienthong devpki ensure >/dev/null; \
	 $(BIN)/lienthong stack up; \
	 $(BIN)/lienthong agencies import services/identifiers/data/demo_province.json; \
	 $(BIN)/lienthong gateway seed-users; \
	 echo; echo "LiênThông is running (profile dev). Logs: $$LT_LOG_DIR"; \
	 echo "  Gateway     http://127.0.0.1:$${LT_GATEWAY_PORT:-8080}  (API docs: /docs)"; \
	 echo "  PostgreSQL  $$LT_DATABASE_URL"; \
	 echo "  Kafka       $$LT_KAFKA_BOOTSTRAP"; \
	 echo "  SoftHSM     token '$$LT_HSM_TOKEN_LABEL' via $$LT_PKCS11_MODULE"; \
	 echo "Try: eval \"\$$(infra/local/env.sh dev)\"; $(BIN)/lienthong agencies search 'so tai chinh'"; \
	 echo "Stop with: make down"

down:  ## stop the services and the dev infrastructure
	@if [ -x $(BIN)/lienthong ]; then eval "$$(infra/local/env.sh dev)"; $(BIN)/lienthong stack down; fi
	@infra/local/down.sh dev

demo: run  ## the issue #7 scenario over the gateway's HTTP API (starts the dev stack if needed)
	@eval "$$(infra/local/env.sh dev)"; $(BIN)/lienthong demo

status:  ## health of the dev services
	@eval "$$(infra/local/env.sh dev)"; $(BIN)/lienthong stack status

test: setup  ## the whole suite on its own infrastructure (test profile), which it then stops
	@infra/local/up.sh test
	@rc=0; eval "$$(infra/local/env.sh test)"; \
	 $(BIN)/pytest $(PYTEST_ARGS) || rc=$$?; \
	 infra/local/down.sh test; exit $$rc

test-unit: $(VENV)/.installed proto  ## unit tests only (no infrastructure)
	@$(BIN)/pytest tests/unit $(PYTEST_ARGS)

bench: setup  ## benchmarks, each next to its baseline measured in the same run
	@infra/local/up.sh test
	@rc=0; eval "$$(infra/local/env.sh test)"; \
	 for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || rc=$$?; done; \
	 infra/local/down.sh test; exit $$rc

lint: $(VENV)/.installed  ## ruff: lint rules and formatting
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

format: $(VENV)/.installed
	@$(BIN)/ruff format services gateway tests bench

demo-data: $(VENV)/.installed  ## regenerate the demo province and check it is unchanged
	@$(BIN)/python services/identifiers/data/generate_demo_province.py --check

clean:  ## remove generated stubs and caches (keeps var/ and .venv)
	@find protos -name '*_pb2*.py*' -delete
	@find . -name __pycache__ -type d -prune -exec rm -rf {} +
