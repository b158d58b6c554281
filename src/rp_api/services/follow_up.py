"""The follow-up of decided trajectories (suivi du trajet, deliberation 26/060 §48): steps recorded by the party that
runs the trajectory, a request's follow-up as every party of the request reads it, and the follow-up lists per party
and period (JSON and CSV), beside the decision and hours lists.

Each step is a change of the dossier (it restarts the retention clock) and an event (``followUpRecorded``) for the
request's addressees but the organisation that recorded it. Every step and list line is coded: no health data."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api import cursors
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.person_guard import PersonGuard
from rp_api.domain import follow_up as rules
from rp_api.domain.consent import belgian_date
from rp_api.domain.follow_up import FollowUpEvent, Refusal, Step
from rp_api.domain.policy import Action
from rp_api.domain.requests import REQUESTER_ROLES, RequestStatus, runs_trajectory
from rp_api.models.request import FollowUp, Request
from rp_api.problems import (
    INVALID_INPUT,
    BadRequest,
    InputIssue,
    MissingPermission,
    ResourceNotFound,
    TransitionNotAllowed,
)
from rp_api.repositories import dossiers as dossier_repository
from rp_api.repositories import follow_up as repository
from rp_api.schemas.follow_up import (
    FollowUpHistory,
    FollowUpIn,
    FollowUpList,
    FollowUpListItem,
    FollowUpOut,
    Recorder,
)
from rp_api.schemas.work_list import WorkListPerson
from rp_api.services import identity, routing
from rp_api.services import requests as requests_service
from rp_api.services.decisions import DOSSIER, cell, list_party
from rp_api.urls import API_PREFIX

FOLLOW_UP_RECORDED = "followUpRecorded"
"""The feed event of a recorded step (resourceId: the request): told to the request's addressees but the recorder."""
RECORD = "recordFollowUp"
LIST_FOLLOW_UPS = "listFollowUps"
NOT_RUNNER = "The follow-up is recorded by the party that runs the trajectory: the requester, in a role that may ask"


def location(request_id: uuid.UUID, follow_up_id: uuid.UUID) -> str:
    return f"{API_PREFIX}/requests/{request_id}/followUps/{follow_up_id}"


def out(step: FollowUp) -> FollowUpOut:
    return FollowUpOut(
        id=step.id,
        request_id=step.request_id,
        event=step.event,
        occurred_on=step.occurred_on,
        reason=step.reason,
        result=step.result,
        recorded_by=Recorder(enterprise_number=step.recorded_by, role=step.recorded_by_role),
        recorded_at=step.recorded_at,
        self_=location(step.request_id, step.id),
    )


def _refused(refusal: Refusal, request: Request, step: FollowUpIn, history: list[FollowUp]) -> str:
    """The problem's detail: what the caller may know already (the request's state, its steps, the period)."""
    match refusal:
        case Refusal.NOT_APPROVED:
            return f"The request is {request.status}, not approved: only an approved trajectory is followed"
        case Refusal.WRONG_SEQUENCE:
            state = rules.state_after(FollowUpEvent(f.event) for f in history)
            return f"A trajectory that is {state} cannot be {step.event}"
        case Refusal.BEFORE_PREVIOUS_STEP:
            return f"occurredOn is before the previous step's date ({history[-1].occurred_on.isoformat()})"
        case Refusal.OUTSIDE_PERIOD:
            return f"occurredOn is more than {rules.PERIOD_MARGIN.days} days outside the period INAMI approved"


