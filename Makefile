# Bibliotheekmonitor — the two commands: `make run` and `make test`.
SHELL := /bin/bash
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install run migrate reset test test-unit test-faults fault-soak lint typecheck deploy-check schemas bench clean

help:
	@echo "make run      start the whole platform (services, gateway on :8080, mail catcher)"
	@echo "make test     lint, type-check, validate deploy files, run every test"
	@echo "make migrate  create the databases and apply every service's migrations"
	@echo "make reset    remove the development databases and var/ (next make run starts afresh)"
	@echo "make test-faults  the fault suite alone (tests/faults; also part of make test)"
	@echo "make fault-soak   the fault suite's broker tests at full size: 1,000 submissions, 10-minute outage"

install:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  echo "nginx is missing: installing nginx-light from Debian"; \
	  apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }
	@{ /sbin/ldconfig -p | grep -q libpangoft2-1.0.so.0 && /sbin/ldconfig -p | grep -q libharfbuzz-subset.so.0 \
	  && test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf; } || { \
	  echo "Pango or the DejaVu fonts (reporting's PDF and infographics) are missing: installing them from Debian"; \
	  apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null; }
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

reset: install
	@uv run --frozen python scripts/devstack.py reset

lint: install
	uv run --frozen ruff check .
	uv run --frozen ruff format --check .

typecheck: install
	uv run --frozen mypy services/common/src services/identity/src services/surveys/src services/responses/src services/reporting/src services/notifier/src services/web/src services/demo/src

deploy-check: install
	bash scripts/validate-deploy.sh

schemas: install
	uv run --frozen python scripts/generate_schemas.py
	uv run --frozen python scripts/generate_rabbitmq_definitions.py

test-unit: install
	uv run --frozen pytest -q -m "not integration and not e2e and not faults"

test: install lint typecheck deploy-check
	uv run --frozen pytest -q

# The fault suite (docs/reliability.md, "Fault suite"): real service processes on a
# private RabbitMQ node and private PostgreSQL clusters that the tests stop and crash.
# `make test` runs it at bounded sizes (100 submissions, a 60 s broker outage).
test-faults: install
	uv run --frozen pytest -q tests/faults

# The issue's full sizes: the broker stopped during 1,000 submissions, and down for ten
# minutes under a steady stream of writes; the outage's figures go to bench/results/.
# About 15 minutes; run it on a quiet machine.
fault-soak: install
	BIBMON_FAULT_SUBMISSIONS=1000 BIBMON_FAULT_OUTAGE_SECONDS=600 \
	BIBMON_FAULT_RESULTS=bench/results/$$(date -u +%Y-%m-%d)-fault-soak.json \
	uv run --frozen pytest -v -s tests/faults/test_broker_stopped_during_submissions.py tests/faults/test_broker_long_outage.py

bench: install
	uv run --frozen python bench/run.py
	uv run --frozen python bench/survey.py
	uv run --frozen python bench/rendering.py
	uv run --frozen python bench/pipeline.py
	uv run --frozen python bench/save_path.py
	uv run --frozen python bench/web.py

clean:
	rm -rf var/log var/nginx-* .pytest_cache
