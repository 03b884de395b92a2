# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## Install and run the service on the embedded default (SQLite, local media, TikTok sandbox).
run: $(VENV)/.installed
	$(BIN)/tiktimer serve

## Install and run the whole test suite (SQLite and the local PostgreSQL).
test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The fast set: everything but the tests marked slow (real processes, contract runs).
test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

## Static checks that CI runs.
check: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
