"""Amendments of requests not yet decided (a JSON merge patch with If-Match: a new version, the replaced content kept,
the insurer's validation voided when the trainings change, every addressee told) and extensions of approved
trajectories (a new request linked to the one it extends, on the same route as any request), through to INAMI's
decision; every refusal and bad input."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.simulator.app import SimulatorState
from rp_api.simulator.population import SimulatedPerson
from tests.integration.test_dossiers_and_forms import Caller
from tests.integration.test_requests_and_decisions import TRAINING, WEEK, decision, submitted_form
from tests.token_factory import TokenFactory

MERGE_PATCH = "application/merge-patch+json"
LONGER = {**TRAINING, "endDate": "2027-01-29", "plannedHours": 160, "cost": "1900.00"}
"""The training of :data:`TRAINING`, longer and dearer."""
SECOND = {**TRAINING, "title": "Reach truck", "startDate": "2027-02-01", "endDate": "2027-03-31", "cost": "800.00"}
Numbers = dict[str, str]


@pytest.fixture
def c(client: httpx.AsyncClient, tokens: TokenFactory) -> dict[str, Caller]:
    return {
        "insurer": Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"])),
        "insurerPhysician": Caller(client, tokens.token("Solidaris", ["medicalAdvisor"])),
        "insurerAdmin": Caller(client, tokens.token("Solidaris", ["administrative"])),
        "vdab": Caller(client, tokens.token("VDAB", ["referenceAdvisor"])),
        "vdabColleague": Caller(client, tokens.token("VDAB", ["referenceAdvisor"], sub="75050575724")),
        "vdabLists": Caller(client, tokens.token("VDAB", ["listManager"])),
        "expert": Caller(client, tokens.token("INAMI", ["socialExpert"])),
        "otherInsurer": Caller(client, tokens.token("CM", ["returnToWorkCoordinator"])),
        "forem": Caller(client, tokens.token("Forem", ["referenceAdvisor"])),
    }


@pytest.fixture
def number(tokens: TokenFactory) -> Numbers:
    return {name: tokens.organisation(name).enterprise_number for name in ("Solidaris", "VDAB", "INAMI", "Forem")}


async def amend(
    caller: Caller, request_id: str, body: Any, etag: str | None, *, media_type: str = MERGE_PATCH, **headers: str
) -> httpx.Response:
    """PATCH the request with a JSON merge patch (``body`` as sent: a str is sent as it is)."""
    sent = {**caller.headers, "Content-Type": media_type, **headers}
    if etag is not None:
        sent["If-Match"] = etag
    content = body if isinstance(body, str) else json.dumps(body)
    return await caller.client.patch(f"/rp/v1/requests/{request_id}", content=content, headers=sent)


async def regional_training(c: dict[str, Caller], person: SimulatedPerson) -> tuple[str, str, httpx.Response]:
    """A VDAB training on a submitted form, awaiting the insurer's validation: (dossier, form, answer)."""
    dossier, form = await submitted_form(c, person)
    created = await c["vdab"].post(
        f"/dossiers/{dossier}/requests",
        {
            "type": "training",
            "registrationFormId": form,
            "trainingProject": "Logistics",
            "trainings": [TRAINING],
            "referenceAdvisor": {"name": "Jan Peeters", "phone": "+32 2 000 00 00"},
        },
    )
    assert created.status_code == 201, created.text
    return dossier, form, created


async def validated(c: dict[str, Caller], request_id: str, etag: str) -> httpx.Response:
    answer = await c["insurer"].post(
        f"/requests/{request_id}/insurerValidation",
        {"validated": True, "motivation": "Fits the path"},
        **{"If-Match": etag},
    )
    assert answer.status_code == 200, answer.text
    return answer


async def approved(c: dict[str, Caller], *request_ids: str) -> None:
    round_ = await c["expert"].post("/decisionRounds", {"week": WEEK, "decisions": [decision(r) for r in request_ids]})
    assert round_.status_code == 201, round_.text


async def revisions(connection: AsyncConnection, request_id: str) -> list[tuple[Any, ...]]:
    rows = await connection.execute(
        text("SELECT version, content, amended_by FROM request_revision WHERE request_id = :id ORDER BY version"),
        {"id": request_id},
    )
    return [tuple(row) for row in rows]


