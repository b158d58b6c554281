"""INAMI's weekly decision rounds and the decision lists per party (hours are in :mod:`rp_api.services.hours`).

Batches are all or nothing: every item is checked first (each person through the guard, each recorded), and the
problem names each offending item. List lines are re-checked with the caller's current links.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api import cursors
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.person_guard import PersonGuard, first_per_person
from rp_api.domain import requests as rules
from rp_api.domain.actors import OrganisationType
from rp_api.domain.policy import Action
from rp_api.domain.principal import Principal
from rp_api.domain.requests import RequestAction, RequestStatus
from rp_api.domain.visibility import Block, list_viewers, visible
from rp_api.models.request import Decision, DecisionRound
from rp_api.problems import (
    INVALID_INPUT,
    BadRequest,
    InputIssue,
    ItemsRefused,
    MissingPermission,
    ResourceNotFound,
)
from rp_api.repositories import dossiers as dossier_repository
from rp_api.repositories import requests as repository
from rp_api.schemas.request import (
    DecisionList,
    DecisionListItem,
    DecisionListTraining,
    DecisionRoundIn,
    DecisionRoundOut,
)
from rp_api.services import identity, routing
from rp_api.services.requests import decision_out

DOSSIER = "dossier"
LIST_DECISIONS = "listDecisions"
log = structlog.get_logger(__name__)


def current_week(today: date) -> str:
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


def week_is_future(week: str, today: date) -> bool:
    year, number = int(week[:4]), int(week[6:])
    return (year, number) > tuple(today.isocalendar())[:2]


async def record_round(
    session: AsyncSession, guard: PersonGuard, registry: OrganisationRegistry, body: DecisionRoundIn, *, lang: str
) -> DecisionRoundOut:
    principal = guard.principal
    today = datetime.now(UTC).date()
    issues = []
    if week_is_future(body.week, today):
        issues.append(InputIssue(INVALID_INPUT, "The week is in the future", None, "body", "week"))
    counts = Counter(item.request_id for item in body.decisions)
    issues += [
        InputIssue(INVALID_INPUT, "The request appears twice in the round", None, "body", f"decisions[{i}].requestId")
        for i, item in enumerate(body.decisions)
        if counts[item.request_id] > 1
    ]
    if issues:
        raise BadRequest(issues)

    named = await repository.many(session, [item.request_id for item in body.decisions], lock=False)
    hidden = await guard.each(
        [(named[item.request_id][1], item.request_id) for item in body.decisions if item.request_id in named],
        Action.CONTRIBUTE_TO_DOSSIER,
        operation="recordDecisionRound",
        resource_type="request",
    )
    if not rules.may_act(
        RequestAction.APPROVE, organisation_type=principal.organisation_type, roles=principal.roles, is_requester=False
    ):
        raise MissingPermission("Only INAMI's social experts record decision rounds")
    # Locked only now, once the caller is known to be allowed (links resolved without any lock held); the states
    # are checked on the locked rows.
    found = await repository.many(session, [item.request_id for item in body.decisions])
    refused = []
    for index, item in enumerate(body.decisions):
        entry = found.get(item.request_id)
        if entry is None or entry[1] in hidden:
            refused.append({"name": f"decisions[{index}].requestId", "reason": "no such request"})
        elif entry[0].status != RequestStatus.AT_INAMI:
            refused.append(
                {"name": f"decisions[{index}].requestId", "reason": f"the request is {entry[0].status}, not atInami"}
            )
    if refused:
        raise ItemsRefused(refused, lang=lang)

    # Whom each decision goes to: every addressee of the request, and the person's insurer and regional services
    # as they are now (resolved together, a source down fails the round before anything is written).
    links = await routing.links_of(guard, (ssin for _, ssin in found.values()))
    now = datetime.now(UTC)
    decision_round = DecisionRound(id=uuid.uuid4(), week=body.week, recorded_by=principal.enterprise_number)
    decisions = []
    for item in body.decisions:
        request, _ = found[item.request_id]
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
    await repository.add_round(session, decision_round, decisions)
    for item in body.decisions:
        request, ssin = found[item.request_id]
        await dossier_repository.touch(session, request.dossier_id)
        await routing.route_request(
            session, guard, registry, request, ssin, kind=routing.DECISION_RECORDED, links=links[ssin]
        )
    return DecisionRoundOut(id=decision_round.id, week=body.week, decisions=[decision_out(d) for d in decisions])


async def read_round(
    session: AsyncSession, guard: PersonGuard, round_id: uuid.UUID, *, operation: str
) -> DecisionRoundOut:
    """A recorded round read again (an idempotent replay): every person through the guard, as the caller is now."""
    found = await repository.round_with_persons(session, round_id)
    if found is None:
        raise ResourceNotFound()
    decision_round, rows = found
    for ssin, request_id in first_per_person((ssin, decision.request_id) for decision, ssin in rows).items():
        await guard(
            ssin, Action.CONSULT_DOSSIER, operation=operation, resource_type="request", resource_id=str(request_id)
        )
    return DecisionRoundOut(
        id=decision_round.id, week=decision_round.week, decisions=[decision_out(d) for d, _ in rows]
    )


def list_party(principal: Principal) -> str | None:
    """INAMI reads every list; every other organisation, the lists of the requests it is party to."""
    return None if principal.organisation_type is OrganisationType.INAMI else principal.enterprise_number


def _after(page: str, scope: str) -> tuple[datetime, uuid.UUID]:
    decided_at, decision_id = cursors.unseal(
        page, datetime.fromisoformat, uuid.UUID, scope=scope, where="query", name="page"
    )
    return decided_at, decision_id


ONE_WAY = "Give exactly one of: week, from and to, or changedSince"


def _one_way(
    week: str | None, decided_from: date | None, decided_to: date | None, changed_since: datetime | None
) -> list[InputIssue]:
    """A list is chosen in exactly one of three ways: an ISO week, a range of decision dates (``from`` and/or
    ``to``), or ``changedSince``. Otherwise one issue per parameter given (one naming none when none is)."""
    given = [
        name
        for name, value in (("week", week), ("from", decided_from), ("to", decided_to), ("changedSince", changed_since))
        if value is not None
    ]
    if len({"range" if name in ("from", "to") else name for name in given}) == 1:
        return []
    if not given:
        return [InputIssue(INVALID_INPUT, ONE_WAY, "None was given", "query")]
    detail = f"{', '.join(given)} were given together"
    return [InputIssue(INVALID_INPUT, ONE_WAY, detail, "query", name) for name in given]


def _trainings(stored: list[dict[str, Any]] | None) -> list[DecisionListTraining]:
    """The request's trainings as a list line shows them (from the request's stored JSON, camelCase)."""
    return [
        DecisionListTraining(
            provider=training["provider"],
            title=training["title"],
            start_date=training["startDate"],
            end_date=training["endDate"],
        )
        for training in stored or []
    ]


async def decision_list(
    session: AsyncSession,
    guard: PersonGuard,
    *,
    week: str | None,
    decided_from: date | None,
    decided_to: date | None,
    changed_since: datetime | None = None,
    page: str | None,
    page_size: int,
    self_link: str,
    audited: bool = True,
) -> DecisionList:
    """A page of the caller's decision list (liste des décisions), chosen by ISO week, by a range of decision dates
    or by ``changed_since`` (decided at or after it; a date-time without offset is UTC), in one query. Each line
    carries the person's name, the request's list columns and the decision, never health data.

    ``audited=False`` is for benchmarks only: no re-check of each line's person, no audit records."""
    principal = guard.principal
    today = datetime.now(UTC).date()
    issues = _one_way(week, decided_from, decided_to, changed_since)
    if week is not None and week_is_future(week, today):
        issues.append(
            InputIssue(INVALID_INPUT, "The week is in the future", None, "query", "week", week, has_value=True)
        )
    if decided_from and decided_to and decided_to < decided_from:
        issues.append(InputIssue(INVALID_INPUT, "to is before from", None, "query", "to"))
    if issues:
        raise BadRequest(issues)
    if changed_since is not None and changed_since.tzinfo is None:
        changed_since = changed_since.replace(tzinfo=UTC)
    scope = cursors.scope(LIST_DECISIONS, principal.enterprise_number)
    lines = await repository.decision_page(
        session,
        party=list_party(principal),
        week=week,
        decided_from=decided_from,
        decided_to=decided_to,
        changed_since=changed_since,
        after=_after(page, scope) if page else None,
        limit=page_size + 1,
    )
    more = len(lines) > page_size
    lines = lines[:page_size]
    # Each line's person checked again with the caller's current links (one record per person): a line the caller
    # may no longer see (no longer linked, deceased, a source down) is left out, and that denial is recorded.
    granted = (
        await guard.sift(
            [(line.ssin, str(line.dossier_id)) for line in lines],
            Action.READ_LISTS,
            operation=LIST_DECISIONS,
            resource_type=DOSSIER,
        )
        if audited
        else None
    )
    shown = [line for line in lines if granted is None or line.ssin in granted]
    # Each line shows the person as they are now: their current SSIN (the guard follows a replaced one), the name the
    # National Register gives it, and the dossier that holds the request now (one the guard merged into another of
    # the person's during this page leads there).
    current = {line.ssin: granted[line.ssin].ssin if granted is not None else line.ssin for line in shown}
    names = await guard.registered(current.values())
    survivors = identity.absorbed_here(session)
    # The visibility table decides, as for the request itself: a prevention service reads no costs and no motivation.
    viewers = list_viewers(principal.organisation_type, principal.roles)
    costs = visible(Block.REQUEST_COSTS, viewers)
    motivation = visible(Block.REQUEST_DECISION_MOTIVATION, viewers)
    items = []
    for line in shown:
        decision, person = line.decision, names[current[line.ssin]]
        items.append(
            DecisionListItem(
                decision_id=decision.id,
                request_id=decision.request_id,
                dossier_id=survivors.get(line.dossier_id, line.dossier_id),
                ssin=current[line.ssin],
                type=line.request_type,
                week=decision.week,
                outcome=decision.outcome,
                approved_amount=decision.approved_amount if costs else None,
                period_start=decision.period_start,
                period_end=decision.period_end,
                decided_at=decision.decided_at,
                given_name=person.given_name if person else None,
                family_name=person.family_name if person else None,
                training_project=line.training_project,
                trainings=_trainings(line.trainings),
                total_cost=line.total_cost if costs else None,
                motivation=decision.motivation if motivation else None,
                extends=line.extends_request_id,
            )
        )
    last = lines[-1].decision if more and lines else None
    next_page = cursors.seal(last.decided_at, last.id, scope=scope) if last is not None else None
    return DecisionList(items=items, self_=self_link, next=next_page)


