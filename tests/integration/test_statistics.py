"""The statistics endpoint: INAMI only, no SSIN, every published cell at or above the threshold, suppression applied
across the month's three tables."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from rp_api.simulator.population import SimulatedPerson
from tests.integration.test_dossiers_and_forms import CONTENT, Caller
from tests.token_factory import TokenFactory

MONTH = datetime.now(UTC).strftime("%Y-%m")


async def test_statistics(client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson) -> None:
    insurer = Caller(client, tokens.token("Solidaris", ["medicalAdvisor"]))
    vdab = Caller(client, tokens.token("VDAB", ["referenceAdvisor"]))
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    created = await insurer.post(f"/dossiers/{dossier}/registrationForms", CONTENT)
    await insurer.post(f"/registrationForms/{created.json()['id']}/submit", **{"If-Match": created.headers["ETag"]})
    for _ in range(6):
        assert (await insurer.post(f"/dossiers/{dossier}/requests", {"type": "coaching"})).status_code == 201
    for _ in range(2):
        await vdab.post(
            f"/dossiers/{dossier}/requests", {"type": "coaching", "registrationFormId": created.json()["id"]}
        )

    inami = Caller(client, tokens.token("INAMI", ["socialExpert"]))
    response = await inami.get(f"/statistics?from={MONTH}&to={MONTH}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert person.ssin not in response.text
    cells = body["byTypeAndOutcome"] + body["byInsurer"] + body["byRegionalService"]
    assert all(c["suppressed"] or c["count"] >= 5 for c in cells)
    # 8 coaching requests of one person insured with Solidaris and registered with VDAB: every line of the month
    # has a single cell of 8, so nothing needs hiding.
    assert {c["category"]: c["count"] for c in body["byInsurer"]} == {"Solidaris": 8}
    type_cells = {c["category"]: c["count"] for c in body["byTypeAndOutcome"]}
    assert type_cells == {"coaching/atInami": 8}
    regional = {c["category"]: c for c in body["byRegionalService"]}
    assert regional["VDAB"]["count"] == 8

    assert (await vdab.get(f"/statistics?from={MONTH}&to={MONTH}")).status_code == 403
    assert (await inami.get(f"/statistics?from={MONTH}&to=2020-01")).status_code == 400
