# One command sets up .venv and runs every check: `make test`.
.PHONY: test venv lock lint format demo bench bench-newcomer generated validate pytest pytest-py311 \
	rdk-test-local chromium report-check docs

BIN := .venv/bin
# Compiled modules go to .venv/pycache, never beside the sources, and are written even where the image sets
# PYTHONDONTWRITEBYTECODE: otherwise each of the dozens of Python processes `make test` starts compiles moto,
# botocore and cfn-lint from source again (about 3 s each).
export PYTHONPYCACHEPREFIX := $(CURDIR)/.venv/pycache
unexport PYTHONDONTWRITEBYTECODE
HYPOTHESIS_PROFILE ?= ci

venv:
	@scripts/venv.sh

# Rewrites requirements/*.lock from pyproject.toml and requirements/*.in; commit the result.
lock: venv
	scripts/lock.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Runs the guardrails on an embedded (moto) account: no AWS account or credentials needed.
demo: venv
	$(BIN)/rdkpack demo

# Prints speed, API calls against their floor, import time, deploy size, pack size, demo time.
bench: venv
	$(BIN)/python bench/run.py

# A fresh clone of HEAD to a green `make test` with empty package caches (needs the package index).
bench-newcomer: venv
	$(BIN)/python bench/newcomer.py $(if $(BASELINE),--baseline $(BASELINE))

# Every check CI runs (.ci/run), the independent ones side by side; each check's output is printed whole
# when it ends. Each is also a target of its own: `make pytest`, `make report-check`, ...
CHECKS := lint generated pytest pytest-py311 rdk-test-local report-check docs

test: venv
	@$(MAKE) --no-print-directory --jobs=3 --output-sync=target $(CHECKS)
	@echo "make test: every check passed"

generated: venv
	$(BIN)/rdkpack sync-scripts --check
	$(BIN)/rdkpack sync-kit --check
	$(BIN)/rdkpack build --check
	$(BIN)/rdkpack docs --check

# `make pytest` runs this too (tests/packs/test_validate.py: no error and no warning), so `make test` does not.
validate: venv
	$(BIN)/rdkpack validate

pytest: venv
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/pytest -q -n 2 --dist loadfile --ignore=tests/remediations

# The remediation tests under Python 3.11, the interpreter SSM runs their scripts on (.venv/py311).
pytest-py311: venv
	RDK_SCRIPT_RUNTIME_CHECK=1 HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) PYTHONPATH=. .venv/py311/bin/python -m pytest -q tests/remediations

rdk-test-local: venv
	@cd rules && ../$(BIN)/rdk test-local --all > ../.venv/rdk-test-local.log 2>&1 \
		|| { cat ../.venv/rdk-test-local.log; echo "rdk test-local failed" >&2; exit 1; }
	@grep -E '^(Testing|Ran|OK|FAILED)' .venv/rdk-test-local.log

# Debian's Chromium, for the browser check (installing it needs root or sudo without a password).
chromium:
	@scripts/install-chromium.sh

# The demo's HTML report in headless Chromium: it renders, filters and prints with no console error.
report-check: venv chromium
	$(BIN)/rdkpack demo --output .venv/report-check/demo-report.html > .venv/report-check.log
	$(BIN)/python scripts/check_report_in_browser.py .venv/report-check/demo-report.html reports/demo-report.png

# The documentation site (mkdocs.yml, docs/) built --strict into .venv/site: a broken link or anchor, or a page left
# out of the nav, fails it; nothing is fetched. Its scan page shows the HTML report's screenshot, which report-check
# takes in headless Chromium (reports/demo-report.png, never committed): so report-check runs first, once, even when
# `make test` runs the checks side by side.
docs: venv report-check
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
