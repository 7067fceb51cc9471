# sinch-calling: spec -> generated client -> package, with the recorded server and the tests.
#
#   make          bootstrap .venv, validate and lint the spec, regenerate the client, build wheel + sdist
#   make test     bootstrap the same way, then run every check and test (what CI runs)
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
GENERATOR_INPUTS := $(SPEC) generator/config.yaml generator/generate.py \
	$(shell find generator/templates generator/runtime -type f \( -name '*.jinja' -o -name '*.py' \) 2>/dev/null)

PYTEST_ARGS ?=
SERVER_ARGS ?=
PORT ?= 8080

export PATH := $(abspath $(BIN)):$(PATH)
export NO_UPDATE_NOTIFIER := 1
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true

.DEFAULT_GOAL := all
.PHONY: all venv node lint lint-spec lint-python generate check-generated build test test-fast serve bench fuzz clean

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
check-generated: $(VENV_STAMP)
	@tmp=$$(mktemp -d) && \
	$(PY) generator/generate.py --spec $(SPEC) --out $$tmp/sinch_calling >/dev/null && \
	if diff -ru --exclude=__pycache__ $(PACKAGE_DIR) $$tmp/sinch_calling; then \
		echo "generated/ matches spec/ and generator/"; rm -rf $$tmp; \
	else \
		echo "generated/ differs from what the spec and templates produce: run 'make generate' and commit." >&2; \
		rm -rf $$tmp; exit 1; \
	fi

# ---------------------------------------------------------------- package
build: $(VENV_STAMP) $(GENERATED_STAMP)
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist . >/dev/null
	$(BIN)/twine check --strict dist/*
	@ls dist

# ---------------------------------------------------------------- quality
lint-python: $(VENV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict generated/sinch_calling server/sinch_calling_server generator/runtime tests/typing examples

lint: lint-spec lint-python

test: $(VENV_STAMP) $(NODE_STAMP) lint check-generated
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: $(VENV_STAMP)
	$(BIN)/pytest -x -q $(PYTEST_ARGS)

# ---------------------------------------------------------------- server, benchmarks, fuzzing
serve: $(VENV_STAMP)
	$(BIN)/sinch-calling-server --port $(PORT) $(SERVER_ARGS)

bench: $(VENV_STAMP) $(NODE_STAMP)
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
