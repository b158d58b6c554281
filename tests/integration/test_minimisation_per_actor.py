"""Each actor gets only what the visibility table gives it (deliberation 26/060, issue 19), read off WHOLE answers.

One person with two employers, each affiliated to another prevention service (P and Q); distinctive marker strings
are planted in every block of the table — the insurer's and the occupational physician's forms (health data
included), a routing C form, a training request on the occupational physician's form (costs, the insurer's
validation, INAMI's motivation), a coaching request on the insurer's form, a direct request with medical
information, the medical inspector's advice and conclusion. Then every role of every organisation type reads the
dossier, each form and request directly, its work lists, its decision list (JSON and CSV) and its whole change feed,
and the raw text of each answer is searched for every marker the table withholds from it (and for those it gives).
Also: health data written by physicians only (400 naming the field, nothing written), and the direct reads of what
a prevention service took no part in (404, recorded as ``notFound``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.visibility import Block, Read, read_level, viewers_of
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import INSURER_BY_OA, Caller
from tests.integration.test_requests_and_decisions import WEEK
from tests.integration.test_work_routing import whole_feed
from tests.token_factory import TokenFactory

REGISTRY = OrganisationRegistry.load()
T, R, B = OrganisationType, Role, Block
TAG = "q7z"
MARK = {
    "maExpectations": f"MA-EXPECTATIONS-{TAG}",
    "maWork": f"MA-WORK-PROBLEMS-{TAG}",
    "maIncapacity": "2021-02-17",
    "maCapacities": f"MA-FUNCTIONAL-CAPACITIES-{TAG}",
    "maQuestion": f"MA-QUESTION-EXPECTATIONS-{TAG}",
    "opExpectations": f"OP-EXPECTATIONS-{TAG}",
    "opIncapacity": "2021-03-18",
    "opCapacities": f"OP-FUNCTIONAL-CAPACITIES-{TAG}",
    "opName": f"Dr. OP-NAME-{TAG}",
    "routingC": f"ROUTING-C-EXPECTATIONS-{TAG}",
    "targetGroup": f"TARGET-GROUP-MOTIVATION-{TAG}",
    "trainingTitle": f"TRAINING-TITLE-{TAG}",
    "trainingCost": "1234.56",
    "validation": f"VALIDATION-MOTIVATION-{TAG}",
    "trainingMotivation": f"DECISION-MOTIVATION-TRAINING-{TAG}",
    "coachingMotivation": f"DECISION-MOTIVATION-COACHING-{TAG}",
    "medicalInformation": f"MEDICAL-INFORMATION-{TAG}",
    "medicalAdvice": f"MEDICAL-ADVICE-{TAG}",
    "conclusion": "compatibleWithConditions",
    "conclusionRemarks": f"CONCLUSION-REMARKS-{TAG}",
}
WHERE: dict[str, tuple[Block, str]] = {
    "maExpectations": (B.FORM_EXPECTATIONS, "formA"),
    "maWork": (B.FORM_WORK_PROBLEMS, "formA"),
    "maIncapacity": (B.FORM_INCAPACITY_START_DATE, "formA"),
    "maCapacities": (B.FORM_QUESTION_FUNCTIONAL_CAPACITIES, "formA"),
    "maQuestion": (B.FORM_QUESTION_EXPECTATIONS, "formA"),
    "opExpectations": (B.FORM_EXPECTATIONS, "formB"),
    "opIncapacity": (B.FORM_INCAPACITY_START_DATE, "formB"),
    "opCapacities": (B.FORM_QUESTION_FUNCTIONAL_CAPACITIES, "formB"),
    "opName": (B.FORM_OCCUPATIONAL_PHYSICIAN_NAME, "formB"),
    "routingC": (B.FORM_EXPECTATIONS, "formC"),
    "targetGroup": (B.FORM_TARGET_GROUP_DECISION, "formC"),
    "trainingTitle": (B.REQUEST_CONTENT, "training"),
    "trainingCost": (B.REQUEST_COSTS, "training"),
    "validation": (B.REQUEST_INSURER_VALIDATION, "training"),
    "trainingMotivation": (B.REQUEST_DECISION_MOTIVATION, "training"),
    "coachingMotivation": (B.REQUEST_DECISION_MOTIVATION, "coaching"),
    "medicalInformation": (B.REQUEST_MEDICAL_INFORMATION, "direct"),
    "medicalAdvice": (B.REQUEST_MEDICAL_ADVICE, "direct"),
    "conclusion": (B.REQUEST_MEDICAL_CONCLUSION, "direct"),
    "conclusionRemarks": (B.REQUEST_MEDICAL_CONCLUSION, "direct"),
}
"""Marker → the block of the table it is in, and the form or request that holds it."""
HEALTH = {"maIncapacity", "maCapacities", "opIncapacity", "opCapacities", "medicalInformation", "medicalAdvice"}
FORMS, REQUESTS = ("formA", "formB", "formC"), ("training", "coaching", "direct")


@dataclass(frozen=True)
class Cast:
    """The person, the organisations linked to it, and the link markers: the employers' and the prevention
    services' numbers and names, the regional registration's date."""

    person: SimulatedPerson
    insurer: str
    regional: str
    registration_date: str
    employer_p: tuple[str, str]
    employer_q: tuple[str, str]
    prevention_p: str
    prevention_q: str


def cast_of(population: Population) -> Cast:
    """A living insured person registered with a regional service whose two employers are each affiliated to a
    different prevention service (a TRIO dossier, if one such person has it)."""
    found = []
    for person in population.persons.values():
        if person.death_date or person.replaced_by or person.oa_number not in INSURER_BY_OA or not person.registrations:
            continue
        employers = [population.employers[e] for e in person.employers]
        for first, second in ((a, b) for a in employers for b in employers if a is not b):
            shared = set(first.prevention_services) & set(second.prevention_services)
            if first.prevention_services and second.prevention_services and not shared:
                regional, registered = person.registrations[0]
                found.append(
                    Cast(
                        person,
                        REGISTRY.find(INSURER_BY_OA[person.oa_number or 0]).enterprise_number,  # type: ignore[union-attr]
                        regional,
                        registered.isoformat(),
                        (first.enterprise_number, first.name),
                        (second.enterprise_number, second.name),
                        first.prevention_services[0],
                        second.prevention_services[0],
                    )
                )
    assert found, "the demo population has persons with two employers and two prevention services"
    return sorted(found, key=lambda c: (not c.person.trio_dossier, c.person.ssin))[0]


ACTORS: dict[str, tuple[str, OrganisationType, Role]] = {
    "insurerPhysician": ("insurer", T.INSURER, R.MEDICAL_ADVISOR),
    "insurerTeam": ("insurer", T.INSURER, R.MULTIDISCIPLINARY_TEAM),
    "insurerCoordinator": ("insurer", T.INSURER, R.RETURN_TO_WORK_COORDINATOR),
    "insurerAdministrative": ("insurer", T.INSURER, R.ADMINISTRATIVE),
    "referenceAdvisor": ("regional", T.REGIONAL_SERVICE, R.REFERENCE_ADVISOR),
    "listManager": ("regional", T.REGIONAL_SERVICE, R.LIST_MANAGER),
    "occupationalPhysician": ("prevention_p", T.PREVENTION_SERVICE, R.OCCUPATIONAL_PHYSICIAN),
    "nurse": ("prevention_p", T.PREVENTION_SERVICE, R.NURSE),
    "medicalSecretariat": ("prevention_p", T.PREVENTION_SERVICE, R.MEDICAL_SECRETARIAT),
    "preventionAdministrative": ("prevention_p", T.PREVENTION_SERVICE, R.ADMINISTRATIVE),
    "otherPreventionPhysician": ("prevention_q", T.PREVENTION_SERVICE, R.OCCUPATIONAL_PHYSICIAN),
    "socialExpert": ("inami", T.INAMI, R.SOCIAL_EXPERT),
    "medicalInspector": ("inami", T.INAMI, R.MEDICAL_INSPECTOR),
}
"""Every role that works on dossiers, of every organisation type linked to the person (and the other prevention
service, linked through the other employer only)."""


@dataclass
class World:
    cast: Cast
    callers: dict[str, Caller]
    ids: dict[str, str] = field(default_factory=dict)


def caller_for(client: httpx.AsyncClient, tokens: TokenFactory, cast: Cast, name: str) -> Caller:
    where, _, role = ACTORS[name]
    organisation = "INAMI" if where == "inami" else getattr(cast, where)
    return Caller(client, tokens.token(organisation, [role.value]))


async def ok(response: httpx.Response, status: int = 200) -> httpx.Response:
    assert response.status_code == status, response.text
    return response


async def build(client: httpx.AsyncClient, tokens: TokenFactory, population: Population) -> World:
    cast = cast_of(population)
    world = World(cast, {name: caller_for(client, tokens, cast, name) for name in ACTORS})
    c, ids = world.callers, world.ids
    body = {"ssin": cast.person.ssin, "start": "registrationForm"}
    ids["dossier"] = (await ok(await c["insurerPhysician"].post("/dossiers", body), 201)).json()["id"]
    dossier = ids["dossier"]

    async def form(who: str, name: str, content: dict[str, Any]) -> None:
        created = await ok(await c[who].post(f"/dossiers/{dossier}/registrationForms", content), 201)
        ids[name] = created.json()["id"]
        await ok(await c[who].post(f"/registrationForms/{ids[name]}/submit", **{"If-Match": created.headers["ETag"]}))

    question = {"expectations": MARK["maQuestion"], "functionalCapacities": MARK["maCapacities"]}
    await form(
        "insurerPhysician",
        "formA",
        {
            "expectations": MARK["maExpectations"],
            "workProblems": MARK["maWork"],
            "incapacityStartDate": MARK["maIncapacity"],
            "physicianQuestion": question,
        },
    )
    consent = {"scope": "occupationalPhysicianContact", "formVersion": "RP-2026.1", "givenOn": today()}
    await ok(await c["occupationalPhysician"].post(f"/dossiers/{dossier}/consents", consent), 201)
    await form(
        "occupationalPhysician",
        "formB",
        {
            "expectations": MARK["opExpectations"],
            "incapacityStartDate": MARK["opIncapacity"],
            "occupationalPhysicianName": MARK["opName"],
            "physicianQuestion": {"functionalCapacities": MARK["opCapacities"]},
        },
    )
    training = {
        "provider": "Syntra",
        "title": MARK["trainingTitle"],
        "startDate": "2027-01-04",
        "endDate": "2027-03-26",
        "plannedHours": 120,
        "cost": MARK["trainingCost"],
    }
    asked = await ok(
        await c["referenceAdvisor"].post(
            f"/dossiers/{dossier}/requests",
            {"type": "training", "registrationFormId": ids["formB"], "trainings": [training]},
        ),
        201,
    )
    ids["training"] = asked.json()["id"]
    await ok(
        await c["insurerCoordinator"].post(
            f"/requests/{ids['training']}/insurerValidation",
            {"validated": True, "motivation": MARK["validation"]},
            **{"If-Match": asked.headers["ETag"]},
        )
    )
    coaching = {"type": "coaching", "registrationFormId": ids["formA"]}
    ids["coaching"] = (
        await ok(await c["referenceAdvisor"].post(f"/dossiers/{dossier}/requests", coaching), 201)
    ).json()["id"]
    direct = await ok(
        await c["insurerPhysician"].post(
            f"/dossiers/{dossier}/requests", {"type": "coaching", "medicalInformation": MARK["medicalInformation"]}
        ),
        201,
    )
    ids["direct"] = direct.json()["id"]
    advice = {
        "text": MARK["medicalAdvice"],
        "conclusion": MARK["conclusion"],
        "conclusionRemarks": MARK["conclusionRemarks"],
    }
    await ok(
        await c["medicalInspector"].post(
            f"/requests/{ids['direct']}/medicalAdvice", advice, **{"If-Match": direct.headers["ETag"]}
        )
    )
    await form("referenceAdvisor", "formC", {"expectations": MARK["routingC"]})
    current = await ok(await c["insurerCoordinator"].get(f"/registrationForms/{ids['formC']}"))
    await ok(
        await c["insurerCoordinator"].post(
            f"/registrationForms/{ids['formC']}/targetGroupDecision",
            {"inTargetGroup": True, "motivation": MARK["targetGroup"]},
            **{"If-Match": current.headers["ETag"]},
        )
    )
    approved = {"approvedAmount": MARK["trainingCost"], "periodStart": "2027-01-04", "periodEnd": "2027-03-26"}
    decisions = [
        {"requestId": ids["training"], "outcome": "approved", "motivation": MARK["trainingMotivation"], **approved},
        {"requestId": ids["coaching"], "outcome": "refused", "motivation": MARK["coachingMotivation"]},
    ]
    await ok(await c["socialExpert"].post("/decisionRounds", {"week": WEEK, "decisions": decisions}), 201)
    return world


def today() -> str:
    return datetime.now(UTC).date().isoformat()


@dataclass
class Answers:
    """What one actor got: each answer's raw text by what it asked, and its status."""

    items: dict[str, httpx.Response] = field(default_factory=dict)
    """The dossier, each form and request read directly, the work lists."""
    lists: dict[str, httpx.Response] = field(default_factory=dict)
    """The decision list in JSON and in CSV (§48: lines of its own, checked for health data and links)."""
    feed: list[dict[str, Any]] = field(default_factory=list)


