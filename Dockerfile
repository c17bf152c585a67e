# syntax=docker/dockerfile:1
# carm-portal production image: one image for every role (web, worker, beat, migrate); the
# command chooses the role (see docker-compose.yml). Build: docker build -t carm-portal .

# --- Stage 1: the Python dependencies, in a virtual environment copied whole into the runtime ----
# Every pinned package ships a manylinux wheel for CPython 3.11, so no compiler is needed here; the
# separate stage keeps pip's work files and the build layer out of the final image.
FROM python:3.11-slim-bookworm AS deps

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt


# --- Stage 2: the runtime -------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="carm-portal" \
      org.opencontainers.image.description="A customs broker's system of record for its importer clients' CBSA CARM obligations." \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"

# WeasyPrint's system libraries (pango draws the text, harfbuzz shapes and subsets fonts; without
# libharfbuzz-subset0 every import warns and PDFs are written more slowly) and the fonts the PDF
# templates name. Versions come from the Debian release the base image tracks (see .hadolint.yaml).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        fontconfig \
        fonts-dejavu-core \
        libharfbuzz-subset0 \
        libharfbuzz0b \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged uid/gid so volume ownership is stable across rebuilds and hosts.
RUN groupadd --system --gid 10001 carm \
    && useradd --system --uid 10001 --gid carm --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin carm

ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_ENV=production \
    DJANGO_SETTINGS_MODULE=carm_portal.settings \
    CARM_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media \
    STATIC_ROOT=/app/staticfiles \
    XDG_CACHE_HOME=/tmp/.cache \
    WEB_CONCURRENCY=3

COPY --from=deps /opt/venv /opt/venv

WORKDIR /app
# The code stays owned by root (read-only for the app user); only var/ is writable by it.
COPY . /app

# Static files are collected (hashed and compressed by whitenoise) at build time, so containers start
# fast and never write to the image. Production settings refuse to import without a SECRET_KEY and
# a PAYMENTS_ENCRYPTION_KEYS, so this one command gets throw-away, clearly fake ones in its own
# environment (never an ENV layer; they are not secrets and are never used at run time). The
# in-memory broker keeps settings from creating the file-system broker's folders. Byte-code is
# compiled here because the app user cannot write it.
RUN SECRET_KEY=build-only-collectstatic-key-not-a-secret-never-used-at-runtime-0000000000 \
        PAYMENTS_ENCRYPTION_KEYS=YnVpbGQtb25seS1jb2xsZWN0c3RhdGljLW5vdC1hLWs= \
        CELERY_BROKER_URL=memory:// \
        python manage.py collectstatic --noinput --verbosity 0 \
    && python -m compileall -q /app \
    && mkdir -p /app/var/media /app/var/beat \
    && chown -R carm:carm /app/var

# Numeric, so orchestrators can verify "runs as non-root" without reading /etc/passwd.
USER 10001:10001

EXPOSE 8000

# No HEALTHCHECK here on purpose: the same image runs the web server, the Celery worker, beat and the
# one-shot migrate job, and an HTTP check would mark the last three unhealthy. Each role's check lives
# with its service in docker-compose.yml (web: an HTTP request to the login page).

# gunicorn reads WEB_CONCURRENCY (worker processes) and GUNICORN_CMD_ARGS (any other flag) from the
# environment. Heartbeat files go to /dev/shm so a slow disk never gets a worker killed.
CMD ["gunicorn", "carm_portal.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", \
     "--error-logfile", "-"]