async def told(connection: AsyncConnection, resource_id: str) -> dict[str, int]:
    """How many feed events each organisation got about the item."""
    rows = await connection.execute(
        text("SELECT organisation, count(*) FROM feed_event WHERE resource_id = :id GROUP BY organisation"),
        {"id": resource_id},
    )
    return {organisation: count for organisation, count in rows}


async def addressees(connection: AsyncConnection, resource_id: str) -> set[str]:
    rows = await connection.execute(
        text("SELECT enterprise_number FROM addressee WHERE resource_id = :id"), {"id": resource_id}
    )
    return set(rows.scalars())


async def queue(caller: Caller, name: str) -> set[str]:
    page = await caller.post("/requests/query", {"queue": name, "pageSize": 100})
    assert page.status_code == 200, page.text
    return {item["id"] for item in page.json()["items"]}


async def test_the_requester_amends_with_if_match_a_new_version_the_old_content_kept(
    c: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection, number: Numbers
) -> None:
    _, _, created = await regional_training(c, person)
    request_id, first = created.json()["id"], created.json()
    assert created.headers["ETag"] == '"1"'
    patch = {"trainingProject": "Logistics, longer", "trainings": [{"id": "t1", **LONGER}, SECOND]}

    missing = await amend(c["vdab"], request_id, patch, None)
    assert missing.status_code == 428, missing.text
    stale = await amend(c["vdab"], request_id, patch, '"7"')
    assert stale.status_code == 412, stale.text
    assert await revisions(connection, request_id) == []

    amended = await amend(c["vdab"], request_id, patch, created.headers["ETag"])
    assert amended.status_code == 200, amended.text
    assert amended.headers["ETag"] == '"2"'
    body = amended.json()
    assert body["status"] == "awaitingInsurerValidation"
    assert body["trainingProject"] == "Logistics, longer"
    assert [(t["id"], t["title"], t["endDate"], t["cost"]) for t in body["trainings"]] == [
        ("t1", "Forklift operator", "2027-01-29", "1900.00"),
        ("t2", "Reach truck", "2027-03-31", "800.00"),
    ]
    assert body["totalCost"] == "2700.00"
    assert body["referenceAdvisor"] == first["referenceAdvisor"]  # left out of the patch: as it was
    assert body["updatedAt"] > first["updatedAt"]

    [(version, content, amended_by)] = await revisions(connection, request_id)
    assert (version, amended_by) == (1, number["VDAB"])
    assert content["status"] == "awaitingInsurerValidation"
    assert content["trainingProject"] == "Logistics"
    assert [(t["id"], t["endDate"], t["cost"]) for t in content["trainings"]] == [("t1", "2026-12-18", "1450.00")]
    assert content["totalCost"] == "1450.00"
    assert content["insurerValidation"] is None

    read = await c["vdab"].get(f"/requests/{request_id}")
    assert (read.headers["ETag"], read.json()["totalCost"]) == ('"2"', "2700.00")
    assert (await amend(c["vdab"], request_id, patch, created.headers["ETag"])).status_code == 412  # the ETag moved

    # A merge patch: null removes, objects merge member by member; a patch that changes nothing is no new version.
    merged = await amend(c["vdab"], request_id, {"referenceAdvisor": {"phone": None, "email": "jan@vdab.be"}}, '"2"')
    assert merged.status_code == 200, merged.text
    assert merged.json()["referenceAdvisor"] == {"name": "Jan Peeters", "email": "jan@vdab.be"}
    assert merged.headers["ETag"] == '"3"'
    same = {"trainings": [{**LONGER, "id": "t1", "plannedHours": "160.00"}, {**SECOND, "id": "t2"}]}
    unchanged = await amend(c["vdab"], request_id, same, '"3"')
    assert (unchanged.status_code, unchanged.headers["ETag"]) == (200, '"3"')
    assert [r[0] for r in await revisions(connection, request_id)] == [1, 2]

    # application/json is read the same way; an Idempotency-Key replays the answer without a second version.
    key = {"Idempotency-Key": "amend-once"}
    again = {"trainingProject": None}
    once = await amend(c["vdab"], request_id, again, '"3"', media_type="application/json", **key)
    assert once.status_code == 200, once.text
    assert "trainingProject" not in once.json() or once.json()["trainingProject"] is None
    replay = await amend(c["vdab"], request_id, again, '"3"', media_type="application/json", **key)
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed"), replay.headers["ETag"]) == (
        200,
        "true",
        '"4"',
    )
    assert [r[0] for r in await revisions(connection, request_id)] == [1, 2, 3]


