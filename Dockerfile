# policybot: migrate, then serve the Slack bot. See docs/operations.md.
#
#   docker build -t policybot .
#   docker run --env-file .env -p 3000:3000 policybot
#   docker run ... -v "$PWD/policies:/app/policies:ro" policybot    # your own policies/
#
# tests/test_dockerfile.py replays the install and start commands below in a clean virtual
# environment, so keep them plain `pip install` and `policybot` commands.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: a virtual environment with the pinned dependencies and policybot -------------------
FROM ${PYTHON_IMAGE} AS build
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv "$VIRTUAL_ENV"
# Dependencies first, from the lock, so that a code change does not reinstall them.
COPY requirements.lock ./
RUN pip install --requirement requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-deps . && pip check

# -- runtime: the virtual environment, migrations and policies; no compilers, no root --------
FROM ${PYTHON_IMAGE} AS runtime
ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=3000 \
    LOG_FORMAT=json \
    POLICYBOT_POLICIES=/app/policies \
    DATABASE_URL=sqlite:////data/policybot.db
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin policybot \
    && mkdir -p /data \
    && chown policybot:policybot /data
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# policybot finds migrations/ in its working directory; policies/ is the seed for a new
# database and may be replaced by a mounted folder.
COPY migrations ./migrations
COPY policies ./policies
USER policybot
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"
# Every replica migrates on start (a PostgreSQL lock lets one at a time), then serves.
CMD ["sh", "-c", "policybot db upgrade && exec policybot serve"]
