# TikTimer service image: `docker run -p 8000:8000 -v tiktimer-data:/data tiktimer` runs the
# embedded setup (SQLite, local media, TikTok sandbox); see compose.yaml for PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TIKTIMER_DATA_DIR=/data \
    TIKTIMER_HOST=0.0.0.0 \
    TIKTIMER_PORT=8000

WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY src ./src
RUN pip install -c constraints.txt . && useradd --system --uid 10001 --home /data tiktimer \
    && mkdir -p /data && chown tiktimer /data

USER tiktimer
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"
CMD ["tiktimer", "serve"]
