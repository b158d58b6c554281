"""One path to a person: every person-scoped operation of the OpenAPI document, driven as each kind of caller would,
with the audit log read back for that one call (its trace id).

For each operation that names a person (one row per operation; a test fails when the document has an operation
without a row): an unlinked organisation gets 404 and exactly one denial; an auditor's token gets 403 and exactly
one denial (``auditOnlyRole``); a linked caller gets what its role allows and exactly one record saying so — a
permit when something was revealed or changed, else the refusal it got (``roleNotAllowed``, ``workflowState``),
with the HTTP status; an idempotency key used by another user is not a replay, and a replay after the link ended
is a 404, recorded. The records are read back through ``POST /auditEvents/query`` as the organisation's auditor
and as INAMI's auditor naming the person.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.simulator.population import Population, SimulatedPerson
from tests.integration.test_dossiers_and_forms import CONTENT, PHYSICIAN_CONTENT, Caller
from tests.integration.test_requests_and_decisions import TRAINING, WEEK, decision
from tests.token_factory import TokenFactory

NOT_ABOUT_ONE_PERSON = {"checkHealth", "getMe", "queryAuditEvents", "getStatistics"}
"""Operations that reveal nothing about a person (statistics are anonymous, small cells suppressed)."""
LISTS = {
    "queryDossiers", "listDecisions", "listHours", "listFollowUps", "readEvents", "queryRequests",
    "queryRegistrationForms",
}  # fmt: skip
"""Operations that list whatever the caller's organisation may see: tested line by line in test_list_lines_*."""
TODAY = datetime.now(UTC).date().isoformat()
# An audit query's days around today, so that a run that crosses midnight (UTC) still reads what it just recorded.
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
REGISTRY = OrganisationRegistry.load()
OTHER_USER = "75050575724"  # a valid SSIN other than the token factory's default user (85073003328)


@dataclass
class World:
    """A person insured with Solidaris and registered with VDAB, with a dossier in every state an operation needs."""

    ssin: str
    callers: dict[str, Caller]
    ids: dict[str, str] = field(default_factory=dict)
    etags: dict[str, str] = field(default_factory=dict)

    async def need(self, *names: str) -> World:
        """Build what the operation needs (and what that needs), once: a dossier, a submitted form ("form"), a draft,
        a routing C form ("formC"), a VDAB training request on the form, an insurer's direct request, a conversation
        with a message."""
        for name in names:
            if name not in self.ids:
                for required in _NEEDS.get(name, ()):
                    await self.need(required)
                await getattr(self, f"_make_{name}")()
        return self

    async def _make_dossier(self) -> None:
        self.ids["dossier"] = (
            await self.callers["coord"].post("/dossiers", {"ssin": self.ssin, "start": "registrationForm"})
        ).json()["id"]

    async def _form(self, name: str, who: str, content: dict[str, Any], *, submit: bool) -> None:
        created = await self.callers[who].post(f"/dossiers/{self.ids['dossier']}/registrationForms", content)
        self.ids[name], self.etags[name] = created.json()["id"], created.headers["ETag"]
        if submit:
            path = f"/registrationForms/{self.ids[name]}/submit"
            self.etags[name] = (await self.callers[who].post(path, {}, **self.if_match(name))).headers["ETag"]

    async def _make_form(self) -> None:
        await self._form("form", "coord", CONTENT, submit=True)

    async def _make_draft(self) -> None:
        await self._form("draft", "coord", CONTENT, submit=False)

    async def _make_formC(self) -> None:  # noqa: N802 - named after the routing
        await self._form("formC", "vdab", {"expectations": "Coaching"}, submit=True)

    async def _request(self, name: str, who: str, body: dict[str, Any]) -> None:
        created = await self.callers[who].post(f"/dossiers/{self.ids['dossier']}/requests", body)
        assert created.status_code == 201, created.text
        self.ids[name], self.etags[name] = created.json()["id"], created.headers["ETag"]

    async def _make_training(self) -> None:
        await self._request("training", "vdab", self.request_body("training"))

    async def _make_direct(self) -> None:
        await self._request("direct", "physician", self.request_body("training", form=False))

    async def _make_conversation(self) -> None:
        body = {"subject": "Next steps", "participants": [self.number("VDAB")]}
        created = await self.callers["coord"].post(f"/dossiers/{self.ids['dossier']}/conversations", body)
        self.ids["conversation"] = created.json()["id"]

    async def _make_consent(self) -> None:
        created = await self.callers["coord"].post(f"/dossiers/{self.ids['dossier']}/consents", CONSENT)
        assert created.status_code == 201, created.text
        self.ids["consent"], self.etags["consent"] = created.json()["id"], created.headers["ETag"]

    async def _make_message(self) -> None:
        posted = await self.callers["coord"].post(f"/conversations/{self.ids['conversation']}/messages", {"text": "Hi"})
        self.ids["message"] = posted.json()["id"]

    def request_body(self, kind: str, *, form: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"type": kind, "trainingProject": "Logistics", "trainings": [TRAINING]}
        return {**body, "registrationFormId": self.ids["form"]} if form else body

    def if_match(self, name: str) -> dict[str, str]:
        return {"If-Match": self.etags[name]}

    def number(self, organisation: str) -> str:
        found = REGISTRY.find(organisation)
        assert found is not None
        return found.enterprise_number

    async def approved_training(self) -> str:
        """A VDAB training validated by the insurer and approved by INAMI (hours can be reported on it)."""
        await self.need("training")
        c = self.callers
        await c["coord"].post(
            f"/requests/{self.ids['training']}/insurerValidation",
            {"validated": True, "motivation": "Fits the path"},
            **self.if_match("training"),
        )
        await c["expert"].post("/decisionRounds", {"week": WEEK, "decisions": [decision(self.ids["training"])]})
        return self.ids["training"]


