"""The dossier's life on the real database: the repository's SQL agrees with the pure rule on every row of its table
(its requests' follow-ups included), and the whole flow through the HTTP API (a trajectory that ends closes the
dossier, a new form reopens it, the person's insurer or INAMI closes it explicitly, and the status filter of
``dossiers/query`` follows; the end recorded by the follow-up: tests/integration/test_follow_up.py)."""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import URL, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.db import create_sessionmaker
from rp_api.demo import DEMO_FORMS, seed_demo_data
from rp_api.domain.dossiers import DossierStatus
from rp_api.domain.follow_up import FollowUpEvent
from rp_api.domain.forms import FormStatus
from rp_api.domain.requests import RequestStatus
from rp_api.models.dossier import Dossier
from rp_api.models.registration_form import RegistrationForm
from rp_api.models.request import FollowUp, Request
from rp_api.repositories import dossiers as dossier_repository
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import CONTENT, Caller
from tests.integration.test_requests_and_decisions import WEEK, decision
from tests.token_factory import TokenFactory
from tests.unit.test_dossier_life import TABLE, Case

CLOSER = "0203337140"  # any organisation number: who closed the dossier explicitly


def _variants() -> list[tuple[Case, bool]]:
    """Every row of the table under every flag (closed explicitly or not, a new item or not), each also starting
    from a dossier its trajectory had closed before (``closed_at`` set, nobody named)."""
    variants = []
    for case, (explicitly_closed, new_item) in itertools.product(TABLE, itertools.product([False, True], repeat=2)):
        flagged = dataclasses.replace(case, explicitly_closed=explicitly_closed, new_item=new_item)
        variants.append((flagged, False))
        if not explicitly_closed:
            variants.append((flagged, True))
    return variants


async def _build(session: AsyncSession, index: int, case: Case, *, ended_before: bool) -> uuid.UUID:
    """A dossier holding the case's forms and requests, as it stood before the change."""
    dossier_id = uuid.uuid4()
    before: dict[str, Any] = {"status": "active"}
    if case.explicitly_closed:
        before = {"status": "closed", "closed_at": text("now() - interval '1 day'"), "closed_by": CLOSER}
    elif ended_before:
        before = {"status": "closed", "closed_at": text("now() - interval '1 day'")}
    await session.execute(insert(Dossier).values(id=dossier_id, ssin=f"9{index:010d}", version=1, **before))
    forms = [uuid.uuid4() for _ in case.forms]
    for form_id, status in zip(forms, case.forms, strict=True):
        await session.execute(
            insert(RegistrationForm).values(
                id=form_id,
                dossier_id=dossier_id,
                routing="standard",
                status=status,
                version=1,
                created_by_organisation=CLOSER,
                created_by_type="insurer",
                created_by_role="returnToWorkCoordinator",
            )
        )
    for index, (status, on) in enumerate(case.requests):
        request_id = uuid.uuid4()
        await session.execute(
            insert(Request).values(
                id=request_id,
                dossier_id=dossier_id,
                registration_form_id=None if on is None else forms[on],
                type="coaching",
                status=status,
                version=1,
                requester_organisation=CLOSER,
                requester_type="insurer",
                requester_role="returnToWorkCoordinator",
            )
        )
        for day, event in enumerate(case.steps_of(index)):
            await session.execute(
                insert(FollowUp).values(
                    id=uuid.uuid4(),
                    request_id=request_id,
                    dossier_id=dossier_id,
                    event=event,
                    occurred_on=date(2026, 3, 1) + timedelta(days=day),
                    reason="other" if event is FollowUpEvent.INTERRUPTED else None,
                    result="noResult" if event is FollowUpEvent.ENDED else None,
                    recorded_by=CLOSER,
                    recorded_by_role="returnToWorkCoordinator",
                )
            )
    return dossier_id


