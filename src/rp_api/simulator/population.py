"""The demo population: deterministic (seeded), at least 200 persons with valid (invented) SSINs, covering every
pattern the access policy knows: each insurer, each regional service, two regional registrations, several
employers, an employer without prevention service, a deceased person, a replaced SSIN, and an SSIN that no source
knows."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from Crypto.PublicKey.ECC import EccPoint  # type: ignore[attr-defined]  # documented there, re-exported implicitly

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.clients.blinding import ORDER, pseudonym_text, ssin_point
from rp_api.domain.actors import OrganisationType
from rp_api.identifiers import make_enterprise_number, make_ssin

GIVEN_NAMES = (
    "An", "Bart", "Chloé", "David", "Elke", "Fatima", "Geert", "Hanne", "Ilse", "Jan", "Karim", "Lotte", "Mathieu",
    "Nathalie", "Olivier", "Pieter", "Rania", "Sofie", "Thomas", "Valérie", "Wim", "Yasmine", "Zoë", "Luc",
)  # fmt: skip
FAMILY_NAMES = (
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters", "De Smet",
    "Dubois", "Lambert", "Dupont", "Martin", "Simon", "Laurent", "Leclercq", "El Amrani", "Schmitz", "Kessler",
)  # fmt: skip
EMPLOYER_NAMES = (
    "Bakkerij Peeters", "Transports Lambert", "Zorgcentrum De Linde", "Ateliers Dupont", "Garage Schmitz",
    "Stad Leuven", "Clinique Saint-Luc", "Brouwerij Maes", "Nettoyage Martin", "Logistiek Wouters",
    "Eupener Druckerei", "Hôtel Leclercq",
)  # fmt: skip
OA_NUMBERS = (100, 200, 300, 400, 500, 600, 900)


@dataclass(frozen=True)
class SimulatedEmployer:
    enterprise_number: str
    name: str
    prevention_services: tuple[str, ...]


@dataclass(frozen=True)
class SimulatedPerson:
    ssin: str
    given_name: str
    family_name: str
    birth_date: date
    death_date: date | None = None
    replaced_by: str | None = None
    oa_number: int | None = None
    affiliated_since: date | None = None
    registrations: tuple[tuple[str, date], ...] = ()
    employers: tuple[str, ...] = ()
    trio_dossier: bool = False
    previous_ssins: tuple[str, ...] = ()
    """The person's earlier SSINs (the National Register's history), oldest first."""


@dataclass
class Population:
    persons: dict[str, SimulatedPerson] = field(default_factory=dict)
    employers: dict[str, SimulatedEmployer] = field(default_factory=dict)
    unknown_ssin: str = ""
    deceased_ssin: str = ""
    replaced_ssin: str = ""
    seed: int = 26060
    """The seed the population was built from; the pseudonymisation domains' secret keys derive from it too."""
    _ssin_of: dict[str, dict[str, str]] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Per domain, each person's pseudonym → SSIN (persons are looked up afresh: tests may replace them)."""
    _original: dict[str, SimulatedPerson] = field(default_factory=dict, init=False, repr=False, compare=False)
    """The persons as built, before any change made through the controls (:meth:`restore` brings them back)."""

    def freeze(self) -> None:
        """Remember the persons as they are now: what :meth:`restore` brings back."""
        self._original = dict(self.persons)

    def restore(self) -> None:
        """Undo every change made through the controls since :meth:`freeze` (in place: the simulator's routes hold
        this very dict)."""
        if not self._original:
            return
        added = set(self.persons) - set(self._original)
        self.persons.clear()
        self.persons.update(self._original)
        for ssin_of in self._ssin_of.values():
            for pseudonym in [p for p, ssin in ssin_of.items() if ssin in added]:
                del ssin_of[pseudonym]

    def _living(self, ssin: str) -> SimulatedPerson:
        person = self.persons.get(ssin)
        if person is None or person.replaced_by is not None:
            raise KeyError(ssin)
        return person

    def replace_ssin(self, ssin: str, new_ssin: str | None = None) -> str:
        """A National Register mutation at run time: ``ssin`` is replaced by ``new_ssin`` (default: a new valid SSIN
        of the same birth date), which carries the person on and lists the earlier SSINs. When ``new_ssin`` is a
        person already known, the two records turn out to be one person's: the known one keeps its links and gains
        the history (what merges two dossiers on the platform). Returns the new SSIN. ``KeyError``: no such living,
        unreplaced person; ``ValueError``: a new SSIN equal to the old one."""
        person = self._living(ssin)
        if new_ssin == ssin:
            raise ValueError("an SSIN cannot replace itself")
        if new_ssin is None:
            serial = 997
            while make_ssin(person.birth_date, serial) in self.persons:
                serial -= 1
            new_ssin = make_ssin(person.birth_date, serial)
        history = (*person.previous_ssins, ssin)
        known = self.persons.get(new_ssin)
        if known is not None:
            if known.replaced_by is not None:
                raise KeyError(new_ssin)
            successor = _replace(known, previous_ssins=(*known.previous_ssins, *history))
        else:
            successor = _replace(person, ssin=new_ssin, previous_ssins=history)
        self.persons[ssin] = _replace(person, replaced_by=new_ssin)
        self.persons[new_ssin] = successor
        for domain, ssin_of in self._ssin_of.items():
            ssin_of[self.pseudonym(new_ssin, domain)] = new_ssin
        return new_ssin

    def move_insurer(self, ssin: str, oa_number: int | None) -> None:
        """The person changes insurer (``None``: affiliated nowhere), from today."""
        person = self._living(ssin)
        since = date.today() if oa_number is not None else None
        self.persons[ssin] = _replace(person, oa_number=oa_number, affiliated_since=since)

    def move_registrations(self, ssin: str, regional_services: list[str]) -> None:
        """The person is registered with exactly these regional services (enterprise numbers) from now on."""
        person = self._living(ssin)
        kept = dict(person.registrations)
        registrations = tuple((number, kept.get(number, date.today())) for number in regional_services)
        self.persons[ssin] = _replace(person, registrations=registrations)

    def end_employment(self, ssin: str, employer: str) -> None:
        """The person's employment with this employer ended (Dimona no longer lists it). ``KeyError``: the person
        does not work there."""
        person = self._living(ssin)
        if employer not in person.employers:
            raise KeyError(employer)
        self.persons[ssin] = _replace(person, employers=tuple(e for e in person.employers if e != employer))

    def domain_key(self, domain: str) -> int:
        """The domain's secret key k (eHealth's, simulated): in [1, n − 1], derived from the seed and the domain's
        name so that the demo's pseudonyms are the same every run."""
        digest = hashlib.sha512(f"rp-api simulator|pseudonymisation domain key|{self.seed}|{domain}".encode())
        return 1 + int.from_bytes(digest.digest(), "big") % (ORDER - 1)

    def evaluate(self, blinded: EccPoint, domain: str) -> EccPoint:
        """What eHealth's pseudonymisation service does with a blinded point r·P: k·r·P, with the domain's key."""
        return blinded * self.domain_key(domain)

    def pseudonym(self, ssin: str, domain: str) -> str:
        """The person's pseudonym in the domain, computed directly: k·P of their SSIN's point, as text (what a
        client gets through the blinded exchange)."""
        return pseudonym_text(ssin_point(ssin) * self.domain_key(domain))

    def person_of_pseudonym(self, pseudonym: str, domain: str) -> SimulatedPerson | None:
        """Whom a pseudonym of the domain names (TRIO's lookup). The domain's pseudonyms are computed on its first
        lookup (~0.2 s for 240 persons; :func:`rp_api.simulator.app.create_simulator_app` does TRIO's at start),
        then kept: a person added to the population later is not found."""
        ssin_of = self._ssin_of.get(domain)
        if ssin_of is None:
            ssin_of = {self.pseudonym(ssin, domain): ssin for ssin in self.persons}
            self._ssin_of[domain] = ssin_of
        ssin = ssin_of.get(pseudonym)
        return None if ssin is None else self.persons.get(ssin)


