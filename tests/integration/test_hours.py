"""Hours performed (issue 18): reported by the party that runs the training — the regional service for the trainings
it asked for on a registration form, the insurer for those it asked for without one — and refused to every other
party (404 for a request it may not see, before 403 for one it sees but does not run, before 409 for a state);
corrections are versions; the hours lists by month or by period, keyset-paged, in JSON and CSV (the same lines),
per party of the request, each line's person re-checked (a party that lost its link does not see the line); bad
choices of lines are a clear 400."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import PHYSICIAN_CONTENT, Caller, walk
from tests.integration.test_requests_and_decisions import TRAINING, WEEK, decision, submitted_form
from tests.token_factory import TokenFactory

BAD_REQUEST = "urn:problem-type:belgif:badRequest"
SECOND_TRAINING = {**TRAINING, "provider": "VDAB Opleidingscentrum", "title": "Warehouse safety", "cost": "900.00"}
CONSENT = {"scope": "occupationalPhysicianContact", "formVersion": "RP-2026.1", "givenOn": "2026-01-15"}
COLUMNS = ["requestId", "trainingId", "month", "hours", "version", "ssin", "dossierId", "reportedBy", "reportedAt"]
"""The fields of a list line, in their order: the CSV's columns too."""
HEALTH_KEYS = {"medicalInformation", "medicalAdvice", "incapacityStartDate", "functionalCapacities"}


def month_before(month: str, count: int) -> str:
    year, number = divmod(int(month[:4]) * 12 + int(month[5:]) - 1 - count, 12)
    return f"{year:04d}-{number + 1:02d}"


MONTH = datetime.now(UTC).strftime("%Y-%m")
MONTHS = [month_before(MONTH, back) for back in (3, 2, 1, 0)]
"""Four months up to this one (hours are never reported for a month to come)."""
REGIONAL = ("VDAB", "Forem", "Actiris", "ADG")
INSURER_BY_OA = {100: "CM", 300: "Solidaris", 500: "Partenamut"}


def solidaris_and_vdab(population: Population, tokens: TokenFactory, *, employed: bool) -> list[SimulatedPerson]:
    """Living persons insured with Solidaris (300) and registered with VDAB; ``employed``: whose employer is affiliated
    to a prevention service."""
    vdab = tokens.organisation("VDAB").enterprise_number
    return [
        p
        for p in population.persons.values()
        if p.oa_number == 300
        and any(r == vdab for r, _ in p.registrations)
        and not p.replaced_by
        and not p.death_date
        and (not employed or any(population.employers[e].prevention_services for e in p.employers))
    ]


@pytest.fixture
def people(population: Population, tokens: TokenFactory) -> tuple[SimulatedPerson, SimulatedPerson]:
    """Two persons of Solidaris and VDAB, the first employed by an employer with a prevention service."""
    first = solidaris_and_vdab(population, tokens, employed=True)[0]
    second = next(p for p in solidaris_and_vdab(population, tokens, employed=False) if p.ssin != first.ssin)
    return first, second


@pytest.fixture
def c(
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    population: Population,
    people: tuple[SimulatedPerson, SimulatedPerson],
) -> dict[str, Caller]:
    person = people[0]
    registered = {number for number, _ in person.registrations}
    unregistered = next(n for n in REGIONAL if tokens.organisation(n).enterprise_number not in registered)
    prevention = next(
        population.employers[e].prevention_services[0]
        for e in person.employers
        if population.employers[e].prevention_services
    )
    made = {
        "vdab": ("VDAB", "referenceAdvisor"),
        "vdabLists": ("VDAB", "listManager"),
        "otherRegional": (unregistered, "referenceAdvisor"),
        "insurer": ("Solidaris", "returnToWorkCoordinator"),
        "insurerPhysician": ("Solidaris", "medicalAdvisor"),
        "insurerAdmin": ("Solidaris", "administrative"),
        "insurerAuditor": ("Solidaris", "auditor"),
        "otherInsurer": ("CM", "returnToWorkCoordinator"),
        "prevention": (prevention, "occupationalPhysician"),
        "expert": ("INAMI", "socialExpert"),
        "inspector": ("INAMI", "medicalInspector"),
    }
    return {name: Caller(client, tokens.token(org, [role])) for name, (org, role) in made.items()}