async def test_changing_the_trainings_voids_the_insurers_validation_contacts_do_not(
    c: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection, number: Numbers
) -> None:
    _, _, created = await regional_training(c, person)
    request_id = created.json()["id"]
    after_validation = await validated(c, request_id, created.headers["ETag"])
    assert after_validation.json()["status"] == "atInami"
    assert request_id in await queue(c["expert"], "atInami")
    before = await told(connection, request_id)

    contacts = {
        "insurerContacts": {"returnToWorkCoordinator": {"name": "Marie Dubois"}},
        "referenceAdvisor": {"name": "An Claes"},
        "trainingProject": "Logistics (warehouse)",
    }
    kept = await amend(c["vdab"], request_id, contacts, after_validation.headers["ETag"])
    assert kept.status_code == 200, kept.text
    assert kept.json()["status"] == "atInami"
    assert kept.json()["insurerValidation"]["validated"] is True
    assert kept.json()["insurerContacts"] == {"returnToWorkCoordinator": {"name": "Marie Dubois"}}
    # every addressee but the requester is told of the change: the insurer and INAMI
    after_contacts = await told(connection, request_id)
    assert {o: after_contacts.get(o, 0) - before.get(o, 0) for o in number.values()} == {
        number["Solidaris"]: 1,
        number["INAMI"]: 1,
        number["VDAB"]: 0,
        number["Forem"]: 0,
    }

    dearer = await amend(c["vdab"], request_id, {"trainings": [{"id": "t1", **LONGER}]}, kept.headers["ETag"])
    assert dearer.status_code == 200, dearer.text
    assert dearer.json()["status"] == "awaitingInsurerValidation"
    assert "insurerValidation" not in dearer.json()
    stored = (
        await connection.execute(
            text("SELECT validated, validation_motivation, validated_at, status FROM request WHERE id = :id"),
            {"id": request_id},
        )
    ).one()
    assert tuple(stored) == (None, None, None, "awaitingInsurerValidation")
    revision = (await revisions(connection, request_id))[-1][1]
    assert revision["status"] == "atInami"
    assert revision["insurerValidation"]["validated"] is True
    assert revision["insurerValidation"]["motivation"] == "Fits the path"
    after_trainings = await told(connection, request_id)
    assert after_trainings[number["Solidaris"]] == after_contacts[number["Solidaris"]] + 1  # the insurer is told
    assert request_id in await queue(c["insurer"], "awaitingInsurerValidation")
    assert request_id not in await queue(c["expert"], "atInami")

    # The insurer validates the amended request again; INAMI decides it like any other, on its amended content.
    again = await validated(c, request_id, dearer.headers["ETag"])
    assert again.json()["insurerValidation"]["validated"] is True
    await approved(c, request_id)
    decided = (await c["vdab"].get(f"/requests/{request_id}")).json()
    assert (decided["status"], decided["decision"]["outcome"]) == ("approved", "approved")
    lines = (await c["vdabLists"].get(f"/decisions?week={WEEK}")).json()["items"]
    [line] = [line for line in lines if line["requestId"] == request_id]
    assert (line["totalCost"], line["trainings"][0]["endDate"], line["extends"]) == ("1900.00", "2027-01-29", None)


