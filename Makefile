# Bibliotheekmonitor — the two commands: `make run` and `make test`.
SHELL := /bin/bash
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install run migrate test test-unit lint typecheck deploy-check schemas bench clean

help:
	@echo "make run      start the whole platform (services, gateway on :8080, mail catcher)"
	@echo "make test     lint, type-check, validate deploy files, run every test"
	@echo "make migrate  create the databases and apply every service's migrations"

install:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  echo "nginx is missing: installing nginx-light from Debian"; \
	  apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || { \
	  echo "chromium is missing (browser tests): installing it from Debian"; \
	  apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@command -v npm >/dev/null 2>&1 || { \
	  echo "npm is missing (web assets): installing it from Debian"; \
	  apt-get update -qq && apt-get install -y -qq npm >/dev/null; }
	@# Web assets (NL Design System CSS, htmx, Swagger UI, axe-core) from the committed lock;
	@# no install scripts run (swagger-ui-dist's dependency would phone home).
	@test node_modules/.package-lock.json -nt package-lock.json || npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@uv sync --frozen --quiet

run: install
	@uv run --frozen python scripts/devstack.py up

migrate: install
	@uv run --frozen python scripts/devstack.py migrate

lint: install
	uv run --frozen ruff check .
	uv run --frozen ruff format --check .

typecheck: install
	uv run --frozen mypy services/common/src services/identity/src services/surveys/src services/responses/src services/reporting/src services/notifier/src services/web/src

deploy-check: install
	bash scripts/validate-deploy.sh

schemas: install
	uv run --frozen python scripts/generate_schemas.py

test-unit: install
	uv run --frozen pytest -q -m "not integration and not e2e"

test: install lint typecheck deploy-check
	uv run --frozen pytest -q

bench: install
	uv run --frozen python bench/run.py
	uv run --frozen python bench/survey.py

clean:
	rm -rf var/log var/nginx-* .pytest_cache
