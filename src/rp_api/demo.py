"""What ``rp-api demo`` offers a newcomer: ready-made development tokens for one user of each organisation type
and role family (physician or not), written to ``<data dir>/demo-tokens.env`` and printed at start-up."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rp_api.authz.dev_issuer import DevIssuer
from rp_api.authz.organisations import Organisation, OrganisationRegistry
from rp_api.domain.actors import Role
from rp_api.identifiers import make_ssin

DEMO_TOKEN_LIFETIME_S = 12 * 3600


@dataclass(frozen=True)
class DemoUser:
    variable: str
    organisation: str
    role: Role


DEMO_USERS = (
    DemoUser("TOKEN_INSURER_PHYSICIAN", "CM", Role.MEDICAL_ADVISOR),
    DemoUser("TOKEN_INSURER_COORDINATOR", "CM", Role.RETURN_TO_WORK_COORDINATOR),
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


def write_demo_tokens(data_dir: Path, registry: OrganisationRegistry) -> Path:
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
    path = data_dir / "demo-tokens.env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path
