"""One authentic source down must not stop every organisation from reading dossiers (issue 15, item 4).

For every source × fault × person-scoped read × organisation type that reads: a source the access decision needs
fails closed (503 ``serviceUnavailable`` for an error or a timeout, 502 ``badGateway`` for a malformed answer); a
source used only to enrich the dossier leaves its block null and is named in ``unavailableSources``; never a 500.
A request's submission, which needs MemberData and JobSeeker to know its parties, fails closed too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_args

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from rp_api.app import create_app
from rp_api.authz.links import SOURCES
from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.visibility import viewers_of, visible
from rp_api.models.registration_form import RegistrationForm
from rp_api.models.request import Request
from rp_api.repositories import addressees
from rp_api.repositories import dossiers as dossier_repository
from rp_api.repositories import registration_forms as form_repository
from rp_api.repositories import requests as request_repository
from rp_api.schemas.dossier import AuthenticSource
from rp_api.settings import Settings
from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import INSURER_BY_OA, Caller
from tests.token_factory import TokenFactory

FAULTS = {
    "error": (503, "serviceUnavailable"),
    "timeout": (503, "serviceUnavailable"),
    "malformed": (502, "badGateway"),
}
READS = ("openDossier", "getDossier", "getRegistrationForm", "getRequest")
DECISION_NEEDS = {
    "insurer": {"nationalRegister", "memberData"},
    "regionalService": {"nationalRegister", "jobSeeker"},
    "preventionService": {"nationalRegister", "dimona", "seedConnect"},
    "inami": {"nationalRegister"},
}
"""What the access decision of each organisation type needs (rp_api.authz.links)."""
ENRICHED_FROM = {"nationalRegister", "memberData", "jobSeeker", "dimona", "seedConnect"}
WITH_TRIO = {"insurer", "preventionService"}  # they see trioDossierExists: pseudonymisation, then TRIO
BLOCK_OF = {
    "memberData": "insurer",
    "jobSeeker": "regionalServices",
    "dimona": "employers",
    "pseudonymisation": "trioDossierExists",
    "trio": "trioDossierExists",
}
UPSTREAM_TIMEOUT_S = 0.1
"""This module's time bound of one attempt (the suite's is 0.3 s): ~60 of its cases wait for a timeout, twice."""


@pytest.fixture
def app(settings: Settings, simulator_app: FastAPI) -> FastAPI:
    upstream = settings.upstream.model_copy(update={"timeout_s": UPSTREAM_TIMEOUT_S})
    return create_app(
        settings.model_copy(update={"upstream": upstream}), upstream_transport=httpx.ASGITransport(app=simulator_app)
    )


@dataclass(frozen=True)
class Subject:
    """A person every source knows something about, and one reader of each organisation type."""

    person: SimulatedPerson
    insurer: str
    regional_service: str
    prevention_service: str


@pytest.fixture
def subject(population: Population, tokens: TokenFactory) -> Subject:
    person = next(
        p
        for p in population.persons.values()
        if p.oa_number in INSURER_BY_OA
        and p.registrations
        and len(p.employers) == 1
        and population.employers[p.employers[0]].prevention_services
        and p.trio_dossier
        and not p.death_date
        and not p.replaced_by
        and p.ssin not in {population.deceased_ssin, population.replaced_ssin}
    )
    return Subject(
        person,
        tokens.organisation(INSURER_BY_OA[person.oa_number or 0]).enterprise_number,
        person.registrations[0][0],
        population.employers[person.employers[0]].prevention_services[0],
    )


READER_ROLE = {
    "insurer": "medicalAdvisor",
    "regionalService": "referenceAdvisor",
    "preventionService": "occupationalPhysician",
    "inami": "medicalInspector",
}


def reader(client: httpx.AsyncClient, tokens: TokenFactory, subject: Subject, organisation_type: str) -> Caller:
    organisation = {
        "insurer": subject.insurer,
        "regionalService": subject.regional_service,
        "preventionService": subject.prevention_service,
        "inami": "INAMI",
    }[organisation_type]
    return Caller(client, tokens.token(organisation, [READER_ROLE[organisation_type]]))


async def prepared(connection: AsyncConnection, subject: Subject) -> dict[str, str]:
    """The person's dossier with a submitted form and a request of the insurer, written directly (through the
    API, the first call alone fills the link cache: ~0.3 s a case, 84 cases)."""
    insurer = subject.insurer
    session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    dossier, _ = await dossier_repository.open_for(session, subject.person.ssin)
    await dossier_repository.join(session, dossier.id, insurer)
    form = await form_repository.add(
        session,
        RegistrationForm(
            id=uuid.uuid4(),
            dossier_id=dossier.id,
            routing="standard",
            status="submitted",
            created_by_organisation=insurer,
            created_by_type="insurer",
            created_by_role="returnToWorkCoordinator",
            submitted_at=datetime.now(UTC),
            expectations="Guidance towards a training in logistics",
            insurer_contacts={},
        ),
    )
    request = await request_repository.add(
        session,
        Request(
            id=uuid.uuid4(),
            dossier_id=dossier.id,
            type="coaching",
            status="atInami",
            requester_organisation=insurer,
            requester_type="insurer",
            requester_role="returnToWorkCoordinator",
            trainings=[],
            insurer_contacts={},
        ),
    )
    await addressees.add(
        session,
        resource_type=addressees.REQUEST,
        resource_id=request.id,
        dossier_id=dossier.id,
        organisations={insurer, subject.regional_service},
    )
    await session.commit()  # releases the savepoint: the test's transaction still holds it all
    await session.close()
    return {"dossier": str(dossier.id), "form": str(form.id), "request": str(request.id)}


async def read(caller: Caller, name: str, ids: dict[str, str], ssin: str) -> httpx.Response:
    match name:
        case "openDossier":
            return await caller.post("/dossiers", {"ssin": ssin})
        case "getDossier":
            return await caller.get(f"/dossiers/{ids['dossier']}")
        case "getRegistrationForm":
            return await caller.get(f"/registrationForms/{ids['form']}")
        case _:
            return await caller.get(f"/requests/{ids['request']}")


def assert_degraded(dossier: dict[str, Any], organisation_type: str, source: str) -> None:
    """The dossier shows what is there; the failed source's block is null and the source is named."""
    with_trio = organisation_type in WITH_TRIO
    failed = source in ENRICHED_FROM or (with_trio and source in {"pseudonymisation", "trio"})
    assert dossier["unavailableSources"] == ([source] if failed else [])
    assert dossier["person"]["familyName"]  # the National Register answered (the decision needed it)
    expected_null = BLOCK_OF.get(source) if failed else None
    viewers = viewers_of(OrganisationType(organisation_type), {Role(READER_ROLE[organisation_type])})
    for block in ("insurer", "employers", "regionalServices", "trioDossierExists"):
        if not visible(f"dossier.{block}", viewers):  # not for this reader (the visibility table)
            assert block not in dossier
        elif block == expected_null:
            assert dossier[block] is None, block
        elif block == "trioDossierExists":
            assert dossier[block] is True
        else:
            assert dossier[block], block
    services = [employer["preventionServices"] for employer in dossier.get("employers") or []]
    if failed and source == "seedConnect" and "employers" in dossier:
        assert services == [None]
    elif dossier.get("employers") is not None:
        assert services
        assert all(services)


