# Two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
ASGI_PORT ?= 8001
export UV_LINK_MODE := copy

.PHONY: run test install lint format bench messages worker beat web asgi clean

# Installs uv (from PyPI) if missing, then the locked dependencies. Fast when present.
install: $(VENV)/.synced
	@bin/system-deps
$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --user uv \
	  || $(PYTHON) -m pip install --quiet --user --break-system-packages uv \
	  || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --quiet
	@touch $@

# `make run HOST=0.0.0.0 PORT=8080` to serve the LAN on another port.
run: install
	HOST="$(HOST)" PORT="$(PORT)" bin/run-dev

test: install
	bin/test

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Benchmarks need PostgreSQL: DATABASE_URL defaults to the local server.
bench: install
	bin/bench

messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=var --ignore=static
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

# Production-like processes (used by docker-compose.yml too).
web: install
	$(PY) manage.py migrate --noinput && $(PY) manage.py collectstatic --noinput -v0 && \
	  $(VENV)/bin/gunicorn grid_governance.wsgi  # settings: gunicorn.conf.py
# The live pages' WebSocket (/ws/live/) beside gunicorn: route /ws/ here from your proxy, or
# set LIVE_URL=ws(s)://host:$(ASGI_PORT)/ws/live/. Needs REDIS_URL to hear the other processes.
asgi: install
	$(VENV)/bin/uvicorn grid_governance.asgi:application --host 0.0.0.0 --port $(ASGI_PORT) \
	  --proxy-headers --no-access-log --ws-ping-interval 20 --ws-ping-timeout 20
worker: install
	$(VENV)/bin/celery -A grid_governance worker --loglevel=info
beat: install
	$(VENV)/bin/celery -A grid_governance beat --loglevel=info --schedule var/celerybeat-schedule

clean:
	rm -rf var $(VENV)
