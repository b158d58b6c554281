"""INAMI's weekly decision rounds, the decision lists per party, and the hours performed (reports and lists).

Batches are all or nothing: every item is checked first, and the problem names each offending item.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api import cursors
from rp_api.authz.audit import AuditRecord, record
from rp_api.authz.person_guard import PersonGuard
from rp_api.authz.principal import Principal
from rp_api.domain import requests as rules
from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.policy import DELIBERATION, Action
from rp_api.domain.requests import RequestAction, RequestStatus
from rp_api.models.request import Decision, DecisionRound, HoursReport
from rp_api.problems import INVALID_INPUT, BadRequest, InputIssue, ItemsRefused, MissingPermission
from rp_api.repositories import dossiers as dossier_repository
from rp_api.repositories import feed
from rp_api.repositories import requests as repository
from rp_api.schemas.request import (
    DecisionList,
    DecisionListItem,
    DecisionRoundIn,
    DecisionRoundOut,
    HoursList,
    HoursListItem,
    HoursReportIn,
)
from rp_api.services.requests import decision_out

LIST_BASIS = f"{DELIBERATION}: party to the request (requester, insurer or regional service)"


def current_week(today: date) -> str:
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


def week_is_future(week: str, today: date) -> bool:
    year, number = int(week[:4]), int(week[6:])
    return (year, number) > tuple(today.isocalendar())[:2]


async def record_round(
    session: AsyncSession, guard: PersonGuard, body: DecisionRoundIn, *, lang: str
) -> DecisionRoundOut:
    principal = guard.principal
    if not rules.may_act(
        RequestAction.APPROVE, organisation_type=principal.organisation_type, roles=principal.roles, is_requester=False
    ):
        raise MissingPermission("Only INAMI's social experts record decision rounds")
    today = datetime.now(UTC).date()
    issues = []
    if week_is_future(body.week, today):
        issues.append(
            InputIssue(INVALID_INPUT, "The week is in the future", None, "body", "week", body.week, has_value=True)
        )
    counts = Counter(item.request_id for item in body.decisions)
    issues += [
        InputIssue(INVALID_INPUT, "The request appears twice in the round", None, "body", f"decisions[{i}].requestId")
        for i, item in enumerate(body.decisions)
        if counts[item.request_id] > 1
    ]
    if issues:
        raise BadRequest(issues)

    found = await repository.many(session, [item.request_id for item in body.decisions])
    refused = []
    for index, item in enumerate(body.decisions):
        entry = found.get(item.request_id)
        if entry is None:
            refused.append({"name": f"decisions[{index}].requestId", "reason": "no such request"})
        elif entry[0].status != RequestStatus.AT_INAMI:
            refused.append(
                {"name": f"decisions[{index}].requestId", "reason": f"the request is {entry[0].status}, not atInami"}
            )
    if refused:
        raise ItemsRefused(refused, lang=lang)

    now = datetime.now(UTC)
    decision_round = DecisionRound(id=uuid.uuid4(), week=body.week, recorded_by=principal.enterprise_number)
    decisions = []
    for item in body.decisions:
        request, ssin = found[item.request_id]
        await guard(
            ssin,
            Action.CONTRIBUTE_TO_DOSSIER,
            operation="decideRequest",
            resource_type="request",
            resource_id=str(request.id),
        )
        request.status = RequestStatus.APPROVED if item.outcome == "approved" else RequestStatus.REFUSED
        request.updated_at = now
        decisions.append(
            Decision(
                id=uuid.uuid4(),
                request_id=request.id,
                round_id=decision_round.id,
                week=body.week,
                outcome=item.outcome,
                approved_amount=item.approved_amount if item.outcome == "approved" else None,
                period_start=item.period_start,
                period_end=item.period_end,
                motivation=item.motivation,
                decided_at=now,
            )
        )
        await dossier_repository.touch(session, request.dossier_id)
        await feed.publish(
            session,
            await repository.parties(session, request.id),
            kind="decisionRecorded",
            dossier_id=request.dossier_id,
            resource_id=request.id,
        )
    await repository.add_round(session, decision_round, decisions)
    return DecisionRoundOut(id=decision_round.id, week=body.week, decisions=[decision_out(d) for d in decisions])


def _party(principal: Principal) -> str | None:
    """INAMI reads every list; every other organisation, the lists of the requests it is party to."""
    return None if principal.organisation_type is OrganisationType.INAMI else principal.enterprise_number


def _audit_listed(
    session: AsyncSession, principal: Principal, trace_id: str, operation: str, items: list[tuple[str, str]]
) -> None:
    """One audit record per person listed (the basis: the caller is party to the request)."""
    record(
        session,
        *(
            AuditRecord.of(
                principal,
                trace_id=trace_id,
                operation=operation,
                resource_type="request",
                resource_id=resource_id,
                person_ssin=ssin,
                allowed=True,
                reason="requestParty" if principal.organisation_type is not OrganisationType.INAMI else "inamiMission",
                legal_basis=LIST_BASIS,
            )
            for ssin, resource_id in items
        ),
    )


def _after(page: str) -> tuple[datetime, uuid.UUID]:
    decided_at, decision_id = cursors.decode(page, datetime.fromisoformat, uuid.UUID, where="query", name="page")
    return decided_at, decision_id


async def decision_list(
    session: AsyncSession,
    principal: Principal,
    trace_id: str,
    *,
    week: str | None,
    decided_from: date | None,
    decided_to: date | None,
    page: str | None,
    page_size: int,
    self_link: str,
    audited: bool = True,
) -> DecisionList:
    today = datetime.now(UTC).date()
    issues = []
    if (week is None) == (decided_from is None and decided_to is None):
        issues.append(InputIssue(INVALID_INPUT, "Give either week, or from and to", None, "query", "week"))
    if week is not None and week_is_future(week, today):
        issues.append(
            InputIssue(INVALID_INPUT, "The week is in the future", None, "query", "week", week, has_value=True)
        )
    if decided_from and decided_to and decided_to < decided_from:
        issues.append(InputIssue(INVALID_INPUT, "to is before from", None, "query", "to"))
    if issues:
        raise BadRequest(issues)
    rows = await repository.decision_page(
        session,
        party=_party(principal),
        week=week,
        decided_from=decided_from,
        decided_to=decided_to,
        after=_after(page) if page else None,
        limit=page_size + 1,
    )
    more = len(rows) > page_size
    rows = rows[:page_size]
    items = [
        DecisionListItem(
            decision_id=decision.id,
            request_id=decision.request_id,
            dossier_id=dossier_id,
            ssin=ssin,
            type=request_type,
            week=decision.week,
            outcome=decision.outcome,
            approved_amount=decision.approved_amount,
            period_start=decision.period_start,
            period_end=decision.period_end,
            decided_at=decision.decided_at,
        )
        for decision, request_type, dossier_id, ssin in rows
    ]
    if audited:
        _audit_listed(session, principal, trace_id, "listDecisions", [(i.ssin, str(i.request_id)) for i in items])
    next_page = cursors.encode(rows[-1][0].decided_at, rows[-1][0].id) if more and rows else None
    return DecisionList(items=items, self_=self_link, next=next_page)


CSV_COLUMNS = (
    "decisionId", "requestId", "dossierId", "ssin", "type", "week", "outcome",
    "approvedAmount", "periodStart", "periodEnd", "decidedAt",
)  # fmt: skip


def as_csv(decisions: DecisionList) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in decisions.items:
        row = item.model_dump(mode="json", by_alias=True)
        writer.writerow(["" if row.get(column) is None else row[column] for column in CSV_COLUMNS])
    return out.getvalue()


async def report_hours(session: AsyncSession, guard: PersonGuard, body: HoursReportIn, *, lang: str) -> HoursList:
    principal = guard.principal
    if principal.organisation_type is not OrganisationType.REGIONAL_SERVICE or not principal.roles & {
        Role.REFERENCE_ADVISOR,
        Role.LIST_MANAGER,
    }:
        raise MissingPermission("Hours are reported by the regional service that asked for the training")
    this_month = datetime.now(UTC).strftime("%Y-%m")
    issues = [
        InputIssue(
            INVALID_INPUT, "The month is in the future", None, "body", f"items[{i}].month", line.month, has_value=True
        )
        for i, line in enumerate(body.items)
        if line.month > this_month
    ]
    keys = Counter((line.request_id, line.training_id, line.month) for line in body.items)
    issues += [
        InputIssue(INVALID_INPUT, "The same training and month appear twice", None, "body", f"items[{i}]")
        for i, line in enumerate(body.items)
        if keys[(line.request_id, line.training_id, line.month)] > 1
    ]
    if issues:
        raise BadRequest(issues)
    found = await repository.many(session, list({line.request_id for line in body.items}))
    refused = []
    for index, line in enumerate(body.items):
        entry = found.get(line.request_id)
        if entry is None or entry[0].requester_organisation != principal.enterprise_number:
            refused.append({"name": f"items[{index}].requestId", "reason": "no such request of yours"})
        elif entry[0].status != RequestStatus.APPROVED:
            refused.append(
                {"name": f"items[{index}].requestId", "reason": f"the request is {entry[0].status}, not approved"}
            )
        elif line.training_id not in {t["id"] for t in entry[0].trainings}:
            refused.append({"name": f"items[{index}].trainingId", "reason": "no such training in the request"})
    if refused:
        raise ItemsRefused(refused, lang=lang)

    new: list[HoursReport] = []
    listed = []
    for line in body.items:
        request, ssin = found[line.request_id]
        await guard(
            ssin,
            Action.CONTRIBUTE_TO_DOSSIER,
            operation="reportHours",
            resource_type="request",
            resource_id=str(request.id),
        )
        current = await repository.current_hours(session, request.id, line.training_id, line.month)
        if current is not None and current.hours == Decimal(line.hours):
            listed.append((current, ssin))
            continue  # the same figure again: nothing to correct
        report = HoursReport(
            id=uuid.uuid4(),
            request_id=request.id,
            training_id=line.training_id,
            month=line.month,
            hours=line.hours,
            version=(current.version + 1) if current else 1,
            reported_by=principal.enterprise_number,
            reported_at=datetime.now(UTC),
        )
        new.append(report)
        listed.append((report, ssin))
    await repository.add_hours(session, new)
    return HoursList(items=[_hours_item(report, ssin) for report, ssin in listed], self_="/rp/v1/hoursReports")


def _hours_item(report: HoursReport, ssin: str) -> HoursListItem:
    return HoursListItem(
        request_id=report.request_id,
        training_id=report.training_id,
        month=report.month,
        hours=report.hours,
        version=report.version,
        ssin=ssin,
        reported_at=report.reported_at,
    )


async def hours_list(
    session: AsyncSession, principal: Principal, trace_id: str, *, month: str, self_link: str
) -> HoursList:
    rows = await repository.hours_list(session, party=_party(principal), month=month)
    items = [_hours_item(report, ssin) for report, ssin in rows]
    _audit_listed(session, principal, trace_id, "listHours", [(i.ssin, str(i.request_id)) for i in items])
    return HoursList(items=items, self_=self_link)
