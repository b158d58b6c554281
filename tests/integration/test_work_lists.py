"""Work lists end to end, through the HTTP API: every party finds what waits for it — and nothing else.

``POST /requests/query`` and ``POST /registrationForms/query`` list the items addressed to the caller's
organisation; each line's person is re-checked with the caller's current links (one audit record per person), a
form must be readable by the caller, and a line never carries health data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rp_api.domain.actors import OrganisationType
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import CONTENT, INSURER_BY_OA, PHYSICIAN_CONTENT, Caller, walk
from tests.integration.test_requests_and_decisions import TRAINING, WEEK, decision
from tests.token_factory import TokenFactory

REQUESTS = "/requests/query"
FORMS = "/registrationForms/query"
HEALTH_KEYS = {"incapacityStartDate", "functionalCapacities", "medicalInformation", "medicalAdvice"}
MEDICAL_TEXT = "Chronic lower back pain, no lifting"


@pytest.fixture
def callers(client: httpx.AsyncClient, tokens: TokenFactory) -> dict[str, Caller]:
    made = {
        "coord": ("Solidaris", "returnToWorkCoordinator"),
        "physician": ("Solidaris", "medicalAdvisor"),
        "admin": ("Solidaris", "administrative"),
        "vdab": ("VDAB", "referenceAdvisor"),
        "vdabLists": ("VDAB", "listManager"),
        "vdabAuditor": ("VDAB", "auditor"),
        "expert": ("INAMI", "socialExpert"),
        "inspector": ("INAMI", "medicalInspector"),
    }
    return {name: Caller(client, tokens.token(org, [role])) for name, (org, role) in made.items()}


@dataclass
class Desk:
    """Makes what the lists should show, through the API, and remembers the ids and ETags."""

    callers: dict[str, Caller]
    ids: dict[str, str] = field(default_factory=dict)
    etags: dict[str, str] = field(default_factory=dict)

    async def dossier(self, ssin: str, who: str = "coord") -> str:
        opened = await self.callers[who].post("/dossiers", {"ssin": ssin, "start": "registrationForm"})
        assert opened.status_code in (200, 201), opened.text
        return str(opened.json()["id"])

    async def form(self, name: str, dossier: str, who: str, content: dict[str, Any], *, submit: bool = True) -> str:
        created = await self.callers[who].post(f"/dossiers/{dossier}/registrationForms", content)
        assert created.status_code == 201, created.text
        self.ids[name], self.etags[name] = created.json()["id"], created.headers["ETag"]
        if submit:
            await self.act(name, who, f"/registrationForms/{self.ids[name]}/submit")
        return self.ids[name]

    async def request(self, name: str, dossier: str, who: str, body: dict[str, Any]) -> str:
        created = await self.callers[who].post(f"/dossiers/{dossier}/requests", body)
        assert created.status_code == 201, created.text
        self.ids[name], self.etags[name] = created.json()["id"], created.headers["ETag"]
        return self.ids[name]

    async def act(self, name: str, who: str, path: str, body: Any = None) -> httpx.Response:
        done = await self.callers[who].post(path, body or {}, **{"If-Match": self.etags[name]})
        assert done.status_code == 200, done.text
        self.etags[name] = done.headers["ETag"]
        return done


def training_on(form: str) -> dict[str, Any]:
    return {"type": "training", "registrationFormId": form, "trainingProject": "Logistics", "trainings": [TRAINING]}


async def listed(caller: Caller, path: str, body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    response = await caller.post(path, body or {})
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["self"] == f"/rp/v1{path}"
    assert not HEALTH_KEYS & set(walk(page)), "a work-list line carries health data"
    assert MEDICAL_TEXT not in response.text
    items: list[dict[str, Any]] = page["items"]
    return items


def ids_of(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def assert_problem(response: httpx.Response, status: int, problem_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == problem_type
    return body


async def records_of(connection: AsyncConnection, response: httpx.Response) -> list[tuple[Any, ...]]:
    """The audit records of one call, by its trace id: (person, operation, resource type, outcome, reason, status)."""
    rows = await connection.execute(
        text(
            "SELECT person_ssin, operation, resource_type, outcome, reason, status FROM audit_event"
            " WHERE trace_id = :trace ORDER BY seq"
        ),
        {"trace": response.headers["BelGov-Trace-Id"]},
    )
    return [tuple(row) for row in rows]


def others_of(population: Population, tokens: TokenFactory, person: SimulatedPerson) -> dict[str, tuple[str, str]]:
    """Organisations of every type that are *not* linked to the person: another insurer, a regional service the
    person is not registered with, a prevention service none of the person's employers is affiliated to."""
    registry = tokens.registry
    registered = {service for service, _ in person.registrations}
    linked_services = {s for e in person.employers for s in population.employers[e].prevention_services}
    regional = next(
        o.enterprise_number
        for o in registry
        if o.type is OrganisationType.REGIONAL_SERVICE and o.enterprise_number not in registered
    )
    prevention = next(
        o.enterprise_number
        for o in registry
        if o.type is OrganisationType.PREVENTION_SERVICE and o.enterprise_number not in linked_services
    )
    insurer = "CM" if person.oa_number != 100 else "UNMN"
    return {
        "otherInsurer": (insurer, "returnToWorkCoordinator"),
        "otherRegionalService": (regional, "referenceAdvisor"),
        "unlinkedPreventionService": (prevention, "occupationalPhysician"),
    }