async def test_the_sql_agrees_with_the_pure_rule_on_every_row(connection: AsyncConnection) -> None:
    session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint")
    variants = _variants()
    built = [
        (case, ended_before, await _build(session, index, case, ended_before=ended_before))
        for index, (case, ended_before) in enumerate(variants)
    ]
    disagreements = []
    for case, ended_before, dossier_id in built:
        before = (await session.execute(select(Dossier.closed_at).where(Dossier.id == dossier_id))).scalar_one()
        await dossier_repository.touch(session, dossier_id, new_item=case.new_item)
        row = (
            await session.execute(
                select(Dossier.status, Dossier.closed_at, Dossier.closed_by, Dossier.version).where(
                    Dossier.id == dossier_id
                )
            )
        ).one()
        life = case.life()
        got = (row.status, row.closed_by is not None, row.closed_at is not None, row.version)
        expected = (life.status.value, life.explicitly_closed, life.status is DossierStatus.CLOSED, 2)
        if got != expected:
            disagreements.append((case, ended_before, got, expected))
        elif row.closed_at is not None and before is not None and not case.new_item:
            assert row.closed_at == before, case  # a dossier that stays closed keeps the time it closed
    assert not disagreements, disagreements
    assert len(built) > 300
    # The follow-up is part of the rule: some dossiers closed by a recorded end, others kept active by a running one.
    followed = {
        case.life().status
        for case, _, _ in built
        if any(status is RequestStatus.APPROVED and case.steps_of(i) for i, (status, _) in enumerate(case.requests))
    }
    assert followed == {DossierStatus.ACTIVE, DossierStatus.CLOSED}


async def test_touch_writes_the_pending_change_it_reads(connection: AsyncConnection) -> None:
    """The sessions do not autoflush: ``touch`` flushes the item's new state before its UPDATE reads it."""
    session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint", autoflush=False)
    case = TABLE[0]
    dossier_id = await _build(session, 0, dataclasses.replace(case, forms=(), requests=()), ended_before=False)
    request_id = uuid.uuid4()
    await session.execute(
        insert(Request).values(
            id=request_id,
            dossier_id=dossier_id,
            type="coaching",
            status="atInami",
            version=1,
            requester_organisation=CLOSER,
            requester_type="insurer",
            requester_role="returnToWorkCoordinator",
        )
    )
    request = await session.get(Request, request_id)
    assert request is not None
    request.status = "refused"  # not flushed
    await dossier_repository.touch(session, dossier_id)
    status = await connection.scalar(text("SELECT status FROM dossier WHERE id = :id"), {"id": dossier_id})
    assert status == "closed"


# --- the whole flow through the HTTP API ------------------------------------------------------------------------------
@pytest.fixture
def callers(client: httpx.AsyncClient, tokens: TokenFactory) -> dict[str, Caller]:
    return {
        "insurer": Caller(client, tokens.token("Solidaris", ["returnToWorkCoordinator"])),
        "admin": Caller(client, tokens.token("Solidaris", ["administrative"])),
        "vdab": Caller(client, tokens.token("VDAB", ["referenceAdvisor"])),
        "expert": Caller(client, tokens.token("INAMI", ["socialExpert"])),
        "inspector": Caller(client, tokens.token("INAMI", ["medicalInspector"])),
        "otherInsurer": Caller(client, tokens.token("CM", ["returnToWorkCoordinator"])),
    }


async def records_of(connection: AsyncConnection, response: httpx.Response) -> list[tuple[Any, ...]]:
    """The audit records of one call: (operation, outcome, reason, status)."""
    rows = await connection.execute(
        text("SELECT operation, outcome, reason, status FROM audit_event WHERE trace_id = :trace ORDER BY seq"),
        {"trace": response.headers["BelGov-Trace-Id"]},
    )
    return [tuple(row) for row in rows]


async def read(caller: Caller, dossier: str) -> httpx.Response:
    response = await caller.get(f"/dossiers/{dossier}")
    assert response.status_code == 200, response.text
    return response


async def listed(caller: Caller, status: str) -> set[str]:
    page = await caller.post("/dossiers/query", {"status": status, "pageSize": 100})
    assert page.status_code == 200, page.text
    assert {item["status"] for item in page.json()["items"]} <= {status}
    return {item["id"] for item in page.json()["items"]}