async def test_an_insurer_amends_its_own_request_and_the_addressees_are_computed_again(
    c: dict[str, Caller],
    person: SimulatedPerson,
    connection: AsyncConnection,
    number: Numbers,
    simulator: SimulatorState,
    app: FastAPI,
    forget_links: Any,
) -> None:
    dossier = (await c["insurer"].post("/dossiers", {"ssin": person.ssin, "start": "request"})).json()["id"]
    created = await c["insurerPhysician"].post(
        f"/dossiers/{dossier}/requests", {"type": "training", "trainings": [TRAINING]}
    )
    assert created.json()["status"] == "atInami", created.text
    request_id = created.json()["id"]
    assert number["Forem"] not in await addressees(connection, request_id)

    # The person registers with Forem too: the amendment addresses the request to Forem, which is told.
    simulator.move_registrations(person.ssin, [number["VDAB"], number["Forem"]])
    await forget_links(app)
    # the coordinator amends what the médecin-conseil asked: the same organisation, a requester role
    amended = await amend(c["insurer"], request_id, {"trainings": [LONGER]}, created.headers["ETag"])
    assert amended.status_code == 200, amended.text
    assert amended.json()["status"] == "atInami"  # an insurer's request waits for no validation
    assert [t["id"] for t in amended.json()["trainings"]] == ["t2"]  # a new training: a new id
    assert number["Forem"] in await addressees(connection, request_id)
    assert (await told(connection, request_id)).get(number["Forem"]) == 1
    assert request_id in await queue(c["expert"], "atInami")
    await approved(c, request_id)
    assert (await c["insurer"].get(f"/requests/{request_id}")).json()["decision"]["outcome"] == "approved"


async def test_only_the_requester_amends(
    c: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection
) -> None:
    _, _, created = await regional_training(c, person)
    request_id, etag = created.json()["id"], created.headers["ETag"]
    patch = {"trainingProject": "Another"}
    # linked, but not the requester, or not in a requester role: 403; not linked: 404 (before 403)
    for who, status in (
        ("insurer", 403),
        ("insurerPhysician", 403),
        ("insurerAdmin", 403),
        ("expert", 403),
        ("vdabLists", 403),
        ("otherInsurer", 404),
        ("forem", 404),
    ):
        refused = await amend(c[who], request_id, patch, etag)
        assert refused.status_code == status, (who, refused.text)
    # another user of the requesting organisation may
    colleague = await amend(c["vdabColleague"], request_id, patch, etag)
    assert colleague.status_code == 200, colleague.text
    assert [r[0] for r in await revisions(connection, request_id)] == [1]


