"""Data minimisation (deliberation CSI/CSSS n° 26/060): one table says, for every organisation type, every role and
every data block of a dossier, a registration form or a request, what the role may READ and what it may WRITE, each
cell with its reason. Pure data and pure functions, no I/O.

Reading has four levels (:class:`Read`): nothing; the block; only the part of it through which the caller's
organisation is linked to the person (a prevention service: the employer(s) affiliated to it and that link; a
regional service: its own registration); only the forms and requests the organisation took part in (a prevention
service: the forms its occupational physician created and the requests made on them). Writing is yes or no
(:class:`Write`); health data is written by physicians only (médecin-conseil, médecin du travail, médecin inspecteur),
and read by physicians and those working under them — save the physician's question, whose addressee is the
regional partner (§52 vi).

The views (:mod:`rp_api.services.views`, the request and form services) apply the READ cells; the form and request
services refuse a WRITE the table does not give (400 naming the field, or 403 for an action); the README's table
and the OpenAPI descriptions of the response fields are generated from it (:func:`markdown`, :func:`readers_text`).
Deny by default: a block or a role missing from the table is read and written by nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role

T, R = OrganisationType, Role


class Block(StrEnum):
    """A data block: what the table gives or withholds as a whole. The value is the block's name in the answers
    (``<resource>.<field>``)."""

    DOSSIER_PERSON = "dossier.person"
    """The insured person: SSIN, name, deceased (National Register)."""
    DOSSIER_INSURER = "dossier.insurer"
    """The person's insurer (MemberData)."""
    DOSSIER_EMPLOYERS = "dossier.employers"
    """The person's employers (Dimona) and their prevention services (SEED-Connect)."""
    DOSSIER_REGIONAL_SERVICES = "dossier.regionalServices"
    """The regional services where the person is registered, with the registration dates (JobSeeker)."""
    DOSSIER_TRIO = "dossier.trioDossierExists"
    """Whether the person has a dossier on TRIO."""
    FORM = "form"
    """Which registration forms, and their frame: id, routing, status, creator, dates."""
    FORM_EXPECTATIONS = "form.expectations"
    FORM_WORK_PROBLEMS = "form.workProblems"
    FORM_INCAPACITY_START_DATE = "form.incapacityStartDate"
    FORM_INCAPACITY_AT_LEAST_ONE_YEAR = "form.incapacityAtLeastOneYear"
    FORM_INSURER_CONTACTS = "form.insurerContacts"
    FORM_TARGET_GROUP_DECISION = "form.targetGroupDecision"
    FORM_OCCUPATIONAL_PHYSICIAN_NAME = "form.occupationalPhysicianName"
    FORM_QUESTION_EXPECTATIONS = "form.physicianQuestion.expectations"
    FORM_QUESTION_FUNCTIONAL_CAPACITIES = "form.physicianQuestion.functionalCapacities"
    REQUEST = "request"
    """Which requests, and their frame: id, type, status, requester, registration form, dates."""
    REQUEST_CONTENT = "request.content"
    """The training project, the trainings (provider, title, dates, hours), the contacts."""
    REQUEST_COSTS = "request.costs"
    """Each training's cost, the request's total cost, the amount INAMI approved."""
    REQUEST_INSURER_VALIDATION = "request.insurerValidation"
    """The insurer's validation (validation par l'OA): validated, motivation, when."""
    REQUEST_DECISION = "request.decision"
    """INAMI's decision: outcome, week, period, when."""
    REQUEST_DECISION_MOTIVATION = "request.decisionMotivation"
    """INAMI's motivation of its decision."""
    REQUEST_MEDICAL_INFORMATION = "request.medicalInformation"
    REQUEST_MEDICAL_ADVICE = "request.medicalAdvice"
    REQUEST_MEDICAL_CONCLUSION = "request.medicalConclusion"
    """The medical inspector's non-medical conclusion (compatible, not compatible, compatible with conditions) and
    remarks, for the social expert."""


class Read(StrEnum):
    NO = "no"
    YES = "yes"
    OWN_LINK = "ownLink"
    """Only the part through which the caller's organisation is linked to the person."""
    TAKEN_PART = "takenPart"
    """Only the forms and requests the caller's organisation took part in."""


class Write(StrEnum):
    NO = "no"
    YES = "yes"


L = TypeVar("L", Read, Write)