def test_the_api_names_every_source_the_resolver_knows() -> None:
    assert set(get_args(AuthenticSource)) == set(SOURCES)


@pytest.mark.parametrize("organisation_type", list(DECISION_NEEDS))
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("source", SOURCES)
async def test_a_failing_source_fails_the_decision_or_degrades_the_dossier(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    simulator: SimulatorState,
    tokens: TokenFactory,
    subject: Subject,
    source: str,
    fault: str,
    organisation_type: str,
) -> None:
    ids = await prepared(connection, subject)
    simulator.faults[source] = fault  # type: ignore[assignment]
    caller = reader(client, tokens, subject, organisation_type)
    for name in READS:
        response = await read(caller, name, ids, subject.person.ssin)
        case = (name, response.text)
        if source in DECISION_NEEDS[organisation_type]:
            status, problem = FAULTS[fault]
            assert response.status_code == status, case
            assert response.json()["type"] == f"urn:problem-type:belgif:{problem}", case
            assert subject.person.ssin not in response.text
            continue
        if organisation_type == "preventionService" and name in ("getRegistrationForm", "getRequest"):
            assert response.status_code == 404, case  # the insurer's: not a form it took part in (26/060 §52)
            continue
        assert response.status_code == 200, case
        if name in ("openDossier", "getDossier"):
            assert_degraded(response.json(), organisation_type, source)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize(
    ("requester", "source"),
    [("insurer", "jobSeeker"), ("regionalService", "memberData"), ("insurer", "dimona")],
)
async def test_a_request_needs_the_sources_of_its_parties(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    simulator: SimulatorState,
    tokens: TokenFactory,
    subject: Subject,
    requester: str,
    source: str,
    fault: str,
) -> None:
    """The parties of a request (who will read its decision and hours) come from MemberData and JobSeeker: without
    them the submission fails closed, never a 500 nor a request with some parties missing. Dimona is not needed."""
    ids = await prepared(connection, subject)
    simulator.faults[source] = fault  # type: ignore[assignment]
    if requester == "insurer":
        caller, body = Caller(client, tokens.token(subject.insurer, ["medicalAdvisor"])), {"type": "coaching"}
    else:
        caller = reader(client, tokens, subject, requester)
        body = {"type": "coaching", "registrationFormId": ids["form"]}
    before = await connection.scalar(text("SELECT count(*) FROM request"))
    response = await caller.post(f"/dossiers/{ids['dossier']}/requests", body)
    if source == "dimona":
        assert response.status_code == 201, response.text
        return
    status, problem = FAULTS[fault]
    assert (response.status_code, response.json()["type"]) == (status, f"urn:problem-type:belgif:{problem}")
    assert await connection.scalar(text("SELECT count(*) FROM request")) == before


async def test_the_log_names_the_source_and_the_failure_only(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    simulator: SimulatorState,
    tokens: TokenFactory,
    subject: Subject,
    logged: Any,
) -> None:
    ids = await prepared(connection, subject)
    simulator.faults["trio"] = "malformed"
    simulator.faults["jobSeeker"] = "error"
    logged()
    caller = reader(client, tokens, subject, "insurer")
    response = await caller.get(f"/dossiers/{ids['dossier']}")
    assert response.status_code == 200
    assert response.json()["unavailableSources"] == ["jobSeeker", "trio"]
    lines = logged()
    failures = [line for line in lines if line["event"] == "enrichment_source_failed"]
    assert {(line["source"], line["failure"]) for line in failures} == {
        ("jobSeeker", "unavailable"),
        ("trio", "badResponse"),
    }
    person = subject.person
    for line in lines:
        for personal in (person.ssin, person.family_name):
            assert personal not in str(line)