async def answers_of(world: World, name: str) -> Answers:
    caller, ids, got = world.callers[name], world.ids, Answers()
    got.items["dossier"] = await caller.get(f"/dossiers/{ids['dossier']}")
    for item in FORMS:
        got.items[item] = await caller.get(f"/registrationForms/{ids[item]}")
    for item in REQUESTS:
        got.items[item] = await caller.get(f"/requests/{ids[item]}")
    got.items["requestWorkList"] = await caller.post("/requests/query", {"pageSize": 100})
    got.items["formWorkList"] = await caller.post("/registrationForms/query", {"pageSize": 100})
    got.lists["decisions"] = await caller.get(f"/decisions?week={WEEK}")
    got.lists["decisionsCsv"] = await caller.get(f"/decisions?week={WEEK}", Accept="text/csv")
    feed = await caller.get("/events?after=0")
    if feed.status_code == 200:
        got.feed = await whole_feed(caller)
    else:
        got.items["feed"] = feed
    return got


def reads(name: str, block: Block) -> Read:
    _, organisation_type, role = ACTORS[name]
    return read_level(block, viewers_of(organisation_type, {role}))


def items_seen(name: str) -> set[str]:
    """The forms and requests the actor may read at all: the table's ``form``/``request`` blocks (a prevention
    service, only its occupational physician's form and the request made on it, and only P's)."""
    seen = set()
    for items, block in ((FORMS, B.FORM), (REQUESTS, B.REQUEST)):
        match reads(name, block):
            case Read.YES:
                seen |= set(items)
            case Read.TAKEN_PART if ACTORS[name][0] == "prevention_p":
                seen |= {"formB", "training"} & set(items)
    return seen


