# make app   — create .venv if missing, install, serve the app on http://127.0.0.1:8866
# make test  — create or update .venv with the test extras, then ruff and the whole suite
# Re-running either is quick: installs are redone only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8866

.PHONY: app test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@ $(VENV)/.installed-app

app: $(VENV)/.installed-app
	$(BIN)/voila notebooks/app.ipynb --Voila.config_file_paths=$(CURDIR) \
		--Voila.ip=$(HOST) --port=$(PORT) --no-browser

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

test: lint
	PATENTRNN_NOTEBOOK_TINY=1 $(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/generation_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