@dataclass(frozen=True)
class Cell(Generic[L]):
    """One cell of the table: the level and why (the deliberation's paragraph, or the rule by name)."""

    level: L
    reason: str


@dataclass(frozen=True)
class Rule(Generic[L]):
    """One organisation type's cells for one block: the roles given a level and why, and why the others are not."""

    grants: Mapping[Role, L]
    why: str
    why_not: str = ""


# Who's who.
INSURER_WORKING = frozenset(
    {R.MEDICAL_ADVISOR, R.MULTIDISCIPLINARY_TEAM, R.RETURN_TO_WORK_COORDINATOR, R.ADMINISTRATIVE}
)
INSURER_MEDICAL = frozenset({R.MEDICAL_ADVISOR, R.MULTIDISCIPLINARY_TEAM})
PREVENTION_WORKING = frozenset({R.OCCUPATIONAL_PHYSICIAN, R.NURSE, R.MEDICAL_SECRETARIAT, R.ADMINISTRATIVE})
PREVENTION_MEDICAL = frozenset({R.OCCUPATIONAL_PHYSICIAN, R.NURSE, R.MEDICAL_SECRETARIAT})
INAMI_WORKING = frozenset({R.SOCIAL_EXPERT, R.MEDICAL_INSPECTOR})
WRITING_PHYSICIANS = frozenset({R.MEDICAL_ADVISOR, R.OCCUPATIONAL_PHYSICIAN, R.MEDICAL_INSPECTOR})
"""The physicians who write health data (the médecin-conseil, the médecin du travail, the médecin inspecteur); those
working under them (multidisciplinary team, nurse, medical secretariat) read it and write none."""

AUDIT_ONLY = "audit-only role: reads the audit log, no dossier (who accessed what needs none)"
LISTS_ONLY = "26/060 §48: the list manager reads the decision and hours lists, nothing else"
HEALTH_READ = "health data: physicians and those working under them only"
HEALTH_WRITE = "health data: written by physicians only (médecin-conseil, médecin du travail, médecin inspecteur)"
FROM_SOURCE = "from an authentic source, never written through API RP"
ONLY_TAKEN_PART = "26/060 §52: a prevention service reads only the forms and requests it took part in"


def _yes(roles: Iterable[Role], why: str, why_not: str = "") -> Rule[Read]:
    return Rule(dict.fromkeys(roles, Read.YES), why, why_not)


def _scoped(roles: Iterable[Role], level: Read, why: str) -> Rule[Read]:
    return Rule(dict.fromkeys(roles, level), why)


def _no(why_not: str) -> Rule[Read]:
    return Rule({}, "", why_not)


def _writes(roles: Iterable[Role], why: str, why_not: str = "") -> Rule[Write]:
    return Rule(dict.fromkeys(roles, Write.YES), why, why_not)


def _writes_none(why_not: str) -> Rule[Write]:
    return Rule({}, "", why_not)


# ---------------------------------------------------------------------------------------------------------- READ
FORM_CONTENT = "26/060 §52: the registration form's content, for its addressees"
_FORM_FIELD_READERS: dict[OrganisationType, Rule[Read]] = {
    T.INSURER: _yes(INSURER_WORKING, FORM_CONTENT),
    T.REGIONAL_SERVICE: _yes({R.REFERENCE_ADVISOR}, FORM_CONTENT),
    T.PREVENTION_SERVICE: _yes(PREVENTION_WORKING, f"{FORM_CONTENT} (its own forms)"),
    T.INAMI: _yes(INAMI_WORKING, f"{FORM_CONTENT}: INAMI decides the requests made on it"),
}

