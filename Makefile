# Two commands on a fresh machine: `make run` starts the bot, `make test` runs the tests.
# Both create a virtualenv in .venv and install the project into it first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench demo

$(BIN)/waypoint: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/waypoint

run: $(BIN)/waypoint
	$(BIN)/waypoint

test: $(BIN)/waypoint
	$(BIN)/python -m pytest

lint: $(BIN)/waypoint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

demo: $(BIN)/waypoint
	$(BIN)/waypoint demo

bench: $(BIN)/waypoint
	$(BIN)/python bench/run_all.py