_NEEDS = {
    "form": ("dossier",),
    "draft": ("dossier",),
    "formC": ("dossier",),
    "training": ("form",),
    "direct": ("dossier",),
    "conversation": ("dossier",),
    "message": ("conversation",),
    "consent": ("dossier",),
}
Call = Callable[..., Awaitable[httpx.Response]]


@dataclass(frozen=True)
class Row:
    """How one operation is called, by whom it is allowed, and what refuses it."""

    call: Call
    allowed: str
    """The caller (key of ``callers``) for whom the call reveals or changes something."""
    status: int = 200
    weaker: tuple[str, int] | None = None
    """A linked caller whose role may not do this, and the status it gets (403, or 200 for a narrower view)."""
    workflow: Call | None = None
    """The same operation on a resource whose state refuses it (409)."""
    unlinked_status: int = 404
    idempotent: bool = False
    needs: tuple[str, ...] = ("dossier",)


def _post(path: Callable[[World], str], body: Callable[[World], Any] = lambda w: {}, etag: str | None = None) -> Call:
    async def call(who: Caller, w: World, **headers: str) -> httpx.Response:
        return await who.post(path(w), body(w), **(w.if_match(etag) if etag else {}), **headers)

    return call


def _get(path: Callable[[World], str]) -> Call:
    async def call(who: Caller, w: World, **headers: str) -> httpx.Response:
        return await who.get(path(w), **headers)

    return call


async def _update_draft(who: Caller, w: World, **headers: str) -> httpx.Response:
    return await who.put(f"/registrationForms/{w.ids['draft']}", CONTENT, **w.if_match("draft"), **headers)


async def _update_submitted(who: Caller, w: World, **headers: str) -> httpx.Response:
    return await who.put(f"/registrationForms/{w.ids['form']}", CONTENT, **w.if_match("form"), **headers)


async def _report_hours(who: Caller, w: World, **headers: str) -> httpx.Response:
    request_id = await w.approved_training()
    body = {"items": [{"requestId": request_id, "trainingId": "t1", "month": TODAY[:7], "hours": "12"}]}
    return await who.post("/hoursReports", body, **headers)


async def _close_dossier(who: Caller, w: World, **headers: str) -> httpx.Response:
    """With the dossier's current ETag (every change in the dossier moves it), read by INAMI, always linked."""
    current = await w.callers["expert"].get(f"/dossiers/{w.ids['dossier']}")
    path, if_match = f"/dossiers/{w.ids['dossier']}/close", {"If-Match": current.headers["ETag"]}
    return await who.post(path, {"reason": "Back at work"}, **if_match, **headers)


async def _close_closed_dossier(who: Caller, w: World, **headers: str) -> httpx.Response:
    assert (await _close_dossier(w.callers["coord"], w)).status_code == 200
    return await _close_dossier(who, w, **headers)


async def _mark_read(who: Caller, w: World, **headers: str) -> httpx.Response:
    return await who.post(f"/conversations/{w.ids['conversation']}/read", {"upTo": w.ids["message"]}, **headers)


FOLLOW_UP = {"event": "started", "occurredOn": "2026-09-01"}
"""A follow-up step within the period of :func:`decision`'s approval."""


async def _record_follow_up(who: Caller, w: World, **headers: str) -> httpx.Response:
    request_id = await w.approved_training()
    return await who.post(f"/requests/{request_id}/followUps", FOLLOW_UP, **headers)


async def _resume_before_start(who: Caller, w: World, **headers: str) -> httpx.Response:
    request_id = await w.approved_training()
    return await who.post(f"/requests/{request_id}/followUps", {**FOLLOW_UP, "event": "resumed"}, **headers)


async def _get_follow_up(who: Caller, w: World, **headers: str) -> httpx.Response:
    if "followUp" not in w.ids:
        recorded = await _record_follow_up(w.callers["vdab"], w)
        assert recorded.status_code == 201, recorded.text
        w.ids["followUp"] = recorded.json()["id"]
    return await who.get(f"/requests/{w.ids['training']}/followUps/{w.ids['followUp']}", **headers)


CONSENT = {"scope": "occupationalPhysicianContact", "formVersion": "RP-2026.1", "givenOn": "2026-01-15"}


async def _record_consent_twice(who: Caller, w: World, **headers: str) -> httpx.Response:
    """A second consent of a scope while one is in force (409)."""
    await w.need("consent")
    return await who.post(f"/dossiers/{w.ids['dossier']}/consents", CONSENT, **headers)