def withheld(world: World, name: str) -> dict[str, str]:
    """Every marker the table withholds from the actor, by name."""
    cast = world.cast
    out = {
        key: MARK[key]
        for key, (block, item) in WHERE.items()
        if item not in items_seen(name) or reads(name, block) is Read.NO
    }
    employers = reads(name, B.DOSSIER_EMPLOYERS)
    own_employer = ACTORS[name][0] == "prevention_p" and employers is Read.OWN_LINK
    other_employer = ACTORS[name][0] == "prevention_q" and employers is Read.OWN_LINK
    if employers is not Read.YES:
        if not own_employer:
            out |= {"employerPNumber": cast.employer_p[0], "employerPName": cast.employer_p[1]}
        if not other_employer:
            out |= {"employerQNumber": cast.employer_q[0], "employerQName": cast.employer_q[1]}
            out |= {"preventionQ": cast.prevention_q}
        else:  # the other prevention service took part in nothing: not even the first one's number shows
            out["preventionP"] = cast.prevention_p
    if reads(name, B.DOSSIER_REGIONAL_SERVICES) is Read.NO:
        out["registrationDate"] = cast.registration_date
    return out


def given(world: World, name: str) -> dict[str, str]:
    """Markers the actor must find in the items it reads (the table gives them; the health data of a form only in
    the form itself, never in a work-list line)."""
    cast = world.cast
    out = {
        key: MARK[key]
        for key, (block, item) in WHERE.items()
        if item in items_seen(name) and reads(name, block) is not Read.NO
    }
    match reads(name, B.DOSSIER_EMPLOYERS):
        case Read.YES:
            out |= {"employerP": cast.employer_p[0], "employerQ": cast.employer_q[0], "preventionQ": cast.prevention_q}
        case Read.OWN_LINK:
            out["ownEmployer"] = (cast.employer_p if ACTORS[name][0] == "prevention_p" else cast.employer_q)[0]
    if reads(name, B.DOSSIER_REGIONAL_SERVICES) is not Read.NO:
        out["registrationDate"] = cast.registration_date
    return out


