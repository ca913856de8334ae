# One entry point for every task. Each target creates the virtual environment it needs.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv console run test bench check lint typecheck fmt clean

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "Tickwork needs Python 3.11+"'
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## the web console: npm ci + vite build into src/tickwork/web/static (skipped when up to date)
CONSOLE_OUT := src/tickwork/web/static/index.html
CONSOLE_DEPS := console/node_modules/.installed
CONSOLE_SRC := $(shell find console/src console/public -type f 2>/dev/null) \
	console/index.html console/vite.config.ts console/tsconfig.json console/package.json

console: $(CONSOLE_OUT)

$(CONSOLE_DEPS): console/package-lock.json
	@command -v npm >/dev/null || { echo "make console: needs Node.js 20+ and npm"; exit 1; }
	cd console && npm ci --no-audit --no-fund
	touch $@

$(CONSOLE_OUT): $(CONSOLE_DEPS) $(CONSOLE_SRC)
	cd console && npm run build
	touch $@

## run Tickwork: a node (scheduler, API, console on http://127.0.0.1:$(PORT)/) on the embedded
## SQLite database in ./.tickwork, with demo jobs; `tickwork ...` run here uses the same database
PORT ?= 8080
HOST ?= 127.0.0.1
run: venv console
	TICKWORK_DATA_DIR=$${TICKWORK_DATA_DIR:-$(CURDIR)/.tickwork} $(BIN)/tickwork serve --demo --host $(HOST) --port $(PORT)

## the whole test suite
## TEST_WORKERS=0 runs in one process (useful with -x or a debugger)
TEST_WORKERS ?= 2
test: venv console
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=20 $(PYTEST_ARGS)

## side-by-side benchmarks against the peers; prints a table and a JSON line
bench: venv console
	$(BIN)/python -m bench

lint: venv
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: venv
	$(BIN)/mypy
	# each example on its own (they hold modules of the same names)
	for d in examples/*/; do MYPYPATH=src $(BIN)/mypy --strict --python-version 3.11 \
	  --ignore-missing-imports --no-incremental $$d*.py || exit 1; done

fmt: venv
	$(BIN)/ruff format src tests bench examples
	$(BIN)/ruff check --fix src tests bench examples

## lint, types and tests in one go
check: lint typecheck test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist console/node_modules src/tickwork/web/static
