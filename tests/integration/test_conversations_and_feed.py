"""Conversations between parties (and the medical channel), and the change feed of an organisation."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rp_api.identifiers import make_ssin
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import CONTENT, Caller
from tests.token_factory import TokenFactory

OTHER_USER = make_ssin(date(1990, 4, 2), 42)  # read marks are per user: the two sides are different people


def number(tokens: TokenFactory, label: str) -> str:
    return tokens.organisation(label).enterprise_number


async def denials(connection: AsyncConnection, reason: str) -> int:
    query = text("SELECT count(*) FROM audit_event WHERE outcome = 'deny' AND reason = :reason")
    return int(await connection.scalar(query, {"reason": reason}) or 0)


async def test_conversation_between_insurer_and_vdab(
    client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson, connection: AsyncConnection
) -> None:
    insurer = Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"], name="Marie Dubois"))
    vdab = Caller(client, tokens.token("VDAB", ["referenceAdvisor"], name="Jan Peeters", sub=OTHER_USER))
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    created = await insurer.post(
        f"/dossiers/{dossier}/conversations", {"subject": "Start date", "participants": [number(tokens, "VDAB")]}
    )
    assert created.status_code == 201, created.text
    conversation = created.json()
    assert conversation["participants"] == sorted([number(tokens, "VDAB"), number(tokens, "Solidaris")])

    assert [c["id"] for c in (await vdab.get(f"/dossiers/{dossier}/conversations")).json()["items"]] == [
        conversation["id"]
    ]
    posted = await vdab.post(f"/conversations/{conversation['id']}/messages", {"text": "It starts on 4 January."})
    assert posted.status_code == 201
    assert (posted.json()["authorName"], posted.json()["authorRole"]) == ("Jan Peeters", "referenceAdvisor")

    seen = (await insurer.get(f"/conversations/{conversation['id']}/messages")).json()["items"]
    assert [(m["text"], m["read"]) for m in seen] == [("It starts on 4 January.", False)]
    marked = await insurer.post(f"/conversations/{conversation['id']}/read", {"upTo": seen[0]["id"]})
    assert [m["read"] for m in marked.json()["items"]] == [True]

    inami = Caller(client, tokens.token("INAMI", ["socialExpert"]))  # always linked, but not a participant
    assert (await inami.get(f"/conversations/{conversation['id']}/messages")).status_code == 404
    assert (await inami.post(f"/conversations/{conversation['id']}/messages", {"text": "x"})).status_code == 404
    assert (await inami.get(f"/dossiers/{dossier}/conversations")).json()["items"] == []
    assert await denials(connection, "notParticipant") == 2


async def test_participants_need_their_own_link(
    client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson
) -> None:
    insurer = Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    response = await insurer.post(
        f"/dossiers/{dossier}/conversations",
        {"subject": "x", "participants": [number(tokens, "CM"), number(tokens, "VDAB")]},
    )
    assert response.status_code == 400
    assert [issue["name"] for issue in response.json()["issues"]] == ["participants[0]"]


async def test_medical_channel_is_for_physicians(
    client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson, connection: AsyncConnection
) -> None:
    physician = Caller(client, tokens.token("Solidaris", ["medicalAdvisor"]))
    coordinator = Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
    dossier = (await physician.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    body = {"subject": "Limitations", "participants": [number(tokens, "INAMI")], "medical": True}
    assert (await coordinator.post(f"/dossiers/{dossier}/conversations", body)).status_code == 403
    conversation = (await physician.post(f"/dossiers/{dossier}/conversations", body)).json()["id"]
    await physician.post(f"/conversations/{conversation}/messages", {"text": "No lifting over 5 kg"})

    inspector = Caller(client, tokens.token("INAMI", ["medicalInspector"]))
    assert (await inspector.get(f"/conversations/{conversation}/messages")).status_code == 200
    for outsider in (Caller(client, tokens.token("INAMI", ["socialExpert"])), coordinator):
        response = await outsider.get(f"/conversations/{conversation}/messages")
        assert response.status_code == 404
        assert "No lifting" not in response.text
        assert (await outsider.get(f"/dossiers/{dossier}/conversations")).json()["items"] == []
    assert await denials(connection, "notPhysician") == 2


@pytest.fixture
def without_vdab_registration(population: Population, person: SimulatedPerson) -> Iterator[None]:
    """JobSeeker forgets the person's registrations (and the link cache is empty for each test)."""
    population.persons[person.ssin] = dataclasses.replace(person, registrations=())
    yield
    population.persons[person.ssin] = person