def registered_with(person: SimulatedPerson, tokens: TokenFactory, service: str = "VDAB") -> bool:
    return any(r == tokens.organisation(service).enterprise_number for r, _ in person.registrations)


def more_persons(population: Population, tokens: TokenFactory, count: int) -> list[SimulatedPerson]:
    """Living persons insured with Solidaris (300), those registered with VDAB first."""
    found = [p for p in population.persons.values() if p.oa_number == 300 and not p.replaced_by and not p.death_date]
    found.sort(key=lambda p: not registered_with(p, tokens))
    assert len(found) >= count
    return found[:count]


@contextmanager
def registered_nowhere(population: Population, person: SimulatedPerson) -> Iterator[None]:
    """The person leaves every regional service (JobSeeker) for the time of the block."""
    population.persons[person.ssin] = dataclasses.replace(person, registrations=())
    try:
        yield
    finally:
        population.persons[person.ssin] = person


async def forget_links(app: FastAPI, engine: AsyncEngine) -> None:
    """The cached links expire (both levels): the next call asks the sources again."""
    async with engine.begin() as own:
        await own.execute(text("DELETE FROM person_link_cache"))
    app.state.link_resolver.forget()


# --- each party finds what waits for it ---------------------------------------------------------------------------
async def test_the_insurer_finds_the_routing_c_form_then_the_training_to_validate(
    callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection
) -> None:
    c, desk = callers, Desk(callers)
    dossier = await desk.dossier(person.ssin, "vdab")
    form_c = await desk.form("formC", dossier, "vdab", {"expectations": "Coaching towards office work"})

    waiting = await listed(c["coord"], FORMS, {"queue": "awaitingTargetGroupDecision"})
    assert ids_of(waiting) == [form_c]
    line = waiting[0]
    assert (line["routing"], line["status"]) == ("routingC", "awaitingTargetGroupDecision")
    assert line["person"] == {"ssin": person.ssin, "givenName": person.given_name, "familyName": person.family_name}
    assert line["self"] == f"/rp/v1/registrationForms/{form_c}"
    response = await c["coord"].post(FORMS, {"queue": "awaitingTargetGroupDecision"})
    assert await records_of(connection, response) == [
        (person.ssin, "queryRegistrationForms", "registrationForm", "permit", "insurerAffiliation", 200)
    ]
    # The physician decides too; the administrative staff does not, nor does a regional service.
    assert ids_of(await listed(c["physician"], FORMS, {"queue": "awaitingTargetGroupDecision"})) == [form_c]
    for who in ("admin", "vdab"):
        refused = await c[who].post(FORMS, {"queue": "awaitingTargetGroupDecision"})
        assert_problem(refused, 403, "urn:problem-type:belgif:missingPermission")

    await desk.act(
        "formC",
        "coord",
        f"/registrationForms/{form_c}/targetGroupDecision",
        {"inTargetGroup": True, "motivation": "Incapacity over one year"},
    )
    assert await listed(c["coord"], FORMS, {"queue": "awaitingTargetGroupDecision"}) == []
    training = await desk.request("training", dossier, "vdab", training_on(form_c))

    to_validate = await listed(c["coord"], REQUESTS, {"queue": "awaitingInsurerValidation"})
    assert ids_of(to_validate) == [training]
    assert to_validate[0]["person"]["familyName"] == person.family_name
    assert to_validate[0]["trainings"][0]["title"] == TRAINING["title"]
    assert to_validate[0]["self"] == f"/rp/v1/requests/{training}"
    await desk.act(
        "training", "coord", f"/requests/{training}/insurerValidation", {"validated": True, "motivation": "ok"}
    )
    assert await listed(c["coord"], REQUESTS, {"queue": "awaitingInsurerValidation"}) == []


