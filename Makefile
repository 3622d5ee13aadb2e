# One command sets up .venv and runs every check: `make test`.
.PHONY: test venv lock lint format demo bench bench-newcomer

BIN := .venv/bin

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

test: lint
	$(BIN)/rdkpack sync-scripts --check
	$(BIN)/rdkpack sync-kit --check
	$(BIN)/rdkpack build --check
	$(BIN)/rdkpack validate
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest -n 2 --dist loadfile --ignore=tests/remediations
	@echo "remediation tests under Python 3.11, the interpreter SSM runs their scripts on"
	RDK_SCRIPT_RUNTIME_CHECK=1 HYPOTHESIS_PROFILE=ci PYTHONPATH=. .venv/py311/bin/python -m pytest -q tests/remediations
	@echo "rdk test-local --all (in rules/)"
	@cd rules && ../$(BIN)/rdk test-local --all > ../.venv/rdk-test-local.log 2>&1 \
		|| { cat ../.venv/rdk-test-local.log; echo "rdk test-local failed" >&2; exit 1; }
	@grep -E '^(Testing|Ran|OK|FAILED)' .venv/rdk-test-local.log