READ_RULES: dict[Block, dict[OrganisationType, Rule[Read]]] = {
    Block.DOSSIER_PERSON: {
        T.INSURER: _yes(INSURER_WORKING, "the insurer's member the exchanges are about (legal basis, 26/060 §15–25)"),
        T.REGIONAL_SERVICE: _yes({R.REFERENCE_ADVISOR}, "the person registered with it (legal basis, 26/060 §15–25)"),
        T.PREVENTION_SERVICE: _yes(
            PREVENTION_WORKING, "a worker of an employer affiliated to it (legal basis, 26/060 §15–25)"
        ),
        T.INAMI: _yes(INAMI_WORKING, "INAMI's mission (legal basis, 26/060 §15–25)"),
    },
    Block.DOSSIER_INSURER: {
        T.INSURER: _yes(INSURER_WORKING, "its own affiliate (MemberData)"),
        T.REGIONAL_SERVICE: _yes(
            {R.REFERENCE_ADVISOR},
            "26/060 §52: the partner works with the person's insurer (its contacts, its validation, routing C)",
        ),
        T.PREVENTION_SERVICE: _yes(
            PREVENTION_MEDICAL,
            "the occupational physician's form goes to the insurer; the physicians concert on the return to work",
            "26/060 §52: an administrative of a prevention service needs its own employer link only",
        ),
        T.INAMI: _yes(INAMI_WORKING, "INAMI's mission: it decides with the insurer's validation"),
    },
    Block.DOSSIER_EMPLOYERS: {
        T.INSURER: _yes(INSURER_WORKING, "the insurer guides the return to work, with or through the employers"),
        T.REGIONAL_SERVICE: _no("26/060 §52: the regional partner gets the form's content, not the employers"),
        T.PREVENTION_SERVICE: _scoped(
            PREVENTION_WORKING,
            Read.OWN_LINK,
            "26/060 §52: only the employer(s) through which it is linked, and that link",
        ),
        T.INAMI: _yes(INAMI_WORKING, "INAMI's mission: control of the return-to-work path"),
    },
    Block.DOSSIER_REGIONAL_SERVICES: {
        T.INSURER: _yes(
            INSURER_WORKING, "the insurer's forms go to the regional services where the person is registered"
        ),
        T.REGIONAL_SERVICE: _scoped(
            {R.REFERENCE_ADVISOR},
            Read.OWN_LINK,
            "26/060 §52: its own registration of the person (JobSeeker), not the person's other regional services",
        ),
        T.PREVENTION_SERVICE: _no("26/060 §52: not the regional registrations nor their dates"),
        T.INAMI: _yes(INAMI_WORKING, "INAMI's mission: control of the return-to-work path"),
    },
    Block.DOSSIER_TRIO: {
        T.INSURER: _yes(
            INSURER_MEDICAL,
            "26/060 §8: TRIO is the physicians' platform; its users are told a TRIO dossier exists",
            "26/060 §8: not a user of TRIO",
        ),
        T.PREVENTION_SERVICE: _yes(
            PREVENTION_MEDICAL,
            "26/060 §8: TRIO is the physicians' platform; its users are told a TRIO dossier exists",
            "26/060 §8: not a user of TRIO",
        ),
        T.REGIONAL_SERVICE: _no("26/060 §8: only users of both platforms (insurers, prevention services)"),
        T.INAMI: _no("26/060 §8: only users of both platforms (insurers, prevention services)"),
    },
    Block.FORM: {
        T.INSURER: _yes(INSURER_WORKING, "the person's insurer is an addressee of every form (a draft: its creator's)"),
        T.REGIONAL_SERVICE: _yes(
            {R.REFERENCE_ADVISOR}, "26/060 §52: the valid forms of persons registered with it, and its routing C forms"
        ),
        T.PREVENTION_SERVICE: _scoped(PREVENTION_WORKING, Read.TAKEN_PART, ONLY_TAKEN_PART),
        T.INAMI: _yes(INAMI_WORKING, "INAMI decides the requests made on the forms"),
    },
    Block.FORM_EXPECTATIONS: _FORM_FIELD_READERS,
    Block.FORM_WORK_PROBLEMS: _FORM_FIELD_READERS,
    Block.FORM_INSURER_CONTACTS: _FORM_FIELD_READERS,
    Block.FORM_OCCUPATIONAL_PHYSICIAN_NAME: _FORM_FIELD_READERS,
    Block.FORM_QUESTION_EXPECTATIONS: _FORM_FIELD_READERS,
    Block.FORM_INCAPACITY_AT_LEAST_ONE_YEAR: {
        **_FORM_FIELD_READERS,
        T.REGIONAL_SERVICE: _yes(
            {R.REFERENCE_ADVISOR}, "26/060 §52 ii: whether the incapacity has lasted at least one year"
        ),
    },
    Block.FORM_INCAPACITY_START_DATE: {
        T.INSURER: _yes(INSURER_WORKING, "the insurer manages the incapacity it indemnifies"),
        T.REGIONAL_SERVICE: _no("26/060 §52 ii: whether the incapacity lasted at least one year, never its start date"),
        T.PREVENTION_SERVICE: _yes(PREVENTION_MEDICAL, HEALTH_READ, HEALTH_READ),
        T.INAMI: _yes(INAMI_WORKING, "INAMI rules on the incapacity (its mission)"),
    },
    Block.FORM_TARGET_GROUP_DECISION: {
        T.INSURER: _yes(INSURER_WORKING, "routing C: the insurer's own decision"),
        T.REGIONAL_SERVICE: _yes({R.REFERENCE_ADVISOR}, "routing C: the decision on the partner's own form"),
        T.PREVENTION_SERVICE: _no("routing C is between the regional partner and the insurer"),
        T.INAMI: _yes(INAMI_WORKING, "INAMI decides the requests made on the form"),
    },
    Block.FORM_QUESTION_FUNCTIONAL_CAPACITIES: {
        T.INSURER: _yes(INSURER_MEDICAL, HEALTH_READ, HEALTH_READ),
        T.REGIONAL_SERVICE: _yes(
            {R.REFERENCE_ADVISOR},
            "26/060 §52 vi: the addressee of the physician's question (expectations, functional capacities)",
        ),
        T.PREVENTION_SERVICE: _yes(PREVENTION_MEDICAL, HEALTH_READ, HEALTH_READ),
        T.INAMI: _yes({R.MEDICAL_INSPECTOR}, HEALTH_READ, HEALTH_READ),
    },
    Block.REQUEST: {
        T.INSURER: _yes(INSURER_WORKING, "the person's insurer is an addressee of every request (validation par l'OA)"),
        T.REGIONAL_SERVICE: _yes(
            {R.REFERENCE_ADVISOR}, "an addressee of the requests of persons registered with it (it asks, it reports)"
        ),
        T.PREVENTION_SERVICE: _scoped(PREVENTION_WORKING, Read.TAKEN_PART, ONLY_TAKEN_PART),
        T.INAMI: _yes(INAMI_WORKING, "INAMI decides every request"),
    },
    Block.REQUEST_CONTENT: {
        T.INSURER: _yes(INSURER_WORKING, "the insurer validates and follows the path"),
        T.REGIONAL_SERVICE: _yes({R.REFERENCE_ADVISOR}, "the partner asks and runs the training or coaching"),
        T.PREVENTION_SERVICE: _yes(PREVENTION_WORKING, "the path its worker follows, on its own form"),
        T.INAMI: _yes(INAMI_WORKING, "INAMI decides the request"),
    },
    Block.REQUEST_COSTS: {
        T.INSURER: _yes(INSURER_WORKING, "the insurer validates training requests and their costs"),
        T.REGIONAL_SERVICE: _yes({R.REFERENCE_ADVISOR}, "the partner's own training offer"),
        T.PREVENTION_SERVICE: _no("26/060 §52: the costs are between the regional partner, the insurer and INAMI"),
        T.INAMI: _yes(INAMI_WORKING, "INAMI decides and funds the path"),
    },
    Block.REQUEST_INSURER_VALIDATION: {
        T.INSURER: _yes(INSURER_WORKING, "the insurer's own validation"),
        T.REGIONAL_SERVICE: _yes({R.REFERENCE_ADVISOR}, "the validation of the partner's training request"),
        T.PREVENTION_SERVICE: _no("26/060 §52: the validation is between the regional partner and the insurer"),
        T.INAMI: _yes(INAMI_WORKING, "a validated request comes to INAMI"),
    },
    Block.REQUEST_DECISION: {
        T.INSURER: _yes(INSURER_WORKING, "the decision on its member's path"),
        T.REGIONAL_SERVICE: _yes({R.REFERENCE_ADVISOR}, "the decision on the path it runs"),
        T.PREVENTION_SERVICE: _yes(PREVENTION_WORKING, "the outcome of the request made on its own form"),
        T.INAMI: _yes(INAMI_WORKING, "INAMI's own decision"),
    },
    Block.REQUEST_DECISION_MOTIVATION: {
        T.INSURER: _yes(INSURER_WORKING, "the decision on its member's path, motivated"),
        T.REGIONAL_SERVICE: _yes({R.REFERENCE_ADVISOR}, "the decision on the path it runs, motivated"),
        T.PREVENTION_SERVICE: _no("26/060 §52: INAMI motivates its decision to the requester and the insurer"),
        T.INAMI: _yes(INAMI_WORKING, "INAMI's own decision"),
    },
    Block.REQUEST_MEDICAL_INFORMATION: {
        T.INSURER: _yes(INSURER_MEDICAL, f"{HEALTH_READ} (26/060 §49–50)", HEALTH_READ),
        T.INAMI: _yes(
            {R.MEDICAL_INSPECTOR},
            "26/060 §49–50: written for INAMI's medical inspector",
            "26/060 §49–50: health data; the social expert gets the medical conclusion",
        ),
        T.REGIONAL_SERVICE: _no("26/060 §49–50: health data for INAMI's medical inspector"),
        T.PREVENTION_SERVICE: _no("26/060 §49–50: health data for INAMI's medical inspector"),
    },
    Block.REQUEST_MEDICAL_ADVICE: {
        T.INSURER: _yes(INSURER_MEDICAL, f"{HEALTH_READ}: the advice on their member (26/060 §49–50)", HEALTH_READ),
        T.INAMI: _yes(
            {R.MEDICAL_INSPECTOR},
            "26/060 §49–50: the medical inspector's own advice",
            "26/060 §49–50: health data; the social expert gets the medical conclusion",
        ),
        T.REGIONAL_SERVICE: _no("26/060 §49–50: health data, between physicians"),
        T.PREVENTION_SERVICE: _no("26/060 §49–50: health data, between physicians"),
    },
    Block.REQUEST_MEDICAL_CONCLUSION: {
        T.INAMI: _yes(
            INAMI_WORKING,
            "26/060 §49–50: the social expert asked for the advice; its non-medical conclusion is what it decides with",
        ),
        T.INSURER: _yes(
            INSURER_MEDICAL,
            "26/060 §49–50: its physicians read the advice the conclusion sums up",
            "26/060 §49–50: the parties learn INAMI's decision and its motivation, not the steps before it",
        ),
        T.REGIONAL_SERVICE: _no(
            "26/060 §49–50: the parties learn INAMI's decision and its motivation, not the steps before it"
        ),
        T.PREVENTION_SERVICE: _no(
            "26/060 §49–50: the parties learn INAMI's decision and its motivation, not the steps before it"
        ),
    },
}
"""Block → organisation type → who reads it and why (the cells are :data:`READ`)."""

