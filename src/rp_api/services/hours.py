"""Hours performed (relevé des heures prestées): reports by the party that runs the training, and the hours lists
per party. A correction is a new version; every line's person goes through the guard, every report is a change of
the dossier (it restarts the retention clock)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.person_guard import PersonGuard, first_per_person
from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.policy import Action
from rp_api.domain.requests import RequestStatus
from rp_api.models.request import HoursReport
from rp_api.problems import INVALID_INPUT, BadRequest, InputIssue, ItemsRefused, MissingPermission
from rp_api.repositories import dossiers as dossier_repository
from rp_api.repositories import requests as repository
from rp_api.schemas.request import HoursList, HoursListItem, HoursReportIn
from rp_api.services.decisions import DOSSIER, list_party
from rp_api.urls import API_PREFIX

REPORTS = f"{API_PREFIX}/hoursReports"


def _may_report(guard: PersonGuard) -> bool:
    """The regional service's reference advisor reports hours; its list manager reads the hours list, nothing more
    (deliberation 26/060 §48)."""
    principal = guard.principal
    regional = principal.organisation_type is OrganisationType.REGIONAL_SERVICE
    return regional and Role.REFERENCE_ADVISOR in principal.roles


async def report_hours(session: AsyncSession, guard: PersonGuard, body: HoursReportIn, *, lang: str) -> HoursList:
    principal = guard.principal
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
    if issues:
        raise BadRequest(issues)
    ids = list({line.request_id: None for line in body.items})
    named = await repository.many(session, ids, lock=False)
    hidden = await guard.each(
        [(named[line.request_id][1], line.request_id) for line in body.items if line.request_id in named],
        Action.CONTRIBUTE_TO_DOSSIER,
        operation="reportHours",
        resource_type="request",
    )
    if not _may_report(guard):
        raise MissingPermission("Hours are reported by the regional service that asked for the training")
    found = await repository.many(session, ids)  # locked only now (see record_round)
    refused = []
    for index, line in enumerate(body.items):
        entry = found.get(line.request_id)
        if entry is None or entry[1] in hidden or entry[0].requester_organisation != principal.enterprise_number:
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
        await dossier_repository.touch(session, request.dossier_id)  # a change: it restarts the retention clock
    await repository.add_hours(session, new)
    return HoursList(items=[_hours_item(report, ssin) for report, ssin in listed], self_=REPORTS)


async def read_reported(session: AsyncSession, guard: PersonGuard, body: HoursReportIn) -> HoursList:
    """An idempotent replay of a report: the current version of each line it named, read again through the guard
    (a line whose person the caller may no longer see fails the replay like any read: 404)."""
    found = await repository.many(session, list({line.request_id for line in body.items}), lock=False)
    people = [(found[line.request_id][1], line.request_id) for line in body.items if line.request_id in found]
    for ssin, request_id in first_per_person(people).items():
        await guard(
            ssin, Action.CONSULT_DOSSIER, operation="reportHours", resource_type="request", resource_id=str(request_id)
        )
    listed = []
    for line in body.items:
        entry = found.get(line.request_id)
        current = await repository.current_hours(session, line.request_id, line.training_id, line.month)
        if entry is not None and current is not None:
            listed.append(_hours_item(current, entry[1]))
    return HoursList(items=listed, self_=REPORTS)


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


async def hours_list(session: AsyncSession, guard: PersonGuard, *, month: str, self_link: str) -> HoursList:
    """The month's current lines of the caller's organisation, each line's person re-checked with the caller's
    current links (one record per person; a line it may no longer see is left out and the denial recorded)."""
    rows = await repository.hours_list(session, party=list_party(guard.principal), month=month)
    granted = await guard.sift(
        [(ssin, str(dossier_id)) for _, ssin, dossier_id in rows],
        Action.READ_LISTS,
        operation="listHours",
        resource_type=DOSSIER,
    )
    items = [_hours_item(report, ssin) for report, ssin, _ in rows if ssin in granted]
    return HoursList(items=items, self_=self_link)