async def _withdraw_withdrawn_consent(who: Caller, w: World, **headers: str) -> httpx.Response:
    withdrawn = await who.post(f"/consents/{w.ids['consent']}/withdraw", {}, **w.if_match("consent"))
    assert withdrawn.status_code == 200, withdrawn.text
    return await who.post(f"/consents/{w.ids['consent']}/withdraw", {}, **{"If-Match": withdrawn.headers["ETag"]})


async def _amend(who: Caller, w: World, **headers: str) -> httpx.Response:
    """The requester's amendment (a JSON merge patch) of a request not yet decided, with its ETag."""
    return await _patch(who, w.ids["training"], w.etags["training"], **headers)


async def _amend_decided(who: Caller, w: World, **headers: str) -> httpx.Response:
    request_id = await w.approved_training()
    current = await w.callers["vdab"].get(f"/requests/{request_id}")
    return await _patch(who, request_id, current.headers["ETag"], **headers)


async def _patch(who: Caller, request_id: str, etag: str, **headers: str) -> httpx.Response:
    return await who.client.patch(
        f"/rp/v1/requests/{request_id}",
        json={"trainingProject": "Logistics, amended"},
        headers={**who.headers, "If-Match": etag, **headers},
    )


async def _extend(who: Caller, w: World, **headers: str) -> httpx.Response:
    request_id = await w.approved_training()
    return await who.post(f"/requests/{request_id}/extensions", {"trainings": [TRAINING]}, **headers)


