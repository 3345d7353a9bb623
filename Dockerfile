# syntax=docker/dockerfile:1
# One image for every production-like process: web (gunicorn), live (uvicorn: the live
# pages' WebSocket), Celery worker, Celery beat.
# See docker-compose.yml for how they are run. Build: docker build -t grid-governance .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: locked dependencies, compiled translations, collected static files --------
FROM ${PYTHON_IMAGE} AS build
# Pinned so the image resolves uv.lock the same way as the developers' uv.
ARG UV_VERSION=0.13.9
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PYTHON_DOWNLOADS=never
# gettext's msgfmt compiles the zh_Hans catalogue; only this stage needs it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
RUN pip install "uv==${UV_VERSION}"
WORKDIR /app
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev
COPY . .
# A dummy key: settings refuse to load without one when DEBUG is off, and neither command
# signs anything. The real key comes from the environment at run time.
RUN export SECRET_KEY=build-only-not-secret DEBUG=0 \
    && .venv/bin/python manage.py compilemessages -l zh_Hans --ignore=.venv -v0 \
    && .venv/bin/python manage.py collectstatic --noinput -v0 \
    && .venv/bin/python -m compileall -q -x '/\.venv/' . \
    && mkdir -p var/media \
    && chown -R 1000:1000 var

# --- runtime ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
# CJK fonts so generated PDFs (mediation agreements, case files) show Chinese text, and
# WeasyPrint's Pango, which draws them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk fontconfig \
       libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 1000 app \
    && useradd --uid 1000 --gid app --create-home --shell /usr/sbin/nologin app
WORKDIR /app
# The code stays root-owned (the app cannot rewrite itself); only var/ (static files,
# uploads, the beat schedule) belongs to the app user, as set in the build stage.
COPY --from=build /app /app
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DEBUG=0 \
    MEDIA_ROOT=/app/var/media
USER app
EXPOSE 8000
# docker-compose.yml overrides this per service; alone, the image serves the web app.
# gunicorn reads its settings from gunicorn.conf.py in the working directory.
CMD [".venv/bin/gunicorn", "grid_governance.wsgi"]
