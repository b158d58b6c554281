"""Every kind of change restarts the dossier's retention clock (issue 15, item 7): the purge counts three years from
the dossier's ``updated_at``, so each change to what the dossier holds — forms, requests, decisions, hours,
conversations, messages — must move it (and the dossier's version) forward."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from rp_api.simulator.population import SimulatedPerson
from tests.integration.test_dossiers_and_forms import CONTENT, Caller
from tests.integration.test_requests_and_decisions import MONTH, TRAINING, WEEK, decision
from tests.token_factory import TokenFactory

State = dict[str, Any]
Step = Callable[[dict[str, Caller], State], Awaitable[httpx.Response]]


def changed(response: httpx.Response, status: int = 200) -> httpx.Response:
    assert response.status_code == status, response.text
    return response


async def create_form(c: dict[str, Caller], s: State) -> httpx.Response:
    created = changed(await c["insurer"].post(f"/dossiers/{s['dossier']}/registrationForms", CONTENT), 201)
    s["form"], s["formEtag"] = created.json()["id"], created.headers["ETag"]
    return created


async def update_form(c: dict[str, Caller], s: State) -> httpx.Response:
    content = {**CONTENT, "expectations": "A training as a warehouse clerk"}
    updated = changed(await c["insurer"].put(f"/registrationForms/{s['form']}", content, **{"If-Match": s["formEtag"]}))
    s["formEtag"] = updated.headers["ETag"]
    return updated


async def submit_form(c: dict[str, Caller], s: State) -> httpx.Response:
    creator = c[s.get("formCreator", "insurer")]
    submitted = changed(await creator.post(f"/registrationForms/{s['form']}/submit", **{"If-Match": s["formEtag"]}))
    s["formEtag"] = submitted.headers["ETag"]
    return submitted


async def cancel_form(c: dict[str, Caller], s: State) -> httpx.Response:
    return changed(await c["insurer"].post(f"/registrationForms/{s['form']}/cancel", **{"If-Match": s["formEtag"]}))


async def create_form_routing_c(c: dict[str, Caller], s: State) -> httpx.Response:
    created = changed(
        await c["vdab"].post(f"/dossiers/{s['dossier']}/registrationForms", {"expectations": "Welding"}), 201
    )
    s["form"], s["formEtag"], s["formCreator"] = created.json()["id"], created.headers["ETag"], "vdab"
    return created


async def decide_target_group(c: dict[str, Caller], s: State) -> httpx.Response:
    return changed(
        await c["insurer"].post(
            f"/registrationForms/{s['form']}/targetGroupDecision",
            {"inTargetGroup": True, "motivation": "Fits the target group"},
            **{"If-Match": s["formEtag"]},
        )
    )


async def submit_training_request(c: dict[str, Caller], s: State) -> httpx.Response:
    body = {"type": "training", "registrationFormId": s["form"], "trainings": [TRAINING]}
    created = changed(await c["vdab"].post(f"/dossiers/{s['dossier']}/requests", body), 201)
    s["request"], s["requestEtag"], s["requester"] = created.json()["id"], created.headers["ETag"], "vdab"
    return created


async def submit_coaching_request(c: dict[str, Caller], s: State) -> httpx.Response:
    created = changed(await c["insurer"].post(f"/dossiers/{s['dossier']}/requests", {"type": "coaching"}), 201)
    s["request"], s["requestEtag"], s["requester"] = created.json()["id"], created.headers["ETag"], "insurer"
    return created


async def act_on_request(c: dict[str, Caller], s: State, who: str, action: str, body: Any = None) -> httpx.Response:
    done = changed(await c[who].post(f"/requests/{s['request']}/{action}", body, **{"If-Match": s["requestEtag"]}))
    s["requestEtag"] = done.headers["ETag"]
    return done


async def validate_request(c: dict[str, Caller], s: State) -> httpx.Response:
    return await act_on_request(c, s, "insurer", "insurerValidation", {"validated": True, "motivation": "ok"})


async def withdraw_request(c: dict[str, Caller], s: State) -> httpx.Response:
    return await act_on_request(c, s, s["requester"], "withdraw")


async def add_medical_information(c: dict[str, Caller], s: State) -> httpx.Response:
    return await act_on_request(c, s, "insurerPhysician", "medicalInformation", {"text": "Chronic back pain"})


async def add_medical_advice(c: dict[str, Caller], s: State) -> httpx.Response:
    return await act_on_request(c, s, "inspector", "medicalAdvice", {"text": "Favourable", "conclusion": "compatible"})


async def decide(c: dict[str, Caller], s: State) -> httpx.Response:
    return changed(
        await c["expert"].post("/decisionRounds", {"week": WEEK, "decisions": [decision(s["request"])]}), 201
    )


async def report_hours(c: dict[str, Caller], s: State) -> httpx.Response:
    line = {"requestId": s["request"], "trainingId": "t1", "month": MONTH, "hours": 32}
    return changed(await c["vdab"].post("/hoursReports", {"items": [line]}))


async def create_conversation(c: dict[str, Caller], s: State) -> httpx.Response:
    body = {"subject": "Start date", "participants": [s["vdabNumber"]]}
    created = changed(await c["insurer"].post(f"/dossiers/{s['dossier']}/conversations", body), 201)
    s["conversation"] = created.json()["id"]
    return created


async def post_message(c: dict[str, Caller], s: State) -> httpx.Response:
    return changed(await c["vdab"].post(f"/conversations/{s['conversation']}/messages", {"text": "4 January"}), 201)


TO_DECISION: list[Step] = [create_form, submit_form, submit_training_request, validate_request]
CHANGES: dict[str, tuple[list[Step], Step]] = {
    # kind of change: (what comes before it, the change)
    "registrationFormCreated": ([], create_form),
    "registrationFormUpdated": ([create_form], update_form),
    "registrationFormSubmitted": ([create_form], submit_form),
    "registrationFormCancelled": ([create_form], cancel_form),
    "targetGroupDecision": ([create_form_routing_c, submit_form], decide_target_group),
    "requestSubmitted": ([create_form, submit_form], submit_training_request),
    "insurerValidation": ([create_form, submit_form, submit_training_request], validate_request),
    "requestWithdrawn": ([submit_coaching_request], withdraw_request),
    "medicalInformation": ([submit_coaching_request], add_medical_information),
    "medicalAdvice": ([submit_coaching_request], add_medical_advice),
    "decisionRound": (TO_DECISION, decide),
    "hoursReport": ([*TO_DECISION, decide], report_hours),
    "conversationCreated": ([], create_conversation),
    "messagePosted": ([create_conversation], post_message),
}


async def clock_of(connection: AsyncConnection, dossier: str) -> tuple[datetime, int]:
    row = (
        await connection.execute(text("SELECT updated_at, version FROM dossier WHERE id = :id"), {"id": dossier})
    ).one()
    return row.updated_at, row.version


@pytest.mark.parametrize("kind", list(CHANGES))
async def test_every_kind_of_change_restarts_the_retention_clock(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    tokens: TokenFactory,
    person: SimulatedPerson,
    kind: str,
) -> None:
    c = {
        "insurer": Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"])),
        "insurerPhysician": Caller(client, tokens.token("Solidaris", ["medicalAdvisor"])),
        "vdab": Caller(client, tokens.token("VDAB", ["referenceAdvisor"])),
        "expert": Caller(client, tokens.token("INAMI", ["socialExpert"])),
        "inspector": Caller(client, tokens.token("INAMI", ["medicalInspector"])),
    }
    opened = changed(await c["insurer"].post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"}), 201)
    state: State = {"dossier": opened.json()["id"], "vdabNumber": tokens.organisation("VDAB").enterprise_number}
    before, change = CHANGES[kind]
    for step in before:
        await step(c, state)
    updated_at, version = await clock_of(connection, state["dossier"])

    await change(c, state)

    updated_at_after, version_after = await clock_of(connection, state["dossier"])
    assert updated_at_after > updated_at, f"{kind} left the dossier's updated_at as it was"
    assert version_after > version, f"{kind} left the dossier's version as it was"
