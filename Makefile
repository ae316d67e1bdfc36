# Two commands on a fresh machine: `make run` (demo app and scheduler on SQLite) and `make test`.
VENV    := .venv
PY      := $(VENV)/bin/python
FLASK   := $(VENV)/bin/flask --app wsgi
PYTHON3 ?= python3

.PHONY: install system-deps translations run test test-fast bench clean

install: system-deps $(VENV)/.installed translations

system-deps:
	@bash scripts/system-deps.sh

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

translations: $(VENV)/.installed
	@$(VENV)/bin/pybabel compile --use-fuzzy -d arrears/translations -D messages --statistics 2>&1 | tail -n 2 || true

run: install
	$(FLASK) arrears migrate
	$(FLASK) arrears demo --if-empty
	@FLASK=$(VENV)/bin/flask bash scripts/run.sh   # scheduler process + web app; Ctrl+C stops both

test: install
	@bash scripts/ensure-postgres.sh
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest tests/domain -q

bench: install
	$(PY) bench/ledger.py

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
