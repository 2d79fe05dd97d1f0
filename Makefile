# make app   — create .venv if missing, install, serve the app on http://127.0.0.1:8866 (patentrnn serve)
# make test  — create or update .venv with the test extras, find or install a Chromium, then ruff and the whole suite
# make test-fast — the core of the suite in under a minute: no servers, browsers or training runs
# make frontend — build the app page's front end (patentrnn/web/js: npm ci, esbuild); pip install does it too
# make screenshots — the README's screenshots, taken of the current page in Chromium
# Re-running either is quick: installs are redone only when pyproject.toml changes.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8866

.PHONY: app test test-fast lint browser bench clean frontend screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The page's Voilà template, linked where Jupyter looks for templates (as postBuild does on Binder),
# so that plain `voila` and Jupyter Server's Voilà extension find voila.json's template too.
TEMPLATE_LINK := $(VENV)/share/jupyter/voila/templates/patentrnn

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	mkdir -p $(dir $(TEMPLATE_LINK)) && ln -sfn $(CURDIR)/patentrnn/jupyter/voila/templates/patentrnn $(TEMPLATE_LINK)
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	mkdir -p $(dir $(TEMPLATE_LINK)) && ln -sfn $(CURDIR)/patentrnn/jupyter/voila/templates/patentrnn $(TEMPLATE_LINK)
	touch $@ $(VENV)/.installed-app

# The app page's front end, rebuilt whenever its sources change (Node.js 20 and npm; never committed).
JS := patentrnn/web/js
FRONTEND := patentrnn/jupyter/voila/templates/patentrnn/static/frontend/build.json
$(FRONTEND): $(JS)/package.json $(JS)/package-lock.json $(JS)/build.mjs $(wildcard $(JS)/src/*)
	@command -v npm >/dev/null || { echo "make: the page's front end needs Node.js 20+ and npm (apt-get install nodejs npm)"; exit 1; }
	cd $(JS) && npm ci --no-audit --no-fund && npm run build

frontend: $(FRONTEND)

# Every option of `patentrnn serve` also reads its environment variable (PATENTRNN_MAX_SESSIONS, ...).
app: $(VENV)/.installed-app $(FRONTEND)
	$(BIN)/patentrnn serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# The browser tests need a Chromium that starts: the system's (Debian's /usr/bin/chromium, $PATENTRNN_CHROMIUM),
# else Playwright's own, downloaded here once.
browser: $(VENV)/.installed-test
	@$(BIN)/python tests/voila_server.py --check-browser || { \
		echo "no system Chromium: installing Playwright's (python -m playwright install chromium)"; \
		$(BIN)/python -m playwright install chromium && $(BIN)/python tests/voila_server.py --check-browser; \
	} || { echo "make test: no Chromium; get one with 'apt-get install -y chromium' (or, as root, '$(BIN)/python -m playwright install --with-deps chromium'), or set PATENTRNN_CHROMIUM"; exit 1; }

# The developer's loop after each edit: no server, browser or training run of its own (the tiny models
# come from the last run's cache, tests/conftest.py), under a minute.
test-fast: $(VENV)/.installed-test $(FRONTEND)
	$(BIN)/python -m pytest -q -m "not slow and not browser" tests

test: lint browser $(FRONTEND)
	PATENTRNN_NOTEBOOK_TINY=1 $(BIN)/python -m pytest

# notebooks/app.png and app-phone.png, the README's screenshots, taken of the current page in Chromium
screenshots: browser $(FRONTEND)
	PATENTRNN_UPDATE_SCREENSHOT=1 $(BIN)/python -m pytest -q tests/web/test_browser_ui.py -k every_control

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/generation_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
