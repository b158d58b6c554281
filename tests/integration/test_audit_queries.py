"""INAMI's auditor asks who accessed a person's data; the question itself is audited."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import Caller
from tests.token_factory import TokenFactory

TODAY = datetime.now(UTC).date().isoformat()


async def test_who_accessed_a_person(
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    person: SimulatedPerson,
    population: Population,
    connection: AsyncConnection,
) -> None:
    insurer = Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"]))
    stranger = Caller(client, tokens.token("CM", ["administrative"]))
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin})).json()["id"]
    await insurer.get(f"/dossiers/{dossier}")
    await stranger.get(f"/dossiers/{dossier}")  # denied, and logged

    auditor = Caller(client, tokens.token("INAMI", ["auditor"]))
    first = await auditor.post("/auditEvents/query", {"ssin": person.ssin, "from": TODAY, "to": TODAY, "pageSize": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [(e["operation"], e["outcome"]) for e in page["items"]] == [
        ("openDossier", "permit"),
        ("readDossier", "permit"),
    ]
    second = await auditor.post(
        "/auditEvents/query", {"ssin": person.ssin, "from": TODAY, "to": TODAY, "pageSize": 2, "page": page["next"]}
    )
    rest = second.json()["items"]
    assert (rest[0]["organisation"], rest[0]["outcome"], rest[0]["reason"]) == (
        tokens.organisation("CM").enterprise_number,
        "deny",
        "noLink",
    )

    for caller in (insurer, Caller(client, tokens.token("INAMI", ["socialExpert"]))):
        response = await caller.post("/auditEvents/query", {"ssin": person.ssin, "from": TODAY, "to": TODAY})
        assert response.status_code == 403
    queried = await connection.scalar(
        text("SELECT count(*) FROM audit_event WHERE operation = 'queryAuditEvents' AND person_ssin = :ssin"),
        {"ssin": person.ssin},
    )
    assert queried == 2


async def test_bad_audit_query(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    auditor = Caller(client, tokens.token("INAMI", ["auditor"]))
    for body in (
        {"ssin": "85073003329", "from": TODAY, "to": TODAY},
        {"ssin": "85073003328", "from": "2026-02-01", "to": "2026-01-01"},
    ):
        assert (await auditor.post("/auditEvents/query", body)).status_code == 400
