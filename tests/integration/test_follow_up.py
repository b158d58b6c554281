"""The follow-up of a decided trajectory (deliberation 26/060 §48): steps recorded by the party that runs it (a
regional service for the training it asked for, an insurer for its own request), read by every party of the request,
refused to everyone else; each step a change of the dossier and a feed event for the other parties; the follow-up
list per party and period, paged, JSON and CSV alike, each line's person re-checked with the caller's current links."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.domain.consent import belgian_date
from rp_api.services.decisions import current_week
from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import CONTENT, Caller
from tests.integration.test_requests_and_decisions import TRAINING
from tests.integration.test_work_lists import records_of
from tests.token_factory import TokenFactory

TODAY = belgian_date(datetime.now(UTC))
WEEK = current_week(datetime.now(UTC).date())
TRANSITION = "urn:problem-type:rp:transitionNotAllowed"
BAD_REQUEST = "urn:problem-type:belgif:badRequest"
CONSENT = {"scope": "occupationalPhysicianContact", "formVersion": "RP-2026.1", "givenOn": "2026-01-15"}


def day(offset: int) -> str:
    """A date relative to today in Belgium (what the service calls today)."""
    return (TODAY + timedelta(days=offset)).isoformat()


PERIOD_START, PERIOD_END = -45, 60
"""The approved period, in days from today: the steps below fall in it."""


def approval(request_id: str) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "outcome": "approved",
        "approvedAmount": "1450.00",
        "periodStart": day(PERIOD_START),
        "periodEnd": day(PERIOD_END),
        "motivation": "Weekly round",
    }


@pytest.fixture
def callers(client: httpx.AsyncClient, tokens: TokenFactory) -> dict[str, Caller]:
    return {
        "insurer": Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"])),
        "insurerPhysician": Caller(client, tokens.token("Solidaris", ["medicalAdvisor"])),
        "insurerAdmin": Caller(client, tokens.token("Solidaris", ["administrative"])),
        "vdab": Caller(client, tokens.token("VDAB", ["referenceAdvisor"])),
        "vdabLists": Caller(client, tokens.token("VDAB", ["listManager"])),
        "vdabAuditor": Caller(client, tokens.token("VDAB", ["auditor"])),
        "expert": Caller(client, tokens.token("INAMI", ["socialExpert"])),
        "otherInsurer": Caller(client, tokens.token("CM", ["returnToWorkCoordinator"])),
    }


def number(tokens: TokenFactory, organisation: str) -> str:
    return tokens.organisation(organisation).enterprise_number


class Desk:
    """Builds approved trajectories for a person, as the parties would."""

    def __init__(self, callers: dict[str, Caller]) -> None:
        self.c = callers

    async def dossier(self, ssin: str) -> str:
        opened = await self.c["insurer"].post("/dossiers", {"ssin": ssin, "start": "registrationForm"})
        assert opened.status_code in (200, 201), opened.text
        return str(opened.json()["id"])

    async def submitted_form(self, dossier: str, who: Caller) -> str:
        created = await who.post(f"/dossiers/{dossier}/registrationForms", CONTENT)
        assert created.status_code == 201, created.text
        form = str(created.json()["id"])
        submitted = await who.post(f"/registrationForms/{form}/submit", **{"If-Match": created.headers["ETag"]})
        assert submitted.status_code == 200, submitted.text
        return form

    async def training(self, ssin: str, *, decide: bool = True) -> tuple[str, str]:
        """VDAB's training on the insurer's form, validated by the insurer and (``decide``) approved by INAMI:
        (dossier, request)."""
        dossier = await self.dossier(ssin)
        form = await self.submitted_form(dossier, self.c["insurer"])
        body = {"type": "training", "registrationFormId": form, "trainingProject": "Logistics", "trainings": [TRAINING]}
        created = await self.c["vdab"].post(f"/dossiers/{dossier}/requests", body)
        assert created.status_code == 201, created.text
        request_id = str(created.json()["id"])
        validated = await self.c["insurer"].post(
            f"/requests/{request_id}/insurerValidation",
            {"validated": True, "motivation": "Fits the path"},
            **{"If-Match": created.headers["ETag"]},
        )
        assert validated.status_code == 200, validated.text
        if decide:
            await self.decide(request_id)
        return dossier, request_id

    async def insurer_coaching(self, ssin: str) -> tuple[str, str]:
        """The insurer's own coaching request (no form), approved by INAMI."""
        dossier = await self.dossier(ssin)
        created = await self.c["insurerPhysician"].post(f"/dossiers/{dossier}/requests", {"type": "coaching"})
        assert created.status_code == 201, created.text
        await self.decide(created.json()["id"])
        return dossier, str(created.json()["id"])

    async def decide(self, request_id: str, outcome: str = "approved") -> None:
        decision = approval(request_id) if outcome == "approved" else {
            "requestId": request_id, "outcome": "refused", "motivation": "Not this time"
        }  # fmt: skip
        decided = await self.c["expert"].post("/decisionRounds", {"week": WEEK, "decisions": [decision]})
        assert decided.status_code == 201, decided.text


