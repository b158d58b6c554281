"""Red team, issue 17 (work routing): the work lists, the feed's routed events, the dossier's close and the decision
list's new lines, attacked from outside through the HTTP API.

Each test asserts the *secure* behaviour (README "Work routing", "Work lists", "Dossiers and registration forms",
"Requests, decisions, hours", "Conversations and the change feed", "Access to a person"; DESIGN.md "one path to a
person", 404 before 403, every person-scoped call audited, no SSIN or health data in errors, no 500). Those that
fail are findings; those that pass are kept as regression tests of attacks that held.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import dataclasses
import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.domain.actors import OrganisationType
from rp_api.identifiers import make_ssin
from rp_api.simulator.population import Population, SimulatedPerson
from tests.token_factory import TokenFactory

REQUESTS = "/requests/query"
FORMS = "/registrationForms/query"
NOT_FOUND = "urn:problem-type:belgif:resourceNotFound"
FORBIDDEN = "urn:problem-type:belgif:missingPermission"
BAD_REQUEST = "urn:problem-type:belgif:badRequest"
HEALTH_KEYS = {"incapacityStartDate", "functionalCapacities", "medicalInformation", "medicalAdvice"}
MEDICAL_TEXT = "Red team: chronic lower back pain"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
REGISTRY = OrganisationRegistry.load()
INSURER_BY_OA = {100: "CM", 200: "UNMN", 300: "Solidaris", 400: "LM", 500: "OZ", 600: "CAAMI", 900: "HR Rail"}
CONTENT = {
    "expectations": "Guidance towards a training in logistics",
    "workProblems": "Cannot return to night shifts",
    "physicianQuestion": {"expectations": "Job coaching"},
}
HEALTH_CONTENT = {
    **CONTENT,
    "incapacityStartDate": "2024-03-01",
    "physicianQuestion": {"expectations": "Job coaching", "functionalCapacities": "No lifting over 5 kg"},
}
"""A form with health data: written by a physician."""
CONSENT = {
    "scope": "occupationalPhysicianContact",
    "formVersion": "RP-2026.1",
    "givenOn": (datetime.now(UTC) - timedelta(days=1)).date().isoformat(),
}
TRAINING = {
    "provider": "Syntra",
    "title": "Forklift operator",
    "startDate": "2026-09-01",
    "endDate": "2026-12-18",
    "plannedHours": 120,
    "cost": "1450.00",
}


def current_week() -> str:
    year, week, _ = datetime.now(UTC).date().isocalendar()
    return f"{year}-W{week:02d}"


WEEK = current_week()
OTHER_USER = make_ssin(date(1970, 5, 17), 211)


class Caller:
    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def post(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        return await self.client.post(
            f"/rp/v1{path}", json=body if body is not None else {}, headers={**self.headers, **headers}
        )

    async def get(self, path: str, **headers: str) -> httpx.Response:
        return await self.client.get(f"/rp/v1{path}", headers={**self.headers, **headers})


def walk(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner)


def decode_cursor(cursor: str) -> Any:
    """What a cursor tells whoever decodes it: its JSON when it is plain, else its bytes as text."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("latin-1")


def encode_cursor(*parts: Any) -> str:
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def assert_problem(response: httpx.Response, status: int, problem_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == problem_type, body
    return body


async def records_of(connection: AsyncConnection, response: httpx.Response) -> list[tuple[Any, ...]]:
    """(person, operation, outcome, reason, status) of one call's audit records, by its trace id."""
    rows = await connection.execute(
        text(
            "SELECT person_ssin, operation, outcome, reason, status FROM audit_event"
            " WHERE trace_id = :trace ORDER BY seq"
        ),
        {"trace": response.headers["BelGov-Trace-Id"]},
    )
    return [tuple(row) for row in rows]


async def forget_links(app: FastAPI, engine: AsyncEngine) -> None:
    async with engine.begin() as own:
        await own.execute(text("DELETE FROM person_link_cache"))
    app.state.link_resolver.forget()


@contextmanager
def changed(population: Population, person: SimulatedPerson, **changes: Any) -> Iterator[None]:
    """The authentic sources tell something else of the person for the time of the block."""
    population.persons[person.ssin] = dataclasses.replace(person, **changes)
    try:
        yield
    finally:
        population.persons[person.ssin] = person


def vdab_persons(population: Population, tokens: TokenFactory, count: int, oa: int = 300) -> list[SimulatedPerson]:
    vdab = tokens.organisation("VDAB").enterprise_number
    found = sorted(
        (
            p
            for p in population.persons.values()
            if p.oa_number == oa
            and not p.replaced_by
            and not p.death_date
            and any(r == vdab for r, _ in p.registrations)
        ),
        key=lambda p: p.ssin,
    )
    assert len(found) >= count
    return found[:count]


def with_prevention_service(population: Population) -> tuple[SimulatedPerson, str]:
    """A living person with an insurer, a regional registration and an employer with a prevention service."""
    for person in sorted(population.persons.values(), key=lambda p: p.ssin):
        if person.death_date or person.replaced_by or person.oa_number is None or not person.registrations:
            continue
        for employer in person.employers:
            services = population.employers[employer].prevention_services
            if services:
                return person, services[0]
    raise AssertionError("no person with a prevention service in the population")


async def open_dossier(caller: Caller, ssin: str, start: str = "registrationForm") -> str:
    """The person's dossier, created by a caller that starts a trajectory (``start`` when the API knows it)."""
    opened = await caller.post("/dossiers", {"ssin": ssin, "start": start})
    if opened.status_code == 400 and "start" in opened.text:
        opened = await caller.post("/dossiers", {"ssin": ssin})
    assert opened.status_code in (200, 201), opened.text
    return str(opened.json()["id"])


async def record_consent(caller: Caller, dossier: str) -> None:
    """The person's consent to the occupational physician's contact with the regional services (§63), where the API
    asks for one (no such endpoint: nothing to do)."""
    recorded = await caller.post(f"/dossiers/{dossier}/consents", CONSENT)
    assert recorded.status_code in (200, 201, 404, 405), recorded.text


async def submitted_form(caller: Caller, dossier: str, content: dict[str, Any] | None = None) -> str:
    created = await caller.post(f"/dossiers/{dossier}/registrationForms", content or CONTENT)
    assert created.status_code == 201, created.text
    form_id = str(created.json()["id"])
    submitted = await caller.post(f"/registrationForms/{form_id}/submit", **{"If-Match": created.headers["ETag"]})
    assert submitted.status_code == 200, submitted.text
    return form_id


async def new_request(caller: Caller, dossier: str, body: dict[str, Any]) -> httpx.Response:
    created = await caller.post(f"/dossiers/{dossier}/requests", body)
    assert created.status_code == 201, created.text
    return created


async def act(caller: Caller, path: str, etag: str, body: Any = None) -> httpx.Response:
    done = await caller.post(path, body or {}, **{"If-Match": etag})
    assert done.status_code == 200, done.text
    return done


def decision(request_id: str) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "outcome": "approved",
        "motivation": "weekly round",
        "approvedAmount": "1450.00",
        "periodStart": "2026-09-01",
        "periodEnd": "2026-12-18",
    }