# --------------------------------------------------------------------------------------------------------- WRITE
FORM_CREATORS: dict[OrganisationType, Rule[Write]] = {
    T.INSURER: _writes(INSURER_WORKING, "26/060 §52: the insurer fills the registration form in (standard route)"),
    T.PREVENTION_SERVICE: _writes(
        {R.OCCUPATIONAL_PHYSICIAN},
        "26/060 §52: the occupational physician's form",
        "only the occupational physician fills a form in",
    ),
    T.REGIONAL_SERVICE: _writes({R.REFERENCE_ADVISOR}, "26/060 §52: routing C, the partner starts the form"),
    T.INAMI: _writes_none("INAMI creates no registration form"),
}
_HEALTH_ON_FORMS: dict[OrganisationType, Rule[Write]] = {
    T.INSURER: _writes({R.MEDICAL_ADVISOR}, HEALTH_WRITE, HEALTH_WRITE),
    T.PREVENTION_SERVICE: _writes({R.OCCUPATIONAL_PHYSICIAN}, HEALTH_WRITE, HEALTH_WRITE),
    T.REGIONAL_SERVICE: _writes_none(HEALTH_WRITE),
    T.INAMI: _writes_none("INAMI creates no registration form"),
}
_REQUESTERS: dict[OrganisationType, Rule[Write]] = {
    T.REGIONAL_SERVICE: _writes({R.REFERENCE_ADVISOR}, "the partner asks on a valid registration form"),
    T.INSURER: _writes(
        {R.MEDICAL_ADVISOR, R.RETURN_TO_WORK_COORDINATOR},
        "the insurer asks without a form",
        "the médecin-conseil or the return-to-work coordinator asks",
    ),
}
_NOT_WRITTEN = "written by nobody: computed from the incapacity start date"