async def step(
    who: Caller, request_id: str, event: str, offset: int, *, headers: dict[str, str] | None = None, **extra: str
) -> httpx.Response:
    body = {"event": event, "occurredOn": day(offset), **extra}
    return await who.post(f"/requests/{request_id}/followUps", body, **(headers or {}))


async def dossier_state(connection: AsyncConnection, dossier: str) -> tuple[int, datetime]:
    row = (
        await connection.execute(text("SELECT version, updated_at FROM dossier WHERE id = :d"), {"d": dossier})
    ).one()
    return int(row[0]), row[1]


async def told(connection: AsyncConnection, request_id: str) -> dict[str, int]:
    """The organisations told of the request's follow-up through their feed, with the number of events each."""
    rows = await connection.execute(
        text(
            "SELECT organisation, count(*) FROM feed_event WHERE resource_id = :r AND kind = 'followUpRecorded'"
            " AND NOT medical GROUP BY organisation"
        ),
        {"r": request_id},
    )
    return {organisation: count for organisation, count in rows.all()}


async def addressees(connection: AsyncConnection, request_id: str) -> set[str]:
    rows = await connection.execute(
        text("SELECT enterprise_number FROM addressee WHERE resource_id = :r"), {"r": request_id}
    )
    return set(rows.scalars())


