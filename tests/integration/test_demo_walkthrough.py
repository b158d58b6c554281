"""The README's walkthrough, on the demo's seeded data, step by step with the README's own bodies: work finds its way
to each party without anyone opening the dossier first — the insurer finds the routing C form waiting for its
target-group decision, VDAB finds the insurer's new form in its feed and its work list, the insurer finds VDAB's
training request waiting for its validation, VDAB amends it (the validation is voided and given again), INAMI finds
it in its queue and decides it in the weekly round, VDAB's list manager reads the decision; then the trajectory
after the decision: VDAB reports the hours and records the follow-up, the list manager reads the hours and follow-up
lists, and VDAB extends the trajectory. On committed data (own database), as the demo runs.

Every body sent here is also looked for in the README's walkthrough (:func:`shown`), so the two cannot drift apart:
change one, change the other."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.db import create_sessionmaker
from rp_api.demo import seed_demo_data, walkthrough_person
from rp_api.services.decisions import current_week
from rp_api.simulator.population import Population
from tests.integration.test_dossiers_and_forms import Caller
from tests.integration.test_work_routing import whole_feed
from tests.token_factory import TokenFactory

REGISTRY = OrganisationRegistry.load()
README = Path(__file__).resolve().parents[2] / "README.md"
WEEK = current_week(datetime.now(UTC).date())
"""What the README's ``WEEK=$(date -u +%G-W%V)`` gives: this ISO week, in UTC as the service counts it."""
MERGE_PATCH = "application/merge-patch+json"

# The README's bodies, in its order; "$NAME" is the shell variable the README fills in.
DOSSIER = {"ssin": "$DEMO_SSIN", "start": "registrationForm"}
FORM = {
    "expectations": "Training in logistics",
    "incapacityStartDate": "2025-01-10",
    "physicianQuestion": {"expectations": "Job coaching", "functionalCapacities": "No lifting"},
}
REQUEST = {
    "type": "training",
    "registrationFormId": "$FORM",
    "trainingProject": "Logistics",
    "trainings": [
        {
            "provider": "Syntra",
            "title": "Forklift operator",
            "startDate": "2026-09-07",
            "endDate": "2026-10-30",
            "plannedHours": 120,
            "cost": "1450.00",
        }
    ],
}
VALIDATION = {"validated": True, "motivation": "Fits the path"}
LONGER = {
    "trainings": [
        {
            "id": "t1",
            "provider": "Syntra",
            "title": "Forklift operator",
            "startDate": "2026-09-07",
            "endDate": "2026-11-27",
            "plannedHours": 160,
            "cost": "1900.00",
        }
    ]
}
REVALIDATION = {"validated": True, "motivation": "Longer, still fits the path"}
CONTACT = {"referenceAdvisor": {"name": "Jan Peeters", "phone": "+32 2 000 00 01"}}
ROUND = {
    "week": "$WEEK",
    "decisions": [
        {
            "requestId": "$REQUEST",
            "outcome": "approved",
            "approvedAmount": "1900.00",
            "periodStart": "2026-09-07",
            "periodEnd": "2026-11-27",
            "motivation": "Weekly round",
        }
    ],
}
HOURS = {
    "items": [
        {"requestId": "$REQUEST", "trainingId": "t1", "month": "2026-09", "hours": 56},
        {"requestId": "$REQUEST", "trainingId": "t1", "month": "2026-10", "hours": 64},
    ]
}
CORRECTION = {"items": [{"requestId": "$REQUEST", "trainingId": "t1", "month": "2026-10", "hours": 60}]}
STARTED = {"event": "started", "occurredOn": "2026-09-07"}
ENDED = {"event": "ended", "occurredOn": "2026-11-27", "result": "trainingContinued"}
EXTENSION = {
    "trainingProject": "Logistics, second stage",
    "trainings": [
        {
            "provider": "Syntra",
            "title": "Reach truck",
            "startDate": "2027-01-11",
            "endDate": "2027-03-05",
            "plannedHours": 80,
            "cost": "800.00",
        }
    ],
}