WRITE_RULES: dict[Block, dict[OrganisationType, Rule[Write]]] = {
    **{
        block: {organisation_type: _writes_none(FROM_SOURCE) for organisation_type in T}
        for block in (
            Block.DOSSIER_PERSON,
            Block.DOSSIER_INSURER,
            Block.DOSSIER_EMPLOYERS,
            Block.DOSSIER_REGIONAL_SERVICES,
            Block.DOSSIER_TRIO,
        )
    },
    Block.FORM: FORM_CREATORS,
    Block.FORM_EXPECTATIONS: FORM_CREATORS,
    Block.FORM_WORK_PROBLEMS: FORM_CREATORS,
    Block.FORM_INSURER_CONTACTS: FORM_CREATORS,
    Block.FORM_QUESTION_EXPECTATIONS: FORM_CREATORS,
    Block.FORM_INCAPACITY_START_DATE: _HEALTH_ON_FORMS,
    Block.FORM_QUESTION_FUNCTIONAL_CAPACITIES: _HEALTH_ON_FORMS,
    Block.FORM_INCAPACITY_AT_LEAST_ONE_YEAR: {organisation_type: _writes_none(_NOT_WRITTEN) for organisation_type in T},
    Block.FORM_OCCUPATIONAL_PHYSICIAN_NAME: {
        T.PREVENTION_SERVICE: _writes(
            {R.OCCUPATIONAL_PHYSICIAN},
            "the occupational physician names itself on its form",
            "only the occupational physician names itself",
        ),
    },
    Block.FORM_TARGET_GROUP_DECISION: {
        T.INSURER: _writes(
            {R.MEDICAL_ADVISOR, R.MULTIDISCIPLINARY_TEAM, R.RETURN_TO_WORK_COORDINATOR},
            "routing C: the insurer decides whether the person belongs to the target group",
            "an administrative does not decide the target group",
        ),
    },
    Block.REQUEST: _REQUESTERS,
    Block.REQUEST_CONTENT: _REQUESTERS,
    Block.REQUEST_COSTS: _REQUESTERS,
    Block.REQUEST_INSURER_VALIDATION: {
        T.INSURER: _writes(
            {R.MEDICAL_ADVISOR, R.RETURN_TO_WORK_COORDINATOR},
            "validation par l'OA of a regional partner's training request",
            "the médecin-conseil or the return-to-work coordinator validates",
        ),
    },
    Block.REQUEST_DECISION: {
        T.INAMI: _writes(
            {R.SOCIAL_EXPERT},
            "INAMI's social expert decides in the weekly round",
            "only the social expert decides",
        )
    },
    Block.REQUEST_DECISION_MOTIVATION: {
        T.INAMI: _writes(
            {R.SOCIAL_EXPERT},
            "INAMI's social expert motivates its decision",
            "only the social expert decides",
        )
    },
    Block.REQUEST_MEDICAL_INFORMATION: {
        T.INSURER: _writes(
            {R.MEDICAL_ADVISOR}, f"{HEALTH_WRITE}: for INAMI's medical inspector (26/060 §49–50)", HEALTH_WRITE
        ),
        T.INAMI: _writes_none(HEALTH_WRITE),
        T.REGIONAL_SERVICE: _writes_none(HEALTH_WRITE),
        T.PREVENTION_SERVICE: _writes_none(HEALTH_WRITE),
    },
    Block.REQUEST_MEDICAL_ADVICE: {
        T.INAMI: _writes({R.MEDICAL_INSPECTOR}, "26/060 §49–50: the medical inspector's advice", HEALTH_WRITE),
        T.INSURER: _writes_none(HEALTH_WRITE),
        T.REGIONAL_SERVICE: _writes_none(HEALTH_WRITE),
        T.PREVENTION_SERVICE: _writes_none(HEALTH_WRITE),
    },
    Block.REQUEST_MEDICAL_CONCLUSION: {
        T.INAMI: _writes(
            {R.MEDICAL_INSPECTOR},
            "26/060 §49–50: the medical inspector concludes its advice for the social expert",
            "26/060 §49–50: only the medical inspector concludes its advice",
        ),
    },
}
"""Block → organisation type → who writes it and why (the cells are :data:`WRITE`)."""