ROWS: dict[str, Row] = {
    "openDossier": Row(_post(lambda w: "/dossiers", lambda w: {"ssin": w.ssin}), "coord", idempotent=True),
    "getDossier": Row(_get(lambda w: f"/dossiers/{w.ids['dossier']}"), "coord"),
    "closeDossier": Row(
        _close_dossier, "coord", weaker=("admin", 403), workflow=_close_closed_dossier, idempotent=True
    ),
    "createRegistrationForm": Row(
        _post(lambda w: f"/dossiers/{w.ids['dossier']}/registrationForms", lambda w: CONTENT),
        "coord",
        201,
        weaker=("vdabLists", 403),
        idempotent=True,
    ),
    "listRegistrationForms": Row(_get(lambda w: f"/dossiers/{w.ids['dossier']}/registrationForms"), "coord"),
    "getRegistrationForm": Row(_get(lambda w: f"/registrationForms/{w.ids['form']}"), "vdab", needs=("form",)),
    "updateRegistrationForm": Row(
        _update_draft, "coord", weaker=("vdab", 404), workflow=_update_submitted, needs=("draft", "form")
    ),
    "submitRegistrationForm": Row(
        _post(lambda w: f"/registrationForms/{w.ids['draft']}/submit", etag="draft"),
        "coord",
        weaker=("vdab", 404),
        workflow=_post(lambda w: f"/registrationForms/{w.ids['form']}/submit", etag="form"),
        idempotent=True,
        needs=("draft", "form"),
    ),
    "cancelRegistrationForm": Row(
        _post(lambda w: f"/registrationForms/{w.ids['draft']}/cancel", etag="draft"),
        "coord",
        weaker=("vdab", 404),
        idempotent=True,
        needs=("draft",),
    ),
    "decideTargetGroup": Row(
        _post(
            lambda w: f"/registrationForms/{w.ids['formC']}/targetGroupDecision",
            lambda w: {"inTargetGroup": True, "motivation": "Long-term incapacity"},
            etag="formC",
        ),
        "coord",
        weaker=("vdab", 403),
        workflow=_post(
            lambda w: f"/registrationForms/{w.ids['form']}/targetGroupDecision",
            lambda w: {"inTargetGroup": True, "motivation": "x"},
            etag="form",
        ),
        idempotent=True,
        needs=("formC", "form"),
    ),
    "submitRequest": Row(
        _post(lambda w: f"/dossiers/{w.ids['dossier']}/requests", lambda w: w.request_body("coaching")),
        "vdab",
        201,
        weaker=("vdabLists", 403),
        idempotent=True,
        needs=("form",),
    ),
    "getRequest": Row(_get(lambda w: f"/requests/{w.ids['training']}"), "vdab", needs=("training",)),
    "validateRequest": Row(
        _post(
            lambda w: f"/requests/{w.ids['training']}/insurerValidation",
            lambda w: {"validated": True, "motivation": "Fits the path"},
            "training",
        ),
        "coord",
        weaker=("admin", 403),
        workflow=_post(
            lambda w: f"/requests/{w.ids['direct']}/insurerValidation",
            lambda w: {"validated": True, "motivation": "Fits the path"},
            "direct",
        ),
        idempotent=True,
        needs=("training", "direct"),
    ),
    "withdrawRequest": Row(
        _post(lambda w: f"/requests/{w.ids['training']}/withdraw", etag="training"),
        "vdab",
        weaker=("coord", 403),
        idempotent=True,
        needs=("training",),
    ),
    "addMedicalInformation": Row(
        _post(lambda w: f"/requests/{w.ids['direct']}/medicalInformation", lambda w: {"text": "Back pain"}, "direct"),
        "physician",
        weaker=("coord", 403),
        idempotent=True,
        needs=("direct",),
    ),
    "addMedicalAdvice": Row(
        _post(
            lambda w: f"/requests/{w.ids['direct']}/medicalAdvice",
            lambda w: {"text": "Favourable", "conclusion": "compatible"},
            "direct",
        ),
        "inspector",
        weaker=("expert", 403),
        workflow=_post(
            lambda w: f"/requests/{w.ids['training']}/medicalAdvice",
            lambda w: {"text": "x", "conclusion": "compatible"},
            "training",
        ),
        idempotent=True,
        needs=("direct", "training"),
    ),
    "recordDecisionRound": Row(
        _post(lambda w: "/decisionRounds", lambda w: {"week": WEEK, "decisions": [decision(w.ids["direct"])]}),
        "expert",
        201,
        weaker=("inspector", 403),
        workflow=_post(
            lambda w: "/decisionRounds", lambda w: {"week": WEEK, "decisions": [decision(w.ids["training"])]}
        ),
        unlinked_status=403,
        idempotent=True,
        needs=("direct", "training"),
    ),
    "reportHours": Row(_report_hours, "vdab", weaker=("coord", 403), idempotent=True, needs=("training",)),
    "recordFollowUp": Row(
        _record_follow_up,
        "vdab",
        201,
        weaker=("coord", 403),
        workflow=_resume_before_start,
        idempotent=True,
        needs=("training",),
    ),
    "getFollowUps": Row(
        _get(lambda w: f"/requests/{w.ids['training']}/followUps"),
        "vdab",
        weaker=("vdabLists", 403),
        needs=("training",),
    ),
    "getFollowUp": Row(_get_follow_up, "vdab", weaker=("vdabLists", 403), needs=("training",)),
    "createConversation": Row(
        _post(
            lambda w: f"/dossiers/{w.ids['dossier']}/conversations",
            lambda w: {"subject": "Medical", "medical": True, "participants": [w.number("INAMI")]},
        ),
        "physician",
        201,
        weaker=("coord", 403),
        needs=("dossier",),
    ),
    "listConversations": Row(
        _get(lambda w: f"/dossiers/{w.ids['dossier']}/conversations"), "vdab", needs=("conversation",)
    ),
    "postMessage": Row(
        _post(lambda w: f"/conversations/{w.ids['conversation']}/messages", lambda w: {"text": "Any news?"}),
        "vdab",
        201,
        weaker=("physician", 201),
        needs=("conversation",),
    ),
    "readMessages": Row(
        _get(lambda w: f"/conversations/{w.ids['conversation']}/messages"), "vdab", needs=("conversation",)
    ),
    "markMessagesRead": Row(_mark_read, "vdab", needs=("message",)),
    "recordConsent": Row(
        _post(lambda w: f"/dossiers/{w.ids['dossier']}/consents", lambda w: CONSENT),
        "coord",
        201,
        weaker=("vdab", 403),
        workflow=_record_consent_twice,
        idempotent=True,
    ),
    "listConsents": Row(
        _get(lambda w: f"/dossiers/{w.ids['dossier']}/consents"), "coord", weaker=("vdabLists", 403), needs=("consent",)
    ),
    "getConsent": Row(
        _get(lambda w: f"/consents/{w.ids['consent']}"), "vdab", weaker=("vdabLists", 403), needs=("consent",)
    ),
    "withdrawConsent": Row(
        _post(lambda w: f"/consents/{w.ids['consent']}/withdraw", etag="consent"),
        "coord",
        weaker=("vdab", 403),
        workflow=_withdraw_withdrawn_consent,
        idempotent=True,
        needs=("consent",),
    ),
    "amendRequest": Row(
        _amend, "vdab", weaker=("coord", 403), workflow=_amend_decided, idempotent=True, needs=("training",)
    ),
    "extendRequest": Row(
        _extend,
        "vdab",
        201,
        weaker=("coord", 403),
        workflow=_post(lambda w: f"/requests/{w.ids['training']}/extensions", lambda w: {"trainings": [TRAINING]}),
        idempotent=True,
        needs=("training",),
    ),
}


CALLERS: dict[str, tuple[str, str, dict[str, str]]] = {
    "coord": ("Solidaris", "returnToWorkCoordinator", {}),
    "coordColleague": ("Solidaris", "returnToWorkCoordinator", {"sub": OTHER_USER}),
    "physician": ("Solidaris", "medicalAdvisor", {}),
    "admin": ("Solidaris", "administrative", {}),
    "auditor": ("Solidaris", "auditor", {}),
    "vdab": ("VDAB", "referenceAdvisor", {}),
    "vdabColleague": ("VDAB", "referenceAdvisor", {"sub": OTHER_USER}),
    "vdabLists": ("VDAB", "listManager", {}),
    "vdabAuditor": ("VDAB", "auditor", {}),
    "expert": ("INAMI", "socialExpert", {}),
    "expertColleague": ("INAMI", "socialExpert", {"sub": OTHER_USER}),
    "inspector": ("INAMI", "medicalInspector", {}),
    "inamiAuditor": ("INAMI", "auditor", {}),
    "stranger": ("CM", "returnToWorkCoordinator", {}),
    "strangerPrevention": ("Mensura", "occupationalPhysician", {}),
}