async def new_form(caller: Caller, dossier: str, *, submit: bool) -> tuple[str, str]:
    created = await caller.post(f"/dossiers/{dossier}/registrationForms", CONTENT)
    assert created.status_code == 201, created.text
    form, etag = created.json()["id"], created.headers["ETag"]
    if submit:
        submitted = await caller.post(f"/registrationForms/{form}/submit", **{"If-Match": etag})
        assert submitted.status_code == 200, submitted.text
        etag = submitted.headers["ETag"]
    return form, etag


async def test_a_trajectory_ends_reopens_and_is_closed_by_the_insurer(
    callers: dict[str, Caller], person: SimulatedPerson, connection: AsyncConnection, tokens: TokenFactory
) -> None:
    c = callers
    opened = await c["insurer"].post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})
    dossier = opened.json()["id"]
    assert opened.json()["status"] == "active"  # just opened: nothing yet, active
    form, _ = await new_form(c["insurer"], dossier, submit=True)
    assert (await read(c["insurer"], dossier)).json()["status"] == "active"  # a valid form waits for a request

    coaching = await c["vdab"].post(f"/dossiers/{dossier}/requests", {"type": "coaching", "registrationFormId": form})
    assert coaching.json()["status"] == "atInami"
    assert (await read(c["insurer"], dossier)).json()["status"] == "active"

    # INAMI refuses the last open request in its weekly round: the trajectory ended.
    round_ = await c["expert"].post(
        "/decisionRounds", {"week": WEEK, "decisions": [decision(coaching.json()["id"], "refused")]}
    )
    assert round_.status_code == 201, round_.text
    ended = (await read(c["insurer"], dossier)).json()
    assert ended["status"] == "closed"
    assert "closedAt" in ended
    assert "closedBy" not in ended  # nobody closed it: its trajectory ended
    assert dossier in await listed(c["insurer"], "closed")
    assert dossier not in await listed(c["insurer"], "active")

    # A new form reopens it.
    draft, draft_etag = await new_form(c["insurer"], dossier, submit=False)
    reopened = await read(c["insurer"], dossier)
    assert reopened.json()["status"] == "active"
    assert "closedAt" not in reopened.json()
    assert dossier in await listed(c["insurer"], "active")
    assert dossier not in await listed(c["insurer"], "closed")

    # The explicit close: every refusal first, each recorded once with what the caller got.
    path, etag = f"/dossiers/{dossier}/close", reopened.headers["ETag"]
    refusals = [
        (c["insurer"], {}, 428, "preconditionFailed"),
        (c["insurer"], {"If-Match": '"1"'}, 412, "preconditionFailed"),
        (c["vdab"], {"If-Match": etag}, 403, "roleNotAllowed"),
        (c["admin"], {"If-Match": etag}, 403, "roleNotAllowed"),
        (c["inspector"], {"If-Match": etag}, 403, "roleNotAllowed"),
        (c["otherInsurer"], {"If-Match": etag}, 404, "noLink"),
    ]
    for caller, headers, status, reason in refusals:
        refused = await caller.post(path, {"reason": "Back at work"}, **headers)
        assert refused.status_code == status, (status, refused.text)
        assert person.ssin not in refused.text
        assert await records_of(connection, refused) == [("closeDossier", "deny", reason, status)]
    assert (await read(c["insurer"], dossier)).json()["status"] == "active"

    key = {"Idempotency-Key": "close-once", "If-Match": etag}
    closed = await c["insurer"].post(path, {"reason": "Back at work with the same employer"}, **key)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["status"] == "closed"
    assert body["closedBy"] == {
        "enterpriseNumber": tokens.organisation("Solidaris").enterprise_number,
        "name": "Solidaris",
    }
    assert "closedAt" in body
    assert closed.headers["ETag"] != etag
    as_read = await read(c["insurer"], dossier)
    assert as_read.headers["ETag"] == closed.headers["ETag"]
    assert {k: v for k, v in as_read.json().items() if k != "updatedAt"} == {
        k: v for k, v in body.items() if k != "updatedAt"
    }
    assert await records_of(connection, closed) == [("closeDossier", "permit", "insurerAffiliation", 200)]

    replay = await c["insurer"].post(path, {"reason": "Back at work with the same employer"}, **key)
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed")) == (200, "true")
    assert replay.json() == body
    assert replay.headers["ETag"] == closed.headers["ETag"]
    assert await records_of(connection, replay) == [("closeDossier", "permit", "insurerAffiliation", 200)]

    twice = await c["insurer"].post(path, {}, **{"If-Match": closed.headers["ETag"]})
    assert twice.status_code == 409, twice.text
    assert twice.json()["type"] == "urn:problem-type:rp:transitionNotAllowed"
    assert await records_of(connection, twice) == [("closeDossier", "deny", "workflowState", 409)]

    assert dossier in await listed(c["insurer"], "closed")
    assert dossier not in await listed(c["insurer"], "active")
    seen_by_vdab = (await read(c["vdab"], dossier)).json()
    assert (seen_by_vdab["status"], seen_by_vdab["closedBy"]["name"]) == ("closed", "Solidaris")

    # Closed explicitly, it stays closed while its items change (the draft is still open)…
    updated = await c["insurer"].put(f"/registrationForms/{draft}", CONTENT, **{"If-Match": draft_etag})
    assert updated.status_code == 200, updated.text
    still = (await read(c["insurer"], dossier)).json()
    assert (still["status"], still["closedBy"]["name"]) == ("closed", "Solidaris")
    # …until a new form or request is created in it.
    await c["insurer"].post(f"/dossiers/{dossier}/requests", {"type": "coaching"})
    again = (await read(c["insurer"], dossier)).json()
    assert again["status"] == "active"
    assert "closedBy" not in again
    assert "closedAt" not in again


