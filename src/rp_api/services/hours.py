"""Hours performed (relevé des heures prestées): reports by the party that runs the training, and the hours lists
per party of the request. A correction is a new version; every line's person goes through the guard, every report is
a change of the dossier (it restarts the retention clock). Who may report what: :mod:`rp_api.domain.hours`."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api import cursors
from rp_api.authz.person_guard import PersonGuard, first_per_person
from rp_api.domain import hours as rules
from rp_api.domain.policy import Action
from rp_api.domain.requests import RequestStatus
from rp_api.domain.visibility import Block, Read, read_level, viewers_of
from rp_api.models.request import HoursReport, Request
from rp_api.problems import (
    INVALID_INPUT,
    BadGateway,
    BadRequest,
    InputIssue,
    ItemsRefused,
    MissingPermission,
    Problem,
    ResourceNotFound,
    ServiceUnavailable,
)
from rp_api.repositories import dossiers as dossier_repository
from rp_api.repositories import hours as repository
from rp_api.repositories import registration_forms as form_repository
from rp_api.repositories import requests as request_repository
from rp_api.schemas.hours import HoursList, HoursListItem, HoursReportIn
from rp_api.services import identity
from rp_api.services.decisions import DOSSIER, cell, list_party
from rp_api.services.requests import readable_by
from rp_api.urls import API_PREFIX

REPORTS = f"{API_PREFIX}/hoursReports"
REPORT_HOURS = "reportHours"
LIST_HOURS = "listHours"
REQUEST = "request"
CENT = Decimal("0.01")

_REASONS = {
    rules.Refusal.UNKNOWN_REQUEST: "no such request",
    rules.Refusal.NOT_RUNNER: "hours are reported by the party that runs the training (its requester)",
    rules.Refusal.NOT_APPROVED: "the request is {status}, not approved",
    rules.Refusal.UNKNOWN_TRAINING: "no such training in the request",
}


def _input_issues(body: HoursReportIn) -> list[InputIssue]:
    """A future month, or the same training and month twice in one batch (400, before anything is looked up)."""
    this_month = datetime.now(UTC).strftime("%Y-%m")
    issues = [
        InputIssue(INVALID_INPUT, "The month is in the future", None, "body", f"items[{i}].month")
        for i, line in enumerate(body.items)
        if line.month > this_month
    ]
    keys = Counter((line.request_id, line.training_id, line.month) for line in body.items)
    issues += [
        InputIssue(INVALID_INPUT, "The same training and month appear twice", None, "body", f"items[{i}]")
        for i, line in enumerate(body.items)
        if keys[(line.request_id, line.training_id, line.month)] > 1
    ]
    return issues


async def _seen(
    session: AsyncSession, guard: PersonGuard, named: dict[uuid.UUID, tuple[Request, str]]
) -> set[uuid.UUID]:
    """Each person of the batch through the guard once (each recorded), and the requests the caller may see: of a
    person it may see (or is refused only for its role: linked, 403 as for one request), and readable by it (a
    prevention service: those it took part in). A source down fails the batch (503/502) once every person is
    recorded."""
    hidden: set[str] = set()
    role_refused: set[str] = set()
    failure: Problem | None = None
    people = [(ssin, request.id) for request, ssin in named.values()]
    for ssin, request_id in first_per_person(people).items():
        try:
            await guard(
                ssin,
                Action.CONTRIBUTE_TO_DOSSIER,
                operation=REPORT_HOURS,
                resource_type=REQUEST,
                resource_id=str(request_id),
            )
        except (ServiceUnavailable, BadGateway) as exc:
            failure = failure or exc
        except MissingPermission:
            role_refused.add(ssin)  # linked, but its role may do nothing here: 403, as for one request
        except Problem:
            hidden.add(ssin)  # not linked (or an SSIN replaced, deceased…): 404
    if failure is not None:
        raise failure
    principal = guard.principal
    taken_part = read_level(Block.REQUEST, viewers_of(principal.organisation_type, principal.roles)) is Read.TAKEN_PART
    visible: set[uuid.UUID] = set()
    for request, ssin in named.values():
        if ssin in role_refused:
            visible.add(request.id)
        elif ssin not in hidden:
            creator = None
            if taken_part and request.registration_form_id is not None:
                form = await form_repository.get(session, request.registration_form_id)
                creator = form.created_by_organisation if form is not None else None
            if readable_by(request, principal, creator):
                visible.add(request.id)
    return visible


def _refused(
    body: HoursReportIn,
    guard: PersonGuard,
    found: dict[uuid.UUID, tuple[Request, str]],
    visible: set[uuid.UUID],
) -> tuple[rules.Refusal, list[dict[str, str]]] | None:
    """The batch's refusal (the first of :data:`rules.ORDER` any item got) and each item refused with its status."""
    principal = guard.principal
    refusals: list[tuple[int, rules.Refusal | None, Request | None]] = []
    for index, line in enumerate(body.items):
        entry = found.get(line.request_id)
        request = entry[0] if entry is not None else None
        item = rules.Item(
            visible=request is not None and request.id in visible,
            is_requester=request is not None and request.requester_organisation == principal.enterprise_number,
            status=RequestStatus(request.status) if request is not None else None,
            training_known=request is not None and line.training_id in {t["id"] for t in request.trainings or []},
        )
        refusals.append((index, rules.refusal(item, principal.organisation_type, principal.roles), request))
    kind = rules.batch_refusal([refusal for _, refusal, _ in refusals])
    if kind is None:
        return None
    status = rules.STATUS[kind]
    items = [
        {
            "name": f"items[{index}].{'trainingId' if refusal is rules.Refusal.UNKNOWN_TRAINING else 'requestId'}",
            "reason": _REASONS[refusal].format(status=request.status if request is not None else ""),
        }
        for index, refusal, request in refusals
        if refusal is not None and rules.STATUS[refusal] == status
    ]
    return kind, items


