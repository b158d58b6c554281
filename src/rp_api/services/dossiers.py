"""Dossier use cases: look up (or create, for whoever starts a trajectory), read with enrichment, list what the
caller takes part in, and close explicitly (the dossier's life: :mod:`rp_api.domain.dossiers`; who creates one:
:mod:`rp_api.domain.dossier_creation`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api import cursors
from rp_api.authz.links import LinkResolver
from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.person_guard import PersonGuard
from rp_api.domain import dossier_creation as creation
from rp_api.domain import dossiers as life
from rp_api.domain.actors import OrganisationType
from rp_api.domain.dossier_creation import Opening, Start
from rp_api.domain.dossiers import DossierStatus
from rp_api.domain.policy import Action
from rp_api.domain.visibility import viewers_of
from rp_api.models.dossier import Dossier
from rp_api.problems import MissingPermission, PreconditionFailed, ResourceNotFound, TransitionNotAllowed
from rp_api.repositories import dossiers as dossier_repository
from rp_api.repositories.dossiers import DossierContents
from rp_api.schemas.dossier import DossierOut, DossierPage, DossierQuery, DossierSummary
from rp_api.services import identity, registration_forms, routing
from rp_api.services import requests as request_service
from rp_api.services.views import dossier_view
from rp_api.urls import API_PREFIX

DOSSIER = "dossier"
QUERY_DOSSIERS = "queryDossiers"


async def open_dossier(
    session: AsyncSession, guard: PersonGuard, ssin: str, start: Start | None = None
) -> tuple[Dossier, bool]:
    """The person's dossier (a lookup, ``start`` None), or the dossier of the trajectory the caller starts, created
    when there is none (:mod:`rp_api.domain.dossier_creation`). Through the person guard first (404 for a person the
    caller may not see, 403 for a role that may not act; audited), then the creation rule: 404 when a lookup finds no
    dossier or the person is deceased, 403 when the caller's role starts no such trajectory. The caller's
    organisation takes part in the dossier from then on (``dossiers/query``).

    The person is found under any of their SSINs: the guard follows a replaced SSIN to the current one, and moves
    (or merges) a dossier stored under an earlier SSIN to it before the lookup — so naming the old SSIN or the new
    one reaches the one dossier, and starting a trajectory under the new SSIN never creates a second one."""
    action = Action.CONSULT_DOSSIER if start is None else Action.CONTRIBUTE_TO_DOSSIER
    access = await guard(ssin, action, operation="openDossier", resource_type=DOSSIER, named=True)
    principal = guard.principal
    ssin = access.ssin  # the person's current SSIN: the dossier is (now) stored under it
    existing = await dossier_repository.of_person(session, ssin)
    outcome = creation.opening(
        start,
        organisation_type=principal.organisation_type,
        roles=principal.roles,
        exists=existing is not None,
        deceased=access.links.deceased,
    )
    if outcome in (Opening.NO_DOSSIER, Opening.DECEASED):
        raise ResourceNotFound()
    if outcome is Opening.ROLE_CANNOT_START:
        raise MissingPermission(f"The caller's roles do not start a trajectory with a {start}")
    if existing is not None:
        dossier, created = existing, False
    else:  # Opening.CREATED (a concurrent starter may have created it meanwhile: then it is answered as it is)
        dossier, created = await dossier_repository.open_for(session, ssin)
    guard.names(access, resource_id=str(dossier.id))
    await dossier_repository.join(session, dossier.id, principal.enterprise_number)
    return dossier, created


async def load(session: AsyncSession, dossier_id: uuid.UUID) -> Dossier:
    """The dossier (for the id of one absorbed in a merge, the one that absorbed it); 404 when there is none."""
    dossier = await dossier_repository.get(session, dossier_id)
    if dossier is None:
        raise ResourceNotFound()
    return dossier


async def load_with_contents(session: AsyncSession, dossier_id: uuid.UUID) -> DossierContents:
    """The dossier with its forms, requests and decisions (one round trip; for the id of a dossier absorbed in a
    merge, the one that absorbed it); 404 when there is none."""
    contents = await dossier_repository.with_contents(session, dossier_id)
    if contents is None:
        raise ResourceNotFound()
    return contents


async def read_dossier(
    guard: PersonGuard,
    resolver: LinkResolver,
    registry: OrganisationRegistry,
    contents: DossierContents,
    operation: str = "getDossier",
    *,
    already_checked: bool = False,
) -> DossierOut:
    """The dossier as the caller may see it. ``already_checked``: this call's guard (and audit record) was done.

    For a person whose SSIN changed, the dossier is read again after the guard, which may have moved or merged it
    (or waited for a call that did): the answer shows it under the current SSIN, with what it absorbed; an absorbed
    dossier's id answers the survivor."""
    principal, dossier = guard.principal, contents.dossier
    if not already_checked:
        access = await guard(
            dossier.ssin,
            Action.CONSULT_DOSSIER,
            operation=operation,
            resource_type=DOSSIER,
            resource_id=str(dossier.id),
        )
        if access.follows_identity or access.ssin != dossier.ssin:
            contents = await load_with_contents(guard.session, dossier.id)
            dossier = contents.dossier
    with_trio = principal.organisation_type in (OrganisationType.INSURER, OrganisationType.PREVENTION_SERVICE)
    enrichment = await resolver.enrich(
        dossier.ssin, with_trio=with_trio, trace_id=guard.trace_id, legal_context=guard.legal_context
    )
    viewers = viewers_of(principal.organisation_type, principal.roles)
    forms = registration_forms.readable(guard, contents.forms)
    requests_ = [request_service.view(guard, r, contents.decisions.get(r.id)) for r in contents.requests]
    return dossier_view(dossier, enrichment, forms, requests_, viewers, registry, principal.enterprise_number)


