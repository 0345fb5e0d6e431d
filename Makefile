# Two entry points for a fresh clone: `make run` starts the emulator, `make test` runs every check.
# Each one creates .venv and installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The published analytics-node client, for tests/test_node_client.py (installed from the lock file).
NODE_CLIENT := clients/node
NODE_STAMP := $(NODE_CLIENT)/node_modules/.installed
# The published @segment/analytics-next browser library, for tests/test_browser_library.py.
BROWSER_CLIENT := clients/browser
BROWSER_STAMP := $(BROWSER_CLIENT)/node_modules/.installed

.PHONY: run test lint typecheck pytest bench clean node-client

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): $(NODE_CLIENT)/package.json $(NODE_CLIENT)/package-lock.json
	cd $(NODE_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

node-client: $(NODE_STAMP)

$(BROWSER_STAMP): $(BROWSER_CLIENT)/package.json $(BROWSER_CLIENT)/package-lock.json
	cd $(BROWSER_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	touch $(BROWSER_STAMP)

run: $(STAMP)
	$(BIN)/refersion-emulator serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check emulator tests benchmarks
	$(BIN)/ruff format --check emulator tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(NODE_STAMP) $(BROWSER_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

# The inner loop: the suite without the slow browser, fuzz, chaos, client and `slow` tests,
# and Hypothesis on fewer examples; `make test` runs everything. The fuzz files are not even
# collected: schemathesis builds its cases while collecting, which alone takes seconds.
.PHONY: quick
quick: $(STAMP)
	HYPOTHESIS_PROFILE=quick $(BIN)/pytest -q -p no:cacheprovider --ignore-glob='tests/test_fuzz_*.py' \
		-m "not browser and not fuzz and not chaos and not client and not slow" $(PYTEST_ARGS)

# Figures, one per line, with baselines measured in the same run; also reports/benchmarks.json.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache $(NODE_CLIENT)/node_modules $(BROWSER_CLIENT)/node_modules