async def test_each_actor_gets_only_what_the_table_gives_it(
    own_client: httpx.AsyncClient, own_database: URL, tokens: TokenFactory, population: Population
) -> None:
    world = await build(own_client, tokens, population)
    assert world.cast.registration_date not in MARK.values()
    leaks: list[tuple[str, str, str]] = []
    missing: list[tuple[str, str]] = []
    for name in ACTORS:
        got = await answers_of(world, name)
        forbidden = withheld(world, name)
        for where, response in got.items.items():
            leaks += [(name, where, key) for key, value in forbidden.items() if value in response.text]
            if response.status_code == 200 and where == "dossier":
                keys = set(response.json())
                trio = reads(name, B.DOSSIER_TRIO) is not Read.NO
                if ("trioDossierExists" in keys) is not trio:
                    leaks.append((name, where, "trioDossierExists" if not trio else "trioDossierExists missing"))
                for key, block in (("insurer", B.DOSSIER_INSURER), ("employers", B.DOSSIER_EMPLOYERS)):
                    if (key in keys) is (reads(name, block) is Read.NO):
                        leaks.append((name, where, f"{key} block"))
        # Lists (§48: lines of the caller's own decisions) never carry health data, nor the links the caller lacks.
        for where, response in got.lists.items():
            for key in HEALTH | {"conclusionRemarks"} | (forbidden.keys() - WHERE.keys()):
                if key in forbidden and forbidden[key] in response.text:
                    leaks.append((name, where, key))
        # The feed tells only of what the actor may read (ids only).
        told = {event["resourceId"] for event in got.feed} - {world.ids["dossier"]}
        seen_ids = {world.ids[item] for item in items_seen(name)}
        leaks += [(name, "feed", item) for item, i in world.ids.items() if i in told - seen_ids]
        # What the table gives is there, in the answers it reads directly.
        read_directly = " ".join(
            got.items[item].text for item in ("dossier", *FORMS, *REQUESTS) if got.items[item].status_code == 200
        )
        missing += [(name, key) for key, value in given(world, name).items() if value not in read_directly]
        # Direct reads: 200 for what it may read, 404 for a form or request it may not (never 403: ids not probed).
        for item in (*FORMS, *REQUESTS):
            expected = 200 if item in items_seen(name) else 403 if name == "listManager" else 404
            if got.items[item].status_code != expected:
                leaks.append((name, item, f"status {got.items[item].status_code}, not {expected}"))
    assert leaks == [], leaks
    assert missing == [], missing

    # The prevention service's direct reads of what it took no part in: 404, recorded as notFound.
    engine = create_async_engine(own_database)
    try:
        async with engine.connect() as connection:
            for item in ("formA", "formC", "coaching", "direct"):
                path = f"/registrationForms/{world.ids[item]}" if item in FORMS else f"/requests/{world.ids[item]}"
                response = await world.callers["preventionAdministrative"].get(path)
                assert response.status_code == 404
                assert await records_of(connection, response) == [("deny", "notFound", 404)]
    finally:
        await engine.dispose()


