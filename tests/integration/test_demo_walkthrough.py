"""The README's walkthrough, on the demo's seeded data: work finds its way to each party without anyone opening the
dossier first — the insurer finds the routing C form waiting for its target-group decision, VDAB finds the
insurer's new form in its feed and its work list, the insurer finds VDAB's training request waiting for its
validation, INAMI finds the request in its queue and decides it in a weekly round, and VDAB's list manager reads the
decision in its list. On committed data (own database), as the demo runs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.db import create_sessionmaker
from rp_api.demo import seed_demo_data, walkthrough_person
from rp_api.simulator.population import Population
from tests.integration.test_dossiers_and_forms import Caller
from tests.integration.test_requests_and_decisions import TRAINING, WEEK, decision
from tests.integration.test_work_routing import whole_feed
from tests.token_factory import TokenFactory

REGISTRY = OrganisationRegistry.load()


async def ids_in(caller: Caller, path: str, body: dict[str, Any]) -> list[str]:
    page = await caller.post(path, body)
    assert page.status_code == 200, page.text
    return [item["id"] for item in page.json()["items"]]


async def test_the_walkthrough_brings_the_work_to_each_party(
    own_database: URL, own_client: httpx.AsyncClient, tokens: TokenFactory, population: Population
) -> None:
    engine = create_async_engine(own_database)
    try:
        await seed_demo_data(create_sessionmaker(engine), population, REGISTRY)
    finally:
        await engine.dispose()
    coordinator = Caller(own_client, tokens.token("CM", ["returnToWorkCoordinator"]))
    vdab = Caller(own_client, tokens.token("VDAB", ["referenceAdvisor"]))
    lists = Caller(own_client, tokens.token("VDAB", ["listManager"]))
    expert = Caller(own_client, tokens.token("INAMI", ["socialExpert"]))

    # The insurer finds the seeded routing C form that waits for it, and decides.
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

    # The README's steps 1-3: the insurer opens the dossier of DEMO_SSIN, starts a form and submits it.
    ssin = walkthrough_person(population, REGISTRY).ssin
    dossier = (await coordinator.post("/dossiers", {"ssin": ssin, "start": "registrationForm"})).json()["id"]
    created = await coordinator.post(f"/dossiers/{dossier}/registrationForms", {"expectations": "Training"})
    form = created.json()["id"]
    submitted = await coordinator.post(f"/registrationForms/{form}/submit", **{"If-Match": created.headers["ETag"]})
    assert submitted.status_code == 200, submitted.text

    # VDAB has not opened the dossier: it finds the form in its work list and its feed.
    assert form in await ids_in(vdab, "/registrationForms/query", {"queue": "registeredWithMe"})
    for _ in range(100):
        if form in {e["resourceId"] for e in await whole_feed(vdab)}:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("VDAB's feed does not tell of the form")

    # VDAB asks a training on it; the insurer finds it waiting for its validation and validates it.
    body = {"type": "training", "registrationFormId": form, "trainingProject": "Logistics", "trainings": [TRAINING]}
    asked = await vdab.post(f"/dossiers/{dossier}/requests", body)
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    assert request_id in await ids_in(coordinator, "/requests/query", {"queue": "awaitingInsurerValidation"})
    validated = await coordinator.post(
        f"/requests/{request_id}/insurerValidation",
        {"validated": True, "motivation": "Fits the path"},
        **{"If-Match": asked.headers["ETag"]},
    )
    assert validated.status_code == 200, validated.text
    assert request_id not in await ids_in(coordinator, "/requests/query", {"queue": "awaitingInsurerValidation"})

    # INAMI's weekly round is built from its queue.
    queue = await ids_in(expert, "/requests/query", {"queue": "atInami", "pageSize": 100})
    assert request_id in queue
    recorded = await expert.post("/decisionRounds", {"week": WEEK, "decisions": [decision(r) for r in queue]})
    assert recorded.status_code == 201, recorded.text
    assert await ids_in(expert, "/requests/query", {"queue": "atInami"}) == []

    # VDAB's list manager reads the decision, with the person's name.
    listed = await lists.get(f"/decisions?week={WEEK}")
    assert listed.status_code == 200, listed.text
    [line] = [item for item in listed.json()["items"] if item["requestId"] == request_id]
    assert line["outcome"] == "approved"
    assert line["familyName"] == walkthrough_person(population, REGISTRY).family_name