async def record(
    session: AsyncSession,
    guard: PersonGuard,
    registry: OrganisationRegistry,
    request_id: uuid.UUID,
    body: FollowUpIn,
    *,
    lang: str,
) -> FollowUp:
    """Record a step: input (400), then the person and the request (404 before 403), the recorder (403), then the
    trajectory's rules on the locked request (409)."""
    principal = guard.principal
    issues = [
        InputIssue(INVALID_INPUT, message, None, "body", field)
        for field, message in rules.input_issues(body.event, body.reason, body.result)
    ]
    if rules.in_future(body.occurred_on, belgian_date(datetime.now(UTC))):
        issues.append(InputIssue(INVALID_INPUT, "The date is in the future", None, "body", "occurredOn"))
    if issues:
        raise BadRequest(issues)
    request, dossier = await requests_service.load(
        session, guard, request_id, action=Action.CONTRIBUTE_TO_DOSSIER, operation=RECORD
    )
    is_requester = request.requester_organisation == principal.enterprise_number
    if not runs_trajectory(principal.organisation_type, principal.roles, is_requester=is_requester):
        raise MissingPermission(NOT_RUNNER)
    locked = await repository.lock_request(session, request.id)
    if locked is None:  # removed meanwhile (its dossier purged)
        raise ResourceNotFound()
    history = await repository.of_request(session, locked.id)
    period_start, period_end = await repository.decision_period(session, locked.id)
    refusal = rules.refusal(
        RequestStatus(locked.status),
        body.event,
        body.occurred_on,
        history=[Step(FollowUpEvent(f.event), f.occurred_on) for f in history],
        period_start=period_start,
        period_end=period_end,
    )
    if refusal is not None:
        raise TransitionNotAllowed(_refused(refusal, locked, body, history), lang=lang)
    step = await repository.add(
        session,
        id=uuid.uuid4(),
        request_id=locked.id,
        dossier_id=locked.dossier_id,
        event=body.event,
        occurred_on=body.occurred_on,
        reason=body.reason,
        result=body.result,
        recorded_by=principal.enterprise_number,
        recorded_by_role=sorted(principal.roles & REQUESTER_ROLES[principal.organisation_type])[0],
    )
    await dossier_repository.touch(session, locked.dossier_id)  # a change: it restarts the retention clock
    # Told to the request's addressees (computed again from the person's links now) but the recorder.
    await routing.route_request(session, guard, registry, locked, dossier.ssin, kind=FOLLOW_UP_RECORDED)
    return step


async def read_one(
    session: AsyncSession, guard: PersonGuard, request_id: uuid.UUID, follow_up_id: uuid.UUID, *, operation: str
) -> FollowUpOut:
    """A step of a request the caller may read (an idempotent replay reads it so too): 404 for a step of another
    request, like an unknown one."""
    request, _ = await requests_service.load(
        session, guard, request_id, action=Action.CONSULT_DOSSIER, operation=operation
    )
    step = await repository.get(session, follow_up_id)
    if step is None or step.request_id != request.id:
        raise ResourceNotFound()
    return out(step)


async def history_of(
    session: AsyncSession, guard: PersonGuard, request_id: uuid.UUID, *, operation: str
) -> FollowUpHistory:
    """The request's follow-up, for every party that may read the request (the person guard, then the request's own
    visibility: a prevention service reads only the requests made on its forms)."""
    request, _ = await requests_service.load(
        session, guard, request_id, action=Action.CONSULT_DOSSIER, operation=operation
    )
    steps = await repository.of_request(session, request.id)
    return FollowUpHistory(
        request_id=request.id,
        state=rules.state_after(FollowUpEvent(step.event) for step in steps),
        items=[out(step) for step in steps],
        self_=f"{API_PREFIX}/requests/{request.id}/followUps",
    )


ONE_WAY = "Give exactly one of: from and to (either or both), or changedSince"
BY_DATE, BY_RECORDING = "byDate", "byRecording"


def _one_way(occurred_from: date | None, occurred_to: date | None, changed_since: datetime | None) -> list[InputIssue]:
    """A follow-up list is chosen by a range of step dates (``from`` and/or ``to``) or by ``changedSince``, not both,
    not neither: one issue per parameter given together (one naming none when none is)."""
    given = [
        name
        for name, value in (("from", occurred_from), ("to", occurred_to), ("changedSince", changed_since))
        if value is not None
    ]
    if not given:
        return [InputIssue(INVALID_INPUT, ONE_WAY, "None was given", "query")]
    if "changedSince" in given and len(given) > 1:
        detail = f"{', '.join(given)} were given together"
        return [InputIssue(INVALID_INPUT, ONE_WAY, detail, "query", name) for name in given]
    return []