async def records_of(connection: AsyncConnection, response: httpx.Response) -> list[tuple[Any, ...]]:
    rows = await connection.execute(
        text("SELECT outcome, reason, status FROM audit_event WHERE trace_id = :trace ORDER BY seq"),
        {"trace": response.headers["BelGov-Trace-Id"]},
    )
    return [tuple(row) for row in rows]


# --- the medical advice and its conclusion (§49–50) ------------------------------------------------------------------
async def test_the_social_expert_sees_the_conclusion_and_not_the_advice(
    client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson
) -> None:
    c = {
        name: Caller(client, tokens.token(org, [role]))
        for name, (org, role) in {
            "physician": ("Solidaris", "medicalAdvisor"),
            "team": ("Solidaris", "multidisciplinaryTeam"),
            "coordinator": ("Solidaris", "returnToWorkCoordinator"),
            "vdab": ("VDAB", "referenceAdvisor"),
            "expert": ("INAMI", "socialExpert"),
            "inspector": ("INAMI", "medicalInspector"),
        }.items()
    }
    dossier = (await c["physician"].post("/dossiers", {"ssin": person.ssin, "start": "request"})).json()["id"]
    body = {"type": "coaching", "medicalInformation": MARK["medicalInformation"]}
    direct = await ok(await c["physician"].post(f"/dossiers/{dossier}/requests", body), 201)
    path, etag = f"/requests/{direct.json()['id']}", {"If-Match": direct.headers["ETag"]}

    # The conclusion is part of the advice: without it, or another value, 400 and nothing written.
    for bad in ({"text": MARK["medicalAdvice"]}, {"text": MARK["medicalAdvice"], "conclusion": "maybe"}):
        refused = await c["inspector"].post(f"{path}/medicalAdvice", bad, **etag)
        assert refused.status_code == 400, refused.text
        assert MARK["medicalAdvice"] not in refused.text
    # Only the medical inspector gives it (the social expert asks for it).
    advice = {"text": MARK["medicalAdvice"], "conclusion": MARK["conclusion"], "conclusionRemarks": "Half-days first"}
    assert (await c["expert"].post(f"{path}/medicalAdvice", advice, **etag)).status_code == 403
    given_advice = await ok(await c["inspector"].post(f"{path}/medicalAdvice", advice, **etag))
    assert given_advice.json()["medicalAdvice"] == MARK["medicalAdvice"]

    conclusion = {"conclusion": MARK["conclusion"], "remarks": "Half-days first"}
    seen = {name: await ok(await caller.get(path)) for name, caller in c.items()}
    assert seen["expert"].json()["medicalConclusion"] == conclusion
    assert "medicalAdvice" not in seen["expert"].json()
    assert MARK["medicalAdvice"] not in seen["expert"].text
    assert MARK["medicalInformation"] not in seen["expert"].text
    for physician in ("inspector", "physician", "team"):
        assert seen[physician].json()["medicalAdvice"] == MARK["medicalAdvice"]
        assert seen[physician].json()["medicalConclusion"] == conclusion
    for other in ("coordinator", "vdab"):
        assert {"medicalAdvice", "medicalConclusion", "medicalInformation"}.isdisjoint(seen[other].json())
        assert MARK["conclusion"] not in seen[other].text
    # The social expert's work list carries the conclusion (not health data), never the advice.
    at_inami = await ok(await c["expert"].post("/requests/query", {"queue": "atInami", "pageSize": 100}))
    line = next(item for item in at_inami.json()["items"] if item["id"] == direct.json()["id"])
    assert line["medicalConclusion"] == conclusion
    assert MARK["medicalAdvice"] not in at_inami.text


