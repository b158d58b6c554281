"""The person's identity over time (deliberation 26/060 §7), with the simulator replacing SSINs at run time: the
dossier follows the person to the new SSIN on the first call that resolves their links, the old SSIN still reaches
it, a caller not linked under the new SSIN learns nothing, chains are followed, two dossiers of one person are merged
keeping everything, the person's audit report covers every SSIN, and concurrent calls neither duplicate nor fail."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from rp_api.domain import identity as rules
from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import CONTENT, Caller
from tests.token_factory import TokenFactory

TODAY = datetime.now(UTC).date().isoformat()
# An audit query's days around today, so that a run that crosses midnight (UTC) still reads what it just recorded.
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
CONSENT = {"scope": "occupationalPhysicianContact", "formVersion": "RP-2026.1"}
Forget = Callable[[FastAPI], Awaitable[None]]


@pytest.fixture
def callers(client: httpx.AsyncClient, tokens: TokenFactory) -> dict[str, Caller]:
    return {
        "coord": Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"])),
        "physician": Caller(client, tokens.token("Solidaris", ["medicalAdvisor"])),
        "vdab": Caller(client, tokens.token("VDAB", ["referenceAdvisor"])),
        "expert": Caller(client, tokens.token("INAMI", ["socialExpert"])),
        "inamiAuditor": Caller(client, tokens.token("INAMI", ["auditor"])),
        "solidarisAuditor": Caller(client, tokens.token("Solidaris", ["auditor"])),
        "cm": Caller(client, tokens.token("CM", ["returnToWorkCoordinator"])),
    }


def solidaris_and_vdab(population: Population, tokens: TokenFactory, count: int) -> list[SimulatedPerson]:
    """Living persons insured with Solidaris (300) and registered with VDAB, none replaced."""
    vdab = tokens.organisation("VDAB").enterprise_number
    special = {population.deceased_ssin, population.replaced_ssin}
    found = [
        p
        for p in population.persons.values()
        if p.oa_number == 300
        and any(r == vdab for r, _ in p.registrations)
        and not p.replaced_by
        and not p.death_date
        and not p.previous_ssins
        and p.ssin not in special
    ]
    return found[:count]


async def start(caller: Caller, ssin: str) -> str:
    opened = await caller.post("/dossiers", {"ssin": ssin, "start": "registrationForm"})
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


async def submitted_form(caller: Caller, dossier: str) -> str:
    created = await caller.post(f"/dossiers/{dossier}/registrationForms", CONTENT)
    assert created.status_code == 201, created.text
    submitted = await caller.post(
        f"/registrationForms/{created.json()['id']}/submit", **{"If-Match": created.headers["ETag"]}
    )
    assert submitted.status_code == 200, submitted.text
    return str(created.json()["id"])


async def coaching(caller: Caller, dossier: str) -> str:
    created = await caller.post(f"/dossiers/{dossier}/requests", {"type": "coaching"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def message(author: Caller, dossier: str, participant: str, words: str) -> tuple[str, str]:
    opened = await author.post(f"/dossiers/{dossier}/conversations", {"subject": words, "participants": [participant]})
    assert opened.status_code == 201, opened.text
    conversation = str(opened.json()["id"])
    posted = await author.post(f"/conversations/{conversation}/messages", {"text": words})
    assert posted.status_code == 201, posted.text
    return conversation, str(posted.json()["id"])


async def stored(connection: AsyncConnection, *ssins: str) -> list[tuple[str, str]]:
    """(dossier id, SSIN) of every dossier stored under these SSINs."""
    rows = await connection.execute(
        text("SELECT id::text, ssin FROM dossier WHERE ssin = ANY(:ssins) ORDER BY created_at"), {"ssins": list(ssins)}
    )
    return [(row[0], row[1]) for row in rows]


async def hops(connection: AsyncConnection, *ssins: str) -> set[tuple[str, str]]:
    rows = await connection.execute(
        text("SELECT old_ssin, new_ssin FROM ssin_replacement WHERE old_ssin = ANY(:s) OR new_ssin = ANY(:s)"),
        {"s": list(ssins)},
    )
    return {(row[0], row[1]) for row in rows}


async def records_of(connection: AsyncConnection, response: httpx.Response) -> list[tuple[str, str, str, str, str]]:
    """The audit records of one call: (person, resource type, resource id, outcome, reason)."""
    rows = await connection.execute(
        text(
            "SELECT person_ssin, resource_type, coalesce(resource_id, ''), outcome, reason FROM audit_event"
            " WHERE trace_id = :trace ORDER BY seq"
        ),
        {"trace": response.headers["BelGov-Trace-Id"]},
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def report(auditor: Caller, ssin: str) -> list[dict[str, Any]]:
    """The person's audit report as an auditor reads it (every page)."""
    items: list[dict[str, Any]] = []
    body: dict[str, Any] = {"ssin": ssin, "from": YESTERDAY, "to": TOMORROW, "pageSize": 1000}
    while True:
        page = await auditor.post("/auditEvents/query", body)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        if not page.json()["next"]:
            return items
        body["page"] = page.json()["next"]


