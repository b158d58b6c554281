"""What ``rp-api demo`` offers a newcomer: ready-made development tokens for one user of each organisation type
and role family (physician or not), written to ``<data dir>/demo-tokens.env`` and printed at start-up, and
dossiers with registration forms in several states."""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rp_api.authz.dev_issuer import DevIssuer
from rp_api.authz.organisations import Organisation, OrganisationRegistry
from rp_api.domain.actors import OrganisationType, Role
from rp_api.domain.forms import FormStatus, Routing
from rp_api.domain.links import PersonLinks
from rp_api.domain.routing import Party, form_addressees
from rp_api.identifiers import make_ssin
from rp_api.models.registration_form import RegistrationForm
from rp_api.repositories import addressees, feed
from rp_api.repositories import dossiers as dossier_repository
from rp_api.repositories import registration_forms as form_repository
from rp_api.simulator.population import Population, SimulatedPerson

DEMO_TOKEN_LIFETIME_S = 12 * 3600


@dataclass(frozen=True)
class DemoUser:
    variable: str
    organisation: str
    role: Role


DEMO_USERS = (
    DemoUser("TOKEN_INSURER_PHYSICIAN", "CM", Role.MEDICAL_ADVISOR),
    DemoUser("TOKEN_INSURER_COORDINATOR", "CM", Role.RETURN_TO_WORK_COORDINATOR),
    DemoUser("TOKEN_INSURER_AUDITOR", "CM", Role.AUDITOR),
    DemoUser("TOKEN_VDAB_ADVISOR", "VDAB", Role.REFERENCE_ADVISOR),
    DemoUser("TOKEN_VDAB_LIST_MANAGER", "VDAB", Role.LIST_MANAGER),
    DemoUser("TOKEN_PREVENTION_PHYSICIAN", "Idewe", Role.OCCUPATIONAL_PHYSICIAN),
    DemoUser("TOKEN_PREVENTION_ADMINISTRATIVE", "Idewe", Role.ADMINISTRATIVE),
    DemoUser("TOKEN_INAMI_SOCIAL_EXPERT", "INAMI", Role.SOCIAL_EXPERT),
    DemoUser("TOKEN_INAMI_MEDICAL_INSPECTOR", "INAMI", Role.MEDICAL_INSPECTOR),
    DemoUser("TOKEN_INAMI_AUDITOR", "INAMI", Role.AUDITOR),
)


def demo_user_ssin(organisation: Organisation, role: Role) -> str:
    """A stable, valid (and invented) SSIN for the demo user of an organisation and role."""
    serial = zlib.crc32(f"{organisation.enterprise_number}/{role}".encode()) % 997 + 1
    return make_ssin(date(1975, 5, 5), serial)


def write_demo_tokens(data_dir: Path, registry: OrganisationRegistry, *, demo_ssin: str | None = None) -> Path:
    issuer = DevIssuer.in_data_dir(data_dir)
    lines = []
    for user in DEMO_USERS:
        organisation = registry.find(user.organisation)
        assert organisation is not None, user.organisation
        token = issuer.mint(
            organisation,
            [user.role],
            user_ssin=demo_user_ssin(organisation, user.role),
            lifetime_s=DEMO_TOKEN_LIFETIME_S,
        )
        lines.append(f"export {user.variable}={token}  # {organisation.name}, {user.role}")
    if demo_ssin:
        lines.append(f"export DEMO_SSIN={demo_ssin}  # insured with CM, registered with VDAB (simulated person)")
    path = data_dir / "demo-tokens.env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


DEMO_FORMS: tuple[tuple[str, FormStatus, Routing], ...] = (
    ("CM", FormStatus.DRAFT, Routing.STANDARD),
    ("CM", FormStatus.SUBMITTED, Routing.STANDARD),
    ("VDAB", FormStatus.AWAITING_TARGET_GROUP_DECISION, Routing.ROUTING_C),
    ("VDAB", FormStatus.NOT_IN_TARGET_GROUP, Routing.ROUTING_C),
    ("CM", FormStatus.CANCELLED, Routing.STANDARD),
)


def walkthrough_person(population: Population, registry: OrganisationRegistry) -> SimulatedPerson:
    """A person insured with CM and registered with VDAB, with no seeded dossier: the README's walkthrough."""
    return _insured_with_cm_at_vdab(population, registry)[0]


def _insured_with_cm_at_vdab(population: Population, registry: OrganisationRegistry) -> list[SimulatedPerson]:
    vdab = registry.find("VDAB")
    assert vdab is not None
    return [
        p
        for p in population.persons.values()
        if p.oa_number == 100
        and not p.death_date
        and not p.replaced_by
        and any(r == vdab.enterprise_number for r, _ in p.registrations)
    ]


async def seed_demo_data(
    sessionmaker: async_sessionmaker[AsyncSession], population: Population, registry: OrganisationRegistry
) -> int:
    """Dossiers and forms in several states for persons insured with CM and registered with VDAB. Idempotent."""
    persons = _insured_with_cm_at_vdab(population, registry)[1 : 1 + len(DEMO_FORMS)]
    seeded = 0
    async with sessionmaker() as session, session.begin():
        for person, (creator, status, routing) in zip(persons, DEMO_FORMS, strict=False):
            dossier, created = await dossier_repository.open_for(session, person.ssin)
            if not created:
                continue
            organisation = registry.find(creator)
            assert organisation is not None
            role = Role.REFERENCE_ADVISOR if routing is Routing.ROUTING_C else Role.RETURN_TO_WORK_COORDINATOR
            form = RegistrationForm(
                id=uuid.uuid4(),
                dossier_id=dossier.id,
                routing=routing,
                status=status,
                created_by_organisation=organisation.enterprise_number,
                created_by_type=organisation.type,
                created_by_role=role,
                expectations="Guidance towards a training (demo data)",
                work_problems="Cannot return to the former job (demo data)",
                incapacity_start_date=date(2025, 1, 15),
                insurer_contacts={"returnToWorkCoordinator": {"name": "Demo coordinator"}},
                question_expectations="Job coaching (demo data)",
                question_functional_capacities="No heavy lifting (demo data)",
                submitted_at=None if status is FormStatus.DRAFT else datetime.now(UTC),
                in_target_group=False if status is FormStatus.NOT_IN_TARGET_GROUP else None,
                target_group_motivation="Not in the target group (demo data)"
                if status is FormStatus.NOT_IN_TARGET_GROUP
                else None,
            )
            await form_repository.add(session, form)
            await dossier_repository.touch(session, dossier.id, new_item=True)  # its status from the form's state
            await dossier_repository.touch(session, dossier.id, new_item=True)  # its status from the form's state
            # Addressed as the service would address it, from the simulated person's links (no participant is made
            # up: the insurer and VDAB find these forms through their work lists and feeds).
            links = PersonLinks(
                person.ssin,
                insurer_oa_number=person.oa_number,
                regional_services=frozenset(service for service, _ in person.registrations),
            )
            creator_party = Party(organisation.enterprise_number, OrganisationType(organisation.type))
            found = form_addressees(status, creator_party, links, registry.directory)
            await addressees.add(
                session,
                resource_type=addressees.REGISTRATION_FORM,
                resource_id=form.id,
                dossier_id=dossier.id,
                organisations=found,
            )
            if status is not FormStatus.DRAFT:
                told = found - {organisation.enterprise_number}
                await feed.publish(session, told, kind="formVisible", dossier_id=dossier.id, resource_id=form.id)
            seeded += 1
    return seeded