# --- health data written by physicians only --------------------------------------------------------------------------
async def count(connection: AsyncConnection, table: str) -> int:
    return int(await connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)  # noqa: S608 - a fixed name


async def test_health_fields_are_written_by_physicians_only(
    client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson, connection: AsyncConnection
) -> None:
    c = {
        name: Caller(client, tokens.token(org, [role]))
        for name, (org, role) in {
            "physician": ("Solidaris", "medicalAdvisor"),
            "team": ("Solidaris", "multidisciplinaryTeam"),
            "coordinator": ("Solidaris", "returnToWorkCoordinator"),
            "administrative": ("Solidaris", "administrative"),
            "vdab": ("VDAB", "referenceAdvisor"),
        }.items()
    }
    dossier = (await c["physician"].post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    forms_before = await count(connection, "registration_form")
    health = {
        "incapacityStartDate": {"incapacityStartDate": "2024-03-01"},
        "physicianQuestion.functionalCapacities": {"physicianQuestion": {"functionalCapacities": "No lifting"}},
    }
    for who in ("team", "coordinator", "administrative", "vdab"):
        for name, field_ in health.items():
            response = await c[who].post(f"/dossiers/{dossier}/registrationForms", {"expectations": "x", **field_})
            assert response.status_code == 400, (who, response.text)
            assert [issue["name"] for issue in response.json()["issues"]] == [name], who
            assert "No lifting" not in response.text
    assert await count(connection, "registration_form") == forms_before  # nothing written

    # The physician's draft: a coordinator's update may not put health data in it, and leaves the physician's.
    physician_content = {
        "expectations": "Training",
        "incapacityStartDate": "2024-03-01",
        "physicianQuestion": {"expectations": "Coaching", "functionalCapacities": "No lifting"},
    }
    created = await ok(await c["physician"].post(f"/dossiers/{dossier}/registrationForms", physician_content), 201)
    form, etag = created.json()["id"], {"If-Match": created.headers["ETag"]}
    with_capacities = {**CONTENT_OF_THE_COORDINATOR, **health["physicianQuestion.functionalCapacities"]}
    refused = await c["coordinator"].put(f"/registrationForms/{form}", with_capacities, **etag)
    assert refused.status_code == 400, refused.text
    assert [issue["name"] for issue in refused.json()["issues"]] == ["physicianQuestion.functionalCapacities"]
    updated = await ok(await c["coordinator"].put(f"/registrationForms/{form}", CONTENT_OF_THE_COORDINATOR, **etag))
    assert updated.json()["expectations"] == CONTENT_OF_THE_COORDINATOR["expectations"]
    assert updated.json()["incapacityStartDate"] == "2024-03-01"
    as_physician = (await c["physician"].get(f"/registrationForms/{form}")).json()
    assert as_physician["physicianQuestion"] == {"expectations": "Job coaching", "functionalCapacities": "No lifting"}

    # Medical information: the médecin-conseil only (its team reads it, writes none).
    requests_before = await count(connection, "request")
    by_coordinator = await c["coordinator"].post(
        f"/dossiers/{dossier}/requests", {"type": "coaching", "medicalInformation": "Back pain"}
    )
    assert by_coordinator.status_code == 400, by_coordinator.text
    assert [issue["name"] for issue in by_coordinator.json()["issues"]] == ["medicalInformation"]
    assert await count(connection, "request") == requests_before
    direct = await ok(await c["coordinator"].post(f"/dossiers/{dossier}/requests", {"type": "coaching"}), 201)
    added = await c["team"].post(
        f"/requests/{direct.json()['id']}/medicalInformation", {"text": "x"}, **{"If-Match": direct.headers["ETag"]}
    )
    assert added.status_code == 403, added.text
    added = await c["physician"].post(
        f"/requests/{direct.json()['id']}/medicalInformation",
        {"text": "Back pain"},
        **{"If-Match": direct.headers["ETag"]},
    )
    assert added.status_code == 200, added.text


CONTENT_OF_THE_COORDINATOR = {"expectations": "Job coaching", "physicianQuestion": {"expectations": "Job coaching"}}


# --- decision lists follow the visibility table too -----------------------------------------------------------------
async def test_a_prevention_services_decision_list_carries_no_costs_nor_motivation(
    own_client: httpx.AsyncClient, tokens: TokenFactory, population: Population
) -> None:
    world = await build(own_client, tokens, population)
    for name in ("occupationalPhysician", "preventionAdministrative"):
        for accept in ("application/json", "text/csv"):
            listed = await ok(await world.callers[name].get(f"/decisions?week={WEEK}", Accept=accept))
            assert world.ids["training"] in listed.text  # the request made on its form: a line of its list
            assert MARK["trainingCost"] not in listed.text
            assert MARK["trainingMotivation"] not in listed.text
