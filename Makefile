# questline — the single entry point for building, running and testing.
# `make help` lists the targets. Downloads go to $(QUESTLINE_CACHE), stack state
# to $(QUESTLINE_STATE); neither is inside the repository.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK := $(VENV)/bin/questline-stack
export QUESTLINE_CACHE ?= $(HOME)/.cache/questline
export PIP_CACHE_DIR ?= $(QUESTLINE_CACHE)/pip

# Python packages of this repository, installed editable into one virtualenv.
PACKAGES := services/event-schema stack

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- setup
.PHONY: system-deps venv
system-deps: ## install the Debian packages the stack needs (root, apt)
	@./stack/system-deps.sh

venv: $(VENV)/.installed ## create .venv with every package and tool pinned
$(VENV)/.installed: constraints.txt requirements-dev.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	@echo "[make] creating $(VENV) (pip cache: $(PIP_CACHE_DIR))"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -c constraints.txt -r requirements-dev.txt $(foreach p,$(PACKAGES),-e $(p))
	@touch $@

# ---------------------------------------------------------------- local stack
.PHONY: stack-fetch stack-up stack-down stack-purge stack-status stack-logs stack-check
stack-fetch: venv ## download every stack artifact into the cache
	@$(STACK) fetch
stack-up: venv ## start Kafka, HDFS, PostgreSQL, Hive metastore and Trino locally (idempotent)
	@$(STACK) up
stack-down: venv ## stop every stack process
	@$(STACK) down
stack-purge: venv ## stop the stack and delete its state (all data)
	@$(STACK) down --purge
stack-status: venv ## processes, memory and readiness
	@$(STACK) status
stack-logs: venv ## list the log files (make stack-logs NAME=kafka for one)
	@$(STACK) logs $(NAME)
stack-check: stack-up ## end-to-end check: Kafka, HDFS, Spark -> Hive -> Trino
	@$(STACK) check

# ---------------------------------------------------------------- tests
.PHONY: lint test test-unit
lint: venv ## ruff
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

test-unit: venv ## fast tests: no servers needed
	@$(VENV)/bin/pytest -m "not stack and not charts and not apiserver and not browser and not faults and not e2e"

# pytest exits 5 when a marker selects no test; that is not a failure here.
test: venv ## every test CI runs (starts the local stack itself)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/pytest -m "not faults" || [ $$? -eq 5 ]

# ---------------------------------------------------------------- main job
.PHONY: demo
demo: stack-up ## the main job locally (until the simulator lands: stack up + stack check)
	@$(STACK) check