async def test_vdab_finds_the_insurers_submitted_form_without_opening_the_dossier(
    callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection, tokens: TokenFactory
) -> None:
    c, desk = callers, Desk(callers)
    dossier = await desk.dossier(person.ssin)
    draft = await desk.form("draft", dossier, "coord", CONTENT, submit=False)
    form = await desk.form("form", dossier, "physician", PHYSICIAN_CONTENT)  # health data: physicians write it

    found = await listed(c["vdab"], FORMS, {"queue": "registeredWithMe"})
    assert ids_of(found) == [form]  # the insurer's draft is the insurer's alone
    refused = await c["vdabLists"].post(FORMS, {"queue": "registeredWithMe"})  # §48: its lists are decisions, hours
    assert refused.status_code == 403, refused.text
    assert person.ssin not in refused.text
    line = found[0]
    assert line["incapacityAtLeastOneYear"] is True
    assert line["physicianQuestion"] == {"expectations": "Job coaching"}
    assert line["person"]["ssin"] == person.ssin
    response = await c["vdab"].post(FORMS, {"queue": "registeredWithMe"})
    assert await records_of(connection, response) == [
        (person.ssin, "queryRegistrationForms", "registrationForm", "permit", "regionalRegistration", 200)
    ]
    # VDAB never opened the dossier nor read the form: the list found it (work routing).
    vdab_calls = await connection.scalar(
        text(
            "SELECT count(*) FROM audit_event"
            " WHERE person_ssin = :ssin AND organisation = :org AND operation NOT LIKE 'query%'"
        ),
        {"ssin": person.ssin, "org": tokens.organisation("VDAB").enterprise_number},
    )
    assert vdab_calls == 0

    # The insurer's own list holds its draft and its form; it is no regional service.
    assert set(ids_of(await listed(c["coord"], FORMS))) == {draft, form}
    assert_problem(
        await c["coord"].post(FORMS, {"queue": "registeredWithMe"}), 403, "urn:problem-type:belgif:missingPermission"
    )


