# Two commands do everything on a fresh machine with Python 3.11 and make: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app

.PHONY: run test lint format translations translations-compile install install-dev axe migrate demo bench bench-reports clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# axe-core for the accessibility browser tests, at the version package-lock.json pins (npm's registry).
# Without npm the axe tests skip (or fail where EVENTREG_REQUIRE_BROWSER=1, as in CI).
node_modules/axe-core/axe.min.js: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --ignore-scripts --silent && touch $@; \
	else echo "npm not found: the axe-core accessibility tests will be skipped"; fi

axe: node_modules/axe-core/axe.min.js

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev axe

migrate: install
	EVENTREG_ENV=$${EVENTREG_ENV:-development} $(FLASK) db upgrade

demo: migrate
	EVENTREG_ENV=$${EVENTREG_ENV:-development} $(FLASK) demo load-if-empty

run: demo
	@echo "Serving on http://127.0.0.1:$(PORT)/ (Ctrl+C to stop)"
	@echo "Demo staff log-in at http://127.0.0.1:$(PORT)/ru/login :"
	@echo "  admin@demo.kg / demo-admin   organiser@demo.kg / demo-organiser   analyst@demo.kg / demo-analyst"
	EVENTREG_ENV=$${EVENTREG_ENV:-development} $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Extract messages, merge them into every catalogue, and compile. Translate the .po files in between.
translations: install
	$(BIN)/pybabel extract -F translations/babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
		--no-location --sort-output --project eventreg -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
	$(MAKE) translations-compile

translations-compile: install
	$(BIN)/pybabel compile -d translations --statistics

# Benchmarks, never tests. bench: the app under gunicorn against its ceilings, and the scale-out scenario.
bench: install-dev
	$(BIN)/python -m bench.run app

bench-reports: install-dev
	$(BIN)/python -m bench.run reports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache node_modules