CSV_COLUMNS = (
    "decisionId", "requestId", "dossierId", "ssin", "type", "week", "outcome",
    "approvedAmount", "periodStart", "periodEnd", "decidedAt",
    "givenName", "familyName", "trainingProject", "providers", "trainingTitles", "totalCost", "motivation",
    "extends",
)  # fmt: skip
"""The CSV's columns: the JSON line's fields, flat, in this order; its ``trainings`` become ``providers`` and
``trainingTitles``, each joined with :data:`CSV_SEPARATOR` (in the same order: the n-th title is the n-th
provider's)."""
CSV_SEPARATOR = "; "


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such a cell is written with
a leading apostrophe, which spreadsheets show as text, and so is such a start after a ``;``. No number or date of a
line starts so."""


_AFTER_SEMICOLON = re.compile(r";(?=[=+\-@\t\r])")


def cell(value: object) -> str:
    """The cell as written: with an apostrophe before a formula start at its beginning and after every ``;`` (in
    Belgium a spreadsheet opens a CSV with ``;`` as its list separator, and would split such a cell)."""
    text = _AFTER_SEMICOLON.sub(";'", "" if value is None else str(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def as_csv(decisions: DecisionList) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in decisions.items:
        row = item.model_dump(mode="json", by_alias=True)
        row["providers"] = CSV_SEPARATOR.join(training.provider for training in item.trainings)
        row["trainingTitles"] = CSV_SEPARATOR.join(training.title for training in item.trainings)
        writer.writerow([cell(row.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()
