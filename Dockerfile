# TikTimer service image, built once and run as every role (see compose.yaml):
#   docker build -t tiktimer .
#   docker run -p 8000:8000 -v tiktimer-data:/data tiktimer          # embedded: SQLite, sandbox
#   docker run … tiktimer tiktimer worker | tiktimer db upgrade         # other roles, same image
# No front-end build: the web app's CSS and scripts are plain files shipped inside the Python
# package (src/tiktimer/web/static); package.json only brings axe-core for the browser tests.

# The base of both stages: CPython 3.11 on Debian slim (a mirror's copy can be named instead).
ARG PYTHON_IMAGE=python:3.11-slim

# --- build: resolve and install into a virtual environment (pip, wheels, nothing else) ---
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python3 -m venv /opt/tiktimer
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY src ./src
# The locked versions (constraints.txt), the package itself not editable; then the installer
# leaves the environment, so the final stage carries no build or install tooling.
RUN /opt/tiktimer/bin/pip install --quiet -c constraints.txt . \
    && /opt/tiktimer/bin/pip uninstall --quiet --yes pip setuptools

# --- runtime: the interpreter, the environment, an unprivileged user ---
FROM ${PYTHON_IMAGE}

ENV PATH=/opt/tiktimer/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TIKTIMER_DATA_DIR=/data \
    TIKTIMER_HOST=0.0.0.0 \
    TIKTIMER_PORT=8000

RUN useradd --system --user-group --uid 10001 --home-dir /data --no-create-home tiktimer \
    && mkdir -p /data /app \
    && chown tiktimer:tiktimer /data
COPY --from=build /opt/tiktimer /opt/tiktimer

USER tiktimer
WORKDIR /app
VOLUME ["/data"]
EXPOSE 8000
# `tiktimer serve` answers /health with 200 while its database answers (503 otherwise).
# Containers of other roles (worker, migrate) switch it off in compose.yaml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('TIKTIMER_PORT', '8000'), timeout=4)"]
CMD ["tiktimer", "serve"]
