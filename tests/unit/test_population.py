"""The demo population covers every pattern the policy knows, with valid SSINs, and is the same every time."""

from __future__ import annotations

from rp_api.authz.organisations import OrganisationRegistry
from rp_api.domain.actors import OrganisationType
from rp_api.identifiers import normalise_ssin
from rp_api.simulator.population import OA_NUMBERS, build_population


def test_population_covers_every_pattern() -> None:
    population = build_population()
    persons = list(population.persons.values())
    registry = OrganisationRegistry.load()
    regional = {o.enterprise_number for o in registry if o.type is OrganisationType.REGIONAL_SERVICE}

    assert len(persons) >= 200
    assert all(normalise_ssin(p.ssin) == p.ssin for p in persons)
    assert {p.oa_number for p in persons} >= set(OA_NUMBERS)
    assert {number for p in persons for number, _ in p.registrations} == regional
    assert any(len(p.registrations) == 2 for p in persons)
    assert len({e for p in persons for e in p.employers}) >= 5
    assert any(not population.employers[e].prevention_services for p in persons for e in p.employers)
    assert population.persons[population.deceased_ssin].death_date is not None
    successor = population.persons[population.replaced_ssin].replaced_by
    assert successor in population.persons
    assert population.unknown_ssin not in population.persons
    normalise_ssin(population.unknown_ssin)
    assert any(p.trio_dossier for p in persons)


def test_population_is_deterministic() -> None:
    assert build_population().persons.keys() == build_population().persons.keys()
    assert build_population(seed=1).persons.keys() != build_population().persons.keys()
