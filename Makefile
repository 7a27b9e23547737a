# Two commands from a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint openapi screenshots bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

## Set up, migrate a local SQLite database and serve on http://$(HOST):$(PORT)
run: $(VENV)/.installed
	RAPPORT_ENV=$${RAPPORT_ENV:-development} $(BIN)/rapport migrate
	RAPPORT_ENV=$${RAPPORT_ENV:-development} $(BIN)/rapport serve --host $(HOST) --port $(PORT)

## Set up with the dev extras and run every test (RAPPORT_TEST_DATABASE_URL picks PostgreSQL)
test: $(VENV)/.installed-dev
	$(BIN)/ruff check app tests migrations bench docs
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check app tests migrations bench docs
	$(BIN)/mypy

## Regenerate the committed API contract
openapi: $(VENV)/.installed
	RAPPORT_ENV=development $(BIN)/python -c "import json; from app.main import create_app; \
	print(json.dumps(create_app().openapi(), indent=2))" > openapi.json

## Retake the README screenshots in Chromium
screenshots: $(VENV)/.installed-dev
	$(BIN)/python docs/take_screenshots.py

## Measure the contact list and search with 100,000 contacts (BENCH_ARGS="--database-url …")
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/contacts.py $(BENCH_ARGS)
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/load.py --workers 2

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
