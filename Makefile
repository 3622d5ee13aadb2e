# One command sets up .venv and runs every check: `make test`.
.PHONY: test venv lint format

BIN := .venv/bin

venv:
	@scripts/venv.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/rdkpack sync-scripts --check
	$(BIN)/pytest
	cd rules && ../$(BIN)/rdk test-local --all
