# The gateway as a container: the Procfile's command, as a non-root user, on python:3.11-slim.
#   docker build -t openai-compat .
#   docker run -p 8000:8000 -e CLOUDFLARE_ACCOUNT_ID=... -e CLOUDFLARE_API_TOKEN=... -e GATEWAY_API_KEYS=... openai-compat
# `docker stop` sends SIGTERM and waits 10 s by default: give streams their grace with `docker stop -t 30`
# (or `stop_grace_period: 30s` in compose), as GRACEFUL_TIMEOUT_SECONDS (20) + 5 s needs.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.txt /tmp/requirements.txt
# Every dependency ships manylinux wheels (gevent, orjson, pydantic-core): no compiler in the image.
RUN python -m venv /venv && /venv/bin/pip install --no-compile -r /tmp/requirements.txt

FROM python:3.11-slim-bookworm
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8000 \
    STORAGE_DIR=/data/storage
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /data && chown app:app /data
WORKDIR /app
COPY --from=build /venv /venv
COPY app.py gunicorn.conf.py settings.toml Procfile ./
COPY openai_compat ./openai_compat
USER app
EXPOSE 8000
# /data holds the local object store (STORAGE_BACKEND=local); several containers need R2 instead.
VOLUME ["/data"]
STOPSIGNAL SIGTERM
# Liveness only (/health never calls anything): a restart cannot fix what /ready reports.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]
