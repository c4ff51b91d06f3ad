# FocusedRoom — `make run` serves the app, `make test` runs the suite.
# Both bootstrap a virtualenv with the pinned requirements; without DATABASE_URL an
# embedded PostgreSQL server (pgserver) runs in .pgdata/.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
REQ_HASH := $(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
STAMP  := $(VENV)/.installed-$(REQ_HASH)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: bootstrap db run test fuzz bench lint e2e-deps clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "FocusedRoom needs Python 3.11")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip==24.3.1
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

bootstrap: $(STAMP)

db: bootstrap
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

# Emailed links point at the server `make run` starts (SERVE_ADDRESS), unless SITE_URL is set.
run: db
	SERVE_ADDRESS=$(HOST):$(PORT) $(PY) manage.py seed_demo
	SERVE_ADDRESS=$(HOST):$(PORT) $(PY) manage.py ensure_demo_admin
	@echo "FocusedRoom: http://$(HOST):$(PORT)/  (console: /admin/, API docs: /api/docs/)"
	@echo "Task worker: manage.py procrastinate worker (stops with the server)"
	@# With Redis configured (REDIS_URL, in the environment or .env), exposures are buffered: their writer runs too.
	@SERVE_ADDRESS=$(HOST):$(PORT) $(PY) manage.py procrastinate worker & WORKER=$$!; \
	$(PY) manage.py exposure_writer --if-enabled & WRITER=$$!; \
	trap 'kill $$WORKER $$WRITER 2>/dev/null' EXIT INT TERM; \
	SERVE_ADDRESS=$(HOST):$(PORT) $(PY) manage.py runserver $(HOST):$(PORT)

test: bootstrap e2e-deps
	$(PY) -m pytest

# The API fuzzer (schemathesis, all phases, against a live server): FUZZ_MAX_TIME seconds (default 210).
fuzz: bootstrap
	$(PY) -m pytest -m fuzz tests/fuzz

bench: bootstrap
	$(PY) bench/run.py

lint: bootstrap
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run

# Real-browser tests drive Debian's Chromium (no browser download). Installed when
# missing and apt is available; otherwise those tests say why they cannot run.
e2e-deps:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium not installed: browser journeys will report why they cannot run"; }

clean:
	rm -rf $(VENV) .pgdata staticfiles
