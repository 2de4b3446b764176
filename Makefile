# Two commands: `make run` (the demo, from nothing) and `make test` (everything CI checks).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test lint check pytest chromium clean-db

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUN_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(RUN_STAMP) $@

run: $(RUN_STAMP)
	@$(BIN)/python -m portal.devenv
	@$(BIN)/python manage.py migrate --noinput -v 0
	@$(BIN)/python manage.py demo_setup
	@$(BIN)/python manage.py xero_sandbox demo
	@$(BIN)/python manage.py xero_schedules -v 0 >/dev/null
	@$(BIN)/python manage.py integration_schedules -v 0 >/dev/null
	@echo "  Starting the web server on http://127.0.0.1:8000 and one background worker. Ctrl-C stops both."
	@trap 'kill $$QPID 2>/dev/null; wait $$QPID 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py qcluster & QPID=$$!; \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: $(DEV_STAMP)
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=false XERO_SANDBOX=false ALLOWED_HOSTS=portal.example.com \
	  SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(60))')" \
	  FIELD_ENCRYPTION_KEY="$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

pytest: $(DEV_STAMP) chromium
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint check pytest

clean-db:
	rm -f db.sqlite3 db.sqlite3-wal db.sqlite3-shm