async def follow_up_list(
    session: AsyncSession,
    guard: PersonGuard,
    *,
    occurred_from: date | None,
    occurred_to: date | None,
    changed_since: datetime | None,
    page: str | None,
    page_size: int,
    self_link: str,
) -> FollowUpList:
    """A page of the caller's follow-up list (liste de suivi): the steps of the requests addressed to its
    organisation (INAMI: all), by a range of step dates (in date order) or recorded at or after ``changed_since`` (in
    recording order; a date-time without offset is UTC). Each line's person is checked again with the caller's current
    links (one audit record per person; a line it may no longer see is left out and the denial recorded)."""
    principal = guard.principal
    issues = _one_way(occurred_from, occurred_to, changed_since)
    if occurred_from and occurred_to and occurred_to < occurred_from:
        issues.append(InputIssue(INVALID_INPUT, "to is before from", None, "query", "to"))
    if issues:
        raise BadRequest(issues)
    if changed_since is not None and changed_since.tzinfo is None:
        changed_since = changed_since.replace(tzinfo=UTC)
    by_recording = changed_since is not None
    scope = cursors.scope(f"{LIST_FOLLOW_UPS}.{BY_RECORDING if by_recording else BY_DATE}", principal.enterprise_number)
    after: tuple[date, uuid.UUID] | tuple[datetime, uuid.UUID] | None = None
    if page:
        key = datetime.fromisoformat if by_recording else date.fromisoformat
        last_key, last_id = cursors.unseal(page, key, uuid.UUID, scope=scope, where="query", name="page")
        after = (last_key, last_id)
    lines = await repository.page(
        session,
        party=list_party(principal),
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        changed_since=changed_since,
        after=after,
        limit=page_size + 1,
    )
    more = len(lines) > page_size
    lines = lines[:page_size]
    granted = await guard.sift(
        [(line.ssin, str(line.dossier_id)) for line in lines],
        Action.READ_LISTS,
        operation=LIST_FOLLOW_UPS,
        resource_type=DOSSIER,
    )
    shown = [line for line in lines if line.ssin in granted]
    # Each line shows the person as they are now: their current SSIN (the guard follows a replaced one), the name the
    # National Register gives it, and the dossier that holds the step now (one the guard merged into another of the
    # person's during this page leads there).
    names = await guard.registered(granted[line.ssin].ssin for line in shown)
    survivors = identity.absorbed_here(session)
    items = []
    for line in shown:
        current = granted[line.ssin].ssin
        step, person = line.follow_up, names[current]
        items.append(
            FollowUpListItem(
                id=step.id,
                request_id=step.request_id,
                dossier_id=survivors.get(line.dossier_id, line.dossier_id),
                person=WorkListPerson(
                    ssin=current,
                    given_name=person.given_name if person else None,
                    family_name=person.family_name if person else None,
                ),
                type=line.request_type,
                event=step.event,
                occurred_on=step.occurred_on,
                reason=step.reason,
                result=step.result,
                recorded_by=Recorder(enterprise_number=step.recorded_by, role=step.recorded_by_role),
                recorded_at=step.recorded_at,
            )
        )
    next_page = None
    if more and lines:
        last = lines[-1].follow_up
        position = last.recorded_at if by_recording else last.occurred_on.isoformat()  # a date is sealed as text
        next_page = cursors.seal(position, last.id, scope=scope)
    return FollowUpList(items=items, self_=self_link, next=next_page)


CSV_COLUMNS = (
    "id", "requestId", "dossierId", "ssin", "givenName", "familyName", "type",
    "event", "occurredOn", "reason", "result", "recordedBy", "recordedByRole", "recordedAt",
)  # fmt: skip
"""The CSV's columns: the JSON line's fields, flat, in this order (``person`` becomes ``ssin``, ``givenName`` and
``familyName``; ``recordedBy`` its enterprise number and ``recordedByRole``). An empty cell is a JSON ``null``."""


def as_csv(listed: FollowUpList) -> str:
    """The page as CSV, every cell neutralised against formula injection as the decision list's are."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in listed.items:
        row = item.model_dump(mode="json", by_alias=True)
        person, recorder = row.pop("person"), row.pop("recordedBy")
        row |= person
        row["recordedBy"], row["recordedByRole"] = recorder["enterpriseNumber"], recorder["role"]
        writer.writerow([cell(row.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()