async def test_forms_the_caller_may_not_read_take_no_place_in_a_page(
    callers: dict[str, Caller], person: SimulatedPerson
) -> None:
    """A form VDAB was addressed (it was submitted) but may no longer read (cancelled) is filtered by the query, so
    a page of one still holds the next form VDAB may read."""
    c, desk = callers, Desk(callers)
    dossier = await desk.dossier(person.ssin)
    cancelled = await desk.form("cancelled", dossier, "coord", CONTENT)
    await desk.act("cancelled", "coord", f"/registrationForms/{cancelled}/cancel")
    valid = await desk.form("valid", dossier, "coord", CONTENT)

    first = (await c["vdab"].post(FORMS, {"pageSize": 1})).json()
    assert ids_of(first["items"]) == [valid]
    assert first["next"] is None
    assert set(ids_of(await listed(c["coord"], FORMS))) == {cancelled, valid}  # the creator reads both


async def test_inami_finds_the_requests_at_inami_and_decides_them(
    callers: dict[str, Caller], person: SimulatedPerson
) -> None:
    c, desk = callers, Desk(callers)
    dossier = await desk.dossier(person.ssin)
    form = await desk.form("form", dossier, "coord", CONTENT)
    training = await desk.request("training", dossier, "vdab", training_on(form))
    direct = await desk.request("direct", dossier, "coord", {"type": "coaching"})

    assert ids_of(await listed(c["expert"], REQUESTS, {"queue": "atInami"})) == [direct]  # the training is not there
    await desk.act(
        "training", "coord", f"/requests/{training}/insurerValidation", {"validated": True, "motivation": "ok"}
    )
    at_inami = ids_of(await listed(c["expert"], REQUESTS, {"queue": "atInami"}))
    assert at_inami == [direct, training]  # oldest change first

    recorded = await c["expert"].post("/decisionRounds", {"week": WEEK, "decisions": [decision(i) for i in at_inami]})
    assert recorded.status_code == 201, recorded.text
    assert await listed(c["expert"], REQUESTS, {"queue": "atInami"}) == []
    decided = await listed(c["expert"], REQUESTS, {"status": ["approved"]})
    assert sorted(ids_of(decided)) == sorted(at_inami)  # decided at the same instant: in the order of their ids
    assert {line["decision"]["outcome"] for line in decided} == {"approved"}
    # VDAB is addressed both (the person is registered with it), and sees INAMI's decisions on them.
    vdab_sees = await listed(c["vdab"], REQUESTS, {"status": ["approved", "refused"]})
    assert sorted(ids_of(vdab_sees)) == sorted(at_inami)


async def test_the_medical_inspector_finds_the_requests_with_medical_information(
    callers: dict[str, Caller], person: SimulatedPerson
) -> None:
    c, desk = callers, Desk(callers)
    dossier = await desk.dossier(person.ssin)
    medical = await desk.request(
        "medical", dossier, "physician", {"type": "coaching", "medicalInformation": MEDICAL_TEXT}
    )
    plain = await desk.request("plain", dossier, "coord", {"type": "coaching"})

    assert ids_of(await listed(c["inspector"], REQUESTS, {"queue": "awaitingMedicalAdvice"})) == [medical]
    assert ids_of(await listed(c["physician"], REQUESTS, {"queue": "awaitingMedicalAdvice"})) == [medical]
    # The request itself shows the inspector the medical information the line leaves out.
    assert (await c["inspector"].get(f"/requests/{medical}")).json()["medicalInformation"] == MEDICAL_TEXT
    for who in ("expert", "coord", "vdab"):
        refused = await c[who].post(REQUESTS, {"queue": "awaitingMedicalAdvice"})
        assert_problem(refused, 403, "urn:problem-type:belgif:missingPermission")
    assert set(ids_of(await listed(c["expert"], REQUESTS, {"queue": "atInami"}))) == {medical, plain}

    await desk.act(
        "medical", "inspector", f"/requests/{medical}/medicalAdvice", {"text": "Favourable", "conclusion": "compatible"}
    )
    assert await listed(c["inspector"], REQUESTS, {"queue": "awaitingMedicalAdvice"}) == []


