"""INAMI's auditor asks who accessed a person's data; an organisation's auditor asks what its own users accessed;
the question itself is audited, and an auditor's token opens nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import Caller
from tests.token_factory import TokenFactory

TODAY = datetime.now(UTC).date().isoformat()
# An audit query's days around today, so that a run that crosses midnight (UTC) still reads what it just recorded.
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()


async def test_who_accessed_a_person(
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    person: SimulatedPerson,
    population: Population,
    connection: AsyncConnection,
) -> None:
    insurer = Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
    stranger = Caller(client, tokens.token("CM", ["administrative"]))
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    await insurer.get(f"/dossiers/{dossier}")
    await stranger.get(f"/dossiers/{dossier}")  # denied, and logged

    auditor = Caller(client, tokens.token("INAMI", ["auditor"]))
    first = await auditor.post(
        "/auditEvents/query", {"ssin": person.ssin, "from": YESTERDAY, "to": TOMORROW, "pageSize": 2}
    )
    assert first.status_code == 200, first.text
    page = first.json()
    assert [(e["operation"], e["outcome"]) for e in page["items"]] == [
        ("openDossier", "permit"),
        ("getDossier", "permit"),
    ]
    second = await auditor.post(
        "/auditEvents/query",
        {"ssin": person.ssin, "from": YESTERDAY, "to": TOMORROW, "pageSize": 2, "page": page["next"]},
    )
    rest = second.json()["items"]
    assert (rest[0]["organisation"], rest[0]["outcome"], rest[0]["reason"]) == (
        tokens.organisation("CM").enterprise_number,
        "deny",
        "noLink",
    )

    assert all(e["personSsin"] == person.ssin for e in page["items"] + rest)

    for caller in (insurer, Caller(client, tokens.token("INAMI", ["socialExpert"]))):
        response = await caller.post("/auditEvents/query", {"ssin": person.ssin, "from": YESTERDAY, "to": TOMORROW})
        assert response.status_code == 403
        assert response.json()["type"] == "urn:problem-type:belgif:missingPermission"
    queried = await connection.execute(
        text(
            "SELECT organisation_type, outcome, reason FROM audit_event"
            " WHERE operation = 'queryAuditEvents' AND person_ssin = :ssin ORDER BY occurred_at, seq"
        ),
        {"ssin": person.ssin},
    )
    assert [tuple(row) for row in queried] == [
        ("inami", "permit", "everyOrganisation"),
        ("inami", "permit", "everyOrganisation"),
        ("insurer", "deny", "roleNotAllowed"),
        ("inami", "deny", "roleNotAllowed"),
    ]


async def test_an_organisations_auditor_sees_its_own_users_only(
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    person: SimulatedPerson,
    connection: AsyncConnection,
) -> None:
    colleague, other_colleague = "85073003328", "75050575724"
    coordinator = Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"], sub=colleague))
    physician = Caller(client, tokens.token("Solidaris", ["medicalAdvisor"], sub=other_colleague))
    regional = Caller(client, tokens.token("VDAB", ["referenceAdvisor"]))
    dossier = (await coordinator.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    await physician.get(f"/dossiers/{dossier}")
    await regional.get(f"/dossiers/{dossier}")
    period = {"from": YESTERDAY, "to": TOMORROW}

    solidaris = Caller(client, tokens.token("Solidaris", ["auditor"]))
    own = (await solidaris.post("/auditEvents/query", period)).json()["items"]
    assert [(e["userSsin"], e["operation"]) for e in own] == [
        (colleague, "openDossier"),
        (other_colleague, "getDossier"),
    ]
    assert {e["organisation"] for e in own} == {tokens.organisation("Solidaris").enterprise_number}
    # Naming the person does not widen an organisation's auditor's view (the auditor's own first query, a Solidaris
    # user's access to the person, is in it now); naming a user narrows it.
    named = (await solidaris.post("/auditEvents/query", {**period, "ssin": person.ssin})).json()["items"]
    assert [e["id"] for e in named[:2]] == [e["id"] for e in own]
    assert [(e["operation"], e["reason"]) for e in named[2:]] == [("queryAuditEvents", "ownOrganisation")]
    one_user = (await solidaris.post("/auditEvents/query", {**period, "userSsin": other_colleague})).json()["items"]
    assert [e["operation"] for e in one_user] == ["getDossier"]

    vdab = (await Caller(client, tokens.token("VDAB", ["auditor"])).post("/auditEvents/query", period)).json()
    assert [e["operation"] for e in vdab["items"]] == ["getDossier"]
    # INAMI's auditor without a person sees INAMI's own users: none here.
    inami = await Caller(client, tokens.token("INAMI", ["auditor"])).post("/auditEvents/query", period)
    assert inami.json()["items"] == []

    # Each query is audited once per person it showed; the empty one names nobody.
    audited = await connection.execute(
        text(
            "SELECT organisation_type, person_ssin, reason FROM audit_event"
            " WHERE operation = 'queryAuditEvents' ORDER BY occurred_at, seq"
        )
    )
    assert [tuple(row) for row in audited] == [("insurer", person.ssin, "ownOrganisation")] * 3 + [
        ("regionalService", person.ssin, "ownOrganisation")
    ]


async def test_an_auditors_token_opens_nothing_but_the_log(
    client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson, connection: AsyncConnection
) -> None:
    for organisation in ("Solidaris", "VDAB", "Idewe", "INAMI"):
        auditor = Caller(client, tokens.token(organisation, ["auditor"]))
        assert (await auditor.get("/me")).status_code == 200
        for response in (
            await auditor.post("/dossiers", {"ssin": person.ssin}),
            await auditor.get("/dossiers/7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a"),
            await auditor.post("/dossiers/query", {}),
            await auditor.get("/decisions?week=2026-W01"),
            await auditor.get("/hoursLists?month=2026-01"),
            await auditor.get("/events?after=0"),
            await auditor.get("/statistics?from=2026-01&to=2026-01"),
        ):
            assert response.status_code == 403, response.request.url
            assert response.json()["type"] == "urn:problem-type:belgif:missingPermission"
    # Refused before any person was looked at: nothing was opened, nothing was logged as a permit.
    assert await connection.scalar(text("SELECT count(*) FROM dossier")) == 0
    assert await connection.scalar(text("SELECT count(*) FROM audit_event WHERE outcome = 'permit'")) == 0


async def test_bad_audit_query(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    auditor = Caller(client, tokens.token("INAMI", ["auditor"]))
    for body in (
        {"ssin": "85073003329", "from": YESTERDAY, "to": TOMORROW},
        {"ssin": "85073003328", "from": "2026-02-01", "to": "2026-01-01"},
        {"userSsin": "1234", "from": YESTERDAY, "to": TOMORROW},
        {"to": TODAY},
    ):
        assert (await auditor.post("/auditEvents/query", body)).status_code == 400
