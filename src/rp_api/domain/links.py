"""Person links (données de gestion d'accès): what the authentic sources say about a person, as the policy needs
it. Built by the link resolution from the National Register, MemberData, JobSeeker, Dimona and SEED-Connect; kept
at most 24 hours."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Employment:
    """A current employer (Dimona) and the prevention services it is affiliated to (SEED-Connect)."""

    employer_enterprise_number: str
    prevention_services: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class PersonLinks:
    ssin: str
    registered: bool = True
    """False when the National Register does not know the SSIN: nobody has access to such a person."""
    death_date: date | None = None
    replaced_by: str | None = None
    """The SSIN that replaces this one (National Register mutation), if any."""
    previous_ssins: tuple[str, ...] = ()
    """The SSINs this one replaced, oldest first (the National Register's history of the person's SSINs)."""
    insurer_oa_number: int | None = None
    """The insurer the person is affiliated to today (CIN MemberData)."""
    regional_services: frozenset[str] = field(default_factory=frozenset)
    """Enterprise numbers of the regional services where the person is registered (JobSeeker)."""
    employments: tuple[Employment, ...] = ()

    @property
    def deceased(self) -> bool:
        return self.death_date is not None

    @property
    def prevention_services(self) -> frozenset[str]:
        found: set[str] = set()
        for employment in self.employments:
            found |= employment.prevention_services
        return frozenset(found)