# --- and nothing else -------------------------------------------------------------------------------------------
async def test_organisations_not_linked_to_the_person_see_none_of_it(
    callers: dict[str, Caller],
    person: SimulatedPerson,
    population: Population,
    tokens: TokenFactory,
    client: httpx.AsyncClient,
) -> None:
    c, desk = callers, Desk(callers)
    dossier = await desk.dossier(person.ssin)
    form = await desk.form("form", dossier, "coord", CONTENT)
    await desk.request("training", dossier, "vdab", training_on(form))
    await desk.request("medical", dossier, "physician", {"type": "coaching", "medicalInformation": MEDICAL_TEXT})
    await desk.form("formC", dossier, "vdab", {"expectations": "Coaching"})
    ours = set(desk.ids.values())

    # Each of them works on persons of its own: its list holds those, never this person's items.
    strangers = others_of(population, tokens, person)
    insurer_of = {v: k for k, v in INSURER_BY_OA.items()}
    other_member = next(
        p
        for p in population.persons.values()
        if p.oa_number == insurer_of[strangers["otherInsurer"][0]] and not p.replaced_by and not p.death_date
    )
    organisation, role = strangers["otherInsurer"]
    other_insurer = Caller(client, tokens.token(organisation, [role]))
    theirs_desk = Desk({"coord": other_insurer})
    theirs = await theirs_desk.form("theirs", await theirs_desk.dossier(other_member.ssin), "coord", CONTENT)
    assert ids_of(await listed(other_insurer, FORMS)) == [theirs]

    for name, (organisation, role) in strangers.items():
        stranger = Caller(client, tokens.token(organisation, [role]))
        for path in (REQUESTS, FORMS):
            seen = set(ids_of(await listed(stranger, path)))
            assert not seen & ours, (name, path)
    assert await listed(c["expert"], FORMS) == []  # INAMI is addressed requests, not forms


async def test_a_person_who_left_vdab_vanishes_from_its_lists_and_the_denial_is_audited(
    callers: dict[str, Caller],
    person: SimulatedPerson,
    population: Population,
    connection: AsyncConnection,
    app: FastAPI,
    engine: AsyncEngine,
) -> None:
    c, desk = callers, Desk(callers)
    dossier = await desk.dossier(person.ssin)
    form = await desk.form("form", dossier, "coord", CONTENT)
    training = await desk.request("training", dossier, "vdab", training_on(form))
    assert ids_of(await listed(c["vdab"], REQUESTS)) == [training]
    assert ids_of(await listed(c["vdab"], FORMS)) == [form]

    with registered_nowhere(population, person):
        await forget_links(app, engine)
        requests_after = await c["vdab"].post(REQUESTS, {})
        forms_after = await c["vdab"].post(FORMS, {"queue": "registeredWithMe"})
    for response, operation, resource_type in (
        (requests_after, "queryRequests", "request"),
        (forms_after, "queryRegistrationForms", "registrationForm"),
    ):
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []
        assert person.ssin not in response.text
        assert await records_of(connection, response) == [
            (person.ssin, operation, resource_type, "deny", "noLink", 200)
        ]
    # VDAB's auditor reads the denial back through the API.
    today = datetime.now(UTC).date().isoformat()
    log = await c["vdabAuditor"].post("/auditEvents/query", {"from": today, "to": today, "pageSize": 1000})
    assert log.status_code == 200, log.text
    denials = [
        (item["operation"], item["reason"])
        for item in log.json()["items"]
        if item["traceId"] == requests_after.headers["BelGov-Trace-Id"]
    ]
    assert denials == [("queryRequests", "noLink")]
    # The insurer still sees both: its link did not change.
    assert ids_of(await listed(c["coord"], REQUESTS)) == [training]


