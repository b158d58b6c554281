"""The change feed pages in transaction order whatever the number of digits of the transaction ids: a consumer
paging one event at a time across 9 → 10, 99 → 100 and 999 → 1000 sees each event once, in order (issue 15,
item 6: the feed once sorted the ids as text and lost, then repeated, events there)."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from rp_api.repositories import feed
from rp_api.simulator.population import SimulatedPerson
from tests.integration.test_dossiers_and_forms import Caller
from tests.token_factory import TokenFactory

XIDS = (8, 9, 10, 10, 11, 98, 99, 100, 101, 999, 1000, 1001)
"""Explicit transaction ids (10 twice: two events of one transaction), below the snapshot's xmin, so readable."""


async def past_every_inserted_xid(engine: AsyncEngine) -> None:
    """Make sure the cluster's transaction ids are beyond ``XIDS`` (a fresh cluster may not be there yet), so that
    the test's own transaction, and with it the snapshot's xmin, comes after them."""
    async with engine.connect() as connection:
        while int(await connection.scalar(text("SELECT pg_current_xact_id()::text")) or 0) <= max(XIDS) + 1:
            await connection.commit()


async def insert_events(connection: AsyncConnection, organisation: str, dossier_id: uuid.UUID) -> list[uuid.UUID]:
    """One event per entry of ``XIDS``, inserted out of order; returns their resource ids in feed order."""
    rows = [(xid, uuid.uuid4()) for xid in XIDS]
    for xid, resource_id in reversed(rows):  # seq grows against the xid order: the order must come from the xid
        await connection.execute(
            text(
                "INSERT INTO feed_event (xid, organisation, kind, medical, dossier_id, resource_id)"
                " VALUES (CAST(CAST(:xid AS text) AS xid8), :organisation, 'requestChanged', false, :dossier, :id)"
            ),
            {"xid": str(xid), "organisation": organisation, "dossier": dossier_id, "id": resource_id},
        )
    xmin = await connection.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text"))
    assert int(xmin or 0) > max(XIDS)
    seqs = {
        row.resource_id: row.seq
        for row in await connection.execute(
            text("SELECT resource_id, seq FROM feed_event WHERE organisation = :o"), {"o": organisation}
        )
    }
    return [resource_id for _, resource_id in sorted(rows, key=lambda r: (r[0], seqs[r[1]]))]


async def test_paging_one_by_one_across_powers_of_ten_sees_each_event_once_in_order(
    connection: AsyncConnection, engine: AsyncEngine
) -> None:
    await past_every_inserted_xid(engine)
    organisation = "0999999999"
    expected = await insert_events(connection, organisation, uuid.uuid4())
    session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint")
    seen: list[feed.Event] = []
    position = (0, 0)
    for _ in range(len(expected) + 3):
        page = await feed.after(session, organisation, position, limit=1, medical=False)
        if not page:
            break
        seen.extend(page)
        position = (page[-1].xid, page[-1].seq)
    await session.close()
    assert [event.resource_id for event in seen] == expected
    assert [event.xid for event in seen] == sorted(XIDS)
    assert await feed.after(session, organisation, position, limit=1, medical=False) == []  # nothing again


async def test_a_consumer_of_the_events_endpoint_with_limit_1_sees_each_event_once_in_order(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    engine: AsyncEngine,
    tokens: TokenFactory,
    person: SimulatedPerson,
) -> None:
    await past_every_inserted_xid(engine)
    vdab = Caller(client, tokens.token("VDAB", ["referenceAdvisor"]))
    # a dossier VDAB may see, for the events
    opened = await vdab.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})
    assert opened.status_code in (200, 201), opened.text
    expected = await insert_events(
        connection, tokens.organisation("VDAB").enterprise_number, uuid.UUID(opened.json()["id"])
    )
    seen: list[str] = []
    after = "0"
    for _ in range(len(expected) + 3):
        response = await vdab.get(f"/events?after={after}&limit=1")
        assert response.status_code == 200, response.text
        page = response.json()
        if not page["items"]:
            break
        seen.extend(item["resourceId"] for item in page["items"])
        after = page["next"]
    assert seen == [str(resource_id) for resource_id in expected]
    assert (await vdab.get(f"/events?after={after}&limit=1")).json()["items"] == []
