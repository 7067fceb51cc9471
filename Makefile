# sinch-calling: spec -> generated client -> package, with the recorded server and the tests.
#
#   make          bootstrap .venv, validate and lint the spec, regenerate the client, build the sdist and the wheel
#   make test     bootstrap the same way, then run every check and test (what CI runs); no C compiler needed
#   make test-compiled   the mypyc-compiled wheel, built and tested on its own (needs a C compiler)
#
# Targets depend on real files, so `make generate` with unchanged inputs does nothing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
VENV_STAMP := $(VENV)/.bootstrapped
NODE_STAMP := node_modules/.bootstrapped

SPEC := spec/calling-api.yaml
PACKAGE_DIR := generated/sinch_calling
GENERATED_STAMP := $(PACKAGE_DIR)/__init__.py
GENERATOR_INPUTS := $(SPEC) generator/config.yaml generator/generate.py generator/surface.py generator/surface.yaml \
	$(PACKAGE_DIR)/_runtime/hosts.py $(shell find generator/templates -type f -name '*.jinja' 2>/dev/null)

SERVER_SOURCES := $(shell find server/sinch_calling_server -type f -not -path '*/__pycache__/*' 2>/dev/null)
GENERATED_FILES := $(shell find $(PACKAGE_DIR) -type f -not -path '*/__pycache__/*' 2>/dev/null)
COMPILED_DIR := build/compiled
COMPILED_WHEEL_DIR := build/compiled-wheel
COMPILED_STAMP := $(COMPILED_DIR)/.built

PYTEST_ARGS ?=
SERVER_ARGS ?=
PORT ?= 8080

export PATH := $(abspath $(BIN)):$(PATH)
export NO_UPDATE_NOTIFIER := 1
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true

.DEFAULT_GOAL := all
.PHONY: all venv node lint lint-spec lint-python generate check-generated build compiled test test-compiled test-fast serve bench fuzz clean \
	lint-workflows check-breaking release-dry-run release docs chromium

all: venv lint-spec generate build

# ---------------------------------------------------------------- bootstrap
venv: $(VENV_STAMP)

$(VENV_STAMP): requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

node: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# ---------------------------------------------------------------- spec
lint-spec: $(VENV_STAMP) $(NODE_STAMP)
	$(BIN)/openapi-spec-validator $(SPEC)
	node_modules/.bin/redocly lint $(SPEC) --config spec/redocly.yaml --format=stylish

# ---------------------------------------------------------------- generation
generate: $(GENERATED_STAMP)

$(GENERATED_STAMP): $(GENERATOR_INPUTS) | $(VENV_STAMP)
	$(PY) generator/generate.py --spec $(SPEC) --out $(PACKAGE_DIR)

# Regenerates into a temporary folder and fails with a readable diff when the committed code differs.
# It covers exactly the generated files: the hand-written _runtime/ is neither generated nor compared.
check-generated: $(VENV_STAMP)
	@tmp=$$(mktemp -d) && \
	$(PY) generator/generate.py --spec $(SPEC) --out $$tmp/sinch_calling >/dev/null && \
	if diff -ru --exclude=__pycache__ --exclude=_runtime --exclude=cli --exclude=frameworks $(PACKAGE_DIR) $$tmp/sinch_calling; then \
		echo "generated/ matches spec/ and generator/"; rm -rf $$tmp; \
	else \
		echo "generated/ differs from what the spec and templates produce: run 'make generate' and commit." >&2; \
		rm -rf $$tmp; exit 1; \
	fi

