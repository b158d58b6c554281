"""The baseline of ``bench/http_load.py``: a bare app on API RP's stack (FastAPI, SQLAlchemy async over asyncpg,
uvicorn with one worker, the pool sizes of API RP's defaults), answering each request with one primary-key SELECT
and nothing else (no token, no policy, no audit, no log line).

    BASELINE_DATABASE_URL=postgresql+asyncpg://… uvicorn --app-dir bench baseline_app:app --port 8100
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from rp_api.settings import Settings

CREATE = "CREATE TABLE IF NOT EXISTS bench_item (id integer PRIMARY KEY, label text NOT NULL)"
FILL = "INSERT INTO bench_item SELECT i, 'item ' || i FROM generate_series(1, :rows) i ON CONFLICT DO NOTHING"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.engine = create_async_engine(
        os.environ["BASELINE_DATABASE_URL"],
        pool_size=Settings.model_fields["db_pool_size"].default,
        max_overflow=Settings.model_fields["db_pool_max_overflow"].default,
    )
    yield
    await app.state.engine.dispose()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, Any]:
    async with AsyncSession(app.state.engine) as session:
        row = (
            await session.execute(text("SELECT id, label FROM bench_item WHERE id = :id"), {"id": item_id})
        ).one_or_none()
    if row is None:
        raise HTTPException(status_code=404)
    return {"id": row.id, "label": row.label}