_NOBODY = "nobody of this organisation type"
Key = tuple[OrganisationType, Role, Block]


def _cells(rules: Mapping[Block, Mapping[OrganisationType, Rule[L]]], no: L) -> dict[Key, Cell[L]]:
    """Every (organisation type, role, block) with its cell: the rule's level and reason, or ``no`` with the reason
    the rule gives for the others (audit-only and list roles: theirs)."""
    cells: dict[Key, Cell[L]] = {}
    for block in Block:
        for organisation_type, roles in ROLES_BY_TYPE.items():
            rule = rules.get(block, {}).get(organisation_type)
            for role in roles:
                if rule is not None and role in rule.grants:
                    cell = Cell(rule.grants[role], rule.why)
                elif role is R.AUDITOR:
                    cell = Cell(no, AUDIT_ONLY)
                elif role is R.LIST_MANAGER:
                    cell = Cell(no, LISTS_ONLY)
                else:
                    cell = Cell(no, (rule.why_not if rule is not None else "") or _NOBODY)
                cells[organisation_type, role, block] = cell
    return cells


READ: dict[Key, Cell[Read]] = _cells(READ_RULES, Read.NO)
"""(organisation type, role, block) → what the role reads of the block, and why: every role of every type."""
WRITE: dict[Key, Cell[Write]] = _cells(WRITE_RULES, Write.NO)
"""(organisation type, role, block) → whether the role writes the block, and why: every role of every type."""