@pytest.fixture
def who(client: httpx.AsyncClient, tokens: TokenFactory) -> dict[str, Caller]:
    made = {
        "coord": ("Solidaris", "returnToWorkCoordinator"),
        "physician": ("Solidaris", "medicalAdvisor"),
        "admin": ("Solidaris", "administrative"),
        "otherInsurer": ("CM", "returnToWorkCoordinator"),
        "vdab": ("VDAB", "referenceAdvisor"),
        "vdabLists": ("VDAB", "listManager"),
        "forem": ("Forem", "referenceAdvisor"),
        "expert": ("INAMI", "socialExpert"),
        "inspector": ("INAMI", "medicalInspector"),
    }
    return {name: Caller(client, tokens.token(org, [role])) for name, (org, role) in made.items()}


async def vdab_page(caller: Caller, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await caller.post(path, body)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


# ==================================================================================================================
# Findings
# ==================================================================================================================


async def test_next_cursor_of_a_work_list_names_no_hidden_item(
    who: dict[str, Caller], population: Population, tokens: TokenFactory, app: FastAPI, engine: AsyncEngine
) -> None:
    """FINDING. A's form is the oldest of VDAB's list; A leaves VDAB. The page that holds A's form only is empty, but
    its ``next`` is base64 JSON of A's form's ``updatedAt`` and id: VDAB learns the id and change time of a form
    about a person it may no longer see (404 on the form itself)."""
    first, second = vdab_persons(population, tokens, 2)
    hidden = await submitted_form(who["coord"], await open_dossier(who["coord"], first.ssin))
    shown = await submitted_form(who["coord"], await open_dossier(who["coord"], second.ssin))
    before = await vdab_page(who["vdab"], FORMS, {"pageSize": 1})
    assert [i["id"] for i in before["items"]] == [hidden]
    hidden_updated_at = before["items"][0]["updatedAt"]

    with changed(population, first, registrations=()):
        await forget_links(app, engine)
        page = await vdab_page(who["vdab"], FORMS, {"pageSize": 1})
        assert page["items"] == []
        assert page["next"] is not None  # the walk goes on to B's form
        then = await vdab_page(who["vdab"], FORMS, {"pageSize": 1, "page": page["next"]})
        assert [i["id"] for i in then["items"]] == [shown]
        assert_problem(await who["vdab"].get(f"/registrationForms/{hidden}"), 404, NOT_FOUND)
    revealed = json.dumps(decode_cursor(page["next"]))
    assert hidden not in revealed, "next names the id of a form the caller may not see"
    assert hidden_updated_at[:19] not in revealed, "next gives the change time of a form the caller may not see"


async def test_next_cursor_of_the_decision_list_names_no_hidden_decision(
    who: dict[str, Caller], population: Population, tokens: TokenFactory, app: FastAPI, engine: AsyncEngine
) -> None:
    """FINDING. Same with the decision list (JSON ``next`` and the CSV's ``Link``): the first line's person changes
    insurer; the insurer's page of one is empty but its cursor carries the hidden decision's id and time."""
    persons = vdab_persons(population, tokens, 2)
    requests_ = []
    for person in persons:
        dossier = await open_dossier(who["coord"], person.ssin, "request")
        requests_.append((await new_request(who["coord"], dossier, {"type": "coaching"})).json()["id"])
    recorded = await who["expert"].post(
        "/decisionRounds", {"week": WEEK, "decisions": [decision(r) for r in requests_]}
    )
    assert recorded.status_code == 201, recorded.text
    first_page = await who["coord"].get(f"/decisions?week={WEEK}&pageSize=1")
    line = first_page.json()["items"][0]
    leaver = next(p for p in persons if p.ssin == line["ssin"])

    with changed(population, leaver, oa_number=100):
        await forget_links(app, engine)
        page = await who["coord"].get(f"/decisions?week={WEEK}&pageSize=1")
        as_csv = await who["coord"].get(f"/decisions?week={WEEK}&pageSize=1", Accept="text/csv")
    assert page.status_code == 200, page.text
    assert page.json()["items"] == []
    assert line["ssin"] not in page.text
    assert line["ssin"] not in as_csv.text
    revealed = json.dumps(decode_cursor(page.json()["next"]))
    assert line["decisionId"] not in revealed, "next names a decision on a person the caller may not see"
    link = as_csv.headers["Link"]  # <cursor>; rel="next"
    assert line["decisionId"] not in json.dumps(decode_cursor(link[link.index("<") + 1 : link.index(">")]))


@pytest.mark.parametrize("path", [REQUESTS, FORMS])
async def test_a_cursor_the_service_did_not_issue_is_refused(path: str, who: dict[str, Caller]) -> None:
    """FINDING (contract). README: "a cursor the service did not issue is 400 badRequest". A hand-made cursor of the
    right shape (any time, any id — or another list's ``next``) is accepted: cursors are not authenticated, so a
    caller positions itself anywhere and the cursor of one list works in another."""
    forged = encode_cursor(datetime(2026, 1, 1, tzinfo=UTC).isoformat(), str(uuid.uuid4()))
    response = await who["coord"].post(path, {"page": forged})
    assert_problem(response, 400, BAD_REQUEST)


async def test_a_list_managers_token_reads_no_work_list_and_no_feed(
    who: dict[str, Caller], person: SimulatedPerson
) -> None:
    """FINDING at 6066959 (passes with the list-manager change now in the working tree). DESIGN: the list manager
    reads "the lists only"
    (§48: decision, hours, follow-up lists). The work lists give it each form's content (expectations, work
    problems, the physician's question) and the feed every item's id."""
    dossier = await open_dossier(who["coord"], person.ssin)
    await submitted_form(who["coord"], dossier)
    for path, body in ((FORMS, {"queue": "registeredWithMe"}), (FORMS, {}), (REQUESTS, {})):
        assert_problem(await who["vdabLists"].post(path, body), 403, FORBIDDEN)
    assert_problem(await who["vdabLists"].get("/events?after=0"), 403, FORBIDDEN)


async def test_a_medical_change_is_not_told_to_the_prevention_services_medical_staff(
    own_client: httpx.AsyncClient, tokens: TokenFactory, population: Population
) -> None:
    """FINDING. Medical information on a request is for the insurer's physicians and INAMI's medical inspector
    (visibility map); the ``awaitingMedicalAdvice`` queue is refused to everyone else because it "reveals that medical
    information exists". The feed flags such an event ``medical`` and shows it to every PHYSICIAN_ROLES holder — so
    the occupational physician, nurse and medical secretariat of the prevention service whose physician wrote the
    form are told (an extra ``requestChanged`` their administrative colleague does not get) that medical
    information was added, which the request itself will not show them."""
    person, prevention = with_prevention_service(population)
    insurer = INSURER_BY_OA.get(person.oa_number or 0) or next(iter(REGISTRY.directory.insurers[person.oa_number or 0]))
    regional = person.registrations[0][0]
    coordinator = Caller(own_client, tokens.token(insurer, ["returnToWorkCoordinator"]))
    insurer_physician = Caller(own_client, tokens.token(insurer, ["medicalAdvisor"]))
    advisor = Caller(own_client, tokens.token(regional, ["referenceAdvisor"]))
    occupational = Caller(own_client, tokens.token(prevention, ["occupationalPhysician"]))
    staff = {
        role: Caller(own_client, tokens.token(prevention, [role]))
        for role in ("occupationalPhysician", "nurse", "medicalSecretariat", "administrative")
    }

    dossier = await open_dossier(coordinator, person.ssin)
    await record_consent(coordinator, dossier)
    form = await submitted_form(occupational, dossier, HEALTH_CONTENT)
    coaching = await new_request(advisor, dossier, {"type": "coaching", "registrationFormId": form})
    request_id = coaching.json()["id"]
    current = await insurer_physician.get(f"/requests/{request_id}")
    assert current.status_code == 200, current.text
    await act(
        insurer_physician, f"/requests/{request_id}/medicalInformation", current.headers["ETag"], {"text": MEDICAL_TEXT}
    )
    # The prevention service reads the request: no medical information for any of its roles.
    for caller in staff.values():
        seen = await caller.get(f"/requests/{request_id}")
        assert seen.status_code == 200, seen.text
        assert "medicalInformation" not in seen.json()
    # Let the writes settle (the feed shows transactions older than every running one).
    for _ in range(100):
        told = {role: await events_about(caller, request_id) for role, caller in staff.items()}
        if told["administrative"] >= 1:
            break
        await asyncio.sleep(0.05)
    assert told["administrative"] >= 1, told
    for role in ("occupationalPhysician", "nurse", "medicalSecretariat"):
        assert told[role] == told["administrative"], (
            f"the prevention service's {role} is told of a medical change it may not read: {told}"
        )


async def events_about(caller: Caller, resource_id: str) -> int:
    count, after = 0, "0"
    while True:
        page = await caller.get(f"/events?after={after}&limit=500")
        assert page.status_code == 200, page.text
        body = page.json()
        count += sum(1 for e in body["items"] if e["resourceId"] == resource_id)
        if body["next"] == after:
            return count
        after = body["next"]


async def test_the_csv_neutralises_formulas_after_the_belgian_list_separator(
    who: dict[str, Caller], person: SimulatedPerson
) -> None:
    """FINDING. The CSV is comma-separated and only a cell's first character is neutralised. In Belgium (fr-BE,
    nl-BE, de-BE) a spreadsheet opens a CSV with ``;`` as its list separator: an unquoted cell ``Forklift;=1+1;x``
    that a regional service's advisor typed as a training title becomes the cell ``=1+1`` on the insurer's (or
    INAMI's) desk. (Python's csv quotes a cell for a comma, a quote or a line break, never for a semicolon.)"""
    dossier = await open_dossier(who["coord"], person.ssin)
    form = await submitted_form(who["coord"], dossier)
    training = {**TRAINING, "title": "Forklift;=1+1;x", "provider": "Syntra;@SUM(1)"}
    body = {
        "type": "training",
        "registrationFormId": form,
        "trainingProject": "Logistics;-2+3",
        "trainings": [training],
    }
    created = await new_request(who["vdab"], dossier, body)
    request_id = created.json()["id"]
    await act(
        who["coord"],
        f"/requests/{request_id}/insurerValidation",
        created.headers["ETag"],
        {"validated": True, "motivation": "ok"},
    )
    recorded = await who["expert"].post("/decisionRounds", {"week": WEEK, "decisions": [decision(request_id)]})
    assert recorded.status_code == 201, recorded.text

    response = await who["coord"].get(f"/decisions?week={WEEK}", Accept="text/csv")
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.text)))
    ours = [row for row in rows[1:] if row[1] == request_id]
    assert ours, response.text
    dangerous = [
        fragment for cell in ours[0] for fragment in cell.split(";")[1:] if fragment.startswith(FORMULA_STARTS)
    ]
    assert dangerous == [], f"cells a ';'-separated spreadsheet runs as formulas: {dangerous}"