async def test_inami_closes_and_a_closed_dossier_is_found_by_its_status(
    callers: dict[str, Caller], person: SimulatedPerson, tokens: TokenFactory
) -> None:
    c = callers
    dossier = (await c["insurer"].post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    await new_form(c["insurer"], dossier, submit=False)
    etag = (await read(c["expert"], dossier)).headers["ETag"]
    closed = await c["expert"].post(f"/dossiers/{dossier}/close", **{"If-Match": etag})  # no body: no reason
    assert closed.status_code == 200, closed.text
    assert closed.json()["closedBy"]["enterpriseNumber"] == tokens.organisation("INAMI").enterprise_number
    assert dossier in await listed(c["insurer"], "closed")
    assert dossier not in await listed(c["insurer"], "active")
    everything = await c["insurer"].post("/dossiers/query", {"pageSize": 100})
    assert dossier in {item["id"] for item in everything.json()["items"]}  # no status: every dossier


async def test_a_reason_is_short_text(callers: dict[str, Caller], person: SimulatedPerson) -> None:
    c = callers
    dossier = (await c["insurer"].post("/dossiers", {"ssin": person.ssin, "start": "registrationForm"})).json()["id"]
    etag = (await read(c["insurer"], dossier)).headers["ETag"]
    for reason in ("x" * 501, "", 12):
        refused = await c["insurer"].post(f"/dossiers/{dossier}/close", {"reason": reason}, **{"If-Match": etag})
        assert refused.status_code == 400, refused.text
        assert refused.json()["issues"][0]["name"] == "reason"
    unknown = await c["insurer"].post(f"/dossiers/{dossier}/close", {"why": "x"}, **{"If-Match": etag})
    assert unknown.status_code == 400
    assert (await c["insurer"].post(f"/dossiers/{uuid.uuid4()}/close", **{"If-Match": etag})).status_code == 404
    assert (await read(c["insurer"], dossier)).json()["status"] == "active"


async def test_the_demo_dossiers_have_the_status_of_their_forms(own_database: URL, population: Population) -> None:
    engine = create_async_engine(own_database)
    try:
        await seed_demo_data(create_sessionmaker(engine), population, OrganisationRegistry.load())
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT f.status, d.status FROM dossier d JOIN registration_form f ON f.dossier_id = d.id")
            )
            seeded = {form: dossier for form, dossier in rows}
    finally:
        await engine.dispose()
    ended = {FormStatus.CANCELLED, FormStatus.NOT_IN_TARGET_GROUP}
    assert seeded == {str(status): "closed" if status in ended else "active" for _, status, _ in DEMO_FORMS}