def build_population(size: int = 240, seed: int = 26060) -> Population:
    if size < 20:
        raise ValueError("the demo population needs at least 20 persons to cover every pattern")
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    registry = OrganisationRegistry.load()
    regional = sorted(o.enterprise_number for o in registry if o.type is OrganisationType.REGIONAL_SERVICE)
    prevention = sorted(o.enterprise_number for o in registry if o.type is OrganisationType.PREVENTION_SERVICE)

    population = Population(seed=seed)
    for index, name in enumerate(EMPLOYER_NAMES):
        number = make_enterprise_number(3_000_000 + index * 7_919)
        services: tuple[str, ...]
        if index == 0:
            services = ()  # an employer without prevention service
        elif index == 1:
            services = (prevention[0], prevention[1])
        else:
            services = (prevention[index % len(prevention)],)
        population.employers[number] = SimulatedEmployer(number, name, services)
    employers = list(population.employers)

    used: set[str] = set()

    def new_ssin() -> tuple[str, date]:
        while True:
            birth = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 40))
            ssin = make_ssin(birth, rng.randrange(1, 998))
            if ssin not in used:
                used.add(ssin)
                return ssin, birth

    for index in range(size):
        ssin, birth = new_ssin()
        oa_number = OA_NUMBERS[index % len(OA_NUMBERS)] if index % 11 != 10 else None  # some affiliated nowhere
        registered_with: list[str]
        if index < len(regional):
            registered_with = [regional[index]]
        elif index % 10 == 0:
            registered_with = rng.sample(regional, 2)  # two regional registrations
        elif index % 10 < 7:
            registered_with = [rng.choice(regional)]
        else:
            registered_with = []
        if index < len(employers):
            person_employers = [employers[index]]
        else:
            roll = rng.random()
            person_employers = [] if roll < 0.3 else rng.sample(employers, 2 if roll > 0.85 else 1)
        population.persons[ssin] = SimulatedPerson(
            ssin=ssin,
            given_name=rng.choice(GIVEN_NAMES),
            family_name=rng.choice(FAMILY_NAMES),
            birth_date=birth,
            oa_number=oa_number,
            affiliated_since=date(2015, 1, 1) + timedelta(days=rng.randrange(3000)) if oa_number else None,
            registrations=tuple(
                (service, date(2026, 1, 1) + timedelta(days=rng.randrange(300))) for service in registered_with
            ),
            employers=tuple(person_employers),
            trio_dossier=rng.random() < 0.2,
        )

    persons = list(population.persons.values())
    deceased = persons[len(regional)]
    population.persons[deceased.ssin] = _replace(deceased, death_date=date(2026, 9, 14))
    population.deceased_ssin = deceased.ssin

    # A National Register mutation: the old SSIN points to the new one, which carries the person on.
    moved = persons[len(regional) + 1]
    successor, _ = new_ssin()
    population.persons[moved.ssin] = _replace(moved, replaced_by=successor)
    population.persons[successor] = _replace(moved, ssin=successor, previous_ssins=(moved.ssin,))
    population.replaced_ssin = moved.ssin

    population.unknown_ssin, _ = new_ssin()
    population.freeze()
    return population


def _replace(person: SimulatedPerson, **changes: object) -> SimulatedPerson:
    from dataclasses import replace

    return replace(person, **changes)  # type: ignore[arg-type]