# ==================================================================================================================
# Attacks that held (regression tests)
# ==================================================================================================================


async def test_close_is_404_for_the_unlinked_and_403_for_roles_that_may_not_and_every_refusal_is_audited(
    who: dict[str, Caller],
    person: SimulatedPerson,
    population: Population,
    connection: AsyncConnection,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
) -> None:
    dossier = await open_dossier(who["coord"], person.ssin)
    await submitted_form(who["coord"], dossier)
    etag = (await who["coord"].get(f"/dossiers/{dossier}")).headers["ETag"]
    linked_prevention = next((s for e in person.employers for s in population.employers[e].prevention_services), None)
    at_forem = any(r == tokens.organisation("Forem").enterprise_number for r, _ in person.registrations)
    cases: list[tuple[Caller, int, str, str | None]] = [
        (who["otherInsurer"], 404, NOT_FOUND, "noLink"),
        (who["forem"], 403, FORBIDDEN, "roleNotAllowed") if at_forem else (who["forem"], 404, NOT_FOUND, "noLink"),
        (who["admin"], 403, FORBIDDEN, "roleNotAllowed"),
        (who["vdab"], 403, FORBIDDEN, "roleNotAllowed"),
        (who["inspector"], 403, FORBIDDEN, "roleNotAllowed"),
    ]
    if linked_prevention is not None:
        for role in ("nurse", "administrative", "occupationalPhysician"):
            cases.append((Caller(client, tokens.token(linked_prevention, [role])), 403, FORBIDDEN, "roleNotAllowed"))
    for caller, status, problem, reason in cases:
        response = await caller.post(f"/dossiers/{dossier}/close", {}, **{"If-Match": etag})
        body = assert_problem(response, status, problem)
        assert person.ssin not in json.dumps(body)
        records = await records_of(connection, response)
        assert [r[:3] for r in records] == [(person.ssin, "closeDossier", "deny")], records
        assert records[0][4] == status
        if reason is not None:
            assert records[0][3] == reason
    # The list manager: refused, never a close (404 when not linked, 403 when linked), and recorded.
    refused = await who["vdabLists"].post(f"/dossiers/{dossier}/close", {}, **{"If-Match": etag})
    assert refused.status_code in (403, 404), refused.text
    # Nothing changed: the insurer still sees an active dossier with the same ETag.
    again = await who["coord"].get(f"/dossiers/{dossier}")
    assert (again.json()["status"], again.headers["ETag"]) == ("active", etag)


