"""Registration form use cases: create, read, list, update while draft, submit, cancel, target-group decision."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.authz.person_guard import PersonGuard
from rp_api.authz.principal import Principal
from rp_api.domain import consent as consent_rules
from rp_api.domain import forms as rules
from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.forms import FormAction, FormStatus, Routing
from rp_api.domain.policy import Action
from rp_api.domain.visibility import Block, Read, may_write, read_level, viewers_of, write_refusal
from rp_api.models.dossier import Dossier
from rp_api.models.registration_form import RegistrationForm
from rp_api.preconditions import flush_or_precondition_failed
from rp_api.problems import (
    INVALID_INPUT,
    BadRequest,
    FormNotDraft,
    InputIssue,
    MissingPermission,
    ResourceNotFound,
    TransitionNotAllowed,
)
from rp_api.repositories import dossiers as dossier_repository
from rp_api.repositories import registration_forms as form_repository
from rp_api.schemas.registration_form import FormContent, RegistrationFormOut, TargetGroupDecisionIn
from rp_api.services import consents, routing
from rp_api.services.views import form_view

FORM = "registrationForm"


def view(guard: PersonGuard, form: RegistrationForm) -> RegistrationFormOut:
    principal = guard.principal
    return form_view(form, viewers_of(principal.organisation_type, principal.roles), today=datetime.now(UTC).date())


_CONTENT_FIELDS: tuple[tuple[Block, str, str], ...] = (
    (Block.FORM_EXPECTATIONS, "expectations", "expectations"),
    (Block.FORM_WORK_PROBLEMS, "workProblems", "work_problems"),
    (Block.FORM_INCAPACITY_START_DATE, "incapacityStartDate", "incapacity_start_date"),
    (Block.FORM_INSURER_CONTACTS, "insurerContacts", "insurer_contacts"),
    (Block.FORM_OCCUPATIONAL_PHYSICIAN_NAME, "occupationalPhysicianName", "occupational_physician_name"),
    (Block.FORM_QUESTION_EXPECTATIONS, "physicianQuestion.expectations", "question_expectations"),
    (
        Block.FORM_QUESTION_FUNCTIONAL_CAPACITIES,
        "physicianQuestion.functionalCapacities",
        "question_functional_capacities",
    ),
)
"""Each field of a form's content: its block in the visibility table, its name in the body, its column."""


def _sent(content: FormContent) -> dict[Block, Any]:
    """The content's values by block (None: not sent)."""
    question = content.physician_question
    contacts = content.insurer_contacts
    return {
        Block.FORM_EXPECTATIONS: content.expectations,
        Block.FORM_WORK_PROBLEMS: content.work_problems,
        Block.FORM_INCAPACITY_START_DATE: content.incapacity_start_date,
        Block.FORM_INSURER_CONTACTS: contacts.model_dump(mode="json", exclude_none=True) if contacts else None,
        Block.FORM_OCCUPATIONAL_PHYSICIAN_NAME: content.occupational_physician_name,
        Block.FORM_QUESTION_EXPECTATIONS: question.expectations if question else None,
        Block.FORM_QUESTION_FUNCTIONAL_CAPACITIES: question.functional_capacities if question else None,
    }


def _apply(form: RegistrationForm, content: FormContent) -> None:
    """Write the content the caller sent (the whole content: a field left out is emptied), but the fields its roles
    may not write (the visibility table: health data by physicians only): sending one is 400 naming it, and nothing
    is written; leaving it out keeps what the form holds (a coordinator's PUT leaves the physician's functional
    capacities as they are)."""
    writer = content.writer
    sent = _sent(content)
    issues = []
    writable: set[Block] = set()
    for block, name, _ in _CONTENT_FIELDS:
        if writer is not None and may_write(block, *writer):
            writable.add(block)
        elif sent[block] is not None:
            reason = write_refusal(block, *writer) if writer is not None else None
            issues.append(InputIssue(INVALID_INPUT, "Your role may not write this field", reason, "body", name))
    if (
        Block.FORM_OCCUPATIONAL_PHYSICIAN_NAME in writable
        and sent[Block.FORM_OCCUPATIONAL_PHYSICIAN_NAME] is not None
        and Role(form.created_by_role) is not Role.OCCUPATIONAL_PHYSICIAN
    ):
        issues.append(
            InputIssue(
                INVALID_INPUT,
                "Only on a form created by an occupational physician",
                None,
                "body",
                "occupationalPhysicianName",
            )
        )
    if issues:
        raise BadRequest(issues)
    for block, _, column in _CONTENT_FIELDS:
        if block in writable:
            value = sent[block]
            setattr(form, column, {} if block is Block.FORM_INSURER_CONTACTS and value is None else value)
        elif block is Block.FORM_INSURER_CONTACTS and form.insurer_contacts is None:
            form.insurer_contacts = {}
    form.updated_at = datetime.now(UTC)