async def test_a_decided_refused_or_withdrawn_request_is_not_amended(
    c: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection
) -> None:
    dossier, form = await submitted_form(c, person)

    async def coaching() -> str:
        made = await c["vdab"].post(f"/dossiers/{dossier}/requests", {"type": "coaching", "registrationFormId": form})
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    approved_id, refused_id, withdrawn_id = await coaching(), await coaching(), await coaching()
    round_ = {"week": WEEK, "decisions": [decision(approved_id), decision(refused_id, "refused")]}
    assert (await c["expert"].post("/decisionRounds", round_)).status_code == 201
    assert (await c["vdab"].post(f"/requests/{withdrawn_id}/withdraw", **{"If-Match": '"1"'})).status_code == 200
    _, _, training = await regional_training(c, person)
    refused_by_insurer = training.json()["id"]
    assert (
        await c["insurer"].post(
            f"/requests/{refused_by_insurer}/insurerValidation",
            {"validated": False, "motivation": "Not now"},
            **{"If-Match": training.headers["ETag"]},
        )
    ).status_code == 200
    for request_id in (approved_id, refused_id, withdrawn_id, refused_by_insurer):
        current = await c["vdab"].get(f"/requests/{request_id}")
        refused = await amend(c["vdab"], request_id, {"trainingProject": "x"}, current.headers["ETag"])
        assert refused.status_code == 409, (current.json()["status"], refused.text)
        assert refused.json()["type"] == "urn:problem-type:rp:transitionNotAllowed"
    assert await connection.scalar(text("SELECT count(*) FROM request_revision")) == 0


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"type": "coaching"}, "type"),
        ({"ssin": "85073003328"}, "ssin"),
        ({"dossierId": "7d1e2f3a-4b5c-4d6e-8f9a-0b1c2d3e4f5a"}, "dossierId"),
        ({"registrationFormId": "3f0c7c9e-4d8a-4c1b-9f6e-2a9d8e7c6b5a"}, "registrationFormId"),
        ({"medicalInformation": "Back pain"}, "medicalInformation"),
        ({"totalCost": "10.00"}, "totalCost"),
        ({"status": "approved"}, "status"),
        ({"trainings": "Forklift"}, "trainings"),
        ({"trainings": [{"provider": "Syntra"}]}, "trainings[0].title"),
        ({"trainings": [{**TRAINING, "endDate": "2026-08-01"}]}, "trainings[0]"),
        ({"trainings": [{**TRAINING, "cost": "-1"}]}, "trainings[0].cost"),
        ({"trainings": [{**TRAINING, "id": "t9"}]}, "trainings[0].id"),
        ({"trainings": [{**TRAINING, "id": "x1"}]}, "trainings[0].id"),
        ({"trainings": [{**TRAINING, "id": "t1"}, {**TRAINING, "id": "t1"}]}, "trainings[1].id"),
        ({"trainings": [{**TRAINING, "unknown": 1}]}, "trainings[0].unknown"),
        ({"trainings": []}, "trainings"),
        ({"trainings": None}, "trainings"),
        ({"trainings": [TRAINING] * 21}, "trainings"),
        ({"trainingProject": "x" * 4001}, "trainingProject"),
        ({"trainingProject": "nul\x00"}, "trainingProject"),
        ({"referenceAdvisor": {"name": None}}, "referenceAdvisor.name"),
        ({"insurerContacts": {"advisingPhysician": {"phone": "1"}}}, "insurerContacts.advisingPhysician.name"),
        ({"insurerContacts": {"nurse": {"name": "x"}}}, "insurerContacts.nurse"),
        ({"referenceAdvisor": {"email": "not an address"}}, "referenceAdvisor.email"),
        ({"referenceAdvisor": "Jan"}, "referenceAdvisor"),
    ],
)
async def test_bad_amendments_are_400_and_change_nothing(
    c: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection, body: dict[str, Any], name: str
) -> None:
    _, _, created = await regional_training(c, person)
    request_id = created.json()["id"]
    refused = await amend(c["vdab"], request_id, body, created.headers["ETag"])
    assert refused.status_code == 400, refused.text
    assert refused.json()["type"] == "urn:problem-type:belgif:badRequest"
    assert name in {issue.get("name") for issue in refused.json()["issues"]}, refused.json()["issues"]
    assert all("value" not in issue for issue in refused.json()["issues"])
    assert "85073003328" not in refused.text
    assert "Back pain" not in refused.text
    assert (await c["vdab"].get(f"/requests/{request_id}")).headers["ETag"] == '"1"'
    assert await revisions(connection, request_id) == []


async def test_malformed_amendments_are_refused_never_500(c: dict[str, Caller], person: SimulatedPerson) -> None:
    _, _, created = await regional_training(c, person)
    request_id, etag = created.json()["id"], created.headers["ETag"]
    for body in ("{", "[]", "null", '"x"', "42", "", '{"trainings": [1, 2]}', '{"a": 1e999999}'):
        refused = await amend(c["vdab"], request_id, body, etag)
        assert refused.status_code == 400, (body, refused.text)
    assert (await amend(c["vdab"], request_id, "{}", etag, media_type="text/plain")).status_code == 415
    assert (await amend(c["vdab"], "not-a-request", {}, etag)).status_code in (404, 405)
    unknown = await amend(c["vdab"], "5b8e2c1d-9a7f-4e3b-8c6d-1f2e3a4b5c6d", {}, etag)
    assert unknown.status_code == 404
    assert (await amend(c["vdab"], request_id, {}, "garbage")).status_code == 412
    assert (await amend(c["vdab"], request_id, {}, etag, **{"Idempotency-Key": "\x01"})).status_code == 400
    assert (await c["vdab"].get(f"/requests/{request_id}")).headers["ETag"] == '"1"'