async def test_close_preconditions_and_idempotent_replays(
    who: dict[str, Caller],
    person: SimulatedPerson,
    population: Population,
    app: FastAPI,
    engine: AsyncEngine,
    connection: AsyncConnection,
    tokens: TokenFactory,
) -> None:
    dossier = await open_dossier(who["coord"], person.ssin)
    etag = (await who["coord"].get(f"/dossiers/{dossier}")).headers["ETag"]
    path = f"/dossiers/{dossier}/close"
    for headers, status in (({}, 428), ({"If-Match": '"999"'}, 412), ({"If-Match": "W/" + etag}, 412)):
        refused = await who["coord"].post(path, {}, **headers)
        assert refused.status_code == status, refused.text
        records = await records_of(connection, refused)
        assert [(r[0], r[2], r[4]) for r in records] == [(person.ssin, "deny", status)], records
    closed = await who["coord"].post(path, {"reason": "back at work"}, **{"If-Match": etag, "Idempotency-Key": "k1"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert "back at work" not in closed.text  # the reason is not kept
    replay = await who["coord"].post(path, {"reason": "back at work"}, **{"If-Match": etag, "Idempotency-Key": "k1"})
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed")) == (200, "true")
    # The same key for another body, or by another user, is no replay.
    other_body = await who["coord"].post(path, {"reason": "other"}, **{"If-Match": etag, "Idempotency-Key": "k1"})
    assert other_body.status_code == 422, other_body.text
    other_user = Caller(who["coord"].client, tokens.token("Solidaris", ["medicalAdvisor"], sub=OTHER_USER))
    by_physician = await other_user.post(
        path, {"reason": "back at work"}, **{"If-Match": closed.headers["ETag"], "Idempotency-Key": "k1"}
    )
    assert by_physician.status_code == 409, by_physician.text
    assert "Idempotent-Replayed" not in by_physician.headers
    assert [(r[2], r[4]) for r in await records_of(connection, by_physician)] == [("deny", 409)]
    # A replay by a caller that lost its link is 404, and audited.
    with changed(population, person, oa_number=100):
        await forget_links(app, engine)
        lost = await who["coord"].post(path, {"reason": "back at work"}, **{"If-Match": etag, "Idempotency-Key": "k1"})
    assert_problem(lost, 404, NOT_FOUND)
    assert [r[2:] for r in await records_of(connection, lost)] == [("deny", "noLink", 404)]


async def test_unlinked_organisations_see_nothing_in_any_list_whatever_the_filters(
    who: dict[str, Caller],
    person: SimulatedPerson,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    population: Population,
) -> None:
    dossier = await open_dossier(who["coord"], person.ssin)
    form = await submitted_form(who["coord"], dossier)
    training = await new_request(
        who["vdab"], dossier, {"type": "training", "registrationFormId": form, "trainings": [TRAINING]}
    )
    await act(
        who["coord"],
        f"/requests/{training.json()['id']}/insurerValidation",
        training.headers["ETag"],
        {"validated": True, "motivation": "ok"},
    )
    direct = await new_request(who["physician"], dossier, {"type": "coaching", "medicalInformation": MEDICAL_TEXT})
    recorded = await who["expert"].post(
        "/decisionRounds", {"week": WEEK, "decisions": [decision(training.json()["id"])]}
    )
    assert recorded.status_code == 201, recorded.text
    ours = {form, training.json()["id"], direct.json()["id"], dossier}
    registered = {r for r, _ in person.registrations}
    unlinked_regional = next(
        o.enterprise_number
        for o in REGISTRY
        if o.type is OrganisationType.REGIONAL_SERVICE and o.enterprise_number not in registered
    )
    linked_services = {s for e in person.employers for s in population.employers[e].prevention_services}
    unlinked_prevention = next(
        o.enterprise_number
        for o in REGISTRY
        if o.type is OrganisationType.PREVENTION_SERVICE and o.enterprise_number not in linked_services
    )
    strangers = [
        who["otherInsurer"],
        Caller(client, tokens.token("CM", ["medicalAdvisor"])),
        Caller(client, tokens.token(unlinked_regional, ["referenceAdvisor"])),
        Caller(client, tokens.token(unlinked_prevention, ["occupationalPhysician"])),
    ]
    bodies: list[dict[str, Any]] = [
        {},
        {"pageSize": 100},
        {"status": ["atInami", "approved", "awaitingInsurerValidation", "refused", "withdrawn", "refusedByInsurer"]},
        {"type": "coaching", "changedSince": "2000-01-01T00:00:00Z"},
        {"createdFrom": "2000-01-01", "createdTo": "9998-12-31"},
        {"queue": "atInami"},
        {"queue": "awaitingInsurerValidation"},
    ]
    form_bodies: list[dict[str, Any]] = [
        {},
        {"status": ["draft", "submitted", "cancelled", "notInTargetGroup", "awaitingTargetGroupDecision"]},
        {"routing": "standard", "changedSince": "2000-01-01T00:00:00+14:00"},
    ]
    for stranger in strangers:
        for path, variants in ((REQUESTS, bodies), (FORMS, form_bodies)):
            for body in variants:
                response = await stranger.post(path, body)
                assert response.status_code in (200, 403), response.text
                assert person.ssin not in response.text, (path, body)
                assert not ours & {i["id"] for i in response.json().get("items", [])}
        for query in (f"week={WEEK}", "changedSince=2000-01-01T00:00:00Z", "from=2000-01-01"):
            for accept in ("application/json", "text/csv"):
                listed = await stranger.get(f"/decisions?{query}&pageSize=500", Accept=accept)
                assert listed.status_code == 200, listed.text
                assert person.ssin not in listed.text
                assert training.json()["id"] not in listed.text
        dossiers = await stranger.post("/dossiers/query", {"status": "active", "pageSize": 100})
        assert person.ssin not in dossiers.text
        for item_id in ours - {dossier}:
            for path in (f"/requests/{item_id}", f"/registrationForms/{item_id}"):
                assert (await stranger.get(path)).status_code == 404


async def test_deceased_after_the_event_vanishes_except_for_inami_and_the_denials_are_audited(
    who: dict[str, Caller],
    person: SimulatedPerson,
    population: Population,
    app: FastAPI,
    engine: AsyncEngine,
    connection: AsyncConnection,
) -> None:
    dossier = await open_dossier(who["coord"], person.ssin, "request")
    request_id = (await new_request(who["coord"], dossier, {"type": "coaching"})).json()["id"]
    with changed(population, person, death_date=datetime.now(UTC).date() - timedelta(days=1)):
        await forget_links(app, engine)
        for caller in ("coord", "vdab"):
            response = await who[caller].post(REQUESTS, {})
            assert response.status_code == 200, response.text
            assert request_id not in response.text
            assert person.ssin not in response.text
            assert [r[2:4] for r in await records_of(connection, response)] == [("deny", "deceased")]
        inami = await who["expert"].post(REQUESTS, {"queue": "atInami", "pageSize": 100})
        assert request_id in {i["id"] for i in inami.json()["items"]}


async def test_replaced_ssin_and_changed_insurer_after_the_event_leave_the_lists(
    who: dict[str, Caller],
    person: SimulatedPerson,
    population: Population,
    app: FastAPI,
    engine: AsyncEngine,
    connection: AsyncConnection,
) -> None:
    dossier = await open_dossier(who["coord"], person.ssin)
    form = await submitted_form(who["coord"], dossier)
    with changed(population, person, oa_number=100):
        await forget_links(app, engine)
        old = await who["coord"].post(FORMS, {})
        assert form not in old.text
        assert person.ssin not in old.text
        assert [r[2:4] for r in await records_of(connection, old)] == [("deny", "noLink")]
        assert form not in (await who["otherInsurer"].post(FORMS, {})).text  # the new insurer: never addressed
    replacement = population.replaced_ssin and population.persons[population.replaced_ssin].replaced_by
    assert replacement
    with changed(population, person, replaced_by=replacement):
        await forget_links(app, engine)
        for caller in ("coord", "vdab"):
            response = await who[caller].post(FORMS, {})
            assert form not in response.text
            assert replacement not in response.text


@pytest.mark.parametrize(
    ("source", "fault", "status"),
    [("memberData", "error", 503), ("memberData", "malformed", 502), ("nationalRegister", "error", 503)],
)
async def test_a_source_failing_halfway_through_a_page_fails_the_page(
    source: str,
    fault: str,
    status: int,
    who: dict[str, Caller],
    population: Population,
    tokens: TokenFactory,
    simulator: Any,
    app: FastAPI,
    engine: AsyncEngine,
    connection: AsyncConnection,
) -> None:
    """One person of the page is in the link memory, the other is not: the source fails for the second only. The
    page is refused (never a page that silently drops the line), every person recorded, no SSIN in the answer."""
    warm, cold = vdab_persons(population, tokens, 2)
    dossiers = {}
    for someone in (warm, cold):
        dossiers[someone.ssin] = await open_dossier(who["coord"], someone.ssin, "request")
        await new_request(who["coord"], dossiers[someone.ssin], {"type": "coaching"})
    await forget_links(app, engine)
    assert (await who["coord"].get(f"/dossiers/{dossiers[warm.ssin]}")).status_code == 200
    simulator.faults[source] = fault
    for path, body in ((REQUESTS, {}), (REQUESTS, {"queue": "atInami"})):
        response = await who["coord"].post(path, body)
        assert response.status_code == status, response.text
        assert warm.ssin not in response.text
        assert cold.ssin not in response.text
        outcomes = {r[0]: r[2:] for r in await records_of(connection, response)}
        assert set(outcomes) == {warm.ssin, cold.ssin}
        assert outcomes[cold.ssin][0] == "deny"
    listed = await who["coord"].get("/decisions?changedSince=2000-01-01T00:00:00Z")
    assert listed.status_code in (200, status)


BAD_BODIES: list[Any] = [
    [],
    "x",
    1,
    {"pageSize": 10**30},
    {"pageSize": 1e308},
    {"pageSize": 10_000},
    {"status": ["atInami"] * 10_000},
    {"status": "atInami"},
    {"status": [None]},
    {"status": [{"$ne": 1}]},
    {"queue": ["atInami"]},
    {"queue": "atInami\u0000"},
    {"type": "coaching\u0000"},
    {"page": "\u0000"},
    {"page": "A" * 5000},
    {"page": "W10"},
    {"page": encode_cursor("0001-01-01T00:00:00+00:00", str(uuid.uuid4()))},
    {"page": encode_cursor("9999-12-31T23:59:59-23:59", str(uuid.uuid4()))},
    {"page": encode_cursor("2026-01-01T00:00:00", str(uuid.uuid4()))},
    {"page": encode_cursor("2026-01-01T00:00:00+00:00", "not-a-uuid")},
    {"page": encode_cursor("2026-01-01T00:00:00+00:00", str(uuid.uuid4()), 3)},
    {"page": encode_cursor(1, 2)},
    {"changedSince": "0001-01-01T00:00:00+14:00"},
    {"changedSince": "9999-12-31T23:59:59-14:00"},
    {"changedSince": "2026-11-20T00:00:00\u0000"},
    {"changedSince": 0},
    {"changedSince": "1e10"},
    {"changedSince": "NaN"},
    {"createdFrom": "0001-01-01"},
    {"createdTo": "9999-12-31"},
    {"createdFrom": "2026-02-30"},
    {"createdFrom": "2026-11-02", "createdTo": "2026-11-01"},
    {"assignedTo": "me"},
    {"status": ["atInami"], "queue": "everything"},
]


@pytest.mark.parametrize("path", [REQUESTS, FORMS])
@pytest.mark.parametrize("body", BAD_BODIES, ids=[str(i) for i in range(len(BAD_BODIES))])
async def test_hostile_work_list_bodies_are_400_never_500(path: str, body: Any, who: dict[str, Caller]) -> None:
    response = await who["coord"].post(path, body)
    assert response.status_code == 400, (body, response.text)
    assert response.json()["type"] == BAD_REQUEST


# Lone surrogates (valid JSON escapes, no valid UTF-8): in a key, in a cursor, in a filter.
SURROGATE_BODIES = [b'{"\\ud800": 1}', b'{"page": "\\ud800"}', b'{"queue": "\\udfff"}', b'{"status": ["\\ud800"]}']


@pytest.mark.parametrize("path", [REQUESTS, FORMS])
@pytest.mark.parametrize("raw", SURROGATE_BODIES)
async def test_lone_surrogates_are_400_never_500(path: str, raw: bytes, who: dict[str, Caller]) -> None:
    headers = {**who["coord"].headers, "Content-Type": "application/json"}
    response = await who["coord"].client.post(f"/rp/v1{path}", content=raw, headers=headers)
    assert response.status_code == 400, (raw, response.text)


GOOD_EDGE_BODIES: list[dict[str, Any]] = [
    {"changedSince": "0002-01-01T00:00:00+23:59"},
    {"changedSince": "9998-12-31T23:59:59-23:59"},
    {"changedSince": "2026-11-20T00:00:00"},
    {"createdFrom": "0002-01-01", "createdTo": "9998-12-31"},
    {"page": encode_cursor("0002-01-01T00:00:00+23:59", str(uuid.uuid4()))},
    {"page": encode_cursor("9998-12-31T23:59:59.999999-23:59", str(uuid.uuid4()))},
    {"status": ["atInami", "atInami"], "page_size": 1},
    {"pageSize": "100"},
    {"pageSize": True},
]


@pytest.mark.parametrize("path", [REQUESTS, FORMS])
@pytest.mark.parametrize("body", GOOD_EDGE_BODIES, ids=[str(i) for i in range(len(GOOD_EDGE_BODIES))])
async def test_edge_work_list_bodies_never_500(path: str, body: dict[str, Any], who: dict[str, Caller]) -> None:
    response = await who["coord"].post(path, body)
    assert response.status_code in (200, 400), (body, response.text)


@pytest.mark.parametrize(
    "query",
    [
        "changedSince=0001-01-01T00:00:00%2B14:00",
        "changedSince=9999-12-31T23:59:59-14:00",
        "changedSince=9998-12-31T23:59:59-23:59",
        "changedSince=0002-01-01T00:00:00%2B23:59",
        "changedSince=2026-11-20T00:00:00%00",
        "changedSince=2026-11-20T00:00:00&week=2026-W01",
        "week=9999-W53",
        "week=2026-W53",
        "from=0001-01-01",
        "to=9999-12-31",
        "week=2026-W01&pageSize=100000",
        "week=2026-W01&page=" + encode_cursor("9999-12-31T23:59:59-23:59", str(uuid.uuid4())),
        "week=2026-W01&page=%00",
    ],
)
async def test_hostile_decision_list_queries_never_500(query: str, who: dict[str, Caller]) -> None:
    for accept in ("application/json", "text/csv"):
        response = await who["coord"].get(f"/decisions?{query}", Accept=accept)
        assert response.status_code in (200, 400), (query, response.text)


@pytest.mark.parametrize(
    "body",
    [
        [],
        "x",
        1,
        {"reason": ""},
        {"reason": "x" * 501},
        {"reason": "\u0000"},
        {"reason": 1},
        {"why": "x"},
        {"reason": ["x"]},
    ],
)
async def test_hostile_close_bodies_are_400_never_500(
    body: Any, who: dict[str, Caller], person: SimulatedPerson
) -> None:
    dossier = await open_dossier(who["coord"], person.ssin)
    etag = (await who["coord"].get(f"/dossiers/{dossier}")).headers["ETag"]
    response = await who["coord"].post(f"/dossiers/{dossier}/close", body, **{"If-Match": etag})
    assert response.status_code == 400, (body, response.text)
    assert (await who["coord"].get(f"/dossiers/{dossier}")).json()["status"] == "active"


async def test_close_of_a_dossier_that_does_not_exist_or_is_no_uuid(who: dict[str, Caller]) -> None:
    assert_problem(
        await who["coord"].post(f"/dossiers/{uuid.uuid4()}/close", {}, **{"If-Match": '"1"'}), 404, NOT_FOUND
    )
    assert (await who["coord"].post("/dossiers/query/close", {}, **{"If-Match": '"1"'})).status_code in (400, 404)


async def test_work_list_lines_carry_no_health_data_for_anyone_and_the_medical_queue_is_physicians_only(
    who: dict[str, Caller],
    person: SimulatedPerson,
    population: Population,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
) -> None:
    dossier = await open_dossier(who["coord"], person.ssin)
    form = await submitted_form(who["physician"], dossier, HEALTH_CONTENT)
    medical = await new_request(who["physician"], dossier, {"type": "coaching", "medicalInformation": MEDICAL_TEXT})
    advice_path = f"/requests/{medical.json()['id']}/medicalAdvice"
    advice = await who["inspector"].post(
        advice_path, {"text": "Red team advice"}, **{"If-Match": medical.headers["ETag"]}
    )
    if advice.status_code == 400 and "conclusion" in advice.text:  # the inspector's non-medical conclusion, newer API
        advice = await who["inspector"].post(
            advice_path,
            {"text": "Red team advice", "conclusion": "compatible"},
            **{"If-Match": medical.headers["ETag"]},
        )
    assert advice.status_code == 200, advice.text
    for name in ("coord", "physician", "vdab", "expert", "inspector"):
        for path in (REQUESTS, FORMS):
            response = await who[name].post(path, {"pageSize": 100})
            assert response.status_code == 200, response.text
            assert not HEALTH_KEYS & set(walk(response.json())), (name, path)
            for secret in (MEDICAL_TEXT, "Red team advice", "No lifting over 5 kg", "2024-03-01"):
                assert secret not in response.text, (name, path, secret)
    assert form
    _, prevention = with_prevention_service(population)
    for role in ("occupationalPhysician", "nurse", "medicalSecretariat"):
        prevention_caller = Caller(client, tokens.token(prevention, [role]))
        assert_problem(await prevention_caller.post(REQUESTS, {"queue": "awaitingMedicalAdvice"}), 403, FORBIDDEN)
    for name in ("coord", "admin", "vdab", "expert"):
        assert_problem(await who[name].post(REQUESTS, {"queue": "awaitingMedicalAdvice"}), 403, FORBIDDEN)


async def test_the_csv_quotes_commas_quotes_and_line_breaks_and_neutralises_leading_formulas(
    who: dict[str, Caller], person: SimulatedPerson
) -> None:
    dossier = await open_dossier(who["coord"], person.ssin)
    form = await submitted_form(who["coord"], dossier)
    project = 'Logistics, "advanced"\r\nline two'
    trainings = [
        {**TRAINING, "provider": '=HYPERLINK("http://evil")', "title": "+cmd|' /C calc'!A0"},
        {**TRAINING, "provider": "@SUM(1)", "title": "\tTab"},
    ]
    body = {"type": "training", "registrationFormId": form, "trainingProject": project, "trainings": trainings}
    created = await new_request(who["vdab"], dossier, body)
    request_id = created.json()["id"]
    await act(
        who["coord"],
        f"/requests/{request_id}/insurerValidation",
        created.headers["ETag"],
        {"validated": True, "motivation": "-1+1"},
    )
    recorded = await who["expert"].post(
        "/decisionRounds", {"week": WEEK, "decisions": [{**decision(request_id), "motivation": "=1+1"}]}
    )
    assert recorded.status_code == 201, recorded.text
    for caller in ("coord", "vdab", "expert"):
        response = await who[caller].get(f"/decisions?week={WEEK}&pageSize=500", Accept="text/csv")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.text)))
        header, ours = rows[0], [row for row in rows[1:] if row[1] == request_id]
        assert len(ours) == 1
        assert len(ours[0]) == len(header)
        line = dict(zip(header, ours[0], strict=True))
        assert line["trainingProject"] == project
        assert line["motivation"] == "'=1+1"
        assert line["providers"].startswith("'=HYPERLINK")
        assert line["trainingTitles"].startswith("'+cmd")
        assert all(not cell.startswith(FORMULA_STARTS) for cell in ours[0])