async def create(
    session: AsyncSession,
    guard: PersonGuard,
    registry: OrganisationRegistry,
    dossier: Dossier,
    content: FormContent,
    *,
    lang: str = "en",
) -> RegistrationForm:
    """A draft form. The occupational physician's form is its contact with the employment partner: refused (409
    ``consentRequired``) until the person's consent is in force on the dossier (deliberation 26/060 §63)."""
    principal = guard.principal
    access = await guard(
        dossier.ssin, Action.CONTRIBUTE_TO_DOSSIER, operation="createRegistrationForm", resource_type=FORM
    )
    creator_roles = principal.roles & rules.CREATOR_ROLES.get(principal.organisation_type, frozenset())
    if not creator_roles:
        raise MissingPermission("Your role may not create a registration form")
    scope = consent_rules.needed(consent_rules.Contact.REGISTRATION_FORM, principal.organisation_type)
    await consents.require(session, dossier.id, scope, lang=lang)
    form = RegistrationForm(
        id=uuid.uuid4(),
        dossier_id=dossier.id,
        routing=rules.routing_for(principal.organisation_type),
        status=FormStatus.DRAFT,
        created_by_organisation=principal.enterprise_number,
        created_by_type=principal.organisation_type,
        created_by_role=sorted(creator_roles)[0],
    )
    _apply(form, content)
    form = await form_repository.add(session, form)
    guard.names(access, resource_id=str(form.id))
    await routing.route_form(session, guard, registry, form, dossier.ssin, kind=None)
    await dossier_repository.touch(session, dossier.id, new_item=True)
    return form


async def load_readable(
    session: AsyncSession, guard: PersonGuard, form_id: uuid.UUID, *, action: Action, operation: str
) -> tuple[RegistrationForm, Dossier]:
    """The form, if the caller may see it: the person guard first (audited), then the form's own rule."""
    form = await form_repository.get(session, form_id)
    if form is None:
        raise ResourceNotFound()
    dossier = await dossier_repository.get(session, form.dossier_id)
    assert dossier is not None
    await guard(dossier.ssin, action, operation=operation, resource_type=FORM, resource_id=str(form.id))
    if not readable_by(form, guard.principal):
        raise ResourceNotFound()
    return form, dossier


async def change(
    session: AsyncSession,
    guard: PersonGuard,
    registry: OrganisationRegistry,
    form: RegistrationForm,
    dossier: Dossier,
    action: FormAction,
    *,
    lang: str,
    content: FormContent | None = None,
    decision: TargetGroupDecisionIn | None = None,
) -> RegistrationForm:
    principal = guard.principal
    is_creator = form.created_by_organisation == principal.enterprise_number
    if not rules.may_act(
        action, organisation_type=principal.organisation_type, roles=principal.roles, is_creator=is_creator
    ):
        raise MissingPermission()
    status = FormStatus(form.status)
    target = rules.next_status(
        action, status, Routing(form.routing), in_target_group=decision.in_target_group if decision else None
    )
    if target is None:
        problem = FormNotDraft if action is FormAction.UPDATE else TransitionNotAllowed
        raise problem(f"{action} is not possible on a form that is {status}", lang=lang)
    if action is FormAction.SUBMIT:  # a submitted form reaches the regional services: the consent must still hold
        creator = OrganisationType(form.created_by_type)
        await consents.require(
            session, dossier.id, consent_rules.needed(consent_rules.Contact.REGISTRATION_FORM, creator), lang=lang
        )
    now = datetime.now(UTC)
    if content is not None:
        _apply(form, content)
    if decision is not None:
        form.in_target_group = decision.in_target_group
        form.target_group_motivation = decision.motivation
        form.target_group_decided_by = principal.enterprise_number
        form.target_group_decided_at = now
    if target is not status:
        form.status = target
        if target in (FormStatus.SUBMITTED, FormStatus.AWAITING_TARGET_GROUP_DECISION) and form.submitted_at is None:
            form.submitted_at = now
    form.updated_at = now
    await flush_or_precondition_failed(session, lang=lang)
    await dossier_repository.touch(session, dossier.id)
    if action is not FormAction.UPDATE:
        kind = routing.FORM_CHANGED if action is FormAction.CANCEL else routing.FORM_VISIBLE
        await routing.route_form(session, guard, registry, form, dossier.ssin, kind=kind)
    return form


def readable_by(form: RegistrationForm, principal: Principal) -> bool:
    """Whether the caller may read the form at all: the visibility table's ``form`` block for its roles (a
    prevention service only the forms it took part in: those it created), then the form's own rule by state (a
    draft is its creator's; a regional service reads valid forms and its own)."""
    is_creator = form.created_by_organisation == principal.enterprise_number
    match read_level(Block.FORM, viewers_of(principal.organisation_type, principal.roles)):
        case Read.NO:
            return False
        case Read.TAKEN_PART if not is_creator:
            return False
    return rules.may_read(FormStatus(form.status), organisation_type=principal.organisation_type, is_creator=is_creator)


def readable(guard: PersonGuard, forms: list[RegistrationForm]) -> list[RegistrationFormOut]:
    """The forms the caller may read, as it may see them (its access to the person is checked already)."""
    return [view(guard, form) for form in forms if readable_by(form, guard.principal)]


async def readable_of(session: AsyncSession, guard: PersonGuard, dossier: Dossier) -> list[RegistrationFormOut]:
    await guard(
        dossier.ssin,
        Action.CONSULT_DOSSIER,
        operation="listRegistrationForms",
        resource_type="dossier",
        resource_id=str(dossier.id),
    )
    return readable(guard, await form_repository.of_dossier(session, dossier.id))
