"""Queries of the work lists: the requests and registration forms addressed to one organisation, keyset pages on
(updated_at, id)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.domain.forms import FormStatus
from rp_api.domain.work_lists import FormFilter, RequestFilter
from rp_api.models.dossier import Addressee, Dossier
from rp_api.models.registration_form import RegistrationForm
from rp_api.models.request import Decision, Request
from rp_api.repositories.addressees import REGISTRATION_FORM, REQUEST


@dataclass(frozen=True)
class Window:
    """The filters every work list shares, and the page: keyset position and size."""

    changed_since: datetime | None = None
    created_from: datetime | None = None
    """Included."""
    created_before: datetime | None = None
    """Excluded."""
    after: tuple[datetime, uuid.UUID] | None = None
    limit: int = 21


def _within(model: type[Request] | type[RegistrationForm], window: Window) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if window.changed_since is not None:
        conditions.append(model.updated_at >= window.changed_since)
    if window.created_from is not None:
        conditions.append(model.created_at >= window.created_from)
    if window.created_before is not None:
        conditions.append(model.created_at < window.created_before)
    if window.after is not None:
        updated_at, item_id = window.after
        conditions.append(or_(model.updated_at > updated_at, and_(model.updated_at == updated_at, model.id > item_id)))
    return conditions


async def request_page(
    session: AsyncSession, organisation: str, wanted: RequestFilter, window: Window
) -> list[tuple[Request, str, Decision | None]]:
    """The requests addressed to ``organisation`` that match, each with its person's SSIN and INAMI's decision (when
    taken), oldest change first."""
    conditions = _within(Request, window)
    if wanted.statuses is not None:
        conditions.append(Request.status.in_(sorted(wanted.statuses)))
    if wanted.type is not None:
        conditions.append(Request.type == wanted.type)
    if wanted.with_medical_information is not None:
        has = Request.medical_information.is_not(None)
        conditions.append(has if wanted.with_medical_information else ~has)
    if wanted.with_medical_advice is not None:
        has = Request.medical_advice.is_not(None)
        conditions.append(has if wanted.with_medical_advice else ~has)
    query: Any = (
        select(Request, Dossier.ssin, Decision)
        .join(
            Addressee,
            and_(
                Addressee.resource_id == Request.id,
                Addressee.enterprise_number == organisation,
                Addressee.resource_type == REQUEST,
            ),
        )
        .join(Dossier, Dossier.id == Request.dossier_id)
        .outerjoin(Decision, Decision.request_id == Request.id)
        .where(*conditions)
        .order_by(Request.updated_at, Request.id)
        .limit(window.limit)
    )
    return [(request, ssin, decision) for request, ssin, decision in (await session.execute(query)).all()]


async def form_page(
    session: AsyncSession,
    organisation: str,
    wanted: FormFilter,
    window: Window,
    *,
    readable_when_not_creator: frozenset[FormStatus],
) -> list[tuple[RegistrationForm, str]]:
    """The registration forms addressed to ``organisation`` that it may read — those it created, and the others in
    the states ``readable_when_not_creator`` — and that match, each with its person's SSIN, oldest change first.

    Readability is filtered here so that forms the caller may not read do not take the places of a page (the
    service checks every line again)."""
    conditions = _within(RegistrationForm, window)
    conditions.append(
        or_(
            RegistrationForm.created_by_organisation == organisation,
            RegistrationForm.status.in_(sorted(readable_when_not_creator)),
        )
    )
    if wanted.statuses is not None:
        conditions.append(RegistrationForm.status.in_(sorted(wanted.statuses)))
    if wanted.routing is not None:
        conditions.append(RegistrationForm.routing == wanted.routing)
    query: Any = (
        select(RegistrationForm, Dossier.ssin)
        .join(
            Addressee,
            and_(
                Addressee.resource_id == RegistrationForm.id,
                Addressee.enterprise_number == organisation,
                Addressee.resource_type == REGISTRATION_FORM,
            ),
        )
        .join(Dossier, Dossier.id == RegistrationForm.dossier_id)
        .where(*conditions)
        .order_by(RegistrationForm.updated_at, RegistrationForm.id)
        .limit(window.limit)
    )
    return [(form, ssin) for form, ssin in (await session.execute(query)).all()]