@pytest.fixture(scope="module")
def bearer_tokens(tokens: TokenFactory) -> dict[str, str]:
    """Signed once for the module (signing costs ~50 ms a token)."""
    return {name: tokens.token(org, [role], **claims) for name, (org, role, claims) in CALLERS.items()}


@pytest.fixture
def callers(client: httpx.AsyncClient, bearer_tokens: dict[str, str]) -> dict[str, Caller]:
    return {name: Caller(client, token) for name, token in bearer_tokens.items()}


@pytest.fixture
async def world(callers: dict[str, Caller], person: SimulatedPerson) -> World:
    return await World(person.ssin, callers).need("dossier")


async def records_of(connection: AsyncConnection, response: httpx.Response) -> list[tuple[Any, ...]]:
    """The audit records of one call, by its trace id: (person, operation, outcome, reason, status)."""
    trace = response.headers["BelGov-Trace-Id"]
    rows = await connection.execute(
        text(
            "SELECT person_ssin, operation, outcome, reason, status, legal_basis IS NOT NULL FROM audit_event"
            " WHERE trace_id = :trace ORDER BY seq"
        ),
        {"trace": trace},
    )
    return [tuple(row) for row in rows]


async def read_back(callers: dict[str, Caller], auditor: str, ssin: str, response: httpx.Response) -> list[Any]:
    """The call's records as an auditor reads them through the API."""
    body: dict[str, Any] = {"from": YESTERDAY, "to": TOMORROW, "pageSize": 1000}
    if auditor == "inamiAuditor":
        body["ssin"] = ssin
    page = await callers[auditor].post("/auditEvents/query", body)
    assert page.status_code == 200, page.text
    trace = response.headers["BelGov-Trace-Id"]
    return [
        (item["outcome"], item["reason"], item.get("status"))
        for item in page.json()["items"]
        if item["traceId"] == trace
    ]


def test_every_person_scoped_operation_has_a_row(app: FastAPI) -> None:
    operations = {
        operation["operationId"] for methods in app.openapi()["paths"].values() for operation in methods.values()
    }
    assert operations - NOT_ABOUT_ONE_PERSON - LISTS == set(ROWS)


@pytest.mark.parametrize("operation", sorted(ROWS))
async def test_permit_is_one_record_read_back_by_both_auditors(
    operation: str, world: World, callers: dict[str, Caller], connection: AsyncConnection
) -> None:
    row = ROWS[operation]
    await world.need(*row.needs)
    response = await row.call(callers[row.allowed], world)
    assert response.status_code == row.status, response.text
    assert await records_of(connection, response) == [(world.ssin, operation_of(operation), "permit", *_ok(row))]
    named = await connection.scalar(
        text("SELECT resource_type || ':' || resource_id FROM audit_event WHERE trace_id = :trace"),
        {"trace": response.headers["BelGov-Trace-Id"]},
    )
    assert named is not None  # the resource the call read, changed or created
    organisation_auditor = {"coord": "auditor", "physician": "auditor", "vdab": "vdabAuditor"}.get(
        row.allowed, "inamiAuditor"
    )
    for auditor in {organisation_auditor, "inamiAuditor"}:
        assert await read_back(callers, auditor, world.ssin, response) == [("permit", _ok(row)[0], row.status)]


def _ok(row: Row) -> tuple[Any, ...]:
    reason = {"coord": "insurerAffiliation", "physician": "insurerAffiliation", "vdab": "regionalRegistration"}
    return reason.get(row.allowed, "inamiMission"), row.status, True


def operation_of(operation: str) -> str:
    """The operation name on the audit record: the call's operationId."""
    return operation


@pytest.mark.parametrize("operation", sorted(ROWS))
async def test_unlinked_caller_gets_404_and_one_denial(
    operation: str, world: World, callers: dict[str, Caller], connection: AsyncConnection
) -> None:
    row = ROWS[operation]
    await world.need(*row.needs)
    response = await row.call(callers["stranger"], world)
    assert response.status_code == row.unlinked_status, response.text
    assert world.ssin not in response.text
    assert await records_of(connection, response) == [
        (world.ssin, operation_of(operation), "deny", "noLink", row.unlinked_status, False)
    ]


@pytest.mark.parametrize("operation", sorted(ROWS))
async def test_an_auditors_token_is_refused_and_recorded(
    operation: str, world: World, callers: dict[str, Caller], connection: AsyncConnection
) -> None:
    await world.need(*ROWS[operation].needs)
    response = await ROWS[operation].call(callers["auditor"], world)
    assert response.status_code == 403, response.text
    assert await records_of(connection, response) == [
        (world.ssin, operation_of(operation), "deny", "auditOnlyRole", 403, False)
    ]


@pytest.mark.parametrize("operation", sorted(name for name, row in ROWS.items() if row.weaker))
async def test_a_weaker_role_gets_what_it_may_and_the_record_says_so(
    operation: str, world: World, callers: dict[str, Caller], connection: AsyncConnection
) -> None:
    row = ROWS[operation]
    await world.need(*row.needs)
    assert row.weaker is not None
    who, status = row.weaker
    response = await row.call(callers[who], world)
    assert response.status_code == status, response.text
    [(ssin, _, outcome, reason, recorded_status, has_basis)] = await records_of(connection, response)
    assert (ssin, recorded_status) == (world.ssin, status)
    if status < 400:
        assert (outcome, has_basis) == ("permit", True)
    else:
        assert (outcome, has_basis) == ("deny", False)
        assert reason == ("roleNotAllowed" if status == 403 else "notFound")


