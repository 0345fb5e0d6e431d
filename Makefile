# Two entry points for a fresh clone: `make run` starts the emulator, `make test` runs every check.
# `make run` creates .venv with only what running needs; `make test` adds the development tools.
# Both install the versions pinned in constraints.txt, so every clone and CI run get the same.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime
STAMP := $(VENV)/.installed
# A venv without its own pip, filled by this Python's pip (22.3+ has --python), starts ~5 s
# sooner than one running ensurepip; where there is no such pip the venv gets its own.
HOST_PIP := $(shell $(PYTHON) -c 'import pip, sys; sys.exit(tuple(int(p) for p in pip.__version__.split(".")[:2]) < (22, 3))' 2>/dev/null && echo yes)
ifeq ($(HOST_PIP),yes)
VENV_FLAGS := --without-pip
PIP := $(PYTHON) -m pip --python $(BIN)/python
else
VENV_FLAGS :=
PIP := $(BIN)/python -m pip
endif
PIP_INSTALL := $(PIP) install --disable-pip-version-check -c constraints.txt
# The published analytics-node client, for tests/test_node_client.py (installed from the lock file).
NODE_CLIENT := clients/node
NODE_STAMP := $(NODE_CLIENT)/node_modules/.installed
# The published @segment/analytics-next browser library, for tests/test_browser_library.py.
BROWSER_CLIENT := clients/browser
BROWSER_STAMP := $(BROWSER_CLIENT)/node_modules/.installed

.PHONY: run test lint typecheck pytest bench clean node-client wheel-smoke constraints

$(RUNTIME_STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and f"Python 3.11 or newer is needed, {sys.executable} is {sys.version.split()[0]}: make run PYTHON=python3.11")'
	@echo "==> creating $(VENV) …"
	$(PYTHON) -m venv $(VENV_FLAGS) $(VENV)
	@echo "==> installing the emulator and what running it needs (the test tools come with make test) …"
	@# --no-compile: Python compiles what serve imports on first use, not all of hypothesis now.
	$(PIP_INSTALL) --progress-bar on --no-compile -e .
	@touch $@

$(STAMP): $(RUNTIME_STAMP)
	@echo "==> installing the development tools (pytest, ruff, mypy, Playwright, schemathesis) …"
	$(PIP_INSTALL) --progress-bar on -e '.[dev]'
	@touch $@

$(NODE_STAMP): $(NODE_CLIENT)/package.json $(NODE_CLIENT)/package-lock.json
	@echo "==> installing the Node client the tests drive (npm ci in $(NODE_CLIENT)) …"
	cd $(NODE_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-client: $(NODE_STAMP)

$(BROWSER_STAMP): $(BROWSER_CLIENT)/package.json $(BROWSER_CLIENT)/package-lock.json
	@echo "==> installing the browser library the tests drive (npm ci in $(BROWSER_CLIENT)) …"
	cd $(BROWSER_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: $(RUNTIME_STAMP)
	@echo "==> the command line is $(BIN)/refersion-emulator (after '. $(BIN)/activate', just refersion-emulator)"
	@echo "==> starting: $(BIN)/refersion-emulator serve $(ARGS)"
	@$(BIN)/refersion-emulator serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check emulator tests benchmarks
	$(BIN)/ruff format --check emulator tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(NODE_STAMP) $(BROWSER_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest wheel-smoke

# Build the wheel, install it into a fresh venv as a user would (newest allowed releases, no
# constraints), and try it: --help, send of a fixture, the pytest plugin, the compiled validator.
wheel-smoke: $(STAMP)
	.ci/wheel-smoke

# Re-pin constraints.txt to what the dev venv holds now (after changing pyproject.toml).
constraints: $(STAMP)
	{ sed -n '/^#/p' constraints.txt; $(PIP) freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

# The inner loop: the suite without the slow browser, fuzz, chaos, client and `slow` tests,
# and Hypothesis on fewer examples, spread over the machine's cores (pytest-xdist); `make test`
# runs everything, in one process. The fuzz files are not even collected: schemathesis builds
# its cases while collecting, which alone takes seconds.
.PHONY: quick
quick: $(STAMP)
	HYPOTHESIS_PROFILE=quick $(BIN)/pytest -q -p no:cacheprovider -n auto \
		--ignore-glob='tests/test_fuzz_*.py' \
		-m "not browser and not fuzz and not chaos and not client and not slow" $(PYTEST_ARGS)

# Figures, one per line, with baselines measured in the same run; also reports/benchmarks.json.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache $(NODE_CLIENT)/node_modules $(BROWSER_CLIENT)/node_modules dist