async def test_the_regional_service_extends_its_approved_training(
    c: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection, number: Numbers
) -> None:
    _, form, created = await regional_training(c, person)
    request_id = created.json()["id"]
    await validated(c, request_id, created.headers["ETag"])
    await approved(c, request_id)
    assert (await c["vdab"].get(f"/requests/{request_id}")).json()["extensions"] == []

    body = {"trainingProject": "Logistics, second stage", "trainings": [SECOND]}
    extension = await c["vdab"].post(f"/requests/{request_id}/extensions", body, **{"Idempotency-Key": "extend-1"})
    assert extension.status_code == 201, extension.text
    new = extension.json()
    assert extension.headers["Location"] == f"/rp/v1/requests/{new['id']}"
    assert extension.headers["ETag"] == '"1"'
    assert (new["extends"], new["type"], new["registrationFormId"]) == (request_id, "training", form)
    assert new["status"] == "awaitingInsurerValidation"  # the route of any regional training
    assert [(t["id"], t["title"]) for t in new["trainings"]] == [("t1", "Reach truck")]
    assert new["totalCost"] == "800.00"
    replay = await c["vdab"].post(f"/requests/{request_id}/extensions", body, **{"Idempotency-Key": "extend-1"})
    assert (replay.status_code, replay.json()["id"], replay.headers.get("Idempotent-Replayed")) == (
        201,
        new["id"],
        "true",
    )
    extended = (await c["insurer"].get(f"/requests/{request_id}")).json()
    assert (extended["status"], extended["extensions"]) == ("approved", [new["id"]])

    # The insurer is an addressee, told, and finds it to validate; INAMI once it reaches INAMI.
    assert await addressees(connection, new["id"]) == {number["Solidaris"], number["VDAB"]}
    assert set(await told(connection, new["id"])) == {number["Solidaris"]}
    assert new["id"] in await queue(c["insurer"], "awaitingInsurerValidation")
    await validated(c, new["id"], extension.headers["ETag"])
    assert number["INAMI"] in await addressees(connection, new["id"])
    assert new["id"] in await queue(c["expert"], "atInami")
    lines = (await c["expert"].post("/requests/query", {"queue": "atInami", "pageSize": 100})).json()["items"]
    assert next(line for line in lines if line["id"] == new["id"])["extends"] == request_id
    await approved(c, new["id"])

    # The decision list says which decision is on an extension, in JSON and in CSV.
    lines = (await c["vdabLists"].get(f"/decisions?week={WEEK}")).json()["items"]
    assert {line["requestId"]: line["extends"] for line in lines} == {request_id: None, new["id"]: request_id}
    rows = csv.DictReader(io.StringIO((await c["vdabLists"].get(f"/decisions?week={WEEK}", Accept="text/csv")).text))
    assert {row["requestId"]: row["extends"] for row in rows} == {request_id: "", new["id"]: request_id}
    # an extension, once approved, is itself a trajectory that can be extended
    further = await c["vdab"].post(f"/requests/{new['id']}/extensions", {"trainings": [TRAINING]})
    assert (further.status_code, further.json()["extends"]) == (201, new["id"])


async def test_the_insurer_extends_its_approved_request(
    c: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection, number: Numbers
) -> None:
    dossier = (await c["insurer"].post("/dossiers", {"ssin": person.ssin, "start": "request"})).json()["id"]
    created = await c["insurerPhysician"].post(f"/dossiers/{dossier}/requests", {"type": "coaching"})
    request_id = created.json()["id"]
    await approved(c, request_id)

    refused = await c["insurer"].post(
        f"/requests/{request_id}/extensions", {"trainingProject": "More coaching", "medicalInformation": "Back pain"}
    )
    assert refused.status_code == 400, refused.text  # health data: the médecin-conseil's only
    assert [issue["name"] for issue in refused.json()["issues"]] == ["medicalInformation"]
    extension = await c["insurer"].post(f"/requests/{request_id}/extensions", {"trainingProject": "More coaching"})
    assert extension.status_code == 201, extension.text
    new = extension.json()
    assert (new["type"], new["status"], new["extends"]) == ("coaching", "atInami", request_id)
    assert "registrationFormId" not in new
    assert new["requester"]["role"] == "returnToWorkCoordinator"
    assert number["INAMI"] in await addressees(connection, new["id"])
    assert set(await told(connection, new["id"])) == {number["INAMI"], number["VDAB"]}
    with_information = await c["insurerPhysician"].post(
        f"/requests/{request_id}/extensions", {"medicalInformation": "Back pain"}
    )
    assert with_information.status_code == 201, with_information.text
    assert with_information.json()["medicalInformation"] == "Back pain"
    await approved(c, new["id"])
    assert (await c["insurer"].get(f"/requests/{new['id']}")).json()["decision"]["outcome"] == "approved"
    # (oldest first: here, one test transaction, both were made at the same database time)
    extensions = (await c["insurer"].get(f"/requests/{request_id}")).json()["extensions"]
    assert sorted(extensions) == sorted([new["id"], with_information.json()["id"]])