@pytest.mark.parametrize("operation", sorted(name for name, row in ROWS.items() if row.workflow))
async def test_a_state_that_refuses_is_recorded_as_that_refusal(
    operation: str, world: World, callers: dict[str, Caller], connection: AsyncConnection
) -> None:
    row = ROWS[operation]
    await world.need(*row.needs)
    assert row.workflow is not None
    response = await row.workflow(callers[row.allowed], world)
    assert response.status_code == 409, response.text
    [(ssin, _, outcome, reason, status, has_basis)] = await records_of(connection, response)
    assert (ssin, outcome, reason, status, has_basis) == (world.ssin, "deny", "workflowState", 409, False)


COLLEAGUES = {"coord": "coordColleague", "vdab": "vdabColleague", "expert": "expertColleague"}


@pytest.mark.parametrize("operation", sorted(n for n, r in ROWS.items() if r.idempotent and r.allowed in COLLEAGUES))
async def test_another_users_key_is_not_a_replay(
    operation: str, world: World, callers: dict[str, Caller], connection: AsyncConnection
) -> None:
    row = ROWS[operation]
    await world.need(*row.needs)
    key = {"Idempotency-Key": f"key-{operation}"}
    first = await row.call(callers[row.allowed], world, **key)
    assert first.status_code == row.status, first.text
    again = await row.call(callers[row.allowed], world, **key)
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (row.status, "true")
    assert [r[2] for r in await records_of(connection, again)] == ["permit"]  # a replay is a read: audited
    colleague = await row.call(callers[COLLEAGUES[row.allowed]], world, **key)
    assert "Idempotent-Replayed" not in colleague.headers  # run as its own call (and refused or done as such)
    assert await records_of(connection, colleague)


@contextmanager
def link_ended(population: Population, person: SimulatedPerson, **changes: Any) -> Iterator[None]:
    population.persons[person.ssin] = dataclasses.replace(person, **changes)
    try:
        yield
    finally:
        population.persons[person.ssin] = person


@pytest.mark.parametrize(
    "operation", sorted(n for n, r in ROWS.items() if r.idempotent and r.allowed in {"coord", "vdab", "physician"})
)
async def test_a_replay_after_the_link_ended_is_404_and_recorded(
    operation: str,
    world: World,
    callers: dict[str, Caller],
    connection: AsyncConnection,
    population: Population,
    person: SimulatedPerson,
    app: FastAPI,
    engine: AsyncEngine,
) -> None:
    row = ROWS[operation]
    await world.need(*row.needs)
    key = {"Idempotency-Key": f"gone-{operation}"}
    first = await row.call(callers[row.allowed], world, **key)
    assert first.status_code == row.status, first.text
    ended = {"registrations": ()} if row.allowed == "vdab" else {"oa_number": None}
    with link_ended(population, person, **ended):
        async with engine.begin() as own:  # the cached links expire (both levels)
            await own.execute(text("DELETE FROM person_link_cache"))
        app.state.link_resolver.forget()
        replay = await row.call(callers[row.allowed], world, **key)
    assert replay.status_code == 404, replay.text
    assert "Idempotent-Replayed" not in replay.headers
    assert world.ssin not in replay.text
    [(ssin, _, outcome, reason, status, _)] = await records_of(connection, replay)
    assert (ssin, outcome, reason, status) == (world.ssin, "deny", "noLink", 404)


# --- lists: every line re-checked with the caller's current links ---------------------------------------------------
async def _forget_links(app: FastAPI, engine: AsyncEngine) -> None:
    async with engine.begin() as own:  # the cached links expire (both levels)
        await own.execute(text("DELETE FROM person_link_cache"))
    app.state.link_resolver.forget()


LIST_CALLS: dict[str, Callable[[World], str]] = {
    "listDecisions": lambda w: f"/decisions?week={WEEK}",
    "listDecisionsCsv": lambda w: f"/decisions?week={WEEK}",
    "listHours": lambda w: f"/hoursLists?month={TODAY[:7]}",
}


