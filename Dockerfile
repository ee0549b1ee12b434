# The ingestion service (`ingest run`); see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md* ./
COPY ingest ./ingest
COPY consumers ./consumers
COPY schemas ./schemas
# the wheel carries the released Avro schemas (schemas/ as ingest.contract.released)
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home ingest

USER ingest
EXPOSE 9108
ENTRYPOINT ["ingest", "run"]