HEALTH_FIELDS = frozenset(
    {
        Block.FORM_INCAPACITY_START_DATE,
        Block.FORM_QUESTION_FUNCTIONAL_CAPACITIES,
        Block.REQUEST_MEDICAL_INFORMATION,
        Block.REQUEST_MEDICAL_ADVICE,
    }
)
"""Health data: written by physicians only, and never in a list line (decision, hours and work lists)."""


# ------------------------------------------------------------------------------------------------------ the viewer
@dataclass(frozen=True, order=True)
class Viewer:
    """One role of the caller, in its organisation type; a token's roles read together (the widest of their cells)."""

    organisation_type: OrganisationType
    role: Role


def viewers_of(organisation_type: OrganisationType, roles: Iterable[Role]) -> frozenset[Viewer]:
    return frozenset(Viewer(organisation_type, role) for role in roles)


def list_viewers(organisation_type: OrganisationType, roles: Iterable[Role]) -> frozenset[Viewer]:
    """Who reads the lines of a decision, hours or follow-up list: as :func:`viewers_of`, with the list manager
    reading them as its service's reference advisor does (26/060 §48: the lists are the list manager's work; it
    reads no dossier, so it has no cell of its own in the table)."""
    found = set(roles)
    if Role.LIST_MANAGER in found:
        found.add(Role.REFERENCE_ADVISOR)
    return viewers_of(organisation_type, found)


_RANK = {Read.NO: 0, Read.TAKEN_PART: 1, Read.OWN_LINK: 1, Read.YES: 2}
_BLOCKS = {block.value: block for block in Block}


def read_level(field: str, viewers: Iterable[Viewer]) -> Read:
    """What the viewers read of the block: the widest of their cells (nothing for an unknown block or role)."""
    block = _BLOCKS.get(field)
    found = Read.NO
    if block is None:
        return found
    for viewer in viewers:
        cell = READ.get((viewer.organisation_type, viewer.role, block))
        if cell is not None and _RANK[cell.level] > _RANK[found]:
            found = cell.level
    return found


def visible(field: str, viewers: Iterable[Viewer]) -> bool:
    """Whether the viewers read anything of the block (all of it, or the part of it a scope leaves them)."""
    return read_level(field, viewers) is not Read.NO


def may_write(block: Block, organisation_type: OrganisationType, roles: Iterable[Role]) -> bool:
    """Whether one of the caller's roles writes the block."""
    return any(
        (cell := WRITE.get((organisation_type, role, block))) is not None and cell.level is Write.YES for role in roles
    )


def write_refusal(block: Block, organisation_type: OrganisationType, roles: Iterable[Role]) -> str:
    """Why the caller's roles may not write the block (the reason of its first role's cell), for a refusal."""
    for role in sorted(roles, key=lambda r: r.value):
        cell = WRITE.get((organisation_type, role, block))
        if cell is not None:
            return cell.reason
    return _NOBODY


# --------------------------------------------------------------------------------------------- generated documents
TYPE_NAMES = {
    T.INSURER: "insurer",
    T.REGIONAL_SERVICE: "regional service",
    T.PREVENTION_SERVICE: "prevention service",
    T.INAMI: "INAMI",
}
_SCOPES = {Read.OWN_LINK: "its own link only", Read.TAKEN_PART: "what it took part in"}
_PARAGRAPH = re.compile(r"26/060 (§[0-9]+(?:–[0-9]+)?(?: [ivx]+)?)")