def walkthrough() -> str:
    """The README's walkthrough commands, as the shell reads them (``\\"`` is ``"``), without any white space."""
    text = README.read_text(encoding="utf-8")
    start = text.index("### Walkthrough")
    block = re.search(r"^```text\n(.*?)^```", text[start:], flags=re.MULTILINE | re.DOTALL)
    assert block is not None
    return re.sub(r"\s+", "", block.group(1).replace('\\"', '"'))


def shown(body: dict[str, Any]) -> None:
    """The README's walkthrough sends this very body (same members, same order, same values)."""
    assert re.sub(r"\s+", "", json.dumps(body)) in walkthrough(), f"the README does not show {body}"


def filled(body: dict[str, Any], **variables: str) -> dict[str, Any]:
    """The body with the README's shell variables ($NAME) given their values, as the shell does; checked against
    the README first."""
    shown(body)
    text = json.dumps(body)
    for name, value in variables.items():
        text = text.replace(f'"${name}"', json.dumps(value))
    assert "$" not in text, text
    filled_in: dict[str, Any] = json.loads(text)
    return filled_in


def path_shown(path: str) -> str:
    """A path (and query) the README's walkthrough calls, as ``$API…``."""
    assert re.sub(r"\s+", "", f"$API{path}") in walkthrough(), f"the README does not call {path}"
    return path


async def ids_in(caller: Caller, path: str, body: dict[str, Any]) -> list[str]:
    page = await caller.post(path, body)
    assert page.status_code == 200, page.text
    return [item["id"] for item in page.json()["items"]]


async def patch(caller: Caller, path: str, body: dict[str, Any], etag: str) -> httpx.Response:
    return await caller.client.patch(
        f"/rp/v1{path}",
        content=json.dumps(body),
        headers={**caller.headers, "Content-Type": MERGE_PATCH, "If-Match": etag},
    )