async def test_a_work_list_page_resolves_each_person_once(
    who: dict[str, Caller],
    population: Population,
    tokens: TokenFactory,
    simulator: Any,
    app: FastAPI,
    engine: AsyncEngine,
) -> None:
    """Performance abuse: a page of 100 lines costs one look-up per person and source (names included), never one
    per line; three lines of one person cost what one does."""
    persons = sorted(
        (p for p in population.persons.values() if p.oa_number == 300 and not p.replaced_by and not p.death_date),
        key=lambda p: p.ssin,
    )[:6]
    assert len(persons) == 6
    for someone in persons:
        dossier = await open_dossier(who["coord"], someone.ssin, "request")
        for _ in range(3):
            await new_request(who["coord"], dossier, {"type": "coaching"})
    await forget_links(app, engine)
    simulator.calls.clear()
    response = await who["coord"].post(REQUESTS, {"pageSize": 100})
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 18
    assert simulator.calls["nationalRegister"] <= len(persons), simulator.calls
    assert simulator.calls["memberData"] <= len(persons), simulator.calls
    assert sum(simulator.calls.values()) <= 2 * len(persons), simulator.calls


async def test_auditors_are_refused_everywhere_new_and_no_ssin_reaches_the_logs(
    who: dict[str, Caller],
    person: SimulatedPerson,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    connection: AsyncConnection,
    simulator: Any,
    app: FastAPI,
    engine: AsyncEngine,
    logged: Any,
) -> None:
    dossier = await open_dossier(who["coord"], person.ssin)
    await submitted_form(who["coord"], dossier)
    etag = (await who["coord"].get(f"/dossiers/{dossier}")).headers["ETag"]
    auditor = Caller(client, tokens.token("Solidaris", ["auditor"]))
    for response in (
        await auditor.post(REQUESTS, {}),
        await auditor.post(FORMS, {"queue": "awaitingTargetGroupDecision"}),
        await auditor.get("/events?after=0"),
        await auditor.get(f"/decisions?week={WEEK}", Accept="text/csv"),
        await auditor.post("/dossiers/query", {"status": "closed"}),
    ):
        assert_problem(response, 403, FORBIDDEN)
    closing = await auditor.post(f"/dossiers/{dossier}/close", {}, **{"If-Match": etag})
    assert_problem(closing, 403, FORBIDDEN)
    assert [r[2:4] for r in await records_of(connection, closing)] == [("deny", "auditOnlyRole")]
    # Faults on the way: the logs name sources and trace ids, never the person.
    await forget_links(app, engine)
    simulator.faults["memberData"] = "malformed"
    assert (await who["coord"].post(FORMS, {})).status_code == 502
    simulator.faults["memberData"] = "error"
    assert (await who["coord"].post(f"/dossiers/{dossier}/close", {}, **{"If-Match": etag})).status_code == 503
    simulator.faults.clear()
    simulator.faults["nationalRegister"] = "timeout"
    await who["coord"].get("/decisions?changedSince=2000-01-01T00:00:00Z", Accept="text/csv")
    lines = logged()
    assert lines
    assert person.ssin not in json.dumps(lines)
    assert "No lifting" not in json.dumps(lines)
