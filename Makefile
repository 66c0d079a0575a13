# CompanyOS Exec Cockpit — the two commands a fresh machine needs: `make demo` and `make test`.
SHELL := /bin/bash
PY_SYS ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
# checkov pins boto3/networkx/packaging below the project's: it lives in its own tool venv
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
PORT ?= 8080
# pytest-xdist workers for `make test` (auto: one per core); `--dist loadfile` keeps a file's tests on one
# worker, in order, with its module fixtures built once
TEST_WORKERS ?= auto
export AWS_EC2_METADATA_DISABLED := true
export CDK_DISABLE_VERSION_CHECK := 1
export CDK_DISABLE_CLI_TELEMETRY := 1

.PHONY: install install-demo install-checkov demo test test-fast lint synth bench bench-demo cost openapi docs chromium node clean

# Everything: the tests, lint, synth and benchmarks (`.[dev]` includes the demo's dependencies).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# checkov for the template checks of tests/infra (the version range is the `checkov` extra's)
$(CHECKOV_STAMP): pyproject.toml
	test -x $(CHECKOV_VENV)/bin/python || $(PY_SYS) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/pip install -q 'checkov>=3,<4'
	touch $(CHECKOV_STAMP)

install-checkov: $(CHECKOV_STAMP)

# Only what `make demo` runs (`.[demo]`: the runtime, moto, DuckDB, reportlab; no CDK, cdk-nag,
# Playwright or test tools), with its own stamp.
$(DEMO_STAMP): pyproject.toml
	test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[demo]'
	touch $(DEMO_STAMP)

install-demo: $(DEMO_STAMP)

# Headless Chromium for the browser tests and poppler's pdftoppm for the board-pack PDF checks
# (Debian packages; no browser download at test time).
chromium:
	@{ command -v chromium && command -v pdftoppm; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium poppler-utils >/dev/null; }

# The pinned CDK CLI (package.json) and node 22 for jsii.
node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

node: node_modules/.installed

# Serves the login page first and seeds the demo tenants in the background (docs/benchmarks.md).
demo: install-demo
	$(PY) -m infra.local --port $(PORT)

test: install install-checkov chromium
	$(VENV)/bin/lint-imports --no-cache
	CHECKOV=$(CURDIR)/$(CHECKOV_VENV)/bin/checkov $(PY) -m pytest -q -m "not bench" -n $(TEST_WORKERS) --dist loadfile

test-fast: install
	$(PY) -m pytest -q -m "not e2e and not infra and not bench"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/core/python functions infra app.py
	$(VENV)/bin/lint-imports

synth: install node
	rm -rf cdk.out
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" npx --no-install cdk synth --quiet --no-notices > /dev/null
	@ls cdk.out/assembly-*/*.template.json

bench: install
	$(PY) -m pytest -q tests/bench -m bench -p no:cacheprovider

# The AWS bill from measured counts (tests/bench/test_bench_cost.py → docs/cost.md, docs/benchmarks.md).
cost: install
	$(PY) -m pytest -q tests/bench/test_bench_cost.py -m bench -p no:cacheprovider
	$(PY) -m tools.cost_model --write docs/cost.md

# `make demo`'s start alone: seconds to the login page and to the seeded demo (bench-report.json).
bench-demo: install
	$(PY) -m pytest -q tests/bench/test_bench_demo_startup.py -m bench -p no:cacheprovider

openapi: install
	$(PY) -m functions.read_api.openapi > docs/openapi.json
	$(PY) -m functions.admin_api.openapi > docs/openapi-admin.json
	$(PY) -m functions.ingest.openapi > docs/openapi-ingest.json
	$(PY) -m functions.alerts_api.openapi > docs/openapi-alerts.json

# The KPI dictionary, generated from the pack (a unit test fails when the two differ).
docs: install
	$(PY) -m tools.docgen > docs/kpi-dictionary.md

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
