# One command sets up .venv and runs every check: `make test`.
.PHONY: test venv lint format demo bench

BIN := .venv/bin

venv:
	@scripts/venv.sh

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

test: lint
	$(BIN)/rdkpack sync-scripts --check
	$(BIN)/rdkpack sync-kit --check
	$(BIN)/rdkpack build --check
	$(BIN)/rdkpack validate
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest
	@echo "rdk test-local --all (in rules/)"
	@cd rules && ../$(BIN)/rdk test-local --all > ../.venv/rdk-test-local.log 2>&1 \
		|| { cat ../.venv/rdk-test-local.log; echo "rdk test-local failed" >&2; exit 1; }
	@grep -E '^(Testing|Ran|OK|FAILED)' .venv/rdk-test-local.log