@pytest.mark.parametrize("listing", sorted(LIST_CALLS))
@pytest.mark.parametrize(("who", "ended"), [("vdabLists", {"registrations": ()}), ("coord", {"oa_number": None})])
async def test_list_lines_are_rechecked_with_current_links(
    listing: str,
    who: str,
    ended: dict[str, Any],
    world: World,
    callers: dict[str, Caller],
    connection: AsyncConnection,
    population: Population,
    person: SimulatedPerson,
    app: FastAPI,
    engine: AsyncEngine,
) -> None:
    """A party that lost its link (the person left VDAB, changed insurer) no longer sees the line; the denial is
    recorded (one record per person), and a deceased person is listed to INAMI only."""
    await world.need("training")
    request_id = world.ids["training"]
    assert (await _report_hours(callers["vdab"], world)).status_code == 200
    headers = {"Accept": "text/csv"} if listing.endswith("Csv") else {}
    before = await callers[who].get(LIST_CALLS[listing](world), **headers)
    assert before.status_code == 200, before.text
    assert request_id in before.text
    assert [r[2:4] for r in await records_of(connection, before)] == [
        ("permit", "regionalRegistration" if who == "vdabLists" else "insurerAffiliation")
    ]
    with link_ended(population, person, **ended):
        await _forget_links(app, engine)
        after = await callers[who].get(LIST_CALLS[listing](world), **headers)
    assert after.status_code == 200
    assert request_id not in after.text
    assert world.ssin not in after.text
    assert [r[2:5] for r in await records_of(connection, after)] == [("deny", "noLink", 200)]

    with link_ended(population, person, death_date=datetime(2026, 10, 1).date()):
        await _forget_links(app, engine)
        hidden = await callers[who].get(LIST_CALLS[listing](world), **headers)
        shown = await callers["expert"].get(LIST_CALLS[listing](world), **headers)
    assert request_id not in hidden.text
    assert [r[2:4] for r in await records_of(connection, hidden)] == [("deny", "deceased")]
    assert request_id in shown.text


async def test_dossier_query_rechecks_each_dossier(
    world: World,
    callers: dict[str, Caller],
    connection: AsyncConnection,
    population: Population,
    person: SimulatedPerson,
    app: FastAPI,
    engine: AsyncEngine,
) -> None:
    await world.need("training")  # VDAB takes part in the dossier
    listed = await callers["vdab"].post("/dossiers/query", {})
    assert world.ids["dossier"] in listed.text
    with link_ended(population, person, registrations=()):
        await _forget_links(app, engine)
        gone = await callers["vdab"].post("/dossiers/query", {})
    assert world.ids["dossier"] not in gone.text
    assert [r[2:5] for r in await records_of(connection, gone)] == [("deny", "noLink", 200)]


# --- a replaced SSIN is followed only for those linked under the new one ----------------------------------------------
@pytest.mark.parametrize(
    ("organisation", "role", "linked"),
    [
        ("INAMI", "socialExpert", True),
        ("insurerOfThePerson", "returnToWorkCoordinator", True),
        ("otherInsurer", "returnToWorkCoordinator", False),
        ("VDAB", "referenceAdvisor", False),
        ("Idewe", "occupationalPhysician", False),
    ],
)
async def test_a_replaced_ssin_is_followed_only_for_an_organisation_linked_under_the_new_one(
    organisation: str,
    role: str,
    linked: bool,
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    population: Population,
    connection: AsyncConnection,
) -> None:
    """A lookup of a replaced SSIN (the person has no dossier): a caller linked under the new SSIN is answered as
    for the new one (no dossier: 404) and recorded under it; anyone else gets the unlinked caller's 404, recorded
    under the SSIN it named. Neither answer names the new SSIN."""
    old = population.persons[population.replaced_ssin]
    assert old.replaced_by
    insurers = {100: "CM", 200: "UNMN", 300: "Solidaris", 400: "LM", 500: "OZ", 600: "CAAMI", 900: "HR Rail"}
    own = insurers[old.oa_number or 100]
    name = {"insurerOfThePerson": own, "otherInsurer": "CM" if own != "CM" else "Solidaris"}.get(
        organisation, organisation
    )
    response = await Caller(client, tokens.token(name, [role])).post("/dossiers", {"ssin": old.ssin})
    assert response.status_code == 404, response.text
    assert old.replaced_by not in response.text
    assert response.json()["type"] == "urn:problem-type:belgif:resourceNotFound"
    [(ssin, _, outcome, reason, recorded, _)] = await records_of(connection, response)
    assert (ssin, outcome, recorded) == ((old.replaced_by, "deny", 404) if linked else (old.ssin, "deny", 404))
    assert reason == ("notFound" if linked else "noLink")


# --- the person's access report is the list of calls made about the person -------------------------------------------
async def test_a_persons_access_report_is_the_calls_made_about_them(
    world: World, callers: dict[str, Caller], connection: AsyncConnection
) -> None:
    """A scripted day of calls about one person, permits and denials: INAMI's auditor naming the person reads back
    exactly those calls, in order, each with the outcome and status the caller got."""
    await world.need("form", "draft")
    day = [
        ("coord", ROWS["getDossier"].call, ("permit", 200)),
        ("stranger", ROWS["getDossier"].call, ("deny", 404)),
        ("vdab", ROWS["getRegistrationForm"].call, ("permit", 200)),
        ("vdabLists", ROWS["createRegistrationForm"].call, ("deny", 403)),
        ("auditor", ROWS["openDossier"].call, ("deny", 403)),
        ("coord", ROWS["submitRegistrationForm"].call, ("permit", 200)),
        ("coord", ROWS["submitRegistrationForm"].call, ("deny", 412)),  # the ETag it used is stale now
        ("physician", ROWS["listRegistrationForms"].call, ("permit", 200)),
    ]
    traces = []
    for who, call, (_, status) in day:
        response = await call(callers[who], world)
        assert response.status_code == status, (who, response.text)
        traces.append(response.headers["BelGov-Trace-Id"])
    page = await callers["inamiAuditor"].post(
        "/auditEvents/query", {"ssin": world.ssin, "from": YESTERDAY, "to": TOMORROW, "pageSize": 1000}
    )
    report = [item for item in page.json()["items"] if item["traceId"] in traces]
    assert [(item["traceId"], item["outcome"], item["status"]) for item in report] == [
        (trace, outcome, status) for trace, (_, _, (outcome, status)) in zip(traces, day, strict=True)
    ]
    organisations = {name: REGISTRY.find(org) for name, (org, _, _) in CALLERS.items()}
    assert [item["organisation"] for item in report] == [
        organisations[who].enterprise_number  # type: ignore[union-attr]
        for who, _, _ in day
    ]