def number(tokens: TokenFactory, name: str) -> str:
    return tokens.organisation(name).enterprise_number


async def approve(c: dict[str, Caller], *request_ids: str) -> None:
    round_ = await c["expert"].post("/decisionRounds", {"week": WEEK, "decisions": [decision(i) for i in request_ids]})
    assert round_.status_code == 201, round_.text


async def regional_training(c: dict[str, Caller], person: SimulatedPerson, *, approved: bool = True) -> str:
    """A training VDAB asked for on the insurer's registration form (two trainings, t1 and t2), validated by the
    insurer and (unless ``approved`` is off) approved by INAMI."""
    dossier, form = await submitted_form(c, person)
    body = {"type": "training", "registrationFormId": form, "trainings": [TRAINING, SECOND_TRAINING]}
    created = await c["vdab"].post(f"/dossiers/{dossier}/requests", body)
    assert created.status_code == 201, created.text
    request_id = str(created.json()["id"])
    validated = await c["insurer"].post(
        f"/requests/{request_id}/insurerValidation",
        {"validated": True, "motivation": "Fits the plan"},
        **{"If-Match": created.headers["ETag"]},
    )
    assert validated.status_code == 200, validated.text
    if approved:
        await approve(c, request_id)
    return request_id


async def insurer_training(c: dict[str, Caller], person: SimulatedPerson) -> str:
    """A training the insurer's médecin-conseil asked for without a registration form (one training, t1), approved."""
    dossier = (await c["insurer"].post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    body = {"type": "training", "trainingProject": "Back to logistics", "trainings": [TRAINING]}
    created = await c["insurerPhysician"].post(f"/dossiers/{dossier}/requests", body)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "atInami"
    request_id = str(created.json()["id"])
    await approve(c, request_id)
    return request_id


def line(request_id: str, hours: int | str, *, training: str = "t1", month: str = MONTH) -> dict[str, Any]:
    return {"requestId": request_id, "trainingId": training, "month": month, "hours": hours}


async def report(caller: Caller, *lines: dict[str, Any]) -> httpx.Response:
    return await caller.post("/hoursReports", {"items": list(lines)})


async def stored(connection: AsyncConnection) -> list[tuple[Any, ...]]:
    rows = await connection.execute(
        text(
            "SELECT request_id::text, training_id, month, hours, version, reported_by FROM hours_report"
            " ORDER BY 1, 2, 3, 5"
        )
    )
    return [tuple(row) for row in rows]


async def records_of(connection: AsyncConnection, response: httpx.Response) -> list[tuple[Any, ...]]:
    """The audit records of one call (its trace id): (person, operation, outcome, reason, status)."""
    rows = await connection.execute(
        text(
            "SELECT person_ssin, operation, outcome, reason, status FROM audit_event WHERE trace_id = :trace"
            " ORDER BY seq"
        ),
        {"trace": response.headers["BelGov-Trace-Id"]},
    )
    return [tuple(row) for row in rows]


# --- who reports ----------------------------------------------------------------------------------------------------


async def test_the_regional_service_reports_the_training_it_asked_for_and_corrections_are_versions(
    c: dict[str, Caller],
    people: tuple[SimulatedPerson, SimulatedPerson],
    tokens: TokenFactory,
    connection: AsyncConnection,
) -> None:
    person = people[0]
    request_id = await regional_training(c, person)
    first = await report(c["vdab"], line(request_id, 32), line(request_id, 12, training="t2"))
    assert first.status_code == 200, first.text
    assert [(i["trainingId"], i["hours"], i["version"]) for i in first.json()["items"]] == [
        ("t1", "32.00", 1),
        ("t2", "12.00", 1),
    ]
    assert {i["reportedBy"] for i in first.json()["items"]} == {number(tokens, "VDAB")}
    assert await records_of(connection, first) == [(person.ssin, "reportHours", "permit", "regionalRegistration", 200)]
    same = await report(c["vdab"], line(request_id, "32.00"))
    assert [(i["hours"], i["version"]) for i in same.json()["items"]] == [("32.00", 1)]  # no change, no version
    corrected = await report(c["vdab"], line(request_id, 30))
    assert [(i["hours"], i["version"]) for i in corrected.json()["items"]] == [("30.00", 2)]
    again = await report(c["vdab"], line(request_id, 28))
    assert [(i["hours"], i["version"]) for i in again.json()["items"]] == [("28.00", 3)]

    vdab = number(tokens, "VDAB")
    assert [(row[1], str(row[3]), row[4], row[5]) for row in await stored(connection)] == [
        ("t1", "32.00", 1, vdab),
        ("t1", "30.00", 2, vdab),
        ("t1", "28.00", 3, vdab),
        ("t2", "12.00", 1, vdab),
    ]  # every version kept
    listed = (await c["insurer"].get(f"/hoursLists?month={MONTH}")).json()["items"]
    assert [(i["trainingId"], i["hours"], i["version"]) for i in sorted(listed, key=lambda i: i["trainingId"])] == [
        ("t1", "28.00", 3),
        ("t2", "12.00", 1),
    ]  # the current versions only


async def test_the_insurer_reports_the_training_it_asked_for_without_a_form(
    c: dict[str, Caller],
    people: tuple[SimulatedPerson, SimulatedPerson],
    tokens: TokenFactory,
    connection: AsyncConnection,
) -> None:
    person = people[0]
    request_id = await insurer_training(c, person)
    # asked by its médecin-conseil; its return-to-work coordinator reports (the organisation runs it)
    first = await report(c["insurer"], line(request_id, 40))
    assert first.status_code == 200, first.text
    assert [(i["hours"], i["version"], i["reportedBy"]) for i in first.json()["items"]] == [
        ("40.00", 1, number(tokens, "Solidaris"))
    ]
    assert await records_of(connection, first) == [(person.ssin, "reportHours", "permit", "insurerAffiliation", 200)]
    corrected = await report(c["insurerPhysician"], line(request_id, 38))
    assert corrected.status_code == 200, corrected.text
    assert [(i["hours"], i["version"]) for i in corrected.json()["items"]] == [("38.00", 2)]
    assert len(await stored(connection)) == 2

    # VDAB, the person's regional service, does not run it (403, no longer 409) but reads its line
    refused = await report(c["vdab"], line(request_id, 1))
    assert refused.status_code == 403, refused.text
    assert refused.json()["items"] == [{"name": "items[0].requestId", "reason": refused.json()["items"][0]["reason"]}]
    for party in ("vdabLists", "vdab", "insurer", "expert"):
        listed = (await c[party].get(f"/hoursLists?month={MONTH}")).json()["items"]
        assert [(i["requestId"], i["hours"], i["version"]) for i in listed] == [(request_id, "38.00", 2)], party
    assert (await c["otherInsurer"].get(f"/hoursLists?month={MONTH}")).json()["items"] == []
    assert (await c["otherRegional"].get(f"/hoursLists?month={MONTH}")).json()["items"] == []


REFUSALS: list[tuple[str, str, int, str, str]] = [
    # (caller, whose training, status, the person's audit record: outcome, reason)
    ("vdab", "insurer", 403, "deny", "roleNotAllowed"),  # the regional service on the insurer's training
    ("insurer", "regional", 403, "deny", "roleNotAllowed"),  # the insurer on the regional service's training
    ("insurerPhysician", "regional", 403, "deny", "roleNotAllowed"),
    ("insurerAdmin", "insurer", 403, "deny", "roleNotAllowed"),  # its organisation's, but a role that may not ask
    ("insurerAuditor", "insurer", 403, "deny", "auditOnlyRole"),
    ("vdabLists", "regional", 403, "deny", "roleNotAllowed"),  # a list manager only reads lists
    ("expert", "regional", 403, "deny", "roleNotAllowed"),  # INAMI
    ("inspector", "insurer", 403, "deny", "roleNotAllowed"),
    ("otherRegional", "regional", 404, "deny", "noLink"),  # another regional service: the person is not its
    ("otherRegional", "insurer", 404, "deny", "noLink"),
    ("otherInsurer", "insurer", 404, "deny", "noLink"),
    ("prevention", "regional", 404, "deny", "notFound"),  # linked by the employer, but took no part in it
    ("prevention", "insurer", 404, "deny", "notFound"),
]


@pytest.mark.parametrize(
    ("who", "whose", "status", "outcome", "reason"), REFUSALS, ids=[f"{r[0]}-on-{r[1]}" for r in REFUSALS]
)
async def test_every_other_party_is_refused_and_nothing_is_recorded(
    c: dict[str, Caller],
    people: tuple[SimulatedPerson, SimulatedPerson],
    connection: AsyncConnection,
    who: str,
    whose: str,
    status: int,
    outcome: str,
    reason: str,
) -> None:
    person = people[0]
    request_id = await (regional_training(c, person) if whose == "regional" else insurer_training(c, person))
    response = await report(c[who], line(request_id, 10))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert person.ssin not in response.text
    if reason != "auditOnlyRole":  # an auditor's token gets the route's own 403, whatever the items
        assert [item["name"] for item in response.json()["items"]] == ["items[0].requestId"]
    assert await records_of(connection, response) == [(person.ssin, "reportHours", outcome, reason, status)]
    assert await stored(connection) == []


async def test_a_prevention_service_that_took_part_is_refused_with_403(
    c: dict[str, Caller], people: tuple[SimulatedPerson, SimulatedPerson], connection: AsyncConnection
) -> None:
    """The occupational physician created the registration form VDAB asked the training on: it sees the request,
    but does not run it."""
    person = people[0]
    dossier = (await c["prevention"].post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()
    assert (await c["prevention"].post(f"/dossiers/{dossier['id']}/consents", CONSENT)).status_code == 201
    created = await c["prevention"].post(f"/dossiers/{dossier['id']}/registrationForms", PHYSICIAN_CONTENT)
    assert created.status_code == 201, created.text
    form = created.json()["id"]
    submitted = await c["prevention"].post(
        f"/registrationForms/{form}/submit", {}, **{"If-Match": created.headers["ETag"]}
    )
    assert submitted.status_code == 200, submitted.text
    body = {"type": "training", "registrationFormId": form, "trainings": [TRAINING]}
    requested = await c["vdab"].post(f"/dossiers/{dossier['id']}/requests", body)
    assert requested.status_code == 201, requested.text
    request_id = requested.json()["id"]
    await c["insurer"].post(
        f"/requests/{request_id}/insurerValidation",
        {"validated": True, "motivation": "ok"},
        **{"If-Match": requested.headers["ETag"]},
    )
    await approve(c, request_id)
    assert (await c["prevention"].get(f"/requests/{request_id}")).status_code == 200  # it sees the request

    response = await report(c["prevention"], line(request_id, 10))
    assert response.status_code == 403, response.text
    assert await records_of(connection, response) == [(person.ssin, "reportHours", "deny", "roleNotAllowed", 403)]
    assert (await report(c["vdab"], line(request_id, 10))).status_code == 200
    listed = await c["prevention"].get(f"/hoursLists?month={MONTH}")  # a party of the request: it reads the line
    assert [i["requestId"] for i in listed.json()["items"]] == [request_id]


async def test_a_batch_answers_with_its_first_refusal_naming_each_item_and_records_nothing(
    c: dict[str, Caller], people: tuple[SimulatedPerson, SimulatedPerson], connection: AsyncConnection
) -> None:
    person, other = people
    own = await regional_training(c, person)
    theirs = await insurer_training(c, person)
    waiting = await regional_training(c, other, approved=False)
    unknown = "00000000-0000-4000-8000-000000000000"

    cases: list[tuple[list[dict[str, Any]], int, list[str]]] = [
        # 404 before 403 before 409, whatever the order of the items
        ([line(own, 1), line(theirs, 1), line(unknown, 1)], 404, ["items[2].requestId"]),
        ([line(waiting, 1), line(theirs, 1), line(own, 1)], 403, ["items[1].requestId"]),
        ([line(own, 1, training="t9"), line(waiting, 1)], 409, ["items[0].trainingId", "items[1].requestId"]),
        ([line(own, 1), line(own, 1, training="t9"), line(theirs, 1, training="t2")], 403, ["items[2].requestId"]),
        ([line(own, 1), line(own, 1, training="t9")], 409, ["items[1].trainingId"]),
    ]
    for lines, status, names in cases:
        response = await report(c["vdab"], *lines)
        assert response.status_code == status, (lines, response.text)
        assert [item["name"] for item in response.json()["items"]] == names, lines
    not_approved = await report(c["vdab"], line(waiting, 1))
    assert not_approved.json()["type"] == "urn:problem-type:rp:batchItemRefused"
    assert not_approved.json()["items"] == [
        {"name": "items[0].requestId", "reason": "the request is atInami, not approved"}
    ]
    assert await stored(connection) == []  # nothing of a refused batch


async def test_a_party_that_lost_its_link_can_no_longer_report(
    c: dict[str, Caller],
    people: tuple[SimulatedPerson, SimulatedPerson],
    simulator: SimulatorState,
    forget_links: Callable[[FastAPI], Awaitable[None]],
    app: FastAPI,
    tokens: TokenFactory,
    connection: AsyncConnection,
) -> None:
    person = people[0]
    regional, own = await regional_training(c, person), await insurer_training(c, person)
    simulator.move_registrations(person.ssin, [number(tokens, "Forem")])
    simulator.move_insurer(person.ssin, 100)  # to CM
    await forget_links(app)
    for who, request_id in (("vdab", regional), ("insurer", own)):
        response = await report(c[who], line(request_id, 10))
        assert response.status_code == 404, (who, response.text)
        assert await records_of(connection, response) == [(person.ssin, "reportHours", "deny", "noLink", 404)]
    assert await stored(connection) == []


# --- the lists ------------------------------------------------------------------------------------------------------


async def every_page(caller: Caller, query: str, **headers: str) -> list[httpx.Response]:
    """Every page of the hours list, following ``next`` (JSON) or the ``Link`` header (CSV)."""
    pages: list[httpx.Response] = []
    cursor: str | None = None
    for _ in range(50):
        response = await caller.get(f"/hoursLists?{query}" + (f"&page={cursor}" if cursor else ""), **headers)
        assert response.status_code == 200, response.text
        pages.append(response)
        if "csv" in headers.get("Accept", ""):
            link = response.headers.get("link")
            cursor = link[1 : link.index(">")] if link else None
        else:
            cursor = response.json()["next"]
        if cursor is None:
            return pages
    raise AssertionError("the list does not end")


def lines_of(pages: list[httpx.Response]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page.json()["items"]]


def flat(item: dict[str, Any]) -> dict[str, str]:
    """A JSON line as its CSV row should read."""
    return {column: "" if item[column] is None else str(item[column]) for column in COLUMNS}


async def hours_everywhere(
    c: dict[str, Caller], people: tuple[SimulatedPerson, SimulatedPerson]
) -> dict[tuple[str, str, str], str]:
    """Two trainings of VDAB and one of the insurer for the first person, two of VDAB for the second, hours in each
    of :data:`MONTHS`, some corrected: ``{(request, training, month): current hours}`` (20 lines)."""
    first, second = people
    regional, own, other = (
        await regional_training(c, first),
        await insurer_training(c, first),
        await regional_training(c, second),
    )
    current: dict[tuple[str, str, str], str] = {}
    for index, month in enumerate(MONTHS):
        by_vdab = [line(r, 10 + index, training=t, month=month) for r in (regional, other) for t in ("t1", "t2")]
        by_insurer = [line(own, 20 + index, month=month)]
        assert (await report(c["vdab"], *by_vdab)).status_code == 200
        assert (await report(c["insurer"], *by_insurer)).status_code == 200
        for item in (*by_vdab, *by_insurer):
            current[(item["requestId"], item["trainingId"], month)] = f"{item['hours']}.00"
    corrections = [line(regional, 99, month=MONTHS[0]), line(other, 98, training="t2", month=MONTH)]
    assert (await report(c["vdab"], *corrections)).status_code == 200
    assert (await report(c["insurer"], line(own, 97, month=MONTHS[2]))).status_code == 200
    current[(regional, "t1", MONTHS[0])] = "99.00"
    current[(other, "t2", MONTH)] = "98.00"
    current[(own, "t1", MONTHS[2])] = "97.00"
    return current


@pytest.mark.parametrize("who", ["vdabLists", "vdab", "insurer", "expert"])
async def test_the_lists_by_month_and_by_period_page_every_line_once_in_json_and_csv(
    c: dict[str, Caller],
    people: tuple[SimulatedPerson, SimulatedPerson],
    connection: AsyncConnection,
    who: str,
) -> None:
    current = await hours_everywhere(c, people)
    assert len(current) == 20
    assert len(await stored(connection)) == 23  # three corrections kept beside the versions they correct
    ssins = {p.ssin for p in people}

    def key(item: dict[str, Any]) -> tuple[str, str, str]:
        return item["requestId"], item["trainingId"], item["month"]

    queries = {
        f"month={MONTH}&pageSize=2": {k: v for k, v in current.items() if k[2] == MONTH},
        f"from={MONTHS[0]}&to={MONTH}&pageSize=3": current,
        f"from={MONTHS[1]}&to={MONTHS[2]}&pageSize=4": {k: v for k, v in current.items() if k[2] in MONTHS[1:3]},
        f"from={MONTHS[0]}&to={MONTH}": current,  # one page (100 lines by default)
    }
    for query, expected in queries.items():
        pages = await every_page(c[who], query)
        size = int(query.partition("pageSize=")[2] or 100)
        assert all(len(page.json()["items"]) <= size for page in pages)
        assert len(pages) == -(-len(expected) // size), query  # full pages, the last one holding the rest
        items = lines_of(pages)
        assert [key(item) for item in items] == list(dict.fromkeys(key(item) for item in items)), query  # no repeat
        assert {key(item): item["hours"] for item in items} == expected, query  # no line lost, current versions
        assert [item["month"] for item in items] == sorted(item["month"] for item in items)  # (month, id) order
        assert all(list(item) == COLUMNS for item in items)  # exactly these fields: no health data
        assert {item["ssin"] for item in items} == ssins
        assert pages[0].json()["self"] == f"/rp/v1/hoursLists?{query}"

        csv_pages = await every_page(c[who], query, Accept="text/csv")
        assert all(page.headers["content-type"].startswith("text/csv") for page in csv_pages)
        readers = [csv.DictReader(io.StringIO(page.text)) for page in csv_pages]
        rows = [row for reader in readers for row in reader]
        assert all(reader.fieldnames == COLUMNS for reader in readers)
        assert rows == [flat(item) for item in items], query  # line for line the JSON's

    as_json = await c[who].get(f"/hoursLists?from={MONTHS[0]}&to={MONTH}")
    assert HEALTH_KEYS.isdisjoint(walk(as_json.json()))
    assert PHYSICIAN_CONTENT["incapacityStartDate"] not in as_json.text


async def test_the_lists_are_per_party_of_the_request(
    c: dict[str, Caller], people: tuple[SimulatedPerson, SimulatedPerson], connection: AsyncConnection
) -> None:
    current = await hours_everywhere(c, people)
    for who in ("otherInsurer", "otherRegional"):  # the persons' requests are not addressed to them
        response = await c[who].get(f"/hoursLists?from={MONTHS[0]}&to={MONTH}")
        assert response.status_code == 200, response.text
        assert response.json() == {"items": [], "self": f"/rp/v1/hoursLists?from={MONTHS[0]}&to={MONTH}", "next": None}
        assert await records_of(connection, response) == []  # no line, no person
    listed = await c["expert"].get(f"/hoursLists?from={MONTHS[0]}&to={MONTH}")
    assert len(listed.json()["items"]) == len(current)  # INAMI: every line
    # one record per person per page, whoever reads
    assert sorted(await records_of(connection, listed)) == sorted(
        (p.ssin, "listHours", "permit", "inamiMission", 200) for p in people
    )


async def test_a_party_that_lost_its_link_no_longer_sees_the_line(
    c: dict[str, Caller],
    people: tuple[SimulatedPerson, SimulatedPerson],
    simulator: SimulatorState,
    forget_links: Callable[[FastAPI], Awaitable[None]],
    app: FastAPI,
    tokens: TokenFactory,
    connection: AsyncConnection,
) -> None:
    first, second = people
    current = await hours_everywhere(c, people)
    query = f"from={MONTHS[0]}&to={MONTH}&pageSize=5"
    before = {who: lines_of(await every_page(c[who], query)) for who in ("vdabLists", "insurer")}
    assert {who: len(items) for who, items in before.items()} == {"vdabLists": 20, "insurer": 20}

    simulator.move_registrations(first.ssin, [number(tokens, "Forem")])  # the first leaves VDAB for Forem
    simulator.move_insurer(second.ssin, 100)  # the second leaves Solidaris for CM
    await forget_links(app)

    for who, gone in (("vdabLists", first), ("insurer", second)):
        pages = await every_page(c[who], query)
        items = lines_of(pages)
        assert items == [item for item in before[who] if item["ssin"] != gone.ssin], who
        kept = next(p for p in people if p is not gone)
        denied = [record for page in pages for record in await records_of(connection, page) if record[2] == "deny"]
        assert denied, who
        assert set(denied) == {(gone.ssin, "listHours", "deny", "noLink", 200)}, who
        permitted = {record[0] for page in pages for record in await records_of(connection, page)} - {gone.ssin}
        assert permitted == {kept.ssin}, who
    # the new regional service and insurer were not parties of those requests: the lines are not theirs
    for name, role in (("Forem", "listManager"), ("CM", "returnToWorkCoordinator")):
        newcomer = Caller(c["vdab"].client, tokens.token(name, [role]))
        assert (await newcomer.get(f"/hoursLists?{query}")).json()["items"] == [], name
    assert len(lines_of(await every_page(c["expert"], query))) == len(current)  # INAMI still reads every line


BAD_QUERIES: list[tuple[str, set[str | None]]] = [
    (f"month={MONTH}&from={MONTHS[0]}&to={MONTH}", {"month", "from", "to"}),  # a month and a period
    (f"month={MONTH}&from={MONTHS[0]}", {"month", "from"}),
    (f"month={MONTH}&to={MONTH}", {"month", "to"}),
    (f"from={MONTHS[0]}", {"to"}),  # half a period
    (f"to={MONTH}", {"from"}),
    ("", {None}),  # no choice at all
    ("pageSize=10", {None}),
    (f"from={MONTH}&to={MONTHS[0]}", {"to"}),  # to before from
    (f"from={month_before(MONTH, 12)}&to={MONTH}", {"to"}),  # thirteen months: longer than allowed
    (f"from=2020-01&to={MONTH}", {"to"}),
    ("month=2027-13", {"month"}),  # malformed months
    ("month=2027-00", {"month"}),
    ("month=2027-1", {"month"}),
    ("month=27-01", {"month"}),
    ("month=2027-01-01", {"month"}),
    ("month=0999-01", {"month"}),
    ("month=%C3%A9t%C3%A9", {"month"}),
    ("month=", {"month"}),
    (f"from=2027-1&to={MONTH}", {"from"}),
    (f"from={MONTHS[0]}&to=next", {"to"}),
    (f"month={MONTH}&pageSize=0", {"pageSize"}),
    (f"month={MONTH}&pageSize=501", {"pageSize"}),
    (f"month={MONTH}&pageSize=many", {"pageSize"}),
    (f"month={MONTH}&page=not-a-cursor", {"page"}),
    (f"month={MONTH}&page=" + "A" * 201, {"page"}),
    (f"month={MONTH}&page=WyIyMDI3LTAxIiwiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIl0", {"page"}),  # unsealed
]


@pytest.mark.parametrize("accept", ["application/json", "text/csv"])
@pytest.mark.parametrize(("query", "names"), BAD_QUERIES, ids=[q or "nothing" for q, _ in BAD_QUERIES])
async def test_a_bad_choice_of_lines_is_a_clear_400(
    c: dict[str, Caller], query: str, names: set[str | None], accept: str
) -> None:
    response = await c["vdabLists"].get(f"/hoursLists?{query}", Accept=accept)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == BAD_REQUEST
    assert {issue.get("name") for issue in problem["issues"]} == names
    assert all(issue.get("in") == "query" for issue in problem["issues"])


async def test_a_cursor_of_another_list_organisation_or_choice_is_a_400(
    c: dict[str, Caller], people: tuple[SimulatedPerson, SimulatedPerson]
) -> None:
    await hours_everywhere(c, people)
    mine = (await c["vdabLists"].get(f"/hoursLists?month={MONTH}&pageSize=1")).json()["next"]
    assert mine is not None
    follows = await c["vdab"].get(f"/hoursLists?month={MONTH}&pageSize=1&page={mine}")  # a colleague: the same list
    assert follows.status_code == 200, follows.text
    period = (await c["vdabLists"].get(f"/hoursLists?from={MONTHS[0]}&to={MONTH}&pageSize=1")).json()["next"]
    decisions = (await c["vdabLists"].get(f"/decisions?week={WEEK}&pageSize=1")).json()["next"]
    theirs = (await c["insurer"].get(f"/hoursLists?month={MONTH}&pageSize=1")).json()["next"]
    assert None not in (period, decisions, theirs)
    refused = {
        "another list's": f"month={MONTH}&page={decisions}",
        "another organisation's": f"month={MONTH}&page={theirs}",
        "another month's": f"month={MONTHS[2]}&page={mine}",
        "a period's outside the month": f"month={MONTH}&page={period}",  # its position is in the first month
    }
    for what, query in refused.items():
        response = await c["vdabLists"].get(f"/hoursLists?{query}")
        assert response.status_code == 400, (what, response.text)
        assert [issue["name"] for issue in response.json()["issues"]] == ["page"], what
    inside = await c["vdabLists"].get(f"/hoursLists?from={MONTHS[0]}&to={MONTH}&page={period}")
    assert inside.status_code == 200, inside.text  # the same period: the next page


async def test_a_report_of_a_month_to_come_or_twice_the_same_line_is_a_400(
    c: dict[str, Caller], people: tuple[SimulatedPerson, SimulatedPerson], connection: AsyncConnection
) -> None:
    request_id = await regional_training(c, people[0])
    next_month = month_before(MONTH, -1)
    cases = [
        ([line(request_id, 1, month=next_month)], "items[0].month"),
        ([line(request_id, 1), line(request_id, 2)], "items[0]"),
        ([line(request_id, -1)], "items[0].hours"),
        ([line(request_id, 745)], "items[0].hours"),
        ([line(request_id, 1, month="2027-13")], "items[0].month"),
        ([line(request_id, "1.234")], "items[0].hours"),
    ]
    for lines, name in cases:
        response = await report(c["vdab"], *lines)
        assert response.status_code == 400, (lines, response.text)
        assert name in {issue.get("name") for issue in response.json()["issues"]}, lines
    empty = await c["vdab"].post("/hoursReports", {"items": []})
    assert empty.status_code == 400
    assert await stored(connection) == []