CLOSE = "closeDossier"


async def load_for_closing(session: AsyncSession, guard: PersonGuard, dossier_id: uuid.UUID) -> DossierContents:
    """The dossier the caller means to close: through the person guard (404 for an unlinked caller, audited), then
    403 unless the caller is the person's insurer (medical advisor, coordinator) or INAMI (social expert)."""
    contents = await load_with_contents(session, dossier_id)
    dossier = contents.dossier
    access = await guard(
        dossier.ssin, Action.CONTRIBUTE_TO_DOSSIER, operation=CLOSE, resource_type=DOSSIER, resource_id=str(dossier.id)
    )
    principal = guard.principal
    if not life.may_close(principal.organisation_type, principal.roles):
        raise MissingPermission("Only the person's insurer or INAMI closes a dossier")
    if access.follows_identity or access.ssin != dossier.ssin:  # it may have followed the person's SSIN: as it is now
        contents = await load_with_contents(session, dossier.id)
    return contents


async def close_dossier(session: AsyncSession, guard: PersonGuard, dossier: Dossier, *, lang: str) -> DossierContents:
    """Close an active dossier explicitly (409 when it is closed already, 412 when it changed since it was read,
    ``If-Match`` having been checked against the version read); the dossier as it is now."""
    if not life.may_be_closed(DossierStatus(dossier.status)):
        raise TransitionNotAllowed("The dossier is closed already", lang=lang)
    closed = await dossier_repository.close(
        session, dossier.id, version=dossier.version, closed_by=guard.principal.enterprise_number
    )
    if not closed:
        raise PreconditionFailed(lang=lang)
    await routing.dossier_closed(session, guard, dossier.id)
    return await load_with_contents(session, dossier.id)


def _after(page: str, scope: str) -> tuple[datetime, uuid.UUID]:
    updated_at, dossier_id = cursors.unseal(
        page, datetime.fromisoformat, uuid.UUID, scope=scope, where="body", name="page"
    )
    return updated_at, dossier_id


async def query_dossiers(session: AsyncSession, guard: PersonGuard, query: DossierQuery, self_link: str) -> DossierPage:
    """One page of the dossiers the caller's organisation takes part in; access is checked again for each (and
    audited: one record per person), and a dossier the caller may no longer see is left out of the page."""
    scope = cursors.scope(QUERY_DOSSIERS, guard.principal.enterprise_number)
    dossiers = await dossier_repository.page_for_participant(
        session,
        guard.principal.enterprise_number,
        modified_since=query.modified_since,
        status=query.status,
        after=_after(query.page, scope) if query.page else None,
        limit=query.page_size + 1,
    )
    more = len(dossiers) > query.page_size
    dossiers = dossiers[: query.page_size]
    # Each person checked again with the caller's current links (one record per person); a dossier the caller may
    # no longer see is left out of the page, and that denial is recorded.
    # The guard may re-read a dossier that follows its person's SSIN change: the page's SSINs and cursor first.
    named = [(dossier, dossier.ssin) for dossier in dossiers]
    last = (dossiers[-1].updated_at, dossiers[-1].id) if dossiers else None
    granted = await guard.sift(
        [(ssin, str(dossier.id)) for dossier, ssin in named],
        Action.CONSULT_DOSSIER,
        operation=QUERY_DOSSIERS,
        resource_type=DOSSIER,
    )
    # A line under a replaced SSIN shows the person's current one; a dossier the guard merged into another of the
    # same person during this page is shown once, as the survivor (the absorbed one's id leads there).
    absorbed = identity.absorbed_here(session)
    items = [
        DossierSummary(
            id=dossier.id,
            status=dossier.status,
            ssin=granted[ssin].ssin,
            updated_at=dossier.updated_at,
            self_=f"{API_PREFIX}/dossiers/{dossier.id}",
        )
        for dossier, ssin in named
        if ssin in granted and dossier.id not in absorbed
    ]
    next_page = cursors.seal(*last, scope=scope) if more and last else None
    return DossierPage(items=items, self_=self_link, next=next_page)