# --- the dossier follows --------------------------------------------------------------------------------------------


FIRST_CALLS: dict[str, Callable[[dict[str, Caller], str, str, str, str], Awaitable[httpx.Response]]] = {
    "GET the dossier by id": lambda c, dossier, old, new, form: c["coord"].get(f"/dossiers/{dossier}"),
    "look the old SSIN up": lambda c, dossier, old, new, form: c["coord"].post("/dossiers", {"ssin": old}),
    "look the new SSIN up": lambda c, dossier, old, new, form: c["coord"].post("/dossiers", {"ssin": new}),
    "start a trajectory under the new SSIN": lambda c, dossier, old, new, form: c["coord"].post(
        "/dossiers", {"ssin": new, "start": "registrationForm"}
    ),
    "read the form": lambda c, dossier, old, new, form: c["vdab"].get(f"/registrationForms/{form}"),
    "a work list": lambda c, dossier, old, new, form: c["vdab"].post(
        "/registrationForms/query", {"queue": "registeredWithMe"}
    ),
    "the dossier list": lambda c, dossier, old, new, form: c["coord"].post("/dossiers/query", {}),
    "INAMI names the old SSIN": lambda c, dossier, old, new, form: c["expert"].post("/dossiers", {"ssin": old}),
}


@pytest.mark.parametrize("first", list(FIRST_CALLS))
async def test_the_dossier_follows_the_person_to_the_new_ssin_on_any_call(
    first: str,
    callers: dict[str, Caller],
    person: SimulatedPerson,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    old = person.ssin
    dossier = await start(callers["coord"], old)
    form = await submitted_form(callers["coord"], dossier)
    new = simulator.replace_ssin(old)
    await forget_links(app)

    response = await FIRST_CALLS[first](callers, dossier, old, new, form)

    assert response.status_code == 200, response.text
    assert old not in response.text  # the answer names the person under their current SSIN only
    assert await stored(connection, old, new) == [(dossier, new)]
    assert await hops(connection, old, new) == {(old, new)}
    records = await records_of(connection, response)
    assert (new, "permit") in {(r[0], r[3]) for r in records}
    assert (old, rules.DOSSIER, dossier, "permit", "replacedSsin") in records  # the move, in the person's report
    assert not [r for r in records if r[0] == old and r[1] != rules.DOSSIER]

    # Afterwards, every way to the person reaches the one dossier, under the new SSIN, and nothing moves again.
    for ssin in (old, new):
        found = await callers["coord"].post("/dossiers", {"ssin": ssin})
        assert (found.status_code, found.json()["id"], found.json()["person"]["ssin"]) == (200, dossier, new)
    again = await callers["coord"].post("/dossiers", {"ssin": new, "start": "registrationForm"})
    assert (again.status_code, again.json()["id"]) == (200, dossier)  # never a second dossier
    read = await callers["coord"].get(f"/dossiers/{dossier}")
    assert [f["id"] for f in read.json()["registrationForms"]] == [form]
    assert [r for r in await records_of(connection, read) if r[4] == "replacedSsin"] == []
    lines = await callers["vdab"].post("/registrationForms/query", {"queue": "registeredWithMe"})
    assert {(line["id"], line["person"]["ssin"]) for line in lines.json()["items"]} >= {(form, new)}
    listed = await callers["coord"].post("/dossiers/query", {})
    assert [(d["id"], d["ssin"]) for d in listed.json()["items"] if d["id"] == dossier] == [(dossier, new)]
    assert await stored(connection, old, new) == [(dossier, new)]


async def test_a_caller_not_linked_under_the_new_ssin_gets_404_and_learns_nothing(
    callers: dict[str, Caller],
    person: SimulatedPerson,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    old = person.ssin
    dossier = await start(callers["coord"], old)
    form = await submitted_form(callers["coord"], dossier)
    new = simulator.replace_ssin(old)
    simulator.move_insurer(new, 100)  # under the new SSIN the person is insured with CM, no longer Solidaris
    await forget_links(app)

    for call in (
        callers["coord"].get(f"/dossiers/{dossier}"),
        callers["coord"].post("/dossiers", {"ssin": old}),
        callers["coord"].post("/dossiers", {"ssin": old, "start": "registrationForm"}),
        callers["coord"].get(f"/registrationForms/{form}"),
        callers["coord"].post("/dossiers/query", {}),
        callers["coord"].post("/registrationForms/query", {}),
    ):
        response = await call
        assert response.status_code in (200, 404), response.text
        assert new not in response.text
        assert dossier not in response.text
        assert form not in response.text
        if response.status_code == 404:
            assert response.json()["type"] == "urn:problem-type:belgif:resourceNotFound"
        # recorded under the SSIN the caller named, as a plain noLink: its auditor learns nothing of the new one
        assert {(r[0], r[3], r[4]) for r in await records_of(connection, response)} <= {(old, "deny", "noLink")}
    assert await stored(connection, old, new) == [(dossier, old)]  # a denial moves nothing
    assert await hops(connection, old, new) == set()

    # The new insurer is linked under the new SSIN: it reaches the dossier, which follows.
    cm = await callers["cm"].get(f"/dossiers/{dossier}")
    assert (cm.status_code, cm.json()["person"]["ssin"]) == (200, new)
    assert await stored(connection, old, new) == [(dossier, new)]
    assert (await callers["coord"].post("/dossiers", {"ssin": new})).status_code == 404


async def test_a_chain_of_replacements_is_followed_and_reported_whole(
    callers: dict[str, Caller],
    person: SimulatedPerson,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    a = person.ssin
    dossier = await start(callers["coord"], a)
    await submitted_form(callers["coord"], dossier)
    b = simulator.replace_ssin(a)
    c = simulator.replace_ssin(b)
    await forget_links(app)

    via_a = await callers["vdab"].post("/dossiers", {"ssin": a})
    assert (via_a.status_code, via_a.json()["id"], via_a.json()["person"]["ssin"]) == (200, dossier, c)
    assert await stored(connection, a, b, c) == [(dossier, c)]
    assert await hops(connection, a, b, c) == {(a, b), (b, c)}
    via_b = await callers["coord"].post("/dossiers", {"ssin": b})
    assert (via_b.status_code, via_b.json()["id"]) == (200, dossier)

    # INAMI's report names any of the three SSINs and covers all three; each record names the SSIN it was made under.
    async def calls_about(named: str) -> list[dict[str, Any]]:
        items = await report(callers["inamiAuditor"], named)
        return [item for item in items if item["operation"] != "queryAuditEvents"]

    calls = await calls_about(b)
    assert {item["personSsin"] for item in calls} == {a, c}  # nothing was ever recorded under b
    seen = {(i["operation"], i["personSsin"], i["outcome"]) for i in calls}
    assert {("openDossier", a, "permit"), ("openDossier", c, "permit")} <= seen
    for named in (a, c):
        assert await calls_about(named) == calls
    assert rules.person_ssins(b, await hops(connection, a, b, c)) == {a, b, c}
    # Another organisation's auditor gets the SSIN it names only (it may not be linked under the others).
    own = await report(callers["solidarisAuditor"], c)
    assert {item["personSsin"] for item in own} == {c}


# --- merges ---------------------------------------------------------------------------------------------------------


async def participants(connection: AsyncConnection, dossier: str) -> list[str]:
    rows = await connection.execute(
        text("SELECT enterprise_number FROM dossier_participant WHERE dossier_id = :d"), {"d": dossier}
    )
    return sorted(rows.scalars())


async def two_dossiers_of_one_person(
    callers: dict[str, Caller], population: Population, tokens: TokenFactory
) -> dict[str, Any]:
    """Two persons with a dossier each (forms, a request, a message, a consent), the first created first."""
    first, second = solidaris_and_vdab(population, tokens, 2)
    vdab = tokens.organisation("VDAB").enterprise_number
    made: dict[str, Any] = {"old": first.ssin, "kept": second.ssin}
    for key, who in (("older", first), ("newer", second)):
        dossier = await start(callers["coord"], who.ssin)
        form = await submitted_form(callers["coord"], dossier)
        request = await coaching(callers["coord"], dossier)
        conversation, posted = await message(callers["coord"], dossier, vdab, f"About {key}")
        given = "2026-01-10" if key == "older" else "2026-02-20"
        consent = await callers["coord"].post(f"/dossiers/{dossier}/consents", {**CONSENT, "givenOn": given})
        assert consent.status_code == 201, consent.text
        made[key] = {
            "dossier": dossier,
            "form": form,
            "request": request,
            "conversation": conversation,
            "message": posted,
            "consent": str(consent.json()["id"]),
        }
    return made


async def make_older(connection: AsyncConnection, dossier: str) -> None:
    """The test's calls share one transaction, so their rows share its time: the first dossier is made older."""
    await connection.execute(
        text("UPDATE dossier SET created_at = created_at - interval '30 days' WHERE id = :d"), {"d": dossier}
    )


async def test_two_dossiers_of_one_person_are_merged_keeping_everything(
    callers: dict[str, Caller],
    population: Population,
    tokens: TokenFactory,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    made = await two_dossiers_of_one_person(callers, population, tokens)
    old, kept, older, newer = made["old"], made["kept"], made["older"], made["newer"]
    await make_older(connection, older["dossier"])
    before = {
        ssin: {(i["operation"], i["outcome"], i["traceId"]) for i in await report(callers["inamiAuditor"], ssin)}
        for ssin in (old, kept)
    }
    both = await participants(connection, older["dossier"]) + await participants(connection, newer["dossier"])
    taking_part = sorted(set(both))
    simulator.replace_ssin(old, kept)  # the two records turn out to be one person's, now known under `kept`
    await forget_links(app)

    # The newer dossier's id, read by VDAB: the person's one dossier answers (the older, which survives).
    read = await callers["vdab"].get(f"/dossiers/{newer['dossier']}")
    assert read.status_code == 200, read.text
    body = read.json()
    assert (body["id"], body["person"]["ssin"]) == (older["dossier"], kept)
    assert {f["id"] for f in body["registrationForms"]} == {older["form"], newer["form"]}
    assert {r["id"] for r in body["requests"]} == {older["request"], newer["request"]}
    assert await stored(connection, old, kept) == [(older["dossier"], kept)]
    merged = await connection.execute(
        text("SELECT absorbed_dossier_id::text, survivor_dossier_id::text, absorbed_ssin FROM dossier_merge")
    )
    assert [tuple(row) for row in merged] == [(newer["dossier"], older["dossier"], kept)]
    # The merge is in the person's report: the call's own record names the current SSIN, the merge the earlier one.
    records = await records_of(connection, read)
    assert (kept, "dossier", newer["dossier"], "permit", "regionalRegistration") in records
    assert (old, rules.DOSSIER_MERGE, newer["dossier"], "permit", "replacedSsin") in records
    assert len(records) == 2

    # Both ids lead to the one dossier, through the guard; every message, conversation, consent goes with it.
    for dossier_id in (older["dossier"], newer["dossier"]):
        again = await callers["coord"].get(f"/dossiers/{dossier_id}")
        assert (again.status_code, again.json()["id"]) == (200, older["dossier"])
        conversations = await callers["coord"].get(f"/dossiers/{dossier_id}/conversations")
        assert {c["id"] for c in conversations.json()["items"]} == {older["conversation"], newer["conversation"]}
    for key in ("older", "newer"):
        messages = await callers["vdab"].get(f"/conversations/{made[key]['conversation']}/messages")
        assert [m["id"] for m in messages.json()["items"]] == [made[key]["message"]]
        request = await callers["coord"].get(f"/requests/{made[key]['request']}")
        assert request.status_code == 200
    assert (await callers["cm"].get(f"/dossiers/{newer['dossier']}")).status_code == 404  # an absorbed id: no probe
    consents = (await callers["coord"].get(f"/dossiers/{older['dossier']}/consents")).json()["items"]
    in_force = {c["id"]: c["inForce"] for c in consents}
    # Both were in force: the one the person gave last stays, the other was withdrawn at the merge (by nobody).
    assert in_force == {older["consent"]: False, newer["consent"]: True}
    withdrawn = next(c for c in consents if c["id"] == older["consent"])
    assert withdrawn["withdrawnAt"]
    assert not withdrawn.get("withdrawnBy")
    assert await participants(connection, older["dossier"]) == taking_part  # the union (each organisation once)
    # Work lists and the feed name the survivor and the current SSIN.
    lines = (await callers["vdab"].post("/registrationForms/query", {"queue": "registeredWithMe"})).json()["items"]
    assert {(line["id"], line["person"]["ssin"]) for line in lines} >= {(older["form"], kept), (newer["form"], kept)}
    moved_events = await connection.scalar(
        text("SELECT count(*) FROM feed_event WHERE dossier_id = :d"), {"d": newer["dossier"]}
    )
    assert moved_events == 0  # the feed's events of the absorbed dossier name the survivor
    # INAMI's report covers both SSINs: nothing recorded before the merge is lost.
    for named in (old, kept):
        after = {(i["operation"], i["outcome"], i["traceId"]) for i in await report(callers["inamiAuditor"], named)}
        assert before[old] | before[kept] <= after


async def test_the_call_that_holds_the_newer_dossier_goes_on_with_it(
    callers: dict[str, Caller],
    population: Population,
    tokens: TokenFactory,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
    connection: AsyncConnection,
) -> None:
    """The first call after the replacement writes a form into the newer dossier: that dossier survives (the call
    goes on with it), the older one is absorbed into it, and its id leads there."""
    made = await two_dossiers_of_one_person(callers, population, tokens)
    old, kept, older, newer = made["old"], made["kept"], made["older"], made["newer"]
    await make_older(connection, older["dossier"])
    simulator.replace_ssin(old, kept)
    await forget_links(app)

    created = await callers["coord"].post(f"/dossiers/{newer['dossier']}/registrationForms", CONTENT)
    assert created.status_code == 201, created.text
    assert await stored(connection, old, kept) == [(newer["dossier"], kept)]
    forms = await connection.scalar(
        text("SELECT count(*) FROM registration_form WHERE dossier_id = :d"), {"d": newer["dossier"]}
    )
    assert forms == 3
    via_old_id = await callers["coord"].get(f"/dossiers/{older['dossier']}")
    assert (via_old_id.status_code, via_old_id.json()["id"]) == (200, newer["dossier"])
    form_via_old = await callers["coord"].post(f"/dossiers/{older['dossier']}/registrationForms", CONTENT)
    assert form_via_old.status_code == 201, form_via_old.text
    assert await stored(connection, old, kept) == [(newer["dossier"], kept)]


# --- concurrency, bad answers ---------------------------------------------------------------------------------------


async def forget_own_links(app: FastAPI, database: URL) -> None:
    """What ``forget_links`` does, for an app on a database of its own."""
    app.state.link_resolver.forget()
    engine = create_async_engine(database)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM person_link_cache"))
    finally:
        await engine.dispose()


async def test_concurrent_calls_on_a_replaced_person_neither_duplicate_nor_fail(
    own_app: FastAPI,
    own_client: httpx.AsyncClient,
    own_database: URL,
    tokens: TokenFactory,
    population: Population,
    simulator: SimulatorState,
) -> None:
    coord = Caller(own_client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
    vdab = Caller(own_client, tokens.token("VDAB", ["referenceAdvisor"]))
    [someone, other] = solidaris_and_vdab(population, tokens, 2)
    dossier = await start(coord, someone.ssin)
    await submitted_form(coord, dossier)
    second = await start(coord, other.ssin)
    new = simulator.replace_ssin(someone.ssin)
    await forget_own_links(own_app, own_database)

    calls = [
        *(coord.get(f"/dossiers/{dossier}") for _ in range(4)),
        *(coord.post("/dossiers", {"ssin": someone.ssin}) for _ in range(3)),
        *(coord.post("/dossiers", {"ssin": new, "start": "registrationForm"}) for _ in range(3)),
        *(vdab.post("/registrationForms/query", {}) for _ in range(3)),
        *(coord.post("/dossiers/query", {}) for _ in range(2)),
    ]
    answers = await asyncio.gather(*calls)
    assert [a.status_code for a in answers] == [200] * len(calls), [a.text for a in answers if a.status_code != 200]
    assert {a.json()["id"] for a in answers[:10]} == {dossier}

    # and a merge, raced from both of its ids
    simulator.replace_ssin(new, other.ssin)
    await forget_own_links(own_app, own_database)
    merging = [coord.get(f"/dossiers/{d}") for d in (dossier, second) * 4]
    answers = await asyncio.gather(*merging)
    assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
    assert 200 in {a.status_code for a in answers}
    assert {a.json()["id"] for a in answers if a.status_code == 200} == {dossier}
    found = await coord.post("/dossiers", {"ssin": other.ssin})
    assert found.json()["id"] == dossier
    for ssin in (someone.ssin, new):
        assert (await coord.post("/dossiers", {"ssin": ssin})).json()["id"] == dossier
    listed = await coord.post("/dossiers/query", {"pageSize": 100})
    ids = [d["id"] for d in listed.json()["items"]]
    assert dossier in ids
    assert second not in ids
    assert len(ids) == len(set(ids))


async def test_the_feed_is_the_first_call_after_the_replacement(
    own_app: FastAPI,
    own_client: httpx.AsyncClient,
    own_database: URL,
    tokens: TokenFactory,
    population: Population,
    simulator: SimulatorState,
) -> None:
    """On committed data (an event is read once every older transaction ended): VDAB's feed names the dossier, its
    read follows the person to the new SSIN, and the event still leads to the dossier."""
    coord = Caller(own_client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
    vdab = Caller(own_client, tokens.token("VDAB", ["referenceAdvisor"]))
    [someone] = solidaris_and_vdab(population, tokens, 1)
    dossier = await start(coord, someone.ssin)
    await submitted_form(coord, dossier)
    new = simulator.replace_ssin(someone.ssin)
    await forget_own_links(own_app, own_database)

    items: list[dict[str, Any]] = []
    for _ in range(100):
        response = await vdab.get("/events?after=0")
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if items:
            break
        await asyncio.sleep(0.05)
    assert dossier in {item["dossierId"] for item in items}
    engine = create_async_engine(own_database)
    try:
        async with engine.connect() as connection:
            assert await stored(connection, someone.ssin, new) == [(dossier, new)]
            assert (someone.ssin, rules.DOSSIER, dossier, "permit", "replacedSsin") in await records_of(
                connection, response
            )
    finally:
        await engine.dispose()
    read = await vdab.get(f"/dossiers/{dossier}")
    assert (read.status_code, read.json()["person"]["ssin"]) == (200, new)


async def test_a_register_answer_with_garbage_ssins_is_a_502_never_a_500(
    callers: dict[str, Caller],
    person: SimulatedPerson,
    population: Population,
    app: FastAPI,
    forget_links: Forget,
) -> None:
    dossier = await start(callers["coord"], person.ssin)
    original = population.persons[person.ssin]
    try:
        for garbage in ({"previous_ssins": ("not an SSIN",)}, {"replaced_by": "12345"}):
            from dataclasses import replace

            population.persons[person.ssin] = replace(original, **garbage)  # type: ignore[arg-type]
            await forget_links(app)
            for call in (
                callers["coord"].get(f"/dossiers/{dossier}"),
                callers["coord"].post("/dossiers", {"ssin": person.ssin}),
                callers["coord"].post("/dossiers/query", {}),
            ):
                response = await call
                assert response.status_code == 502, response.text
                assert response.json()["type"] == "urn:problem-type:belgif:badGateway"
    finally:
        population.persons[person.ssin] = original


@pytest.mark.parametrize(
    ("who", "statuses"),
    [("coord", {200}), ("vdab", {200}), ("expert", {200}), ("cm", {404}), ("inamiAuditor", {403})],
)
async def test_every_caller_gets_an_answer_naming_either_ssin(
    who: str,
    statuses: set[int],
    callers: dict[str, Caller],
    person: SimulatedPerson,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Forget,
) -> None:
    dossier = await start(callers["coord"], person.ssin)
    new = simulator.replace_ssin(person.ssin)
    await forget_links(app)
    for ssin in (person.ssin, new):
        for body in ({"ssin": ssin}, {"ssin": ssin, "start": "registrationForm"}):
            response = await callers[who].post("/dossiers", body)
            assert response.status_code < 500, response.text
            if "start" not in body:
                assert response.status_code in statuses, response.text
            if response.status_code == 200:
                assert response.json()["id"] == dossier
    response = await callers[who].get(f"/dossiers/{dossier}")
    assert response.status_code in statuses