# --- paging, filters, bad input ------------------------------------------------------------------------------------
async def walk_pages(caller: Caller, path: str, body: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    page: str | None = None
    for _ in range(50):
        response = await caller.post(path, {**body, "pageSize": 1, **({"page": page} if page else {})})
        assert response.status_code == 200, response.text
        found = response.json()
        assert len(found["items"]) <= 1
        seen += ids_of(found["items"])
        page = found["next"]
        if page is None:
            return seen
    raise AssertionError("the pages never ended")


async def test_pages_of_one_walk_every_item_exactly_once(
    callers: dict[str, Caller], population: Population, tokens: TokenFactory, connection: AsyncConnection
) -> None:
    c, desk = callers, Desk(callers)
    persons = more_persons(population, tokens, 4)
    for index, someone in enumerate(persons):
        dossier = await desk.dossier(someone.ssin)
        await desk.form(f"form{index}", dossier, "coord", CONTENT)
        await desk.request(f"training{index}", dossier, "coord", {"type": "training", "trainings": [TRAINING]})
        await desk.request(f"coaching{index}", dossier, "physician", {"type": "coaching"})
    at_vdab = sum(registered_with(someone, tokens) for someone in persons)
    assert at_vdab >= 2

    for who, path, count in (
        ("coord", REQUESTS, 8),
        ("coord", FORMS, 4),
        ("vdab", REQUESTS, 2 * at_vdab),
        ("vdab", FORMS, at_vdab),
        ("expert", REQUESTS, 8),
    ):
        everything = ids_of(await listed(c[who], path, {"pageSize": 100}))
        assert len(everything) == count
        walked = await walk_pages(c[who], path, {})
        assert walked == everything, (who, path)
    # A page records the one person it shows.
    one = await c["coord"].post(REQUESTS, {"pageSize": 1})
    assert [r[3:] for r in await records_of(connection, one)] == [("permit", "insurerAffiliation", 200)]


async def test_filters_narrow_the_list(
    callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection
) -> None:
    c, desk = callers, Desk(callers)
    dossier = await desk.dossier(person.ssin, "vdab")
    form = await desk.form("form", dossier, "coord", CONTENT)
    form_c = await desk.form("formC", dossier, "vdab", {"expectations": "Coaching"})
    training = await desk.request("training", dossier, "vdab", training_on(form))
    coaching = await desk.request("coaching", dossier, "vdab", {"type": "coaching", "registrationFormId": form})
    before_validation = datetime.now(UTC)
    await desk.act(
        "training", "coord", f"/requests/{training}/insurerValidation", {"validated": True, "motivation": "ok"}
    )
    created_on = (await connection.scalar(text("SELECT now()"))).astimezone(UTC).date()
    day = timedelta(days=1)

    cases: list[tuple[str, dict[str, Any], list[str]]] = [
        (REQUESTS, {}, [coaching, training]),
        (REQUESTS, {"type": "coaching"}, [coaching]),
        (REQUESTS, {"type": "training", "status": ["atInami"]}, [training]),
        (REQUESTS, {"status": ["awaitingInsurerValidation", "refusedByInsurer"]}, []),
        (REQUESTS, {"status": ["approved"], "queue": "atInami"}, []),
        (REQUESTS, {"changedSince": before_validation.isoformat()}, [training]),
        (REQUESTS, {"createdFrom": created_on.isoformat(), "createdTo": created_on.isoformat()}, [coaching, training]),
        (REQUESTS, {"createdTo": (created_on - day).isoformat()}, []),
        (REQUESTS, {"createdFrom": (created_on + day).isoformat()}, []),
        (FORMS, {}, [form, form_c]),
        (FORMS, {"routing": "routingC"}, [form_c]),
        (FORMS, {"routing": "standard", "status": ["submitted"]}, [form]),
        (FORMS, {"routing": "standard", "queue": "awaitingTargetGroupDecision"}, []),
        (FORMS, {"changedSince": before_validation.isoformat()}, []),
    ]
    for path, body, expected in cases:
        assert ids_of(await listed(c["coord"], path, body)) == expected, (path, body)


BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"queue": "everything"}, "queue"),
    ({"createdFrom": "2026-11-02", "createdTo": "2026-11-01"}, "createdTo"),
    ({"page": "bm90LWEtY3Vyc29y"}, "page"),
    ({"page": "%%%"}, "page"),
    ({"pageSize": 0}, "pageSize"),
    ({"pageSize": 101}, "pageSize"),
    ({"status": []}, "status"),
    ({"status": ["open"]}, "status"),
    ({"changedSince": "yesterday"}, "changedSince"),
    ({"assignedTo": "me"}, "assignedTo"),
]