async def report_hours(session: AsyncSession, guard: PersonGuard, body: HoursReportIn, *, lang: str) -> HoursList:
    """Record a batch of hours (all lines or none). Each item: a request the caller may not see is unknown (404); one
    it sees but does not run is 403; one it runs that is not approved, or an unknown training, is 409 (the problem
    names each item so refused). A line whose figure is the current one is no change; another is a new version."""
    principal = guard.principal
    issues = _input_issues(body)
    if issues:
        raise BadRequest(issues)
    ids = list({line.request_id: None for line in body.items})
    # Links resolved without any lock held; the rows are locked only once the caller is known to run them, and
    # their states are checked on the locked rows (as for decision rounds).
    named = await request_repository.many(session, ids, lock=False)
    visible = await _seen(session, guard, named)
    refused = _refused(body, guard, named, visible)
    if refused is None or rules.STATUS[refused[0]] == 409:
        found = await request_repository.many(session, ids)
        refused = _refused(body, guard, found, visible)
    else:
        found = named
    if refused is not None:
        kind, items = refused
        status = rules.STATUS[kind]
        if status == 404:
            raise ResourceNotFound("No such request", extensions={"items": items})
        if status == 403:
            raise MissingPermission(
                "Hours are reported by the party that runs the training: the regional service for the trainings it "
                "asked for, the insurer for those it asked for without a registration form",
                extensions={"items": items},
            )
        raise ItemsRefused(items, lang=lang)

    new: list[HoursReport] = []
    listed: list[tuple[HoursReport, Request, str]] = []
    for line in body.items:
        request, ssin = found[line.request_id]
        current = await repository.current_hours(session, request.id, line.training_id, line.month)
        if current is not None and current.hours == Decimal(line.hours):
            listed.append((current, request, ssin))
            continue  # the same figure again: nothing to correct
        report = HoursReport(
            id=uuid.uuid4(),
            request_id=request.id,
            training_id=line.training_id,
            month=line.month,
            hours=line.hours.quantize(CENT),
            version=(current.version + 1) if current else 1,
            reported_by=principal.enterprise_number,
            reported_at=datetime.now(UTC),
        )
        new.append(report)
        listed.append((report, request, ssin))
        await dossier_repository.touch(session, request.dossier_id)  # a change: it restarts the retention clock
    await repository.add_hours(session, new)
    return HoursList(items=[_item(report, request.dossier_id, ssin) for report, request, ssin in listed], self_=REPORTS)


