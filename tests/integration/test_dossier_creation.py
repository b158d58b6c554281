"""Dossiers are created by whoever starts a trajectory, never by a lookup, never for a deceased person
(:mod:`rp_api.domain.dossier_creation`): ``POST /dossiers {ssin}`` finds the dossier or answers 404 for everyone;
``POST /dossiers {ssin, start}`` creates it for the roles that start a registration form or a request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import INSURER_BY_OA, Caller
from tests.integration.test_one_path_to_a_person import records_of
from tests.token_factory import TokenFactory

NOT_FOUND = "urn:problem-type:belgif:resourceNotFound"


@pytest.fixture
def subject(population: Population) -> SimulatedPerson:
    """A living person linked to one organisation of each type: an insurer, a regional service, and an employer
    affiliated to a prevention service."""
    return next(
        p
        for p in population.persons.values()
        if p.oa_number in INSURER_BY_OA
        and p.registrations
        and any(population.employers[e].prevention_services for e in p.employers)
        and not p.death_date
        and not p.replaced_by
    )


def organisation_of(kind: str, person: SimulatedPerson, population: Population) -> str:
    """The person's organisation of this kind (a name or an enterprise number the token factory knows)."""
    match kind:
        case "insurer":
            return INSURER_BY_OA[person.oa_number or 0]
        case "regional":
            return person.registrations[0][0]
        case "prevention":
            return next(
                population.employers[e].prevention_services[0]
                for e in person.employers
                if population.employers[e].prevention_services
            )
    return "INAMI"


def as_(
    client: httpx.AsyncClient, tokens: TokenFactory, population: Population, person: SimulatedPerson, who: str
) -> Caller:
    kind, role = who.split(":")
    return Caller(client, tokens.token(organisation_of(kind, person, population), [role]))


async def dossiers_of(connection: AsyncConnection, ssin: str) -> int:
    count = await connection.scalar(text("SELECT count(*) FROM dossier WHERE ssin = :ssin"), {"ssin": ssin})
    return int(count or 0)


def opening(ssin: str, start: str | None = None) -> dict[str, Any]:
    return {"ssin": ssin} | ({"start": start} if start else {})


LINKED_CALLERS = [
    "insurer:returnToWorkCoordinator",
    "insurer:medicalAdvisor",
    "regional:referenceAdvisor",
    "prevention:occupationalPhysician",
    "inami:socialExpert",
    "inami:medicalInspector",
]


@pytest.mark.parametrize("who", LINKED_CALLERS)
async def test_a_lookup_never_creates_a_dossier(
    who: str,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    population: Population,
    subject: SimulatedPerson,
    connection: AsyncConnection,
) -> None:
    caller = as_(client, tokens, population, subject, who)
    response = await caller.post("/dossiers", opening(subject.ssin))
    assert response.status_code == 404, response.text
    assert response.json()["type"] == NOT_FOUND
    assert subject.ssin not in response.text
    # The same answer as for a person the caller may not see: a lookup tells nobody whether a trajectory exists.
    other_insurer = "CM" if subject.oa_number != 100 else "Solidaris"
    stranger = await Caller(client, tokens.token(other_insurer, ["medicalAdvisor"])).post(
        "/dossiers", opening(subject.ssin)
    )
    assert (stranger.status_code, stranger.json()["title"]) == (404, response.json()["title"])
    assert await dossiers_of(connection, subject.ssin) == 0
    [(ssin, operation, outcome, reason, status, _)] = await records_of(connection, response)
    assert (ssin, operation, outcome, reason, status) == (subject.ssin, "openDossier", "deny", "notFound", 404)


STARTERS = [
    ("insurer:returnToWorkCoordinator", "registrationForm"),
    ("insurer:returnToWorkCoordinator", "request"),
    ("insurer:medicalAdvisor", "request"),
    ("insurer:multidisciplinaryTeam", "registrationForm"),
    ("insurer:administrative", "registrationForm"),
    ("regional:referenceAdvisor", "registrationForm"),
    ("prevention:occupationalPhysician", "registrationForm"),
]


@pytest.mark.parametrize(("who", "start"), STARTERS)
async def test_whoever_starts_a_trajectory_creates_the_dossier(
    who: str,
    start: str,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    population: Population,
    subject: SimulatedPerson,
    connection: AsyncConnection,
) -> None:
    caller = as_(client, tokens, population, subject, who)
    created = await caller.post("/dossiers", opening(subject.ssin, start))
    assert created.status_code == 201, created.text
    dossier = created.json()["id"]
    assert created.headers["Location"] == f"/rp/v1/dossiers/{dossier}"
    assert [r[2:5] for r in await records_of(connection, created)] == [("permit", r_link(who), 201)]
    again = await caller.post("/dossiers", opening(subject.ssin, start))
    assert (again.status_code, again.json()["id"]) == (200, dossier)
    for other in ("insurer:returnToWorkCoordinator", "regional:referenceAdvisor", "inami:socialExpert"):
        found = await as_(client, tokens, population, subject, other).post("/dossiers", opening(subject.ssin))
        assert (found.status_code, found.json()["id"]) == (200, dossier), other
    assert await dossiers_of(connection, subject.ssin) == 1


