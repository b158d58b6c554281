# API RP production image: the wheel built in a first stage, installed into a slim runtime that runs as a
# non-root user. The embedded PostgreSQL is not included: set RP_DATABASE_URL (the runtime role), mount the audit
# keys (RP_AUDIT_KEY_FILE, RP_AUDIT_SIGNING_KEY_FILE) and a volume for the audit checkpoints at /var/lib/rp-api, and
# run `rp-api migrate` with RP_MIGRATION_DATABASE_URL (the owner role). See the README's audit log section.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin rp \
    && install -d -o 10001 -m 0700 /var/lib/rp-api
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RP_HOST=0.0.0.0 \
    RP_PORT=8000 \
    RP_AUDIT_CHECKPOINT_FILE=/var/lib/rp-api/audit-checkpoints.jsonl
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"]
ENTRYPOINT ["rp-api", "serve"]