async def read_reported(session: AsyncSession, guard: PersonGuard, body: HoursReportIn) -> HoursList:
    """An idempotent replay of a report: the current version of each line it named, read again through the guard
    (a line whose person the caller may no longer see fails the replay like any read: 404)."""
    found = await request_repository.many(session, list({line.request_id for line in body.items}), lock=False)
    people = [(found[line.request_id][1], line.request_id) for line in body.items if line.request_id in found]
    # the SSIN each request was read under → the person's current SSIN (the guard follows a replaced one and may move
    # the dossier there: the replay names the current one only, as the first answer did)
    now: dict[str, str] = {}
    for ssin, request_id in first_per_person(people).items():
        access = await guard(
            ssin, Action.CONSULT_DOSSIER, operation=REPORT_HOURS, resource_type=REQUEST, resource_id=str(request_id)
        )
        now[ssin] = access.ssin
    survivors = identity.absorbed_here(session)
    listed = []
    for line in body.items:
        entry = found.get(line.request_id)
        current = await repository.current_hours(session, line.request_id, line.training_id, line.month)
        if entry is not None and current is not None:
            request, ssin = entry
            listed.append(_item(current, survivors.get(request.dossier_id, request.dossier_id), now[ssin]))
    return HoursList(items=listed, self_=REPORTS)


def _item(report: HoursReport, dossier_id: uuid.UUID, ssin: str) -> HoursListItem:
    return HoursListItem(
        request_id=report.request_id,
        training_id=report.training_id,
        month=report.month,
        hours=report.hours,
        version=report.version,
        ssin=ssin,
        dossier_id=dossier_id,
        reported_by=report.reported_by,
        reported_at=report.reported_at,
    )


def _month(value: str) -> str:
    """A month part of a cursor (``ValueError`` for anything else: the cursor is refused)."""
    if not rules.MONTH.match(value):
        raise ValueError("not a month")
    return value


def _after(page: str, scope: str, first: str, last: str) -> tuple[str, uuid.UUID]:
    """The position a ``page`` cursor names; one of another list or organisation (sealed for them), or whose position
    lies outside the months asked (one of another month or period), is a 400."""
    month, report_id = cursors.unseal(page, _month, uuid.UUID, scope=scope, where="query", name="page")
    if not first <= month <= last:
        raise cursors.invalid("query", "page")
    return month, report_id


async def hours_list(
    session: AsyncSession,
    guard: PersonGuard,
    *,
    month: str | None,
    first: str | None,
    last: str | None,
    page: str | None,
    page_size: int,
    self_link: str,
) -> HoursList:
    """A page of the caller's hours list: the current versions of one month's lines, or of a period's (``first`` to
    ``last``, both included), of the requests the caller's organisation is an addressee of (INAMI: all), in (month,
    id) order, keyset pages. Each line's person is re-checked with the caller's current links (one record per
    person): a line it may no longer see is left out and the denial recorded. No line carries health data."""
    chosen = rules.period(month, first, last)
    if isinstance(chosen, list):
        raise BadRequest([InputIssue(INVALID_INPUT, flaw.message, flaw.detail, "query", flaw.name) for flaw in chosen])
    first, last = chosen
    scope = cursors.scope(LIST_HOURS, guard.principal.enterprise_number)
    lines = await repository.hours_page(
        session,
        party=list_party(guard.principal),
        first=first,
        last=last,
        after=_after(page, scope, first, last) if page else None,
        limit=page_size + 1,
    )
    more = len(lines) > page_size
    lines = lines[:page_size]
    granted = await guard.sift(
        [(line.ssin, str(line.dossier_id)) for line in lines],
        Action.READ_LISTS,
        operation=LIST_HOURS,
        resource_type=DOSSIER,
    )
    # Each line shows its person's current SSIN (the guard follows an SSIN the National Register replaced) and the
    # dossier that holds the request now (one the guard merged into another of the person's during this page leads
    # there).
    survivors = identity.absorbed_here(session)
    items = [
        _item(line.report, survivors.get(line.dossier_id, line.dossier_id), granted[line.ssin].ssin)
        for line in lines
        if line.ssin in granted
    ]
    last_line = lines[-1].report if more and lines else None
    next_page = cursors.seal(last_line.month, last_line.id, scope=scope) if last_line is not None else None
    return HoursList(items=items, self_=self_link, next=next_page)


CSV_COLUMNS = (
    "requestId", "trainingId", "month", "hours", "version", "ssin", "dossierId", "reportedBy", "reportedAt",
)  # fmt: skip
"""The CSV's columns: the JSON line's fields, in the same order."""


def as_csv(hours: HoursList) -> str:
    """The page's lines as CSV, line for line the JSON's, every cell as the decision list writes it (a formula start
    neutralised: :func:`rp_api.services.decisions.cell`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in hours.items:
        row = item.model_dump(mode="json", by_alias=True)
        writer.writerow([cell(row.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()