@pytest.mark.parametrize("path", [REQUESTS, FORMS])
@pytest.mark.parametrize(("body", "name"), BAD_BODIES)
async def test_bad_filters_are_400(path: str, body: dict[str, Any], name: str, callers: dict[str, Caller]) -> None:
    response = await callers["coord"].post(path, body)
    problem = assert_problem(response, 400, "urn:problem-type:belgif:badRequest")
    assert name in {issue.get("name", "").split("[")[0].split(".")[0] for issue in problem["issues"]}, problem


@pytest.mark.parametrize("path", [REQUESTS, FORMS])
async def test_a_cursor_of_another_list_is_refused(path: str, callers: dict[str, Caller]) -> None:
    """A well-formed cursor of another kind (the feed's integers) is not one of ours."""
    import base64

    cursor = base64.urlsafe_b64encode(b"[1,2]").decode().rstrip("=")
    response = await callers["coord"].post(path, {"page": cursor})
    assert assert_problem(response, 400, "urn:problem-type:belgif:badRequest")["issues"][0]["name"] == "page"


@pytest.mark.parametrize("path", [REQUESTS, FORMS])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_the_query_paths_answer_post_only(
    path: str, method: str, client: httpx.AsyncClient, callers: dict[str, Caller]
) -> None:
    """``/requests/query`` is not the request with id "query": another method is a 405, not a 400 or a 500."""
    response = await client.request(method, f"/rp/v1{path}", headers=callers["coord"].headers, json={})
    assert_problem(response, 405, "about:blank")
    assert response.headers["Allow"] == "POST"


async def test_an_id_that_is_no_uuid_is_an_unknown_resource(callers: dict[str, Caller]) -> None:
    for path in ("/requests/not-an-id", "/registrationForms/not-an-id"):
        assert_problem(await callers["coord"].get(path), 404, "urn:problem-type:belgif:resourceNotFound")


@pytest.mark.parametrize("path", [REQUESTS, FORMS])
async def test_an_auditors_token_is_refused_at_the_door(
    path: str, callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection
) -> None:
    desk = Desk(callers)
    dossier = await desk.dossier(person.ssin)
    await desk.form("form", dossier, "coord", CONTENT)
    response = await callers["vdabAuditor"].post(path, {})
    assert_problem(response, 403, "urn:problem-type:belgif:missingPermission")
    assert await records_of(connection, response) == []  # refused before any person was looked at


@pytest.mark.parametrize(("fault", "status"), [("error", 503), ("malformed", 502)])
async def test_a_source_failing_for_a_line_fails_the_page_rather_than_drop_it(
    fault: str,
    status: int,
    callers: dict[str, Caller],
    person: SimulatedPerson,
    connection: AsyncConnection,
    simulator: Any,
    app: FastAPI,
    engine: AsyncEngine,
) -> None:
    desk = Desk(callers)
    dossier = await desk.dossier(person.ssin)
    await desk.form("form", dossier, "coord", CONTENT)
    await forget_links(app, engine)
    simulator.faults["jobSeeker"] = fault
    response = await callers["vdab"].post(FORMS, {"queue": "registeredWithMe"})
    assert response.status_code == status, response.text
    assert person.ssin not in response.text
    reason = "sourceUnavailable" if status == 503 else "sourceBadResponse"
    assert [r[3:] for r in await records_of(connection, response)] == [("deny", reason, status)]
