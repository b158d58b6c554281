"""INAMI's anonymous statistics: three fixed tables per month, small cells suppressed together (domain rule)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.principal import Principal
from rp_api.domain.actors import OrganisationType
from rp_api.domain.statistics import suppress_month
from rp_api.problems import INVALID_INPUT, BadRequest, InputIssue, MissingPermission
from rp_api.repositories import statistics as repository

TABLES = ("byTypeAndOutcome", "byInsurer", "byRegionalService")


def _month_start(month: str) -> datetime:
    return datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=UTC)


def _next_month(month: str) -> datetime:
    start = _month_start(month)
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


async def tables(
    session: AsyncSession,
    principal: Principal,
    registry: OrganisationRegistry,
    *,
    first: str,
    last: str,
    threshold: int,
) -> dict[str, Any]:
    if principal.organisation_type is not OrganisationType.INAMI:
        raise MissingPermission("The statistics are INAMI's")
    if last < first:
        raise BadRequest([InputIssue(INVALID_INPUT, "to is before from", None, "query", "to")])
    since, until = _month_start(first), _next_month(last)
    insurers = {o.enterprise_number: o.name for o in registry if o.type is OrganisationType.INSURER}
    regional = {o.enterprise_number: o.name for o in registry if o.type is OrganisationType.REGIONAL_SERVICE}
    raw: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: {name: {} for name in TABLES})
    for row in await repository.by_type_and_outcome(session, since, until):
        raw[row.month]["byTypeAndOutcome"][row.category] = int(row.n)
    for row in await repository.by_party(session, since, until, list(insurers)):
        raw[row.month]["byInsurer"][insurers[row.category]] = int(row.n)
    for row in await repository.by_party(session, since, until, list(regional)):
        raw[row.month]["byRegionalService"][regional[row.category]] = int(row.n)

    published: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for month in sorted(raw):
        for name, line in suppress_month(raw[month], threshold).items():
            for category, count in sorted(line.items(), key=lambda item: str(item[0])):
                published[name].append(
                    {"month": month, "category": category, "count": count, "suppressed": count is None}
                )
    return {"threshold": threshold, "from": first, "to": last, **published}