def _who(block: Block, table: Mapping[Key, Cell[Read]] | Mapping[Key, Cell[Write]]) -> str:
    """The roles a table gives the block, by organisation type (with the scope, if any); "nobody" when none."""
    by_type: dict[tuple[OrganisationType, str], list[str]] = {}
    for organisation_type, role in COLUMNS:
        level = table[organisation_type, role, block].level
        if level != Read.NO:
            by_type.setdefault((organisation_type, _SCOPES.get(Read(level), "")), []).append(role.value)
    parts = [
        f"{TYPE_NAMES[organisation_type]} ({', '.join(names)}{'; ' + scope if scope else ''})"
        for (organisation_type, scope), names in by_type.items()
    ]
    return "; ".join(parts) or "nobody"


def paragraphs(block: Block) -> list[str]:
    """The paragraphs of the deliberation that the block's cells cite, in order of first citation (but the reasons
    of the audit-only and list roles, the same for every block)."""
    found: list[str] = []
    reasons = [cell.reason for key, cell in READ.items() if key[2] is block]
    reasons += [cell.reason for key, cell in WRITE.items() if key[2] is block]
    for reason in (r for r in reasons if r not in (AUDIT_ONLY, LISTS_ONLY)):
        found += [paragraph for paragraph in _PARAGRAPH.findall(reason) if paragraph not in found]
    return found


def readers_text(block: Block, *, written: bool = False) -> str:
    """For an OpenAPI description: who reads the block (and who writes it), from the table."""
    text = f"Seen by: {_who(block, READ)}; absent for anyone else."
    if written:
        text += f" Written by: {_who(block, WRITE)}."
    cited = paragraphs(block)
    if cited:
        text += f" Deliberation 26/060 {', '.join(cited)} (the README's visibility table gives every reason)."
    return text


_ROLE_ORDER = [
    R.MEDICAL_ADVISOR,
    R.MULTIDISCIPLINARY_TEAM,
    R.RETURN_TO_WORK_COORDINATOR,
    R.REFERENCE_ADVISOR,
    R.LIST_MANAGER,
    R.OCCUPATIONAL_PHYSICIAN,
    R.NURSE,
    R.MEDICAL_SECRETARIAT,
    R.ADMINISTRATIVE,
    R.SOCIAL_EXPERT,
    R.MEDICAL_INSPECTOR,
    R.AUDITOR,
]
COLUMNS = [(t, role) for t, roles in ROLES_BY_TYPE.items() for role in sorted(roles, key=_ROLE_ORDER.index)]
"""Every (organisation type, role), in the order the generated documents list them (physicians first)."""
_MARKS = {Read.YES: "R", Read.OWN_LINK: "R own", Read.TAKEN_PART: "R part", Read.NO: ""}
_ABBREVIATIONS = {T.INSURER: "OA", T.REGIONAL_SERVICE: "RS", T.PREVENTION_SERVICE: "PS", T.INAMI: "INAMI"}


def markdown() -> str:
    """The table in Markdown (the README's block between its visibility markers): a row per data block, a column per
    organisation type and role; a cell is ``R`` (reads), ``R own`` (only its own link), ``R part`` (only the forms
    and requests it took part in), ``W`` (writes) or ``–``, with the numbers of its reasons, listed below it."""
    columns = COLUMNS
    reasons: dict[str, int] = {}

    def number(reason: str) -> int:
        return reasons.setdefault(reason, len(reasons) + 1)

    lines = [
        "| data block | " + " | ".join(f"{_ABBREVIATIONS[t]} {role.value}" for t, role in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for block in Block:
        cells = []
        for organisation_type, role in columns:
            read, write = READ[organisation_type, role, block], WRITE[organisation_type, role, block]
            mark = " ".join(m for m in (_MARKS[read.level], "W" if write.level is Write.YES else "") if m) or "–"
            cited = ",".join(str(n) for n in sorted({number(read.reason), number(write.reason)}))
            cells.append(f"{mark} <sup>{cited}</sup>")
        lines.append(f"| `{block.value}` | " + " | ".join(cells) + " |")
    lines += ["", "Reasons (26/060: deliberation CSI/CSSS n° 26/060):", ""]
    lines += [f"{n}. {reason}" for reason, n in reasons.items()]
    return "\n".join(lines) + "\n"
