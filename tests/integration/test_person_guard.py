"""The person guard end to end, with the simulator: links per organisation type, every denial, fail-closed
answers when a source is down or answers garbage, one audit record per call, single flight and the cache."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.app import create_app
from rp_api.authz.person_guard import GuardedPerson
from rp_api.domain.policy import Action
from rp_api.identifiers import Ssin
from rp_api.routers import api_router, include_authenticated
from rp_api.schemas.base import ApiModel
from rp_api.settings import Settings
from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import Population, SimulatedEmployer, SimulatedPerson
from tests.token_factory import TokenFactory


class PersonQuery(ApiModel):
    ssin: Ssin


router = api_router(prefix="/probe")


@router.post("/persons")
async def consult(query: PersonQuery, guard: GuardedPerson) -> dict[str, str]:
    access = await guard(query.ssin, Action.CONSULT_DOSSIER, operation="probePerson", resource_type="person")
    return {"reason": str(access.decision.reason)}


@router.post("/persons/health")
async def consult_health(query: PersonQuery, guard: GuardedPerson) -> dict[str, str]:
    access = await guard(query.ssin, Action.CONSULT_HEALTH_DATA, operation="probeHealth", resource_type="person")
    return {"reason": str(access.decision.reason)}


@pytest.fixture
def probe(app: FastAPI, client: httpx.AsyncClient) -> httpx.AsyncClient:
    include_authenticated(app, router)
    return client


def person(population: Population, where: Callable[[SimulatedPerson], bool]) -> SimulatedPerson:
    special = {population.deceased_ssin, population.replaced_ssin}
    return next(p for p in population.persons.values() if where(p) and p.ssin not in special and not p.replaced_by)


def employed_with_prevention_service(population: Population) -> tuple[SimulatedPerson, SimulatedEmployer]:
    """A person with an employer affiliated to a prevention service, and that employer."""
    employed = person(population, lambda p: any(population.employers[e].prevention_services for e in p.employers))
    employer = next(e for e in employed.employers if population.employers[e].prevention_services)
    return employed, population.employers[employer]


async def call(client: httpx.AsyncClient, token: str, ssin: str, path: str = "/rp/v1/probe/persons") -> httpx.Response:
    return await client.post(path, json={"ssin": ssin}, headers={"Authorization": f"Bearer {token}"})


async def audit_rows(connection: AsyncConnection) -> list[tuple[str, str, str]]:
    rows = await connection.execute(text("SELECT person_ssin, outcome, reason FROM audit_event ORDER BY occurred_at"))
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_each_organisation_type_reaches_its_linked_person(
    probe: httpx.AsyncClient, tokens: TokenFactory, population: Population, connection: AsyncConnection
) -> None:
    insured = person(population, lambda p: p.oa_number == 300)
    registered = person(
        population, lambda p: any(r == tokens.organisation("Forem").enterprise_number for r, _ in p.registrations)
    )
    employed, service = employed_with_prevention_service(population)
    cases = [
        (tokens.token("Solidaris", ["administrative"]), insured.ssin, "insurerAffiliation"),
        (tokens.token("Forem", ["referenceAdvisor"]), registered.ssin, "regionalRegistration"),
        (tokens.token(service.prevention_services[0], ["nurse"]), employed.ssin, "employerAffiliation"),
        (tokens.token("INAMI", ["socialExpert"]), insured.ssin, "inamiMission"),
    ]
    for token, ssin, reason in cases:
        response = await call(probe, token, ssin)
        assert response.status_code == 200, (reason, response.text)
        assert response.json() == {"reason": reason}
    assert [(ssin, outcome, reason) for ssin, outcome, reason in await audit_rows(connection)] == [
        (ssin, "permit", reason) for _, ssin, reason in cases
    ]


async def test_denials_are_404_and_audited(
    probe: httpx.AsyncClient, tokens: TokenFactory, population: Population, connection: AsyncConnection
) -> None:
    insured_elsewhere = person(population, lambda p: p.oa_number == 100)
    deceased = population.persons[population.deceased_ssin]
    deceased_insurer = {100: "CM", 200: "UNMN", 300: "Solidaris", 400: "LM", 500: "OZ", 600: "CAAMI", 900: "HR Rail"}[
        deceased.oa_number or 100
    ]
    cases = [
        (tokens.token("Solidaris", ["medicalAdvisor"]), insured_elsewhere.ssin, "noLink"),
        (tokens.token(deceased_insurer, ["medicalAdvisor"]), deceased.ssin, "deceased"),
        (tokens.token("CIN", ["administrative"]), insured_elsewhere.ssin, "noLink"),
        (tokens.token("INAMI", ["socialExpert"]), population.unknown_ssin, "unknownPerson"),
    ]
    for token, ssin, _ in cases:
        response = await call(probe, token, ssin)
        assert response.status_code == 404
        assert response.json()["type"] == "urn:problem-type:belgif:resourceNotFound"
        assert ssin not in response.text
    assert [(s, o, r) for s, o, r in await audit_rows(connection)] == [(s, "deny", r) for _, s, r in cases]


async def test_inami_sees_the_deceased(probe: httpx.AsyncClient, tokens: TokenFactory, population: Population) -> None:
    response = await call(probe, tokens.token("INAMI", ["socialExpert"]), population.deceased_ssin)
    assert response.status_code == 200


async def test_a_replaced_ssin_is_followed_to_the_new_one(
    probe: httpx.AsyncClient, tokens: TokenFactory, population: Population, connection: AsyncConnection
) -> None:
    """INAMI (linked to everyone) naming an old SSIN is decided on the SSIN that replaces it, and recorded under that
    one; nothing in the answer names it."""
    old = population.persons[population.replaced_ssin]
    response = await call(probe, tokens.token("INAMI", ["socialExpert"]), old.ssin)
    assert response.status_code == 200, response.text
    assert response.json() == {"reason": "inamiMission"}
    assert str(old.replaced_by) not in response.text
    assert [(s, o, r) for s, o, r in await audit_rows(connection)] == [(old.replaced_by, "permit", "inamiMission")]


async def test_linked_caller_without_the_role_is_403(
    probe: httpx.AsyncClient, tokens: TokenFactory, population: Population, connection: AsyncConnection
) -> None:
    insured = person(population, lambda p: p.oa_number == 300)
    coordinator = tokens.token("Solidaris", ["returnToWorkCoordinator"])
    response = await call(probe, coordinator, insured.ssin, "/rp/v1/probe/persons/health")
    assert response.status_code == 403
    assert response.json()["type"] == "urn:problem-type:belgif:missingPermission"
    physician = tokens.token("Solidaris", ["medicalAdvisor"])
    assert (await call(probe, physician, insured.ssin, "/rp/v1/probe/persons/health")).status_code == 200
    assert [(o, r) for _, o, r in await audit_rows(connection)] == [
        ("deny", "roleNotAllowed"),
        ("permit", "insurerAffiliation"),
    ]


@pytest.mark.parametrize(
    ("source", "fault", "status", "problem", "reason"),
    [
        ("nationalRegister", "error", 503, "serviceUnavailable", "sourceUnavailable"),
        ("nationalRegister", "timeout", 503, "serviceUnavailable", "sourceUnavailable"),
        ("nationalRegister", "malformed", 502, "badGateway", "sourceBadResponse"),
        ("memberData", "error", 503, "serviceUnavailable", "sourceUnavailable"),
        ("memberData", "timeout", 503, "serviceUnavailable", "sourceUnavailable"),
        ("memberData", "malformed", 502, "badGateway", "sourceBadResponse"),
    ],
)
async def test_a_failing_source_is_a_denial(
    probe: httpx.AsyncClient,
    tokens: TokenFactory,
    population: Population,
    simulator: SimulatorState,
    connection: AsyncConnection,
    source: str,
    fault: str,
    status: int,
    problem: str,
    reason: str,
) -> None:
    insured = person(population, lambda p: p.oa_number == 300)
    simulator.faults[source] = fault  # type: ignore[assignment]
    response = await call(probe, tokens.token("Solidaris", ["medicalAdvisor"]), insured.ssin)
    assert response.status_code == status
    assert response.json()["type"] == f"urn:problem-type:belgif:{problem}"
    for personal in (insured.ssin, insured.family_name, insured.given_name):
        assert personal not in response.text
    assert await audit_rows(connection) == [(insured.ssin, "deny", reason)]


@pytest.mark.parametrize("fault", ["error", "timeout", "malformed"])
@pytest.mark.parametrize("source", ["jobSeeker", "dimona", "seedConnect"])
async def test_each_source_of_the_other_types_fails_closed(
    probe: httpx.AsyncClient,
    tokens: TokenFactory,
    population: Population,
    simulator: SimulatorState,
    connection: AsyncConnection,
    source: str,
    fault: str,
) -> None:
    employed, service = employed_with_prevention_service(population)
    token = (
        tokens.token("VDAB", ["referenceAdvisor"])
        if source == "jobSeeker"
        else tokens.token(service.prevention_services[0], ["occupationalPhysician"])
    )
    simulator.faults[source] = fault  # type: ignore[assignment]
    response = await call(probe, token, employed.ssin)
    assert response.status_code == (502 if fault == "malformed" else 503)
    assert employed.ssin not in response.text
    assert employed.family_name not in response.text
    assert [(outcome, reason) for _, outcome, reason in await audit_rows(connection)] == [
        ("deny", "sourceBadResponse" if fault == "malformed" else "sourceUnavailable")
    ]


async def test_concurrent_cold_requests_make_one_call_per_source(
    own_app: FastAPI,
    own_client: httpx.AsyncClient,
    tokens: TokenFactory,
    population: Population,
    simulator: SimulatorState,
) -> None:
    """50 requests at once, each with its own connection (a database of their own): one call per source."""
    include_authenticated(own_app, router)
    employed = person(population, lambda p: len(p.employers) == 2)
    service = population.employers[next(e for e in employed.employers if population.employers[e].prevention_services)]
    simulator.latency_ms.update({"nationalRegister": 50, "dimona": 50, "seedConnect": 50})
    token = tokens.token(service.prevention_services[0], ["occupationalPhysician"])
    responses = await asyncio.gather(*(call(own_client, token, employed.ssin) for _ in range(50)))
    async with own_app.state.engine.connect() as connection:
        audited = await connection.scalar(text("SELECT count(*) FROM audit_event WHERE outcome = 'permit'"))
    assert {r.status_code for r in responses} == {200}
    assert audited == 50
    assert simulator.calls["nationalRegister"] == 1
    assert simulator.calls["dimona"] == 1
    assert simulator.calls["seedConnect"] == len(employed.employers)  # one per employer, not per request


async def test_links_come_from_the_cache_the_second_time(
    probe: httpx.AsyncClient, tokens: TokenFactory, population: Population, simulator: SimulatorState
) -> None:
    insured = person(population, lambda p: p.oa_number == 300)
    token = tokens.token("Solidaris", ["medicalAdvisor"])
    assert (await call(probe, token, insured.ssin)).status_code == 200
    simulator.faults["memberData"] = "error"  # would deny, if it were asked
    assert (await call(probe, token, insured.ssin)).status_code == 200
    assert simulator.calls["memberData"] == 1


async def test_requests_do_not_starve_each_other_of_connections(
    own_database: URL,
    settings: Settings,
    simulator_app: FastAPI,
    simulator: SimulatorState,
    tokens: TokenFactory,
    population: Population,
) -> None:
    """Each request holds its session's connection while its links are fetched and cached: on one shared pool of
    two, eight cold requests at once would each wait for a connection another holds (the pool's 30 s timeout)."""
    small = settings.model_copy(
        update={
            "database_url": own_database.render_as_string(hide_password=False),
            "db_pool_size": 2,
            "db_pool_max_overflow": 0,
        }
    )
    app = create_app(small, upstream_transport=httpx.ASGITransport(app=simulator_app))
    insured = [p for p in population.persons.values() if p.oa_number == 300 and not p.replaced_by][:8]
    headers = {"Authorization": f"Bearer {tokens.token('Solidaris', ['returnToWorkCoordinator'])}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://rp.test", headers=headers) as client:
            opened = await asyncio.wait_for(
                asyncio.gather(
                    *(
                        client.post("/rp/v1/dossiers", json={"ssin": p.ssin, "start": "registrationForm"})
                        for p in insured
                    )
                ),
                10,
            )
    assert [response.status_code for response in opened] == [201] * len(insured)


unauthenticated = api_router(prefix="/unauthenticated-probe")
unauthenticated.add_api_route("/persons", consult, methods=["POST"])


async def test_a_guard_outside_an_authenticated_router_fails_closed(
    app: FastAPI, client: httpx.AsyncClient, tokens: TokenFactory, population: Population, connection: AsyncConnection
) -> None:
    """The guard reads the principal the router's authentication established: on a router without it, even a valid
    token gets 401 and nobody is looked up."""
    app.include_router(unauthenticated)
    insured = person(population, lambda p: p.oa_number == 300)
    response = await call(
        client, tokens.token("Solidaris", ["administrative"]), insured.ssin, "/unauthenticated-probe/persons"
    )
    assert response.status_code == 401
    assert response.json()["type"] == "urn:problem-type:belgif:noAccessToken"
    assert await audit_rows(connection) == []