def r_link(who: str) -> str:
    return {
        "insurer": "insurerAffiliation",
        "regional": "regionalRegistration",
        "prevention": "employerAffiliation",
    }.get(who.split(":")[0], "inamiMission")


CANNOT_START = [
    ("insurer:administrative", "request"),  # fills forms, asks nothing
    ("insurer:multidisciplinaryTeam", "request"),
    ("regional:referenceAdvisor", "request"),  # a regional service asks on a registration form: it starts with one
    ("prevention:nurse", "registrationForm"),
    ("prevention:administrative", "registrationForm"),
    ("prevention:occupationalPhysician", "request"),
    ("inami:socialExpert", "registrationForm"),  # INAMI decides; it starts no trajectory
    ("inami:medicalInspector", "request"),
]


@pytest.mark.parametrize("exists", [False, True], ids=["no dossier", "a dossier"])
@pytest.mark.parametrize(("who", "start"), CANNOT_START)
async def test_a_role_that_starts_no_such_trajectory_is_refused(
    who: str,
    start: str,
    exists: bool,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    population: Population,
    subject: SimulatedPerson,
    connection: AsyncConnection,
) -> None:
    if exists:
        starter = as_(client, tokens, population, subject, "insurer:returnToWorkCoordinator")
        assert (await starter.post("/dossiers", opening(subject.ssin, "registrationForm"))).status_code == 201
    response = await as_(client, tokens, population, subject, who).post("/dossiers", opening(subject.ssin, start))
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "urn:problem-type:belgif:missingPermission"
    assert subject.ssin not in response.text
    assert await dossiers_of(connection, subject.ssin) == int(exists)
    [(_, _, outcome, reason, status, _)] = await records_of(connection, response)
    assert (outcome, reason, status) == ("deny", "roleNotAllowed", 403)


async def test_a_list_manager_starts_nothing(
    client: httpx.AsyncClient, tokens: TokenFactory, subject: SimulatedPerson, connection: AsyncConnection
) -> None:
    lists = Caller(client, tokens.token(subject.registrations[0][0], ["listManager"]))
    for start in (None, "registrationForm", "request"):
        response = await lists.post("/dossiers", opening(subject.ssin, start))
        assert response.status_code == 403, response.text
    assert await dossiers_of(connection, subject.ssin) == 0


async def test_never_for_a_deceased_person(
    client: httpx.AsyncClient, tokens: TokenFactory, population: Population, connection: AsyncConnection
) -> None:
    deceased = population.persons[population.deceased_ssin]
    insurer = Caller(client, tokens.token(INSURER_BY_OA[deceased.oa_number or 100], ["returnToWorkCoordinator"]))
    inami = Caller(client, tokens.token("INAMI", ["socialExpert"]))
    for caller, start, status in (
        (insurer, "registrationForm", 404),  # the person guard: closed to everyone but INAMI
        (insurer, "request", 404),
        (insurer, None, 404),
        (inami, None, 404),  # INAMI sees the deceased, but a lookup creates nothing
        (inami, "registrationForm", 403),  # and INAMI starts no trajectory
    ):
        response = await caller.post("/dossiers", opening(deceased.ssin, start))
        assert response.status_code == status, (start, response.text)
        assert "death" not in response.text.lower()
    assert await dossiers_of(connection, deceased.ssin) == 0


async def test_a_creation_replayed_with_its_idempotency_key(
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    population: Population,
    subject: SimulatedPerson,
    connection: AsyncConnection,
) -> None:
    caller = as_(client, tokens, population, subject, "insurer:returnToWorkCoordinator")
    key = {"Idempotency-Key": "start-once"}
    first = await caller.post("/dossiers", opening(subject.ssin, "registrationForm"), **key)
    assert first.status_code == 201, first.text
    replay = await caller.post("/dossiers", opening(subject.ssin, "registrationForm"), **key)
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed")) == (201, "true")
    assert replay.json()["id"] == first.json()["id"]
    assert [r[2] for r in await records_of(connection, replay)] == ["permit"]  # a replay is a read: audited
    other_body = await caller.post("/dossiers", opening(subject.ssin), **key)
    assert other_body.status_code == 422, other_body.text  # the key names another call
    assert await dossiers_of(connection, subject.ssin) == 1


@pytest.mark.parametrize("start", ["trioHandOver", "", 1, "REQUEST"])
async def test_start_is_one_of_the_trajectories(
    start: Any,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    population: Population,
    subject: SimulatedPerson,
    connection: AsyncConnection,
) -> None:
    insurer = as_(client, tokens, population, subject, "insurer:returnToWorkCoordinator")
    response = await insurer.post("/dossiers", {"ssin": subject.ssin, "start": start})
    assert response.status_code == 400, response.text
    assert response.json()["issues"][0]["name"] == "start"
    assert await dossiers_of(connection, subject.ssin) == 0