async def test_the_walkthrough_brings_the_work_to_each_party(
    own_database: URL, own_client: httpx.AsyncClient, tokens: TokenFactory, population: Population
) -> None:
    engine = create_async_engine(own_database)
    try:
        await seed_demo_data(create_sessionmaker(engine), population, REGISTRY)
    finally:
        await engine.dispose()
    coordinator = Caller(own_client, tokens.token("CM", ["returnToWorkCoordinator"]))
    physician = Caller(own_client, tokens.token("CM", ["medicalAdvisor"]))
    vdab = Caller(own_client, tokens.token("VDAB", ["referenceAdvisor"]))
    lists = Caller(own_client, tokens.token("VDAB", ["listManager"]))
    expert = Caller(own_client, tokens.token("INAMI", ["socialExpert"]))
    person = walkthrough_person(population, REGISTRY)

    # 0. The insurer finds the seeded routing C form that waits for it, and decides.
    waiting = await coordinator.post("/registrationForms/query", {"queue": "awaitingTargetGroupDecision"})
    assert waiting.status_code == 200, waiting.text
    [routing_c] = waiting.json()["items"]
    assert routing_c["status"] == "awaitingTargetGroupDecision"
    assert routing_c["person"]["familyName"]
    current = await coordinator.get(f"/registrationForms/{routing_c['id']}")
    decided = await coordinator.post(
        f"/registrationForms/{routing_c['id']}/targetGroupDecision",
        {"inTargetGroup": True, "motivation": "In the target group"},
        **{"If-Match": current.headers["ETag"]},
    )
    assert decided.status_code == 200, decided.text

    # 1. The insurer starts a trajectory for DEMO_SSIN: 201, then 200 for the same dossier.
    opened = await coordinator.post(path_shown("/dossiers"), filled(DOSSIER, DEMO_SSIN=person.ssin))
    assert opened.status_code == 201, opened.text
    dossier = opened.json()["id"]
    again = await coordinator.post("/dossiers", filled(DOSSIER, DEMO_SSIN=person.ssin))
    assert (again.status_code, again.json()["id"]) == (200, dossier)

    # 2. The médecin-conseil starts a form (ETag "1"); 3. the coordinator submits it.
    created = await physician.post(
        f"/dossiers/{dossier}/registrationForms", filled(FORM), **{"Idempotency-Key": "form-walkthrough"}
    )
    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    form = created.json()["id"]
    submitted = await coordinator.post(f"/registrationForms/{form}/submit", **{"If-Match": '"1"'})
    assert submitted.status_code == 200, submitted.text

    # 4. VDAB has not opened the dossier: it finds the form in its work list and its feed, and reads it.
    assert form in await ids_in(vdab, "/registrationForms/query", {"queue": "registeredWithMe"})
    for _ in range(100):
        if form in {e["resourceId"] for e in await whole_feed(vdab)}:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("VDAB's feed does not tell of the form")
    read = (await vdab.get(f"/registrationForms/{form}")).json()
    assert read["incapacityAtLeastOneYear"] is True
    assert "incapacityStartDate" not in read
    assert read["physicianQuestion"] == FORM["physicianQuestion"]

    # 5. VDAB asks a training on it; the insurer finds it waiting for its validation and validates it.
    asked = await vdab.post(f"/dossiers/{dossier}/requests", filled(REQUEST, FORM=form))
    assert asked.status_code == 201, asked.text
    assert asked.headers["ETag"] == '"1"'
    request_id = asked.json()["id"]
    assert request_id in await ids_in(coordinator, "/requests/query", {"queue": "awaitingInsurerValidation"})
    validated = await coordinator.post(
        f"/requests/{request_id}/insurerValidation", filled(VALIDATION), **{"If-Match": '"1"'}
    )
    assert validated.status_code == 200, validated.text
    assert (validated.json()["status"], validated.headers["ETag"]) == ("atInami", '"2"')
    assert request_id not in await ids_in(coordinator, "/requests/query", {"queue": "awaitingInsurerValidation"})

    # 6. Before INAMI decides, VDAB makes the training longer: the validation is voided and given again; a new phone
    #    number for the reference advisor changes nothing else.
    longer = await patch(vdab, f"/requests/{request_id}", filled(LONGER), '"2"')
    assert longer.status_code == 200, longer.text
    assert (longer.json()["status"], longer.headers["ETag"]) == ("awaitingInsurerValidation", '"3"')
    assert longer.json()["totalCost"] == "1900.00"
    assert request_id in await ids_in(coordinator, "/requests/query", {"queue": "awaitingInsurerValidation"})
    revalidated = await coordinator.post(
        f"/requests/{request_id}/insurerValidation", filled(REVALIDATION), **{"If-Match": '"3"'}
    )
    assert revalidated.status_code == 200, revalidated.text
    assert (revalidated.json()["status"], revalidated.headers["ETag"]) == ("atInami", '"4"')
    contact = await patch(vdab, f"/requests/{request_id}", filled(CONTACT), '"4"')
    assert contact.status_code == 200, contact.text
    assert (contact.json()["status"], contact.headers["ETag"]) == ("atInami", '"5"')
    assert contact.json()["referenceAdvisor"] == CONTACT["referenceAdvisor"]

    # 7. INAMI's weekly round, in this week, from its queue.
    assert request_id in await ids_in(expert, "/requests/query", {"queue": "atInami", "pageSize": 100})
    recorded = await expert.post("/decisionRounds", filled(ROUND, WEEK=WEEK, REQUEST=request_id))
    assert recorded.status_code == 201, recorded.text
    assert await ids_in(expert, "/requests/query", {"queue": "atInami"}) == []

    # 8. VDAB's list manager reads the decision, with the person's name (JSON, or CSV).
    listed = await lists.get(f"/decisions?week={WEEK}")
    assert listed.status_code == 200, listed.text
    [line] = [item for item in listed.json()["items"] if item["requestId"] == request_id]
    assert (line["outcome"], line["approvedAmount"]) == ("approved", "1900.00")
    assert line["familyName"] == person.family_name
    as_csv = await lists.get(f"/decisions?week={WEEK}", Accept="text/csv")
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert request_id in as_csv.text

    # 9. VDAB, which runs the training, reports its hours; a changed figure is version 2. The list manager reads the
    #    hours list by month, and by period as CSV.
    reported = await vdab.post(
        path_shown("/hoursReports"), filled(HOURS, REQUEST=request_id), **{"Idempotency-Key": "hours-walkthrough"}
    )
    assert reported.status_code == 200, reported.text
    corrected = await vdab.post("/hoursReports", filled(CORRECTION, REQUEST=request_id))
    assert corrected.status_code == 200, corrected.text
    assert [(i["month"], i["hours"], i["version"]) for i in corrected.json()["items"]] == [("2026-10", "60.00", 2)]
    month = await lists.get(path_shown("/hoursLists?month=2026-10"))
    assert month.status_code == 200, month.text
    assert [(i["requestId"], i["hours"], i["version"]) for i in month.json()["items"]] == [(request_id, "60.00", 2)]
    period = await lists.get(path_shown("/hoursLists?from=2026-09&to=2026-11"), Accept="text/csv")
    assert period.status_code == 200, period.text
    header, *rows = period.text.splitlines()
    assert header == "requestId,trainingId,month,hours,version,ssin,dossierId,reportedBy,reportedAt"
    assert [row.split(",")[2:5] for row in rows] == [["2026-09", "56.00", "1"], ["2026-10", "60.00", "2"]]

    # 10. VDAB records the follow-up: started, then ended with its result; the insurer reads where it stands, the
    #     list manager reads the follow-up list (JSON, or CSV).
    steps = path_shown("/requests/$REQUEST/followUps").replace("$REQUEST", request_id)
    started = await vdab.post(steps, filled(STARTED))
    assert started.status_code == 201, started.text
    ended = await vdab.post(steps, filled(ENDED))
    assert ended.status_code == 201, ended.text
    history = await coordinator.get(steps)
    assert history.status_code == 200, history.text
    assert history.json()["state"] == "ended"
    assert [(s["event"], s["occurredOn"]) for s in history.json()["items"]] == [
        ("started", "2026-09-07"),
        ("ended", "2026-11-27"),
    ]
    follow_ups = await lists.get(path_shown("/followUps?from=2026-09-01&to=2026-11-30"))
    assert follow_ups.status_code == 200, follow_ups.text
    assert [(i["requestId"], i["event"], i["result"]) for i in follow_ups.json()["items"]] == [
        (request_id, "started", None),
        (request_id, "ended", "trainingContinued"),
    ]
    assert follow_ups.json()["items"][0]["person"]["familyName"] == person.family_name
    follow_ups_csv = await lists.get("/followUps?from=2026-09-01&to=2026-11-30", Accept="text/csv")
    assert follow_ups_csv.status_code == 200, follow_ups_csv.text
    assert len(follow_ups_csv.text.splitlines()) == 3

    # 11. The person goes on with another training: VDAB extends the trajectory; the extension waits for the
    #     insurer's validation, and the extended request lists it.
    extended = await vdab.post(f"/requests/{request_id}/extensions", filled(EXTENSION))
    assert extended.status_code == 201, extended.text
    extension = extended.json()
    assert (extension["extends"], extension["status"]) == (request_id, "awaitingInsurerValidation")
    assert extension["id"] in await ids_in(coordinator, "/requests/query", {"queue": "awaitingInsurerValidation"})
    extended_request = await coordinator.get(f"/requests/{request_id}")
    assert extended_request.json()["extensions"] == [extension["id"]]