# ---------------------------------------------------------------- package
# dist/: the sdist and the pure-Python wheel (any platform). The compiled wheel is `make compiled`
# (this platform and interpreter, from hatch_build.py's mypyc hook; it needs a C compiler).
build: $(GENERATED_STAMP) | $(VENV_STAMP)
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist . >/dev/null
	$(BIN)/twine check --strict dist/*
	@ls dist

# The compiled wheel, and the same unpacked as pip would install it: `make test` runs the server's
# tests against it and `make bench` measures it. Rebuilt only when a compiled module's input changes.
compiled: $(COMPILED_STAMP)

$(COMPILED_STAMP): $(GENERATED_STAMP) $(GENERATED_FILES) $(SERVER_SOURCES) hatch_build.py pyproject.toml | $(VENV_STAMP)
	rm -rf $(COMPILED_DIR) $(COMPILED_WHEEL_DIR)
	SINCH_CALLING_COMPILE=1 $(PY) -m build --wheel --no-isolation --outdir $(COMPILED_WHEEL_DIR) . >/dev/null
	$(PY) -m zipfile -e $(COMPILED_WHEEL_DIR)/*.whl $(COMPILED_DIR)
	touch $@

# ---------------------------------------------------------------- release
# The spec and the generated package's Python API against the last release (spec/released/): each
# change classified, and a failure unless the version bump and CHANGELOG.md say enough.
check-breaking: $(GENERATED_STAMP) | $(VENV_STAMP)
	$(PY) -m tools.check_breaking

# dist/ uploaded to a local pypiserver, installed from it into a fresh venv, the README quickstart
# run against the installed sinch-calling-server; prints the version decision. Publishes nothing.
release-dry-run: build check-breaking
	$(PY) -m tools.release dry-run dist

# The same, then an upload to $$TWINE_REPOSITORY_URL (TWINE_USERNAME/TWINE_PASSWORD); refuses
# without them before doing anything. CI publishes on v* tags with trusted publishing instead.
release: $(VENV_STAMP)
	$(PY) -m tools.release credentials
	$(MAKE) release-dry-run
	$(PY) -m tools.release publish dist

# ---------------------------------------------------------------- quality
lint-python: $(VENV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict generated/sinch_calling server/sinch_calling_server tests/typing examples tools

# The GitHub Actions workflows, with actionlint (a binary from a pinned PyPI wheel, see requirements-dev.txt).
lint-workflows: $(VENV_STAMP)
	$(BIN)/actionlint -color=false .github/workflows/*.yml

lint: lint-spec lint-python lint-workflows

test: $(VENV_STAMP) $(NODE_STAMP) chromium lint check-generated check-breaking release-dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

# The compiled build on its own (a C compiler and the Python headers needed): the server, runtime,
# client and contract tests against it, and its wheel installed in an empty venv.
test-compiled: $(VENV_STAMP) $(COMPILED_STAMP)
	PYTHONPATH=$(abspath $(COMPILED_DIR)) SINCH_CALLING_EXPECT_COMPILED=1 \
		$(BIN)/pytest -q -p no:cacheprovider tests/server tests/runtime tests/client tests/contract $(PYTEST_ARGS)
	SINCH_CALLING_TEST_COMPILED_WHEEL=1 $(BIN)/pytest -q -p no:cacheprovider tests/packaging $(PYTEST_ARGS)

# Everything but the slow tests (live servers, subprocesses, fresh venvs).
test-fast: $(VENV_STAMP)
	$(BIN)/pytest -x -q -m "not slow" $(PYTEST_ARGS)

# ---------------------------------------------------------------- docs
# build/docs/: the guide (docs/*.md, rendered by docs/build.py) and the API reference (reference.html,
# Redocly's build-docs over the spec). tests/docs runs the guide's examples and opens the site in Chromium.
docs: $(VENV_STAMP) $(NODE_STAMP)
	$(PY) docs/build.py --out build/docs

# Debian's Chromium, for the docs' browser test: Playwright cannot download its own browsers where only
# package registries are reachable, so the test points it at this one.
chromium:
	@command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

# ---------------------------------------------------------------- server, benchmarks, fuzzing
serve: $(VENV_STAMP)
	$(BIN)/sinch-calling-server --port $(PORT) $(SERVER_ARGS)

bench: $(VENV_STAMP) $(NODE_STAMP) $(COMPILED_STAMP)
	@command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(PY) tests/bench/run.py

# A long randomised contract-test campaign (tests/contract, --fuzz): random seed, printed with the
# replay command on failure; `make fuzz PYTEST_ARGS=--hypothesis-seed=N` replays run N.
fuzz: $(VENV_STAMP)
	mkdir -p reports
	$(BIN)/pytest tests/contract -p no:cacheprovider --fuzz --junitxml=reports/contract-fuzz.xml $(PYTEST_ARGS)

clean:
	rm -rf dist build reports .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -not -path './node_modules/*' -prune -exec rm -rf {} +