async def test_a_colleagues_replay_never_shows_health_data_to_a_weaker_role(
    world: World, callers: dict[str, Caller], client: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    """The issue's first side door: the coordinator sends the key the physician used. Even as the same user (same
    token subject, another role), the replay is a fresh read through the coordinator's view: no health data."""
    key = {"Idempotency-Key": "physician-key"}
    path = f"/dossiers/{world.ids['dossier']}/registrationForms"
    first = await callers["physician"].post(path, PHYSICIAN_CONTENT, **key)
    assert first.status_code == 201
    assert (
        first.json()["physicianQuestion"]["functionalCapacities"]
        == PHYSICIAN_CONTENT["physicianQuestion"]["functionalCapacities"]  # type: ignore[index]
    )
    replay = await callers["coord"].post(path, PHYSICIAN_CONTENT, **key)  # same subject as the physician's token
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed")) == (201, "true")
    assert replay.json()["id"] == first.json()["id"]
    assert "functionalCapacities" not in replay.text  # the coordinator's view, not the physician's answer
    colleague = await callers["coordColleague"].post(path, CONTENT, **key)  # another user: a call of its own
    assert colleague.status_code == 201
    assert "Idempotent-Replayed" not in colleague.headers
    assert colleague.json()["id"] != first.json()["id"]


# --- batches: one record per person, whatever the number of items naming them ----------------------------------------
async def test_a_batch_naming_a_person_twice_writes_one_record_for_them(
    world: World, callers: dict[str, Caller], connection: AsyncConnection
) -> None:
    await world.need("training", "direct")
    round_of_two = {"week": WEEK, "decisions": [decision(world.ids["direct"]), decision(world.ids["training"])]}
    refused = await callers["expert"].post("/decisionRounds", round_of_two, **{"Idempotency-Key": "two"})
    assert refused.status_code == 409  # the training awaits the insurer's validation: nothing is applied
    assert [r[2:5] for r in await records_of(connection, refused)] == [("deny", "workflowState", 409)]
    for who in ("auditor", "stranger"):
        denied = await callers[who].post("/decisionRounds", round_of_two)
        assert denied.status_code == 403
        assert len(await records_of(connection, denied)) == 1
    request_id = await world.approved_training()
    months = [TODAY[:7], f"{int(TODAY[:4]) - 1}-12"]
    body = {"items": [{"requestId": request_id, "trainingId": "t1", "month": m, "hours": "4"} for m in months]}
    reported = await callers["vdab"].post("/hoursReports", body, **{"Idempotency-Key": "hours"})
    assert reported.status_code == 200, reported.text
    assert [r[2:5] for r in await records_of(connection, reported)] == [("permit", "regionalRegistration", 200)]
    replayed = await callers["vdab"].post("/hoursReports", body, **{"Idempotency-Key": "hours"})
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert len(replayed.json()["items"]) == 2
    assert [r[2:5] for r in await records_of(connection, replayed)] == [("permit", "regionalRegistration", 200)]


@pytest.mark.parametrize(("fault", "status"), [("error", 503), ("timeout", 503), ("malformed", 502)])
async def test_a_participant_whose_source_fails_is_a_503_not_a_500(
    fault: str,
    status: int,
    world: World,
    callers: dict[str, Caller],
    connection: AsyncConnection,
    simulator: Any,
    app: FastAPI,
    engine: AsyncEngine,
) -> None:
    """Opening a conversation checks each participant's own link: JobSeeker failing for VDAB is a denial."""
    await _forget_links(app, engine)
    simulator.faults["jobSeeker"] = fault
    body = {"subject": "x", "participants": [world.number("VDAB")]}
    response = await callers["coord"].post(f"/dossiers/{world.ids['dossier']}/conversations", body)
    assert response.status_code == status, response.text
    assert [r[2:5] for r in await records_of(connection, response)] == [("deny", "upstreamUnavailable", status)]


async def test_a_list_whose_source_fails_answers_503_rather_than_drop_lines(
    world: World,
    callers: dict[str, Caller],
    connection: AsyncConnection,
    simulator: Any,
    app: FastAPI,
    engine: AsyncEngine,
) -> None:
    await world.need("training")
    await _forget_links(app, engine)
    simulator.faults["jobSeeker"] = "error"
    response = await callers["vdab"].post("/dossiers/query", {})
    assert response.status_code == 503
    assert [r[2:5] for r in await records_of(connection, response)] == [("deny", "sourceUnavailable", 503)]
