"""Work routing: when a registration form or a request changes, its addressees are computed again from the person's
links *now* (:mod:`rp_api.domain.routing`), added to those it had, and each of them but the caller's organisation
is told through its change feed. Health-data changes are told to physicians only (the feed's medical flag)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.person_guard import PersonGuard
from rp_api.domain.actors import OrganisationType
from rp_api.domain.forms import FormStatus
from rp_api.domain.links import PersonLinks
from rp_api.domain.requests import RequestStatus
from rp_api.domain.routing import MEDICAL_ADDRESSEE_TYPES, Party, form_addressees, request_addressees
from rp_api.models.registration_form import RegistrationForm
from rp_api.models.request import Request
from rp_api.repositories import addressees, feed
from rp_api.repositories import registration_forms as form_repository

FORM_VISIBLE = "formVisible"
"""A form was submitted, or its target-group decision taken: addressees may act on it."""
FORM_CHANGED = "formChanged"
"""A form was cancelled."""
REQUEST_CHANGED = "requestChanged"
DECISION_RECORDED = "decisionRecorded"
DOSSIER_CLOSED = "dossierClosed"
"""The person's insurer or INAMI closed the dossier: told to the addressees of its forms and requests."""
LINKS_AT_ONCE = 8


def creator_of(form: RegistrationForm) -> Party:
    return Party(form.created_by_organisation, OrganisationType(form.created_by_type))


async def route_form(
    session: AsyncSession,
    guard: PersonGuard,
    registry: OrganisationRegistry,
    form: RegistrationForm,
    ssin: str,
    *,
    kind: str | None = FORM_VISIBLE,
) -> None:
    """Address the form as its state now requires; ``kind``: the feed event its addressees get (None: none)."""
    status = FormStatus(form.status)
    # A draft is its creator's alone: no source is asked.
    links = PersonLinks(ssin) if status is FormStatus.DRAFT else await guard.routing_links(ssin)
    found = form_addressees(status, creator_of(form), links, registry.directory)
    await _address(session, guard, addressees.REGISTRATION_FORM, form.id, form.dossier_id, found, kind=kind)


async def route_request(
    session: AsyncSession,
    guard: PersonGuard,
    registry: OrganisationRegistry,
    request: Request,
    ssin: str,
    *,
    kind: str = REQUEST_CHANGED,
    medical: bool = False,
    links: PersonLinks | None = None,
) -> None:
    """``links``: the person's routing links when the caller has them already (a batch resolves them together)."""
    links = links or await guard.routing_links(ssin)
    form_creator = None
    if request.registration_form_id is not None:
        form = await form_repository.get(session, request.registration_form_id)
        form_creator = creator_of(form) if form is not None else None
    requester = Party(request.requester_organisation, OrganisationType(request.requester_type))
    found = request_addressees(RequestStatus(request.status), requester, form_creator, links, registry.directory)
    told_only: frozenset[str] | None = None
    if medical:  # health data: only organisations whose physicians read it are told
        told_only = frozenset(o.enterprise_number for o in registry if o.type in MEDICAL_ADDRESSEE_TYPES)
    await _address(
        session,
        guard,
        addressees.REQUEST,
        request.id,
        request.dossier_id,
        found,
        kind=kind,
        medical=medical,
        told_only=told_only,
    )


async def _address(
    session: AsyncSession,
    guard: PersonGuard,
    resource_type: str,
    resource_id: uuid.UUID,
    dossier_id: uuid.UUID,
    found: frozenset[str],
    *,
    kind: str | None,
    medical: bool = False,
    told_only: frozenset[str] | None = None,
) -> None:
    earlier = await addressees.of(session, resource_id)
    await addressees.add(
        session, resource_type=resource_type, resource_id=resource_id, dossier_id=dossier_id, organisations=found
    )
    if kind is not None:
        told = (earlier | found) - {guard.principal.enterprise_number}
        if told_only is not None:
            told &= told_only
        await feed.publish(session, told, kind=kind, dossier_id=dossier_id, resource_id=resource_id, medical=medical)


async def dossier_closed(session: AsyncSession, guard: PersonGuard, dossier_id: uuid.UUID) -> None:
    told = await addressees.of_dossier(session, dossier_id) - {guard.principal.enterprise_number}
    await feed.publish(session, told, kind=DOSSIER_CLOSED, dossier_id=dossier_id, resource_id=dossier_id)


async def links_of(guard: PersonGuard, ssins: Iterable[str]) -> dict[str, PersonLinks]:
    """Routing links of several persons (a decision round), a few at a time; a source down fails the batch."""
    gate = asyncio.Semaphore(LINKS_AT_ONCE)

    async def one(ssin: str) -> PersonLinks:
        async with gate:
            return await guard.routing_links(ssin)

    distinct = sorted(set(ssins))
    return dict(zip(distinct, await asyncio.gather(*(one(ssin) for ssin in distinct)), strict=True))