async def test_refused_extensions(c: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection) -> None:
    dossier, form, created = await regional_training(c, person)
    waiting = created.json()["id"]
    direct = (await c["insurerPhysician"].post(f"/dossiers/{dossier}/requests", {"type": "coaching"})).json()["id"]
    refused_coaching = (
        await c["vdab"].post(f"/dossiers/{dossier}/requests", {"type": "coaching", "registrationFormId": form})
    ).json()["id"]
    regional = (
        await c["vdab"].post(f"/dossiers/{dossier}/requests", {"type": "coaching", "registrationFormId": form})
    ).json()["id"]
    round_ = {"week": WEEK, "decisions": [decision(direct), decision(refused_coaching, "refused"), decision(regional)]}
    assert (await c["expert"].post("/decisionRounds", round_)).status_code == 201
    count = await connection.scalar(text("SELECT count(*) FROM request"))

    async def extend(who: str, request_id: str, body: Any = None) -> httpx.Response:
        return await c[who].post(f"/requests/{request_id}/extensions", {} if body is None else body)

    cases = [
        ("vdab", waiting, {"trainings": [TRAINING]}, 409),  # not decided
        ("vdab", refused_coaching, {}, 409),  # refused
        ("vdab", direct, {}, 403),  # the insurer runs it
        ("insurer", regional, {}, 403),  # VDAB runs it
        ("vdabLists", regional, {}, 403),
        ("insurerAdmin", direct, {}, 403),
        ("expert", direct, {}, 403),
        ("otherInsurer", direct, {}, 404),
        ("forem", regional, {}, 404),
        ("vdab", "5b8e2c1d-9a7f-4e3b-8c6d-1f2e3a4b5c6d", {}, 404),
        ("vdab", regional, {"type": "training"}, 400),
        ("vdab", regional, {"extends": waiting}, 400),
        ("vdab", regional, {"trainings": [{**TRAINING, "endDate": "2026-01-01"}]}, 400),
        ("vdab", regional, {"medicalInformation": "Back pain"}, 400),
        ("vdab", regional, "[]", 400),
    ]
    for who, request_id, body, status in cases:
        if isinstance(body, str):
            refused = await c[who].client.post(
                f"/rp/v1/requests/{request_id}/extensions",
                content=body,
                headers={**c[who].headers, "Content-Type": "application/json"},
            )
        else:
            refused = await extend(who, request_id, body)
        assert refused.status_code == status, (who, body, refused.text)
        assert "Back pain" not in refused.text
    assert (await extend("vdab", waiting, {"trainings": [TRAINING]})).json()["type"] == (
        "urn:problem-type:rp:transitionNotAllowed"
    )

    # A training is extended by trainings; the registration form it rests on must still be valid.
    _, form_2, training = await regional_training(c, person)
    await validated(c, training.json()["id"], training.headers["ETag"])
    await approved(c, training.json()["id"])
    assert (await extend("vdab", training.json()["id"], {"trainingProject": "none"})).status_code == 400
    current_form = await c["insurer"].get(f"/registrationForms/{form_2}")
    cancelled = await c["insurer"].post(
        f"/registrationForms/{form_2}/cancel", **{"If-Match": current_form.headers["ETag"]}
    )
    assert cancelled.status_code == 200, cancelled.text
    on_cancelled = await extend("vdab", training.json()["id"], {"trainings": [TRAINING]})
    assert on_cancelled.status_code == 409, on_cancelled.text
    assert on_cancelled.json()["type"] == "urn:problem-type:rp:registrationFormNotValid"
    assert await connection.scalar(text("SELECT count(*) FROM request WHERE extends_request_id IS NOT NULL")) == 0
    assert await connection.scalar(text("SELECT count(*) FROM request")) == count + 1  # the second training only