async def test_an_organisation_that_lost_its_link_loses_the_conversation(
    app: FastAPI,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    person: SimulatedPerson,
    population: Population,
    engine: AsyncEngine,
    connection: AsyncConnection,
) -> None:
    insurer = Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
    vdab = Caller(client, tokens.token("VDAB", ["referenceAdvisor"]))
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    conversation = (
        await insurer.post(
            f"/dossiers/{dossier}/conversations", {"subject": "x", "participants": [number(tokens, "VDAB")]}
        )
    ).json()["id"]
    assert (await vdab.get(f"/conversations/{conversation}/messages")).status_code == 200

    population.persons[person.ssin] = dataclasses.replace(person, registrations=())
    try:
        async with engine.begin() as own:  # the cached links expire (both levels)
            await own.execute(text("DELETE FROM person_link_cache"))
        app.state.link_resolver.forget()
        assert (await vdab.get(f"/conversations/{conversation}/messages")).status_code == 404
    finally:
        population.persons[person.ssin] = person
    assert await denials(connection, "noLink") == 1


async def test_feed_kinds_positions_and_medical_filter(
    own_client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson
) -> None:
    """On committed data (an event becomes readable once every older transaction has ended)."""
    client = own_client
    insurer = Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
    physician = Caller(client, tokens.token("Solidaris", ["medicalAdvisor"]))
    vdab = Caller(client, tokens.token("VDAB", ["referenceAdvisor"]))
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    await vdab.post("/dossiers", {"ssin": person.ssin})  # VDAB takes part in the dossier

    async def feed(caller: Caller, after: str = "0", *, expect: int = 0) -> dict[str, object]:
        """The feed from ``after``; waits (a little) for ``expect`` events, since an event shows once every older
        transaction of the cluster has ended (the app's own background purge may hold one for a moment)."""
        for _ in range(100):
            response = await caller.get(f"/events?after={after}")
            assert response.status_code == 200, response.text
            body: dict[str, object] = response.json()
            if len(body["items"]) >= expect:  # type: ignore[arg-type]
                return body
            await asyncio.sleep(0.05)
        return body

    start = await feed(vdab)
    assert start["items"] == []
    assert start["next"] == "0"

    created = await insurer.post(f"/dossiers/{dossier}/registrationForms", CONTENT)
    await insurer.post(f"/registrationForms/{created.json()['id']}/submit", **{"If-Match": created.headers["ETag"]})
    conversation = (
        await insurer.post(
            f"/dossiers/{dossier}/conversations", {"subject": "x", "participants": [number(tokens, "VDAB")]}
        )
    ).json()["id"]
    await insurer.post(f"/conversations/{conversation}/messages", {"text": "Hello"})

    first = await feed(vdab, expect=2)
    assert [e["kind"] for e in first["items"]] == ["formVisible", "messagePosted"]  # type: ignore[index]
    assert all(set(e) == {"position", "kind", "dossierId", "resourceId", "occurredAt"} for e in first["items"])  # type: ignore[union-attr]
    assert "Hello" not in str(first)
    resumed = await feed(vdab, str(first["next"]))
    assert resumed["items"] == []
    assert resumed["next"] == first["next"]

    medical = (
        await physician.post(
            f"/dossiers/{dossier}/conversations",
            {"subject": "m", "participants": [number(tokens, "INAMI")], "medical": True},
        )
    ).json()["id"]
    await physician.post(f"/conversations/{medical}/messages", {"text": "medical"})
    inami_staff = await feed(Caller(client, tokens.token("INAMI", ["socialExpert"])))
    inami_physician = await feed(Caller(client, tokens.token("INAMI", ["medicalInspector"])), expect=1)
    assert inami_staff["items"] == []
    assert [e["kind"] for e in inami_physician["items"]] == ["messagePosted"]  # type: ignore[index]
    assert (await vdab.get("/events?after=not-a-position")).status_code == 400


async def test_consumer_sees_every_event_once_in_order_while_writes_go_on(
    own_client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson
) -> None:
    insurer = Caller(own_client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
    vdab = Caller(own_client, tokens.token("VDAB", ["referenceAdvisor"]))
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    conversation = (
        await insurer.post(
            f"/dossiers/{dossier}/conversations", {"subject": "x", "participants": [number(tokens, "VDAB")]}
        )
    ).json()["id"]
    writers, messages_each = 8, 10
    done = asyncio.Event()

    async def write(writer: int) -> None:
        for n in range(messages_each):
            response = await insurer.post(f"/conversations/{conversation}/messages", {"text": f"{writer}-{n}"})
            assert response.status_code == 201

    seen: list[str] = []

    expected = writers * messages_each

    async def consume() -> None:
        after = "0"
        idle_after_done = 0
        while True:
            page = (await vdab.get(f"/events?after={after}&limit=7")).json()
            seen.extend(e["position"] for e in page["items"])
            after = page["next"]
            if done.is_set() and not page["items"]:
                idle_after_done += 1
                if len(seen) >= expected and idle_after_done >= 3:  # and nothing more (no duplicate) comes
                    return
            await asyncio.sleep(0.005)

    consumer = asyncio.ensure_future(consume())
    await asyncio.gather(*(write(w) for w in range(writers)))
    done.set()
    await asyncio.wait_for(consumer, timeout=30)
    assert len(seen) == expected  # every event, once
    assert len(set(seen)) == len(seen)

    def order(position: str) -> tuple[int, int]:
        from rp_api.services.events import decode

        return decode(position)

    assert [order(p) for p in seen] == sorted(order(p) for p in seen)  # in order
