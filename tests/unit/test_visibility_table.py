"""The visibility table (deliberation 26/060, data minimisation per actor and role), cell by cell: for every
organisation type, every role of it and every data block, what it reads and whether it writes, against the table
written out here a second time; every cell has its reason; the table agrees with the workflow rules that enforce
its writes; the README's block and the OpenAPI descriptions are what the table generates. Pure."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from rp_api import visibility_docs
from rp_api.domain import forms, requests
from rp_api.domain.actors import ROLES_BY_TYPE, OrganisationType, Role
from rp_api.domain.policy import Action, role_allows
from rp_api.domain.visibility import (
    HEALTH_FIELDS,
    READ,
    WRITE,
    WRITING_PHYSICIANS,
    Block,
    Read,
    Viewer,
    Write,
    may_write,
    read_level,
    readers_text,
    viewers_of,
    visible,
    write_refusal,
)
from rp_api.schemas.conversation import MessageIn
from rp_api.schemas.dossier import DossierOut, EmployerOut
from rp_api.schemas.registration_form import (
    NO_MEDICAL_INFORMATION,
    FormContent,
    PhysicianQuestion,
    RegistrationFormOut,
    TargetGroupDecisionIn,
)
from rp_api.schemas.request import (
    DecisionIn,
    DecisionOut,
    MedicalAdviceIn,
    MedicalConclusionOut,
    RequestOut,
    TrainingOut,
    ValidationIn,
)

T, R = OrganisationType, Role
B = Block

# Every (organisation type, role): 16 of them.
ACTORS = [(t, role) for t, roles in ROLES_BY_TYPE.items() for role in sorted(roles)]

# Who's who, written out again (not imported): the working roles of each type and those who see health data.
INSURER = {
    (T.INSURER, r)
    for r in (R.MEDICAL_ADVISOR, R.MULTIDISCIPLINARY_TEAM, R.RETURN_TO_WORK_COORDINATOR, R.ADMINISTRATIVE)
}
INSURER_MEDICAL = {(T.INSURER, R.MEDICAL_ADVISOR), (T.INSURER, R.MULTIDISCIPLINARY_TEAM)}
ADVISOR = {(T.REGIONAL_SERVICE, R.REFERENCE_ADVISOR)}
PREVENTION = {
    (T.PREVENTION_SERVICE, r) for r in (R.OCCUPATIONAL_PHYSICIAN, R.NURSE, R.MEDICAL_SECRETARIAT, R.ADMINISTRATIVE)
}
PREVENTION_MEDICAL = PREVENTION - {(T.PREVENTION_SERVICE, R.ADMINISTRATIVE)}
INAMI = {(T.INAMI, R.SOCIAL_EXPERT), (T.INAMI, R.MEDICAL_INSPECTOR)}
INSPECTOR = {(T.INAMI, R.MEDICAL_INSPECTOR)}
EXPERT = {(T.INAMI, R.SOCIAL_EXPERT)}
WORKING = INSURER | ADVISOR | PREVENTION | INAMI
"""Every role that works on dossiers: not the auditors (the audit log only), not the list manager (§48: lists)."""


def levels(**groups: set[tuple[OrganisationType, Role]]) -> dict[tuple[OrganisationType, Role], Read]:
    """yes=…, own=…, part=…: the actors given each level (all others: NO)."""
    names = {"yes": Read.YES, "own": Read.OWN_LINK, "part": Read.TAKEN_PART}
    return {actor: names[name] for name, actors in groups.items() for actor in actors}


FORM_FIELD = levels(yes=INSURER | ADVISOR | PREVENTION | INAMI)
EXPECTED_READ: dict[Block, dict[tuple[OrganisationType, Role], Read]] = {
    B.DOSSIER_PERSON: levels(yes=WORKING),
    B.DOSSIER_INSURER: levels(yes=INSURER | ADVISOR | PREVENTION_MEDICAL | INAMI),
    B.DOSSIER_EMPLOYERS: levels(yes=INSURER | INAMI, own=PREVENTION),
    B.DOSSIER_REGIONAL_SERVICES: levels(yes=INSURER | INAMI, own=ADVISOR),
    B.DOSSIER_TRIO: levels(yes=INSURER_MEDICAL | PREVENTION_MEDICAL),
    B.FORM: levels(yes=INSURER | ADVISOR | INAMI, part=PREVENTION),
    B.FORM_EXPECTATIONS: FORM_FIELD,
    B.FORM_WORK_PROBLEMS: FORM_FIELD,
    B.FORM_INSURER_CONTACTS: FORM_FIELD,
    B.FORM_OCCUPATIONAL_PHYSICIAN_NAME: FORM_FIELD,
    B.FORM_QUESTION_EXPECTATIONS: FORM_FIELD,
    B.FORM_INCAPACITY_AT_LEAST_ONE_YEAR: FORM_FIELD,
    B.FORM_INCAPACITY_START_DATE: levels(yes=INSURER | PREVENTION_MEDICAL | INAMI),
    B.FORM_TARGET_GROUP_DECISION: levels(yes=INSURER | ADVISOR | INAMI),
    B.FORM_QUESTION_FUNCTIONAL_CAPACITIES: levels(yes=INSURER_MEDICAL | ADVISOR | PREVENTION_MEDICAL | INSPECTOR),
    B.REQUEST: levels(yes=INSURER | ADVISOR | INAMI, part=PREVENTION),
    B.REQUEST_CONTENT: levels(yes=INSURER | ADVISOR | PREVENTION | INAMI),
    B.REQUEST_COSTS: levels(yes=INSURER | ADVISOR | INAMI),
    B.REQUEST_INSURER_VALIDATION: levels(yes=INSURER | ADVISOR | INAMI),
    B.REQUEST_DECISION: levels(yes=INSURER | ADVISOR | PREVENTION | INAMI),
    B.REQUEST_DECISION_MOTIVATION: levels(yes=INSURER | ADVISOR | INAMI),
    B.REQUEST_MEDICAL_INFORMATION: levels(yes=INSURER_MEDICAL | INSPECTOR),
    B.REQUEST_MEDICAL_ADVICE: levels(yes=INSURER_MEDICAL | INSPECTOR),
    B.REQUEST_MEDICAL_CONCLUSION: levels(yes=INSURER_MEDICAL | INAMI),
}

CREATORS = INSURER | ADVISOR | {(T.PREVENTION_SERVICE, R.OCCUPATIONAL_PHYSICIAN)}
HEALTH_WRITERS = {(T.INSURER, R.MEDICAL_ADVISOR), (T.PREVENTION_SERVICE, R.OCCUPATIONAL_PHYSICIAN)}
REQUESTERS = ADVISOR | {(T.INSURER, R.MEDICAL_ADVISOR), (T.INSURER, R.RETURN_TO_WORK_COORDINATOR)}
EXPECTED_WRITE: dict[Block, set[tuple[OrganisationType, Role]]] = {
    B.DOSSIER_PERSON: set(),
    B.DOSSIER_INSURER: set(),
    B.DOSSIER_EMPLOYERS: set(),
    B.DOSSIER_REGIONAL_SERVICES: set(),
    B.DOSSIER_TRIO: set(),
    B.FORM: CREATORS,
    B.FORM_EXPECTATIONS: CREATORS,
    B.FORM_WORK_PROBLEMS: CREATORS,
    B.FORM_INSURER_CONTACTS: CREATORS,
    B.FORM_QUESTION_EXPECTATIONS: CREATORS,
    B.FORM_OCCUPATIONAL_PHYSICIAN_NAME: {(T.PREVENTION_SERVICE, R.OCCUPATIONAL_PHYSICIAN)},
    B.FORM_INCAPACITY_AT_LEAST_ONE_YEAR: set(),
    B.FORM_INCAPACITY_START_DATE: HEALTH_WRITERS,
    B.FORM_QUESTION_FUNCTIONAL_CAPACITIES: HEALTH_WRITERS,
    B.FORM_TARGET_GROUP_DECISION: INSURER_MEDICAL | {(T.INSURER, R.RETURN_TO_WORK_COORDINATOR)},
    B.REQUEST: REQUESTERS,
    B.REQUEST_CONTENT: REQUESTERS,
    B.REQUEST_COSTS: REQUESTERS,
    B.REQUEST_INSURER_VALIDATION: {(T.INSURER, R.MEDICAL_ADVISOR), (T.INSURER, R.RETURN_TO_WORK_COORDINATOR)},
    B.REQUEST_DECISION: EXPERT,
    B.REQUEST_DECISION_MOTIVATION: EXPERT,
    B.REQUEST_MEDICAL_INFORMATION: {(T.INSURER, R.MEDICAL_ADVISOR)},
    B.REQUEST_MEDICAL_ADVICE: INSPECTOR,
    B.REQUEST_MEDICAL_CONCLUSION: INSPECTOR,
}
CELLS = list(itertools.product(ACTORS, Block))


def test_the_expectations_cover_every_block_and_the_table_every_cell() -> None:
    assert set(EXPECTED_READ) == set(Block) == set(EXPECTED_WRITE)
    assert len(ACTORS) == 16
    assert set(READ) == set(WRITE) == {(t, role, block) for (t, role), block in CELLS}


@pytest.mark.parametrize(("actor", "block"), CELLS, ids=lambda x: "-".join(x) if isinstance(x, tuple) else str(x))
def test_read_cell(actor: tuple[OrganisationType, Role], block: Block) -> None:
    organisation_type, role = actor
    expected = EXPECTED_READ[block].get(actor, Read.NO)
    assert READ[organisation_type, role, block].level is expected
    assert read_level(block, viewers_of(organisation_type, {role})) is expected
    assert visible(block, viewers_of(organisation_type, {role})) is (expected is not Read.NO)


@pytest.mark.parametrize(("actor", "block"), CELLS, ids=lambda x: "-".join(x) if isinstance(x, tuple) else str(x))
def test_write_cell(actor: tuple[OrganisationType, Role], block: Block) -> None:
    organisation_type, role = actor
    expected = actor in EXPECTED_WRITE[block]
    assert WRITE[organisation_type, role, block].level is (Write.YES if expected else Write.NO)
    assert may_write(block, organisation_type, {role}) is expected


ALLOWED_PARAGRAPHS = {"§52", "§52 ii", "§52 vi", "§48", "§49–50", "§8", "§15–25"}
"""The paragraphs of 26/060 the issue and the README name: a reason cites no other number."""


@pytest.mark.parametrize("table", [READ, WRITE], ids=["read", "write"])
def test_every_cell_says_why_citing_only_known_paragraphs(
    table: dict[tuple[OrganisationType, Role, Block], object],
) -> None:
    for key, cell in table.items():
        reason = cell.reason  # type: ignore[attr-defined]
        assert len(reason) > 10, key
        cited = set(re.findall(r"26/060 (§[0-9]+(?:–[0-9]+)?(?: [ivx]+)?)", reason))
        assert cited <= ALLOWED_PARAGRAPHS, (key, cited)
        assert "§" not in re.sub(r"26/060 §[0-9]+(?:–[0-9]+)?(?: [ivx]+)?", "", reason), key  # no bare "§N"


@pytest.mark.parametrize("role", [R.AUDITOR, R.LIST_MANAGER])
def test_auditors_and_list_managers_get_no_block_and_say_why(role: Role) -> None:
    for (t, r, block), cell in READ.items():
        if r is role:
            assert cell.level is Read.NO
            assert ("§48" in cell.reason) is (role is R.LIST_MANAGER)
            assert WRITE[t, r, block].level is Write.NO


def test_who_sees_a_dossier_is_who_the_policy_lets_consult_it() -> None:
    for organisation_type, role in ACTORS:
        sees = READ[organisation_type, role, B.DOSSIER_PERSON].level is not Read.NO
        assert sees is role_allows(frozenset({role}), Action.CONSULT_DOSSIER), (organisation_type, role)


def test_nobody_writes_what_it_cannot_read() -> None:
    for (organisation_type, role, block), cell in WRITE.items():
        if cell.level is Write.YES:
            assert READ[organisation_type, role, block].level is not Read.NO, (organisation_type, role, block)


def test_health_data_is_written_by_physicians_only_and_read_by_those_under_them() -> None:
    assert {
        B.FORM_INCAPACITY_START_DATE,
        B.FORM_QUESTION_FUNCTIONAL_CAPACITIES,
        B.REQUEST_MEDICAL_INFORMATION,
        B.REQUEST_MEDICAL_ADVICE,
    } == HEALTH_FIELDS
    assert {R.MEDICAL_ADVISOR, R.OCCUPATIONAL_PHYSICIAN, R.MEDICAL_INSPECTOR} == WRITING_PHYSICIANS
    medical = INSURER_MEDICAL | PREVENTION_MEDICAL | INSPECTOR
    for (organisation_type, role, block), cell in WRITE.items():
        if block in HEALTH_FIELDS and cell.level is Write.YES:
            assert role in WRITING_PHYSICIANS, (organisation_type, role, block)
    for block in (B.REQUEST_MEDICAL_INFORMATION, B.REQUEST_MEDICAL_ADVICE):
        assert {a for a in ACTORS if READ[(*a, block)].level is not Read.NO} <= medical
    # §52 vi: the regional partner is the addressee of the physician's question; no other non-physician reads it.
    readers = {a for a in ACTORS if READ[(*a, B.FORM_QUESTION_FUNCTIONAL_CAPACITIES)].level is not Read.NO}
    assert readers - medical == ADVISOR
    # §52 ii: the regional partner learns whether the incapacity lasted a year, never its start date.
    assert READ[T.REGIONAL_SERVICE, R.REFERENCE_ADVISOR, B.FORM_INCAPACITY_START_DATE].level is Read.NO
    assert READ[T.REGIONAL_SERVICE, R.REFERENCE_ADVISOR, B.FORM_INCAPACITY_AT_LEAST_ONE_YEAR].level is Read.YES


def test_the_conclusion_reaches_the_social_expert_and_the_advice_does_not() -> None:
    assert READ[T.INAMI, R.SOCIAL_EXPERT, B.REQUEST_MEDICAL_CONCLUSION].level is Read.YES
    assert READ[T.INAMI, R.SOCIAL_EXPERT, B.REQUEST_MEDICAL_ADVICE].level is Read.NO
    assert READ[T.INAMI, R.SOCIAL_EXPERT, B.REQUEST_MEDICAL_INFORMATION].level is Read.NO


# The table agrees with the workflow rules that enforce its writes (they cannot drift apart).
def actors_where(allowed: object) -> set[tuple[OrganisationType, Role]]:
    return {(t, role) for t, role in ACTORS if allowed(t, frozenset({role}))}  # type: ignore[operator]


def writers(block: Block) -> set[tuple[OrganisationType, Role]]:
    return {(t, role) for t, role in ACTORS if WRITE[t, role, block].level is Write.YES}


def request_actors(action: requests.RequestAction) -> set[tuple[OrganisationType, Role]]:
    return actors_where(lambda t, roles: requests.may_act(action, organisation_type=t, roles=roles, is_requester=False))


def test_the_writes_are_the_workflow_rules() -> None:
    assert writers(B.FORM) == actors_where(forms.may_create)
    assert writers(B.FORM_TARGET_GROUP_DECISION) == actors_where(
        lambda t, roles: forms.may_act(
            forms.FormAction.DECIDE_TARGET_GROUP, organisation_type=t, roles=roles, is_creator=False
        )
    )
    assert writers(B.REQUEST) == actors_where(requests.may_submit)
    assert writers(B.REQUEST_INSURER_VALIDATION) == request_actors(requests.RequestAction.VALIDATE)
    assert writers(B.REQUEST_DECISION) == request_actors(requests.RequestAction.APPROVE)
    assert writers(B.REQUEST_MEDICAL_INFORMATION) == request_actors(requests.RequestAction.ADD_MEDICAL_INFORMATION)
    assert writers(B.REQUEST_MEDICAL_ADVICE) == request_actors(requests.RequestAction.ADD_MEDICAL_ADVICE)


# A token's roles read together: the widest cell wins; an unknown block or a role of another type reads nothing.
def test_a_tokens_roles_read_together_and_unknown_things_read_nothing() -> None:
    both = viewers_of(T.INSURER, {R.ADMINISTRATIVE, R.MEDICAL_ADVISOR})
    assert both == {Viewer(T.INSURER, R.ADMINISTRATIVE), Viewer(T.INSURER, R.MEDICAL_ADVISOR)}
    assert visible(B.FORM_QUESTION_FUNCTIONAL_CAPACITIES, both)
    assert not visible(B.FORM_QUESTION_FUNCTIONAL_CAPACITIES, viewers_of(T.INSURER, {R.ADMINISTRATIVE}))
    assert read_level("form.somethingNew", viewers_of(T.INAMI, {R.MEDICAL_INSPECTOR})) is Read.NO
    assert read_level(B.FORM, viewers_of(T.INAMI, {R.OCCUPATIONAL_PHYSICIAN})) is Read.NO
    assert read_level(B.FORM, frozenset()) is Read.NO
    assert may_write(B.FORM_INCAPACITY_START_DATE, T.INSURER, {R.ADMINISTRATIVE, R.MEDICAL_ADVISOR})
    assert not may_write(B.FORM_INCAPACITY_START_DATE, T.INSURER, {R.ADMINISTRATIVE, R.RETURN_TO_WORK_COORDINATOR})
    assert "physicians only" in write_refusal(B.FORM_QUESTION_FUNCTIONAL_CAPACITIES, T.INSURER, {R.ADMINISTRATIVE})


# Generated documents.
def test_the_readme_block_is_what_the_table_generates(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    assert visibility_docs.current(readme) == visibility_docs.block(), (
        "README's visibility table is stale: run `python -m rp_api.visibility_docs`"
    )
    assert visibility_docs.regenerated(readme) == readme


def test_a_stale_or_missing_readme_block_is_found() -> None:
    stale = f"before\n{visibility_docs.START}\n| old |\n{visibility_docs.END}\nafter"
    assert visibility_docs.current(stale) != visibility_docs.block()
    assert visibility_docs.regenerated(stale) == f"before\n{visibility_docs.block()}\nafter"
    with pytest.raises(ValueError, match="visibility"):
        visibility_docs.current("no markers")


def test_the_readme_table_has_a_row_per_block_and_a_cell_per_role() -> None:
    rows = [line for line in visibility_docs.block().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [block.value for block in Block]
    assert all(row.count("|") == len(ACTORS) + 2 for row in rows)
    header = next(line for line in visibility_docs.block().splitlines() if line.startswith("| data block"))
    columns = header.strip("| ").split(" | ")[1:]
    assert len(columns) == len(ACTORS) == len(set(columns))
    row = next(row for row in rows if row.startswith("| `form.physicianQuestion.functionalCapacities`"))
    cells = dict(zip(columns, row.strip("| ").split(" | ")[1:], strict=True))
    assert cells["PS occupationalPhysician"].startswith("R W <sup>")
    assert cells["RS referenceAdvisor"].startswith("R <sup>")
    assert cells["OA returnToWorkCoordinator"].startswith("– <sup>")


FIELD_BLOCKS: list[tuple[type[BaseModel], str, Block]] = [
    (DossierOut, "person", B.DOSSIER_PERSON),
    (DossierOut, "insurer", B.DOSSIER_INSURER),
    (DossierOut, "employers", B.DOSSIER_EMPLOYERS),
    (DossierOut, "regional_services", B.DOSSIER_REGIONAL_SERVICES),
    (DossierOut, "trio_dossier_exists", B.DOSSIER_TRIO),
    (DossierOut, "registration_forms", B.FORM),
    (DossierOut, "requests", B.REQUEST),
    (RegistrationFormOut, "expectations", B.FORM_EXPECTATIONS),
    (RegistrationFormOut, "work_problems", B.FORM_WORK_PROBLEMS),
    (RegistrationFormOut, "incapacity_start_date", B.FORM_INCAPACITY_START_DATE),
    (RegistrationFormOut, "incapacity_at_least_one_year", B.FORM_INCAPACITY_AT_LEAST_ONE_YEAR),
    (RegistrationFormOut, "insurer_contacts", B.FORM_INSURER_CONTACTS),
    (RegistrationFormOut, "target_group_decision", B.FORM_TARGET_GROUP_DECISION),
    (RegistrationFormOut, "occupational_physician_name", B.FORM_OCCUPATIONAL_PHYSICIAN_NAME),
    (PhysicianQuestion, "expectations", B.FORM_QUESTION_EXPECTATIONS),
    (PhysicianQuestion, "functional_capacities", B.FORM_QUESTION_FUNCTIONAL_CAPACITIES),
    (RequestOut, "training_project", B.REQUEST_CONTENT),
    (RequestOut, "trainings", B.REQUEST_CONTENT),
    (RequestOut, "total_cost", B.REQUEST_COSTS),
    (TrainingOut, "cost", B.REQUEST_COSTS),
    (DecisionOut, "approved_amount", B.REQUEST_COSTS),
    (DecisionOut, "motivation", B.REQUEST_DECISION_MOTIVATION),
    (RequestOut, "insurer_validation", B.REQUEST_INSURER_VALIDATION),
    (RequestOut, "decision", B.REQUEST_DECISION),
    (RequestOut, "medical_information", B.REQUEST_MEDICAL_INFORMATION),
    (RequestOut, "medical_advice", B.REQUEST_MEDICAL_ADVICE),
    (RequestOut, "medical_conclusion", B.REQUEST_MEDICAL_CONCLUSION),
]


@pytest.mark.parametrize(("model", "name", "block"), FIELD_BLOCKS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_each_response_field_says_who_sees_it(model: type[BaseModel], name: str, block: Block) -> None:
    description = model.model_fields[name].description or ""
    assert readers_text(block) in description or readers_text(block, written=True) in description


def test_the_generated_description_names_exactly_the_readers() -> None:
    text = readers_text(B.FORM_QUESTION_FUNCTIONAL_CAPACITIES, written=True)
    assert text.startswith(
        "Seen by: insurer (medicalAdvisor, multidisciplinaryTeam); regional service (referenceAdvisor); "
        "prevention service (occupationalPhysician, nurse, medicalSecretariat); INAMI (medicalInspector); "
        "absent for anyone else. Written by: insurer (medicalAdvisor); prevention service (occupationalPhysician)."
    )
    assert "§52 vi" in text
    assert "its own link only" in readers_text(B.DOSSIER_EMPLOYERS)
    assert "Seen by: nobody" not in readers_text(B.DOSSIER_TRIO)
    assert "itself only" in (EmployerOut.model_fields["prevention_services"].description or "")


@pytest.mark.parametrize(
    ("model", "name"),
    [
        (ValidationIn, "motivation"),
        (TargetGroupDecisionIn, "motivation"),
        (DecisionIn, "motivation"),
        (MedicalAdviceIn, "conclusion_remarks"),
        (MedicalConclusionOut, "remarks"),
        (FormContent, "expectations"),
        (FormContent, "work_problems"),
    ],
)
def test_free_texts_of_non_physicians_say_no_medical_information(model: type[BaseModel], name: str) -> None:
    assert NO_MEDICAL_INFORMATION in (model.model_fields[name].description or "")


def test_a_messages_text_says_no_medical_information_outside_a_medical_conversation() -> None:
    assert "No medical information here unless the conversation is `medical`" in (
        MessageIn.model_fields["text"].description or ""
    )


def test_a_list_manager_reads_list_lines_as_its_reference_advisor() -> None:
    from rp_api.domain.visibility import list_viewers

    lists = list_viewers(T.REGIONAL_SERVICE, {R.LIST_MANAGER})
    assert visible(B.REQUEST_COSTS, lists)
    assert visible(B.REQUEST_DECISION_MOTIVATION, lists)
    assert not visible(B.REQUEST_MEDICAL_INFORMATION, lists)
    assert not visible(B.REQUEST_COSTS, viewers_of(T.REGIONAL_SERVICE, {R.LIST_MANAGER}))  # not in a dossier view
    assert not visible(B.REQUEST_COSTS, list_viewers(T.PREVENTION_SERVICE, {R.OCCUPATIONAL_PHYSICIAN}))
