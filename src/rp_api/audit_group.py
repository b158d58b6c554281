"""Group commit of the audit records of calls that wrote nothing else (a dossier GET, a list page).

Such a call writes only its audit records, in one statement of their own on the call's connection (no BEGIN, no
COMMIT). Each statement costs the database a chain lock, a head update and a commit with its WAL flush, and the
process a round trip, whatever the number of records; under load many calls of one process reach that point
together. So one call at a time per process appends, and takes with its own the records of every call that
arrived meanwhile: one statement on its connection, one commit for all of them.

What each call is promised does not change: it answers only once its own records are committed; when the statement
of a group fails, each call's records are appended again on their own, so that one call's failure stays its own (the
others are written, or fail for their own reason); a call whose records could not be written fails, and its unit of
work records it as refused (:mod:`rp_api.db`). Calls that wrote data append in their own transaction, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api import metrics
from rp_api.authz.audit import AuditRecord
from rp_api.repositories import audit as audit_repository

_T = TypeVar("_T")

AUDIT_GROUP = "audit_group"
"""The name of the process's :class:`AuditGroupCommit` on the app's state."""

MAX_GROUP_RECORDS = 1_000
"""A group takes calls until it holds this many records (a list page writes one per line); the rest wait their turn."""


_LEAD = "lead"
"""What a waiting call is told when its turn to append comes (the group before it is written)."""


@dataclass(eq=False)
class _Waiting:
    records: Sequence[AuditRecord]
    told: asyncio.Future[bool | str] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    """True once a group wrote the records; False when the group's statement failed, or its leader was cancelled
    (the call then appends its records alone, on its own connection); :data:`_LEAD` when it is the call's turn."""


async def append_now(session: AsyncSession, records: Sequence[AuditRecord]) -> None:
    """The records appended on the session's connection (in its transaction if it began one), the time it took
    observed (``rp_audit_append_duration_seconds``)."""
    if not records:
        return
    began = time.perf_counter()
    await audit_repository.append(session, records, alone=True)
    metrics.observe_audit_append(len(records), time.perf_counter() - began)


class AppendedThenCancelled(asyncio.CancelledError):
    """The call was cancelled, but only once its records had been committed (with a group, or by the statement it
    led, which a cancellation does not stop): its unit of work must not write them again."""


class AuditGroupCommit:
    """One per process (the app's lifespan makes it): see the module's description.

    A call that finds nobody appending appends at once, with whatever waits. A call that finds a group being
    appended waits: it is woken once, told either that its records are written (or that it must append them on its
    own), or that its turn came — it then appends the records of every call that waits, its own first. So each call
    wakes once, and the turn goes from call to call without a lock.

    Cancellation (a server stopping, a timeout around the app) never cuts a group: a waiting call is told through a
    shield, so cancelling it cancels nothing the others wait for; a cancelled call whose records a group took waits
    for the group's outcome before it ends (:class:`AppendedThenCancelled` when they were written); a cancelled
    leader's statement goes on, and its outcome is told to the group as it is."""

    def __init__(self, *, max_records: int = MAX_GROUP_RECORDS) -> None:
        self.max_records = max_records
        self._queue: list[_Waiting] = []
        self._busy = False

    @property
    def idle(self) -> bool:
        """Nobody appends and nobody waits."""
        return not self._busy and not self._queue

    async def append(self, session: AsyncSession, records: Sequence[AuditRecord]) -> None:
        """Append a call's records; ``session``: the call's, which has no transaction open at the database. Returns
        once they are committed; raises what kept them out (then nothing of them was written)."""
        if not records:
            return
        waiting = _Waiting(records)
        if self._busy:
            self._queue.append(waiting)
            try:
                told = await asyncio.shield(waiting.told)
            except asyncio.CancelledError:
                await self._cancelled_while_waiting(waiting)
                raise
            if told is True:
                return
            if told is False:
                await append_now(session, records)  # the group's statement failed: on this call's own connection
                return
        self._busy = True
        try:
            await self._lead(session, waiting)
        finally:
            self._pass_turn()

    async def _cancelled_while_waiting(self, waiting: _Waiting) -> None:
        """A waiting call was cancelled. Not taken yet: its records leave the queue. Taken by a group: it waits for
        the group's outcome (:class:`AppendedThenCancelled` when written). Told its turn: the turn goes on."""
        if waiting in self._queue:
            self._queue.remove(waiting)
            return
        told = (await _finished(waiting.told)).result()
        if told == _LEAD:
            self._pass_turn()
        elif told is True:
            raise AppendedThenCancelled("the call was cancelled after its audit records were committed")

    def _pass_turn(self) -> None:
        if self._queue:
            self._queue.pop(0).told.set_result(_LEAD)
        else:
            self._busy = False

    def _take(self, leader: _Waiting) -> list[_Waiting]:
        """The leader, then the calls waiting, in arrival order, while the records fit."""
        group, count = [leader], len(leader.records)
        while self._queue and count + len(self._queue[0].records) <= self.max_records:
            count += len(self._queue[0].records)
            group.append(self._queue.pop(0))
        return group

    async def _lead(self, session: AsyncSession, leader: _Waiting) -> None:
        """Append the group's records in one statement on the leader's connection. When it fails, every call of
        the group appends its own records on its own connection (the leader raises its own error): a statement that
        failed wrote nothing, and one call's failure (or connection) is not the others'."""
        group = self._take(leader)
        others = group[1:]
        statement = asyncio.ensure_future(
            append_now(session, [entry for waiting in group for entry in waiting.records])
        )
        try:
            await asyncio.shield(statement)
        except asyncio.CancelledError:
            await _finished(statement)  # the statement goes on: the group is told what became of it
            written = not statement.cancelled() and statement.exception() is None
            for waiting in others:
                _tell(waiting, written)
            if written:
                raise AppendedThenCancelled("the call was cancelled after its audit records were committed") from None
            raise
        except Exception:
            if not others:
                raise  # the leader alone: its own error
            for waiting in others:
                _tell(waiting, False)
            await append_now(session, leader.records)
        else:
            for waiting in others:
                _tell(waiting, True)


def _tell(waiting: _Waiting, written: bool) -> None:
    if not waiting.told.done():
        waiting.told.set_result(written)


async def _finished(future: asyncio.Future[_T]) -> asyncio.Future[_T]:
    """``future`` once it is done, however often the waiting task is cancelled meanwhile (a group's statement ends
    within the database's statement timeout); waiting never cancels it, nor raises its error."""
    while not future.done():
        with contextlib.suppress(asyncio.CancelledError):  # this task cancelled (again): it waits on
            await asyncio.wait((future,))
    return future
