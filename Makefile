# yigongti — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
DATA_DIR ?= ./instance
export DATA_DIR PORT

.PHONY: run test install ui test-py test-e2e check lint typecheck types check-types clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

ui/node_modules/.installed: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
	touch $@

ui/dist/index.html: ui/node_modules/.installed $(shell find ui/src -type f 2>/dev/null) ui/index.html ui/vite.config.ts
	cd ui && npm run build

ui: ui/dist/index.html

## Start the platform with demo data on the embedded default (SQLite in $(DATA_DIR), jobs in-process).
run: install ui
	$(BIN)/ygt migrate
	$(BIN)/ygt deploy
	$(BIN)/ygt seed-demo
	YGT_CLOCK_CONTROL=1 $(BIN)/ygt serve --port $(PORT)

## Run every test: Python (unit, API, integration, clinical) and, where Chromium is installed, the browser tests.
test: install lint
	$(BIN)/ygt check-assets
	$(BIN)/pytest -q
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory ui/node_modules/.installed && cd ui && npm test --silent; \
	  else echo "UI unit tests skipped: npm not installed"; fi
	@if [ -z "$$YGT_SKIP_E2E" ] && [ -x /usr/bin/chromium ] && command -v npm >/dev/null; then $(MAKE) --no-print-directory test-e2e; \
	  else echo "browser tests skipped: install Debian's chromium (apt-get install chromium) to run them"; fi

test-py: install
	$(BIN)/pytest -q

test-e2e: install ui
	$(BIN)/python tests/e2e/live.py

## Code health (what `make test` runs first): ruff, the import contracts, mypy on app/, the UI's API types up to date.
lint: install
	@t=$$(date +%s); $(BIN)/ruff check app connectors tests bench && echo "ruff: $$(( $$(date +%s) - t ))s"
	@t=$$(date +%s); $(BIN)/lint-imports --no-cache && echo "import contracts: $$(( $$(date +%s) - t ))s"
	@$(MAKE) --no-print-directory typecheck
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory check-types; \
	  else echo "API types check skipped: npm not installed"; fi

## Type-check app/ with mypy ([tool.mypy] in pyproject.toml; cache in .venv).
typecheck: install
	@t=$$(date +%s); $(BIN)/mypy && echo "mypy: $$(( $$(date +%s) - t ))s"

## Regenerate the UI's API types (ui/src/api/schema.gen.ts) from the OpenAPI document; commit the result.
types: install ui/node_modules/.installed
	ui/scripts/api-types.sh

## Fail when the committed ui/src/api/schema.gen.ts differs from what the current API generates.
check-types: install ui/node_modules/.installed
	@t=$$(date +%s); ui/scripts/api-types.sh --check && echo "API types check: $$(( $$(date +%s) - t ))s"

clean:
	rm -rf $(VENV) ui/node_modules ui/dist
