"""Both routes of a request through to INAMI's decision and every party's decision list; hours; bad inputs."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.services.decisions import current_week
from rp_api.simulator.population import SimulatedPerson
from tests.integration.test_dossiers_and_forms import CONTENT, PHYSICIAN_CONTENT, Caller, walk
from tests.token_factory import TokenFactory

TRAINING = {
    "provider": "Syntra",
    "title": "Forklift operator",
    "startDate": "2026-09-01",
    "endDate": "2026-12-18",
    "plannedHours": 120,
    "cost": "1450.00",
}
WEEK = current_week(datetime.now(UTC).date())
MONTH = datetime.now(UTC).strftime("%Y-%m")


@pytest.fixture
def callers(client: httpx.AsyncClient, tokens: TokenFactory) -> dict[str, Caller]:
    return {
        "insurer": Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"])),
        "insurerPhysician": Caller(client, tokens.token("Solidaris", ["medicalAdvisor"])),
        "vdab": Caller(client, tokens.token("VDAB", ["referenceAdvisor"])),
        "vdabLists": Caller(client, tokens.token("VDAB", ["listManager"])),
        "expert": Caller(client, tokens.token("INAMI", ["socialExpert"])),
        "inspector": Caller(client, tokens.token("INAMI", ["medicalInspector"])),
        "otherInsurer": Caller(client, tokens.token("CM", ["returnToWorkCoordinator"])),
        "forem": Caller(client, tokens.token("Forem", ["listManager"])),
    }


async def submitted_form(c: dict[str, Caller], person: SimulatedPerson) -> tuple[str, str]:
    dossier = (await c["insurer"].post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    # the médecin-conseil writes the form's health data (physicians only), the coordinator submits it
    created = await c["insurerPhysician"].post(f"/dossiers/{dossier}/registrationForms", PHYSICIAN_CONTENT)
    form = created.json()["id"]
    await c["insurer"].post(f"/registrationForms/{form}/submit", **{"If-Match": created.headers["ETag"]})
    return dossier, form


def decision(request_id: str, outcome: str = "approved") -> dict[str, Any]:
    body: dict[str, Any] = {"requestId": request_id, "outcome": outcome, "motivation": "weekly round"}
    if outcome == "approved":
        body |= {"approvedAmount": "1450.00", "periodStart": "2026-09-01", "periodEnd": "2026-12-18"}
    return body


async def listed(caller: Caller) -> set[str]:
    response = await caller.get(f"/decisions?week={WEEK}")
    assert response.status_code == 200, response.text
    return {item["requestId"] for item in response.json()["items"]}


async def test_regional_route_with_validation_and_insurer_route_to_every_list(
    callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection
) -> None:
    c = callers
    dossier, form = await submitted_form(c, person)

    training = await c["vdab"].post(
        f"/dossiers/{dossier}/requests",
        {"type": "training", "registrationFormId": form, "trainingProject": "Logistics", "trainings": [TRAINING]},
    )
    assert training.status_code == 201, training.text
    assert training.json()["status"] == "awaitingInsurerValidation"
    assert training.json()["totalCost"] == "1450.00"
    coaching = await c["vdab"].post(f"/dossiers/{dossier}/requests", {"type": "coaching", "registrationFormId": form})
    assert coaching.json()["status"] == "atInami"
    direct = await c["insurerPhysician"].post(
        f"/dossiers/{dossier}/requests", {"type": "coaching", "medicalInformation": "Chronic back pain"}
    )
    assert direct.status_code == 201, direct.text
    assert direct.json()["status"] == "atInami"
    ids = {name: r.json()["id"] for name, r in (("training", training), ("coaching", coaching), ("direct", direct))}

    validated = await c["insurer"].post(
        f"/requests/{ids['training']}/insurerValidation",
        {"validated": True, "motivation": "Fits the return-to-work plan"},
        **{"If-Match": training.headers["ETag"]},
    )
    assert validated.status_code == 200, validated.text
    assert validated.json()["status"] == "atInami"

    advice = await c["inspector"].post(
        f"/requests/{ids['direct']}/medicalAdvice",
        {"text": "Favourable", "conclusion": "compatible"},
        **{"If-Match": direct.headers["ETag"]},
    )
    assert advice.status_code == 200, advice.text

    round_ = await c["expert"].post(
        "/decisionRounds",
        {
            "week": WEEK,
            "decisions": [decision(ids["training"]), decision(ids["coaching"], "refused"), decision(ids["direct"])],
        },
    )
    assert round_.status_code == 201, round_.text

    everything = set(ids.values())
    assert await listed(c["vdab"]) == everything  # requester of two, regional service of the person for the third
    assert await listed(c["insurer"]) == everything  # the person's insurer
    assert await listed(c["expert"]) >= everything
    assert await listed(c["otherInsurer"]) == set()
    assert await listed(c["forem"]) == set()

    in_dossier = (await c["vdab"].get(f"/dossiers/{dossier}")).json()["requests"]
    assert {r["id"]: r["decision"]["outcome"] for r in in_dossier} == {
        ids["training"]: "approved",
        ids["coaching"]: "refused",
        ids["direct"]: "approved",
    }
    assert all("medicalInformation" not in r for r in in_dossier)
    approved = (await c["vdab"].get(f"/requests/{ids['training']}")).json()
    assert approved["status"] == "approved"
    assert approved["decision"]["approvedAmount"] == "1450.00"
    seen_by_vdab = (await c["vdab"].get(f"/requests/{ids['direct']}")).json()
    assert "medicalInformation" not in seen_by_vdab
    assert "medicalAdvice" not in seen_by_vdab
    assert "medicalInformation" not in (await c["expert"].get(f"/requests/{ids['direct']}")).json()
    seen_by_inspector = (await c["inspector"].get(f"/requests/{ids['direct']}")).json()
    assert seen_by_inspector["medicalInformation"] == "Chronic back pain"
    assert seen_by_inspector["medicalAdvice"] == "Favourable"

    as_csv = await c["vdabLists"].get(f"/decisions?week={WEEK}", Accept="text/csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {row["requestId"] for row in rows} == everything
    assert {row["outcome"] for row in rows} == {"approved", "refused"}
    for response in (as_csv, await c["vdab"].get(f"/decisions?week={WEEK}")):
        assert "Chronic back pain" not in response.text
        assert "Favourable" not in response.text

    listed_records = await connection.scalar(
        text("SELECT count(*) FROM audit_event WHERE operation = 'listDecisions' AND organisation = :org"),
        {"org": TokenFactory().organisation("VDAB").enterprise_number},
    )
    assert listed_records == 3  # three list reads by VDAB's users (JSON twice, CSV once), one record per person


async def test_hours_versions_and_lists(
    callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection
) -> None:
    c = callers
    dossier, form = await submitted_form(c, person)
    created = await c["vdab"].post(
        f"/dossiers/{dossier}/requests", {"type": "training", "registrationFormId": form, "trainings": [TRAINING]}
    )
    request_id = created.json()["id"]
    await c["insurer"].post(
        f"/requests/{request_id}/insurerValidation",
        {"validated": True, "motivation": "ok"},
        **{"If-Match": created.headers["ETag"]},
    )
    line = {"requestId": request_id, "trainingId": "t1", "month": MONTH, "hours": 32}

    too_early = await c["vdab"].post("/hoursReports", {"items": [line]})
    assert too_early.status_code == 409
    assert too_early.json()["items"][0]["name"] == "items[0].requestId"

    assert (
        await c["expert"].post("/decisionRounds", {"week": WEEK, "decisions": [decision(request_id)]})
    ).status_code == 201
    first = await c["vdab"].post("/hoursReports", {"items": [line]})
    assert first.status_code == 200, first.text
    assert first.json()["items"][0]["version"] == 1
    again = await c["vdab"].post("/hoursReports", {"items": [line]})
    assert again.json()["items"][0]["version"] == 1  # the same figure: no new version
    corrected = await c["vdab"].post("/hoursReports", {"items": [{**line, "hours": 30}]})
    assert corrected.json()["items"][0]["version"] == 2
    assert await connection.scalar(text("SELECT count(*) FROM hours_report")) == 2  # history kept

    for party in ("vdabLists", "insurer", "expert"):
        hours = (await c[party].get(f"/hoursLists?month={MONTH}")).json()["items"]
        assert [(h["requestId"], h["hours"], h["version"]) for h in hours if h["requestId"] == request_id] == [
            (request_id, "30.00", 2)
        ]
    assert (await c["otherInsurer"].get(f"/hoursLists?month={MONTH}")).json()["items"] == []

    next_month = (datetime.now(UTC).replace(day=28) + timedelta(days=5)).strftime("%Y-%m")
    bad_batches = [
        ({"items": [{**line, "hours": -1}]}, 400),
        ({"items": [{**line, "hours": 745}]}, 400),
        ({"items": [{**line, "month": next_month}]}, 400),
        ({"items": [{**line, "hours": 10}, {**line, "trainingId": "t9", "hours": 10}]}, 409),
    ]
    for batch, status in bad_batches:
        response = await c["vdab"].post("/hoursReports", batch)
        assert response.status_code == status, (batch, response.text)
    assert await connection.scalar(text("SELECT count(*) FROM hours_report")) == 2  # a bad batch changes nothing


async def test_request_bad_inputs(
    callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection
) -> None:
    c = callers
    dossier, form = await submitted_form(c, person)
    no_form = await c["vdab"].post(f"/dossiers/{dossier}/requests", {"type": "coaching"})
    assert no_form.status_code == 400
    assert no_form.json()["issues"][0]["name"] == "registrationFormId"
    draft = (await c["insurer"].post(f"/dossiers/{dossier}/registrationForms", CONTENT)).json()["id"]
    on_draft = await c["vdab"].post(f"/dossiers/{dossier}/requests", {"type": "coaching", "registrationFormId": draft})
    assert on_draft.status_code == 409
    assert on_draft.json()["type"] == "urn:problem-type:rp:registrationFormNotValid"
    assert (
        await c["vdab"].post(f"/dossiers/{dossier}/requests", {"type": "training", "registrationFormId": form})
    ).status_code == 400
    reversed_dates = {**TRAINING, "endDate": "2026-08-01"}
    assert (
        await c["vdab"].post(
            f"/dossiers/{dossier}/requests",
            {"type": "training", "registrationFormId": form, "trainings": [reversed_dates]},
        )
    ).status_code == 400
    medical_from_vdab = await c["vdab"].post(
        f"/dossiers/{dossier}/requests", {"type": "coaching", "registrationFormId": form, "medicalInformation": "x"}
    )
    assert medical_from_vdab.status_code == 400

    waiting = await c["vdab"].post(
        f"/dossiers/{dossier}/requests", {"type": "training", "registrationFormId": form, "trainings": [TRAINING]}
    )
    at_inami = await c["vdab"].post(f"/dossiers/{dossier}/requests", {"type": "coaching", "registrationFormId": form})
    mixed = {"week": WEEK, "decisions": [decision(at_inami.json()["id"]), decision(waiting.json()["id"])]}
    refused = await c["expert"].post("/decisionRounds", mixed)
    assert refused.status_code == 409
    assert refused.json()["items"] == [
        {"name": "decisions[1].requestId", "reason": "the request is awaitingInsurerValidation, not atInami"}
    ]
    assert await connection.scalar(text("SELECT count(*) FROM decision")) == 0  # all or nothing
    assert (await c["vdab"].get(f"/requests/{at_inami.json()['id']}")).json()["status"] == "atInami"

    future = (datetime.now(UTC) + timedelta(days=14)).date().isocalendar()
    for body in (
        {"week": f"{future[0]}-W{future[1]:02d}", "decisions": [decision(at_inami.json()["id"])]},
        {"week": WEEK, "decisions": [decision(at_inami.json()["id"]), decision(at_inami.json()["id"])]},
        {
            "week": WEEK,
            "decisions": [{"requestId": at_inami.json()["id"], "outcome": "approved", "motivation": "no amount"}],
        },
    ):
        assert (await c["expert"].post("/decisionRounds", body)).status_code == 400, body
    assert (
        await c["vdab"].post("/decisionRounds", {"week": WEEK, "decisions": [decision(at_inami.json()["id"])]})
    ).status_code == 403
    assert (await c["vdab"].get(f"/decisions?week={WEEK}&from=2026-01-01")).status_code == 400
    assert (await c["vdab"].get("/decisions?week=2026-W99")).status_code == 400


async def test_no_list_carries_health_data(callers: dict[str, Caller], person: SimulatedPerson) -> None:
    c = callers
    dossier = (await c["insurer"].post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    direct = await c["insurerPhysician"].post(
        f"/dossiers/{dossier}/requests", {"type": "coaching", "medicalInformation": "Secret diagnosis"}
    )
    await c["expert"].post("/decisionRounds", {"week": WEEK, "decisions": [decision(direct.json()["id"])]})
    for caller in (c["insurerPhysician"], c["inspector"], c["vdab"]):
        response = await caller.get(f"/decisions?week={WEEK}")
        assert "Secret diagnosis" not in response.text
        assert "medicalInformation" not in set(walk(response.json()))


async def test_conflicting_request_transitions_have_one_winner(
    own_client: httpx.AsyncClient, tokens: TokenFactory, person: SimulatedPerson
) -> None:
    """The insurer validates while the regional service withdraws, on the same ETag: exactly one wins."""
    import asyncio

    c = {
        "insurer": Caller(own_client, tokens.token("Solidaris", ["returnToWorkCoordinator"])),
        "insurerPhysician": Caller(own_client, tokens.token("Solidaris", ["medicalAdvisor"])),
        "vdab": Caller(own_client, tokens.token("VDAB", ["referenceAdvisor"])),
    }
    dossier, form = await submitted_form(c, person)
    for _ in range(5):
        created = await c["vdab"].post(
            f"/dossiers/{dossier}/requests", {"type": "training", "registrationFormId": form, "trainings": [TRAINING]}
        )
        request_id, etag = created.json()["id"], created.headers["ETag"]
        results = await asyncio.gather(
            c["insurer"].post(
                f"/requests/{request_id}/insurerValidation",
                {"validated": True, "motivation": "ok"},
                **{"If-Match": etag},
            ),
            c["vdab"].post(f"/requests/{request_id}/withdraw", **{"If-Match": etag}),
        )
        assert sorted(r.status_code for r in results) == [200, 412], [r.text for r in results]
        final = (await c["vdab"].get(f"/requests/{request_id}")).json()["status"]
        assert final == next(r for r in results if r.status_code == 200).json()["status"]
