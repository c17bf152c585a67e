# carm-portal: the README names these targets. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
PY := .venv/bin/python
MANAGE := $(PY) manage.py
PYTEST_ARGS ?=

.PHONY: setup run test lint format bench fuzz lock messages check-compose clean

setup:
	@bash bin/setup

## run: migrate, load demo data, serve http://127.0.0.1:8000 with a Celery worker and beat.
run: setup
	@$(MANAGE) migrate --noinput
	@$(MANAGE) seed_demo
	@echo "Starting web (http://127.0.0.1:8000), Celery worker and beat. Ctrl-C stops all of them."
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; \
	  .venv/bin/celery -A carm_portal worker --beat -Q default,heavy --concurrency 2 -l info \
	    --schedule var/celerybeat-schedule & \
	  $(MANAGE) runserver 127.0.0.1:8000 & \
	  wait

## test: the whole suite (SQLite on a bare machine; DATABASE_URL / REDIS_URL when set).
test: setup
	@.venv/bin/pytest -n 2 $(PYTEST_ARGS)

lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .

format: setup
	@.venv/bin/ruff check --fix .
	@.venv/bin/ruff format .

## bench: every bench/bench_*.py against PostgreSQL (each in its own database on that server).
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/carm_bench
bench: setup
	@for b in bench/bench_*.py bench/load_pages.py; do BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) "$$b" || exit 1; done

## fuzz: schemathesis with every phase (CI skips the slow "coverage" phase), up to an hour per persona.
fuzz: setup
	@SCHEMATHESIS_PHASES=examples,coverage,fuzzing SCHEMATHESIS_BUDGET=3600 .venv/bin/pytest tests/contract -q -p no:cacheprovider

## lock: recompile the exact pins from pyproject.toml (no registry URLs recorded).
lock:
	@.venv/bin/uv pip compile pyproject.toml -p python3.11 --no-header --no-annotate -o requirements.txt
	@.venv/bin/uv pip compile pyproject.toml --extra dev -p python3.11 --no-header --no-annotate -o requirements-dev.txt

messages: setup
	@$(MANAGE) makemessages -l fr --ignore=.venv --ignore=var
	@$(MANAGE) compilemessages --ignore=.venv

check-compose:
	@SECRET_KEY=compose-config-check-only POSTGRES_PASSWORD=compose-config-check-only \
	  docker-compose -f docker-compose.yml config -q
	@.venv/bin/hadolint Dockerfile

clean:
	rm -rf var .pytest_cache .ruff_cache
