"""Signed checkpoints of the audit chains' heads, kept outside the database.

Every ``RP_AUDIT_CHECKPOINT_INTERVAL_S`` (and once more when the service stops) the service reads the head of every
chain (chain id, seq, link, last legacy seq), signs them with its Ed25519 key and writes the signed checkpoint
twice: as a line appended to ``RP_AUDIT_CHECKPOINT_FILE`` and as one structured log line (``audit_checkpoint``),
which the log shipping carries off the machine. A checkpoint equal to the last one this process wrote is skipped.
``rp-api audit verify`` reads either (:func:`rp_api.audit_keys.read_checkpoints`): a chain whose records no longer
lead to a checkpointed head was re-linked, and one with fewer records than a checkpoint saw lost its tail.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rp_api.audit_chain import Checkpoint, Head
from rp_api.audit_keys import append_checkpoint
from rp_api.repositories import audit as audit_repository

log = structlog.get_logger(__name__)


@dataclass
class Checkpointer:
    engine: AsyncEngine
    key: Ed25519PrivateKey
    path: Path
    last: tuple[Head, ...] | None = None

    async def write(self) -> Checkpoint | None:
        """Sign the current heads and write them (file and log line), unless they are the last ones written."""
        async with AsyncSession(self.engine) as session:
            database, heads = await audit_repository.heads(session)
        if heads == self.last:
            return None
        checkpoint = Checkpoint(datetime.now(UTC), database, heads)
        line = checkpoint.signed(self.key)
        log.info("audit_checkpoint", **line)
        try:
            await asyncio.to_thread(append_checkpoint, self.path, line)
        except OSError as exc:  # the log line is written: the next checkpoint tries the file again
            log.warning("audit_checkpoint_file_failed", error_type=type(exc).__name__)
        self.last = heads
        return checkpoint

    async def run(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.write()
            except Exception as exc:  # the next round tries again; a failure must not stop the service
                log.warning("audit_checkpoint_failed", error_type=type(exc).__name__)

    async def final(self, timeout_s: float = 5.0) -> None:
        """The checkpoint of a stopping service (bounded: a database that does not answer does not hold it up)."""
        try:
            await asyncio.wait_for(self.write(), timeout_s)
        except Exception as exc:
            log.warning("audit_checkpoint_failed", error_type=type(exc).__name__)
