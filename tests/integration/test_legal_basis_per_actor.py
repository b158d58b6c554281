"""Each actor's legal basis (deliberation 26/060, §15–25) where it shows: the ``Legal-Context`` of the source calls
made for the caller's organisation type (MemberData for an insurer, JobSeeker for a regional service), and the
audit record of a permit."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rp_api.domain.actors import OrganisationType
from rp_api.domain.legal_basis import basis_of, legal_context
from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import SimulatedPerson
from tests.integration.test_dossiers_and_forms import Caller
from tests.token_factory import TokenFactory


def contexts(simulator: SimulatorState, source: str, ssin: str) -> list[str | None]:
    """The ``Legal-Context`` of each call the source received about the person."""
    return [call.legal_context for call in simulator.received[source] if json.loads(call.body).get("ssin") == ssin]


async def permit_bases(connection: AsyncConnection, response: httpx.Response) -> list[tuple[str, str]]:
    """(organisation type, legal basis) of the call's permits, by its trace id."""
    rows = await connection.execute(
        text(
            "SELECT organisation_type, legal_basis FROM audit_event"
            " WHERE trace_id = :trace AND outcome = 'permit' ORDER BY seq"
        ),
        {"trace": response.headers["BelGov-Trace-Id"]},
    )
    return [(row[0], row[1]) for row in rows]


async def test_an_insurers_read_asks_memberdata_under_the_insurers_basis(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    simulator: SimulatorState,
    tokens: TokenFactory,
    person: SimulatedPerson,
) -> None:
    simulator.received.clear()
    insurer = Caller(client, tokens.token("Solidaris", ["medicalAdvisor"]))
    opened = await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})
    assert opened.status_code == 201, opened.text

    expected = legal_context(OrganisationType.INSURER)
    assert contexts(simulator, "memberData", person.ssin) == [expected]
    assert contexts(simulator, "nationalRegister", person.ssin) == [expected]
    assert await permit_bases(connection, opened) == [("insurer", basis_of(OrganisationType.INSURER).text)]


async def test_a_regional_services_read_asks_jobseeker_under_the_regional_basis(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    engine: AsyncEngine,
    app: FastAPI,
    simulator: SimulatorState,
    tokens: TokenFactory,
    person: SimulatedPerson,
) -> None:
    insurer = Caller(client, tokens.token("Solidaris", ["medicalAdvisor"]))
    dossier = (await insurer.post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()
    # Nothing cached: the regional service's read asks the sources itself.
    app.state.link_resolver.forget()
    async with engine.begin() as own:
        await own.execute(text("DELETE FROM person_link_cache"))
    simulator.received.clear()

    vdab = Caller(client, tokens.token("VDAB", ["referenceAdvisor"]))
    read = await vdab.get(f"/dossiers/{dossier['id']}")
    assert read.status_code == 200, read.text

    expected = legal_context(OrganisationType.REGIONAL_SERVICE)
    assert contexts(simulator, "jobSeeker", person.ssin) == [expected]
    assert contexts(simulator, "nationalRegister", person.ssin) == [expected]
    assert expected != legal_context(OrganisationType.INSURER)
    regional = basis_of(OrganisationType.REGIONAL_SERVICE).text
    assert await permit_bases(connection, read) == [("regionalService", regional)]