def assert_problem(response: httpx.Response, status: int, problem_type: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["type"] == problem_type, response.text


# --- who records, who reads --------------------------------------------------------------------------------------
async def test_the_regional_service_records_the_training_it_runs_and_every_party_reads_it(
    callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection, tokens: TokenFactory
) -> None:
    c = callers
    dossier, request_id = await Desk(c).training(person.ssin)
    version, changed_at = await dossier_state(connection, dossier)
    steps = [
        ("started", -30, {}),
        ("interrupted", -20, {"reason": "trainingCancelledByProvider"}),
        ("resumed", -10, {}),
        ("ended", -1, {"result": "workResumedOtherEmployer"}),
    ]
    recorded = []
    for event, offset, extra in steps:
        response = await step(c["vdab"], request_id, event, offset, **extra)
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["Location"] == body["self"] == f"/rp/v1/requests/{request_id}/followUps/{body['id']}"
        assert (body["requestId"], body["event"], body["occurredOn"]) == (request_id, event, day(offset))
        assert (body["reason"], body["result"]) == (extra.get("reason"), extra.get("result"))
        assert body["recordedBy"] == {"enterpriseNumber": number(tokens, "VDAB"), "role": "referenceAdvisor"}
        recorded.append(body)

    # Each step is a change of the dossier (its retention clock restarts).
    after_version, after_changed_at = await dossier_state(connection, dossier)
    assert after_version == version + len(steps)
    assert after_changed_at > changed_at

    # Every party of the request reads the follow-up; the step itself too.
    for who in ("vdab", "insurer", "insurerPhysician", "expert"):
        history = await c[who].get(f"/requests/{request_id}/followUps")
        assert history.status_code == 200, history.text
        assert history.json()["state"] == "ended"
        assert [item["id"] for item in history.json()["items"]] == [item["id"] for item in recorded]
        assert [item["event"] for item in history.json()["items"]] == [event for event, _, _ in steps]
    one = await c["insurer"].get(recorded[1]["self"].removeprefix("/rp/v1"))
    assert one.status_code == 200, one.text
    assert one.json() == recorded[1]

    # Nothing follows an end.
    assert_problem(await step(c["vdab"], request_id, "started", 0), 409, TRANSITION)

    # The other addressees are told (four events each), the recorder is not; the event carries ids only.
    expected = await addressees(connection, request_id) - {number(tokens, "VDAB")}
    assert {number(tokens, "Solidaris"), number(tokens, "INAMI")} <= expected
    assert await told(connection, request_id) == dict.fromkeys(expected, len(steps))


async def test_the_insurer_records_the_trajectory_of_its_own_request(
    callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection, tokens: TokenFactory
) -> None:
    c = callers
    dossier, request_id = await Desk(c).insurer_coaching(person.ssin)
    version, _ = await dossier_state(connection, dossier)
    started = await step(c["insurer"], request_id, "started", -5)
    assert started.status_code == 201, started.text
    assert started.json()["recordedBy"] == {
        "enterpriseNumber": number(tokens, "Solidaris"),
        "role": "returnToWorkCoordinator",
    }
    # The insurer's physician may too (a role that may ask); its administrative staff may not, nor VDAB (an
    # addressee of the request, not its requester).
    ended = await step(c["insurerPhysician"], request_id, "ended", -2, result="trainingContinued")
    assert ended.status_code == 201, ended.text
    assert ended.json()["recordedBy"]["role"] == "medicalAdvisor"
    for who in ("insurerAdmin", "vdab"):
        assert_problem(await step(c[who], request_id, "started", -1), 403, "urn:problem-type:belgif:missingPermission")

    history = await c["vdab"].get(f"/requests/{request_id}/followUps")
    assert history.status_code == 200, history.text
    assert (history.json()["state"], [i["event"] for i in history.json()["items"]]) == ("ended", ["started", "ended"])
    assert (await dossier_state(connection, dossier))[0] == version + 2
    expected = await addressees(connection, request_id) - {number(tokens, "Solidaris")}
    assert {number(tokens, "VDAB"), number(tokens, "INAMI")} <= expected
    assert await told(connection, request_id) == dict.fromkeys(expected, 2)


async def dossier_seen(caller: Caller, dossier: str) -> dict[str, Any]:
    response = await caller.get(f"/dossiers/{dossier}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def kinds_told(connection: AsyncConnection, dossier: str) -> set[str]:
    rows = await connection.execute(text("SELECT DISTINCT kind FROM feed_event WHERE dossier_id = :d"), {"d": dossier})
    return set(rows.scalars())


async def test_the_end_of_the_last_running_trajectory_closes_the_dossier_and_a_new_request_reopens_it(
    callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection
) -> None:
    c = callers
    dossier, request_id = await Desk(c).insurer_coaching(person.ssin)  # the dossier's only request, approved
    assert (await dossier_seen(c["insurer"], dossier))["status"] == "active"
    for event, offset, extra in (("started", -10, {}), ("interrupted", -8, {"reason": "familyReasons"})):
        assert (await step(c["insurer"], request_id, event, offset, **extra)).status_code == 201
        assert (await dossier_seen(c["insurer"], dossier))["status"] == "active"  # the trajectory runs (or pauses)
    version, _ = await dossier_state(connection, dossier)

    ended = await step(c["insurer"], request_id, "ended", -1, result="workResumedSameEmployer")
    assert ended.status_code == 201, ended.text
    for who in ("insurer", "vdab", "expert"):
        seen = await dossier_seen(c[who], dossier)
        assert seen["status"] == "closed", who
        assert "closedAt" in seen
        assert "closedBy" not in seen  # nobody closed it: its trajectory ended
    assert (await dossier_state(connection, dossier))[0] == version + 1
    closed = await c["insurer"].post("/dossiers/query", {"status": "closed", "pageSize": 100})
    assert dossier in {item["id"] for item in closed.json()["items"]}
    # Told as the step it is (followUpRecorded); dossierClosed is the feed's word for an explicit close only.
    assert "followUpRecorded" in await kinds_told(connection, dossier)
    assert "dossierClosed" not in await kinds_told(connection, dossier)

    # A new request reopens it.
    again = await c["insurerPhysician"].post(f"/dossiers/{dossier}/requests", {"type": "coaching"})
    assert again.status_code == 201, again.text
    reopened = await dossier_seen(c["insurer"], dossier)
    assert reopened["status"] == "active"
    assert "closedAt" not in reopened


@pytest.fixture
def worker(population: Population, tokens: TokenFactory) -> tuple[SimulatedPerson, str]:
    """A living person insured with Solidaris, registered with VDAB, one of whose employers is affiliated to a
    prevention service: (the person, that service's enterprise number)."""
    vdab = number(tokens, "VDAB")
    for person in sorted(population.persons.values(), key=lambda p: p.ssin):
        if person.oa_number != 300 or person.replaced_by or person.death_date:
            continue
        if vdab not in {service for service, _ in person.registrations}:
            continue
        for employer in person.employers:
            services = population.employers[employer].prevention_services
            if services:
                return person, services[0]
    raise AssertionError("the population has no such worker")


async def test_a_prevention_service_reads_the_follow_up_of_the_request_on_its_form_and_records_none(
    callers: dict[str, Caller], worker: tuple[SimulatedPerson, str], client: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    person, prevention = worker
    c, desk = callers, Desk(callers)
    physician = Caller(client, tokens.token(prevention, ["occupationalPhysician"]))
    dossier = await desk.dossier(person.ssin)
    assert (await physician.post(f"/dossiers/{dossier}/consents", CONSENT)).status_code == 201
    form = await desk.submitted_form(dossier, physician)
    coaching = await c["vdab"].post(f"/dossiers/{dossier}/requests", {"type": "coaching", "registrationFormId": form})
    assert coaching.status_code == 201, coaching.text
    request_id = coaching.json()["id"]
    await desk.decide(request_id)
    assert (await step(c["vdab"], request_id, "started", -3)).status_code == 201

    history = await physician.get(f"/requests/{request_id}/followUps")
    assert history.status_code == 200, history.text
    assert [item["event"] for item in history.json()["items"]] == ["started"]
    refused = await step(physician, request_id, "interrupted", -1, reason="familyReasons")
    assert_problem(refused, 403, "urn:problem-type:belgif:missingPermission")
    # An insurer's request is not one a prevention service took part in: 404, like an unknown one.
    _, own = await desk.insurer_coaching(person.ssin)
    assert_problem(await physician.get(f"/requests/{own}/followUps"), 404, "urn:problem-type:belgif:resourceNotFound")


async def test_whoever_does_not_run_the_trajectory_is_refused_404_before_403(
    callers: dict[str, Caller],
    person: SimulatedPerson,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    population: Population,
    connection: AsyncConnection,
) -> None:
    c = callers
    _, request_id = await Desk(c).training(person.ssin)
    registered = {service for service, _ in person.registrations}
    other_regional = next(
        name for name in ("Forem", "Actiris", "ADG") if number(tokens, name) not in registered
    )  # a regional service the person is not registered with
    linked_prevention = {s for e in person.employers for s in population.employers[e].prevention_services}
    other_prevention = next(
        name for name in ("Mensura", "Idewe", "Liantis") if number(tokens, name) not in linked_prevention
    )
    not_found = {
        "anotherRegionalService": Caller(client, tokens.token(other_regional, ["referenceAdvisor"])),
        "anotherInsurer": c["otherInsurer"],
        "preventionService": Caller(client, tokens.token(other_prevention, ["occupationalPhysician"])),
    }
    forbidden = {
        "inami": c["expert"],
        "insurer": c["insurer"],  # linked, not the requester
        "listManager": c["vdabLists"],  # the lists only
        "auditor": c["vdabAuditor"],  # the audit log only
    }
    for name, who in not_found.items():
        response = await step(who, request_id, "started", -3)
        assert_problem(response, 404, "urn:problem-type:belgif:resourceNotFound")
        assert person.ssin not in response.text, name
        assert [r[3:5] for r in await records_of(connection, response)] == [("deny", "noLink")], name
    for name, who in forbidden.items():
        response = await step(who, request_id, "started", -3)
        assert_problem(response, 403, "urn:problem-type:belgif:missingPermission")
        [record] = await records_of(connection, response)
        assert record[3:] == ("deny", "auditOnlyRole" if name == "auditor" else "roleNotAllowed", 403), name
    assert (await c["vdab"].get(f"/requests/{request_id}/followUps")).json()["items"] == []  # nothing was recorded


# --- the trajectory's rules ----------------------------------------------------------------------------------------
async def test_a_step_that_does_not_follow_is_409_and_recorded_as_such(
    callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection
) -> None:
    c, desk = callers, Desk(callers)
    _, waiting = await desk.training(person.ssin, decide=False)  # at INAMI
    _, refused = await desk.training(person.ssin, decide=False)
    await desk.decide(refused, "refused")
    for request_id in (waiting, refused):
        response = await step(c["vdab"], request_id, "started", -3)
        assert_problem(response, 409, TRANSITION)
        assert "not approved" in response.json()["detail"]
        assert [r[3:] for r in await records_of(connection, response)] == [("deny", "workflowState", 409)]

    _, request_id = await desk.training(person.ssin)
    sequence = [
        (("resumed", -30, {}), 409),  # nothing before started
        (("interrupted", -30, {"reason": "other"}), 409),
        (("ended", -30, {"result": "noResult"}), 409),
        (("started", PERIOD_START - 32, {}), 409),  # more than 31 days before the approved period
        (("started", -30, {}), 201),
        (("started", -29, {}), 409),  # started twice
        (("resumed", -29, {}), 409),  # not interrupted
        (("interrupted", -31, {"reason": "familyReasons"}), 409),  # before the previous step
        (("interrupted", -30, {"reason": "familyReasons"}), 201),  # the same day is allowed
        (("interrupted", -29, {"reason": "other"}), 409),  # already interrupted
        (("resumed", -30, {}), 201),
        (("ended", -1, {"result": "workResumedSameEmployer"}), 201),
        (("resumed", 0, {}), 409),  # nothing after ended
    ]
    for (event, offset, extra), status in sequence:
        response = await step(c["vdab"], request_id, event, offset, **extra)
        assert response.status_code == status, (event, offset, response.text)
        if status == 409:
            assert response.json()["type"] == TRANSITION
    history = (await c["insurer"].get(f"/requests/{request_id}/followUps")).json()
    assert [i["event"] for i in history["items"]] == ["started", "interrupted", "resumed", "ended"]


async def test_a_step_given_wrong_is_400_and_records_nothing(
    callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection
) -> None:
    c = callers
    _, request_id = await Desk(c).training(person.ssin)
    path = f"/requests/{request_id}/followUps"
    bad: list[tuple[dict[str, Any], str]] = [
        ({"event": "started", "occurredOn": day(1)}, "occurredOn"),  # in the future (Belgian date)
        ({"event": "interrupted", "occurredOn": day(-1), "reason": "illness"}, "reason"),  # no medical reason
        ({"event": "interrupted", "occurredOn": day(-1)}, "reason"),
        ({"event": "started", "occurredOn": day(-1), "reason": "other"}, "reason"),
        ({"event": "ended", "occurredOn": day(-1)}, "result"),
        ({"event": "ended", "occurredOn": day(-1), "result": "betterHealth"}, "result"),
        ({"event": "resumed", "occurredOn": day(-1), "result": "noResult"}, "result"),
        ({"event": "started", "occurredOn": day(-1), "comment": "back pain"}, "comment"),  # no free text anywhere
        ({"event": "paused", "occurredOn": day(-1)}, "event"),
        ({"event": "started", "occurredOn": 20270104}, "occurredOn"),
        ({"event": "started", "occurredOn": "2027-02-30"}, "occurredOn"),
        ({"event": "started"}, "occurredOn"),
    ]
    for body, field in bad:
        response = await c["vdab"].post(path, body)
        assert_problem(response, 400, BAD_REQUEST)
        assert field in {issue.get("name") for issue in response.json()["issues"]}, (body, response.text)
        assert "back pain" not in response.text
    assert await connection.scalar(text("SELECT count(*) FROM follow_up")) == 0


async def test_a_retry_with_the_same_idempotency_key_records_one_step(
    callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection
) -> None:
    c = callers
    _, request_id = await Desk(c).training(person.ssin)
    key = {"Idempotency-Key": "follow-up-1"}
    first = await step(c["vdab"], request_id, "started", -3, headers=key)
    again = await step(c["vdab"], request_id, "started", -3, headers=key)
    assert first.status_code == again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (again.json(), again.headers["Location"]) == (first.json(), first.headers["Location"])
    assert await connection.scalar(text("SELECT count(*) FROM follow_up")) == 1
    other = await step(c["vdab"], request_id, "started", -2, headers=key)
    assert other.status_code == 422, other.text


# --- the follow-up list ---------------------------------------------------------------------------------------------
async def walk(caller: Caller, query: str, **headers: str) -> list[httpx.Response]:
    """Every page of a follow-up list, following ``next``."""
    pages = []
    page = ""
    for _ in range(50):
        response = await caller.get(f"/followUps?{query}{page}", **headers)
        assert response.status_code == 200, response.text
        pages.append(response)
        following = response.json()["next"]
        if following is None:
            return pages
        page = f"&page={following}"
    raise AssertionError("the list does not end")


def flat(item: dict[str, Any]) -> dict[str, str]:
    """A JSON line as its CSV row (null: an empty cell)."""
    row = {key: value for key, value in item.items() if key not in ("person", "recordedBy")}
    row |= item["person"]
    row["recordedBy"], row["recordedByRole"] = item["recordedBy"]["enterpriseNumber"], item["recordedBy"]["role"]
    return {key: "" if value is None else str(value) for key, value in row.items()}


async def test_the_follow_up_list_by_period_over_several_pages_loses_and_repeats_no_line(
    callers: dict[str, Caller],
    population: Population,
    tokens: TokenFactory,
    connection: AsyncConnection,
) -> None:
    c, desk = callers, Desk(callers)
    vdab = number(tokens, "VDAB")
    persons = [
        p
        for p in sorted(population.persons.values(), key=lambda p: p.ssin)
        if p.oa_number == 300 and not p.replaced_by and not p.death_date and vdab in {s for s, _ in p.registrations}
    ][:2]
    assert len(persons) == 2
    recorded: dict[str, dict[str, Any]] = {}
    for index, person in enumerate(persons):
        _, training = await desk.training(person.ssin)
        for event, offset, extra in (
            ("started", -30 + index, {}),
            ("interrupted", -20, {"reason": "personalCircumstances"}),
            ("resumed", -12 + index, {}),
            ("ended", -5, {"result": "workResumedSameEmployer"}),
        ):
            response = await step(c["vdab"], training, event, offset, **extra)
            assert response.status_code == 201, response.text
            recorded[response.json()["id"]] = {**response.json(), "ssin": person.ssin}
    _, coaching = await desk.insurer_coaching(persons[0].ssin)  # the insurer's: on VDAB's list too (an addressee)
    response = await step(c["insurer"], coaching, "started", -20)
    recorded[response.json()["id"]] = {**response.json(), "ssin": persons[0].ssin}
    outside = await step(c["insurer"], coaching, "interrupted", -1, reason="other")  # after the period asked below
    assert outside.status_code == 201, outside.text

    query = f"from={day(-40)}&to={day(-2)}&pageSize=2"
    pages = await walk(c["vdabLists"], query)
    lines = [item for page in pages for item in page.json()["items"]]
    assert len(pages) == 5  # 9 lines, two a page (the last page's next is null)
    assert len(lines) == len({line["id"] for line in lines}) == len(recorded)  # none repeated
    assert {line["id"] for line in lines} == set(recorded)  # none lost; the step outside the period is not listed
    keys = [(line["occurredOn"], line["id"]) for line in lines]
    assert keys == sorted(keys)
    for line in lines:
        mine = recorded[line["id"]]
        person = population.persons[mine["ssin"]]
        assert line["person"] == {"ssin": person.ssin, "givenName": person.given_name, "familyName": person.family_name}
        assert (line["requestId"], line["event"], line["occurredOn"]) == (
            mine["requestId"], mine["event"], mine["occurredOn"]
        )  # fmt: skip
        assert (line["reason"], line["result"], line["recordedBy"]) == (
            mine["reason"], mine["result"], mine["recordedBy"]
        )  # fmt: skip
        assert line["type"] == ("coaching" if line["requestId"] == coaching else "training")
    # One audit record per person of a page.
    first_page_persons = {line["person"]["ssin"] for line in pages[0].json()["items"]}
    assert sorted(r[0] for r in await records_of(connection, pages[0])) == sorted(first_page_persons)
    assert {r[1:4] for r in await records_of(connection, pages[0])} == {("listFollowUps", "dossier", "permit")}

    # CSV = JSON, page by page (the same cursors open the same pages).
    for page in pages:
        cursor = page.json()["self"].partition("&page=")[2]
        as_csv = await c["vdabLists"].get(
            f"/followUps?{query}" + (f"&page={cursor}" if cursor else ""), Accept="text/csv"
        )
        assert as_csv.status_code == 200, as_csv.text
        assert as_csv.headers["content-type"].startswith("text/csv")
        assert ("Link" in as_csv.headers) == (page.json()["next"] is not None)
        rows = list(csv.DictReader(io.StringIO(as_csv.text)))
        assert rows == [flat(item) for item in page.json()["items"]]

    # changedSince: the same lines in recording order, over pages of three.
    since = await walk(c["vdab"], "changedSince=2026-01-01T00:00:00Z&pageSize=3")
    by_recording = [item for page in since for item in page.json()["items"]]
    assert len(by_recording) == len({i["id"] for i in by_recording}) == len(recorded) + 1
    assert [i["recordedAt"] for i in by_recording] == sorted(i["recordedAt"] for i in by_recording)

    # Each party its own lines: the insurer all of them, INAMI all, another insurer none.
    for who, expected in (("insurer", set(recorded)), ("expert", set(recorded)), ("otherInsurer", set())):
        listed = await walk(c[who], f"from={day(-40)}&to={day(-2)}")
        assert {i["id"] for p in listed for i in p.json()["items"]} == expected, who


async def test_the_list_refuses_bad_inputs_with_400_never_a_500(
    callers: dict[str, Caller], person: SimulatedPerson
) -> None:
    c = callers
    _, request_id = await Desk(c).training(person.ssin)
    assert (await step(c["vdab"], request_id, "started", -30)).status_code == 201
    assert (await step(c["vdab"], request_id, "interrupted", -20, reason="other")).status_code == 201
    by_date = (await c["vdab"].get(f"/followUps?from={day(-40)}&pageSize=1")).json()["next"]
    assert by_date is not None
    by_recording = (await c["vdab"].get("/followUps?changedSince=2026-01-01T00:00:00Z&pageSize=1")).json()["next"]
    assert by_recording is not None
    queries = [
        "",  # neither a range nor changedSince
        f"from={day(-1)}&changedSince=2026-01-01T00:00:00Z",
        f"from={day(0)}&to={day(-1)}",
        "from=2027-02-30",
        "from=99999-01-01",
        "from=0",
        "to=yesterday",
        "changedSince=soon",
        f"from={day(-1)}&pageSize=0",
        f"from={day(-1)}&pageSize=501",
        f"from={day(-1)}&page=not-a-cursor",
        f"from={day(-1)}&page={by_recording}",  # another way's cursor
        f"changedSince=2026-01-01T00:00:00Z&page={by_date}",
        f"from={day(-1)}&page={'A' * 300}",
        f"from={day(-1)}&week=2026-W48",  # not a parameter of this list
    ]
    for query in queries:
        response = await c["vdab"].get(f"/followUps?{query}")
        assert_problem(response, 400, BAD_REQUEST)
    # A cursor opens only for the organisation it was issued to.
    assert_problem(await c["insurer"].get(f"/followUps?from={day(-40)}&page={by_date}"), 400, BAD_REQUEST)
    for path in ("/requests/not-a-uuid/followUps", f"/requests/{request_id}/followUps/not-a-uuid"):
        assert_problem(await c["vdab"].get(path), 400, BAD_REQUEST)
    malformed = await c["vdab"].post("/requests/not-a-uuid/followUps", {"event": "started", "occurredOn": day(-1)})
    assert_problem(malformed, 400, BAD_REQUEST)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(await step(c["vdab"], unknown, "started", -1), 404, "urn:problem-type:belgif:resourceNotFound")
    missing = await c["vdab"].get(f"/requests/{request_id}/followUps/{unknown}")
    assert_problem(missing, 404, "urn:problem-type:belgif:resourceNotFound")


# --- written last: a party that lost its link -------------------------------------------------------------------------
async def test_a_party_that_lost_its_link_no_longer_sees_the_line(
    callers: dict[str, Caller],
    person: SimulatedPerson,
    simulator: SimulatorState,
    forget_links: Callable[[FastAPI], Awaitable[None]],
    app: FastAPI,
    connection: AsyncConnection,
    tokens: TokenFactory,
) -> None:
    c = callers
    _, request_id = await Desk(c).training(person.ssin)
    assert (await step(c["vdab"], request_id, "started", -3)).status_code == 201
    query = f"/followUps?from={day(-10)}"
    for who in ("vdabLists", "insurer", "expert"):
        assert request_id in (await c[who].get(query)).text, who

    # The person leaves VDAB: its list manager no longer sees the line, the denial recorded for the person.
    simulator.move_registrations(person.ssin, [])
    await forget_links(app)
    gone = await c["vdabLists"].get(query)
    assert gone.status_code == 200, gone.text
    assert gone.json()["items"] == []
    assert person.ssin not in gone.text
    assert [r[:5] for r in await records_of(connection, gone)] == [
        (person.ssin, "listFollowUps", "dossier", "deny", "noLink")
    ]
    assert (await c["vdabLists"].get(query, Accept="text/csv")).text.count("\r\n") == 1  # the header only
    refused = await step(c["vdab"], request_id, "ended", -1, result="noResult")
    assert_problem(refused, 404, "urn:problem-type:belgif:resourceNotFound")

    # The person changes insurer: Solidaris no longer sees it either; INAMI still does.
    simulator.move_insurer(person.ssin, 100)
    await forget_links(app)
    assert (await c["insurer"].get(query)).json()["items"] == []
    assert [i["requestId"] for i in (await c["expert"].get(query)).json()["items"]] == [request_id]
