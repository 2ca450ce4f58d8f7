# yigongti — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
DATA_DIR ?= ./instance
export DATA_DIR PORT

.PHONY: run test install ui test-py test-e2e check lint clean

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
test: install
	$(BIN)/ruff check app connectors tests
	$(BIN)/lint-imports --no-cache
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

lint: install
	$(BIN)/ruff check app connectors tests

clean:
	rm -rf $(VENV) ui/node_modules ui/dist
