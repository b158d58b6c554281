# API RP production image: the wheels built in a first stage, every version pinned by constraints.txt (the build
# backend too, through PIP_CONSTRAINT), installed without extras into a slim runtime that runs as a non-root user.
# The embedded PostgreSQL is not included: set RP_DATABASE_URL (the runtime role), mount the audit keys
# (RP_AUDIT_KEY_FILE, RP_AUDIT_SIGNING_KEY_FILE) and a volume for the audit checkpoints at /var/lib/rp-api, and run
# `rp-api migrate` with RP_MIGRATION_DATABASE_URL (the owner role). See the README's audit log section and deploy/.
FROM python:3.11-slim AS build
WORKDIR /src
COPY constraints.txt pyproject.toml README.md LICENSE alembic.ini ./
COPY src ./src
COPY migrations ./migrations
ENV PIP_CONSTRAINT=/src/constraints.txt \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip wheel --no-cache-dir -c constraints.txt --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin rp \
    && install -d -o 10001 -m 0700 /var/lib/rp-api
COPY --from=build /src/constraints.txt /tmp/constraints.txt
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --disable-pip-version-check --no-index --find-links /wheels \
        -c /tmp/constraints.txt rp-api \
    && rm /tmp/constraints.txt
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RP_HOST=0.0.0.0 \
    RP_PORT=8000 \
    RP_AUDIT_CHECKPOINT_FILE=/var/lib/rp-api/audit-checkpoints.jsonl
USER 10001
EXPOSE 8000 9464
# On RP_PORT, whatever it is set to when the container runs.
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request as u; port = os.environ.get('RP_PORT', '8000'); sys.exit(0 if u.urlopen(f'http://127.0.0.1:{port}/health', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["rp-api", "serve"]
