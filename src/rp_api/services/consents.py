"""Consent use cases (formulaire de consentement, deliberation 26/060 §63): record a consent the person gave, list
and read the dossier's consents, withdraw one; and :func:`require`, which the steps that need a consent call.

Every call goes through the person guard (one audit record per call; 404 before 403), then the table of
:mod:`rp_api.domain.consent` decides what the caller's roles may do (403). Recording or withdrawing a consent is a
change of the dossier: it restarts the dossier's retention clock and moves it up in ``dossiers/query``
(:func:`rp_api.repositories.dossiers.touch`). It is not a work item: nobody is addressed, no work list holds it and
the change feed tells nothing of it — those it concerns find out when a step that needs it is allowed or refused,
and read the dossier's consents when they may.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.person_guard import PersonGuard
from rp_api.domain import consent as rules
from rp_api.domain.actors import OrganisationType
from rp_api.domain.consent import ConsentAction, ConsentScope
from rp_api.domain.policy import Action
from rp_api.domain.principal import Principal
from rp_api.models.dossier import Consent, Dossier
from rp_api.problems import (
    INVALID_INPUT,
    BadRequest,
    ConsentRequired,
    InputIssue,
    MissingPermission,
    PreconditionFailed,
    ResourceNotFound,
    TransitionNotAllowed,
)
from rp_api.repositories import consents as repository
from rp_api.repositories import dossiers as dossier_repository
from rp_api.schemas.consent import ConsentIn, ConsentList, ConsentOut, RecordedBy
from rp_api.urls import API_PREFIX

CONSENT = "consent"
RECORD = "recordConsent"
LIST = "listConsents"
GET = "getConsent"
WITHDRAW = "withdrawConsent"


def names_recorders(principal: Principal, organisation: str | None) -> bool:
    """Whether the caller is told which organisation recorded (or withdrew) a consent: the insurer and INAMI, and
    that organisation itself. A prevention service sees no other prevention service, a regional service no
    prevention service (the visibility table): the recorder's identity would tell them of the person's employers."""
    return (
        organisation is None
        or organisation == principal.enterprise_number
        or (principal.organisation_type in (OrganisationType.INSURER, OrganisationType.INAMI))
    )


def view(consent: Consent, principal: Principal) -> ConsentOut:
    """A consent as the caller may see it: who recorded or withdrew it only as :func:`names_recorders` allows."""
    recorded_by = RecordedBy(enterprise_number=consent.recorded_by_organisation, role=consent.recorded_by_role)
    withdrawn_by = consent.withdrawn_by_organisation
    return ConsentOut(
        id=consent.id,
        dossier_id=consent.dossier_id,
        scope=ConsentScope(consent.scope),
        form_version=consent.form_version,
        given_on=consent.given_on,
        recorded_at=consent.recorded_at,
        recorded_by=recorded_by if names_recorders(principal, consent.recorded_by_organisation) else None,
        in_force=rules.in_force(consent.withdrawn_at),
        withdrawn_at=consent.withdrawn_at,
        withdrawn_by=withdrawn_by if names_recorders(principal, withdrawn_by) else None,
        self_=f"{API_PREFIX}/consents/{consent.id}",
    )


_REFUSED = {
    ConsentAction.READ: "Your role may not read consents",
    ConsentAction.WITHDRAW: "Your role may not withdraw a consent",
    ConsentAction.RECORD: "Your role may not record a consent",
}


def _allow(guard: PersonGuard, action: ConsentAction) -> None:
    """403 unless one of the caller's roles may do this with the dossier's consents (:data:`rules.WHO_MAY`)."""
    principal = guard.principal
    if not rules.may(action, principal.organisation_type, principal.roles):
        raise MissingPermission(_REFUSED[action])


async def record(
    session: AsyncSession, guard: PersonGuard, dossier: Dossier, body: ConsentIn, *, lang: str, now: datetime
) -> Consent:
    """Record a consent the person gave: 400 for a form signed after today (before the person is looked up), the
    person guard (404), the caller's roles (403), 409 when a consent of this scope is in force already (withdraw it
    first: one consent in force per scope, so that a withdrawal stops what it allowed)."""
    if not rules.given_on_allowed(body.given_on, now):
        raise BadRequest(
            [InputIssue(INVALID_INPUT, "The consent cannot be given after today", None, "body", "givenOn")]
        )
    access = await guard(dossier.ssin, Action.CONTRIBUTE_TO_DOSSIER, operation=RECORD, resource_type=CONSENT)
    principal = guard.principal
    role = rules.recording_role(principal.organisation_type, principal.roles)
    if role is None:
        raise MissingPermission(_REFUSED[ConsentAction.RECORD])
    await repository.lock_dossier(session, dossier.id)
    if await repository.in_force(session, dossier.id, body.scope) is not None:
        raise TransitionNotAllowed("A consent of this scope is in force already", lang=lang)
    consent = await repository.add(
        session,
        Consent(
            id=uuid.uuid4(),
            dossier_id=dossier.id,
            scope=body.scope,
            form_version=body.form_version,
            given_on=body.given_on,
            recorded_at=now,
            recorded_by_organisation=principal.enterprise_number,
            recorded_by_role=role,
        ),
    )
    guard.names(access, resource_id=str(consent.id))
    await dossier_repository.join(session, dossier.id, principal.enterprise_number)
    await dossier_repository.touch(session, dossier.id)
    return consent


async def of_dossier(session: AsyncSession, guard: PersonGuard, dossier: Dossier) -> ConsentList:
    await guard(
        dossier.ssin, Action.CONSULT_DOSSIER, operation=LIST, resource_type="dossier", resource_id=str(dossier.id)
    )
    _allow(guard, ConsentAction.READ)
    return ConsentList(
        items=[view(consent, guard.principal) for consent in await repository.of_dossier(session, dossier.id)],
        self_=f"{API_PREFIX}/dossiers/{dossier.id}/consents",
    )


async def load(
    session: AsyncSession,
    guard: PersonGuard,
    consent_id: uuid.UUID,
    *,
    operation: str,
    to: ConsentAction = ConsentAction.READ,
) -> tuple[Consent, Dossier]:
    """The consent, for a caller linked to its person (the person guard, audited; 404 first) whose roles may do
    ``to`` with it (403)."""
    consent = await repository.get(session, consent_id)
    if consent is None:
        raise ResourceNotFound()
    dossier = await dossier_repository.get(session, consent.dossier_id)
    assert dossier is not None  # the consent goes with its dossier (ON DELETE CASCADE)
    action = Action.CONSULT_DOSSIER if to is ConsentAction.READ else Action.CONTRIBUTE_TO_DOSSIER
    await guard(dossier.ssin, action, operation=operation, resource_type=CONSENT, resource_id=str(consent.id))
    _allow(guard, to)
    return consent, dossier


async def withdraw(
    session: AsyncSession, guard: PersonGuard, consent: Consent, dossier: Dossier, *, lang: str
) -> Consent:
    """Record the person's withdrawal (``If-Match`` checked against the version read): 409 when it is withdrawn
    already, 412 when it changed meanwhile (a concurrent withdrawal: one wins)."""
    if not rules.in_force(consent.withdrawn_at):
        raise TransitionNotAllowed("The consent is withdrawn already", lang=lang)
    withdrawn = await repository.withdraw(
        session, consent.id, version=consent.version, organisation=guard.principal.enterprise_number
    )
    if withdrawn is None:
        raise PreconditionFailed(lang=lang)
    await dossier_repository.touch(session, dossier.id)
    return withdrawn


async def require(session: AsyncSession, dossier_id: uuid.UUID, scope: ConsentScope | None, *, lang: str) -> None:
    """For a step that needs a consent (``scope``; None: it needs none), after the person guard: 409
    ``consentRequired`` unless a consent of that scope is in force on the dossier. The consent is held until the
    transaction ends, so that a withdrawal is ordered after the step it allowed, never in the middle of it."""
    if scope is None:
        return
    if await repository.in_force(session, dossier_id, scope, hold=True) is None:
        raise ConsentRequired(scope, lang=lang)
