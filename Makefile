# The hub's two commands for a newcomer: `make run` and `make test`. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := shared services/intake services/dispatch services/notify
PACKAGE_FILES := $(foreach p,$(PACKAGES),$(p)/pyproject.toml) requirements-dev.txt
AXE := tests/browser/node_modules/.installed  # axe-core, for the browser tests' accessibility checks

.PHONY: help run test faults lint format install clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): $(PACKAGE_FILES)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(foreach p,$(PACKAGES),-e ./$(p)) -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install every service (done by run and test)

run: $(STAMP) ## Start the whole hub on this machine (Ctrl-C stops it)
	$(BIN)/hub run

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --silent
	@touch $(AXE)

test: $(STAMP) $(AXE) lint ## Lint, then run the whole test suite
	$(BIN)/pytest

faults: $(STAMP) ## Break the running hub's processes on purpose and check nothing is lost or doubled
	$(BIN)/pytest -m faults tests/faults

lint: $(STAMP) ## Check style and common mistakes with ruff, and types with mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP) ## Fix what ruff can fix
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean: ## Remove .venv and the local hub's data in var/
	rm -rf $(VENV) var
